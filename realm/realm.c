/*
 * realm.c - the realm registry and session membership (see realm.h).
 *
 * Realms are few and looked up once per HELLO: a uthash table by name. Sessions of a realm
 * are in a uthash table keyed by their global-scope id; ids are random in [1, 2^53] and a
 * new id is redrawn while it collides with a live session of any realm.
 */
#include "realm/realm.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "realm/backplane.h"
#include "realm/meta.h"
#include "realm/replay.h"

void realms_init(struct realms *rs, const struct realm_limits *limits, struct metrics *metrics,
                 struct ids_gen *ids)
{
	memset(rs, 0, sizeof(*rs));
	rs->limits = *limits;
	rs->metrics = metrics;
	rs->ids = ids;
}

static void realm_free(struct realm *r)
{
	broker_destroy(&r->broker);
	dealer_destroy(&r->dealer);
	authz_config_clear(&r->authz);
	free(r->name);
	free(r);
}

void realms_destroy(struct realms *rs)
{
	struct realm *r, *tmp;

	backplane_detach(rs); /* stubs of remote sessions first: they are members here */
	HASH_ITER(hh, rs->by_name, r, tmp) {
		HASH_DEL(rs->by_name, r);
		realm_free(r);
	}
}

struct realm *realms_find(struct realms *rs, const char *name)
{
	struct realm *r = NULL;

	HASH_FIND_STR(rs->by_name, name, r);
	return r;
}

struct realm *realms_add(struct realms *rs, const char *name, enum uri_rule rule)
{
	struct realm *r = realms_find(rs, name);

	if (r)
		return r;
	if (!(r = calloc(1, sizeof(*r))) || !(r->name = strdup(name))) {
		free(r);
		return NULL;
	}
	r->uri_rule = rule;
	r->owner = rs;
	broker_init(&r->broker, r);
	dealer_init(&r->dealer, r);
	if (!r->broker.store || meta_init(r) != WAMPD_OK) {
		realm_free(r);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, rs->by_name, r->name, strlen(r->name), r);
	backplane_realm_added(r);
	return r;
}

uint64_t realms_next_id(struct realms *rs)
{
	return ids_next(&rs->last_router_id);
}

uint64_t realm_new_item_id(struct realm *r, char kind, const char *uri, size_t len,
                           enum match_policy policy, bool (*taken)(void *arg, uint64_t id),
                           void *arg)
{
	uint64_t id;

	if (!r->owner->bp)
		return realms_next_id(r->owner);
	id = backplane_id(kind, uri, len, policy);
	while (taken(arg, id)) /* a hash collision on this node: any free random id */
		id = ids_global(r->owner->ids);
	return id;
}

struct session *realm_session(struct realm *r, uint64_t id)
{
	struct session *s = NULL;

	HASH_FIND(hh, r->sessions, &id, sizeof(id), s);
	return s;
}

static bool realms_session_id_live(struct realms *rs, uint64_t id)
{
	struct realm *r, *tmp;

	HASH_ITER(hh, rs->by_name, r, tmp)
		if (realm_session(r, id))
			return true;
	return false;
}

uint64_t realms_new_session_id(struct realms *rs)
{
	uint64_t id;

	do
		id = ids_global(rs->ids);
	while (realms_session_id_live(rs, id));
	return id;
}

enum wampd_err realm_join(struct realm *r, struct session *s)
{
	if (r->nsessions >= r->owner->limits.max_sessions_per_realm)
		return WAMPD_ERR_SESSION_LIMIT;
	if (!s->id || realms_session_id_live(r->owner, s->id))
		s->id = realms_new_session_id(r->owner);
	s->realm = r;
	s->state = SESSION_ESTABLISHED;
	s->joined_at_ms = clock_wall_ms();
	HASH_ADD(hh, r->sessions, id, sizeof(s->id), s);
	r->nsessions++;
	meta_session_join(r, s);
	wlog_info("realm", "join session=%llu realm=%s authid=%s authrole=%s authmethod=%s "
	          "transport=%s serializer=%s peer=%s", (unsigned long long)s->id, r->name,
	          s->authid ? s->authid : "", s->authrole ? s->authrole : "",
	          s->authmethod ? s->authmethod : "", s->ops->kind ? s->ops->kind : "other",
	          wamp_ser_name(s->ser), s->ops->address(s->peer));
	return WAMPD_OK;
}

void realm_leave(struct session *s)
{
	struct realm *r = s->realm;

	if (!r)
		return;
	if (s->authz_call) {
		dealer_forget_internal(s->authz_call);
		s->authz_call = NULL;
	}
	authz_cache_clear(&s->authz_cache);
	authz_cache_clear(&s->authz_answers);
	/* no longer routable first: the meta events of its detaching (on_unsubscribe of its own
	 * subscription to wamp.subscription.on_unsubscribe, ...) are not sent to s, which has
	 * already been sent GOODBYE */
	if (s->state == SESSION_ESTABLISHED || s->state == SESSION_SHUTTING_DOWN)
		s->state = SESSION_OPEN;
	broker_detach(&r->broker, s);
	dealer_detach(&r->dealer, s);
	meta_session_testaments(r, s); /* after detaching: s does not receive its own */
	HASH_DEL(r->sessions, s);
	r->nsessions--;
	s->realm = NULL;
	meta_session_leave(r, s);
	wlog_info("realm", "leave session=%llu realm=%s authid=%s peer=%s duration_ms=%lld",
	          (unsigned long long)s->id, r->name, s->authid ? s->authid : "",
	          s->ops->address(s->peer), (long long)(clock_wall_ms() - s->joined_at_ms));
	s->id = 0; /* a later session on the same transport gets a new id */
	replay_stop(s, &r->owner->timers); /* not resumable once it has left */
}

json_t *realm_session_details(const struct session *s)
{
	json_t *d = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?}", "session", (json_int_t)s->id,
	                      "authid", s->authid, "authrole", s->authrole, "authmethod",
	                      s->authmethod, "authprovider", s->authprovider);

	json_t *t = d && s->ops->transport ? s->ops->transport(s->peer) : NULL;

	if (t)
		json_object_set_new(d, "transport", t);
	if (d && s->authextra)
		json_object_set(d, "authextra", s->authextra);
	if (d && s->resume && s->resume->detached)
		json_object_set_new(d, "detached", json_true());
	return d;
}

_Static_assert((int)MATCH_EXACT == (int)AUTHZ_EXACT && (int)MATCH_PREFIX == (int)AUTHZ_PREFIX &&
               (int)MATCH_WILDCARD == (int)AUTHZ_WILDCARD,
               "realm/match.h and auth/authz.h number the match policies alike");

/* What realm_authorize's question carries back: the answer is kept for the retried request
 * (s->authz_answers) and, if the authorizer lets it, cached for later ones. */
static void realm_authz_answer(void *ctx, enum wampd_err err, const char *error_uri,
                               json_t *args, json_t *kwargs)
{
	struct session *s = ctx;
	struct realm *r = s->realm;
	struct authz_decision d = {0};
	bool cacheable = false;
	struct authz_request rq = {.uri = s->authz_question.uri,
	                           .match = s->authz_question.match,
	                           .action = s->authz_question.action};

	(void)kwargs;
	s->authz_call = NULL;
	if (err == WAMPD_OK)
		authz_parse_answer(json_array_get(args, 0), &d, &cacheable);
	else
		wlog_warn("authz", "authorizer failed session=%llu: %s%s%s", (unsigned long long)s->id,
		          wampd_err_str(err), error_uri ? " " : "", error_uri ? error_uri : "");
	if (rq.uri) {
		rq.uri_len = strlen(rq.uri);
		if (cacheable && r && r->authz.cache_ttl_ms)
			authz_cache_put(&s->authz_cache, &rq, clock_mono_ms() + r->authz.cache_ttl_ms, &d);
		authz_cache_put(&s->authz_answers, &rq, INT64_MAX, &d);
	}
	free(s->authz_question.uri);
	s->authz_question.uri = NULL;
	if (r && r->owner->resume)
		r->owner->resume(s, r->owner->resume_ctx);
}

void realm_authorize_settled(struct session *s)
{
	if (s->authz_answers.count)
		authz_cache_clear(&s->authz_answers);
}

enum wampd_err realm_authorize_now(struct realm *r, const char *authrole, const char *uri,
                                   size_t len, enum match_policy match,
                                   enum authz_action action)
{
	struct authz_request rq = {uri, len, (enum authz_match)match, action};
	struct authz_decision d;

	return authz_check(&r->authz, authrole, &rq, &d, NULL) == AUTHZ_ALLOW
	               ? WAMPD_OK
	               : WAMPD_ERR_NOT_AUTHORIZED;
}

enum wampd_err realm_authorize(struct realm *r, struct session *s, const char *uri, size_t len,
                               enum match_policy match, const json_t *options,
                               enum authz_action action, struct authz_decision *d)
{
	const struct authz_role *role = NULL;
	struct authz_request rq = {uri, len, (enum authz_match)match, action};
	json_t *args, *opts;
	enum wampd_err err;

	switch (authz_check(&r->authz, s->authrole, &rq, d, &role)) {
	case AUTHZ_ALLOW:
		return WAMPD_OK;
	case AUTHZ_DENY:
		return WAMPD_ERR_NOT_AUTHORIZED;
	case AUTHZ_ASK:
		break;
	}
	/* the answer to a question asked for this very request (retried after resume) */
	if (authz_cache_get(&s->authz_answers, &rq, INT64_MIN, d) ||
	    authz_cache_get(&s->authz_cache, &rq, clock_mono_ms(), d))
		return d->allow ? WAMPD_OK : WAMPD_ERR_NOT_AUTHORIZED;
	if (s->authz_call)
		return WAMPD_ERR_AUTHZ_PENDING; /* one question at a time */

	free(s->authz_question.uri);
	if (!(s->authz_question.uri = strndup(uri, len)))
		return WAMPD_ERR_NOMEM;
	s->authz_question.match = rq.match;
	s->authz_question.action = action;
	/* authorize(session, uri, action, options): the request's options, with its match
	 * policy always spelled out (Crossbar's authorizer signature) */
	opts = json_is_object(options) ? json_copy((json_t *)options) : json_object();
	if (opts)
		json_object_set_new(opts, "match", json_string(authz_match_name(rq.match)));
	args = opts ? json_pack("[o, s%, s, o]", realm_session_details(s), uri, len,
	                        authz_action_name(action), opts)
	            : NULL;
	err = args ? dealer_call_internal(&r->dealer, role->authorizer, args, NULL, 10000,
	                                  realm_authz_answer, s, &s->authz_call)
	           : WAMPD_ERR_NOMEM;
	json_decref(args);
	if (err != WAMPD_OK) {
		wlog_warn("authz", "authorizer %s unavailable for role=%s: %s", role->authorizer,
		          s->authrole, wampd_err_str(err));
		return WAMPD_ERR_NOT_AUTHORIZED;
	}
	return WAMPD_ERR_AUTHZ_PENDING;
}
