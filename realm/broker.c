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
	b->store = store_memory_new(r->name); /* NULL: realms_add fails */
	match_init(&b->index);
}

/* ---------------------------------------------------------------------------------- */
/* the store: costs, acknowledgements after the writes                                 */

size_t broker_event_cost(struct broker *b, size_t topic_len, const json_t *details,
                         const struct wamp_payload *p)
{
	struct store_event ev = {.topic = "", .topic_len = topic_len, .details = details,
	                         .payload = p};

	return b->store->ops->cost(b->store, &ev);
}

/*
 * An acknowledged PUBLISH on a durable store: one reference per store write of its event
 * plus one held by broker_publish while it routes; the last one answers (PUBLISHED, or the
 * first write's error), unless broker_publish answered with an error itself (quiet).
 */
struct pub_ack {
	struct realm *realm;
	uint64_t session, request, publication;
	unsigned pending;
	bool quiet;
	enum wampd_err err;
	char why[120];
};

static void pub_ack_done(void *arg, enum wampd_err err, const char *why)
{
	struct pub_ack *a = arg;
	struct session *s;

	if (err != WAMPD_OK && a->err == WAMPD_OK) {
		a->err = err;
		snprintf(a->why, sizeof(a->why), "the event store (%s) did not keep the event: %s",
		         a->realm->broker.store->ops->name, why ? why : wampd_err_str(err));
	}
	if (--a->pending)
		return;
	s = a->quiet ? NULL : realm_session(a->realm, a->session);
	if (s && session_routable(s)) {
		if (a->err == WAMPD_OK) {
			struct wamp_msg ack = {.type = WAMP_PUBLISHED, .id = {a->request, a->publication}};

			session_send_msg(s, &ack);
		} else {
			session_fail(s, WAMP_PUBLISH, a->request, a->err, a->why);
		}
	}
	free(a);
}

/* The completion a store write of publication p takes (NULL: none awaited). */
static store_done_fn pub_ack_take(struct pub_ack *a)
{
	if (!a)
		return NULL;
	a->pending++;
	return pub_ack_done;
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
	free(sub->item.uri);
	free(sub);
}

static void pending_reads_free(struct broker *b);
static void pending_read_forget(struct broker *b, uint64_t session);

void broker_destroy(struct broker *b)
{
	struct subscription *sub, *tmp;

	HASH_ITER(hh_id, b->by_id, sub, tmp) {
		struct sub_member *m, *mt;

		DL_FOREACH_SAFE2(sub->members, m, mt, sub_next) {
			DL_DELETE2(m->session->subs, m, ses_prev, ses_next);
			m->session->nsubs--;
			free(m);
		}
		subscription_free(b, sub);
	}
	pending_reads_free(b);
	if (b->store)
		b->store->ops->destroy(b->store);
	b->store = NULL;
	match_destroy(&b->index);
}

void broker_set_store(struct broker *b, struct store *st)
{
	if (b->store)
		b->store->ops->destroy(b->store);
	b->store = st;
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

enum wampd_err broker_add_history_config(struct broker *b, const struct history_config *hc)
{
	size_t len = strlen(hc->uri);
	struct subscription *sub;

	if (!uri_valid(hc->uri, len, URI_LOOSE, hc->match == MATCH_EXACT ? 0 : URI_ALLOW_EMPTY) ||
	    !hc->limit)
		return WAMPD_ERR_INVALID_URI;
	sub = (struct subscription *)match_get(&b->index, hc->uri, len, hc->match);
	if (!sub && !(sub = subscription_new(b, hc->uri, len, hc->match)))
		return WAMPD_ERR_NOMEM;
	sub->persistent = true;
	if (!sub->history && !(sub->history = b->store->ops->history_add(b->store, hc)))
		return WAMPD_ERR_STORE;
	return WAMPD_OK;
}

enum wampd_err broker_add_history(struct broker *b, const char *uri, enum match_policy match,
                                  uint32_t limit)
{
	struct history_config hc = {.uri = (char *)uri, .match = match, .limit = limit};

	return broker_add_history_config(b, &hc);
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
	int64_t now_ms;                 /* wall clock: when it is recorded */
	/* black/white lists (borrowed from options; NULL = no list) */
	const json_t *exclude, *exclude_authid, *exclude_authrole;
	const json_t *eligible, *eligible_authid, *eligible_authrole;
	enum wampd_err err;             /* first encoding failure */
	size_t deliveries;
	struct pub_ack *ack;            /* answered after the store's writes, or NULL */
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
	struct store *st = p->broker->store;

	event.dict = publication_event_details(p, sub);
	event.payload = *p->payload;
	/* recorded by the node it was published on when every node shares the store */
	if (sub->history && !p->retained && !(p->remote && st->ops->shared)) {
		struct store_event sev = {.publication = p->id, .topic = p->topic,
		                          .topic_len = p->topic_len, .details = p->publisher_details,
		                          .payload = p->payload};

		st->ops->append(st, sub->history, &sev, p->now_ms, pub_ack_take(p->ack), p->ack);
	}

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

/* Keep the publication's event as its topic's retained event (the store's check passed). */
static void broker_retain(struct broker *b, const struct publication *p)
{
	struct store_event ev = {.publication = p->id, .topic = p->topic, .topic_len = p->topic_len,
	                         .details = p->publisher_details, .payload = p->payload};

	b->store->ops->retain_set(b->store, &ev, p->now_ms, pub_ack_take(p->ack), p->ack);
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
	p->now_ms = clock_wall_ms();
}

/* Route one publication: deliver, record, retain. Returns the first encoding error, or
 * WAMPD_ERR_LIMIT (nothing delivered) for a client's publication to be retained that does
 * not fit the retained events' budget (broker.h). */
static enum wampd_err broker_route(struct broker *b, struct publication *p)
{
	json_t *publisher = p->remote ? NULL : publication_publisher_details(p);
	struct store *st = b->store;
	/* with a shared store, the node it was published on keeps it */
	bool retain = wamp_dict_bool(p->options, "retain", false) && st->limits.max_retained &&
	              !(p->remote && st->ops->shared);

	if (publisher)
		p->publisher_details = publisher;
	if (retain) {
		struct store_event ev = {.publication = p->id, .topic = p->topic,
		                         .topic_len = p->topic_len, .details = publisher,
		                         .payload = p->payload};

		if (st->ops->retain_check(st, p->topic, p->topic_len, st->ops->cost(st, &ev)) !=
		    WAMPD_OK) {
			if (p->publisher) { /* a client's PUBLISH: refused as a whole */
				json_decref(publisher);
				p->publisher_details = NULL;
				return WAMPD_ERR_LIMIT;
			}
			wlog_info("broker", "delivering topic=%s without retaining it: %u retained "
			          "events, %llu bytes (realm limits: %u, %llu)", p->topic,
			          st->stats.nretained, (unsigned long long)st->stats.retained_bytes,
			          st->limits.max_retained,
			          (unsigned long long)st->limits.max_retained_bytes);
			retain = false;
		}
	}
	b->publications++;
	match_each(&b->index, p->topic, p->topic_len, publication_deliver, p);
	if (retain)
		broker_retain(b, p);
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
	bool ack;

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
	ack = wamp_dict_bool(msg->dict, "acknowledge", false);
	if (ack && b->store->durable && (p.ack = calloc(1, sizeof(*p.ack)))) {
		/* answered once the store kept the event (pub_ack_done) */
		*p.ack = (struct pub_ack){.realm = b->realm, .session = s->id,
		                          .request = msg->id[0], .publication = p.id, .pending = 1};
	}
	err = broker_route(b, &p);
	if (p.ack) {
		p.ack->quiet = err != WAMPD_OK; /* answered with ERROR by the caller */
		pub_ack_done(p.ack, WAMPD_OK, NULL);
		return err;
	}
	if (err != WAMPD_OK)
		return err;
	if (ack) {
		struct wamp_msg reply = {.type = WAMP_PUBLISHED, .id = {msg->id[0], p.id}};

		session_send_msg(s, &reply);
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

/* The store's retained events for one new membership (found again by ids: the answer may
 * come later, when the member may be gone). */
struct retained_req {
	struct broker *b;
	uint64_t sub, session;
};

static void broker_on_retained(void *arg, enum wampd_err err,
                               const struct stored_event *const *evs, size_t n)
{
	struct retained_req *rq = arg;
	struct sub_member *m = broker_find_member(rq->b, rq->sub, rq->session);

	for (size_t i = 0; m && err == WAMPD_OK && i < n; i++)
		if (match_item_matches(&m->sub->item, evs[i]->topic, strlen(evs[i]->topic)))
			broker_send_retained_event(m->sub, m->session, evs[i]->publication,
			                           evs[i]->topic, strlen(evs[i]->topic),
			                           evs[i]->details, &evs[i]->payload);
	free(rq);
}

static void broker_send_retained(struct broker *b, struct subscription *sub, struct session *s)
{
	struct store *st = b->store;
	struct retained_req *rq;

	/* a store of this node only: the cluster's retained events are the backplane's */
	if (!st->ops->shared && backplane_fetch_retained(b->realm, sub, s))
		return; /* the cluster's retained events come later */
	if (!(rq = malloc(sizeof(*rq))))
		return;
	*rq = (struct retained_req){.b = b, .sub = sub->id, .session = s->id};
	st->ops->retain_get(st, sub->item.uri, sub->item.policy, broker_on_retained, rq);
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
	pending_read_forget(b, s->id); /* a get_events answer it no longer waits for */
}

/* ---------------------------------------------------------------------------------- */
/* history reads (SSE resume, get_events)                                               */

struct broker_read {
	struct broker *b;
	struct match_item *patterns;  /* uri owned */
	size_t npatterns;
	struct store_query q;
	char *topic;                  /* q.topic's copy */
	store_read_fn fn;
	void *arg;
	bool canceled;
	bool answered;                /* fn ran (or was canceled) */
	unsigned pending;             /* store reads not answered yet (+1 while starting) */
	enum wampd_err err;
	struct stored_event *evs;     /* copies of what the stores answered */
	size_t n, cap;
};

struct seen_pub {
	uint64_t id;
	UT_hash_handle hh;
};

static bool read_wanted(const struct broker_read *rd, const struct stored_event *ev)
{
	size_t len = strlen(ev->topic);

	for (size_t i = 0; i < rd->npatterns; i++)
		if (match_item_matches(&rd->patterns[i], ev->topic, len))
			return true;
	return false;
}

static int read_order(const void *x, const void *y)
{
	const struct stored_event *a = *(const struct stored_event *const *)x;
	const struct stored_event *b = *(const struct stored_event *const *)y;

	if (a->timestamp_ms != b->timestamp_ms)
		return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
	return a < b ? -1 : a > b; /* the order the stores answered in (oldest first each) */
}

static void read_free(struct broker_read *rd)
{
	for (size_t i = 0; i < rd->npatterns; i++)
		free(rd->patterns[i].uri);
	free(rd->patterns);
	for (size_t i = 0; i < rd->n; i++)
		stored_event_clear(&rd->evs[i]);
	free(rd->evs);
	free(rd->topic);
	free(rd);
}

/* Every store read answered: merge (by time, each publication once), limit, answer. */
static void read_finish(struct broker_read *rd)
{
	const struct stored_event **out = NULL;
	struct seen_pub *seen = NULL, *sp, *tmp;
	size_t n = 0, first = 0;

	if (!rd->canceled && rd->err == WAMPD_OK && rd->n && !(out = malloc(rd->n * sizeof(*out))))
		rd->err = WAMPD_ERR_NOMEM;
	for (size_t i = 0; out && i < rd->n; i++)
		out[i] = &rd->evs[i];
	if (out)
		qsort(out, rd->n, sizeof(*out), read_order);
	for (size_t i = 0; out && i < rd->n; i++) {
		HASH_FIND(hh, seen, &out[i]->publication, sizeof(uint64_t), sp);
		if (sp || !(sp = malloc(sizeof(*sp))))
			continue; /* the same publication from another history */
		sp->id = out[i]->publication;
		HASH_ADD(hh, seen, id, sizeof(uint64_t), sp);
		out[n++] = out[i];
	}
	HASH_ITER(hh, seen, sp, tmp) {
		HASH_DEL(seen, sp);
		free(sp);
	}
	if (rd->q.limit && n > rd->q.limit)
		first = n - rd->q.limit;
	if (rd->q.reverse)
		for (size_t i = first, j = n - 1; i < j; i++, j--) {
			const struct stored_event *t = out[i];

			out[i] = out[j];
			out[j] = t;
		}
	rd->answered = true;
	if (!rd->canceled)
		rd->fn(rd->arg, rd->err, out ? (const struct stored_event *const *)out + first : NULL,
		       rd->err == WAMPD_OK ? n - first : 0);
	free(out);
	read_free(rd);
}

/* One history's events (oldest first): copies of those the patterns want. */
static void read_collect(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                         size_t n)
{
	struct broker_read *rd = arg;

	if (err != WAMPD_OK && rd->err == WAMPD_OK)
		rd->err = err;
	for (size_t i = 0; !rd->canceled && err == WAMPD_OK && i < n; i++) {
		const struct stored_event *ev = evs[i];
		struct store_event view = {.publication = ev->publication, .topic = ev->topic,
		                           .topic_len = strlen(ev->topic), .details = ev->details,
		                           .payload = &ev->payload};

		if (!read_wanted(rd, ev))
			continue;
		if (rd->n == rd->cap) {
			size_t cap = rd->cap ? rd->cap * 2 : 16;
			struct stored_event *m = realloc(rd->evs, cap * sizeof(*m));

			if (!m) {
				rd->err = WAMPD_ERR_NOMEM;
				break;
			}
			rd->evs = m;
			rd->cap = cap;
		}
		if (!stored_event_copy(&rd->evs[rd->n], &view, ev->timestamp_ms)) {
			rd->err = WAMPD_ERR_NOMEM;
			break;
		}
		rd->n++;
	}
	if (--rd->pending == 0)
		read_finish(rd);
}

bool broker_history_read(struct broker *b, const char *const *uris,
                         const enum match_policy *policies, size_t n,
                         const struct store_query *q, store_read_fn fn, void *arg,
                         struct broker_read **pending)
{
	struct subscription *sub, *tmp;
	struct store_query all = {.topic = q->topic}; /* filtered here, then limited */
	struct broker_read *rd;
	bool covered = false;

	*pending = NULL;
	HASH_ITER(hh_id, b->by_id, sub, tmp)
		for (size_t i = 0; sub->history && !covered && i < n; i++)
			covered = store_pattern_covers(sub->item.uri, sub->item.policy, uris[i],
			                               policies[i]);
	if (!covered)
		return false;
	if (!(rd = calloc(1, sizeof(*rd))) || !(rd->patterns = calloc(n, sizeof(*rd->patterns))) ||
	    (q->topic && !(rd->topic = strdup(q->topic)))) {
		if (rd) {
			free(rd->patterns);
			free(rd);
		}
		fn(arg, WAMPD_ERR_NOMEM, NULL, 0);
		return true;
	}
	rd->b = b;
	rd->q = *q;
	rd->q.topic = all.topic = rd->topic;
	rd->fn = fn;
	rd->arg = arg;
	rd->pending = 1;
	for (size_t i = 0; i < n; i++) {
		rd->patterns[i].policy = policies[i];
		rd->patterns[i].uri_len = strlen(uris[i]);
		if ((rd->patterns[i].uri = strdup(uris[i])))
			rd->npatterns++;
		else
			rd->err = WAMPD_ERR_NOMEM;
	}
	HASH_ITER(hh_id, b->by_id, sub, tmp) {
		bool covers = false;

		for (size_t i = 0; sub->history && !covers && i < n; i++)
			covers = store_pattern_covers(sub->item.uri, sub->item.policy, uris[i],
			                              policies[i]);
		if (!covers || rd->err != WAMPD_OK)
			continue;
		rd->pending++;
		b->store->ops->read(b->store, sub->history, &all, read_collect, rd);
	}
	*pending = rd;
	if (--rd->pending == 0) {
		read_finish(rd);
		*pending = NULL;
	}
	return true;
}

void broker_read_cancel(struct broker_read *rd)
{
	if (rd)
		rd->canceled = true; /* freed once the stores answered */
}

/* get_events answers the store gives later: kept by session until its CALL is replayed. */
struct broker_pending_read {
	uint64_t session;
	struct broker *b;
	struct broker_read *rd;       /* NULL once answered */
	uint64_t subscription;
	enum wampd_err err;
	json_t *events;               /* the answer (owned) */
	UT_hash_handle hh;
};

static json_t *events_json(const struct stored_event *const *evs, size_t n, uint64_t sub)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++)
		json_array_append_new(list, store_event_json(evs[i], sub));
	return list;
}

static void pending_read_free(struct broker *b, struct broker_pending_read *pr)
{
	HASH_DEL(b->reads, pr);
	broker_read_cancel(pr->rd);
	json_decref(pr->events);
	free(pr);
}

static void pending_reads_free(struct broker *b)
{
	struct broker_pending_read *pr, *tmp;

	HASH_ITER(hh, b->reads, pr, tmp)
		pending_read_free(b, pr);
}

static void pending_read_forget(struct broker *b, uint64_t session)
{
	struct broker_pending_read *pr = NULL;

	HASH_FIND(hh, b->reads, &session, sizeof(session), pr);
	if (pr)
		pending_read_free(b, pr);
}

static void pending_read_answered(void *arg, enum wampd_err err,
                                  const struct stored_event *const *evs, size_t n)
{
	struct broker_pending_read *pr = arg;
	struct realm *r = pr->b->realm;
	struct session *s = realm_session(r, pr->session);

	pr->rd = NULL;
	pr->err = err;
	pr->events = err == WAMPD_OK ? events_json(evs, n, pr->subscription) : NULL;
	if (!s || !session_routable(s) || !r->owner->resume) {
		pending_read_free(pr->b, pr);
		return;
	}
	r->owner->resume(s, r->owner->resume_ctx); /* the CALL is replayed: it takes the answer */
}

/* A synchronous answer (memory, lmdb): straight into the caller's variable. */
struct sync_answer {
	bool done;
	enum wampd_err err;
	json_t *events;
	uint64_t subscription;
};

static void sync_answered(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                          size_t n)
{
	struct sync_answer *a = arg;

	a->done = true;
	a->err = err;
	a->events = err == WAMPD_OK ? events_json(evs, n, a->subscription) : NULL;
}

enum wampd_err broker_history_events(struct broker *b, struct session *s,
                                     const struct subscription *sub, const struct store_query *q,
                                     json_t **events)
{
	struct broker_pending_read *pr = NULL;
	struct sync_answer a = {.subscription = sub->id};
	const char *uri = sub->item.uri;
	enum match_policy policy = sub->item.policy;
	struct broker_read *rd;
	enum wampd_err err;

	*events = NULL;
	if (s)
		HASH_FIND(hh, b->reads, &s->id, sizeof(s->id), pr);
	if (pr && pr->rd)
		return WAMPD_ERR_AUTHZ_PENDING; /* not answered yet */
	if (pr) {                           /* the replay: the answer is at hand */
		err = pr->err;
		*events = pr->events;
		pr->events = NULL;
		pending_read_free(b, pr);
		return err != WAMPD_OK ? err : *events ? WAMPD_OK : WAMPD_ERR_NOMEM;
	}
	if (!broker_history_read(b, &uri, &policy, 1, q, sync_answered, &a, &rd))
		return (*events = json_array()) ? WAMPD_OK : WAMPD_ERR_NOMEM; /* no history */
	if (!rd) {
		*events = a.events;
		return a.err != WAMPD_OK ? a.err : *events ? WAMPD_OK : WAMPD_ERR_NOMEM;
	}
	/* later (redis): park the CALL; the answer goes to a pending read of this session
	 * (none to park without a session: one node's part of a cluster query) */
	if (!s || !(pr = calloc(1, sizeof(*pr)))) {
		broker_read_cancel(rd);
		return s ? WAMPD_ERR_NOMEM : WAMPD_ERR_STORE;
	}
	pr->session = s->id;
	pr->b = b;
	pr->subscription = sub->id;
	pr->rd = rd;
	HASH_ADD(hh, b->reads, session, sizeof(pr->session), pr);
	/* the store answers this pending read, not the stack variable the read started with */
	rd->fn = pending_read_answered;
	rd->arg = pr;
	return WAMPD_ERR_AUTHZ_PENDING;
}
