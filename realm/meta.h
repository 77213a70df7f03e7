/*
 * meta.h - the WAMP meta API of a realm (advanced/meta_api_*.md, pubsub_testament.md,
 * pubsub_event_history.md): built-in procedures (wamp.session.*, wamp.registration.*,
 * wamp.subscription.*) registered on the realm's dealer, and meta events published on the
 * realm's broker by the router itself.
 *
 * Ordering promise: a meta event is published only after the state it announces is
 * visible through the meta procedures (e.g. on_register after the callee is listed by
 * wamp.registration.list_callees, on_leave after wamp.session.get no longer finds it).
 */
#ifndef WAMPD_REALM_META_H
#define WAMPD_REALM_META_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct realm;
struct session;
struct registration;
struct subscription;

enum meta_event {
	META_CREATE,      /* wamp.{registration,subscription}.on_create */
	META_REGISTER,    /* wamp.registration.on_register */
	META_SUBSCRIBE = META_REGISTER, /* wamp.subscription.on_subscribe */
	META_UNREGISTER,  /* wamp.registration.on_unregister */
	META_UNSUBSCRIBE = META_UNREGISTER, /* wamp.subscription.on_unsubscribe */
	/* on_delete: meta_registration_deleted / meta_subscription_deleted */
};

/* Register the meta procedures on a new realm's dealer. WAMPD_OK or WAMPD_ERR_NOMEM. */
enum wampd_err meta_init(struct realm *r);

/* wamp.session.on_join: s has joined (call after it is in the realm's table). */
void meta_session_join(struct realm *r, struct session *s);

/* The session is ending (GOODBYE, ABORT, lost transport, killed): its testaments are
 * published, detached scope then destroyed scope, each exactly once, then forgotten.
 * Called once s no longer receives events (after it left the broker). */
void meta_session_testaments(struct realm *r, struct session *s);

/* wamp.session.on_leave: s has left (call after it is out of the realm's table). */
void meta_session_leave(struct realm *r, struct session *s);

/* Registration / subscription lifecycle events (call after the change is visible). */
void meta_registration(struct realm *r, enum meta_event ev, struct session *s,
                       const struct registration *reg);
void meta_subscription(struct realm *r, enum meta_event ev, struct session *s,
                       const struct subscription *sub);

/* on_delete of registration / subscription `id`, whose last member was s: call once it
 * has been freed, so the procedures no longer find it when the event goes out. */
void meta_registration_deleted(struct realm *r, struct session *s, uint64_t id);
void meta_subscription_deleted(struct realm *r, struct session *s, uint64_t id);

/* Publish a list of testaments ({topic, args, kwargs, options} each; borrowed). */
void meta_publish_testaments(struct realm *r, const json_t *list);

/* backplane: true if `procedure` is answered from every node's part (session and
 * subscription meta API); meta_merge() joins the nodes' answers ({"e": err, "a": args} each)
 * into the cluster's: WAMPD_OK with *res_args (new reference), or the error to answer. */
bool meta_cluster_wide(const char *procedure);
/* ... for realm r: get_events on a shared event store (realm/store.h) is answered by the
 * node asked, from the store every node shares. */
bool meta_cluster_wide_in(const struct realm *r, const char *procedure);
enum wampd_err meta_merge(const char *procedure, const json_t *answers, json_t **res_args);

#endif
