/*
 * replay.c - the state of a resumable session: counts, replay log, ACK pacing, token hash
 * (see replay.h for the design).
 *
 * The log is a ring of wamp_out pointers that grows by doubling (like the send queue,
 * router/core/outq.c) and keeps its size: a session that bursts once keeps its slots, and
 * a steady stream allocates nothing per message. An ACK pops from the head; a resume drops
 * what the peer received and hands the rest to the new transport without popping it (it
 * stays until acknowledged, so a second cut replays it again).
 */
#include "realm/replay.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "common/log.h"
#include "realm/realm.h"
#include "realm/session.h"

static const char token_domain[] = "wampd resume token v1";

struct session_resume *replay_new(size_t max_bytes)
{
	struct session_resume *rs = calloc(1, sizeof(*rs));

	if (rs)
		rs->max_bytes = max_bytes;
	return rs;
}

static void log_pop(struct session_resume *rs)
{
	struct wamp_out *out = rs->ring[rs->head];

	rs->head = (rs->head + 1) & (rs->cap - 1);
	rs->count--;
	rs->bytes -= out->len;
	wamp_out_unref(out);
}

static bool log_push(struct session_resume *rs, struct wamp_out *out)
{
	if (rs->bytes + out->len > rs->max_bytes)
		return false;
	if (rs->count == rs->cap) {
		uint32_t ncap = rs->cap ? rs->cap * 2 : 16;
		struct wamp_out **n;

		if (ncap < rs->cap || !(n = malloc(sizeof(*n) * ncap)))
			return false;
		for (uint32_t i = 0; i < rs->count; i++)
			n[i] = rs->ring[(rs->head + i) & (rs->cap - 1)];
		free(rs->ring);
		rs->ring = n;
		rs->head = 0;
		rs->cap = ncap;
	}
	rs->ring[(rs->head + rs->count) & (rs->cap - 1)] = wamp_out_ref(out);
	rs->count++;
	rs->bytes += out->len;
	return true;
}

void replay_free(struct session_resume *rs)
{
	if (!rs)
		return;
	while (rs->count)
		log_pop(rs);
	free(rs->ring);
	wamp_out_unref(rs->ack_out);
	sodium_memzero(rs->token_hash, sizeof(rs->token_hash));
	sodium_memzero(rs->prev_hash, sizeof(rs->prev_hash));
	free(rs);
}

/* rs leaves its realm's list of detached sessions and budget (not listed: nothing). */
static void budget_unlist(struct session_resume *rs)
{
	struct realm *r = rs->realm;

	if (!rs->listed)
		return;
	DL_DELETE2(r->resume.detached, rs, dprev, dnext);
	r->resume.detached_bytes -= rs->bytes;
	rs->listed = false;
	rs->self = NULL;
	rs->realm = NULL;
}

void replay_stop(struct session *s, const struct realm_timer_ops *t)
{
	struct session_resume *rs = s->resume;

	if (!rs)
		return;
	budget_unlist(rs);
	if (t && t->cancel) {
		if (rs->ack_timer)
			t->cancel(t->ctx, rs->ack_timer);
		if (rs->end_timer)
			t->cancel(t->ctx, rs->end_timer);
	}
	replay_free(rs);
	s->resume = NULL;
}

static void token_hash(uint8_t out[REPLAY_HASH_BYTES], const uint8_t token[REPLAY_TOKEN_BYTES],
                       uint64_t id, const char *authid)
{
	crypto_generichash_state st;
	uint8_t idb[8];

	for (int i = 0; i < 8; i++)
		idb[i] = (uint8_t)(id >> (8 * i));
	crypto_generichash_init(&st, NULL, 0, REPLAY_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)token_domain, sizeof(token_domain));
	crypto_generichash_update(&st, token, REPLAY_TOKEN_BYTES);
	crypto_generichash_update(&st, idb, sizeof(idb));
	/* the token and the id have fixed lengths: what follows is the authid, unambiguously */
	crypto_generichash_update(&st, (const uint8_t *)(authid ? authid : ""),
	                          authid ? strlen(authid) : 0);
	crypto_generichash_final(&st, out, REPLAY_HASH_BYTES);
}

void replay_token_new(struct session_resume *rs, uint64_t id, const char *authid,
                      char out[REPLAY_TOKEN_B64])
{
	uint8_t token[REPLAY_TOKEN_BYTES];

	randombytes_buf(token, sizeof(token));
	token_hash(rs->token_hash, token, id, authid);
	sodium_bin2base64(out, REPLAY_TOKEN_B64, token, sizeof(token),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(token, sizeof(token));
}

enum replay_token_match replay_token_check(const struct session *s, const char *token,
                                           const char *authid)
{
	uint8_t bin[REPLAY_TOKEN_BYTES], h[REPLAY_HASH_BYTES];
	size_t n = 0;
	bool cur, prev;

	if (!s->resume || !token || strlen(token) != REPLAY_TOKEN_B64 - 1 ||
	    sodium_base642bin(bin, sizeof(bin), token, REPLAY_TOKEN_B64 - 1, NULL, &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != REPLAY_TOKEN_BYTES)
		return REPLAY_TOKEN_NONE;
	token_hash(h, bin, s->id, authid);
	cur = sodium_memcmp(h, s->resume->token_hash, sizeof(h)) == 0;
	prev = sodium_memcmp(h, s->resume->prev_hash, sizeof(h)) == 0 && s->resume->prev_live;
	sodium_memzero(bin, sizeof(bin));
	sodium_memzero(h, sizeof(h));
	return cur ? REPLAY_TOKEN_CURRENT : prev ? REPLAY_TOKEN_PREVIOUS : REPLAY_TOKEN_NONE;
}

void replay_token_rotate(struct session_resume *rs, uint64_t id, const char *authid,
                         enum replay_token_match used, struct replay_token_saved *saved,
                         char out[REPLAY_TOKEN_B64])
{
	memcpy(saved->token_hash, rs->token_hash, sizeof(saved->token_hash));
	memcpy(saved->prev_hash, rs->prev_hash, sizeof(saved->prev_hash));
	saved->prev_live = rs->prev_live;
	/* the client holds `used`: it stays valid until the client shows it has the new one
	 * (a PREVIOUS one stays as it is: the WELCOME that replaced it never arrived) */
	if (used == REPLAY_TOKEN_CURRENT)
		memcpy(rs->prev_hash, rs->token_hash, sizeof(rs->prev_hash));
	rs->prev_live = true;
	replay_token_new(rs, id, authid, out);
}

void replay_token_restore(struct session_resume *rs, struct replay_token_saved *saved)
{
	memcpy(rs->token_hash, saved->token_hash, sizeof(rs->token_hash));
	memcpy(rs->prev_hash, saved->prev_hash, sizeof(rs->prev_hash));
	rs->prev_live = saved->prev_live;
	sodium_memzero(saved, sizeof(*saved));
}

void replay_token_drop_previous(struct session_resume *rs)
{
	sodium_memzero(rs->prev_hash, sizeof(rs->prev_hash));
	rs->prev_live = false;
}

/* s's log cannot keep what it must: s ends (not resumable), its peer closed at once (a
 * detached one ends from a timer: resume.c's detached_close). */
static void replay_end(struct session *s, const char *reason)
{
	budget_unlist(s->resume);
	s->resume->ended = true;
	s->state = SESSION_CLOSING;
	s->ops->close(s->peer, 1008, reason, true);
}

/*
 * `len` more bytes for the log of s (listed): the oldest detached sessions of its realm
 * end until they fit in resume.max_detached_bytes. false when s itself had to end.
 */
static bool budget_fit(struct session *s, size_t len)
{
	struct realm *r = s->resume->realm;

	while (r->resume.detached_bytes + len > r->resume.max_detached_bytes) {
		struct session *o = r->resume.detached->self; /* s is listed: never empty */

		wlog_warn("session", "detached sessions of realm=%s over resume.max_detached_bytes "
		          "(%zu + %zu > %zu bytes): ending the oldest, session=%llu peer=%s "
		          "(%zu bytes logged)", r->name, r->resume.detached_bytes, len,
		          r->resume.max_detached_bytes, (unsigned long long)o->id,
		          o->resume->addr, o->resume->bytes);
		o->resume->over_budget = true;
		replay_end(o, "resume: the realm's detached sessions over their budget");
		if (o == s)
			return false;
	}
	return true;
}

enum wampd_err replay_send(struct session *s, struct wamp_out *out)
{
	struct session_resume *rs = s->resume;

	if (rs->listed && !budget_fit(s, out->len))
		return WAMPD_ERR_LIMIT;
	if (!log_push(rs, out)) {
		wlog_warn("session", "resume log over %zu bytes (%u messages not acknowledged), "
		          "ending session=%llu peer=%s", rs->max_bytes, rs->count,
		          (unsigned long long)s->id, s->ops->address(s->peer));
		replay_end(s, "resume log limit");
		return WAMPD_ERR_LIMIT;
	}
	if (rs->listed)
		rs->realm->resume.detached_bytes += out->len;
	rs->sent++;
	if (!rs->detached)
		(void)s->ops->send(s->peer, out); /* refused: the connection closes, s detaches */
	return WAMPD_OK;
}

bool replay_count_ok(const struct session *s, uint64_t n)
{
	const struct session_resume *rs = s->resume;

	return n <= rs->sent && n >= rs->sent - rs->count;
}

enum wampd_err replay_ack(struct session *s, uint64_t n)
{
	struct session_resume *rs = s->resume;

	if (!replay_count_ok(s, n))
		return WAMPD_ERR_PROTOCOL;
	while (rs->sent - rs->count < n)
		log_pop(rs);
	return WAMPD_OK;
}

void replay_ack_why(const struct session *s, uint64_t n, char *why, size_t whylen)
{
	const struct session_resume *rs = s->resume;

	if (!rs)
		snprintf(why, whylen, "ACK on a session that did not negotiate resumable");
	else
		snprintf(why, whylen, "ACK of %llu messages: %llu were sent, %llu acknowledged "
		         "before (ACK counts are cumulative)", (unsigned long long)n,
		         (unsigned long long)rs->sent, (unsigned long long)(rs->sent - rs->count));
}

static void replay_ack_due(void *arg);

static void replay_ack_later(struct session *s)
{
	struct session_resume *rs = s->resume;
	const struct realm_timer_ops *t = &s->realm->owner->timers;

	if (!rs->ack_timer && t->start)
		rs->ack_timer = t->start(t->ctx, REPLAY_ACK_DELAY_MS, replay_ack_due, s);
}

/* The ACK goes to the transport directly: it is neither counted nor logged. */
static void replay_send_ack(struct session *s)
{
	struct session_resume *rs = s->resume;
	struct wamp_msg ack = {.type = WAMP_ACK, .id = {rs->received}};
	enum wampd_err err;
	struct wamp_out *out;

	if (rs->ack_out && rs->ack_out->refs > 1) {
		replay_ack_later(s); /* the last one is not written yet */
		return;
	}
	if (!(out = wamp_encode(s->ser, &ack, &err))) {
		replay_ack_later(s);
		return;
	}
	wamp_out_unref(rs->ack_out);
	rs->ack_out = out;
	rs->acked = rs->received;
	(void)s->ops->send(s->peer, out);
}

static void replay_ack_due(void *arg)
{
	struct session *s = arg;
	struct session_resume *rs = s->resume;

	rs->ack_timer = NULL;
	if (!rs->detached && rs->received != rs->acked && s->state == SESSION_ESTABLISHED)
		replay_send_ack(s);
}

void replay_received(struct session *s)
{
	struct session_resume *rs = s->resume;

	rs->received++;
	if (rs->received - rs->acked >= REPLAY_ACK_EVERY)
		replay_send_ack(s);
	else
		replay_ack_later(s);
}

bool replay_resend(struct session *s, uint64_t n)
{
	struct session_resume *rs = s->resume;

	if (!replay_count_ok(s, n))
		return false;
	while (rs->sent - rs->count < n)
		log_pop(rs);
	for (uint32_t i = 0; i < rs->count && s->state != SESSION_CLOSING; i++)
		(void)s->ops->send(s->peer, rs->ring[(rs->head + i) & (rs->cap - 1)]);
	return true;
}

bool replay_detach(struct session *s)
{
	struct session_resume *rs = s->resume;
	struct realm *r = s->realm;

	rs->detached = true;
	rs->self = s;
	rs->realm = r;
	DL_APPEND2(r->resume.detached, rs, dprev, dnext);
	r->resume.detached_bytes += rs->bytes;
	rs->listed = true;
	return budget_fit(s, 0);
}

void replay_attach(struct session *s)
{
	budget_unlist(s->resume);
	s->resume->detached = false;
}

bool replay_detached(const struct session *s)
{
	return s->resume && s->resume->detached;
}

bool replay_status(const struct session *s, int64_t now_mono_ms, struct replay_status *st)
{
	const struct session_resume *rs = s->resume;
	int64_t for_ms;

	if (!replay_detached(s))
		return false;
	for_ms = now_mono_ms > rs->detached_mono_ms ? now_mono_ms - rs->detached_mono_ms : 0;
	st->detached_at_ms = rs->detached_at_ms;
	st->detached_for_ms = for_ms;
	st->window_left_ms = for_ms < (int64_t)rs->window_ms ? (int64_t)rs->window_ms - for_ms : 0;
	st->log_messages = rs->count;
	st->log_bytes = rs->bytes;
	st->max_bytes = rs->max_bytes;
	st->waiting_calls = HASH_CNT(hh_callee, s->invocations);
	return true;
}
