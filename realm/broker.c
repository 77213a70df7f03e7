/*
 * broker.c - PubSub routing (see broker.h for the data structures).
 *
 * Publishing: the match index yields every subscription whose pattern matches the topic
 * (exact, prefixes, wildcards). For each one the EVENT (subscription id, publication id,
 * details: `topic` for pattern subscriptions, the publisher when disclosed, payload
 * passthru keys) is encoded once per serializer that has members (count_by_ser), before
 * the first send, and the same buffer is queued to each eligible member. Eligibility
 * (publisher exclusion, exclude/eligible lists by session id, authid or authrole) only
 * skips receivers. The walk never frees or unlinks anything: a member whose queue
 * overflows is only marked closing by its transport and detached later, outside the walk.
 *
 * Membership checks (is this session already subscribed?) walk the shorter of the
 * session's list and the subscription's list.
 *
 * Stored events (retained, history) are charged to the realm's byte budgets at their
 * broker_event_cost. Whether a retained event fits is decided before the delivery, so a
 * refused client publication reaches nobody; history entries of all the realm's histories
 * are also linked oldest-first, so the byte budget evicts the realm's oldest in O(1).
 */
#include "realm/broker.h"

#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "realm/backplane.h"
#include "realm/meta.h"
#include "realm/realm.h"

json_t *broker_features(void)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
	                 "publisher_exclusion", 1, "publisher_identification", 1,
	                 "subscriber_blackwhite_listing", 1, "pattern_based_subscription", 1,
	                 "event_retention", 1, "event_history", 1, "subscription_revocation", 1,
	                 "payload_passthru_mode", 1, "subscription_meta_api", 1,
	                 "session_meta_api", 1);
}

void broker_init(struct broker *b, struct realm *r)
{
	memset(b, 0, sizeof(*b));
	b->realm = r;
	b->max_retained = BROKER_DEFAULT_MAX_RETAINED;
	b->max_retained_bytes = BROKER_DEFAULT_MAX_RETAINED_BYTES;
	b->max_history_bytes = BROKER_DEFAULT_MAX_HISTORY_BYTES;
	match_init(&b->index);
}

/* ---------------------------------------------------------------------------------- */
/* stored events (retention, history)                                                   */

static void stored_event_clear(struct stored_event *ev)
{
	free(ev->topic);
	json_decref(ev->details);
	json_decref(ev->payload.args_v);
	json_decref(ev->payload.kwargs_v);
	free(ev->bytes);
	memset(ev, 0, sizeof(*ev));
}

/* Copy a publication into ev (payload spans copied into one block). false on NOMEM. */
static bool stored_event_set(struct stored_event *ev, uint64_t publication, const char *topic,
                             size_t topic_len, const json_t *details, const struct wamp_payload *p)
{
	size_t n = wamp_payload_span_len(p);

	memset(ev, 0, sizeof(*ev));
	ev->publication = publication;
	ev->timestamp_ms = clock_wall_ms();
	if (!(ev->topic = malloc(topic_len + 1)))
		return false;
	memcpy(ev->topic, topic, topic_len);
	ev->topic[topic_len] = '\0';
	if (details)
		ev->details = json_deep_copy(details);
	ev->payload.ser = p->ser;
	if (n && !(ev->bytes = malloc(n))) {
		stored_event_clear(ev);
		return false;
	}
	if (p->args) {
		memcpy(ev->bytes, p->args, p->args_len);
		ev->payload.args = ev->bytes;
		ev->payload.args_len = p->args_len;
	}
	if (p->kwargs) {
		memcpy(ev->bytes + (p->args ? p->args_len : 0), p->kwargs, p->kwargs_len);
		ev->payload.kwargs = ev->bytes + (p->args ? p->args_len : 0);
		ev->payload.kwargs_len = p->kwargs_len;
	}
	if (!p->args && p->args_v)
		ev->payload.args_v = json_incref(p->args_v);
	if (!p->kwargs && p->kwargs_v)
		ev->payload.kwargs_v = json_incref(p->kwargs_v);
	return true;
}

size_t broker_event_cost(size_t topic_len, const json_t *details, const struct wamp_payload *p)
{
	size_t n = wamp_payload_span_len(p);

	return wamp_heap_size(sizeof(struct retained_event)) + wamp_heap_size(topic_len + 1) +
	       (n ? wamp_heap_size(n) : 0) + wamp_json_heap_size(details) +
	       (p->args ? 0 : wamp_json_heap_size(p->args_v)) +
	       (p->kwargs ? 0 : wamp_json_heap_size(p->kwargs_v));
}

/* Drop the oldest entry of history h, unlinking it from the realm's list and the budget. */
static void history_drop_oldest(struct broker *b, struct event_history *h)
{
	struct stored_event *ev = &h->ring[h->head];

	if (ev->older)
		ev->older->newer = ev->newer;
	else
		b->history_oldest = ev->newer;
	if (ev->newer)
		ev->newer->older = ev->older;
	else
		b->history_newest = ev->older;
	b->history_bytes -= ev->cost;
	stored_event_clear(ev);
	h->head = (h->head + 1) % h->limit;
	h->count--;
}

static void history_free(struct broker *b, struct event_history *h)
{
	if (!h)
		return;
	while (h->count)
		history_drop_oldest(b, h);
	free(h->ring);
	free(h);
}

/*
 * Record a publication in history h: its count limit drops h's oldest entry; the realm's
 * byte budget drops the realm's oldest entries, of any history. The realm's list is in
 * recording order and each ring too, so the realm's oldest entry is always the oldest of its
 * own ring (the one history_drop_oldest removes). An event larger than the whole budget is
 * not recorded (counted in history_refused).
 */
static void history_push(struct broker *b, struct event_history *h, uint64_t publication,
                         const char *topic, size_t topic_len, const json_t *details,
                         const struct wamp_payload *p)
{
	size_t cost = broker_event_cost(topic_len, details, p);
	struct stored_event *slot;

	if (cost > b->max_history_bytes) {
		b->history_refused++;
		wlog_debug("broker", "not recording topic=%s publication=%llu in its history: %zu "
		           "bytes, over the realm's max_history_bytes", topic,
		           (unsigned long long)publication, cost);
		return;
	}
	if (h->count == h->limit) /* full: the oldest makes room */
		history_drop_oldest(b, h);
	while (b->history_bytes + cost > b->max_history_bytes) {
		history_drop_oldest(b, b->history_oldest->history);
		b->history_evicted++;
	}
	slot = &h->ring[(h->head + h->count) % h->limit];
	if (!stored_event_set(slot, publication, topic, topic_len, details, p))
		return;
	slot->cost = cost;
	slot->history = h;
	slot->older = b->history_newest;
	if (b->history_newest)
		b->history_newest->newer = slot;
	else
		b->history_oldest = slot;
	b->history_newest = slot;
	b->history_bytes += cost;
	h->count++;
}

json_t *broker_stored_event_json(const struct stored_event *ev, uint64_t subscription)
{
	enum wampd_err err;
	char stamp[40];
	time_t secs = (time_t)(ev->timestamp_ms / 1000);
	struct tm tm;
	json_t *o, *args, *kwargs;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03dZ",
	         (int)(ev->timestamp_ms % 1000));
	o = json_pack("{s:s, s:I, s:I, s:s}", "timestamp", stamp, "subscription",
	              (json_int_t)subscription, "publication", (json_int_t)ev->publication, "topic",
	              ev->topic);
	if (!o)
		return NULL;
	json_object_set_new(o, "details", ev->details ? json_deep_copy(ev->details) : json_object());
	if ((args = wamp_payload_args(&ev->payload, &err)))
		json_object_set_new(o, "args", args);
	if ((kwargs = wamp_payload_kwargs(&ev->payload, &err)))
		json_object_set_new(o, "kwargs", kwargs);
	return o;
}

/* ---------------------------------------------------------------------------------- */
/* subscriptions                                                                        */

static void subscription_free(struct broker *b, struct subscription *sub)
{
	if (b->realm->owner->bp)
		backplane_interest(b->realm, sub, false);
	free(sub->waiters);
	HASH_DELETE(hh_id, b->by_id, sub);
	match_delete(&b->index, &sub->item);
	history_free(b, sub->history);
	free(sub->item.uri);
	free(sub);
}

void broker_destroy(struct broker *b)
{
	struct subscription *sub, *tmp;
	struct retained_event *r, *rt;

	HASH_ITER(hh_id, b->by_id, sub, tmp) {
		struct sub_member *m, *mt;

		DL_FOREACH_SAFE2(sub->members, m, mt, sub_next) {
			DL_DELETE2(m->session->subs, m, ses_prev, ses_next);
			m->session->nsubs--;
			free(m);
		}
		subscription_free(b, sub);
	}
	HASH_ITER(hh, b->retained, r, rt) {
		HASH_DEL(b->retained, r);
		stored_event_clear(&r->ev);
		free(r);
	}
	match_destroy(&b->index);
}

struct subscription *broker_subscription(struct broker *b, uint64_t id)
{
	struct subscription *sub = NULL;

	HASH_FIND(hh_id, b->by_id, &id, sizeof(id), sub);
	return sub;
}

/* The membership of s in sub, or NULL; walks the shorter list. */
static struct sub_member *broker_member(struct subscription *sub, struct session *s)
{
	struct sub_member *m;

	if (s->nsubs <= sub->count) {
		DL_FOREACH2(s->subs, m, ses_next)
			if (m->sub == sub)
				return m;
	} else {
		DL_FOREACH2(sub->members, m, sub_next)
			if (m->session == s)
				return m;
	}
	return NULL;
}

static bool broker_id_taken(void *arg, uint64_t id)
{
	return broker_subscription(arg, id) != NULL;
}

static struct subscription *subscription_new(struct broker *b, const char *uri, size_t len,
                                             enum match_policy match)
{
	struct subscription *sub = calloc(1, sizeof(*sub));

	if (!sub || !(sub->item.uri = malloc(len + 1)))
		goto fail;
	memcpy(sub->item.uri, uri, len);
	sub->item.uri[len] = '\0';
	sub->item.uri_len = len;
	sub->item.policy = match;
	if (!match_insert(&b->index, &sub->item))
		goto fail;
	sub->id = realm_new_item_id(b->realm, 's', uri, len, match, broker_id_taken, b);
	sub->created_ms = clock_wall_ms();
	HASH_ADD(hh_id, b->by_id, id, sizeof(sub->id), sub);
	if (b->realm->owner->bp)
		sub->bp_waiting = !backplane_interest(b->realm, sub, true);
	return sub;
fail:
	if (sub)
		free(sub->item.uri);
	free(sub);
	return NULL;
}

enum wampd_err broker_add_history(struct broker *b, const char *uri, enum match_policy match,
                                  uint32_t limit)
{
	size_t len = strlen(uri);
	struct subscription *sub;

	if (!uri_valid(uri, len, URI_LOOSE, match == MATCH_EXACT ? 0 : URI_ALLOW_EMPTY) || !limit)
		return WAMPD_ERR_INVALID_URI;
	sub = (struct subscription *)match_get(&b->index, uri, len, match);
	if (!sub && !(sub = subscription_new(b, uri, len, match)))
		return WAMPD_ERR_NOMEM;
	sub->persistent = true;
	if (!sub->history) {
		if (!(sub->history = calloc(1, sizeof(*sub->history))) ||
		    !(sub->history->ring = calloc(limit, sizeof(struct stored_event)))) {
			free(sub->history);
			sub->history = NULL;
			return WAMPD_ERR_NOMEM;
		}
		sub->history->limit = limit;
	}
	return WAMPD_OK;
}

/* Unlink membership m from both lists; frees the subscription when it was the last. */
static void broker_remove_member(struct broker *b, struct sub_member *m)
{
	struct subscription *sub = m->sub;
	struct session *s = m->session;
	bool last;

	DL_DELETE2(sub->members, m, sub_prev, sub_next);
	sub->count--;
	sub->count_by_ser[s->ser]--;
	DL_DELETE2(s->subs, m, ses_prev, ses_next);
	s->nsubs--;
	free(m);
	last = sub->count == 0 && !sub->persistent;
	meta_subscription(b->realm, META_UNSUBSCRIBE, s, sub);
	if (last) {
		uint64_t id = sub->id;

		subscription_free(b, sub);
		meta_subscription_deleted(b->realm, s, id); /* gone for the procedures first */
	}
}

/* ---------------------------------------------------------------------------------- */
/* publications                                                                         */

/* Everything about one publication that the per-subscription delivery needs. */
struct publication {
	struct broker *broker;
	uint64_t id;
	const char *topic;
	size_t topic_len;
	struct session *publisher;      /* NULL: the router itself */
	const json_t *options;
	const struct wamp_payload *payload;
	bool exclude_me;
	bool disclose;
	bool retained;                  /* delivering a retained event (details.retained) */
	bool remote;                    /* published on another node (backplane) */
	const json_t *publisher_details;/* stored disclosure (retained events) */
	/* black/white lists (borrowed from options; NULL = no list) */
	const json_t *exclude, *exclude_authid, *exclude_authrole;
	const json_t *eligible, *eligible_authid, *eligible_authrole;
	enum wampd_err err;             /* first encoding failure */
	size_t deliveries;
};

static bool list_has_id(const json_t *list, uint64_t id)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_integer(v) && (uint64_t)json_integer_value(v) == id)
			return true;
	return false;
}

static bool list_has_str(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	if (!s)
		return false;
	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* Publisher exclusion and black/white listing (advanced/pubsub_subscriber_blackwhite_listing.md). */
static bool publication_eligible(const struct publication *p, const struct session *r)
{
	if (!session_routable(r))
		return false;
	if (p->exclude_me && r == p->publisher)
		return false;
	if (p->exclude && list_has_id(p->exclude, r->id))
		return false;
	if (p->exclude_authid && list_has_str(p->exclude_authid, r->authid))
		return false;
	if (p->exclude_authrole && list_has_str(p->exclude_authrole, r->authrole))
		return false;
	if (p->eligible && !list_has_id(p->eligible, r->id))
		return false;
	if (p->eligible_authid && !list_has_str(p->eligible_authid, r->authid))
		return false;
	if (p->eligible_authrole && !list_has_str(p->eligible_authrole, r->authrole))
		return false;
	return true;
}

static const json_t *option_list(const json_t *options, const char *key)
{
	const json_t *v = options ? json_object_get(options, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

/* Publisher disclosure as EVENT.Details keys (new reference, or NULL). */
static json_t *publication_publisher_details(const struct publication *p)
{
	const struct session *s = p->publisher;
	json_t *d;

	if (!p->disclose || !s)
		return NULL;
	d = json_pack("{s:I}", "publisher", (json_int_t)s->id);
	if (d && s->authid)
		json_object_set_new(d, "publisher_authid", json_string(s->authid));
	if (d && s->authrole)
		json_object_set_new(d, "publisher_authrole", json_string(s->authrole));
	return d;
}

/* EVENT.Details for delivery on sub (new reference, or NULL for {}). */
static json_t *publication_event_details(const struct publication *p,
                                         const struct subscription *sub)
{
	static const char *const ppt[] = {"ppt_scheme", "ppt_serializer", "ppt_cipher",
	                                  "ppt_keyid"};
	json_t *d = NULL;

	if (p->publisher_details)
		d = json_deep_copy(p->publisher_details);
#define DETAILS() (d ? d : (d = json_object()))
	if (sub->item.policy != MATCH_EXACT)
		json_object_set_new(DETAILS(), "topic", json_stringn(p->topic, p->topic_len));
	if (p->retained)
		json_object_set_new(DETAILS(), "retained", json_true());
	if (p->options && json_object_get(p->options, "ppt_scheme"))
		for (unsigned i = 0; i < sizeof(ppt) / sizeof(ppt[0]); i++) {
			json_t *v = json_object_get(p->options, ppt[i]);

			if (v)
				json_object_set(DETAILS(), ppt[i], v);
		}
#undef DETAILS
	return d;
}

/* Deliver the publication on one subscription (match_each callback). */
static bool publication_deliver(struct match_item *item, void *arg)
{
	struct publication *p = arg;
	struct subscription *sub = (struct subscription *)item;
	struct wamp_out *enc[WAMP_SER__COUNT] = {0};
	struct wamp_msg event = {.type = WAMP_EVENT, .id = {sub->id, p->id}};
	struct sub_member *m;

	event.dict = publication_event_details(p, sub);
	event.payload = *p->payload;
	if (sub->history && !p->retained)
		history_push(p->broker, sub->history, p->id, p->topic, p->topic_len,
		             p->publisher_details, p->payload);

	for (int ser = 0; ser < WAMP_SER__COUNT; ser++) {
		enum wampd_err err;

		if (!sub->count_by_ser[ser])
			continue;
		if (!(enc[ser] = wamp_encode((enum wamp_ser)ser, &event, &err))) {
			if (p->err == WAMPD_OK)
				p->err = err;
			wlog_info("broker", "event not encodable topic=%s publication=%llu "
			          "serializer=%s: %s", sub->item.uri, (unsigned long long)p->id,
			          wamp_ser_name((enum wamp_ser)ser), wampd_err_str(err));
			goto out; /* nothing of this subscription was sent */
		}
	}
	DL_FOREACH2(sub->members, m, sub_next) {
		if (!publication_eligible(p, m->session))
			continue;
		session_send(m->session, enc[m->session->ser]);
		p->deliveries++;
	}
out:
	for (int i = 0; i < WAMP_SER__COUNT; i++)
		wamp_out_unref(enc[i]);
	json_decref(event.dict);
	return true;
}

/*
 * May the publication's event be retained? A new topic needs a free place in the count
 * (max_retained) and the bytes (max_retained_bytes); a replacement needs the bytes once the
 * event it replaces is gone. Sets *old (the topic's current retained event, or NULL) and
 * *cost (broker_event_cost) for broker_retain.
 */
static bool broker_retain_fits(struct broker *b, const struct publication *p,
                               struct retained_event **old, size_t *cost)
{
	*old = NULL;
	HASH_FIND(hh, b->retained, p->topic, p->topic_len, *old);
	*cost = broker_event_cost(p->topic_len, p->publisher_details, p->payload);
	if (!*old && b->nretained >= b->max_retained)
		return false;
	return b->retained_bytes - (*old ? (*old)->ev.cost : 0) + *cost <= b->max_retained_bytes;
}

/* Keep the publication's event for its topic, replacing old (broker_retain_fits said it
 * fits). On allocation failure the topic keeps nothing. */
static void broker_retain(struct broker *b, const struct publication *p,
                          struct retained_event *r, size_t cost)
{
	if (r) {
		HASH_DEL(b->retained, r);
		b->retained_bytes -= r->ev.cost;
		stored_event_clear(&r->ev);
	} else {
		if (!(r = calloc(1, sizeof(*r))))
			return;
		b->nretained++;
	}
	if (!stored_event_set(&r->ev, p->id, p->topic, p->topic_len, p->publisher_details,
	                      p->payload)) {
		free(r);
		b->nretained--;
		return;
	}
	r->ev.cost = cost;
	b->retained_bytes += cost;
	HASH_ADD_KEYPTR(hh, b->retained, r->ev.topic, strlen(r->ev.topic), r);
}

static void publication_init(struct publication *p, struct broker *b, struct session *s,
                             const char *topic, size_t topic_len, const json_t *options,
                             const struct wamp_payload *payload)
{
	memset(p, 0, sizeof(*p));
	p->broker = b;
	p->topic = topic;
	p->topic_len = topic_len;
	p->publisher = s;
	p->options = options;
	p->payload = payload;
	p->exclude_me = wamp_dict_bool(options, "exclude_me", true);
	p->disclose = wamp_dict_bool(options, "disclose_me", false);
	p->exclude = option_list(options, "exclude");
	p->exclude_authid = option_list(options, "exclude_authid");
	p->exclude_authrole = option_list(options, "exclude_authrole");
	p->eligible = option_list(options, "eligible");
	p->eligible_authid = option_list(options, "eligible_authid");
	p->eligible_authrole = option_list(options, "eligible_authrole");
	p->id = ids_global(b->realm->owner->ids);
}

/* Route one publication: deliver, record, retain. Returns the first encoding error, or
 * WAMPD_ERR_LIMIT (nothing delivered) for a client's publication to be retained that does
 * not fit the retained events' budget (broker.h). */
static enum wampd_err broker_route(struct broker *b, struct publication *p)
{
	json_t *publisher = p->remote ? NULL : publication_publisher_details(p);
	bool retain = wamp_dict_bool(p->options, "retain", false) && b->max_retained;
	struct retained_event *old = NULL;
	size_t cost = 0;

	if (publisher)
		p->publisher_details = publisher;
	if (retain && !broker_retain_fits(b, p, &old, &cost)) {
		b->retained_refused++;
		if (p->publisher) { /* a client's PUBLISH: refused as a whole */
			json_decref(publisher);
			p->publisher_details = NULL;
			return WAMPD_ERR_LIMIT;
		}
		wlog_info("broker", "delivering topic=%s without retaining it: %u retained events, "
		          "%llu bytes (realm limits: %u, %llu)", p->topic, b->nretained,
		          (unsigned long long)b->retained_bytes, b->max_retained,
		          (unsigned long long)b->max_retained_bytes);
		retain = false;
	}
	b->publications++;
	match_each(&b->index, p->topic, p->topic_len, publication_deliver, p);
	if (retain)
		broker_retain(b, p, old, cost);
	if (b->realm->owner->bp && !p->remote) {
		struct publication_view v = {.id = p->id, .topic = p->topic, .topic_len = p->topic_len,
		                             .options = p->options, .publisher = publisher,
		                             .payload = p->payload};

		backplane_publish(b->realm, &v);
	}
	json_decref(publisher);
	p->publisher_details = NULL;
	return p->err;
}

enum wampd_err broker_publish(struct broker *b, struct session *s, const struct wamp_msg *msg)
{
	struct publication p;
	struct authz_decision d;
	enum wampd_err err;

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (!uri_valid(msg->uri, msg->uri_len, b->realm->uri_rule, 0) ||
	    uri_reserved(msg->uri, msg->uri_len))
		return WAMPD_ERR_INVALID_URI;
	if ((err = realm_authorize(b->realm, s, msg->uri, msg->uri_len, MATCH_EXACT, msg->dict,
	                           AUTHZ_PUBLISH, &d)) != WAMPD_OK)
		return err;

	publication_init(&p, b, s, msg->uri, msg->uri_len, msg->dict, &msg->payload);
	p.disclose = p.disclose || d.disclose;
	if ((err = broker_route(b, &p)) != WAMPD_OK)
		return err;
	if (wamp_dict_bool(msg->dict, "acknowledge", false)) {
		struct wamp_msg ack = {.type = WAMP_PUBLISHED, .id = {msg->id[0], p.id}};

		session_send_msg(s, &ack);
	}
	return WAMPD_OK;
}

void broker_publish_internal(struct broker *b, const char *topic, json_t *args, json_t *kwargs,
                             const json_t *options)
{
	struct wamp_payload payload = {.args_v = args, .kwargs_v = kwargs};
	struct publication p;

	publication_init(&p, b, NULL, topic, strlen(topic), options, &payload);
	broker_route(b, &p);
}

void broker_deliver_remote(struct broker *b, const struct publication_view *v)
{
	struct publication p;

	publication_init(&p, b, NULL, v->topic, v->topic_len, v->options, v->payload);
	p.id = v->id;
	p.remote = true;
	p.publisher_details = v->publisher;
	broker_route(b, &p);
}

/* Send one retained event to sub's new member s. */
static void broker_send_retained_event(struct subscription *sub, struct session *s,
                                       uint64_t publication, const char *topic, size_t topic_len,
                                       const json_t *details, const struct wamp_payload *payload)
{
	struct publication p;
	struct wamp_msg event = {.type = WAMP_EVENT, .id = {sub->id, publication}};

	memset(&p, 0, sizeof(p));
	p.topic = topic;
	p.topic_len = topic_len;
	p.retained = true;
	p.publisher_details = details;
	event.dict = publication_event_details(&p, sub);
	event.payload = *payload;
	session_send_msg(s, &event);
	json_decref(event.dict);
}

static void broker_send_retained_one(struct subscription *sub, struct session *s,
                                     const struct retained_event *r)
{
	broker_send_retained_event(sub, s, r->ev.publication, r->ev.topic, strlen(r->ev.topic),
	                           r->ev.details, &r->ev.payload);
}

/* The membership of session id `session` in subscription id `sub`, or NULL. */
static struct sub_member *broker_find_member(struct broker *b, uint64_t sub, uint64_t session)
{
	struct subscription *su = broker_subscription(b, sub);
	struct session *s = realm_session(b->realm, session);

	if (!su || !s || !session_routable(s))
		return NULL;
	return broker_member(su, s);
}

void broker_retained_remote(struct broker *b, uint64_t sub, uint64_t session,
                            const struct publication_view *v)
{
	struct sub_member *m = broker_find_member(b, sub, session);

	if (!m || !match_item_matches(&m->sub->item, v->topic, v->topic_len))
		return;
	broker_send_retained_event(m->sub, m->session, v->id, v->topic, v->topic_len, v->publisher,
	                           v->payload);
}

static void broker_send_retained(struct broker *b, struct subscription *sub, struct session *s)
{
	struct retained_event *r = NULL, *tmp;

	if (backplane_fetch_retained(b->realm, sub, s))
		return; /* the cluster's retained events come later */

	if (sub->item.policy == MATCH_EXACT) {
		HASH_FIND(hh, b->retained, sub->item.uri, sub->item.uri_len, r);
		if (r)
			broker_send_retained_one(sub, s, r);
		return;
	}
	HASH_ITER(hh, b->retained, r, tmp)
		if (match_item_matches(&sub->item, r->ev.topic, strlen(r->ev.topic)))
			broker_send_retained_one(sub, s, r);
}

/* SUBSCRIBED to s, then the meta events and the retained events it asked for. */
static void broker_subscribed(struct broker *b, struct subscription *sub, struct session *s,
                              uint64_t request, bool created, bool get_retained)
{
	struct wamp_msg reply = {.type = WAMP_SUBSCRIBED, .id = {request, sub->id}};

	session_send_msg(s, &reply);
	if (created)
		meta_subscription(b->realm, META_CREATE, s, sub);
	meta_subscription(b->realm, META_SUBSCRIBE, s, sub);
	if (get_retained)
		broker_send_retained(b, sub, s);
}

enum wampd_err broker_subscribe(struct broker *b, struct session *s, const struct wamp_msg *msg)
{
	struct subscription *sub;
	struct sub_member *m;
	enum match_policy match;
	struct authz_decision d;
	enum wampd_err err;
	bool created = false;
	struct wamp_msg reply = {.type = WAMP_SUBSCRIBED};

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (!match_policy_parse(wamp_dict_str(msg->dict, "match", NULL), &match))
		return WAMPD_ERR_OPTION_NOT_ALLOWED;
	if (!uri_valid(msg->uri, msg->uri_len, b->realm->uri_rule,
	               match == MATCH_EXACT ? 0 : URI_ALLOW_EMPTY))
		return WAMPD_ERR_INVALID_URI;
	/* with its match policy: a pattern must be allowed on everything it can reach */
	if ((err = realm_authorize(b->realm, s, msg->uri, msg->uri_len, match, msg->dict,
	                           AUTHZ_SUBSCRIBE, &d)) != WAMPD_OK)
		return err;

	sub = (struct subscription *)match_get(&b->index, msg->uri, msg->uri_len, match);
	if (sub && (m = broker_member(sub, s)) != NULL) {
		/* already subscribed: the same id again */
		reply.id[0] = msg->id[0];
		reply.id[1] = sub->id;
		session_send_msg(s, &reply);
		return WAMPD_OK;
	}
	if (s->nsubs >= b->realm->owner->limits.max_subscriptions_per_session)
		return WAMPD_ERR_LIMIT;
	if (!sub) {
		if (!(sub = subscription_new(b, msg->uri, msg->uri_len, match)))
			return WAMPD_ERR_NOMEM;
		created = true;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		if (created)
			subscription_free(b, sub);
		return WAMPD_ERR_NOMEM;
	}
	m->sub = sub;
	m->session = s;
	DL_APPEND2(sub->members, m, sub_prev, sub_next);
	sub->count++;
	sub->count_by_ser[s->ser]++;
	DL_APPEND2(s->subs, m, ses_prev, ses_next);
	s->nsubs++;

	if (sub->bp_waiting) {
		/* the backplane routes this topic here soon: SUBSCRIBED then */
		struct sub_waiter *w = realloc(sub->waiters, (sub->nwaiters + 1) * sizeof(*w));

		if (w) {
			sub->waiters = w;
			w[sub->nwaiters++] = (struct sub_waiter){
				.session = s->id, .request = msg->id[0], .created = created,
				.get_retained = wamp_dict_bool(msg->dict, "get_retained", false)};
			return WAMPD_OK;
		}
	}
	broker_subscribed(b, sub, s, msg->id[0], created,
	                  wamp_dict_bool(msg->dict, "get_retained", false));
	return WAMPD_OK;
}

void broker_interest_ready(struct broker *b, const char *uri, enum match_policy policy)
{
	struct subscription *sub = (struct subscription *)match_get(&b->index, uri, strlen(uri),
	                                                            policy);
	struct sub_waiter *w;
	uint32_t n;

	if (!sub || !sub->bp_waiting)
		return;
	sub->bp_waiting = false;
	w = sub->waiters;
	n = sub->nwaiters;
	sub->waiters = NULL;
	sub->nwaiters = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sub_member *m = broker_find_member(b, sub->id, w[i].session);

		if (m)
			broker_subscribed(b, sub, m->session, w[i].request, w[i].created,
			                  w[i].get_retained);
	}
	free(w);
}

void broker_release_waiters(struct broker *b)
{
	struct subscription *sub, *tmp;

	HASH_ITER(hh_id, b->by_id, sub, tmp)
		if (sub->bp_waiting)
			broker_interest_ready(b, sub->item.uri, sub->item.policy);
}

enum wampd_err broker_unsubscribe(struct broker *b, struct session *s,
                                  const struct wamp_msg *msg)
{
	struct subscription *sub;
	struct sub_member *m;
	struct wamp_msg reply = {.type = WAMP_UNSUBSCRIBED};

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	sub = broker_subscription(b, msg->id[1]);
	if (!sub || !(m = broker_member(sub, s)))
		return WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	reply.id[0] = msg->id[0];
	session_send_msg(s, &reply);
	broker_remove_member(b, m);
	return WAMPD_OK;
}

void broker_revoke(struct broker *b, struct subscription *sub, struct session *s,
                   const char *reason)
{
	struct sub_member *m = broker_member(sub, s);

	if (!m)
		return;
	if (s->features & SF_SUBSCRIBER_REVOCATION) {
		struct wamp_msg msg = {.type = WAMP_UNSUBSCRIBED, .id = {0}};

		msg.dict = json_pack("{s:I, s:s}", "subscription", (json_int_t)sub->id, "reason",
		                     reason ? reason : "wamp.error.revoked");
		session_send_msg(s, &msg);
		json_decref(msg.dict);
	}
	broker_remove_member(b, m);
}

bool broker_has_subscription(struct broker *b, const char *topic)
{
	return match_best(&b->index, topic, strlen(topic)) != NULL;
}

void broker_detach(struct broker *b, struct session *s)
{
	struct sub_member *m, *tmp;

	DL_FOREACH_SAFE2(s->subs, m, tmp, ses_next)
		broker_remove_member(b, m);
}
