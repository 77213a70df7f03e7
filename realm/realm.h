/*
 * realm.h - realms, the router-wide realm registry and the limits the realm enforces.
 *
 * A realm owns its sessions (hash by session id), its broker and its dealer. The registry
 * (struct realms) owns the realms: those from the configuration and, when auto_create is
 * on, realms created by a HELLO naming an unknown realm.
 *
 * Backplane: a realm may carry backplane ops (other router nodes sharing the realm, e.g.
 * through Redis). The broker and dealer call them where a local decision would not see the
 * whole cluster; with none set (the default) everything is local.
 */
#ifndef WAMPD_REALM_REALM_H
#define WAMPD_REALM_REALM_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "realm/broker.h"
#include "realm/dealer.h"
#include "realm/session.h"
#include "realm/uri.h"

struct realm_limits {
	uint32_t max_subscriptions_per_session; /* SUBSCRIBE beyond this: ERROR limit */
	uint32_t max_registrations_per_session; /* REGISTER beyond this: ERROR limit */
	uint32_t max_pending_calls_per_session; /* CALL beyond this: ERROR limit */
	uint32_t max_pending_calls_per_callee;  /* INVOCATIONs awaiting one callee; CALL beyond
	                                           this: ERROR limit */
	uint32_t max_sessions_per_realm;        /* HELLO beyond this: ABORT */
	uint32_t max_testament_bytes_per_session; /* testaments a session may leave, in bytes
	                                           (session_testament_cost); add_testament
	                                           beyond this: ERROR limit */
};

#define REALM_LIMITS_DEFAULT                                                            \
	((struct realm_limits){.max_subscriptions_per_session = 10000,                 \
	                       .max_registrations_per_session = 10000,                 \
	                       .max_pending_calls_per_session = 10000,                 \
	                       .max_pending_calls_per_callee = 10000,                  \
	                       .max_sessions_per_realm = 1000000,                      \
	                       .max_testament_bytes_per_session = 1u << 20})

/*
 * One-shot timers on the router's event loop (call timeouts). The router implements them
 * with lws' sorted-usec lists; unit tests with a fake clock. A callback runs from the event
 * loop, never inside a message dispatch, so it may send and free freely.
 */
struct realm_timer;
struct realm_timer_ops {
	/* Run fn(arg) once, `ms` milliseconds from now. NULL on allocation failure. */
	struct realm_timer *(*start)(void *ctx, uint32_t ms, void (*fn)(void *arg), void *arg);
	/* Stop a timer that has not fired; the handle is invalid afterwards. */
	void (*cancel)(void *ctx, struct realm_timer *t);
	void *ctx;
};

/* The cluster backplane (realm/backplane.h); NULL: this node is the whole router. */
struct backplane;
struct ids_gen;
struct metrics;

struct realms;
struct session_resume;

struct realm {
	char *name;
	enum uri_rule uri_rule;
	int64_t call_timeout_ms;  /* default CALL timeout (0: none) */
	struct {                  /* resumable sessions (docs/resumption.md, realm/replay.h) */
		uint32_t window_s;    /* how long a detached session is kept; 0: not offered */
		size_t max_bytes;     /* bound of a session's replay log, encoded bytes */
		size_t max_detached_bytes; /* bound of the logs of all its detached sessions */
		size_t detached_bytes;     /* what they hold now (realm/replay.c keeps it) */
		struct session_resume *detached; /* those sessions, oldest first (replay.c) */
	} resume;
	struct realms *owner;

	struct session *sessions; /* hash by id (session->hh) */
	uint32_t nsessions;

	struct broker broker;
	struct dealer dealer;
	struct authz_config authz;        /* roles; none configured: everything allowed */
	uint64_t testaments_refused;      /* add_testament refused for a limit (metrics) */

	bool meta_local;                  /* answering a cluster meta query: this node's part */
	const char *meta_authrole;        /* with meta_local: the asking session's authrole
	                                     (borrowed from the query), or NULL */
	struct session *remote;           /* stubs of other nodes' sessions (backplane.c):
	                                     hash by id (session->hh), NULL without backplane */

	UT_hash_handle hh; /* realms->by_name */
};

struct realms {
	struct realm *by_name;
	bool auto_create;                /* HELLO to an unknown realm creates it */
	enum uri_rule auto_create_rule;  /* URI rule of auto-created realms */
	struct realm_limits limits;
	uint64_t last_router_id;         /* router-scope ids (subscriptions, registrations) */
	struct realm_timer_ops timers;   /* set by the router; start == NULL: no timers */
	/* Called when a session's parked request can be retried (its authorizer answered).
	 * Set by the router; runs from the event loop, not inside a dispatch of s. */
	void (*resume)(struct session *s, void *ctx);
	void *resume_ctx;
	struct backplane *bp;            /* cluster state (backplane_attach), or NULL */
	/* the owning loop's counters and id generator (borrowed: the router's); realm/ has no
	 * state of its own outside the registry, so registries of several loops never share */
	struct metrics *metrics;
	struct ids_gen *ids;
};

/* Initialise an empty registry. limits is copied; metrics and ids are borrowed (the
 * owning loop's) and must outlive the registry. */
void realms_init(struct realms *rs, const struct realm_limits *limits, struct metrics *metrics,
                 struct ids_gen *ids);

/* Free every realm. Every session must have left before (realm_leave). */
void realms_destroy(struct realms *rs);

/*
 * Add a realm named `name` (copied) with URI rule `rule`. Returns the realm, the existing one
 * if a realm of that name exists, or NULL on allocation failure.
 */
struct realm *realms_add(struct realms *rs, const char *name, enum uri_rule rule);

/* The realm named `name`, or NULL. */
struct realm *realms_find(struct realms *rs, const char *name);

/* The next router-scope id (subscriptions, registrations). */
uint64_t realms_next_id(struct realms *rs);

/* The id of a new subscription ('s') or registration ('r') on (uri, policy): sequential
 * on a lone node; with a backplane derived from (uri, policy), so every node gives the
 * same subscription the same id. `taken(id, arg)` says whether an id is in use locally
 * (then another is drawn). */
uint64_t realm_new_item_id(struct realm *r, char kind, const char *uri, size_t len,
                           enum match_policy policy, bool (*taken)(void *arg, uint64_t id),
                           void *arg);

/* A fresh session id, unique among live sessions (drawn before WELCOME when an
 * authentication challenge must name it). */
uint64_t realms_new_session_id(struct realms *rs);

/*
 * Join session s (state OPEN or AUTHENTICATING, identity already set) to realm r: keeps
 * the id drawn by realms_new_session_id() or draws one, state ESTABLISHED. Returns WAMPD_OK or
 * WAMPD_ERR_SESSION_LIMIT / WAMPD_ERR_NOMEM (s is then unchanged).
 */
enum wampd_err realm_join(struct realm *r, struct session *s);

/*
 * Make the realm forget s: its subscriptions and registrations are removed, calls it was
 * serving are answered with ERROR wamp.error.canceled, calls it made are dropped (a late
 * YIELD is ignored). Safe only outside fan-out (in s's own dispatch, or once its transport
 * is gone). No-op if s is not in a realm. Leaves s->state as it was unless ESTABLISHED or
 * SHUTTING_DOWN, which become OPEN (transport may HELLO again).
 */
void realm_leave(struct session *s);

/*
 * May session s do `action` on the URI pattern (uri, len, match)? CALL and PUBLISH (and a
 * testament, a deferred PUBLISH) are MATCH_EXACT; SUBSCRIBE and REGISTER pass their own
 * policy, and a pattern is allowed only if everything it can reach is (authz_role_decide).
 * `options` (borrowed, may be NULL) are the request's Options; a dynamic authorizer is
 * called as authorize(session details, uri, action, options) with options.match set to
 * the policy, and its answers are cached by (action, match, uri).
 *
 * Returns WAMPD_OK (*d says whether to disclose the caller/publisher),
 * WAMPD_ERR_NOT_AUTHORIZED, or WAMPD_ERR_AUTHZ_PENDING: the role's dynamic authorizer was
 * asked; the caller must park the request and retry it once realms->resume(s) is called
 * (the answer is then at hand, and stays at hand until realm_authorize_settled(s)).
 * Handlers call this after validating the request and before changing anything; only
 * from the dispatch of one of s's own messages (the only place a request can be parked).
 */
enum wampd_err realm_authorize(struct realm *r, struct session *s, const char *uri, size_t len,
                               enum match_policy match, const json_t *options,
                               enum authz_action action, struct authz_decision *d);

/*
 * The same decision where nothing can wait (one node's part of a cluster-wide meta query):
 * for role `authrole` (may be NULL: denied if the realm has roles) static roles decide; a
 * dynamic role is refused (its authorizer cannot be awaited here). WAMPD_OK or
 * WAMPD_ERR_NOT_AUTHORIZED.
 */
enum wampd_err realm_authorize_now(struct realm *r, const char *authrole, const char *uri,
                                   size_t len, enum match_policy match,
                                   enum authz_action action);

/* s's current request is done (answered, refused or dropped; anything but parked): the
 * authorizer's answers kept for its retries are forgotten. Cheap when there are none. */
void realm_authorize_settled(struct session *s);

/* The session details the meta API and authorizers see (new reference); a detached
 * resumable session has "detached": true. */
json_t *realm_session_details(const struct session *s);

/* The live session with id `id` in realm r, or NULL. */
struct session *realm_session(struct realm *r, uint64_t id);

#endif
