/*
 * validate.c - type checks of the well-known Options/Details keys of each message type.
 *
 * A table lists, per message type, the keys the spec defines and the kind of value each
 * must have; wamp_validate() looks every listed key up in the message's dict and checks its
 * value. Keys the table does not list are left alone (the spec lets peers add their own).
 * The error text names the offending key, e.g. "PUBLISH.Options.acknowledge must be a
 * bool".
 *
 * The payload is not looked into here (it stays encoded), but the codec's scanner has marked
 * it when it holds a non-finite number (NaN, +-Infinity, or a JSON literal overflowing a
 * double): such a message is refused as a request (invalid_argument), whatever its
 * serializer, because JSON cannot carry the number and the router would otherwise deliver the
 * payload to the receivers of some serializers and silently not to the others.
 */
#include <stdio.h>
#include <string.h>

#include "common/ids.h"
#include "serializers/codec.h"

enum vkind {
	V_BOOL,
	V_STRING,
	V_UINT,        /* integer >= 0 */
	V_ID,          /* integer in [1, 2^53] */
	V_ID_LIST,     /* list of ids */
	V_STRING_LIST, /* list of strings */
	V_DICT,
	V_FORWARD_FOR, /* list of {session, authid, authrole} */
	V_MATCH,       /* "exact" | "prefix" | "wildcard" */
	V_INVOKE,      /* "single" | "roundrobin" | "random" | "first" | "last" */
	V_CANCEL_MODE, /* "skip" | "kill" | "killnowait" */
	V_ENC_ALGO,    /* "cryptobox" | "mqtt" | "xbr" | "x_..." */
};

struct vrule {
	const char *key;
	enum vkind kind;
};

#define END {NULL, V_BOOL}
#define PPT {"ppt_scheme", V_STRING}, {"ppt_serializer", V_STRING}, {"ppt_cipher", V_STRING}, \
	    {"ppt_keyid", V_STRING}
#define E2E {"enc_algo", V_ENC_ALGO}, {"enc_serializer", V_STRING}, {"enc_key", V_STRING}

static const struct vrule hello_rules[] = {
	{"roles", V_DICT}, {"authmethods", V_STRING_LIST}, {"authid", V_STRING},
	{"authrole", V_STRING}, {"authextra", V_DICT}, {"agent", V_STRING}, END};
static const struct vrule publish_rules[] = {
	{"acknowledge", V_BOOL}, {"exclude_me", V_BOOL}, {"disclose_me", V_BOOL},
	{"retain", V_BOOL}, {"exclude", V_ID_LIST}, {"exclude_authid", V_STRING_LIST},
	{"exclude_authrole", V_STRING_LIST}, {"eligible", V_ID_LIST},
	{"eligible_authid", V_STRING_LIST}, {"eligible_authrole", V_STRING_LIST},
	{"transaction_hash", V_STRING}, {"forward_for", V_FORWARD_FOR}, E2E, PPT, END};
static const struct vrule subscribe_rules[] = {
	{"match", V_MATCH}, {"get_retained", V_BOOL}, {"forward_for", V_FORWARD_FOR}, END};
static const struct vrule event_rules[] = {
	{"publisher", V_ID}, {"publisher_authid", V_STRING}, {"publisher_authrole", V_STRING},
	{"topic", V_STRING}, {"retained", V_BOOL}, {"transaction_hash", V_STRING},
	{"x_acknowledged_delivery", V_BOOL}, {"forward_for", V_FORWARD_FOR}, E2E, PPT, END};
static const struct vrule call_rules[] = {
	{"timeout", V_UINT}, {"receive_progress", V_BOOL}, {"disclose_me", V_BOOL},
	{"progress", V_BOOL}, {"forward_for", V_FORWARD_FOR}, E2E, PPT, END};
static const struct vrule register_rules[] = {
	{"match", V_MATCH}, {"invoke", V_INVOKE}, {"disclose_caller", V_BOOL},
	{"forward_timeout", V_BOOL}, {"force_reregister", V_BOOL}, {"forward_for", V_FORWARD_FOR},
	END};
static const struct vrule cancel_rules[] = {{"mode", V_CANCEL_MODE}, END};
static const struct vrule interrupt_rules[] = {{"mode", V_CANCEL_MODE}, {"reason", V_STRING},
                                               END};
static const struct vrule yield_rules[] = {{"progress", V_BOOL}, E2E, PPT, END};
static const struct vrule result_rules[] = {{"progress", V_BOOL}, E2E, PPT, END};
static const struct vrule invocation_rules[] = {
	{"caller", V_ID}, {"caller_authid", V_STRING}, {"caller_authrole", V_STRING},
	{"procedure", V_STRING}, {"receive_progress", V_BOOL}, {"timeout", V_UINT},
	{"progress", V_BOOL}, E2E, PPT, END};

static const struct vrule *rules_for(enum wamp_type type, const char **what)
{
	switch (type) {
	case WAMP_HELLO:
		*what = "HELLO.Details";
		return hello_rules;
	case WAMP_PUBLISH:
		*what = "PUBLISH.Options";
		return publish_rules;
	case WAMP_SUBSCRIBE:
		*what = "SUBSCRIBE.Options";
		return subscribe_rules;
	case WAMP_EVENT:
		*what = "EVENT.Details";
		return event_rules;
	case WAMP_CALL:
		*what = "CALL.Options";
		return call_rules;
	case WAMP_REGISTER:
		*what = "REGISTER.Options";
		return register_rules;
	case WAMP_CANCEL:
		*what = "CANCEL.Options";
		return cancel_rules;
	case WAMP_INTERRUPT:
		*what = "INTERRUPT.Options";
		return interrupt_rules;
	case WAMP_YIELD:
		*what = "YIELD.Options";
		return yield_rules;
	case WAMP_RESULT:
		*what = "RESULT.Details";
		return result_rules;
	case WAMP_INVOCATION:
		*what = "INVOCATION.Details";
		return invocation_rules;
	default:
		return NULL;
	}
}

static bool is_id(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 &&
	       (uint64_t)json_integer_value(v) <= WAMP_ID_MAX;
}

static bool one_of(const json_t *v, const char *const *allowed)
{
	const char *s = json_string_value(v);

	if (!s)
		return false;
	for (; *allowed; allowed++)
		if (!strcmp(s, *allowed))
			return true;
	return false;
}

/* true if v has the kind; *expect names the kind for the error text. */
static bool value_ok(const json_t *v, enum vkind kind, const char **expect)
{
	static const char *const matches[] = {"exact", "prefix", "wildcard", NULL};
	static const char *const invokes[] = {"single", "roundrobin", "random", "first", "last",
	                                      NULL};
	static const char *const modes[] = {"skip", "kill", "killnowait", NULL};
	static const char *const algos[] = {"cryptobox", "mqtt", "xbr", NULL};
	size_t i;
	json_t *item;

	switch (kind) {
	case V_BOOL:
		*expect = "a bool";
		return json_is_boolean(v);
	case V_STRING:
		*expect = "a string";
		return json_is_string(v);
	case V_UINT:
		*expect = "a non-negative integer";
		return json_is_integer(v) && json_integer_value(v) >= 0;
	case V_ID:
		*expect = "an id";
		return is_id(v);
	case V_ID_LIST:
		*expect = "a list of ids";
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, item)
			if (!is_id(item))
				return false;
		return true;
	case V_STRING_LIST:
		*expect = "a list of strings";
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, item)
			if (!json_is_string(item))
				return false;
		return true;
	case V_DICT:
		*expect = "a dict";
		return json_is_object(v);
	case V_FORWARD_FOR:
		*expect = "a list of {session, authid, authrole}";
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, item) {
			json_t *session = json_object_get(item, "session");
			json_t *authid = json_object_get(item, "authid");
			json_t *authrole = json_object_get(item, "authrole");

			if (!json_is_object(item) || (session && !is_id(session)) ||
			    (authid && !json_is_string(authid)) || (authrole && !json_is_string(authrole)))
				return false;
		}
		return true;
	case V_MATCH:
		*expect = "\"exact\", \"prefix\" or \"wildcard\"";
		return one_of(v, matches);
	case V_INVOKE:
		*expect = "\"single\", \"roundrobin\", \"random\", \"first\" or \"last\"";
		return one_of(v, invokes);
	case V_CANCEL_MODE:
		*expect = "\"skip\", \"kill\" or \"killnowait\"";
		return one_of(v, modes);
	case V_ENC_ALGO:
		*expect = "\"cryptobox\", \"mqtt\", \"xbr\" or \"x_<name>\"";
		return one_of(v, algos) ||
		       (json_is_string(v) && !strncmp(json_string_value(v), "x_", 2) &&
		        json_string_length(v) > 2);
	}
	return false;
}

enum wampd_err wamp_validate(const struct wamp_msg *msg, char *err, size_t errlen)
{
	const char *what = "";
	const struct vrule *r = rules_for(msg->type, &what);

	for (; r && msg->dict && r->key; r++) {
		const json_t *v = json_object_get(msg->dict, r->key);
		const char *expect = "";

		if (v && !value_ok(v, r->kind, &expect)) {
			if (err && errlen)
				snprintf(err, errlen, "%s.%s must be %s", what, r->key, expect);
			return WAMPD_ERR_PROTOCOL;
		}
	}
	if (msg->payload.nonfinite) {
		/* well-formed, but not deliverable to every serializer alike: refused as a
		 * request */
		if (err && errlen)
			snprintf(err, errlen, "%s Arguments|ArgumentsKw hold a non-finite number "
			         "(NaN or Infinity), which JSON cannot carry",
			         wamp_type_name(msg->type));
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	return WAMPD_OK;
}
