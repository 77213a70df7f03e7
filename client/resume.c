/*
 * resume.c - resumable sessions, the client's side (docs/resumption.md): the session
 * survives a lost connection without losing or repeating a message.
 *
 * With wampc_config.resumable the HELLO asks for it; a router that offers it answers
 * WELCOME.Details resumable, resume-token and resume_window_s, and from then on both sides
 * count the WAMP messages they send and receive (ACK [7, n] not counted). Every message
 * the client sends is also kept in the replay log (one more reference on the same encoded
 * buffer the send queue holds) until the router's ACK says it received it; the client
 * acknowledges what it received after every RESUME_ACK_EVERY messages or RESUME_ACK_DELAY
 * ms after the first unacknowledged one, one ACK queued at a time.
 *
 * States (the sketch's names in wamp-proto's session state machine):
 *   CONNECTED-RESUMABLE     joined, rs set
 *   DISCONNECTED-RESUMABLE  rs->suspended: the connection was lost (not a GOODBYE, an
 *                           ABORT or a protocol violation); the engine reconnects as usual
 *                           and the HELLO asks to resume {session, token, received}. The
 *                           application keeps working: requests go into the log (counted,
 *                           not written), calls and invocations in flight stay, handles
 *                           keep the router's ids.
 *   resumed                 WELCOME resumed: true with the same id: the log after the
 *                           router's `received` is written again in order, then everything
 *                           new; WAMPC_RESUMED.
 *   over                    resumed false (a new session), an ABORT of the resume, the
 *                           router's window passed while no connection came back, or the
 *                           engine gave up reconnecting (max_retries, a leave): the old
 *                           session ends as a lost one always did (engine.c,
 *                           wampc_session_over: calls end with transport_lost, unacknowledged
 *                           publications back to the offline queue, handles made again).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"

#define RESUME_ACK_EVERY 32
#define RESUME_ACK_DELAY 1000 /* ms */
#define RS_PREFIX 4

bool resume_suspended(const wampc *c)
{
	return c->rs && c->rs->suspended;
}

bool resume_logs(const wampc *c, const struct wamp_out *o)
{
	if (!c->rs)
		return false;
	if (c->state == ST_JOINED || c->state == ST_GOODBYE)
		return true;
	/* suspended: everything but the messages of a connection attempt itself */
	return c->rs->suspended && o->type != WAMP_HELLO && o->type != WAMP_AUTHENTICATE &&
	       o->type != WAMP_ABORT;
}

bool resume_log(wampc *c, struct wamp_out *o)
{
	if (!outq_push(&c->rs->log, o))
		return false;
	wamp_out_ref(o);
	c->rs->sent++;
	return true;
}

static void wipe_token(struct client_resume *rs)
{
	if (rs->token) {
		sodium_memzero(rs->token, strlen(rs->token));
		free(rs->token);
		rs->token = NULL;
	}
}

void resume_free(wampc *c)
{
	struct client_resume *rs = c->rs;

	if (!rs)
		return;
	wipe_token(rs);
	outq_clear(&rs->log);
	wamp_out_unref(rs->ack_out);
	free(rs);
	c->rs = NULL;
}

/* Token and window from a WELCOME; false when it has no token. */
static bool take_token(struct client_resume *rs, const json_t *details)
{
	const char *token = wamp_dict_str(details, "resume-token", NULL);
	int64_t window = wamp_dict_int(details, "resume_window_s", 0);
	char *copy;

	if (!token || !(copy = strdup(token)))
		return false;
	wipe_token(rs);
	rs->token = copy;
	rs->window_ms = window > 0 && window < 86400 ? (uint32_t)window * 1000u : 0;
	return true;
}

void resume_start(wampc *c, struct wamp_msg *m)
{
	if (!c->resumable || !wamp_dict_bool(m->dict, "resumable", false))
		return;
	if (!(c->rs = calloc(1, sizeof(*c->rs))))
		return; /* not resumable: a lost connection ends it, as without */
	if (!take_token(c->rs, m->dict)) {
		resume_free(c);
		return;
	}
	c->rs->session = m->id[0];
}

bool resume_hello(wampc *c, json_t *d)
{
	struct client_resume *rs = c->rs;
	json_t *r;

	if (c->resumable && json_object_set_new(d, "resumable", json_true()))
		return false;
	if (!rs || !rs->suspended)
		return true;
	r = json_pack("{s:I, s:s, s:I}", "session", (json_int_t)rs->session, "token", rs->token,
	              "received", (json_int_t)rs->received);
	return r && json_object_set_new(d, "resume", r) == 0;
}

/* Drop what the router says it received (n) from the log. false: an impossible count. */
static bool log_acked(struct client_resume *rs, uint64_t n)
{
	if (n > rs->sent || n < rs->sent - rs->log.n)
		return false;
	while (rs->sent - rs->log.n < n)
		wamp_out_unref(outq_pop(&rs->log));
	return true;
}

enum resume_welcome resume_on_welcome(wampc *c, struct wamp_msg *m)
{
	struct client_resume *rs = c->rs;
	int64_t n = wamp_dict_int(m->dict, "received", -1);

	if (!rs || !rs->suspended)
		return RW_NONE;
	if (!wamp_dict_bool(m->dict, "resumed", false) || m->id[0] != rs->session)
		return RW_OVER;
	if (n < 0 || !log_acked(rs, (uint64_t)n) || !take_token(rs, m->dict))
		return RW_FAILED;
	rs->suspended = false;
	rs->acked = rs->received; /* the HELLO said it */
	rs->ack_due = 0;
	wamp_out_unref(rs->ack_out);
	rs->ack_out = NULL;
	/* what the router did not receive goes out again, in order, before anything new */
	for (uint32_t i = 0; i < rs->log.n; i++) {
		struct wamp_out *o = rs->log.v[(rs->log.head + i) & (rs->log.cap - 1)];

		if (!outq_push(&c->sendq, wamp_out_ref(o))) {
			wamp_out_unref(o);
			return RW_FAILED;
		}
		c->stats.msgs_out++;
	}
	return RW_RESUMED;
}

void resume_on_ack(wampc *c, struct wamp_msg *m)
{
	if (!c->rs) {
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "ACK on a session that is not resumable", true);
		return;
	}
	if (!log_acked(c->rs, m->id[0]))
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "ACK of more messages than were sent, or fewer "
		           "than before", true);
}

/* An ACK is in the send queue, not written yet (the queue holds the other reference). */
static bool ack_waiting(const struct client_resume *rs)
{
	return rs->ack_out && rs->ack_out->refs > 1;
}

/* Queue [ACK, received]: neither counted nor logged; not while the last one waits. */
static void send_ack(wampc *c)
{
	struct client_resume *rs = c->rs;
	struct wamp_msg m = {.type = WAMP_ACK, .id = {rs->received}};
	enum wampd_err err;
	struct wamp_out *o;

	if (ack_waiting(rs)) {
		rs->ack_due = wampc_now(c) + RESUME_ACK_DELAY;
		return;
	}
	if (!(o = wamp_encode(c->ser, &m, &err))) {
		rs->ack_due = wampc_now(c) + RESUME_ACK_DELAY;
		return;
	}
	if (c->framing == WAMPC_FRAMING_RAWSOCKET)
		rs_prefix(wamp_out_data(o) - RS_PREFIX, RS_MSG, (uint32_t)o->len);
	if (!outq_push(&c->sendq, o)) {
		wamp_out_unref(o);
		rs->ack_due = wampc_now(c) + RESUME_ACK_DELAY;
		return;
	}
	wamp_out_unref(rs->ack_out);
	rs->ack_out = wamp_out_ref(o);
	rs->acked = rs->received;
	rs->ack_due = 0;
	c->stats.msgs_out++;
}

void resume_received(wampc *c)
{
	struct client_resume *rs = c->rs;

	rs->received++;
	/* While an ACK waits to be written, what arrives meanwhile is acknowledged by the
	 * next one: a message after the write, or the delay (read once, not per message:
	 * a burst of events read in one go would otherwise ask the clock every time). */
	if (rs->received - rs->acked >= RESUME_ACK_EVERY && !ack_waiting(rs))
		send_ack(c);
	else if (!rs->ack_due)
		rs->ack_due = wampc_now(c) + RESUME_ACK_DELAY;
}

void resume_refused(wampc *c)
{
	if (resume_suspended(c))
		c->rs->refused = true;
}

bool resume_on_closed(wampc *c, bool was_joined)
{
	struct client_resume *rs = c->rs;
	const char *lost = wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST);

	if (!rs || c->leaving || !c->reconnect)
		return false;
	if (rs->suspended) /* an attempt to resume ended: again, unless it was refused */
		return !rs->refused;
	if (!was_joined || c->input_err != WAMPD_OK ||
	    (c->close_reason && strcmp(c->close_reason, lost)))
		return false; /* ended by GOODBYE, ABORT or a violation: not a lost link */
	rs->suspended = true;
	rs->ack_due = 0;
	rs->give_up = wampc_now(c) + rs->window_ms;
	return true;
}

int64_t resume_deadline(const wampc *c)
{
	const struct client_resume *rs = c->rs;

	if (!rs)
		return 0;
	if (rs->suspended)
		return c->state == ST_BACKOFF || c->state == ST_CONNECT ? rs->give_up : 0;
	return c->state == ST_JOINED ? rs->ack_due : 0;
}

void resume_tick(wampc *c, int64_t now)
{
	struct client_resume *rs = c->rs;

	if (!rs)
		return;
	if (!rs->suspended) {
		if (c->state == ST_JOINED && rs->ack_due && now >= rs->ack_due) {
			rs->ack_due = 0;
			if (rs->received != rs->acked)
				send_ack(c);
		}
		return;
	}
	/* the router has ended it by now: no HELLO of ours is on its way, give up */
	if ((c->state == ST_BACKOFF || c->state == ST_CONNECT) && now >= rs->give_up) {
		wampc_set_close_reason(c, wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST), NULL);
		wampc_session_over(c, true);
	}
}
