/*
 * replay.h - what a resumable session keeps so that it can survive its transport
 * (docs/resumption.md): the message counts of both directions, the replay log, the ACK
 * pacing and the hash of its resume token.
 *
 * Only a session that negotiated `resumable` has this state (s->resume, one allocation
 * made at its WELCOME, freed when it leaves its realm); every other session pays one NULL
 * pointer. Nothing here knows transports: the router (router/core/resume.c) decides when a
 * session detaches, resumes or ends, and calls these to keep the counts.
 *
 * The counts. After WELCOME each side counts the WAMP messages it sends and receives (ACK
 * excluded): both see one ordered stream, so the n-th message sent is the n-th received
 * and no sequence number travels with a message.
 *
 * The replay log. Every message session_send() hands out is also appended here (one more
 * reference on the same refcounted encoded buffer the transport queues: no copy), and
 * stays until the peer's ACK says it was received. While the session is detached the log
 * is where its messages go. The log is a ring of pointers bounded by the realm's
 * resume.max_bytes (encoded bytes, as every queue in wampd): a message that would take it
 * over ends the session (attached: its connection is closed at once as a slow consumer;
 * detached: it ends now), because a message lost on the way could not be replayed.
 *
 * ACK pacing. The session acknowledges what it received after every REPLAY_ACK_EVERY
 * messages, or REPLAY_ACK_DELAY_MS after the first unacknowledged one (one realm timer
 * while messages arrive); an idle session sends none. At most one ACK waits in the
 * transport's queue at a time.
 *
 * The resume token. REPLAY_TOKEN_BYTES random bytes given to the client in base64; the
 * router keeps only BLAKE2b(domain || token || session id || authid) and compares in
 * constant time, so a token works only for its session and its authid, and nothing kept
 * can be shown or replayed. A new token replaces the hash at each (re)start. A resume
 * WELCOME can be lost with its link, and the client then still holds the token it
 * resumed with: that previous token stays valid beside the new one until the client's
 * first message on the resumed connection proves it has the WELCOME (replay_token_seen);
 * after that it is refused as used. Without this a lost WELCOME lost the session (found
 * by client_resume_lws with a WELCOME cut).
 *
 * The realm's budget. Each log is bounded by max_bytes, and the detached sessions by the
 * connection limits, but max_sessions x max_bytes is no memory bound a router can keep
 * (100,000 x 1 MiB): the logs of a realm's detached sessions together are bounded by
 * resume.max_detached_bytes too. The realm keeps them in a list, oldest detach first, and
 * the bytes their logs hold; a message for a detached session that would take the sum
 * over the budget ends the oldest detached sessions until it fits (the oldest has had
 * the longest to come back and is the nearest to its window's end; when that is the
 * session itself, it ends as when its own log overflows). A session whose log does not
 * fit when it detaches is handled the same way. Ending is the answer, not dropping the
 * message: a log with a hole cannot be replayed exactly once. Attached sessions do not
 * count: their logs are their send queues, bounded as connections are.
 *
 * What an operator sees of a detached session (replay_status, for the admin status page):
 * when it detached, what is left of its window, its log against its bound, and the calls
 * waiting for it; never its token nor the token's hash.
 */
#ifndef WAMPD_REALM_REPLAY_H
#define WAMPD_REALM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct session;
struct wamp_out;
struct realm_timer;
struct realm_timer_ops;

#define REPLAY_TOKEN_BYTES 32
#define REPLAY_TOKEN_B64 45      /* base64 (with padding) of 32 bytes, and its NUL */
#define REPLAY_HASH_BYTES 32
#define REPLAY_ACK_EVERY 32
#define REPLAY_ACK_DELAY_MS 1000
#define REPLAY_MAX_DETACHED_BYTES_DEFAULT ((size_t)64 << 20) /* realms[].resume's default */

struct session_resume {
	struct wamp_out **ring;     /* the replay log, oldest first */
	uint32_t head, count, cap;  /* cap: 0 or a power of two */
	size_t bytes;               /* sum of the logged messages' lengths */
	size_t max_bytes;           /* the realm's resume.max_bytes when the session joined */
	uint64_t sent;              /* messages sent since WELCOME; the log holds the last
	                               `count` of them, numbers sent - count + 1 .. sent */
	uint64_t received;          /* messages received since WELCOME (ACKs not counted) */
	uint64_t acked;             /* the count our last ACK said */
	uint8_t token_hash[REPLAY_HASH_BYTES];
	uint8_t prev_hash[REPLAY_HASH_BYTES]; /* the token resumed with, while prev_live */
	bool prev_live;             /* the client has not spoken since the resume WELCOME */
	bool detached;              /* no transport: what is sent goes to the log only */
	bool ended;                 /* the log overflowed: the session ends, never detaches */
	struct wamp_out *ack_out;   /* our last ACK (a reference): while the transport still
	                               holds it unwritten, no other is queued (ACKs are
	                               cumulative), so a peer that does not read cannot make
	                               them pile up; the delayed ACK sends the newer count */
	struct realm_timer *ack_timer;  /* the delayed ACK, or NULL */
	struct realm_timer *end_timer;  /* router/core/resume.c's: the window while detached,
	                                   or the deferred end of a detached session */
	char addr[64];              /* the last transport's address (logs while detached) */
	/* the realm's list of detached sessions (replay_detach .. replay_attach, or its end) */
	struct session *self;       /* the session this is the state of, while listed */
	struct realm *realm;        /* ... and its realm, whose budget counts its log */
	struct session_resume *dprev, *dnext;
	bool listed;                /* in the list, its log counted in the realm's budget */
	bool over_budget;           /* ended as the oldest over the realm's budget (metrics) */
	/* set by router/core/resume.c when the session detaches (valid while `detached`) */
	int64_t detached_at_ms;     /* wall clock (shown) */
	int64_t detached_mono_ms;   /* monotonic clock (the window's start) */
	uint32_t window_ms;         /* the window its end timer was started with */
};

/* What the admin status page shows of a detached session (nothing secret). */
struct replay_status {
	int64_t detached_at_ms;     /* wall clock, when its transport was lost */
	int64_t detached_for_ms;    /* how long ago (monotonic) */
	int64_t window_left_ms;     /* what is left of its resume window; 0 once it passed */
	uint32_t log_messages;      /* messages in its replay log ... */
	size_t log_bytes;           /* ... their encoded bytes ... */
	size_t max_bytes;           /* ... against this bound (resume.max_bytes) */
	uint32_t waiting_calls;     /* calls to its registrations waiting for it (their
	                               INVOCATIONs in its log or unanswered before the loss) */
};

/* The state of a session becoming resumable, its log bounded by max_bytes: the caller
 * sets s->resume to it once WELCOME is sent (counting starts after WELCOME). NULL on
 * allocation failure. */
struct session_resume *replay_new(size_t max_bytes);

/* Free a state never set as a session's (NULL: nothing). */
void replay_free(struct session_resume *rs);

/* Free s->resume (NULL: nothing), its timers cancelled through t (which must be the
 * realm's timers whenever a timer may be running), and the log's references dropped.
 * Called by realm_leave: a session that leaves its realm is not resumable any more. */
void replay_stop(struct session *s, const struct realm_timer_ops *t);

/*
 * A new resume token for session `id` of `authid` (borrowed, may be NULL), whose state is
 * rs: written in base64 into out (NUL-terminated); its hash, bound to id and authid,
 * replaces the one kept in rs. The random bytes are wiped. Nothing can fail.
 */
void replay_token_new(struct session_resume *rs, uint64_t id, const char *authid,
                      char out[REPLAY_TOKEN_B64]);

enum replay_token_match {
	REPLAY_TOKEN_NONE,      /* not this session's token: refused */
	REPLAY_TOKEN_CURRENT,   /* the token of the last WELCOME */
	REPLAY_TOKEN_PREVIOUS,  /* the one before it, whose resume WELCOME the client may
	                           not have received (it has not spoken since) */
};

/* Is `token` (borrowed, untrusted) one that resumes s when presented by `authid`
 * (borrowed, the authenticated identity of the new connection)? Constant time in the
 * token's content; both hashes are always compared. */
enum replay_token_match replay_token_check(const struct session *s, const char *token,
                                           const char *authid);

/*
 * The token of a resume WELCOME: like replay_token_new, and the token the client resumed
 * with (`used`: CURRENT or PREVIOUS) stays valid beside it until replay_token_seen.
 * `saved` (caller's) receives what is replaced, for replay_token_restore when the WELCOME
 * cannot be sent after all. Nothing can fail.
 */
struct replay_token_saved {
	uint8_t token_hash[REPLAY_HASH_BYTES], prev_hash[REPLAY_HASH_BYTES];
	bool prev_live;
};
void replay_token_rotate(struct session_resume *rs, uint64_t id, const char *authid,
                         enum replay_token_match used, struct replay_token_saved *saved,
                         char out[REPLAY_TOKEN_B64]);
void replay_token_restore(struct session_resume *rs, struct replay_token_saved *saved);

/* replay_token_seen's work: the previous token's hash wiped, refused from now on. */
void replay_token_drop_previous(struct session_resume *rs);

/* The client spoke on its connection (any message, ACKs too): it has the last WELCOME, so
 * the token before it is used up. Cheap when there is none (one test). */
static inline void replay_token_seen(struct session_resume *rs)
{
	if (rs->prev_live)
		replay_token_drop_previous(rs);
}

/*
 * session_send's path for a resumable session: out (borrowed; the log takes a reference)
 * is logged and, while attached, handed to the transport. WAMPD_OK when it is logged (a
 * transport that refuses it as a slow consumer closes: the session then detaches with the
 * message in its log); WAMPD_ERR_LIMIT when it would take the log over its bound (or it
 * cannot grow): the session ends (state CLOSING, its peer closed at once).
 */
enum wampd_err replay_send(struct session *s, struct wamp_out *out);

/* Why replay_ack refused n (or an ACK came on a session that is not resumable), for the
 * ABORT: written into why (NUL-terminated, truncated to whylen). */
void replay_ack_why(const struct session *s, uint64_t n, char *why, size_t whylen);

/*
 * The peer's ACK: it received `n` messages. Drops them from the log. WAMPD_ERR_PROTOCOL
 * when n is more than was sent or less than an earlier ACK said (nothing changes).
 */
enum wampd_err replay_ack(struct session *s, uint64_t n);

/* One message received from the peer (not an ACK): counted, and acknowledged when
 * REPLAY_ACK_EVERY are unacknowledged (or by the delayed ACK's timer, started here). */
void replay_received(struct session *s);

/*
 * After a resume (s attached again): the peer received `n` messages. The log drops those
 * and hands the rest to the transport, in order. false when n is out of range (more than
 * was sent, or less than the peer acknowledged before): nothing is sent.
 */
bool replay_resend(struct session *s, uint64_t n);

/* true when `n` is a count the peer may say it received (the range replay_resend takes). */
bool replay_count_ok(const struct session *s, uint64_t n);

/*
 * s (resumable, in its realm) loses its transport: from now on what it is sent goes to
 * its log only, and the log counts in the realm's resume.max_detached_bytes; the oldest
 * detached sessions (s too, last) end if it does not fit (replay.h). false when s itself
 * had to end (its state is then CLOSING, its peer closed): it is not detached.
 */
bool replay_detach(struct session *s);

/* s (detached, not ended) is attached again: its log leaves the realm's budget. */
void replay_attach(struct session *s);

/* Is s a resumable session detached from its transport? */
bool replay_detached(const struct session *s);

/*
 * When s is detached: fills *st as of `now_mono_ms` (clock_mono_ms(); an earlier time
 * than the detach counts as the detach) and returns true. false (st untouched) for any
 * other session. Reads only; O(calls waiting for s).
 */
bool replay_status(const struct session *s, int64_t now_mono_ms, struct replay_status *st);

#endif
