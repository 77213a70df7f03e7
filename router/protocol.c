/*
 * protocol.c - the WAMP session state machine (see protocol.h).
 *
 * Every handler returns an enum wampd_err; proto_receive() hands a non-OK result to
 * session_fail() together with the request it answers, so no handler writes ERROR or
 * ABORT itself. Which (type, request id) an error answers is decided in one place,
 * proto_request_of().
 */
#include "router/protocol.h"

#include <string.h>

#include "auth/auth.h"
#include "common/log.h"

/* Client roles and the feature flags wampd reads from HELLO.Details.roles. */
static uint32_t proto_client_features(const json_t *details)
{
	static const struct {
		const char *role, *feature;
		uint32_t bit;
	} map[] = {
		{"caller", "progressive_call_results", SF_CALLER_PROGRESSIVE_RESULTS},
		{"caller", "progressive_call_invocations", SF_CALLER_PROGRESSIVE_INVOCATIONS},
		{"callee", "progressive_call_results", SF_CALLEE_PROGRESSIVE_RESULTS},
		{"callee", "call_canceling", SF_CALLEE_CALL_CANCELING},
		{"callee", "call_cancelling", SF_CALLEE_CALL_CANCELING}, /* spelling in the spec */
		{"callee", "progressive_call_invocations", SF_CALLEE_PROGRESSIVE_INVOCATIONS},
		{"callee", "caller_identification", SF_CALLEE_CALLER_IDENTIFICATION},
		{"callee", "registration_revocation", SF_CALLEE_REGISTRATION_REVOCATION},
		{"subscriber", "subscription_revocation", SF_SUBSCRIBER_REVOCATION},
	};
	const json_t *roles = json_object_get(details, "roles");
	uint32_t bits = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const json_t *role = json_object_get(roles, map[i].role);
		const json_t *features = json_object_get(role, "features");

		if (wamp_dict_bool(features, map[i].feature, false))
			bits |= map[i].bit;
	}
	return bits;
}

/* true if the client's HELLO.Details.authmethods (if given) allows `method`. */
static bool proto_authmethod_offered(const json_t *details, const char *method)
{
	const json_t *methods = json_object_get(details, "authmethods");
	size_t i;
	const json_t *m;

	if (!json_is_array(methods) || json_array_size(methods) == 0)
		return true;
	json_array_foreach(methods, i, m)
		if (json_is_string(m) && !strcmp(json_string_value(m), method))
			return true;
	return false;
}

static json_t *proto_welcome_details(const struct session *s)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:{s:o}, s:{s:o}}}",
	                      "realm", s->realm->name, "authid", s->authid, "authrole",
	                      s->authrole, "authmethod", s->authmethod, "authprovider",
	                      s->authprovider, "agent", "wampd/" WAMPD_VERSION, "roles",
	                      "broker", "features", broker_features(), "dealer", "features",
	                      dealer_features());

	if (d && s->authextra)
		json_object_set(d, "authextra", s->authextra);
	return d;
}

static enum wampd_err proto_hello(struct router *rt, struct session *s,
                                  const struct wamp_msg *msg)
{
	struct realm *r;
	struct auth_identity id;
	struct wamp_msg welcome = {.type = WAMP_WELCOME};
	enum wampd_err err;

	if (s->state != SESSION_OPEN)
		return WAMPD_ERR_PROTOCOL;
	if (rt->shutting_down)
		return WAMPD_ERR_SYSTEM_SHUTDOWN;
	if (!uri_valid(msg->uri, msg->uri_len, URI_LOOSE, 0))
		return WAMPD_ERR_INVALID_URI;
	r = realms_find(&rt->realms, msg->uri);
	if (!r && rt->cfg.auto_create_realms) {
		r = realms_add(&rt->realms, msg->uri, URI_LOOSE);
		if (!r)
			return WAMPD_ERR_NOMEM;
		wlog_notice("realm", "created realm=%s (auto_create_realms)", r->name);
	}
	if (!r)
		return WAMPD_ERR_NO_SUCH_REALM;

	if (!proto_authmethod_offered(msg->dict, "anonymous"))
		return WAMPD_ERR_NO_AUTH_METHOD;
	if ((err = auth_anonymous(msg->dict, NULL, &id)) != WAMPD_OK)
		return err;
	session_adopt_identity(s, &id);
	s->features = proto_client_features(msg->dict);
	json_decref(s->hello_details);
	s->hello_details = json_incref(msg->dict);

	if ((err = realm_join(r, s)) != WAMPD_OK)
		return err;
	welcome.id[0] = s->id;
	welcome.dict = proto_welcome_details(s);
	if (!welcome.dict) {
		realm_leave(s);
		return WAMPD_ERR_NOMEM;
	}
	session_send_msg(s, &welcome);
	json_decref(welcome.dict);
	return WAMPD_OK;
}

static enum wampd_err proto_goodbye(struct router *rt, struct session *s)
{
	static const char reason[] = "wamp.close.goodbye_and_out";
	struct wamp_msg reply = {.type = WAMP_GOODBYE, .uri = reason, .uri_len = sizeof(reason) - 1};

	(void)rt;
	if (s->state == SESSION_SHUTTING_DOWN) {
		/* the client answered our GOODBYE: done */
		realm_leave(s);
		session_close(s, 1000, "wamp.close.system_shutdown");
		return WAMPD_OK;
	}
	session_send_msg(s, &reply);
	realm_leave(s); /* back to OPEN: the transport may start a new session */
	return WAMPD_OK;
}

/* Dispatch a message of an ESTABLISHED session. */
static enum wampd_err proto_dispatch(struct router *rt, struct session *s,
                                     const struct wamp_msg *msg)
{
	struct realm *r = s->realm;

	switch (msg->type) {
	case WAMP_PUBLISH:
		return broker_publish(&r->broker, s, msg);
	case WAMP_SUBSCRIBE:
		return broker_subscribe(&r->broker, s, msg);
	case WAMP_UNSUBSCRIBE:
		return broker_unsubscribe(&r->broker, s, msg);
	case WAMP_CALL:
		return dealer_call(&r->dealer, s, msg);
	case WAMP_REGISTER:
		return dealer_register(&r->dealer, s, msg);
	case WAMP_UNREGISTER:
		return dealer_unregister(&r->dealer, s, msg);
	case WAMP_YIELD:
		return dealer_yield(&r->dealer, s, msg);
	case WAMP_ERROR:
		return dealer_error(&r->dealer, s, msg);
	case WAMP_CANCEL:
		return dealer_cancel(&r->dealer, s, msg);
	case WAMP_GOODBYE:
		return proto_goodbye(rt, s);
	case WAMP_ABORT:
		realm_leave(s);
		session_close(s, 1000, "client abort");
		return WAMPD_OK;
	default:
		/* HELLO again, or a message only a router sends */
		return WAMPD_ERR_PROTOCOL;
	}
}

/* The request an error answers: (type, request id), or (0, 0) for none (ABORT). */
static void proto_request_of(const struct wamp_msg *msg, int *type, uint64_t *id)
{
	switch (msg->type) {
	case WAMP_PUBLISH:
	case WAMP_SUBSCRIBE:
	case WAMP_UNSUBSCRIBE:
	case WAMP_CALL:
	case WAMP_CANCEL:
	case WAMP_REGISTER:
	case WAMP_UNREGISTER:
		*type = msg->type;
		*id = msg->id[0];
		return;
	default:
		*type = 0;
		*id = 0;
	}
}

void proto_receive(struct router *rt, struct session *s, const uint8_t *buf, size_t len)
{
	struct wamp_msg msg;
	enum wampd_err err;
	char why[160];
	int req_type;
	uint64_t req_id;

	if (s->state == SESSION_CLOSING)
		return;
	rt->stats.msgs_in++;
	why[0] = '\0';
	err = wamp_decode(s->ser, buf, len, &rt->codec_limits, &msg, why, sizeof(why));
	if (err == WAMPD_OK && (err = wamp_validate(&msg, why, sizeof(why))) != WAMPD_OK)
		wamp_msg_clear(&msg);
	if (err != WAMPD_OK) {
		rt->stats.protocol_errors++;
		session_fail(s, 0, 0, err == WAMPD_ERR_NOMEM ? WAMPD_ERR_PROTOCOL : err,
		             why[0] ? why : NULL);
		return;
	}

	switch (s->state) {
	case SESSION_OPEN:
		if (msg.type == WAMP_HELLO) {
			err = proto_hello(rt, s, &msg);
		} else {
			snprintf(why, sizeof(why), "%s before HELLO", wamp_type_name(msg.type));
			err = WAMPD_ERR_PROTOCOL;
		}
		break;
	case SESSION_ESTABLISHED:
		err = proto_dispatch(rt, s, &msg);
		if (err == WAMPD_ERR_PROTOCOL && !why[0])
			snprintf(why, sizeof(why), "%s not allowed here", wamp_type_name(msg.type));
		break;
	case SESSION_SHUTTING_DOWN:
		/* waiting for the client's GOODBYE; everything else is ignored (sessions.md, 14) */
		if (msg.type == WAMP_GOODBYE)
			err = proto_goodbye(rt, s);
		else if (msg.type == WAMP_ABORT)
			session_close(s, 1000, "client abort");
		break;
	default:
		err = WAMPD_ERR_PROTOCOL;
		break;
	}

	if (err != WAMPD_OK) {
		proto_request_of(&msg, &req_type, &req_id);
		if (msg.type == WAMP_PUBLISH && !wampd_err_is_fatal(err) &&
		    !wamp_dict_bool(msg.dict, "acknowledge", false)) {
			/* an unacknowledged PUBLISH gets no ERROR (clients would not expect it) */
			wlog_info("broker", "publish failed session=%llu topic=%s: %s",
			          (unsigned long long)s->id, msg.uri ? msg.uri : "",
			          wampd_err_uri(err));
		} else {
			if (err == WAMPD_ERR_PROTOCOL)
				rt->stats.protocol_errors++;
			session_fail(s, req_type, req_id, err, why[0] ? why : NULL);
		}
	}
	wamp_msg_clear(&msg);
}

void proto_transport_closed(struct router *rt, struct session *s)
{
	(void)rt;
	realm_leave(s);
	s->state = SESSION_CLOSING;
}

void proto_shutdown(struct router *rt, struct session *s)
{
	static const char reason[] = "wamp.close.system_shutdown";
	struct wamp_msg bye = {.type = WAMP_GOODBYE, .uri = reason, .uri_len = sizeof(reason) - 1};

	(void)rt;
	if (s->state == SESSION_ESTABLISHED) {
		bye.dict = json_pack("{s:s}", "message", "the router is shutting down");
		session_send_msg(s, &bye);
		json_decref(bye.dict);
		s->state = SESSION_SHUTTING_DOWN;
	} else if (s->state != SESSION_SHUTTING_DOWN) {
		session_close(s, 1001, "router shutting down");
	}
}
