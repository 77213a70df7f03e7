/*
 * resume.c - resumable sessions, the router's side (see resume.h for what happens when).
 *
 * A detached session keeps its struct session, its realm membership and its resume state;
 * only its transport changes: its peer_ops become detached_ops (peer = the session
 * itself), whose close ends it from a timer, and its sends go to the replay log only
 * (replay_send); the state machine's state (s->proto) stays with it. Resuming puts the new
 * connection's peer_ops and peer back, swaps the connection-side facts of the state
 * machine's state with the new connection's own (never joined) session
 * (proto_take_connection: listener authentication, TLS identity, HELLO deadline), and
 * tells the connection to carry it (peer_ops.adopt). The new connection's own session is
 * then spent: the state machine frees it, with the old connection's facts, once the
 * dispatch that resumed is over (resume_replaced), never inside it.
 *
 * Nothing here runs per message: only at WELCOME, a lost transport, a resume and an end.
 * Those are counted in the loop's metrics (detached, resumed, ended by why: the window's
 * timer is "expired", the deferred end of a close is "closed"); how many are detached now
 * is read from the realms when scraped (replay_detached).
 */
#include "router/core/resume.h"

#include <sodium.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "realm/replay.h"
#include "router/core/iplimit.h"
#include "router/core/protocol.h"

/* ------------------------------------------------------------------------------------ */
/* a detached session's peer                                                              */

static void resume_end(struct session *s, enum metrics_detached_end why);

/* The window passed. */
static void resume_expired(void *arg)
{
	struct session *s = arg;

	s->resume->end_timer = NULL;
	resume_end(s, METRICS_DETACHED_EXPIRED);
}

/* The deferred end of a close (detached_close). */
static void resume_closed(void *arg)
{
	struct session *s = arg;

	s->resume->end_timer = NULL;
	resume_end(s, s->resume->over_budget ? METRICS_DETACHED_BUDGET : METRICS_DETACHED_CLOSED);
}

static enum wampd_err detached_send(void *peer, struct wamp_out *out)
{
	(void)peer, (void)out;
	return WAMPD_OK; /* replay_send logs it and does not call this while detached */
}

/* session_close (a kill) or the log's bound: the session ends from the loop. */
static void detached_close(void *peer, int code, const char *reason, bool now)
{
	struct session *s = peer;
	const struct realm_timer_ops *t = &proto_router(s)->realms.timers;
	struct realm_timer *due;

	(void)code, (void)now;
	wlog_info("session", "detached session=%llu ends: %s", (unsigned long long)s->id,
	          reason ? reason : "closed");
	if (!(due = t->start(t->ctx, 0, resume_closed, s)))
		return; /* out of memory: it ends when its window passes */
	if (s->resume->end_timer)
		t->cancel(t->ctx, s->resume->end_timer);
	s->resume->end_timer = due;
}

static const char *detached_address(void *peer)
{
	const struct session *s = peer;

	return s->resume ? s->resume->addr : "detached";
}

static const struct peer_ops detached_ops = {
	.send = detached_send,
	.close = detached_close,
	.address = detached_address,
	.kind = "detached",
};

/* The peer of a session whose connection went to the session it resumed. */
static enum wampd_err replaced_send(void *peer, struct wamp_out *out)
{
	(void)peer, (void)out;
	return WAMPD_OK;
}

static void replaced_close(void *peer, int code, const char *reason, bool now)
{
	(void)peer, (void)code, (void)reason, (void)now;
}

static const char *replaced_address(void *peer)
{
	(void)peer;
	return "replaced";
}

static const struct peer_ops replaced_ops = {
	.send = replaced_send,
	.close = replaced_close,
	.address = replaced_address,
	.kind = "replaced",
};

bool resume_replaced(const struct session *s)
{
	return s->ops == &replaced_ops;
}

/* ------------------------------------------------------------------------------------ */
/* detach, end                                                                            */

/* A detached session keeps its connection's place in limits.max_sessions (rt->nconns)
 * and limits.max_sessions_per_ip (by the address it had): what detached sessions hold is
 * bounded like what connections hold, and a peer cannot pile them up by reconnecting. */
static bool resume_count(struct router *rt, const char *addr)
{
	char ip[IPLIMIT_ADDR_MAX];

	iplimit_host(addr, ip);
	if (!iplimit_conn_open(&rt->ipl, ip))
		return false;
	rt->nconns++;
	return true;
}

static void resume_uncount(struct router *rt, const char *addr)
{
	char ip[IPLIMIT_ADDR_MAX];

	iplimit_host(addr, ip);
	iplimit_conn_close(&rt->ipl, ip);
	rt->nconns--;
}

bool resume_detach(struct router *rt, struct session *s)
{
	struct session_resume *rs = s->resume;
	const struct realm_timer_ops *t = &rt->realms.timers;

	if (!rs || rs->detached || rs->ended || !s->realm || !s->proto ||
	    s->state != SESSION_ESTABLISHED || rt->shutting_down || !t->start || !s->ops->adopt)
		return false;
	if (!resume_count(rt, s->ops->address(s->peer))) {
		wlog_info("session", "session=%llu not detached: its address has no room left "
		          "(limits.max_sessions_per_ip)", (unsigned long long)s->id);
		return false;
	}
	if (!(rs->end_timer = t->start(t->ctx, s->realm->resume.window_s * 1000u, resume_expired,
	                               s))) {
		resume_uncount(rt, s->ops->address(s->peer));
		return false;
	}
	if (rs->ack_timer) {
		t->cancel(t->ctx, rs->ack_timer);
		rs->ack_timer = NULL;
	}
	snprintf(rs->addr, sizeof(rs->addr), "%s", s->ops->address(s->peer));
	s->ops->adopt(s->peer, NULL); /* the connection lets go of it */
	s->ops = &detached_ops;
	s->peer = s;
	rs->detached_at_ms = clock_wall_ms();
	rs->detached_mono_ms = clock_mono_ms();
	rs->window_ms = s->realm->resume.window_s * 1000u;
	s->metrics->sessions_detached++;
	wlog_info("session", "detached session=%llu realm=%s authid=%s peer=%s: resumable for %u s "
	          "(sent=%llu unacknowledged=%u bytes=%zu received=%llu)",
	          (unsigned long long)s->id, s->realm->name, s->authid ? s->authid : "", rs->addr,
	          s->realm->resume.window_s, (unsigned long long)rs->sent, rs->count, rs->bytes,
	          (unsigned long long)rs->received);
	/* its log joins the realm's budget; when it does not fit there, the oldest detached
	 * sessions end, this one last (then from a timer: detached_close) */
	(void)replay_detach(s);
	return true;
}

/* A detached session ends (from a timer, never inside a dispatch): as when a transport
 * closes, without detaching again. */
static void resume_end(struct session *s, enum metrics_detached_end why)
{
	struct router *rt = proto_router(s);

	static const char *const whys[METRICS_DETACHED_ENDS] = {
		[METRICS_DETACHED_EXPIRED] = "its window passed",
		[METRICS_DETACHED_CLOSED] = "closed: killed, log full, a failed resume or shutdown",
		[METRICS_DETACHED_BUDGET] = "the oldest over the realm's resume.max_detached_bytes",
	};

	wlog_info("session", "detached session=%llu ended (%s)", (unsigned long long)s->id,
	          whys[why]);
	s->metrics->detached_ended[why]++;
	resume_uncount(rt, s->resume->addr);
	s->resume->ended = true;
	proto_transport_closed(rt, s);
	session_free(s);
}

void resume_end_all(struct router *rt)
{
	struct realm *r, *rtmp;
	struct session *s, *stmp;

	HASH_ITER(hh, rt->realms.by_name, r, rtmp)
		HASH_ITER(hh, r->sessions, s, stmp)
			if (s->resume && s->resume->detached)
				resume_end(s, METRICS_DETACHED_CLOSED);
}

/* ------------------------------------------------------------------------------------ */
/* WELCOME, resume                                                                        */

static bool resume_add_token(struct session_resume *rs, const struct session *s,
                             const struct realm *r, json_t *details)
{
	char token[REPLAY_TOKEN_B64];
	bool ok;

	replay_token_new(rs, s->id, s->authid, token);
	ok = json_object_set_new(details, "resumable", json_true()) == 0 &&
	     json_object_set_new(details, "resume-token", json_string(token)) == 0 &&
	     json_object_set_new(details, "resume_window_s",
	                         json_integer((json_int_t)r->resume.window_s)) == 0;
	sodium_memzero(token, sizeof(token)); /* the details hold the only copy now */
	return ok;
}

struct session_resume *resume_offer(struct router *rt, struct session *s, struct realm *r,
                                    json_t *details)
{
	struct session_resume *rs;
	const json_t *hello = proto_hello_details(s);
	bool asked = wamp_dict_bool(hello, "resumable", false);

	if (json_object_get(hello, "resume"))
		json_object_set_new(details, "resumed", json_false());
	if (!asked)
		return NULL;
	if (!r->resume.window_s || !s->ops->adopt || !rt->realms.timers.start ||
	    !(rs = replay_new(r->resume.max_bytes))) {
		json_object_set_new(details, "resumable", json_false());
		return NULL;
	}
	if (!resume_add_token(rs, s, r, details)) {
		replay_free(rs);
		return NULL;
	}
	return rs;
}

enum wampd_err resume_request_check(const json_t *details, char *why, size_t whylen)
{
	static const json_int_t max_id = (json_int_t)1 << 53;
	const json_t *v = json_object_get(details, "resumable"), *req, *id, *tok, *n;
	const char *bad = NULL;

	if (v && !json_is_boolean(v))
		bad = "resumable must be a boolean";
	else if (!(req = json_object_get(details, "resume")))
		return WAMPD_OK;
	else if (!json_is_object(req))
		bad = "resume must be an object {session, token, received}";
	else if (!json_is_integer(id = json_object_get(req, "session")) ||
	         json_integer_value(id) < 1 || json_integer_value(id) > max_id)
		bad = "resume.session must be a session id (an integer in [1, 2^53])";
	else if (!json_is_string(tok = json_object_get(req, "token")))
		bad = "resume.token must be a string";
	else if (!json_is_integer(n = json_object_get(req, "received")) ||
	         json_integer_value(n) < 0 || json_integer_value(n) > max_id)
		bad = "resume.received must be a count (an integer in [0, 2^53])";
	if (!bad)
		return WAMPD_OK;
	snprintf(why, whylen, "HELLO.Details: %s", bad);
	return WAMPD_ERR_PROTOCOL;
}

/* The connection side of `from` (a new connection's session, never joined) goes to `to`:
 * its peer and, in the state machine's state, the listener's authentication, the TLS
 * identity (CN, certificate SHA-1, channel binding) and the HELLO deadline rule
 * (proto_take_connection: to's old ones go to from and are freed with it). from is spent:
 * the state machine frees it once the dispatch that resumed is over. */
static void resume_take_connection(struct session *to, struct session *from)
{
	to->ops = from->ops;
	to->peer = from->peer;
	proto_take_connection(to, from);
	from->state = SESSION_CLOSING;
	from->ops = &replaced_ops;
	from->peer = from;
	to->ops->adopt(to->peer, to);
}

/*
 * The authid the token of `old` must be bound to for s to resume it: s's own, except that
 * an anonymous authid is no identity but a random name drawn for each connection, so
 * between two anonymous connections the token alone decides (the resumed session keeps
 * its name). A session of another method is never resumed by an anonymous one.
 */
static const char *resume_principal(const struct session *old, const struct session *s)
{
	static const char anon[] = "anonymous";

	if (old->authmethod && s->authmethod && !strcmp(old->authmethod, anon) &&
	    !strcmp(s->authmethod, anon))
		return old->authid;
	return s->authid;
}

/* Why a session whose token was right cannot resume on s (NULL: it can). */
static const char *resume_obstacle(const struct session *old, const struct session *s,
                                   int64_t n)
{
	if (old->ser != s->ser)
		return "another serializer";
	if (!s->ops->adopt)
		return "a transport that cannot carry it";
	if (strcmp(old->authrole ? old->authrole : "", s->authrole ? s->authrole : ""))
		return "another authrole";
	if (n < 0 || !replay_count_ok(old, (uint64_t)n))
		return "a received count out of range";
	return NULL;
}

enum resume_result resume_session(struct router *rt, struct session *s, struct realm *r,
                                  json_t *(*details)(const struct router *rt,
                                                     const struct session *s),
                                  struct session **resumed)
{
	const json_t *req = json_object_get(proto_hello_details(s), "resume");
	int64_t id = wamp_dict_int(req, "session", 0), n = wamp_dict_int(req, "received", -1);
	const char *token = wamp_dict_str(req, "token", NULL);
	struct session *old = id > 0 ? realm_session(r, (uint64_t)id) : NULL;
	const struct realm_timer_ops *t = &rt->realms.timers;
	struct wamp_msg welcome = {.type = WAMP_WELCOME};
	struct replay_token_saved kept;
	enum replay_token_match used;
	char tok[REPLAY_TOKEN_B64];
	struct session_resume *rs;
	struct wamp_out *out;
	const char *why;
	enum wampd_err err;
	uint64_t replayed;

	*resumed = NULL;
	/* through another listener (other authentication, other network) the session is as
	 * unknown: that listener is no way in, and the session is left alone */
	if (!old || !(rs = old->resume) || rs->ended || old->state != SESSION_ESTABLISHED ||
	    !proto_same_listener(old, s)) {
		wlog_info("session", "resume of session=%lld refused realm=%s peer=%s: unknown, ended "
		          "or not resumable through this listener; a new session", (long long)id,
		          r->name, s->ops->address(s->peer));
		return RESUME_NEW;
	}
	if ((used = replay_token_check(old, token, resume_principal(old, s))) ==
	    REPLAY_TOKEN_NONE) {
		wlog_notice("auth", "resume of session=%llu refused realm=%s authid=%s peer=%s: the "
		            "token does not match", (unsigned long long)old->id, r->name,
		            s->authid ? s->authid : "", s->ops->address(s->peer));
		return RESUME_REFUSED;
	}
	/* the token is right: this client owns the session, whatever happens next */
	if ((why = resume_obstacle(old, s, n)) || !(welcome.dict = details(rt, old))) {
		wlog_info("session", "session=%llu cannot resume on peer=%s (%s): it ends, the client "
		          "gets a new session", (unsigned long long)old->id, s->ops->address(s->peer),
		          why ? why : "out of memory");
		session_close(old, 1000, "wamp.close.resume_failed");
		return RESUME_NEW;
	}
	replay_token_rotate(rs, old->id, old->authid, used, &kept, tok);
	welcome.id[0] = old->id;
	if (json_object_set_new(welcome.dict, "resumed", json_true()) ||
	    json_object_set_new(welcome.dict, "resumable", json_true()) ||
	    json_object_set_new(welcome.dict, "resume-token", json_string(tok)) ||
	    json_object_set_new(welcome.dict, "resume_window_s",
	                        json_integer((json_int_t)r->resume.window_s)) ||
	    json_object_set_new(welcome.dict, "received", json_integer((json_int_t)rs->received)) ||
	    !(out = wamp_encode(old->ser, &welcome, &err))) {
		replay_token_restore(rs, &kept); /* nothing happened */
		sodium_memzero(tok, sizeof(tok));
		json_decref(welcome.dict);
		return RESUME_NEW;
	}
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(&kept, sizeof(kept));
	json_decref(welcome.dict);

	/* from here on nothing fails */
	if (!rs->detached) {
		/* its connection is still open (half-open, or not yet seen closing): replaced */
		const struct peer_ops *ops = old->ops;
		void *peer = old->peer;

		wlog_info("session", "session=%llu resumed while its connection peer=%s was open: "
		          "that one is closed", (unsigned long long)old->id, ops->address(peer));
		if (rs->ack_timer) {
			t->cancel(t->ctx, rs->ack_timer);
			rs->ack_timer = NULL;
		}
		ops->adopt(peer, NULL);
		ops->close(peer, 1000, "session resumed on another connection", true);
	} else {
		if (rs->end_timer) {
			t->cancel(t->ctx, rs->end_timer);
			rs->end_timer = NULL;
		}
		resume_uncount(rt, rs->addr); /* the new connection is counted */
		replay_attach(old);
	}
	resume_take_connection(old, s);
	wamp_out_unref(rs->ack_out); /* the old connection's, if it still holds it */
	rs->ack_out = NULL;
	rs->acked = rs->received; /* WELCOME.Details.received acknowledges */
	old->metrics->sessions_resumed++;
	if (old->ops->send(old->peer, out) == WAMPD_OK)
		metrics_count_type(old->metrics->msgs_out, WAMP_WELCOME);
	wamp_out_unref(out);
	replayed = rs->sent - (uint64_t)n;
	replay_resend(old, (uint64_t)n);
	wlog_info("session", "resumed session=%llu realm=%s authid=%s peer=%s: %llu message(s) "
	          "replayed, %llu received before%s", (unsigned long long)old->id, r->name,
	          old->authid ? old->authid : "", old->ops->address(old->peer),
	          (unsigned long long)replayed, (unsigned long long)rs->received,
	          used == REPLAY_TOKEN_PREVIOUS ? " (with the token before the last: the last "
	                                          "resume's WELCOME did not reach it)" : "");
	*resumed = old;
	return RESUME_RESUMED;
}
