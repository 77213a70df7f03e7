/*
 * broker.h - PubSub routing for one realm: SUBSCRIBE, UNSUBSCRIBE, PUBLISH -> EVENT.
 *
 * Subscriptions are shared: every session subscribed to the same (topic pattern, match
 * policy) is a member of one subscription with one id, found through the realm's match
 * index (realm/match.h). Each membership (struct sub_member) is linked both into its
 * subscription's member list and into its session's list, so a publication walks exactly
 * its subscribers and a leaving session is detached in time proportional to what it holds.
 *
 * An EVENT is identical for all members of one subscription (ids, details), so it is
 * encoded once per serializer present among the members and the same refcounted bytes are
 * queued to each receiver. Publisher exclusion and black/white lists only skip receivers.
 *
 * Retained events (PUBLISH retain: true) are kept per topic, bounded in count and in bytes
 * per realm; event history is kept per subscription for the (uri, match) pairs the
 * configuration names, bounded in count per history and in bytes per realm. Bytes are what
 * the router holds for an event (broker_event_cost: payload, topic, details and the entry's
 * bookkeeping), not only the payload.
 *
 * Over the retained budget, a new retained event (a new topic, or a replacement that grows
 * beyond it) is refused: a client's PUBLISH is refused as a whole, before any delivery, with
 * WAMPD_ERR_LIMIT (ERROR wamp.error.limit_exceeded when acknowledged); the router's own and
 * other nodes' publications are delivered but not retained. Over the history budget, the
 * realm's oldest history entries (whichever history holds them) are evicted, as a ring does:
 * history is a window on the recent past, so the newest events win.
 */
#ifndef WAMPD_REALM_BROKER_H
#define WAMPD_REALM_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "common/err.h"
#include "realm/match.h"
#include "serializers/codec.h"

struct session;
struct realm;

/* A copy of a publication kept after its delivery (retained event, history entry). */
struct stored_event {
	uint64_t publication;
	int64_t timestamp_ms;       /* wall clock */
	char *topic;                /* owned */
	json_t *details;            /* publisher disclosure etc. (owned, may be NULL) */
	struct wamp_payload payload;/* spans point into `bytes` (owned) or values (owned) */
	uint8_t *bytes;
	size_t cost;                /* bytes charged to the broker's budget (broker_event_cost) */
	/* history entries: the ring holding it, and the realm's list of all history entries
	 * from the oldest (broker->history_oldest) to the newest */
	struct event_history *history;
	struct stored_event *older, *newer;
};

struct event_history {
	uint32_t limit;             /* capacity of ring */
	uint32_t count;
	uint32_t head;              /* index of the oldest event */
	struct stored_event *ring;
};

struct subscription {
	struct match_item item;     /* uri + match policy: key in the broker's index */
	uint64_t id;
	struct sub_member *members; /* doubly linked: sub_prev/sub_next */
	uint32_t count;
	uint32_t count_by_ser[WAMP_SER__COUNT]; /* members per serializer: what to encode */
	bool persistent;            /* kept without members (configured event history) */
	struct event_history *history;
	int64_t created_ms;
	/* backplane: the cluster does not route this topic here yet; SUBSCRIBED replies wait */
	bool bp_waiting;
	uint32_t nwaiters;
	struct sub_waiter *waiters;
	UT_hash_handle hh_id;       /* broker->by_id */
};

/* A SUBSCRIBE answered once the backplane's interest is effective. */
struct sub_waiter {
	uint64_t session;
	uint64_t request;
	bool created;
	bool get_retained;
};

struct sub_member {
	struct subscription *sub;
	struct session *session;
	struct sub_member *sub_prev, *sub_next; /* in sub->members */
	struct sub_member *ses_prev, *ses_next; /* in session->subs */
};

struct retained_event {
	struct stored_event ev;     /* ev.topic is the key */
	UT_hash_handle hh;
};

/* An event history configured for a realm: subscriptions on exactly (uri, match). */
struct history_config {
	char *uri;
	enum match_policy match;
	uint32_t limit;
};

/* Defaults of the realm's byte budgets (realms[].max_retained_bytes, max_history_bytes). */
#define BROKER_DEFAULT_MAX_RETAINED 10000
#define BROKER_DEFAULT_MAX_RETAINED_BYTES (UINT64_C(64) << 20)
#define BROKER_DEFAULT_MAX_HISTORY_BYTES (UINT64_C(64) << 20)

struct broker {
	struct realm *realm;
	struct subscription *by_id;     /* all subscriptions, key id */
	struct match_index index;       /* by (uri, policy) */
	struct retained_event *retained;/* by topic */
	uint32_t nretained;
	uint32_t max_retained;          /* 0: retention off */
	uint64_t max_retained_bytes;    /* byte budget of the retained events */
	uint64_t retained_bytes;        /* charged to it now */
	uint64_t retained_refused;      /* retained events refused (count or byte budget) */
	uint64_t max_history_bytes;     /* byte budget of all the realm's event histories */
	uint64_t history_bytes;         /* charged to it now */
	uint64_t history_evicted;       /* entries evicted before their count limit, for bytes */
	uint64_t history_refused;       /* events larger than the whole budget: not recorded */
	struct stored_event *history_oldest, *history_newest; /* every history entry, in order */
	uint64_t publications;          /* counter for stats */
};

/* Initialise an empty broker for realm r. */
void broker_init(struct broker *b, struct realm *r);

/* Free every subscription, retained event and history (sessions must have left). */
void broker_destroy(struct broker *b);

/*
 * Create a persistent subscription with an event history of `limit` events for (uri,
 * match) (configuration: history is recorded before anyone subscribes). WAMPD_OK,
 * WAMPD_ERR_INVALID_URI or WAMPD_ERR_NOMEM.
 */
enum wampd_err broker_add_history(struct broker *b, const char *uri, enum match_policy match,
                                  uint32_t limit);

/*
 * Message handlers. Each checks the session state first, borrows msg, answers on success
 * (SUBSCRIBED, UNSUBSCRIBED, PUBLISHED when acknowledged, EVENTs to subscribers) and
 * returns the error to answer with otherwise; they never write ERROR themselves.
 */
enum wampd_err broker_subscribe(struct broker *b, struct session *s, const struct wamp_msg *msg);
enum wampd_err broker_unsubscribe(struct broker *b, struct session *s,
                                  const struct wamp_msg *msg);
enum wampd_err broker_publish(struct broker *b, struct session *s, const struct wamp_msg *msg);

/*
 * Publish from the router itself (meta events, testaments): topic borrowed, args/kwargs
 * borrowed values (may be NULL), options borrowed (may be NULL: PUBLISH.Options such as
 * exclude/eligible lists and retain are honoured). No acknowledgement.
 */
void broker_publish_internal(struct broker *b, const char *topic, json_t *args, json_t *kwargs,
                             const json_t *options);

/* true if a publication on topic would reach at least one subscription (cheap check
 * before building a meta event). */
bool broker_has_subscription(struct broker *b, const char *topic);

/* Remove every subscription membership of s (session leaving). Safe outside fan-out only. */
void broker_detach(struct broker *b, struct session *s);

/*
 * Remove subscriber s from sub (administrative revocation). The subscriber gets
 * UNSUBSCRIBED [35, 0, {subscription, reason}] if it announced subscription_revocation.
 */
void broker_revoke(struct broker *b, struct subscription *sub, struct session *s,
                   const char *reason);

/* backplane (realm/backplane.c): a publication from another node, delivered to this
 * node's matching subscribers (view borrowed); the held SUBSCRIBED replies of (uri, policy)
 * (now routed here); retained events fetched for subscription sub of session. */
struct publication_view;
void broker_deliver_remote(struct broker *b, const struct publication_view *view);
void broker_interest_ready(struct broker *b, const char *uri, enum match_policy policy);
void broker_release_waiters(struct broker *b);
void broker_retained_remote(struct broker *b, uint64_t sub, uint64_t session,
                            const struct publication_view *view);

/* WELCOME.Details.roles.broker.features: what this broker implements (new reference). */
json_t *broker_features(void);

/* Lookup by id (meta API, tests). */
struct subscription *broker_subscription(struct broker *b, uint64_t id);

/* The bytes charged to a budget for keeping an event of topic_len bytes, details (the
 * publisher disclosure; may be NULL) and payload p: encoded payload (or its values), topic,
 * details and the entry's structures, as allocated (serializers' wamp_heap_size). */
size_t broker_event_cost(size_t topic_len, const json_t *details, const struct wamp_payload *p);

/* A stored event as the dict wamp.subscription.get_events returns (new reference). */
json_t *broker_stored_event_json(const struct stored_event *ev, uint64_t subscription);

#endif
