/*
 * dealer.c - RPC routing (see dealer.h for the data structures).
 *
 * Routing a CALL: best match in the index (exact, longest prefix, wildcard precedence),
 * then a callee by the registration's invoke policy:
 *   single/first: the first registered callee; last: the last one;
 *   roundrobin: a cursor (rr_next) that advances one member per call and is moved on
 *     when its member is removed, so removal while rotating never skips or repeats;
 *   random: a uniform draw (libsodium) among the members.
 * Callees that are closing are skipped. So are detached ones (resumable sessions that lost
 * their link, docs/resumption.md) while any member is attached: each policy chooses among
 * the attached members as it would among all (first/last: the first/last attached one;
 * roundrobin: the next attached one from the cursor, a skipped member keeping its place;
 * random: uniform among the attached ones, see dealer_pick_random). Only when every member
 * is detached does the call go to one (the one the policy names among them), where it
 * waits in its replay log for it to resume, bounded by the call's timeout: a single
 * registration's call does the same. At most one pass over the members (random: two more
 * when its draw falls on one that cannot take the call), one flag per candidate, nothing
 * allocated; with every member attached, the first candidate is taken as before. The
 * choice is made once, when the call is routed: invocations a callee already has when it
 * detaches stay with it (they are in its log, and it answers them when it
 * resumes, or they fail with it when its window passes); moving them to another callee
 * could run a call twice, which resumption exists to rule out. The same holds for the
 * chunks of a progressive call and for a cancel: they follow the invocation.
 *
 * Answers for calls the dealer no longer tracks: INVOCATION.Request ids are sequential per
 * callee, so an id the dealer issued before (<= last_out_request) is a late answer and is
 * dropped, while an id it never issued is a protocol violation.
 *
 * Cancel (CANCEL, timeout, caller leaving) follows advanced/rpc_call_canceling.md:
 *   skip       ERROR to the caller now; the callee is not told; its answer is dropped.
 *   killnowait INTERRUPT to the callee and ERROR to the caller now; answers dropped.
 *   kill       INTERRUPT to the callee; its answer (RESULT or ERROR) goes to the caller.
 * A callee that did not announce call_canceling is treated as skip.
 */
#include "realm/dealer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "realm/backplane.h"
#include "realm/meta.h"
#include "realm/realm.h"
#include "realm/replay.h"

bool invoke_policy_parse(const char *name, enum invoke_policy *out)
{
	static const char *const names[] = {"single", "roundrobin", "random", "first", "last"};

	if (!name) {
		*out = INVOKE_SINGLE;
		return true;
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum invoke_policy)i;
			return true;
		}
	}
	return false;
}

const char *invoke_policy_name(enum invoke_policy policy)
{
	static const char *const names[] = {"single", "roundrobin", "random", "first", "last"};

	return (unsigned)policy < 5 ? names[policy] : "single";
}

json_t *dealer_features(void)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
	                 "progressive_call_results", 1, "progressive_call_invocations", 1,
	                 "call_canceling", 1, "call_timeout", 1, "caller_identification", 1,
	                 "call_trustlevels", 1,
	                 "pattern_based_registration", 1, "shared_registration", 1,
	                 "registration_revocation", 1, "payload_passthru_mode", 1,
	                 "registration_meta_api", 1, "session_meta_api", 1,
	                 "testament_meta_api", 1);
}

void dealer_init(struct dealer *d, struct realm *r)
{
	memset(d, 0, sizeof(*d));
	d->realm = r;
	match_init(&d->index);
}

static void registration_free(struct dealer *d, struct registration *reg)
{
	HASH_DELETE(hh_id, d->by_id, reg);
	match_delete(&d->index, &reg->item);
	free(reg->item.uri);
	free(reg);
}

void dealer_destroy(struct dealer *d)
{
	struct registration *reg, *tmp;

	HASH_ITER(hh_id, d->by_id, reg, tmp) {
		struct reg_member *m, *mt;

		DL_FOREACH_SAFE2(reg->callees, m, mt, reg_next) {
			DL_DELETE2(m->session->regs, m, ses_prev, ses_next);
			m->session->nregs--;
			free(m);
		}
		registration_free(d, reg);
	}
	match_destroy(&d->index);
}

struct registration *dealer_registration(struct dealer *d, uint64_t id)
{
	struct registration *reg = NULL;

	HASH_FIND(hh_id, d->by_id, &id, sizeof(id), reg);
	return reg;
}

static struct reg_member *dealer_member(struct registration *reg, struct session *s)
{
	struct reg_member *m;

	if (s->nregs <= reg->count) {
		DL_FOREACH2(s->regs, m, ses_next)
			if (m->reg == reg)
				return m;
	} else {
		DL_FOREACH2(reg->callees, m, reg_next)
			if (m->session == s)
				return m;
	}
	return NULL;
}

static bool dealer_id_taken(void *arg, uint64_t id)
{
	return dealer_registration(arg, id) != NULL;
}

static struct registration *registration_new(struct dealer *d, const char *uri, size_t len,
                                             enum match_policy match, enum invoke_policy invoke)
{
	struct registration *reg = calloc(1, sizeof(*reg));

	if (!reg || !(reg->item.uri = malloc(len + 1)))
		goto fail;
	memcpy(reg->item.uri, uri, len);
	reg->item.uri[len] = '\0';
	reg->item.uri_len = len;
	reg->item.policy = match;
	if (!match_insert(&d->index, &reg->item))
		goto fail;
	reg->invoke = invoke;
	reg->id = realm_new_item_id(d->realm, 'r', uri, len, match, dealer_id_taken, d);
	reg->created_ms = clock_wall_ms();
	HASH_ADD(hh_id, d->by_id, id, sizeof(reg->id), reg);
	return reg;
fail:
	if (reg)
		free(reg->item.uri);
	free(reg);
	return NULL;
}

/* Unlink m from both lists; frees the registration when it was the last callee. */
static void dealer_remove_member(struct dealer *d, struct reg_member *m)
{
	struct registration *reg = m->reg;
	struct session *s = m->session;
	bool last, stub = backplane_node_of(s) != NULL, pending = m->pending;

	if (reg->rr_next == m)
		reg->rr_next = m->reg_next; /* NULL: wraps to the head on the next call */
	DL_DELETE2(reg->callees, m, reg_prev, reg_next);
	reg->count--;
	DL_DELETE2(s->regs, m, ses_prev, ses_next);
	s->nregs--;
	free(m);
	last = reg->count == 0;
	if (stub) { /* a mirrored remote callee: its own node announces the change */
		if (last)
			registration_free(d, reg);
		return;
	}
	if (d->realm->owner->bp)
		backplane_reg_member(d->realm, reg, s, false, false, false, 0, false);
	if (pending) { /* never announced: no meta events */
		if (last)
			registration_free(d, reg);
		return;
	}
	meta_registration(d->realm, META_UNREGISTER, s, reg);
	if (last) {
		uint64_t id = reg->id;

		registration_free(d, reg);
		meta_registration_deleted(d->realm, s, id); /* gone for the procedures first */
	}
}

/* Could a registration of this pattern receive calls to a URI of the reserved "wamp."
 * namespace? Then it is refused, in every match policy: a prefix "wam" or a wildcard
 * ".session.x" would otherwise catch calls to wamp.* procedures the router does not
 * define (its own are exact registrations, which take precedence) and read their
 * arguments. */
static bool dealer_pattern_reserved(const char *uri, size_t len, enum match_policy match)
{
	return authz_pattern_intersects(uri, len, (enum authz_match)match, "wamp.", 5,
	                                AUTHZ_PREFIX);
}

enum wampd_err dealer_register(struct dealer *d, struct session *s, const struct wamp_msg *msg)
{
	struct registration *reg;
	struct reg_member *m;
	enum match_policy match;
	enum invoke_policy invoke;
	struct authz_decision az;
	enum wampd_err err;
	bool created = false;

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (!match_policy_parse(wamp_dict_str(msg->dict, "match", NULL), &match) ||
	    !invoke_policy_parse(wamp_dict_str(msg->dict, "invoke", NULL), &invoke))
		return WAMPD_ERR_OPTION_NOT_ALLOWED;
	if (!uri_valid(msg->uri, msg->uri_len, d->realm->uri_rule,
	               match == MATCH_EXACT ? 0 : URI_ALLOW_EMPTY) ||
	    dealer_pattern_reserved(msg->uri, msg->uri_len, match))
		return WAMPD_ERR_INVALID_URI;
	/* with its match policy: a pattern must be allowed on everything it can reach */
	if ((err = realm_authorize(d->realm, s, msg->uri, msg->uri_len, match, msg->dict,
	                           AUTHZ_REGISTER, &az)) != WAMPD_OK)
		return err;

	reg = (struct registration *)match_get(&d->index, msg->uri, msg->uri_len, match);
	if (reg) {
		/* shared registration: same policy, and not single; never twice per callee */
		if (reg->builtin || reg->invoke == INVOKE_SINGLE || reg->invoke != invoke ||
		    dealer_member(reg, s))
			return WAMPD_ERR_PROCEDURE_EXISTS;
	}
	if (s->nregs >= d->realm->owner->limits.max_registrations_per_session)
		return WAMPD_ERR_LIMIT;
	if (!reg) {
		if (!(reg = registration_new(d, msg->uri, msg->uri_len, match, invoke)))
			return WAMPD_ERR_NOMEM;
		created = true;
	}
	if (!(m = calloc(1, sizeof(*m)))) {
		if (created)
			registration_free(d, reg);
		return WAMPD_ERR_NOMEM;
	}
	m->reg = reg;
	m->session = s;
	m->disclose_caller = wamp_dict_bool(msg->dict, "disclose_caller", false);
	m->forward_timeout = wamp_dict_bool(msg->dict, "forward_timeout", false);
	DL_APPEND2(reg->callees, m, reg_prev, reg_next);
	reg->count++;
	DL_APPEND2(s->regs, m, ses_prev, ses_next);
	s->nregs++;

	if (backplane_online(d->realm->owner)) {
		/* REGISTERED once the cluster's store has it (another node may hold it) */
		m->pending = true;
		backplane_reg_member(d->realm, reg, s, m->disclose_caller, m->forward_timeout, true,
		                     msg->id[0], created);
		return WAMPD_OK;
	}
	if (d->realm->owner->bp) /* offline: announced when the backplane is back */
		backplane_reg_member(d->realm, reg, s, m->disclose_caller, m->forward_timeout, true,
		                     0, false);
	dealer_registered(d, reg, s, msg->id[0], created);
	return WAMPD_OK;
}

void dealer_registered(struct dealer *d, struct registration *reg, struct session *s,
                       uint64_t request, bool created)
{
	struct wamp_msg reply = {.type = WAMP_REGISTERED, .id = {request, reg->id}};
	struct reg_member *m = dealer_member(reg, s);

	if (!m)
		return;
	m->pending = false;
	session_send_msg(s, &reply);
	if (created)
		meta_registration(d->realm, META_CREATE, s, reg);
	meta_registration(d->realm, META_REGISTER, s, reg);
}

void dealer_refused(struct dealer *d, struct registration *reg, struct session *s,
                    uint64_t request)
{
	struct reg_member *m = dealer_member(reg, s);

	if (!m)
		return;
	if (!m->pending) { /* announced again after a reconnect, and taken meanwhile */
		dealer_revoke(d, reg, s, "wamp.error.procedure_already_exists");
		return;
	}
	dealer_remove_member(d, m);
	session_fail(s, WAMP_REGISTER, request, WAMPD_ERR_PROCEDURE_EXISTS,
	             "the procedure is registered on another node of the cluster");
}

enum wampd_err dealer_unregister(struct dealer *d, struct session *s,
                                 const struct wamp_msg *msg)
{
	struct registration *reg;
	struct reg_member *m;
	struct wamp_msg reply = {.type = WAMP_UNREGISTERED};

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	reg = dealer_registration(d, msg->id[1]);
	if (!reg || !(m = dealer_member(reg, s)))
		return WAMPD_ERR_NO_SUCH_REGISTRATION;
	reply.id[0] = msg->id[0];
	session_send_msg(s, &reply);
	dealer_remove_member(d, m);
	return WAMPD_OK;
}

void dealer_revoke(struct dealer *d, struct registration *reg, struct session *s,
                   const char *reason)
{
	struct reg_member *m = dealer_member(reg, s);

	if (!m)
		return;
	if (s->features & SF_CALLEE_REGISTRATION_REVOCATION) {
		struct wamp_msg msg = {.type = WAMP_UNREGISTERED, .id = {0}};

		msg.dict = json_pack("{s:I, s:s}", "registration", (json_int_t)reg->id, "reason",
		                     reason ? reason : "wamp.error.revoked");
		session_send_msg(s, &msg);
		json_decref(msg.dict);
	}
	dealer_remove_member(d, m);
}

enum wampd_err dealer_register_builtin(struct dealer *d, const char *uri, dealer_builtin_fn fn)
{
	struct registration *reg;

	if (match_get(&d->index, uri, strlen(uri), MATCH_EXACT))
		return WAMPD_ERR_PROCEDURE_EXISTS;
	if (!(reg = registration_new(d, uri, strlen(uri), MATCH_EXACT, INVOKE_SINGLE)))
		return WAMPD_ERR_NOMEM;
	reg->builtin = fn;
	return WAMPD_OK;
}

/* ---------------------------------------------------------------------------------- */
/* pending calls                                                                        */

/* Forget a pending call in both tables, stop its timer and free it. */
static void pending_call_free(struct pending_call *pc)
{
	struct realms *rs = pc->dealer->realm->owner;

	if (pc->timer && rs->timers.cancel)
		rs->timers.cancel(rs->timers.ctx, pc->timer);
	HASH_DELETE(hh_callee, pc->callee->invocations, pc);
	if (pc->caller) {
		HASH_DELETE(hh_caller, pc->caller->calls, pc);
		pc->caller->ncalls--;
	}
	rs->metrics->pending_calls--;
	free(pc);
}

/* The caller is gone or no longer waits: keep the call on the callee side only. */
static void pending_call_drop_caller(struct pending_call *pc)
{
	if (!pc->caller)
		return;
	HASH_DELETE(hh_caller, pc->caller->calls, pc);
	pc->caller->ncalls--;
	pc->caller = NULL;
	pc->invocation_open = false;
}

static void dealer_interrupt(struct pending_call *pc, const char *mode, const char *reason)
{
	struct wamp_msg msg = {.type = WAMP_INTERRUPT, .id = {pc->invocation_id}};

	msg.dict = reason ? json_pack("{s:s, s:s}", "mode", mode, "reason", reason)
	                  : json_pack("{s:s}", "mode", mode);
	session_send_msg(pc->callee, &msg);
	json_decref(msg.dict);
	pc->interrupted = true;
}

/*
 * Cancel pc in `mode` ("skip", "kill", "killnowait") answering the caller with `err`
 * (unless kill, where the callee's answer does). Callees without call_canceling: skip.
 */
static void dealer_cancel_call(struct pending_call *pc, const char *mode, enum wampd_err err,
                               const char *why)
{
	bool can_interrupt = pc->callee->features & SF_CALLEE_CALL_CANCELING;

	if (!can_interrupt || !strcmp(mode, "skip")) {
		if (pc->caller)
			session_fail(pc->caller, WAMP_CALL, pc->call_id, err, why);
		pending_call_drop_caller(pc);
		return;
	}
	if (!strcmp(mode, "kill")) {
		if (!pc->interrupted)
			dealer_interrupt(pc, "kill", err == WAMPD_ERR_TIMEOUT ? wampd_err_uri(err) : NULL);
		return;
	}
	/* killnowait */
	if (!pc->interrupted)
		dealer_interrupt(pc, "killnowait", err == WAMPD_ERR_TIMEOUT ? wampd_err_uri(err) : NULL);
	if (pc->caller)
		session_fail(pc->caller, WAMP_CALL, pc->call_id, err, why);
	pending_call_drop_caller(pc);
}

/* Finish an internal call: report to its owner (once) and free it. */
static void dealer_finish_internal(struct pending_call *pc, enum wampd_err err,
                                   const char *error_uri, json_t *args, json_t *kwargs)
{
	dealer_internal_fn done = pc->internal_done;
	void *ctx = pc->internal_ctx;

	pc->internal_done = NULL;
	pending_call_free(pc);
	if (done)
		done(ctx, err, error_uri, args, kwargs);
}

static void dealer_call_timeout(void *arg)
{
	struct pending_call *pc = arg;

	pc->timer = NULL; /* fired: the handle is gone */
	if (pc->internal) {
		if (pc->callee->features & SF_CALLEE_CALL_CANCELING)
			dealer_interrupt(pc, "killnowait", wampd_err_uri(WAMPD_ERR_TIMEOUT));
		dealer_finish_internal(pc, WAMPD_ERR_TIMEOUT, NULL, NULL, NULL);
		return;
	}
	wlog_debug("dealer", "call timed out caller=%llu request=%llu callee=%llu",
	           pc->caller ? (unsigned long long)pc->caller->id : 0ULL,
	           (unsigned long long)pc->call_id, (unsigned long long)pc->callee->id);
	dealer_cancel_call(pc, "killnowait", WAMPD_ERR_TIMEOUT, "the call timed out");
}

/* m can be invoked: its session is reachable and the cluster confirmed its REGISTER. */
static inline bool member_routable(const struct reg_member *m)
{
	return !m->pending && session_routable(m->session);
}

/* Is m's session attached to a transport? A detached resumable session (realm/replay.h)
 * gets what it is sent only when it resumes. One test for a session that is not
 * resumable. */
static inline bool member_attached(const struct reg_member *m)
{
	return !m->session->resume || !replay_detached(m->session);
}

/*
 * Among reg's members, from `start` on (backwards for "last", forwards wrapping otherwise;
 * each member once): the first reachable attached one, else the first reachable one (all
 * detached: the call waits in that one's log, as a single registration's does), else NULL.
 * One pass, nothing allocated.
 */
static struct reg_member *dealer_scan(const struct registration *reg, struct reg_member *start,
                                      bool backward)
{
	struct reg_member *m = start, *detached = NULL;

	for (uint32_t n = 0; m && n < reg->count; n++) {
		if (member_routable(m)) {
			if (member_attached(m))
				return m;
			if (!detached)
				detached = m;
		}
		/* utlist: the head's reg_prev is the tail, so backwards wraps as well */
		m = backward ? m->reg_prev : m->reg_next ? m->reg_next : reg->callees;
	}
	return detached;
}

/*
 * random: a uniform draw among the members; when it falls on one that cannot take the
 * call now (detached, closing), a second uniform draw among those that can (counted in one
 * pass), so that each of the c attached reachable members of n gets the call with
 * probability 1/n + (n - c)/n * 1/c = 1/c (the member after a detached one would get
 * twice its share if the first draw just moved on to the next one). With none, the first
 * reachable one from the draw (all detached: the call waits for it).
 */
static struct reg_member *dealer_pick_random(struct dealer *d, struct registration *reg)
{
	struct reg_member *m, *drawn;
	uint32_t k, c = 0;

	if (!reg->count)
		return NULL;
	k = ids_uniform(d->realm->owner->ids, reg->count);
	for (drawn = reg->callees; k--; drawn = drawn->reg_next)
		;
	if (member_routable(drawn) && member_attached(drawn))
		return drawn; /* the usual case: one draw, one test */
	DL_FOREACH2(reg->callees, m, reg_next)
		c += member_routable(m) && member_attached(m);
	if (!c)
		return dealer_scan(reg, drawn, false);
	k = ids_uniform(d->realm->owner->ids, c);
	DL_FOREACH2(reg->callees, m, reg_next)
		if (member_routable(m) && member_attached(m) && !k--)
			break;
	return m;
}

/*
 * The callee that gets the next invocation of reg, or NULL if none is reachable. Each
 * policy chooses among the members attached to a transport; detached ones (resumable
 * sessions that lost their link) only when no member is attached (dealer_scan).
 */
static struct reg_member *dealer_pick(struct dealer *d, struct registration *reg)
{
	struct reg_member *m;

	switch (reg->invoke) {
	case INVOKE_LAST:
		return dealer_scan(reg, reg->callees ? reg->callees->reg_prev : NULL, true);
	case INVOKE_ROUNDROBIN:
		m = dealer_scan(reg, reg->rr_next ? reg->rr_next : reg->callees, false);
		if (m) /* the members skipped (detached, closing) keep their place in the turn */
			reg->rr_next = m->reg_next ? m->reg_next : reg->callees;
		return m;
	case INVOKE_RANDOM:
		return dealer_pick_random(d, reg);
	case INVOKE_SINGLE:
	case INVOKE_FIRST:
	default:
		return dealer_scan(reg, reg->callees, false);
	}
}

/* The first reachable callee of reg on this node, an attached one if there is one, or
 * NULL. */
static struct reg_member *dealer_pick_local(struct registration *reg)
{
	struct reg_member *m, *detached = NULL;

	DL_FOREACH2(reg->callees, m, reg_next) {
		if (backplane_node_of(m->session) || !member_routable(m))
			continue;
		if (member_attached(m))
			return m;
		if (!detached)
			detached = m;
	}
	return detached;
}

/* Option keys of payload passthru mode, forwarded untouched (advanced/payload_passthru_mode.md). */
static void dealer_copy_ppt(json_t *to, const json_t *from)
{
	static const char *const keys[] = {"ppt_scheme", "ppt_serializer", "ppt_cipher",
	                                   "ppt_keyid"};

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(from, keys[i]);

		if (v)
			json_object_set(to, keys[i], v);
	}
}

/* INVOCATION.Details for one call (new reference, or NULL for {}). */
static json_t *dealer_invocation_details(const struct wamp_msg *call, struct session *caller,
                                         const struct registration *reg,
                                         const struct reg_member *m, const struct pending_call *pc,
                                         int64_t timeout_ms, bool progress,
                                         const struct authz_decision *az)
{
	json_t *d = NULL;

#define DETAILS() (d ? d : (d = json_object()))
	if (reg->item.policy != MATCH_EXACT)
		json_object_set_new(DETAILS(), "procedure", json_stringn(call->uri, call->uri_len));
	if (pc->caller_progress && (m->session->features & SF_CALLEE_PROGRESSIVE_RESULTS))
		json_object_set_new(DETAILS(), "receive_progress", json_true());
	if (progress)
		json_object_set_new(DETAILS(), "progress", json_true());
	if (az->disclose || m->disclose_caller || wamp_dict_bool(call->dict, "disclose_me", false)) {
		json_object_set_new(DETAILS(), "caller", json_integer((json_int_t)caller->id));
		if (caller->authid)
			json_object_set_new(d, "caller_authid", json_string(caller->authid));
		if (caller->authrole)
			json_object_set_new(d, "caller_authrole", json_string(caller->authrole));
	}
	if (timeout_ms > 0 && m->forward_timeout)
		json_object_set_new(DETAILS(), "timeout", json_integer(timeout_ms));
	if (az->trustlevel >= 0)
		json_object_set_new(DETAILS(), "trustlevel", json_integer(az->trustlevel));
	if (call->dict && json_object_get(call->dict, "ppt_scheme"))
		dealer_copy_ppt(DETAILS(), call->dict);
#undef DETAILS
	return d;
}

/* CALL answered by a built-in procedure. */
static enum wampd_err dealer_call_builtin(struct dealer *d, struct session *s,
                                          const struct wamp_msg *msg, struct registration *reg)
{
	json_t *args, *kwargs, *res_args = NULL, *res_kwargs = NULL;
	const char *message = NULL;
	char why[DEALER_BUILTIN_WHY];
	enum wampd_err err = WAMPD_OK;
	struct wamp_msg result = {.type = WAMP_RESULT, .id = {msg->id[0]}};
	bool deferred = false;

	args = wamp_payload_args(&msg->payload, &err);
	if (err == WAMPD_OK)
		kwargs = wamp_payload_kwargs(&msg->payload, &err);
	else
		kwargs = NULL;
	if (err != WAMPD_OK)
		err = WAMPD_ERR_INVALID_ARGUMENT;
	else if (backplane_online(d->realm->owner) && meta_cluster_wide_in(d->realm, reg->item.uri))
		deferred = (err = backplane_meta_query(d->realm, s, msg->id[0], reg->item.uri, args,
		                                       kwargs)) == WAMPD_OK; /* answered later */
	else
		err = reg->builtin(d->realm, s, args, kwargs, &res_args, &res_kwargs, &message,
		                   why);
	if (deferred) {
		/* the nodes' answers are merged and sent by the backplane */
	} else if (err == WAMPD_OK) {
		result.payload.args_v = res_args;
		result.payload.kwargs_v = res_kwargs;
		session_send_msg(s, &result);
	} else if (message) {
		session_fail(s, WAMP_CALL, msg->id[0], err, message);
		err = WAMPD_OK; /* answered here, with the procedure's own message */
	}
	json_decref(args);
	json_decref(kwargs);
	json_decref(res_args);
	json_decref(res_kwargs);
	return err;
}

/* A CALL chunk continuing a progressive invocation. */
static enum wampd_err dealer_call_continue(struct pending_call *pc, const struct wamp_msg *msg)
{
	bool progress = wamp_dict_bool(msg->dict, "progress", false);
	struct wamp_msg inv = {.type = WAMP_INVOCATION, .id = {pc->invocation_id, pc->registration_id}};
	enum wampd_err err;

	if (pc->remote) {
		pc->invocation_open = progress;
		return backplane_call(pc->dealer->realm, pc->caller, pc->callee, pc->registration_id,
		                      msg, msg->dict, NULL);
	}
	if (progress)
		inv.dict = json_pack("{s:b}", "progress", 1);
	inv.payload = msg->payload;
	err = session_send_msg(pc->callee, &inv);
	json_decref(inv.dict);
	pc->invocation_open = progress;
	return err == WAMPD_ERR_LIMIT ? WAMPD_OK : err;
}

static enum wampd_err dealer_invoke(struct dealer *d, struct session *s,
                                    const struct wamp_msg *msg, struct registration *reg,
                                    struct reg_member *m, bool progress,
                                    const struct authz_decision *az);

enum wampd_err dealer_call(struct dealer *d, struct session *s, const struct wamp_msg *msg)
{
	struct registration *reg;
	struct reg_member *m;
	struct pending_call *pc = NULL;
	struct authz_decision az;
	enum wampd_err err;
	uint64_t call_id = msg->id[0];
	bool progress = wamp_dict_bool(msg->dict, "progress", false);

	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;

	HASH_FIND(hh_caller, s->calls, &call_id, sizeof(call_id), pc);
	if (pc) {
		if (pc->invocation_open)
			return dealer_call_continue(pc, msg);
		return WAMPD_ERR_PROTOCOL; /* request id reused while the call is pending */
	}
	if (!uri_valid(msg->uri, msg->uri_len, d->realm->uri_rule, 0))
		return WAMPD_ERR_INVALID_URI;
	if ((err = realm_authorize(d->realm, s, msg->uri, msg->uri_len, MATCH_EXACT, msg->dict,
	                           AUTHZ_CALL, &az)) != WAMPD_OK)
		return err;
	if (d->realm->owner->bp) {
		backplane_drain(d->realm->owner); /* registration changes already received */
		if (!session_routable(s))
			return WAMPD_OK; /* closed meanwhile (a cluster meta kill) */
		if (!match_best(&d->index, msg->uri, msg->uri_len) &&
		    (err = backplane_lookup(d->realm, s, msg->uri, msg->uri_len)) != WAMPD_OK)
			return err; /* WAMPD_ERR_AUTHZ_PENDING: retried once the store answered */
	}
	if (s->features & SF_CALLER_PROGRESSIVE_INVOCATIONS) {
		/* a continuation of a progressive call that has completed meanwhile: discard */
		if (call_id <= s->call_watermark)
			return WAMPD_OK;
	} else if (progress) {
		return WAMPD_ERR_PROTOCOL; /* progress without announcing the feature */
	}

	reg = (struct registration *)match_best(&d->index, msg->uri, msg->uri_len);
	/* a meta procedure may wait for an authorizer (a testament's publish): the CALL is
	 * then replayed whole, so nothing of it may be recorded yet */
	err = reg && reg->builtin ? dealer_call_builtin(d, s, msg, reg) : WAMPD_OK;
	if (err == WAMPD_ERR_AUTHZ_PENDING)
		return err;
	if (s->features & SF_CALLER_PROGRESSIVE_INVOCATIONS)
		s->call_watermark = call_id;
	if (!reg)
		return WAMPD_ERR_NO_SUCH_PROCEDURE;
	if (reg->builtin)
		return err;
	if (!(m = dealer_pick(d, reg)))
		return WAMPD_ERR_NO_AVAILABLE_CALLEE;
	return dealer_invoke(d, s, msg, reg, m, progress, &az);
}

/*
 * A pending call of `callee` on registration `reg`, with an INVOCATION id that the callee
 * has no other invocation under (ids are per session and wrap, so a long-lived callee
 * could otherwise see an id it still owes an answer for). Zeroed otherwise; not yet in any
 * table. NULL: out of memory.
 */
static struct pending_call *pending_call_new(struct dealer *d, const struct registration *reg,
                                             struct session *callee)
{
	struct pending_call *pc = calloc(1, sizeof(*pc)), *dup;

	if (!pc)
		return NULL;
	do {
		dup = NULL;
		pc->invocation_id = ids_next(&callee->last_out_request);
		HASH_FIND(hh_callee, callee->invocations, &pc->invocation_id,
		          sizeof(pc->invocation_id), dup);
	} while (dup);
	pc->callee = callee;
	pc->dealer = d;
	pc->registration_id = reg->id;
	return pc;
}

/* Route s's CALL msg to callee m of reg: INVOCATION to a local callee, or forwarded to
 * the node of a remote one. */
static enum wampd_err dealer_invoke(struct dealer *d, struct session *s,
                                    const struct wamp_msg *msg, struct registration *reg,
                                    struct reg_member *m, bool progress,
                                    const struct authz_decision *az)
{
	struct pending_call *pc;
	struct wamp_msg inv = {.type = WAMP_INVOCATION};
	struct realms *rs = d->realm->owner;
	enum wampd_err err;
	uint64_t call_id = msg->id[0];
	int64_t timeout_ms;

	if (progress && !(m->session->features & SF_CALLEE_PROGRESSIVE_INVOCATIONS))
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
	if (s->ncalls >= rs->limits.max_pending_calls_per_session)
		return WAMPD_ERR_LIMIT;
	/* a callee that stops answering cannot make the router hold calls without bound */
	if (HASH_CNT(hh_callee, m->session->invocations) >= rs->limits.max_pending_calls_per_callee)
		return WAMPD_ERR_LIMIT;

	if (!(pc = pending_call_new(d, reg, m->session)))
		return WAMPD_ERR_NOMEM;
	pc->call_id = call_id;
	pc->caller = s;
	pc->caller_progress = wamp_dict_bool(msg->dict, "receive_progress", false) &&
	                      (s->features & SF_CALLER_PROGRESSIVE_RESULTS);
	pc->invocation_open = progress;
	HASH_ADD(hh_callee, pc->callee->invocations, invocation_id, sizeof(pc->invocation_id), pc);
	HASH_ADD(hh_caller, s->calls, call_id, sizeof(pc->call_id), pc);
	s->ncalls++;
	d->calls++;
	d->realm->owner->metrics->pending_calls++;
	pc->started_us = metrics_now_us();

	timeout_ms = wamp_dict_int(msg->dict, "timeout", 0);
	if (timeout_ms <= 0)
		timeout_ms = d->realm->call_timeout_ms;
	if (backplane_node_of(m->session)) {
		/* the callee's node runs the call (and its timeout); its answers come back */
		json_t *opts = NULL;

		pc->remote = true;
		if (timeout_ms > 0 && wamp_dict_int(msg->dict, "timeout", 0) <= 0) {
			opts = msg->dict ? json_copy(msg->dict) : json_object();
			if (opts)
				json_object_set_new(opts, "timeout", json_integer(timeout_ms));
		}
		err = backplane_call(d->realm, s, m->session, reg->id, msg, opts ? opts : msg->dict,
		                     az);
		json_decref(opts);
		if (err != WAMPD_OK)
			pending_call_free(pc);
		return err;
	}
	if (timeout_ms > 0 && !m->forward_timeout && rs->timers.start) {
		pc->timer = rs->timers.start(rs->timers.ctx,
		                             (uint32_t)(timeout_ms > UINT32_MAX ? UINT32_MAX : timeout_ms),
		                             dealer_call_timeout, pc);
	}

	inv.id[0] = pc->invocation_id;
	inv.id[1] = reg->id;
	inv.dict = dealer_invocation_details(msg, s, reg, m, pc, timeout_ms, progress, az);
	inv.payload = msg->payload;
	err = session_send_msg(pc->callee, &inv);
	json_decref(inv.dict);
	if (err != WAMPD_OK && err != WAMPD_ERR_LIMIT) {
		/* not encodable for the callee: nothing was sent, answer the caller */
		pending_call_free(pc);
		return err;
	}
	/* WAMPD_ERR_LIMIT: the callee is being closed; its detach cancels this call */
	return WAMPD_OK;
}

enum wampd_err dealer_call_internal(struct dealer *d, const char *procedure, json_t *args,
                                    json_t *kwargs, uint32_t timeout_ms, dealer_internal_fn done,
                                    void *ctx, struct pending_call **handle)
{
	struct registration *reg = (struct registration *)match_best(&d->index, procedure,
	                                                             strlen(procedure));
	struct realms *rs = d->realm->owner;
	struct wamp_msg inv = {.type = WAMP_INVOCATION};
	struct reg_member *m;
	struct pending_call *pc;

	if (!reg || reg->builtin)
		return WAMPD_ERR_NO_SUCH_PROCEDURE;
	if ((m = dealer_pick(d, reg)) && backplane_node_of(m->session))
		m = dealer_pick_local(reg); /* the router's own calls stay on this node */
	if (!m)
		return WAMPD_ERR_NO_AVAILABLE_CALLEE;
	if (!(pc = pending_call_new(d, reg, m->session)))
		return WAMPD_ERR_NOMEM;
	pc->internal = true;
	pc->internal_done = done;
	pc->internal_ctx = ctx;
	HASH_ADD(hh_callee, pc->callee->invocations, invocation_id, sizeof(pc->invocation_id), pc);
	rs->metrics->pending_calls++;
	if (timeout_ms && rs->timers.start)
		pc->timer = rs->timers.start(rs->timers.ctx, timeout_ms, dealer_call_timeout, pc);
	inv.id[0] = pc->invocation_id;
	inv.id[1] = reg->id;
	if (reg->item.policy != MATCH_EXACT)
		inv.dict = json_pack("{s:s}", "procedure", procedure);
	inv.payload.args_v = args;
	inv.payload.kwargs_v = kwargs;
	session_send_msg(pc->callee, &inv);
	json_decref(inv.dict);
	if (handle)
		*handle = pc;
	return WAMPD_OK;
}

/*
 * Answer pc's caller (or internal owner) with wamp.error.canceled; then free pc (`gone`:
 * the callee is leaving) or keep it on the callee side only (its answer will be dropped).
 */
static void dealer_cancel_for_caller(struct pending_call *pc, const char *why, bool gone)
{
	if (pc->internal) {
		dealer_finish_internal(pc, WAMPD_ERR_CANCELED, NULL, NULL, NULL);
		return;
	}
	if (pc->caller)
		session_fail(pc->caller, WAMP_CALL, pc->call_id, WAMPD_ERR_CANCELED, why);
	if (gone)
		pending_call_free(pc);
	else
		pending_call_drop_caller(pc);
}

void dealer_cancel_all(struct dealer *d)
{
	struct session *s, *stmp;

	HASH_ITER(hh, d->realm->sessions, s, stmp) {
		struct pending_call *pc, *tmp;

		HASH_ITER(hh_callee, s->invocations, pc, tmp)
			dealer_cancel_for_caller(pc, "the router is shutting down", false);
	}
	HASH_ITER(hh, d->realm->remote, s, stmp) { /* calls forwarded to other nodes */
		struct pending_call *pc, *tmp;

		HASH_ITER(hh_callee, s->invocations, pc, tmp)
			dealer_cancel_for_caller(pc, "the router is shutting down", true);
	}
}

void dealer_forget_internal(struct pending_call *pc)
{
	pc->internal_done = NULL; /* the answer is still recognised (internal) and dropped */
}

enum wampd_err dealer_cancel(struct dealer *d, struct session *s, const struct wamp_msg *msg)
{
	struct pending_call *pc = NULL;
	const char *mode = wamp_dict_str(msg->dict, "mode", "killnowait");
	uint64_t call_id = msg->id[0];

	(void)d;
	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (strcmp(mode, "skip") && strcmp(mode, "kill") && strcmp(mode, "killnowait"))
		return WAMPD_ERR_INVALID_ARGUMENT;
	HASH_FIND(hh_caller, s->calls, &call_id, sizeof(call_id), pc);
	if (!pc)
		return WAMPD_OK; /* already answered: nothing to cancel */
	if (pc->remote) { /* the callee's node cancels; its answer comes back */
		backplane_cancel(d->realm, s, pc->callee, call_id, mode);
		return WAMPD_OK;
	}
	dealer_cancel_call(pc, mode, WAMPD_ERR_CANCELED, "the call was canceled");
	return WAMPD_OK;
}

/*
 * The pending call answered by an INVOCATION.Request from callee s, or NULL.
 * *err is WAMPD_OK for a late answer to be dropped, WAMPD_ERR_PROTOCOL for an id never
 * issued.
 */
static struct pending_call *dealer_find_invocation(struct session *s, uint64_t id,
                                                   enum wampd_err *err)
{
	struct pending_call *pc = NULL;

	HASH_FIND(hh_callee, s->invocations, &id, sizeof(id), pc);
	*err = (pc || id <= s->last_out_request) ? WAMPD_OK : WAMPD_ERR_PROTOCOL;
	return pc;
}

enum wampd_err dealer_yield(struct dealer *d, struct session *s, const struct wamp_msg *msg)
{
	struct pending_call *pc;
	enum wampd_err err;
	bool progress = wamp_dict_bool(msg->dict, "progress", false);

	(void)d;
	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (!(pc = dealer_find_invocation(s, msg->id[0], &err)))
		return err;
	if (pc->internal) {
		json_t *args, *kwargs;

		if (progress)
			return WAMPD_OK;
		args = wamp_payload_args(&msg->payload, &err);
		kwargs = err == WAMPD_OK ? wamp_payload_kwargs(&msg->payload, &err) : NULL;
		dealer_finish_internal(pc, err == WAMPD_OK ? WAMPD_OK : WAMPD_ERR_INVALID_ARGUMENT,
		                       NULL, args, kwargs);
		json_decref(args);
		json_decref(kwargs);
		return WAMPD_OK;
	}
	if (progress && !pc->caller_progress)
		return WAMPD_OK; /* the caller did not ask for progressive results: drop the chunk */
	if (pc->caller) {
		struct wamp_msg result = {.type = WAMP_RESULT, .id = {pc->call_id}};

		if (progress)
			result.dict = json_pack("{s:b}", "progress", 1);
		if (msg->dict && json_object_get(msg->dict, "ppt_scheme")) {
			if (!result.dict)
				result.dict = json_object();
			dealer_copy_ppt(result.dict, msg->dict);
		}
		result.payload = msg->payload;
		err = session_send_msg(pc->caller, &result);
		json_decref(result.dict);
		if (err == WAMPD_ERR_SERIALIZATION || err == WAMPD_ERR_NOMEM) {
			session_fail(pc->caller, WAMP_CALL, pc->call_id, err,
			             "the result cannot be converted to the caller's serializer");
			pending_call_drop_caller(pc);
		}
	}
	if (!progress) {
		if (pc->caller)
			metrics_observe(&pc->dealer->realm->owner->metrics->call_latency,
			                metrics_now_us() - pc->started_us);
		pending_call_free(pc);
	}
	return WAMPD_OK;
}

enum wampd_err dealer_error(struct dealer *d, struct session *s, const struct wamp_msg *msg)
{
	struct pending_call *pc;
	enum wampd_err err;

	(void)d;
	if (!session_routable(s))
		return WAMPD_ERR_PROTOCOL;
	if (msg->id[0] != WAMP_INVOCATION)
		return WAMPD_ERR_PROTOCOL; /* clients only answer INVOCATIONs with ERROR */
	if (!(pc = dealer_find_invocation(s, msg->id[1], &err)))
		return err;
	if (pc->internal) {
		json_t *args = wamp_payload_args(&msg->payload, &err);

		dealer_finish_internal(pc, WAMPD_ERR_CANCELED, msg->uri, args, NULL);
		json_decref(args);
		return WAMPD_OK;
	}
	if (pc->caller) {
		struct wamp_msg e = {.type = WAMP_ERROR, .id = {WAMP_CALL, pc->call_id}};

		e.dict = msg->dict;
		e.uri = msg->uri;
		e.uri_len = msg->uri_len;
		e.payload = msg->payload;
		err = session_send_msg(pc->caller, &e);
		if (err == WAMPD_ERR_SERIALIZATION || err == WAMPD_ERR_NOMEM)
			session_fail(pc->caller, WAMP_CALL, pc->call_id, err,
			             "the error cannot be converted to the caller's serializer");
		metrics_observe(&pc->dealer->realm->owner->metrics->call_latency,
		                metrics_now_us() - pc->started_us);
	}
	pending_call_free(pc);
	return WAMPD_OK;
}

void dealer_detach(struct dealer *d, struct session *s)
{
	struct reg_member *m, *mt;
	struct pending_call *pc, *tmp;

	DL_FOREACH_SAFE2(s->regs, m, mt, ses_next)
		dealer_remove_member(d, m);

	/* calls s was serving: their callers get wamp.error.canceled */
	HASH_ITER(hh_callee, s->invocations, pc, tmp)
		dealer_cancel_for_caller(pc, "the callee left before answering", true);

	dealer_drop_calls(d, s);
}

void dealer_drop_calls(struct dealer *d, struct session *s)
{
	struct pending_call *pc, *tmp;

	/* calls s made: the callee is told (INTERRUPT killnowait) and its answer dropped */
	HASH_ITER(hh_caller, s->calls, pc, tmp) {
		if (pc->remote) { /* the callee's node does the same */
			backplane_caller_gone(d->realm, s, pc->callee);
			pending_call_free(pc);
			continue;
		}
		pending_call_drop_caller(pc);
		if (!pc->interrupted && (pc->callee->features & SF_CALLEE_CALL_CANCELING) &&
		    session_routable(pc->callee))
			dealer_interrupt(pc, "killnowait", "wamp.error.canceled");
	}
	s->ncalls = 0;
}

/* ---------------------------------------------------------------------------------- */
/* backplane: calls across nodes, mirrored registrations                                */

enum wampd_err dealer_call_forwarded(struct dealer *d, struct session *stub,
                                     const struct wamp_msg *msg, uint64_t registration,
                                     uint64_t callee, const struct authz_decision *az)
{
	struct pending_call *pc = NULL;
	struct registration *reg;
	struct reg_member *m;
	uint64_t call_id = msg->id[0];
	bool progress = wamp_dict_bool(msg->dict, "progress", false);

	HASH_FIND(hh_caller, stub->calls, &call_id, sizeof(call_id), pc);
	if (pc)
		return pc->invocation_open ? dealer_call_continue(pc, msg) : WAMPD_OK;
	if (call_id <= stub->call_watermark)
		return WAMPD_OK; /* a chunk of a progressive call that is over */
	stub->call_watermark = call_id;
	if (!(reg = dealer_registration(d, registration)) || reg->builtin)
		return WAMPD_ERR_NO_SUCH_PROCEDURE;
	DL_FOREACH2(reg->callees, m, reg_next)
		if (!backplane_node_of(m->session) && m->session->id == callee &&
		    member_routable(m))
			break;
	if (!m) /* the callee left meanwhile: another one of this node, if any */
		m = dealer_pick_local(reg);
	if (!m)
		return WAMPD_ERR_NO_AVAILABLE_CALLEE;
	return dealer_invoke(d, stub, msg, reg, m, progress, az);
}

void dealer_forwarded_answer(struct dealer *d, struct session *s, uint64_t call_id,
                             struct wamp_out *out, bool more)
{
	struct pending_call *pc = NULL;

	(void)d;
	HASH_FIND(hh_caller, s->calls, &call_id, sizeof(call_id), pc);
	if (!pc || !pc->remote)
		return; /* answered, canceled or given up meanwhile: dropped */
	session_send(s, out);
	if (!more)
		pending_call_free(pc);
}

void dealer_forget_stub(struct dealer *d, struct session *stub)
{
	struct pending_call *pc, *tmp;
	struct reg_member *m, *mt;

	HASH_ITER(hh_callee, stub->invocations, pc, tmp)
		dealer_cancel_for_caller(pc, "the callee's router node is gone", true);
	dealer_drop_calls(d, stub);
	DL_FOREACH_SAFE2(stub->regs, m, mt, ses_next)
		dealer_remove_member(d, m);
}

static uint64_t member_session(const json_t *c)
{
	const char *v = json_string_value(json_object_get(c, "session"));

	return v ? strtoull(v, NULL, 10) : 0;
}

/* The listed member of reg standing for entry c (NULL: not a member). */
static struct reg_member *dealer_listed(struct registration *reg, const json_t *c,
                                        const char *self)
{
	const char *node = json_string_value(json_object_get(c, "node")), *on;
	uint64_t id = member_session(c);
	struct reg_member *m;

	if (!node)
		return NULL;
	DL_FOREACH2(reg->callees, m, reg_next)
		if (m->session->id == id &&
		    !strcmp((on = backplane_node_of(m->session)) ? on : self, node))
			return m;
	return NULL;
}

void dealer_mirror(struct dealer *d, const char *uri, enum match_policy policy,
                   enum invoke_policy invoke, const json_t *callees, const char *self,
                   struct session *(*get_stub)(void *arg, const json_t *member), void *arg)
{
	size_t len = strlen(uri), i, n;
	struct registration *reg = (struct registration *)match_get(&d->index, uri, len, policy);
	struct reg_member *m, *mt, **order;
	const json_t *c;

	if (reg && reg->builtin)
		return;
	if (reg) { /* remote members no longer listed */
		DL_FOREACH_SAFE2(reg->callees, m, mt, reg_next) {
			bool listed = false;

			json_array_foreach(callees, i, c)
				if (dealer_listed(reg, c, self) == m)
					listed = true;
			if (backplane_node_of(m->session) && !listed)
				dealer_remove_member(d, m);
		}
		reg = (struct registration *)match_get(&d->index, uri, len, policy);
	}
	json_array_foreach(callees, i, c) { /* listed remote members not yet here */
		const char *node = json_string_value(json_object_get(c, "node"));
		struct session *stub;

		if (!node || !strcmp(node, self) || (reg && dealer_listed(reg, c, self)))
			continue;
		if (!(stub = get_stub(arg, c)))
			continue;
		if (!reg && !(reg = registration_new(d, uri, len, policy, invoke)))
			return;
		if (!(m = calloc(1, sizeof(*m))))
			return;
		m->reg = reg;
		m->session = stub;
		m->disclose_caller = json_is_true(json_object_get(c, "dc"));
		m->forward_timeout = json_is_true(json_object_get(c, "ft"));
		DL_APPEND2(reg->callees, m, reg_prev, reg_next);
		reg->count++;
		DL_APPEND2(stub->regs, m, ses_prev, ses_next);
		stub->nregs++;
	}
	if (!reg || !(order = calloc(reg->count, sizeof(*order))))
		return;
	/* registration order as the store lists it; members not listed yet last */
	n = 0;
	json_array_foreach(callees, i, c) {
		bool seen = false;

		if (!(m = dealer_listed(reg, c, self)))
			continue;
		for (size_t k = 0; k < n; k++)
			seen = seen || order[k] == m;
		if (!seen && n < reg->count)
			order[n++] = m;
	}
	DL_FOREACH2(reg->callees, m, reg_next) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen = seen || order[k] == m;
		if (!seen && n < reg->count)
			order[n++] = m;
	}
	reg->callees = NULL;
	for (size_t k = 0; k < n; k++)
		DL_APPEND2(reg->callees, order[k], reg_prev, reg_next);
	free(order);
}
