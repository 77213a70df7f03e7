/*
 * fake_peer.h - a fake transport for unit tests of realm/ and the state machine.
 *
 * It implements struct peer_ops by keeping every message it is asked to send (one
 * reference each) so a test can decode and inspect them, and by recording close requests.
 * `queue_limit` simulates a full send queue: sends beyond it are refused with
 * WAMPD_ERR_LIMIT, like the real transport does for a slow consumer. Like the WebSocket
 * and RawSocket connections it can carry a resumed session (peer_ops.adopt: `s` becomes
 * that session, or NULL when its session detached or moved to another peer).
 */
#ifndef WAMPD_TESTS_FAKE_PEER_H
#define WAMPD_TESTS_FAKE_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include "realm/session.h"

#define FAKE_PEER_MAX 4096

struct fake_peer {
	struct session *s;
	struct wamp_out *sent[FAKE_PEER_MAX];
	size_t nsent;
	size_t taken;       /* messages consumed by fake_peer_next() */
	size_t queue_limit; /* 0 = unlimited */
	bool closed;
	bool close_now;
	int close_code;
	char addr[32];
	/* called after each message is stored (sent[nsent - 1]), e.g. to probe the realm's
	 * state at the moment a message is handed to the transport */
	void (*on_send)(struct fake_peer *p, void *arg);
	void *on_send_arg;
};

/* A new session (state OPEN) whose transport is p, counted in metrics (borrowed: the
 * router's or the realm fixture's). */
struct session *fake_peer_session(struct fake_peer *p, enum wamp_ser ser,
                                  struct metrics *metrics);

/* Decode the next message p received that the test has not looked at yet. Returns false if
 * there is none. The caller clears *msg (wamp_msg_clear). */
bool fake_peer_next(struct fake_peer *p, struct wamp_msg *msg);

/* Messages received and not yet taken. */
static inline size_t fake_peer_pending(const struct fake_peer *p)
{
	return p->nsent - p->taken;
}

/* Drop everything received (references released). */
void fake_peer_reset(struct fake_peer *p);

/* Release the buffers and free the session (which must have left its realm). */
void fake_peer_destroy(struct fake_peer *p);

/* Decode a JSON message literal into *msg for feeding handlers (asserts success). The
 * returned message borrows `json` for its payload: keep the literal alive. */
void fake_msg(const char *json, struct wamp_msg *msg);

#endif
