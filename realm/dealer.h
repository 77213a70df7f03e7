/*
 * dealer.h - RPC routing for one realm.
 *
 * Registrations: one struct registration per (procedure pattern, match policy), found
 * through the realm's match index (realm/match.h: exact, then longest prefix, then
 * wildcard). A registration has one callee (invoke "single") or several (shared:
 * "roundrobin", "random", "first", "last"); its callees are struct reg_member nodes,
 * linked both into the registration and into the callee session's list.
 *
 * Calls: each routed call is a struct pending_call, indexed twice: in the callee's table
 * by the INVOCATION.Request the dealer chose (so YIELD/ERROR find it in O(1)) and in the
 * caller's table by CALL.Request (so CANCEL, progressive CALL continuations and a leaving
 * caller find it in O(1)). A call whose caller is gone (left, canceled with skip or
 * killnowait, timed out) stays on the callee side only, so the callee's late answer is
 * recognised and dropped.
 *
 * Built-in procedures (the meta API) are registrations whose callee is a C function in
 * the router instead of a session; they are called through the same lookup (and the same
 * authorization) as user procedures.
 */
#ifndef WAMPD_REALM_DEALER_H
#define WAMPD_REALM_DEALER_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "common/err.h"
#include "realm/match.h"
#include "serializers/wamp_msg.h"

struct session;
struct realm;
struct realm_timer;
struct wamp_out;
struct authz_decision;

enum invoke_policy {
	INVOKE_SINGLE = 0,
	INVOKE_ROUNDROBIN,
	INVOKE_RANDOM,
	INVOKE_FIRST,
	INVOKE_LAST,
};

/*
 * A built-in procedure. args/kwargs are the call's payload decoded (borrowed, may be NULL).
 * On success it sets *res_args / *res_kwargs (new references or NULL) and returns
 * WAMPD_OK; otherwise it returns the error the caller gets, with *message optionally set:
 * a static string, or `why`, a buffer of DEALER_BUILTIN_WHY bytes the caller provides for
 * a message made up for this call (read before the next call; no static buffer, so
 * nothing is shared between calls, or loops).
 */
#define DEALER_BUILTIN_WHY 160
typedef enum wampd_err (*dealer_builtin_fn)(struct realm *r, struct session *caller,
                                            json_t *args, json_t *kwargs, json_t **res_args,
                                            json_t **res_kwargs, const char **message,
                                            char *why);

struct registration {
	struct match_item item;      /* uri + match policy: key in the dealer's index */
	uint64_t id;
	enum invoke_policy invoke;
	struct reg_member *callees;  /* doubly linked: reg_prev/reg_next */
	uint32_t count;
	struct reg_member *rr_next;  /* roundrobin: the callee that gets the next call */
	dealer_builtin_fn builtin;   /* built-in procedure: no callees */
	int64_t created_ms;
	UT_hash_handle hh_id;        /* dealer->by_id */
};

struct reg_member {
	struct registration *reg;
	struct session *session;
	bool disclose_caller;        /* REGISTER.Options.disclose_caller */
	bool forward_timeout;        /* REGISTER.Options.forward_timeout */
	bool pending;                /* backplane: REGISTERED not sent yet (the cluster's store
	                                has not confirmed it): not invoked meanwhile */
	struct reg_member *reg_prev, *reg_next; /* in reg->callees */
	struct reg_member *ses_prev, *ses_next; /* in session->regs */
};

/*
 * Completion of an internal call (the router calling a procedure, e.g. a dynamic
 * authenticator): err is WAMPD_OK with the result's args/kwargs (borrowed, may be NULL), or
 * the failure (error_uri is the callee's ERROR URI, or NULL for canceled/timeout/no callee).
 */
typedef void (*dealer_internal_fn)(void *ctx, enum wampd_err err, const char *error_uri,
                                   json_t *args, json_t *kwargs);

struct pending_call {
	uint64_t invocation_id;      /* key in callee->invocations */
	bool internal;               /* called by the router itself (dealer_call_internal) */
	dealer_internal_fn internal_done; /* its completion (NULL once forgotten) */
	void *internal_ctx;
	uint64_t call_id;            /* key in caller->calls (CALL.Request) */
	struct session *caller;      /* NULL once the caller is gone: answers are dropped */
	struct session *callee;
	struct dealer *dealer;
	uint64_t registration_id;
	struct realm_timer *timer;   /* call timeout, or NULL */
	bool caller_progress;        /* the caller asked for progressive results */
	bool invocation_open;        /* progressive invocation: more CALL chunks may come */
	bool interrupted;            /* an INTERRUPT was sent (kill: waiting for the callee) */
	uint64_t started_us;         /* monotonic time of the CALL (latency metric) */
	bool remote;                 /* forwarded to a callee on another node (callee is its
	                                stub; the answer comes back through the backplane) */
	UT_hash_handle hh_callee;
	UT_hash_handle hh_caller;
};

struct dealer {
	struct realm *realm;
	struct registration *by_id;  /* all registrations, key id */
	struct match_index index;    /* by (uri, policy) */
	uint64_t calls;              /* counter for stats */
};

void dealer_init(struct dealer *d, struct realm *r);

/* Free every registration and the index (sessions must have left). */
void dealer_destroy(struct dealer *d);

/*
 * Message handlers: check the session state first, borrow msg, answer on success and
 * return the error to answer with otherwise (they never write ERROR themselves).
 */
enum wampd_err dealer_register(struct dealer *d, struct session *s, const struct wamp_msg *msg);
enum wampd_err dealer_unregister(struct dealer *d, struct session *s,
                                 const struct wamp_msg *msg);
enum wampd_err dealer_call(struct dealer *d, struct session *s, const struct wamp_msg *msg);
enum wampd_err dealer_cancel(struct dealer *d, struct session *s, const struct wamp_msg *msg);
enum wampd_err dealer_yield(struct dealer *d, struct session *s, const struct wamp_msg *msg);
/* ERROR from a callee (REQUEST.Type must be INVOCATION). */
enum wampd_err dealer_error(struct dealer *d, struct session *s, const struct wamp_msg *msg);

/*
 * Session leaving: unregister everything it registered, answer the calls it was serving
 * with ERROR wamp.error.canceled, and give up the calls it made (the callees get INTERRUPT
 * killnowait when they support call canceling; late answers are dropped). Safe outside
 * fan-out only.
 */
void dealer_detach(struct dealer *d, struct session *s);

/*
 * Register a built-in procedure (exact match, not shared). uri is copied.
 * Returns WAMPD_OK, WAMPD_ERR_PROCEDURE_EXISTS or WAMPD_ERR_NOMEM.
 */
enum wampd_err dealer_register_builtin(struct dealer *d, const char *uri, dealer_builtin_fn fn);

/*
 * Router shutdown: every call waiting for a callee of this realm is answered with ERROR
 * wamp.error.canceled now (the callees' late answers are dropped).
 */
void dealer_cancel_all(struct dealer *d);

/*
 * Call `procedure` from the router itself with args/kwargs (borrowed). done(ctx, ...) runs
 * exactly once, later, from the event loop or a message dispatch: never inside this call.
 * timeout_ms bounds the wait (0: none). *handle lets the caller forget the call
 * (dealer_forget_internal) if ctx goes away first. Returns WAMPD_OK, or an error (no such
 * procedure, NOMEM) and then done is never called.
 */
enum wampd_err dealer_call_internal(struct dealer *d, const char *procedure, json_t *args,
                                    json_t *kwargs, uint32_t timeout_ms, dealer_internal_fn done,
                                    void *ctx, struct pending_call **handle);

/* The caller of an internal call is gone: done will not be called. */
void dealer_forget_internal(struct pending_call *pc);

/*
 * Remove callee s from registration reg (administrative revocation). The callee gets
 * UNREGISTERED [67, 0, {registration, reason}] when it announced registration_revocation.
 * The registration is deleted when it was the last callee.
 */
void dealer_revoke(struct dealer *d, struct registration *reg, struct session *s,
                   const char *reason);

/* ---- backplane (realm/backplane.c) ---- */

/* A CALL forwarded from another node: run it on local callee `callee` of registration
 * `registration` for `stub` (the remote caller; az: what the caller's node decided:
 * disclosure, trust level), or continue the progressive call it belongs to. Returns the
 * error to answer stub with. */
enum wampd_err dealer_call_forwarded(struct dealer *d, struct session *stub,
                                     const struct wamp_msg *msg, uint64_t registration,
                                     uint64_t callee, const struct authz_decision *az);

/* Answer bytes for local caller s's forwarded call call_id: sent as they are; the call is
 * over unless `more` (progressive result). */
void dealer_forwarded_answer(struct dealer *d, struct session *s, uint64_t call_id,
                             struct wamp_out *out, bool more);

/* The cluster confirmed (dealer_registered: REGISTERED and meta events now) or refused
 * (dealer_refused: ERROR procedure_already_exists, or revocation if it was confirmed
 * before) s's membership in reg for REGISTER request. */
void dealer_registered(struct dealer *d, struct registration *reg, struct session *s,
                       uint64_t request, bool created);
void dealer_refused(struct dealer *d, struct registration *reg, struct session *s,
                    uint64_t request);

/* The calls stub (a remote caller) made here are dropped; their callees get INTERRUPT. */
void dealer_drop_calls(struct dealer *d, struct session *s);

/* Forget stub (its node is gone): calls forwarded to it get wamp.error.canceled, calls it
 * made here are dropped, its registrations memberships removed. */
void dealer_forget_stub(struct dealer *d, struct session *stub);

/*
 * Mirror the cluster's state of registration (uri, policy): `callees` is the JSON list of
 * members in registration order (NULL or empty: none). Members on other nodes become stub
 * members (get_stub(arg, member) finds or makes the stub); this node's own members are
 * kept as they are and ordered as listed. No meta events (the owning node publishes them).
 */
void dealer_mirror(struct dealer *d, const char *uri, enum match_policy policy,
                   enum invoke_policy invoke, const json_t *callees, const char *self,
                   struct session *(*get_stub)(void *arg, const json_t *member), void *arg);

/* WELCOME.Details.roles.dealer.features: what this dealer implements (new reference). */
json_t *dealer_features(void);

struct registration *dealer_registration(struct dealer *d, uint64_t id);

/* Parse "single"... (NULL means single). false if unknown. */
bool invoke_policy_parse(const char *name, enum invoke_policy *out);
const char *invoke_policy_name(enum invoke_policy policy);

#endif
