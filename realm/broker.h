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
 * Retained events (PUBLISH retain: true) and the event histories the configuration names
 * (every publication whose topic matches a history's (uri, match) is recorded) are kept in
 * the realm's event store (realm/store.h: memory, lmdb or redis), bounded in count and in
 * bytes per realm and, for histories, in count and age per history.
 *
 * Over the retained budget, a new retained event (a new topic, or a replacement that grows
 * beyond it) is refused: a client's PUBLISH is refused as a whole, before any delivery, with
 * WAMPD_ERR_LIMIT (ERROR wamp.error.limit_exceeded when acknowledged); the router's own and
 * other nodes' publications are delivered but not retained. (A store that can only decide
 * when it writes, redis, refuses then: the event was delivered, the acknowledged publisher
 * gets the ERROR.) Over the history budget, the realm's oldest history entries are evicted.
 *
 * Durability: on a store configured `durable`, an acknowledged PUBLISH is answered once
 * every write of its event (history appends, the retained event) completed: PUBLISHED, or
 * ERROR (wamp.error.limit_exceeded: the store is full; wampd.error.store_failed) if one
 * failed. Without it, PUBLISHED follows the delivery and a failing write is only logged and
 * counted. With a shared store (redis) only the node a publication was made on writes it.
  */
#ifndef WAMPD_REALM_BROKER_H
#define WAMPD_REALM_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "common/err.h"
#include "realm/match.h"
#include "realm/store.h"
#include "serializers/codec.h"

struct session;
struct realm;

struct subscription {
	struct match_item item;     /* uri + match policy: key in the broker's index */
	uint64_t id;
	struct sub_member *members; /* doubly linked: sub_prev/sub_next */
	uint32_t count;
	uint32_t count_by_ser[WAMP_SER__COUNT]; /* members per serializer: what to encode */
	bool persistent;            /* kept without members (configured event history) */
	struct store_history *history; /* configured history (owned by the broker's store) */
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

/* Defaults of the realm's byte budgets (realms[].max_retained_bytes, max_history_bytes). */
#define BROKER_DEFAULT_MAX_RETAINED STORE_DEFAULT_MAX_RETAINED
#define BROKER_DEFAULT_MAX_RETAINED_BYTES STORE_DEFAULT_MAX_RETAINED_BYTES
#define BROKER_DEFAULT_MAX_HISTORY_BYTES STORE_DEFAULT_MAX_HISTORY_BYTES

struct broker_pending_read;

struct broker {
	struct realm *realm;
	struct subscription *by_id;     /* all subscriptions, key id */
	struct match_index index;       /* by (uri, policy) */
	struct store *store;            /* retained events and histories (realm/store.h): a
	                                   memory store unless the router set another */
	struct broker_pending_read *reads; /* get_events answers awaited from the store, by
	                                      session (broker_history_events) */
	uint64_t publications;          /* counter for stats */
};

/* Initialise an empty broker for realm r, with a memory store (b->store NULL: out of
 * memory; broker_destroy is still safe). */
void broker_init(struct broker *b, struct realm *r);

/* Free every subscription, retained event and history (sessions must have left). */
void broker_destroy(struct broker *b);

/*
 * Use store st (owned by the broker from now on) instead of the memory store broker_init
 * made, which is freed; st keeps the limits it has. Before any history is added.
 */
void broker_set_store(struct broker *b, struct store *st);

/*
 * Create a persistent subscription with an event history for (hc->uri, hc->match) of
 * hc->limit events within hc->max_age_ms (configuration: history is recorded before anyone
 * subscribes; hc borrowed). WAMPD_OK, WAMPD_ERR_INVALID_URI, WAMPD_ERR_NOMEM or
 * WAMPD_ERR_STORE (the store could not set it up). broker_add_history: without age limit.
 */
enum wampd_err broker_add_history_config(struct broker *b, const struct history_config *hc);
enum wampd_err broker_add_history(struct broker *b, const char *uri, enum match_policy match,
                                  uint32_t limit);

/*
 * Read what the realm's histories hold for subscribers of any of the n patterns (uris[i],
 * policies[i]): the events of every history covering one of them (store_pattern_covers),
 * keeping those a pattern matches (and, with q->topic, only that topic), each publication
 * once, oldest first (newest first with q->reverse), the newest q->limit (0: all).
 * Returns false when no history covers any pattern (fn is not called). Otherwise fn is
 * called once, now or later from the event loop: *pending is then NULL if it already ran,
 * or a handle to cancel the read with (broker_read_cancel) should arg go away first; the
 * handle is invalid once fn ran. uris are copied.
 */
struct broker_read;
bool broker_history_read(struct broker *b, const char *const *uris,
                         const enum match_policy *policies, size_t n,
                         const struct store_query *q, store_read_fn fn, void *arg,
                         struct broker_read **pending);
void broker_read_cancel(struct broker_read *rd);

/*
 * wamp.subscription.get_events for caller s on subscription sub: WAMPD_OK with *events (a
 * new list of store_event_json dicts), or WAMPD_ERR_AUTHZ_PENDING when the store answers
 * later: the CALL is parked and replayed (realms->resume) once the answer is at hand, and
 * the replay gets it. Only from the dispatch of s's own CALL.
 */
enum wampd_err broker_history_events(struct broker *b, struct session *s,
                                     const struct subscription *sub, const struct store_query *q,
                                     json_t **events);

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

/* The bytes the realm's store charges to a budget for keeping an event of topic_len bytes,
 * details (the publisher disclosure; may be NULL) and payload p (memory store: encoded
 * payload or its values, topic, details and the entry's structures, as allocated). */
size_t broker_event_cost(struct broker *b, size_t topic_len, const json_t *details,
                         const struct wamp_payload *p);

#endif
