/*
 * handles.c - subscriptions and registrations ("handles"): made, restored after a new
 * session, ended by the application or revoked by the router.
 *
 * A handle is what the application wants (URI, options, handler); it lives in the client's
 * list of its kind, in creation order, from wampc_subscribe/wampc_register until its end,
 * across sessions. While the router knows it, it also has the router's id, and the id map
 * of its kind leads from that id to it (events and invocations are dispatched that way).
 * Two local subscriptions the router merges (same topic and options: one subscription id)
 * form a chain through ->same; the router is told UNSUBSCRIBE only when the last one ends.
 *
 * What differs between the kinds is a table (hops): message types, request kinds, and the
 * options of SUBSCRIBE/REGISTER. Lifecycle:
 *   wampc_subscribe  -> handle ACTIVE; SUBSCRIBE now when joined, else after WELCOME
 *   SUBSCRIBED       -> id set, linked by id; the first answer goes to the reply callback
 *   ERROR            -> first attempt: the handle ends, the error goes to the callback;
 *                       a restore: the handle stays INACTIVE and WAMPC_RESTORE_FAILED says so
 *   connection lost  -> ids forgotten; on the next WELCOME every ACTIVE handle is made again
 *   wampc_unsubscribe-> CLOSING, UNSUBSCRIBE; freed on UNSUBSCRIBED (or at once, when there
 *                       is nothing to tell the router; a SUBSCRIBE still in flight is
 *                       orphaned, and its SUBSCRIBED answered with UNSUBSCRIBE)
 *   UNSUBSCRIBED with Details (revocation) -> INACTIVE, WAMPC_REVOKED
 * Handles that end while a callback may still be walking a chain are only unlinked and put
 * on c->dead; they are freed when the outermost library call returns (wampc_release).
 */
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"

static const char *const match_names[] = {"exact", "prefix", "wildcard"};
static const char *const invoke_names[] = {"single", "roundrobin", "random", "first", "last"};

static bool sub_options(const struct handle *h, json_t **d)
{
	return (!h->match || opt_set(d, "match", json_string(match_names[h->match]))) &&
	       (!h->get_retained || opt_set(d, "get_retained", json_true()));
}

static bool reg_options(const struct handle *h, json_t **d)
{
	return (!h->match || opt_set(d, "match", json_string(match_names[h->match]))) &&
	       (!h->invoke || opt_set(d, "invoke", json_string(invoke_names[h->invoke]))) &&
	       (!h->disclose_caller || opt_set(d, "disclose_caller", json_true()));
}

static const struct handle_ops {
	enum wamp_type make, unmake, made;     /* SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBED */
	enum req_kind req_make, req_unmake;
	const char *revoked_key;               /* Details key of a revocation's id */
	bool (*options)(const struct handle *h, json_t **d);
} hops[H__KINDS] = {
	[H_SUB] = {WAMP_SUBSCRIBE, WAMP_UNSUBSCRIBE, WAMP_SUBSCRIBED, REQ_SUBSCRIBE,
	           REQ_UNSUBSCRIBE, "subscription", sub_options},
	[H_REG] = {WAMP_REGISTER, WAMP_UNREGISTER, WAMP_REGISTERED, REQ_REGISTER, REQ_UNREGISTER,
	           "registration", reg_options},
};

static enum handle_kind kind_of_req(enum req_kind k)
{
	return k == REQ_REGISTER || k == REQ_UNREGISTER ? H_REG : H_SUB;
}

static const struct wampc_payload no_payload;

static void reply_ok(wampc *c, wampc_reply_fn fn, void *ud, uint64_t request, uint64_t id)
{
	struct wampc_reply r = {.request = request, .id = id, .payload = &no_payload};

	wampc_reply(c, fn, ud, &r);
}

struct handle *handle_by_id(wampc *c, enum handle_kind kind, uint64_t id)
{
	uint64_t v;

	return idmap_get(&c->handle_ids[kind], id, &v) ? (struct handle *)(uintptr_t)v : NULL;
}

/* SUBSCRIBE/REGISTER h now. */
static enum wampd_err make(wampc *c, struct handle *h, bool force)
{
	const struct handle_ops *op = &hops[h->kind];
	struct wampc_req *req = wampc_req_new(c, op->req_make, NULL, NULL);
	struct wamp_msg m = {.type = op->make, .uri = h->uri, .uri_len = strlen(h->uri)};
	enum wampd_err err = WAMPD_ERR_NOMEM;

	if (!req)
		return err;
	req->obj = h;
	m.id[0] = req->id;
	if (op->options(h, &m.dict))
		err = wampc_send(c, &m, force);
	json_decref(m.dict);
	if (err != WAMPD_OK) {
		wampc_req_free(c, req);
		return err;
	}
	h->req = req->id;
	return WAMPD_OK;
}

/* UNSUBSCRIBE/UNREGISTER router id `id`; the request carries fn and h (may be NULL). */
static enum wampd_err unmake(wampc *c, enum handle_kind kind, uint64_t id, struct handle *h,
                             wampc_reply_fn fn, void *ud, bool force)
{
	const struct handle_ops *op = &hops[kind];
	struct wampc_req *req = wampc_req_new(c, op->req_unmake, fn, ud);
	struct wamp_msg m = {.type = op->unmake};
	enum wampd_err err;

	if (!req)
		return WAMPD_ERR_NOMEM;
	req->obj = h;
	m.id[0] = req->id;
	m.id[1] = id;
	if ((err = wampc_send(c, &m, force)) != WAMPD_OK)
		wampc_req_free(c, req);
	return err;
}

/* Take h out of its router id's chain (its own ->same stays: a walk may stand on it). */
static void chain_unlink(wampc *c, struct handle *h)
{
	struct handle *first, *p;

	if (!h->id)
		return;
	first = handle_by_id(c, h->kind, h->id);
	if (first == h) {
		if (h->same)
			idmap_put(&c->handle_ids[h->kind], h->id, (uint64_t)(uintptr_t)h->same);
		else
			idmap_del(&c->handle_ids[h->kind], h->id, NULL);
	} else {
		for (p = first; p && p->same != h; p = p->same)
			;
		if (p)
			p->same = h->same;
	}
	h->id = 0;
}

/* Take h out of its list; it is freed when no callback runs. */
static void list_unlink(wampc *c, struct handle *h)
{
	struct handle **pp = &c->handles[h->kind];

	chain_unlink(c, h);
	while (*pp && *pp != h)
		pp = &(*pp)->next;
	if (*pp)
		*pp = h->next;
	h->state = H_DEAD;
	h->next = c->dead;
	c->dead = h;
}

struct handle *handle_add(wampc *c, enum handle_kind kind, const char *uri,
                          wampc_reply_fn fn, void *ud, struct handle *tmpl, enum wampd_err *err)
{
	size_t n = strlen(uri) + 1;
	struct handle *h = malloc(sizeof(*h) + n), **pp;

	if (!h) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	*h = *tmpl;
	memcpy(h->uri, uri, n);
	h->kind = (uint8_t)kind;
	h->state = H_ACTIVE;
	h->fn = fn;
	h->ud = ud;
	h->next = h->same = NULL;
	h->id = h->req = 0;
	h->confirmed = false;
	wampc_hold(c);
	if (wampc_in_session(c) && (*err = make(c, h, false)) != WAMPD_OK) {
		free(h);
		wampc_release(c);
		return NULL;
	}
	for (pp = &c->handles[kind]; *pp; pp = &(*pp)->next)
		;
	*pp = h;
	*err = WAMPD_OK;
	wampc_release(c);
	return h;
}

enum wampd_err handle_remove(wampc *c, struct handle *h, enum handle_kind kind,
                             wampc_reply_fn fn, void *ud)
{
	struct wampc_req *req;
	enum wampd_err err = WAMPD_OK;

	if (!h || h->kind != kind || (h->state != H_ACTIVE && h->state != H_INACTIVE))
		return WAMPD_ERR_INVALID_ARGUMENT;
	wampc_hold(c);
	if (wampc_in_session(c) && h->id && h->state == H_ACTIVE && !h->same &&
	    handle_by_id(c, kind, h->id) == h) {
		/* the last local one: the router is told, h ends with its answer */
		if ((err = unmake(c, kind, h->id, h, fn, ud, false)) == WAMPD_OK) {
			chain_unlink(c, h);
			h->state = H_CLOSING;
		}
	} else {
		if (h->req && (req = wampc_req_find(c, h->req)))
			req->obj = NULL; /* its answer will be undone (handles_on_made) */
		h->req = 0;
		list_unlink(c, h);
		reply_ok(c, fn, ud, 0, 0);
	}
	wampc_release(c);
	return err;
}

void handles_on_made(wampc *c, struct wamp_msg *m)
{
	enum handle_kind kind = m->type == WAMP_REGISTERED ? H_REG : H_SUB;
	struct wampc_req *req = wampc_req_find(c, m->id[0]);
	struct handle *h, *first;
	wampc_reply_fn fn;

	if (!req)
		return;
	if (req->kind != hops[kind].req_make) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "answer of another request type", true);
		return;
	}
	h = req->obj;
	wampc_req_free(c, req);
	if (!h) { /* ended while being made: undo, unless another local handle shares it */
		if (!handle_by_id(c, kind, m->id[1]))
			unmake(c, kind, m->id[1], NULL, NULL, NULL, true);
		return;
	}
	h->req = 0;
	h->id = m->id[1];
	h->same = NULL;
	if ((first = handle_by_id(c, kind, h->id))) {
		h->same = first->same;
		first->same = h;
	} else if (!idmap_put(&c->handle_ids[kind], h->id, (uint64_t)(uintptr_t)h)) {
		h->id = 0;
		wampc_fail(c, WAMPD_ERR_NOMEM, NULL, false);
		return;
	}
	h->confirmed = true;
	if ((fn = h->fn)) {
		h->fn = NULL;
		reply_ok(c, fn, h->ud, m->id[0], m->id[1]);
	}
}

void handles_on_unmade(wampc *c, struct wamp_msg *m)
{
	enum handle_kind kind = m->type == WAMP_UNREGISTERED ? H_REG : H_SUB;
	struct wampc_req *req;
	struct handle *h;

	if (!m->id[0]) { /* revocation: Details.subscription/registration, Details.reason */
		int64_t id = wamp_dict_int(m->dict, hops[kind].revoked_key, 0);
		struct wampc_session_info info = {.event = WAMPC_REVOKED, .session = c->session};

		if (id <= 0 || !(h = handle_by_id(c, kind, (uint64_t)id)))
			return;
		idmap_del(&c->handle_ids[kind], (uint64_t)id, NULL);
		info.reason = wamp_dict_str(m->dict, "reason", NULL);
		info.details = (const wampc_value *)m->dict;
		for (; h; h = h->same) {
			h->id = 0;
			if (h->state != H_ACTIVE)
				continue;
			h->state = H_INACTIVE;
			info.uri = h->uri;
			wampc_session_event(c, &info);
		}
		return;
	}
	if (!(req = wampc_req_find(c, m->id[0])))
		return;
	if (req->kind != hops[kind].req_unmake) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "answer of another request type", true);
		return;
	}
	wampc_req_unlink(c, req);
	if ((h = req->obj))
		list_unlink(c, h);
	reply_ok(c, req->fn, req->ud, req->id, 0);
	free(req);
}

void handles_on_error(wampc *c, struct wamp_msg *m, struct wampc_req *req)
{
	struct handle *h = req->obj;
	struct wampc_payload p;
	struct wampc_reply r = {.request = req->id, .error = m->uri,
	                        .details = (const wampc_value *)m->dict, .payload = &p};

	wampc_payload_from(&p, &m->payload);
	wampc_req_unlink(c, req);
	if (req->kind == hops[kind_of_req(req->kind)].req_make) {
		if (h && !h->confirmed) { /* the first attempt: refused, the handle ends */
			wampc_reply_fn fn = h->fn;

			h->req = 0;
			list_unlink(c, h);
			wampc_reply(c, fn, h->ud, &r);
		} else if (h) {           /* a restore refused: kept, inactive */
			struct wampc_session_info info = {.event = WAMPC_RESTORE_FAILED,
			                                  .session = c->session, .reason = m->uri,
			                                  .uri = h->uri,
			                                  .details = (const wampc_value *)m->dict};

			h->req = 0;
			h->state = H_INACTIVE;
			wampc_session_event(c, &info);
		}
	} else {
		if (h) /* UNSUBSCRIBE refused (no such subscription): it is gone either way */
			list_unlink(c, h);
		wampc_reply(c, req->fn, req->ud, &r);
	}
	free(req);
}

void handles_restore(wampc *c)
{
	for (int k = 0; k < H__KINDS; k++)
		for (struct handle *h = c->handles[k]; h; h = h->next)
			if (h->state == H_ACTIVE && !h->req && make(c, h, true) == WAMPD_OK &&
			    h->confirmed)
				c->stats.restored++;
}

void handles_lost(wampc *c)
{
	for (int k = 0; k < H__KINDS; k++) {
		idmap_free(&c->handle_ids[k]);
		for (struct handle *h = c->handles[k]; h; h = h->next) {
			h->id = 0;
			h->same = NULL;
		}
	}
}

void handles_req_lost(wampc *c, struct wampc_req *req)
{
	struct handle *h = req->obj;

	if (req->kind == hops[kind_of_req(req->kind)].req_make) {
		if (h)
			h->req = 0; /* made again after the next WELCOME */
		return;
	}
	if (h) /* ended with the session */
		list_unlink(c, h);
	reply_ok(c, req->fn, req->ud, req->id, 0);
}

static void free_list(struct handle *h)
{
	struct handle *next;

	for (; h; h = next) {
		next = h->next;
		free(h);
	}
}

void handles_free_dead(wampc *c)
{
	free_list(c->dead);
	c->dead = NULL;
}

void handles_free_all(wampc *c)
{
	for (int k = 0; k < H__KINDS; k++) {
		free_list(c->handles[k]);
		c->handles[k] = NULL;
		idmap_free(&c->handle_ids[k]);
	}
	handles_free_dead(c);
}

/* ------------------------------------------------------------------- the public API */

enum wampd_err wampc_subscribe(wampc *c, const char *topic, const struct wampc_subscribe_opts *o,
                               wampc_event_fn handler, void *handler_ud, wampc_reply_fn fn,
                               void *ud, wampc_sub **sub)
{
	struct handle tmpl = {.handler.event = handler, .handler_ud = handler_ud};
	enum wampd_err err;
	struct handle *h;

	if (!wampc_uri_ok(topic))
		return WAMPD_ERR_INVALID_URI;
	if (!handler || (o && (unsigned)o->match > WAMPC_MATCH_WILDCARD))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(c->roles & WAMPC_ROLE_SUBSCRIBER))
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
	if (o) {
		tmpl.match = (uint8_t)o->match;
		tmpl.get_retained = o->get_retained;
	}
	if (!(h = handle_add(c, H_SUB, topic, fn, ud, &tmpl, &err)))
		return err;
	if (sub)
		*sub = (wampc_sub *)h;
	return WAMPD_OK;
}

enum wampd_err wampc_unsubscribe(wampc *c, wampc_sub *sub, wampc_reply_fn fn, void *ud)
{
	return handle_remove(c, sub ? &sub->h : NULL, H_SUB, fn, ud);
}

enum wampd_err wampc_register(wampc *c, const char *procedure,
                              const struct wampc_register_opts *o, wampc_invoke_fn handler,
                              void *handler_ud, wampc_reply_fn fn, void *ud, wampc_reg **reg)
{
	struct handle tmpl = {.handler.invoke = handler, .handler_ud = handler_ud};
	enum wampd_err err;
	struct handle *h;

	if (!wampc_uri_ok(procedure))
		return WAMPD_ERR_INVALID_URI;
	if (!handler || (o && ((unsigned)o->match > WAMPC_MATCH_WILDCARD ||
	                       (unsigned)o->invoke > WAMPC_INVOKE_LAST)))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(c->roles & WAMPC_ROLE_CALLEE))
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
	if (o) {
		tmpl.match = (uint8_t)o->match;
		tmpl.invoke = (uint8_t)o->invoke;
		tmpl.disclose_caller = o->disclose_caller;
		tmpl.on_interrupt = o->on_interrupt;
	}
	if (!(h = handle_add(c, H_REG, procedure, fn, ud, &tmpl, &err)))
		return err;
	if (reg)
		*reg = (wampc_reg *)h;
	return WAMPD_OK;
}

enum wampd_err wampc_unregister(wampc *c, wampc_reg *reg, wampc_reply_fn fn, void *ud)
{
	return handle_remove(c, reg ? &reg->h : NULL, H_REG, fn, ud);
}
