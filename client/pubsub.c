/*
 * pubsub.c - the publisher (PUBLISH, PUBLISHED, the offline queue) and the subscriber's
 * events (the subscriptions themselves are handles.c's).
 *
 * A publication is encoded once, when it is made. With a session it goes to the send
 * queue; without one it goes to the offline queue: a FIFO of encoded PUBLISHes bounded by
 * bytes (offline_queue_bytes), where the application's policy decides what a full queue
 * drops (the new publication, or the oldest ones until it fits); every drop is counted, and
 * an acknowledgement that was awaited for a dropped publication ends with
 * wamp.error.limit_exceeded. After WELCOME the offline queue goes to the send queue in
 * order, before anything new. When a connection ends, the PUBLISHes still in the send queue
 * (not, or not completely, written) go back to the offline queue, as far as it has room,
 * so a publication is lost only when the router may have had it already or the queue is
 * full. A resumable session loses none: while suspended its publications go into its
 * replay log (resume.c) and are written when it resumes; if it cannot resume, those the
 * router did not acknowledge go back to the offline queue.
 *
 * An acknowledged publication has a request record (its answer's callback); one that is
 * not needs only a request id. Options made only of the three flags (acknowledge,
 * exclude_me, retain: what a steady stream of publications uses) are one dict per
 * combination, made once per client and borrowed by every PUBLISH; only eligible/exclude
 * lists make a dict per publication. The record of a queued publication is marked offline (an
 * ERROR or PUBLISHED with its id cannot be for it, and a lost connection does not end it).
 *
 * EVENT: the subscription id leads to the chain of local handles of that subscription
 * (handles.c); each gets the event, with the topic from Details.topic when the router
 * gives it (pattern subscriptions), else the subscribed URI.
 */
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"

static json_t *id_list(const uint64_t *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer((json_int_t)v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *str_list(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (!v[i] || json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* PUBLISH.Options from o: *d stays NULL when every option has its default; *shared says
 * whether *d is the client's (borrowed) or new. */
static bool publish_options(wampc *c, const struct wampc_publish_opts *o, json_t **d,
                            bool *shared)
{
	*shared = false;
	if (!o)
		return true;
	if (!o->n_eligible && !o->n_exclude && !o->n_eligible_authid && !o->n_exclude_authid &&
	    !o->n_eligible_authrole && !o->n_exclude_authrole) {
		unsigned k = (o->acknowledge ? 1u : 0) | (o->include_me ? 2u : 0) | (o->retain ? 4u : 0);

		if (!k)
			return true;
		if (!c->opt_publish[k]) {
			json_t *n = NULL;

			if (!((!o->acknowledge || opt_set(&n, "acknowledge", json_true())) &&
			      (!o->include_me || opt_set(&n, "exclude_me", json_false())) &&
			      (!o->retain || opt_set(&n, "retain", json_true())))) {
				json_decref(n);
				return false;
			}
			c->opt_publish[k] = n;
		}
		*d = c->opt_publish[k];
		*shared = true;
		return true;
	}
	return (!o->acknowledge || opt_set(d, "acknowledge", json_true())) &&
	       (!o->include_me || opt_set(d, "exclude_me", json_false())) &&
	       (!o->retain || opt_set(d, "retain", json_true())) &&
	       (!o->n_eligible || opt_set(d, "eligible", id_list(o->eligible, o->n_eligible))) &&
	       (!o->n_exclude || opt_set(d, "exclude", id_list(o->exclude, o->n_exclude))) &&
	       (!o->n_eligible_authid ||
	        opt_set(d, "eligible_authid", str_list(o->eligible_authid, o->n_eligible_authid))) &&
	       (!o->n_exclude_authid ||
	        opt_set(d, "exclude_authid", str_list(o->exclude_authid, o->n_exclude_authid))) &&
	       (!o->n_eligible_authrole ||
	        opt_set(d, "eligible_authrole",
	                str_list(o->eligible_authrole, o->n_eligible_authrole))) &&
	       (!o->n_exclude_authrole ||
	        opt_set(d, "exclude_authrole", str_list(o->exclude_authrole, o->n_exclude_authrole)));
}

/* Into the offline queue, under its policy. Takes o. */
static enum wampd_err offline_push(wampc *c, struct wamp_out *o)
{
	if (o->len > c->offline_max) {
		wamp_out_unref(o);
		return WAMPD_ERR_LIMIT;
	}
	while (c->offline.bytes + o->len > c->offline_max) {
		if (c->offline_drop == WAMPC_DROP_NEWEST) {
			c->stats.offline_dropped++;
			wamp_out_unref(o);
			return WAMPD_ERR_LIMIT;
		}
		wampc_offline_dropped(c, outq_pop(&c->offline), WAMPD_ERR_LIMIT);
	}
	if (!outq_push(&c->offline, o)) {
		wamp_out_unref(o);
		return WAMPD_ERR_NOMEM;
	}
	c->stats.offline_queued++;
	return WAMPD_OK;
}

enum wampd_err wampc_publish(wampc *c, const char *topic, const struct wampc_publish_opts *o,
                             const struct wampc_payload *p, wampc_reply_fn fn, void *ud,
                             uint64_t *request)
{
	bool joined = wampc_in_session(c), ack = o && o->acknowledge;
	struct wamp_msg m = {.type = WAMP_PUBLISH};
	struct wampc_req *req = NULL;
	struct wamp_out *out;
	enum wampd_err err;
	bool shared;

	if (!wampc_uri_ok(topic))
		return WAMPD_ERR_INVALID_URI;
	if ((err = wampc_payload_check(p)) != WAMPD_OK)
		return err;
	if (!(c->roles & WAMPC_ROLE_PUBLISHER))
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
	if (!joined && !c->offline_max)
		return WAMPD_ERR_TRANSPORT_LOST;
	if ((ack && c->n_calls >= c->max_pending) ||
	    (joined && wampc_backlog(c) >= c->max_queue_bytes))
		return WAMPD_ERR_LIMIT;
	if (!publish_options(c, o, &m.dict, &shared)) {
		if (!shared)
			json_decref(m.dict);
		return WAMPD_ERR_NOMEM;
	}
	wampc_hold(c);
	if (ack && !(req = wampc_req_new(c, REQ_PUBLISH, fn, ud))) {
		err = WAMPD_ERR_NOMEM;
		goto out;
	}
	m.id[0] = req ? req->id : wampc_next_request(c);
	m.uri = topic;
	m.uri_len = strlen(topic);
	wampc_payload_to(&m.payload, p);
	if (!(out = wampc_encode(c, &m, &err)))
		goto out;
	if (joined) {
		err = wampc_queue(c, out, false);
	} else {
		if (req)
			req->offline = true;
		err = offline_push(c, out);
	}
out:
	if (!shared)
		json_decref(m.dict);
	if (err != WAMPD_OK && req)
		wampc_req_free(c, req);
	else if (err == WAMPD_OK && request)
		*request = m.id[0];
	wampc_release(c);
	return err;
}

void pubsub_on_published(wampc *c, struct wamp_msg *m)
{
	struct wampc_req *req = wampc_req_find(c, m->id[0]);
	static const struct wampc_payload none;
	struct wampc_reply r = {.request = m->id[0], .id = m->id[1], .payload = &none};

	if (!req || req->offline)
		return;
	if (req->kind != REQ_PUBLISH) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "PUBLISHED for another request type", true);
		return;
	}
	wampc_req_unlink(c, req);
	wampc_reply(c, req->fn, req->ud, &r);
	free(req);
}

void pubsub_on_event(wampc *c, struct wamp_msg *m)
{
	struct handle *h = handle_by_id(c, H_SUB, m->id[0]);
	const char *topic = wamp_dict_str(m->dict, "topic", NULL);
	struct wampc_payload p;
	struct wampc_event e = {.subscription = m->id[0], .publication = m->id[1],
	                        .retained = wamp_dict_bool(m->dict, "retained", false),
	                        .details = (const wampc_value *)m->dict, .payload = &p};
	int64_t pub = wamp_dict_int(m->dict, "publisher", 0);

	e.publisher = pub > 0 ? (uint64_t)pub : 0;
	wampc_payload_from(&p, &m->payload);
	/* a chain member that ends in a callback stays readable (freed after the call) */
	for (; h && !c->free_pending; h = h->same) {
		if (h->state != H_ACTIVE)
			continue;
		e.sub = (wampc_sub *)h;
		e.topic = topic ? topic : h->uri;
		h->handler.event(c, &e, h->handler_ud);
	}
}

void pubsub_flush_offline(wampc *c)
{
	struct wamp_out *o;

	while ((o = outq_pop(&c->offline))) {
		if (o->len > c->peer_max)
			wampc_offline_dropped(c, o, WAMPD_ERR_PAYLOAD_SIZE);
		else
			wampc_queue(c, o, true);
	}
	/* every acknowledgement that waited in the queue now waits for the router */
	for (uint32_t i = 0; i < c->reqs.cap; i++)
		if (c->reqs.keys[i])
			((struct wampc_req *)(uintptr_t)c->reqs.vals[i])->offline = false;
}

void pubsub_lost(wampc *c, const struct outq *q)
{
	/* only a session has PUBLISHes in its queue or log, and then the offline queue is
	 * empty (flushed at WELCOME): they go back in their order */
	for (uint32_t i = 0; i < q->n; i++) {
		struct wamp_out *o = q->v[(q->head + i) & (q->cap - 1)];

		if (o->type != WAMP_PUBLISH || !c->offline_max)
			continue;
		if (c->offline.bytes + o->len > c->offline_max || !outq_push(&c->offline, o)) {
			c->stats.offline_dropped++;
			continue;
		}
		wamp_out_ref(o);
		wampc_publish_requeued(c, o);
	}
}
