/*
 * meta.c - the realm meta API (see meta.h): built-in procedures on the realm's dealer and
 * meta events on its broker.
 *
 * Procedures are plain C functions registered with dealer_register_builtin(), so a call to
 * wamp.session.count takes the same lookup and the same permission check (the call
 * permission on the procedure's URI) as a call to a user procedure. Their argument
 * checking is uniform: a wrong or missing argument is wamp.error.invalid_argument with a
 * message saying which. The procedures that act on a URI's data check the caller's
 * permission on that URI too (meta_authorize): a testament is authorized as a PUBLISH of
 * its topic when it is added, wamp.subscription.get_events as a SUBSCRIBE to the
 * subscription's pattern. The others show metadata only (ids, URIs, session ids) and are
 * gated by their call permission alone, as in Crossbar.
 *
 * Meta events are publications of the router (no publisher session) on the realm's
 * broker. Each hook is called by broker.c/dealer.c/realm.c after the state change is
 * visible to the procedures.
 */
#include "realm/meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utlist.h>

#include "common/ids.h"
#include "common/log.h"
#include "realm/backplane.h"
#include "realm/realm.h"

/* ---------------------------------------------------------------------------------- */
/* helpers                                                                              */

static json_t *iso_time(int64_t ms)
{
	char stamp[40];
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03dZ", (int)(ms % 1000));
	return json_string(stamp);
}

/* Positional argument i as an id; false (and *message set) if absent or not an id. */
static bool arg_id(json_t *args, size_t i, uint64_t *out, const char **message)
{
	json_t *v = json_array_get(args, i);

	if (!json_is_integer(v) || !ids_valid((uint64_t)json_integer_value(v))) {
		*message = "expected an id as positional argument";
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool arg_str(json_t *args, size_t i, const char **out, const char **message)
{
	json_t *v = json_array_get(args, i);

	if (!json_is_string(v)) {
		*message = "expected a string as positional argument";
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static json_t *registration_details(const struct registration *reg)
{
	return json_pack("{s:I, s:o, s:s, s:s, s:s}", "id", (json_int_t)reg->id, "created",
	                 iso_time(reg->created_ms), "uri", reg->item.uri, "match",
	                 match_policy_name(reg->item.policy), "invoke",
	                 invoke_policy_name(reg->invoke));
}

static json_t *subscription_details(const struct subscription *sub)
{
	return json_pack("{s:I, s:o, s:s, s:s}", "id", (json_int_t)sub->id, "created",
	                 iso_time(sub->created_ms), "uri", sub->item.uri, "match",
	                 match_policy_name(sub->item.policy));
}

/* true if authroles (a list, or NULL/absent) admits role. */
static bool role_filter(json_t *authroles, const char *role)
{
	size_t i;
	json_t *v;

	if (!json_is_array(authroles))
		return true;
	json_array_foreach(authroles, i, v)
		if (json_is_string(v) && role && !strcmp(json_string_value(v), role))
			return true;
	return false;
}

/*
 * May the caller do `action` on the URI pattern (uri, match)? For the procedures whose
 * answer is a URI's data (a testament's later publication, a subscription's event
 * history): calling the procedure is not permission to act on every URI.
 * In the caller's own dispatch this is realm_authorize, a dynamic authorizer included
 * (WAMPD_ERR_AUTHZ_PENDING: the CALL is parked and replayed once it answered; nothing may
 * have changed before). As one node's part of a cluster-wide query (r->meta_local) nothing
 * can wait: the asking session's role, sent with the query, is decided statically and a
 * dynamic role is refused.
 */
static enum wampd_err meta_authorize(struct realm *r, struct session *caller, const char *uri,
                                     enum match_policy match, const json_t *options,
                                     enum authz_action action)
{
	struct authz_decision d;

	if (!r->meta_local && caller)
		return realm_authorize(r, caller, uri, strlen(uri), match, options, action, &d);
	return realm_authorize_now(r, r->meta_authrole, uri, strlen(uri), match, action);
}

/* ---------------------------------------------------------------------------------- */
/* wamp.session.*                                                                       */

#define BUILTIN(name)                                                                      \
	static enum wampd_err name(struct realm *r, struct session *caller, json_t *args,  \
	                           json_t *kwargs, json_t **res_args, json_t **res_kwargs,  \
	                           const char **message, char *why __attribute__((unused)))

BUILTIN(ms_count)
{
	struct session *s, *tmp;
	json_t *filter = json_array_get(args, 0);
	json_int_t n = 0;

	(void)caller, (void)kwargs, (void)res_kwargs, (void)message;
	HASH_ITER(hh, r->sessions, s, tmp)
		if (session_routable(s) && role_filter(filter, s->authrole))
			n++;
	*res_args = json_pack("[I]", n);
	return WAMPD_OK;
}

BUILTIN(ms_list)
{
	struct session *s, *tmp;
	json_t *filter = json_array_get(args, 0), *ids = json_array();

	(void)caller, (void)kwargs, (void)res_kwargs, (void)message;
	HASH_ITER(hh, r->sessions, s, tmp)
		if (session_routable(s) && role_filter(filter, s->authrole))
			json_array_append_new(ids, json_integer((json_int_t)s->id));
	*res_args = json_pack("[o]", ids);
	return WAMPD_OK;
}

BUILTIN(ms_get)
{
	struct session *s;
	uint64_t id;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!arg_id(args, 0, &id, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	s = realm_session(r, id);
	if (!s || !session_routable(s))
		return WAMPD_ERR_NO_SUCH_SESSION;
	*res_args = json_pack("[o]", realm_session_details(s));
	return WAMPD_OK;
}

/* Close s with GOODBYE <reason> {message}; it leaves the realm once its transport closes. */
static void kill_session(struct session *s, const char *reason, const char *text)
{
	struct wamp_msg bye = {.type = WAMP_GOODBYE, .uri = reason, .uri_len = strlen(reason)};

	if (text)
		bye.dict = json_pack("{s:s}", "message", text);
	wlog_info("meta", "killing session=%llu reason=%s", (unsigned long long)s->id, reason);
	session_send_msg(s, &bye);
	json_decref(bye.dict);
	session_close(s, 1000, reason);
}

/* kwargs reason/message of the kill procedures; false (message set) on a bad reason. */
static bool kill_options(json_t *kwargs, const char **reason, const char **text,
                         const char **message)
{
	*reason = wamp_dict_str(kwargs, "reason", "wamp.close.killed");
	*text = wamp_dict_str(kwargs, "message", NULL);
	if (!uri_valid(*reason, strlen(*reason), URI_LOOSE, 0)) {
		*message = "reason must be a valid URI";
		return false;
	}
	return true;
}

BUILTIN(ms_kill)
{
	struct session *s;
	const char *reason, *text;
	uint64_t id;

	(void)res_args, (void)res_kwargs;
	if (!arg_id(args, 0, &id, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!kill_options(kwargs, &reason, &text, message))
		return WAMPD_ERR_INVALID_URI;
	s = realm_session(r, id);
	if (!s || s == caller || !session_routable(s))
		return WAMPD_ERR_NO_SUCH_SESSION;
	kill_session(s, reason, text);
	return WAMPD_OK;
}

/* Kill every other session whose `field` (authid or authrole) equals value. */
static json_t *kill_where(struct realm *r, struct session *caller, bool by_role,
                          const char *value, const char *reason, const char *text)
{
	struct session *s, *tmp;
	json_t *killed = json_array();

	HASH_ITER(hh, r->sessions, s, tmp) {
		const char *v = by_role ? s->authrole : s->authid;

		if (s == caller || !session_routable(s))
			continue;
		if (value && (!v || strcmp(v, value)))
			continue;
		json_array_append_new(killed, json_integer((json_int_t)s->id));
		kill_session(s, reason, text);
	}
	return killed;
}

BUILTIN(ms_kill_by_authid)
{
	const char *authid, *reason, *text;

	(void)res_kwargs;
	if (!arg_str(args, 0, &authid, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!kill_options(kwargs, &reason, &text, message))
		return WAMPD_ERR_INVALID_URI;
	*res_args = json_pack("[o]", kill_where(r, caller, false, authid, reason, text));
	return WAMPD_OK;
}

BUILTIN(ms_kill_by_authrole)
{
	const char *authrole, *reason, *text;
	json_t *killed;

	(void)res_kwargs;
	if (!arg_str(args, 0, &authrole, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!kill_options(kwargs, &reason, &text, message))
		return WAMPD_ERR_INVALID_URI;
	killed = kill_where(r, caller, true, authrole, reason, text);
	*res_args = json_pack("[I]", (json_int_t)json_array_size(killed));
	json_decref(killed);
	return WAMPD_OK;
}

BUILTIN(ms_kill_all)
{
	const char *reason, *text;
	json_t *killed;

	(void)args, (void)res_kwargs;
	if (!kill_options(kwargs, &reason, &text, message))
		return WAMPD_ERR_INVALID_URI;
	killed = kill_where(r, caller, false, NULL, reason, text);
	*res_args = json_pack("[I]", (json_int_t)json_array_size(killed));
	json_decref(killed);
	return WAMPD_OK;
}

/* The testament list of `scope` ("destroyed" by default); NULL + message if invalid. */
static json_t **testament_bucket(struct session *s, json_t *kwargs, const char **message)
{
	const char *scope = wamp_dict_str(kwargs, "scope", "destroyed");

	if (!strcmp(scope, "destroyed"))
		return &s->testaments_destroyed;
	if (!strcmp(scope, "detached"))
		return &s->testaments_detached;
	*message = "scope must be \"destroyed\" or \"detached\"";
	return NULL;
}

#define MAX_TESTAMENTS 64 /* per session and scope */

/*
 * The publish options a testament may carry (the spec: Publish.Options, "not all options
 * may be honoured"). It is published by the router once the session is gone, so the
 * options about the publishing session itself mean nothing and are dropped (acknowledge,
 * exclude_me, disclose_me); receiver lists and retain are kept (retain: the testament is
 * authorized as a PUBLISH of the session, which could publish with retain itself).
 * Anything else (payload passthru, e2e encryption, forward_for, unknown keys) is refused.
 */
static const struct {
	const char *key;
	bool keep;
} testament_option_rules[] = {
	{"exclude", true},          {"exclude_authid", true},    {"exclude_authrole", true},
	{"eligible", true},         {"eligible_authid", true},   {"eligible_authrole", true},
	{"retain", true},           {"acknowledge", false},      {"exclude_me", false},
	{"disclose_me", false},
};

/* The options to store for a testament (*kept: a new dict, or NULL for none): WAMPD_OK,
 * WAMPD_ERR_INVALID_ARGUMENT with *message set (to why, the builtin's DEALER_BUILTIN_WHY
 * bytes) if options has a key that is not allowed or a value of the wrong type, or
 * WAMPD_ERR_NOMEM. */
static enum wampd_err testament_options(const json_t *options, json_t **kept,
                                        const char **message, char *why)
{
	struct wamp_msg probe = {.type = WAMP_PUBLISH, .dict = (json_t *)options};
	const char *key;
	json_t *v;

	*kept = NULL;
	if (!options)
		return WAMPD_OK;
	if (wamp_validate(&probe, why, DEALER_BUILTIN_WHY) != WAMPD_OK) { /* the PUBLISH types */
		*message = why;
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	json_object_foreach((json_t *)options, key, v) {
		size_t i, n = sizeof(testament_option_rules) / sizeof(testament_option_rules[0]);

		for (i = 0; i < n && strcmp(key, testament_option_rules[i].key); i++)
			;
		if (i == n) {
			snprintf(why, DEALER_BUILTIN_WHY,
			         "publish_options.%.100s is not allowed in a testament", key);
			*message = why;
			json_decref(*kept);
			*kept = NULL;
			return WAMPD_ERR_INVALID_ARGUMENT;
		}
		if (!testament_option_rules[i].keep)
			continue;
		if ((!*kept && !(*kept = json_object())) || json_object_set(*kept, key, v)) {
			json_decref(*kept);
			*kept = NULL;
			return WAMPD_ERR_NOMEM;
		}
	}
	return WAMPD_OK;
}

BUILTIN(ms_add_testament)
{
	const char *topic;
	json_t **bucket, *t, *options = json_object_get(kwargs, "publish_options");
	json_t *targs = json_array_get(args, 1), *tkwargs = json_array_get(args, 2), *kept;
	enum wampd_err err;

	(void)res_args, (void)res_kwargs;
	if (!arg_str(args, 0, &topic, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	/* the same topic rules as a PUBLISH (the realm's URI rule, no wamp.* topics) */
	if (!uri_valid(topic, strlen(topic), r->uri_rule, 0) || uri_reserved(topic, strlen(topic))) {
		*message = "topic must be a valid URI outside the reserved wamp. namespace";
		return WAMPD_ERR_INVALID_URI;
	}
	if ((targs && !json_is_array(targs)) || (tkwargs && !json_is_object(tkwargs)) ||
	    (options && !json_is_object(options))) {
		*message = "expected (topic, args list, kwargs dict), publish_options a dict";
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	if (!(bucket = testament_bucket(caller, kwargs, message)))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if ((err = testament_options(options, &kept, message, why)) != WAMPD_OK)
		return err;
	/* a PUBLISH of the caller's, made later: authorized as one now, before anything is
	 * kept (a parked CALL comes back here whole) */
	if ((err = meta_authorize(r, caller, topic, MATCH_EXACT, options, AUTHZ_PUBLISH)) !=
	    WAMPD_OK) {
		if (err == WAMPD_ERR_NOT_AUTHORIZED)
			*message = "not authorized to publish to the testament's topic";
		json_decref(kept);
		return err;
	}
	if (json_array_size(*bucket) >= MAX_TESTAMENTS) {
		json_decref(kept);
		r->testaments_refused++;
		*message = "too many testaments for this scope";
		return WAMPD_ERR_LIMIT;
	}
	t = json_pack("{s:s, s:O?, s:O?, s:o?}", "topic", topic, "args", targs, "kwargs", tkwargs,
	              "options", kept);
	if (!t)
		return WAMPD_ERR_NOMEM;
	/* storage: bounded in bytes per session (limits.max_testament_bytes_per_session) */
	err = session_testament_add(caller, bucket, t,
	                            r->owner->limits.max_testament_bytes_per_session);
	if (err == WAMPD_ERR_LIMIT) {
		r->testaments_refused++;
		*message = "the session's testaments would exceed "
		           "limits.max_testament_bytes_per_session";
	}
	if (err != WAMPD_OK)
		return err;
	if (r->owner->bp) /* kept in the cluster in case this node dies */
		backplane_testaments(r, caller, false);
	return WAMPD_OK;
}

BUILTIN(ms_flush_testaments)
{
	json_t **bucket;
	json_int_t n;

	(void)args, (void)res_kwargs;
	if (!(bucket = testament_bucket(caller, kwargs, message)))
		return WAMPD_ERR_INVALID_ARGUMENT;
	n = (json_int_t)session_testaments_flush(caller, bucket);
	if (r->owner->bp)
		backplane_testaments(r, caller, false);
	*res_args = json_pack("[I]", n);
	return WAMPD_OK;
}

/* ---------------------------------------------------------------------------------- */
/* wamp.registration.*                                                                  */

static struct registration *reg_arg(struct realm *r, json_t *args, const char **message)
{
	uint64_t id;
	struct registration *reg;

	if (!arg_id(args, 0, &id, message))
		return NULL;
	reg = dealer_registration(&r->dealer, id);
	if (!reg || reg->builtin)
		return NULL;
	return reg;
}

/* Options {match} of lookup; false if invalid. */
static bool match_option(json_t *args, size_t i, json_t *kwargs, enum match_policy *out)
{
	json_t *opts = json_array_get(args, i);
	const char *m = wamp_dict_str(json_is_object(opts) ? opts : kwargs, "match", NULL);

	return match_policy_parse(m, out);
}

BUILTIN(mr_list)
{
	struct registration *reg, *tmp;
	json_t *lists[3] = {json_array(), json_array(), json_array()};

	(void)caller, (void)args, (void)kwargs, (void)res_kwargs, (void)message;
	HASH_ITER(hh_id, r->dealer.by_id, reg, tmp)
		if (!reg->builtin)
			json_array_append_new(lists[reg->item.policy], json_integer((json_int_t)reg->id));
	*res_args = json_pack("[{s:o, s:o, s:o}]", "exact", lists[0], "prefix", lists[1],
	                      "wildcard", lists[2]);
	return WAMPD_OK;
}

BUILTIN(mr_lookup)
{
	const char *uri;
	enum match_policy match;
	struct registration *reg;

	(void)caller, (void)res_kwargs;
	if (!arg_str(args, 0, &uri, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!match_option(args, 1, kwargs, &match)) {
		*message = "match must be exact, prefix or wildcard";
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	reg = (struct registration *)match_get(&r->dealer.index, uri, strlen(uri), match);
	*res_args = json_pack("[o]", reg && !reg->builtin ? json_integer((json_int_t)reg->id)
	                                                 : json_null());
	return WAMPD_OK;
}

BUILTIN(mr_match)
{
	const char *uri;
	struct registration *reg;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!arg_str(args, 0, &uri, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	reg = (struct registration *)match_best(&r->dealer.index, uri, strlen(uri));
	*res_args = json_pack("[o]", reg && !reg->builtin ? json_integer((json_int_t)reg->id)
	                                                 : json_null());
	return WAMPD_OK;
}

BUILTIN(mr_get)
{
	struct registration *reg = reg_arg(r, args, message);

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!reg)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_REGISTRATION;
	*res_args = json_pack("[o]", registration_details(reg));
	return WAMPD_OK;
}

/* A callee the registration meta API lists: REGISTERED already; while answering a
 * cluster query (r->meta_local), only this node's own (the other nodes list theirs). */
static bool callee_counted(const struct realm *r, const struct reg_member *m)
{
	return !m->pending && !(r->meta_local && backplane_node_of(m->session));
}

BUILTIN(mr_list_callees)
{
	struct registration *reg = reg_arg(r, args, message);
	struct reg_member *m;
	json_t *ids;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!reg)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_REGISTRATION;
	ids = json_array();
	DL_FOREACH2(reg->callees, m, reg_next)
		if (callee_counted(r, m))
			json_array_append_new(ids, json_integer((json_int_t)m->session->id));
	*res_args = json_pack("[o]", ids);
	return WAMPD_OK;
}

BUILTIN(mr_count_callees)
{
	struct registration *reg = reg_arg(r, args, message);
	struct reg_member *m;
	json_int_t n = 0;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!reg)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_REGISTRATION;
	DL_FOREACH2(reg->callees, m, reg_next)
		n += callee_counted(r, m);
	*res_args = json_pack("[I]", n);
	return WAMPD_OK;
}

BUILTIN(mr_remove_callee)
{
	struct registration *reg = reg_arg(r, args, message);
	struct session *s;
	uint64_t callee;

	(void)caller, (void)res_args, (void)res_kwargs;
	if (!reg)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_REGISTRATION;
	if (!arg_id(args, 1, &callee, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(s = realm_session(r, callee)))
		return WAMPD_ERR_NO_SUCH_SESSION;
	dealer_revoke(&r->dealer, reg, s, wamp_dict_str(kwargs, "reason", NULL));
	return WAMPD_OK;
}

/* ---------------------------------------------------------------------------------- */
/* wamp.subscription.*                                                                  */

static struct subscription *sub_arg(struct realm *r, json_t *args, const char **message)
{
	uint64_t id;

	if (!arg_id(args, 0, &id, message))
		return NULL;
	return broker_subscription(&r->broker, id);
}

BUILTIN(mb_list)
{
	struct subscription *sub, *tmp;
	json_t *lists[3] = {json_array(), json_array(), json_array()};

	(void)caller, (void)args, (void)kwargs, (void)res_kwargs, (void)message;
	HASH_ITER(hh_id, r->broker.by_id, sub, tmp)
		json_array_append_new(lists[sub->item.policy], json_integer((json_int_t)sub->id));
	*res_args = json_pack("[{s:o, s:o, s:o}]", "exact", lists[0], "prefix", lists[1],
	                      "wildcard", lists[2]);
	return WAMPD_OK;
}

BUILTIN(mb_lookup)
{
	const char *uri;
	enum match_policy match;
	struct subscription *sub;

	(void)caller, (void)res_kwargs;
	if (!arg_str(args, 0, &uri, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!match_option(args, 1, kwargs, &match)) {
		*message = "match must be exact, prefix or wildcard";
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	sub = (struct subscription *)match_get(&r->broker.index, uri, strlen(uri), match);
	*res_args = json_pack("[o]", sub ? json_integer((json_int_t)sub->id) : json_null());
	return WAMPD_OK;
}

static bool collect_ids(struct match_item *item, void *arg)
{
	json_array_append_new(arg, json_integer((json_int_t)((struct subscription *)item)->id));
	return true;
}

BUILTIN(mb_match)
{
	const char *uri;
	json_t *ids;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!arg_str(args, 0, &uri, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	ids = json_array();
	match_each(&r->broker.index, uri, strlen(uri), collect_ids, ids);
	if (!json_array_size(ids)) {
		json_decref(ids);
		ids = json_null();
	}
	*res_args = json_pack("[o]", ids);
	return WAMPD_OK;
}

BUILTIN(mb_get)
{
	struct subscription *sub = sub_arg(r, args, message);

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!sub)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	*res_args = json_pack("[o]", subscription_details(sub));
	return WAMPD_OK;
}

BUILTIN(mb_list_subscribers)
{
	struct subscription *sub = sub_arg(r, args, message);
	struct sub_member *m;
	json_t *ids;

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!sub)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	ids = json_array();
	DL_FOREACH2(sub->members, m, sub_next)
		json_array_append_new(ids, json_integer((json_int_t)m->session->id));
	*res_args = json_pack("[o]", ids);
	return WAMPD_OK;
}

BUILTIN(mb_count_subscribers)
{
	struct subscription *sub = sub_arg(r, args, message);

	(void)caller, (void)kwargs, (void)res_kwargs;
	if (!sub)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	*res_args = json_pack("[I]", (json_int_t)sub->count);
	return WAMPD_OK;
}

BUILTIN(mb_remove_subscriber)
{
	struct subscription *sub = sub_arg(r, args, message);
	struct session *s;
	uint64_t id;

	(void)caller, (void)res_args, (void)res_kwargs;
	if (!sub)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	if (!arg_id(args, 1, &id, message))
		return WAMPD_ERR_INVALID_ARGUMENT;
	if (!(s = realm_session(r, id)))
		return WAMPD_ERR_NO_SUCH_SESSION;
	broker_revoke(&r->broker, sub, s, wamp_dict_str(kwargs, "reason", NULL));
	return WAMPD_OK;
}

BUILTIN(mb_get_events)
{
	struct subscription *sub = sub_arg(r, args, message);
	struct store_query q = {0};
	json_t *events;
	json_int_t limit;
	enum wampd_err err;

	(void)res_kwargs;
	if (!sub)
		return *message ? WAMPD_ERR_INVALID_ARGUMENT : WAMPD_ERR_NO_SUCH_SUBSCRIPTION;
	/* the events are the topic's: only for whoever may subscribe to it (the pattern) */
	if ((err = meta_authorize(r, caller, sub->item.uri, sub->item.policy, NULL,
	                          AUTHZ_SUBSCRIBE)) != WAMPD_OK) {
		if (err == WAMPD_ERR_NOT_AUTHORIZED)
			*message = "not authorized to subscribe to the subscription's topic";
		return err;
	}
	limit = wamp_dict_int(kwargs, "limit", json_is_integer(json_array_get(args, 1))
	                                            ? json_integer_value(json_array_get(args, 1))
	                                            : 0);
	q.limit = limit > 0 && limit < UINT32_MAX ? (uint32_t)limit : 0;
	q.reverse = wamp_dict_bool(kwargs, "reverse", false);
	q.topic = wamp_dict_str(kwargs, "topic", NULL);
	/* the newest `limit` events of the histories covering the subscription, from the
	 * store: a shared one (redis) answers later and the CALL waits parked; as one node's
	 * part of a cluster query (meta_local: no caller here) only a store of this node */
	if ((err = broker_history_events(&r->broker, r->meta_local ? NULL : caller, sub, &q,
	                                 &events)) != WAMPD_OK)
		return err;
	*res_args = json_pack("[o]", events);
	return WAMPD_OK;
}

/* ---------------------------------------------------------------------------------- */
/* registration of the procedures and the events                                        */

enum wampd_err meta_init(struct realm *r)
{
	static const struct {
		const char *uri;
		dealer_builtin_fn fn;
	} procs[] = {
		{"wamp.session.count", ms_count},
		{"wamp.session.list", ms_list},
		{"wamp.session.get", ms_get},
		{"wamp.session.kill", ms_kill},
		{"wamp.session.kill_by_authid", ms_kill_by_authid},
		{"wamp.session.kill_by_authrole", ms_kill_by_authrole},
		{"wamp.session.kill_all", ms_kill_all},
		{"wamp.session.add_testament", ms_add_testament},
		{"wamp.session.flush_testaments", ms_flush_testaments},
		{"wamp.registration.list", mr_list},
		{"wamp.registration.lookup", mr_lookup},
		{"wamp.registration.match", mr_match},
		{"wamp.registration.get", mr_get},
		{"wamp.registration.list_callees", mr_list_callees},
		{"wamp.registration.count_callees", mr_count_callees},
		{"wamp.registration.remove_callee", mr_remove_callee},
		{"wamp.subscription.list", mb_list},
		{"wamp.subscription.lookup", mb_lookup},
		{"wamp.subscription.match", mb_match},
		{"wamp.subscription.get", mb_get},
		{"wamp.subscription.list_subscribers", mb_list_subscribers},
		{"wamp.subscription.count_subscribers", mb_count_subscribers},
		{"wamp.subscription.remove_subscriber", mb_remove_subscriber},
		{"wamp.subscription.get_events", mb_get_events},
	};

	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		enum wampd_err err = dealer_register_builtin(&r->dealer, procs[i].uri, procs[i].fn);

		if (err != WAMPD_OK)
			return err;
	}
	return WAMPD_OK;
}

/* Publish a meta event (args: a new reference, consumed). */
static void meta_publish(struct realm *r, const char *topic, json_t *args)
{
	if (args)
		broker_publish_internal(&r->broker, topic, args, NULL, NULL);
	json_decref(args);
}

/* Meta events are built only when someone listens (session churn stays cheap); with a
 * backplane, listeners may be on other nodes. */
#define META_WANTED(r, topic)                                                              \
	(broker_has_subscription(&(r)->broker, (topic)) || backplane_online((r)->owner))

void meta_session_join(struct realm *r, struct session *s)
{
	if (META_WANTED(r, "wamp.session.on_join"))
		meta_publish(r, "wamp.session.on_join", json_pack("[o]", realm_session_details(s)));
}

void meta_session_leave(struct realm *r, struct session *s)
{
	if (META_WANTED(r, "wamp.session.on_leave"))
		meta_publish(r, "wamp.session.on_leave",
		             json_pack("[I, s?, s?]", (json_int_t)s->id, s->authid, s->authrole));
}

void meta_publish_testaments(struct realm *r, const json_t *list)
{
	size_t i;
	json_t *t;

	json_array_foreach(list, i, t) {
		json_t *options = json_object_get(t, "options");

		broker_publish_internal(&r->broker, json_string_value(json_object_get(t, "topic")),
		                        json_object_get(t, "args"), json_object_get(t, "kwargs"),
		                        json_is_object(options) ? options : NULL);
	}
}

void meta_session_testaments(struct realm *r, struct session *s)
{
	json_t *detached, *destroyed;

	/* forget them first: each testament is published exactly once */
	session_testaments_take(s, &detached, &destroyed);
	if (r->owner->bp && (detached || destroyed))
		backplane_testaments(r, s, true); /* published here: not again by another node */
	meta_publish_testaments(r, detached);
	meta_publish_testaments(r, destroyed);
	json_decref(detached);
	json_decref(destroyed);
}

void meta_registration(struct realm *r, enum meta_event ev, struct session *s,
                       const struct registration *reg)
{
	static const char *const topics[] = {
		[META_CREATE] = "wamp.registration.on_create",
		[META_REGISTER] = "wamp.registration.on_register",
		[META_UNREGISTER] = "wamp.registration.on_unregister",
	};

	if (!META_WANTED(r, topics[ev]))
		return;
	if (ev == META_CREATE)
		meta_publish(r, topics[ev], json_pack("[I, o]", (json_int_t)s->id,
		                                      registration_details(reg)));
	else
		meta_publish(r, topics[ev], json_pack("[I, I]", (json_int_t)s->id, (json_int_t)reg->id));
}

void meta_registration_deleted(struct realm *r, struct session *s, uint64_t id)
{
	if (META_WANTED(r, "wamp.registration.on_delete"))
		meta_publish(r, "wamp.registration.on_delete",
		             json_pack("[I, I]", (json_int_t)s->id, (json_int_t)id));
}

void meta_subscription_deleted(struct realm *r, struct session *s, uint64_t id)
{
	if (META_WANTED(r, "wamp.subscription.on_delete"))
		meta_publish(r, "wamp.subscription.on_delete",
		             json_pack("[I, I]", (json_int_t)s->id, (json_int_t)id));
}

void meta_subscription(struct realm *r, enum meta_event ev, struct session *s,
                       const struct subscription *sub)
{
	static const char *const topics[] = {
		[META_CREATE] = "wamp.subscription.on_create",
		[META_SUBSCRIBE] = "wamp.subscription.on_subscribe",
		[META_UNSUBSCRIBE] = "wamp.subscription.on_unsubscribe",
	};

	if (!META_WANTED(r, topics[ev]))
		return;
	if (ev == META_CREATE)
		meta_publish(r, topics[ev], json_pack("[I, o]", (json_int_t)s->id,
		                                      subscription_details(sub)));
	else
		meta_publish(r, topics[ev], json_pack("[I, I]", (json_int_t)s->id, (json_int_t)sub->id));
}

/* ---------------------------------------------------------------------------------- */
/* the whole cluster's answer from every node's (backplane_meta_query)                  */

enum meta_merge {
	MERGE_LOCAL = 0, /* answered by this node alone (wamp.registration.match: its mirror) */
	MERGE_SUM,       /* [n]: added up */
	MERGE_CONCAT,    /* [list]: joined */
	MERGE_FIRST,     /* the first node that knows it (a non-null, non-empty answer) */
	MERGE_POLICIES,  /* [{exact, prefix, wildcard}]: union of ids */
	MERGE_UNION,     /* [list or null]: union of ids */
};

static enum meta_merge meta_merge_kind(const char *procedure)
{
	static const struct {
		const char *uri;
		enum meta_merge kind;
	} table[] = {
		{"wamp.session.count", MERGE_SUM},
		{"wamp.session.list", MERGE_CONCAT},
		{"wamp.session.get", MERGE_FIRST},
		{"wamp.session.kill", MERGE_FIRST},
		{"wamp.session.kill_by_authid", MERGE_CONCAT},
		{"wamp.session.kill_by_authrole", MERGE_SUM},
		{"wamp.session.kill_all", MERGE_SUM},
		{"wamp.registration.list", MERGE_POLICIES},
		{"wamp.registration.lookup", MERGE_FIRST},
		{"wamp.registration.get", MERGE_FIRST},
		{"wamp.registration.list_callees", MERGE_CONCAT},
		{"wamp.registration.count_callees", MERGE_SUM},
		{"wamp.registration.remove_callee", MERGE_FIRST},
		{"wamp.subscription.list", MERGE_POLICIES},
		{"wamp.subscription.lookup", MERGE_FIRST},
		{"wamp.subscription.match", MERGE_UNION},
		{"wamp.subscription.get", MERGE_FIRST},
		{"wamp.subscription.list_subscribers", MERGE_CONCAT},
		{"wamp.subscription.count_subscribers", MERGE_SUM},
		{"wamp.subscription.remove_subscriber", MERGE_FIRST},
		{"wamp.subscription.get_events", MERGE_FIRST},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].uri, procedure))
			return table[i].kind;
	return MERGE_LOCAL;
}

bool meta_cluster_wide(const char *procedure)
{
	return meta_merge_kind(procedure) != MERGE_LOCAL;
}

bool meta_cluster_wide_in(const struct realm *r, const char *procedure)
{
	/* every node reads the same shared store: this node's answer is the cluster's */
	if (r->broker.store->ops->shared && !strcmp(procedure, "wamp.subscription.get_events"))
		return false;
	return meta_cluster_wide(procedure);
}

static void union_ids(json_t *into, const json_t *list)
{
	size_t i, j;
	json_t *v, *w;

	json_array_foreach(list, i, v) {
		bool seen = false;

		json_array_foreach(into, j, w)
			seen = seen || json_equal(v, w);
		if (!seen)
			json_array_append(into, v);
	}
}

static bool answer_known(const json_t *v)
{
	return v && !json_is_null(v) && !(json_is_array(v) && !json_array_size(v));
}

enum wampd_err meta_merge(const char *procedure, const json_t *answers, json_t **res_args)
{
	enum meta_merge kind = meta_merge_kind(procedure);
	const json_t *a, *first_ok = NULL, *known = NULL;
	json_int_t sum = 0, first_err = 0;
	json_t *list = NULL;
	size_t i;

	*res_args = NULL;
	if (kind == MERGE_POLICIES)
		list = json_pack("{s:[], s:[], s:[]}", "exact", "prefix", "wildcard");
	else if (kind == MERGE_CONCAT || kind == MERGE_UNION)
		list = json_array();
	json_array_foreach(answers, i, a) {
		json_int_t e = json_integer_value(json_object_get(a, "e"));
		json_t *args = json_object_get(a, "a"), *v0 = json_array_get(args, 0);

		if (e) {
			if (!first_err)
				first_err = e;
			continue;
		}
		if (!first_ok)
			first_ok = args;
		if (!known && answer_known(v0))
			known = args;
		if (kind == MERGE_SUM)
			sum += json_integer_value(v0);
		else if (kind == MERGE_CONCAT && json_is_array(v0))
			json_array_extend(list, v0);
		else if (kind == MERGE_UNION && json_is_array(v0))
			union_ids(list, v0);
		else if (kind == MERGE_POLICIES && json_is_object(v0)) {
			const char *key;
			json_t *ids;

			json_object_foreach((json_t *)v0, key, ids)
				if (json_object_get(list, key))
					union_ids(json_object_get(list, key), ids);
		}
	}
	if (!first_ok) {
		json_decref(list);
		return first_err ? (enum wampd_err)first_err : WAMPD_ERR_CANCELED;
	}
	switch (kind) {
	case MERGE_SUM:
		*res_args = json_pack("[I]", sum);
		break;
	case MERGE_UNION:
		if (!json_array_size(list)) {
			json_decref(list);
			list = json_null();
		}
		/* fall through */
	case MERGE_CONCAT:
	case MERGE_POLICIES:
		*res_args = json_pack("[o]", list);
		list = NULL;
		break;
	default:
		*res_args = json_incref((json_t *)(known ? known : first_ok));
		break;
	}
	json_decref(list);
	return WAMPD_OK;
}
