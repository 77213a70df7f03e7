/*
 * protocol.c - the WAMP session state machine (see protocol.h).
 *
 * Every handler returns an enum wampd_err; proto_receive() hands a non-OK result to
 * session_fail() together with the request it answers, so no handler writes ERROR or
 * ABORT itself. Which (type, request id) an error answers is decided in one place,
 * proto_request_of().
 *
 * What the state machine keeps per session is its own (struct proto_state, s->proto; realm/
 * does not know its layout): one block, allocated when the transport opens the session
 * (or at its first message), freed in proto_transport_closed(). The authentication in
 * progress lives inside it, so a HELLO costs no allocation of its own. A resumable session
 * whose transport is lost keeps it while detached (router/core/resume.c); a resume swaps
 * its connection facts with the new connection's session (proto_take_connection), which
 * is then freed with the old ones once the dispatch is over (proto_free_replaced).
 */
#include "router/core/protocol.h"

#include <string.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/wassert.h"
#include "router/core/procguard.h"
#include "router/core/resume.h"
#include "realm/replay.h"

struct parked_msg;

/* The state machine's per-session state (s->proto, see session.h for the contract). */
struct proto_state {
	struct router *rt;                 /* the router whose state machine runs the session */
	const struct auth_config *auth;    /* the listener's authentication (borrowed) */
	char *tls_cn;                      /* verified TLS client certificate's CN, or NULL */
	uint8_t *tls_cert_sha1;            /* its SHA-1 fingerprint (20 bytes), or NULL */
	uint8_t *tls_channel_id;           /* tls-unique channel binding: SHA-256 of the client's
	                                      TLS Finished, 32 bytes, or NULL (no TLS) */
	json_t *tls_cert;                  /* the certificate's facts for dynamic authenticators,
	                                      or NULL */
	json_t *hello_details;             /* HELLO.Details as sent until WELCOME, else NULL */
	struct auth_pending *pending;      /* &pending_store between HELLO and WELCOME, or NULL */
	struct auth_pending pending_store;
	struct pending_call *auth_call;    /* dynamic authenticator asked, or NULL */
	struct realm *auth_realm;          /* the realm being joined */
	struct parked_msg *parked;         /* requests waiting for an authorizer (FIFO) */
	struct parked_msg *parked_tail;
	size_t parked_bytes;
	bool blocked;                      /* parked requests must run before new ones */
	bool hello_deadline;               /* opened with a HELLO..WELCOME deadline */
	struct realm_timer *resume_timer;
	struct realm_timer *hello_timer;   /* HELLO..WELCOME deadline (limits.hello_timeout) */
};

/* A transport that sets no authentication (unit tests): anonymous only. */
static const struct auth_config default_auth = {.m = {[AUTH_ANONYMOUS] = {.enabled = true}}};

/* s's state, made on first use (a session no transport opened: unit tests, the HTTP
 * bridge's). NULL on allocation failure. */
static struct proto_state *proto_of(struct router *rt, struct session *s)
{
	if (!s->proto && (s->proto = calloc(1, sizeof(*s->proto)))) {
		s->proto->rt = rt;
		s->proto->auth = &default_auth;
	}
	return s->proto;
}

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

_Static_assert(AUTH__COUNT < METRICS_AUTH_METHODS, "metrics: one slot per auth method + none");

/* The metrics slot of s's authentication method: the one being tried, or the one that
 * succeeded; AUTH__COUNT when none was chosen. */
static unsigned proto_auth_method_index(const struct session *s)
{
	const struct auth_pending *ap = s->proto->pending;
	int m;

	if (ap)
		return ap->method < AUTH__COUNT ? ap->method : AUTH__COUNT;
	m = s->authmethod ? auth_method_from_name(s->authmethod) : -1;
	return m >= 0 ? (unsigned)m : AUTH__COUNT;
}

static json_t *proto_welcome_details(const struct router *rt, const struct session *s)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "realm", s->realm->name,
	                      "authid", s->authid, "authrole", s->authrole, "authmethod",
	                      s->authmethod, "authprovider", s->authprovider, "agent",
	                      "wampd/" WAMPD_VERSION, "roles", rt->welcome_roles);

	if (d && s->authextra)
		json_object_set(d, "authextra", s->authextra);
	return d;
}

static void proto_auth_done(struct proto_state *ps)
{
	if (ps->pending) {
		auth_pending_clear(ps->pending);
		ps->pending = NULL;
	}
	ps->auth_realm = NULL;
}

static void proto_hello_timer_stop(struct router *rt, struct proto_state *ps)
{
	if (ps->hello_timer && rt->realms.timers.cancel)
		rt->realms.timers.cancel(rt->realms.timers.ctx, ps->hello_timer);
	ps->hello_timer = NULL;
}

static void proto_auth_failed(struct router *rt, struct session *s, enum wampd_err err,
                              const char *why);

/* The HELLO..WELCOME deadline passed (from the event loop, not inside a dispatch). */
static void proto_hello_expired(void *arg)
{
	struct session *s = arg;
	struct proto_state *ps = s->proto;
	struct router *rt = ps->rt;

	ps->hello_timer = NULL;
	if (s->state == SESSION_AUTHENTICATING) {
		if (ps->auth_call) { /* a dynamic authenticator that has not answered */
			dealer_forget_internal(ps->auth_call);
			ps->auth_call = NULL;
		}
		proto_auth_failed(rt, s, WAMPD_ERR_AUTH_FAILED,
		                  "authentication not completed within limits.hello_timeout");
	} else if (s->state == SESSION_OPEN) {
		wlog_info("router", "no HELLO within %u s, closing peer=%s", rt->cfg.hello_timeout_s,
		          s->ops->address(s->peer));
		session_close(s, 1008, "no HELLO in time");
	}
}

static void proto_hello_timer_start(struct router *rt, struct session *s)
{
	struct proto_state *ps = s->proto;

	proto_hello_timer_stop(rt, ps);
	if (rt->cfg.hello_timeout_s && rt->realms.timers.start)
		ps->hello_timer = rt->realms.timers.start(rt->realms.timers.ctx,
		                                          rt->cfg.hello_timeout_s * 1000,
		                                          proto_hello_expired, s);
}

bool proto_transport_open(struct router *rt, struct session *s, struct proto_peer *peer)
{
	struct proto_state *ps;

	WAMPD_ASSERT(!s->proto); /* once per session */
	if (!(ps = proto_of(rt, s))) {
		free(peer->tls_cn);
		free(peer->tls_cert_sha1);
		free(peer->tls_channel_id);
		json_decref(peer->tls_cert);
		peer->tls_cn = NULL;
		peer->tls_cert_sha1 = NULL;
		peer->tls_channel_id = NULL;
		peer->tls_cert = NULL;
		return false;
	}
	if (peer->auth)
		ps->auth = peer->auth;
	ps->tls_cn = peer->tls_cn;
	ps->tls_cert_sha1 = peer->tls_cert_sha1;
	ps->tls_channel_id = peer->tls_channel_id;
	ps->tls_cert = peer->tls_cert;
	peer->tls_cn = NULL;
	peer->tls_cert_sha1 = NULL;
	peer->tls_channel_id = NULL;
	peer->tls_cert = NULL;
	ps->hello_deadline = peer->hello_deadline;
	if (ps->hello_deadline)
		proto_hello_timer_start(rt, s);
	return true;
}

const char *proto_tls_cn(const struct session *s)
{
	return s->proto ? s->proto->tls_cn : NULL;
}

const json_t *proto_hello_details(const struct session *s)
{
	return s->proto ? s->proto->hello_details : NULL;
}

struct router *proto_router(const struct session *s)
{
	return s->proto->rt;
}

void proto_take_connection(struct session *to, struct session *from)
{
	struct proto_state *t = to->proto, *f = from->proto, keep = *t;

	WAMPD_ASSERT(t && f && t->rt == f->rt);
	t->auth = f->auth;
	t->tls_cn = f->tls_cn;
	t->tls_cert_sha1 = f->tls_cert_sha1;
	t->tls_channel_id = f->tls_channel_id;
	t->tls_cert = f->tls_cert;
	t->hello_deadline = f->hello_deadline;
	f->auth = keep.auth;
	f->tls_cn = keep.tls_cn; /* freed with from */
	f->tls_cert_sha1 = keep.tls_cert_sha1;
	f->tls_channel_id = keep.tls_channel_id;
	f->tls_cert = keep.tls_cert;
	f->hello_deadline = keep.hello_deadline;
}

bool proto_same_listener(const struct session *a, const struct session *b)
{
	return a->proto && b->proto && a->proto->auth == b->proto->auth;
}

/* After a dispatch: a session whose connection went to the session it resumed
 * (resume_replaced) is spent, and freed here, never inside the dispatch that resumed. */
static void proto_free_replaced(struct router *rt, struct session *s)
{
	if (!resume_replaced(s))
		return;
	proto_transport_closed(rt, s);
	session_free(s);
}

/* What the transport of ps knows about its client, for auth/ (borrowing from ps). */
static struct auth_transport proto_auth_transport(const struct proto_state *ps)
{
	return (struct auth_transport){.tls_cn = ps->tls_cn, .cert_sha1 = ps->tls_cert_sha1,
	                               .channel_id = ps->tls_channel_id, .cert = ps->tls_cert};
}

/* Authentication succeeded: the session joins r with identity id (taken over). */
static enum wampd_err proto_welcome(struct router *rt, struct session *s, struct realm *r,
                                    struct auth_identity *id)
{
	struct wamp_msg welcome = {.type = WAMP_WELCOME};
	const struct authz_role *role = NULL;
	struct session_resume *rs;
	enum wampd_err err;

	proto_auth_done(s->proto);
	session_adopt_identity(s, id);
	if (r->authz.roles) {
		HASH_FIND_STR(r->authz.roles, s->authrole, role);
		if (!role) {
			wlog_info("auth", "no such role session=%llu realm=%s authid=%s authrole=%s "
			          "peer=%s", (unsigned long long)s->id, r->name, s->authid, s->authrole,
			          s->ops->address(s->peer));
			return WAMPD_ERR_NO_SUCH_ROLE;
		}
	}
	if (json_object_get(s->proto->hello_details, "resume")) {
		struct session *resumed;

		switch (resume_session(rt, s, r, proto_welcome_details, &resumed)) {
		case RESUME_REFUSED:
			return WAMPD_ERR_AUTH_FAILED;
		case RESUME_RESUMED: /* s is spent: proto_free_replaced, once the dispatch is over */
			proto_hello_timer_stop(rt, s->proto);
			rt->metrics.auth_ok[proto_auth_method_index(s)]++;
			return WAMPD_OK;
		case RESUME_NEW:
			break;
		}
	}
	if ((err = realm_join(r, s)) != WAMPD_OK)
		return err;
	proto_hello_timer_stop(rt, s->proto);
	rt->metrics.auth_ok[proto_auth_method_index(s)]++;
	welcome.id[0] = s->id;
	welcome.dict = proto_welcome_details(rt, s);
	if (!welcome.dict) {
		realm_leave(s);
		return WAMPD_ERR_NOMEM;
	}
	rs = resume_offer(rt, s, r, welcome.dict);
	session_send_msg(s, &welcome);
	s->resume = rs; /* counted and logged from here on: WELCOME is not */
	json_decref(welcome.dict);
	/* HELLO.Details served authentication only: an idle session should not keep them */
	json_decref(s->proto->hello_details);
	s->proto->hello_details = NULL;
	return WAMPD_OK;
}

/* Count a failed authentication against the peer's address (iplimit: brute-force brake). */
static void proto_count_failure(struct router *rt, struct session *s)
{
	char ip[IPLIMIT_ADDR_MAX];

	if (!rt)
		return;
	iplimit_host(s->ops->address(s->peer), ip);
	iplimit_auth_failed(&rt->ipl, ip, clock_mono_ms());
}

static void proto_auth_failed(struct router *rt, struct session *s, enum wampd_err err,
                              const char *why)
{
	struct proto_state *ps = s->proto;

	if (err == WAMPD_ERR_AUTH_FAILED)
		proto_count_failure(rt, s);
	rt->metrics.auth_fail[proto_auth_method_index(s)]++;
	wlog_notice("auth", "authentication failed realm=%s authid=%s method=%s peer=%s: %s",
	            ps->auth_realm ? ps->auth_realm->name : "",
	            ps->pending && ps->pending->authid ? ps->pending->authid : "",
	            ps->pending ? auth_method_name(ps->pending->method) : "",
	            s->ops->address(s->peer), why);
	proto_auth_done(ps);
	session_fail(s, 0, 0, err, why);
}

static enum wampd_err proto_challenge(struct session *s, json_t *extra)
{
	const char *method = s->proto->pending->method_name; /* as the client named it */
	struct wamp_msg ch = {.type = WAMP_CHALLENGE, .uri = method, .uri_len = strlen(method)};

	ch.dict = extra;
	s->state = SESSION_AUTHENTICATING;
	session_send_msg(s, &ch);
	return WAMPD_OK;
}

static enum wampd_err proto_auth_ask(struct router *rt, struct session *s, const char *ticket);

/* Continue after auth_hello / auth_authenticate / auth_dynamic_principal said `step`. */
static enum wampd_err proto_auth_step(struct router *rt, struct session *s, enum auth_step step,
                                      json_t *extra, struct auth_identity *id,
                                      const char *ticket)
{
	enum wampd_err err;

	switch (step) {
	case AUTH_STEP_WELCOME:
		return proto_welcome(rt, s, s->proto->auth_realm, id);
	case AUTH_STEP_CHALLENGE:
		err = proto_challenge(s, extra);
		json_decref(extra);
		return err;
	case AUTH_STEP_DYNAMIC:
		return proto_auth_ask(rt, s, ticket);
	}
	return WAMPD_ERR_INTERNAL;
}

/* The dynamic authenticator answered (runs later, from the event loop or a dispatch). */
static void proto_auth_answer(void *ctx, enum wampd_err err, const char *error_uri,
                              json_t *args, json_t *kwargs)
{
	struct session *s = ctx;
	struct proto_state *ps = s->proto;
	struct router *rt = ps->rt;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL;

	(void)kwargs;
	ps->auth_call = NULL;
	if (s->state == SESSION_CLOSING || !ps->pending)
		return;
	if (err != WAMPD_OK) {
		proto_auth_failed(rt, s, WAMPD_ERR_AUTH_FAILED,
		                  error_uri ? error_uri : "the authenticator did not answer");
		return;
	}
	err = auth_dynamic_principal(ps->pending, json_array_get(args, 0), &step, &extra, &id);
	if (err == WAMPD_OK)
		err = proto_auth_step(rt, s, step, extra, &id, NULL);
	auth_identity_clear(&id);
	if (err != WAMPD_OK)
		proto_auth_failed(rt, s, err, "the authenticator's answer was not accepted");
	else
		proto_free_replaced(rt, s);
}

/* Ask the method's authenticator procedure about the pending authentication. */
static enum wampd_err proto_auth_ask(struct router *rt, struct session *s, const char *ticket)
{
	struct proto_state *ps = s->proto;
	const struct auth_method_config *mc = &ps->auth->m[ps->pending->method];
	struct realm *where = mc->authenticator_realm
	                          ? realms_find(&rt->realms, mc->authenticator_realm)
	                          : ps->auth_realm;
	struct auth_transport tr = proto_auth_transport(ps);
	json_t *args;
	enum wampd_err err;

	if (!where)
		return WAMPD_ERR_AUTH_FAILED;
	args = auth_dynamic_args(ps->pending, ps->hello_details, &tr, ticket);
	if (!args)
		return WAMPD_ERR_NOMEM;
	s->state = SESSION_AUTHENTICATING;
	err = dealer_call_internal(&where->dealer, mc->authenticator, args, NULL,
	                           rt->cfg.hello_timeout_s * 1000, proto_auth_answer, s,
	                           &ps->auth_call);
	json_decref(args);
	if (err != WAMPD_OK)
		wlog_warn("auth", "authenticator %s unavailable: %s", mc->authenticator,
		          wampd_err_str(err));
	return err == WAMPD_OK ? WAMPD_OK : WAMPD_ERR_AUTH_FAILED;
}

/* HELLO. On failure err[errlen] may say what ABORT's message should (else the error's
 * own text). */
static enum wampd_err proto_hello(struct router *rt, struct session *s,
                                  const struct wamp_msg *msg, char *err, size_t errlen)
{
	struct proto_state *ps = s->proto;
	struct realm *r;
	struct auth_identity id = {0};
	struct auth_transport tr = proto_auth_transport(ps);
	enum auth_step step;
	json_t *extra = NULL;
	enum wampd_err code;

	if (s->state != SESSION_OPEN)
		return WAMPD_ERR_PROTOCOL;
	if (rt->shutting_down)
		return WAMPD_ERR_SYSTEM_SHUTDOWN;
	{
		char ip[IPLIMIT_ADDR_MAX];

		iplimit_host(s->ops->address(s->peer), ip);
		if (iplimit_auth_blocked(&rt->ipl, ip, clock_mono_ms())) {
			rt->metrics.auth_fail[AUTH__COUNT]++;
			wlog_notice("auth", "refused HELLO peer=%s: %u failed authentications within "
			            "%u s", s->ops->address(s->peer), rt->ipl.max_failures,
			            rt->ipl.window_ms / 1000);
			session_fail(s, 0, 0, WAMPD_ERR_AUTH_FAILED,
			             "too many failed authentications from this address: retry later");
			return WAMPD_OK; /* answered */
		}
	}
	if (!uri_valid(msg->uri, msg->uri_len, URI_LOOSE, 0))
		return WAMPD_ERR_INVALID_URI;
	if ((code = resume_request_check(msg->dict, err, errlen)) != WAMPD_OK)
		return code; /* a malformed resume request: before anything is looked up */
	r = realms_find(&rt->realms, msg->uri);
	if (!r && rt->cfg.auto_create_realms) {
		r = realms_add(&rt->realms, msg->uri, URI_LOOSE);
		if (!r)
			return WAMPD_ERR_NOMEM;
		wlog_notice("realm", "created realm=%s (auto_create_realms)", r->name);
	}
	if (!r)
		return WAMPD_ERR_NO_SUCH_REALM;

	s->features = proto_client_features(msg->dict);
	json_decref(ps->hello_details);
	if (!(ps->hello_details = msg->dict ? json_incref(msg->dict) : json_object()))
		return WAMPD_ERR_NOMEM;
	s->id = realms_new_session_id(&rt->realms);
	ps->auth_realm = r;
	ps->pending = &ps->pending_store; /* zeroed: by calloc, or by auth_pending_clear */
	code = auth_hello(ps->auth, r->name, msg->dict, s->id, &tr, &rt->ids, ps->pending, &step,
	                 &extra, &id);
	if (code == WAMPD_OK)
		code = proto_auth_step(rt, s, step, extra, &id, NULL);
	auth_identity_clear(&id);
	if (code != WAMPD_OK) {
		if (code == WAMPD_ERR_AUTH_FAILED || code == WAMPD_ERR_NO_AUTH_METHOD ||
		    code == WAMPD_ERR_NO_SUCH_PRINCIPAL || code == WAMPD_ERR_NO_SUCH_ROLE)
			rt->metrics.auth_fail[code == WAMPD_ERR_NO_AUTH_METHOD ? AUTH__COUNT
			                                                  : proto_auth_method_index(s)]++;
		if (code == WAMPD_ERR_AUTH_FAILED)
			proto_count_failure(rt, s);
		if (code == WAMPD_ERR_AUTH_FAILED || code == WAMPD_ERR_NO_AUTH_METHOD)
			wlog_notice("auth", "authentication refused realm=%s authid=%s peer=%s: %s",
			            r->name, wamp_dict_str(msg->dict, "authid", ""),
			            s->ops->address(s->peer), wampd_err_str(code));
		if (code == WAMPD_ERR_NOT_AUTHORIZED && ps->pending && ps->pending->refusal) {
			/* a method configured "refused" (config_auth.c) */
			snprintf(err, errlen, "%s", ps->pending->refusal);
			wlog_notice("auth", "authentication method refused realm=%s method=%s peer=%s: %s",
			            r->name, auth_method_name(ps->pending->method),
			            s->ops->address(s->peer), err);
		}
		proto_auth_done(ps);
	}
	return code;
}

static enum wampd_err proto_authenticate(struct router *rt, struct session *s,
                                         const struct wamp_msg *msg)
{
	struct auth_identity id = {0};
	enum auth_step step;
	enum wampd_err err;

	if (s->state != SESSION_AUTHENTICATING || !s->proto->pending || s->proto->auth_call)
		return WAMPD_ERR_PROTOCOL;
	err = auth_authenticate(s->proto->pending, msg->uri ? msg->uri : "", msg->uri_len, msg->dict,
	                        &step, &id);
	if (err == WAMPD_OK)
		err = proto_auth_step(rt, s, step, NULL, &id, msg->uri);
	auth_identity_clear(&id);
	if (err != WAMPD_OK) {
		proto_auth_failed(rt, s, err == WAMPD_ERR_NOMEM ? err : WAMPD_ERR_AUTH_FAILED,
		                  "signature or ticket not accepted");
		return WAMPD_OK; /* answered */
	}
	return WAMPD_OK;
}

static enum wampd_err proto_goodbye(struct router *rt, struct session *s)
{
	static const char reason[] = "wamp.close.goodbye_and_out";
	struct wamp_msg reply = {.type = WAMP_GOODBYE, .uri = reason, .uri_len = sizeof(reason) - 1};

	if (s->state == SESSION_SHUTTING_DOWN) {
		/* the client answered our GOODBYE: done */
		realm_leave(s);
		session_close(s, 1000, "wamp.close.system_shutdown");
		return WAMPD_OK;
	}
	session_send_msg(s, &reply);
	realm_leave(s); /* back to OPEN: the transport may start a new session */
	if (s->proto->hello_deadline && s->state == SESSION_OPEN)
		proto_hello_timer_start(rt, s);
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
	case WAMP_REGISTER: {
		/* the router's own authenticators and authorizers first (procguard.c) */
		enum wampd_err err = procguard_register(rt, s, msg);

		return err != WAMPD_OK ? err : dealer_register(&r->dealer, s, msg);
	}
	case WAMP_UNREGISTER:
		return dealer_unregister(&r->dealer, s, msg);
	case WAMP_YIELD:
		return dealer_yield(&r->dealer, s, msg);
	case WAMP_ERROR:
		return dealer_error(&r->dealer, s, msg);
	case WAMP_CANCEL:
		return dealer_cancel(&r->dealer, s, msg);
	case WAMP_ACK: /* only on a session that negotiated resumable */
		return s->resume ? replay_ack(s, msg->id[0]) : WAMPD_ERR_PROTOCOL;
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

/*
 * A well-formed message the validation refused for its content (wamp_validate: a payload
 * with a non-finite number), in an established session. A request (PUBLISH, CALL) gets
 * `err` back and is answered like any handler's error (ERROR; an unacknowledged PUBLISH is
 * only logged and counted). A callee's answer (YIELD, or ERROR to an INVOCATION) has no
 * reply in WAMP: the call it answers ends for its caller with ERROR `err` (message `why`)
 * instead, as if the callee had sent that, and the callee's payload goes nowhere.
 */
static enum wampd_err proto_refused(struct session *s, const struct wamp_msg *msg,
                                    enum wampd_err err, const char *why)
{
	struct wamp_msg e = {.type = WAMP_ERROR, .id = {WAMP_INVOCATION, msg->id[0]}};
	enum wampd_err res;

	if (msg->type == WAMP_PUBLISH || msg->type == WAMP_CALL)
		return err;
	if (msg->type == WAMP_ERROR && msg->id[0] == WAMP_INVOCATION)
		e.id[1] = msg->id[1];
	else if (msg->type != WAMP_YIELD)
		return WAMPD_ERR_PROTOCOL; /* only a router sends it, as proto_dispatch says */
	wlog_info("dealer", "session=%llu answered INVOCATION %llu with %s: the call fails: %s",
	          (unsigned long long)s->id, (unsigned long long)e.id[1],
	          wamp_type_name(msg->type), why);
	e.uri = wampd_err_uri(err);
	e.uri_len = strlen(e.uri);
	e.payload.args_v = json_pack("[s]", why);
	res = dealer_error(&s->realm->dealer, s, &e);
	json_decref(e.payload.args_v);
	return res;
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

/* ---------------------------------------------------------------------------------- */
/* requests waiting for a dynamic authorizer                                            */

#define PARKED_MAX_BYTES (1u << 20)

struct parked_msg {
	struct parked_msg *next;
	size_t len;
	uint8_t bytes[];
};

static void proto_process(struct router *rt, struct session *s, const uint8_t *buf, size_t len,
                          struct parked_msg *replayed);

/* Keep a request (or put a replayed one back) until the authorizer answered. */
static void proto_park(struct session *s, const uint8_t *buf, size_t len,
                       struct parked_msg *replayed)
{
	struct proto_state *ps = s->proto;
	struct parked_msg *m = replayed;

	if (!m) {
		if (ps->parked_bytes + len > PARKED_MAX_BYTES || !(m = malloc(sizeof(*m) + len))) {
			session_fail(s, 0, 0, WAMPD_ERR_PROTOCOL,
			             "too many requests waiting for authorization");
			return;
		}
		m->len = len;
		memcpy(m->bytes, buf, len);
		ps->parked_bytes += len;
		m->next = NULL;
		if (ps->parked_tail)
			ps->parked_tail->next = m;
		else
			ps->parked = m;
		ps->parked_tail = m;
	} else {
		/* back at the head: it is still the oldest */
		m->next = ps->parked;
		ps->parked = m;
		if (!ps->parked_tail)
			ps->parked_tail = m;
	}
	ps->blocked = true;
}

static void proto_parked_clear(struct proto_state *ps)
{
	while (ps->parked) {
		struct parked_msg *m = ps->parked;

		ps->parked = m->next;
		free(m);
	}
	ps->parked_tail = NULL;
	ps->parked_bytes = 0;
}

static void proto_resume_now(void *arg)
{
	struct session *s = arg;
	struct proto_state *ps = s->proto;

	ps->resume_timer = NULL;
	ps->blocked = false;
	while (!ps->blocked && ps->parked && s->state != SESSION_CLOSING) {
		struct parked_msg *m = ps->parked;

		ps->parked = m->next;
		if (!ps->parked)
			ps->parked_tail = NULL;
		m->next = NULL;
		proto_process(ps->rt, s, m->bytes, m->len, m);
		if (!ps->blocked || ps->parked != m) {
			ps->parked_bytes -= m->len;
			free(m);
		}
	}
}

/* realms->resume: the authorizer answered; replay s's parked requests from the loop. A
 * session the state machine never ran has nothing parked. */
static void proto_resume(struct session *s, void *ctx)
{
	struct router *rt = ctx;
	struct proto_state *ps = s->proto;

	if (!ps || ps->resume_timer || !rt->realms.timers.start)
		return;
	ps->resume_timer = rt->realms.timers.start(rt->realms.timers.ctx, 0, proto_resume_now, s);
}

bool proto_init(struct router *rt)
{
	rt->realms.resume = proto_resume;
	rt->realms.resume_ctx = rt;
	/* built once: every WELCOME shares it */
	rt->welcome_roles = json_pack("{s:{s:o}, s:{s:o}}", "broker", "features", broker_features(),
	                              "dealer", "features", dealer_features());
	return rt->welcome_roles != NULL;
}

void proto_receive(struct router *rt, struct session *s, const uint8_t *buf, size_t len)
{
	if (s->state == SESSION_CLOSING)
		return;
	rt->stats.msgs_in++;
	if (!proto_of(rt, s)) {
		session_fail(s, 0, 0, WAMPD_ERR_NOMEM, NULL);
		return;
	}
	if (s->proto->blocked) {
		proto_park(s, buf, len, NULL);
		return;
	}
	proto_process(rt, s, buf, len, NULL);
	proto_free_replaced(rt, s);
}

static void proto_process(struct router *rt, struct session *s, const uint8_t *buf, size_t len,
                          struct parked_msg *replayed)
{
	struct wamp_msg msg;
	enum wampd_err err, refused = WAMPD_OK;
	char why[160];
	int req_type;
	uint64_t req_id;

	why[0] = '\0';
	err = wamp_decode(s->ser, buf, len, &rt->codec_limits, &msg, why, sizeof(why));
	if (err == WAMPD_OK && (err = wamp_validate(&msg, why, sizeof(why))) != WAMPD_OK &&
	    !wampd_err_is_fatal(err) && s->state == SESSION_ESTABLISHED) {
		refused = err; /* well-formed, refused for its content: answered as a request */
		err = WAMPD_OK;
	}
	if (err != WAMPD_OK) {
		wamp_msg_clear(&msg);
		rt->stats.protocol_errors++;
		session_fail(s, 0, 0, err == WAMPD_ERR_NOMEM ? WAMPD_ERR_PROTOCOL : err,
		             why[0] ? why : NULL);
		return;
	}

	metrics_count_type(rt->metrics.msgs_in, msg.type);
	switch (s->state) {
	case SESSION_OPEN:
		if (msg.type == WAMP_HELLO) {
			err = proto_hello(rt, s, &msg, why, sizeof(why));
		} else {
			snprintf(why, sizeof(why), "%s before HELLO", wamp_type_name(msg.type));
			err = WAMPD_ERR_PROTOCOL;
		}
		break;
	case SESSION_AUTHENTICATING:
		if (msg.type == WAMP_AUTHENTICATE) {
			err = proto_authenticate(rt, s, &msg);
		} else if (msg.type == WAMP_ABORT) {
			proto_auth_done(s->proto);
			session_close(s, 1000, "client abort");
		} else {
			snprintf(why, sizeof(why), "%s while authenticating", wamp_type_name(msg.type));
			err = WAMPD_ERR_PROTOCOL;
		}
		break;
	case SESSION_ESTABLISHED:
		if (s->resume) {
			replay_token_seen(s->resume); /* it has the last WELCOME's token */
			if (!replayed && msg.type != WAMP_ACK)
				replay_received(s); /* counted once, before it can end the session */
		}
		err = refused != WAMPD_OK ? proto_refused(s, &msg, refused, why)
		                          : proto_dispatch(rt, s, &msg);
		if (err == WAMPD_ERR_PROTOCOL && !why[0] && msg.type == WAMP_ACK)
			replay_ack_why(s, msg.id[0], why, sizeof(why));
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

	if (err == WAMPD_ERR_AUTHZ_PENDING) {
		proto_park(s, buf, len, replayed);
		wamp_msg_clear(&msg);
		return;
	}
	realm_authorize_settled(s); /* answers kept for this request's retries are spent */
	if (err != WAMPD_OK) {
		proto_request_of(&msg, &req_type, &req_id);
		if (msg.type == WAMP_PUBLISH && !wampd_err_is_fatal(err))
			rt->metrics.publish_refused[err]++;
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
	struct proto_state *ps = s->proto;

	if (resume_detach(rt, s))
		return; /* kept for its client to resume: the connection no longer has it, the
		           state machine's state stays with the session */
	if (ps) {
		if (ps->auth_call) {
			dealer_forget_internal(ps->auth_call);
			ps->auth_call = NULL;
		}
		proto_auth_done(ps);
		proto_hello_timer_stop(rt, ps);
		if (ps->resume_timer && rt->realms.timers.cancel)
			rt->realms.timers.cancel(rt->realms.timers.ctx, ps->resume_timer);
		ps->resume_timer = NULL;
		proto_parked_clear(ps);
		json_decref(ps->hello_details);
		free(ps->tls_cn);
		free(ps->tls_cert_sha1);
		free(ps->tls_channel_id);
		json_decref(ps->tls_cert);
		free(ps);
		s->proto = NULL; /* gone before the realm forgets s: nothing replays its parked
		                    requests (proto_resume) */
	}
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
