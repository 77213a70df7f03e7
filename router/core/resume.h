/*
 * resume.h - resumable sessions, the router's side (docs/resumption.md): offering
 * resumption at WELCOME, detaching a session whose transport was lost, resuming it on a
 * new connection, and ending it when its window passes. The counts, the replay log and
 * the token are realm/replay.h's; the state machine (protocol.c) calls these at its
 * transitions.
 *
 *   WELCOME (new)       resume_offer: HELLO.Details.resumable, the realm offers it
 *                       (realms[].resume) and the transport can carry a resumed session
 *                       (peer_ops.adopt): WELCOME.Details gets resumable, resume-token,
 *                       resume_window_s; the session counts and logs from then on.
 *   transport lost      resume_detach: an ESTABLISHED resumable session (not ended by
 *                       GOODBYE, ABORT, a kill or its log's bound; the router not shutting
 *                       down) stays in its realm with another peer_ops ("detached": what is
 *                       sent goes to its log); the connection lets go of it (adopt NULL);
 *                       its window starts. Calls to its registrations wait for it (bounded
 *                       by their timeout), its testaments do not fire. It keeps its
 *                       connection's place in limits.max_sessions and max_sessions_per_ip
 *                       (no room at its address: it is not detached but ends).
 *   HELLO with resume   resume_session, once the new connection is authenticated:
 *                       {session, token, received} of a detached (or still attached, half-
 *                       open) session of this realm established through this listener
 *                       (through another one it is as unknown, and left alone), with the
 *                       right token for this authid,
 *                       the same serializer and authrole: the session moves to the new
 *                       connection (the old one, if any, is closed), WELCOME with the same
 *                       id, resumed: true, a new token and `received`, then its log after
 *                       the client's count. A wrong token (used, guessed, another session's
 *                       or another authid's): ABORT wamp.error.authentication_failed, the
 *                       session untouched. Unknown, expired, or not resumable here: an
 *                       ordinary new session (resumed: false); a right token that cannot
 *                       resume (another serializer or role, a count out of range) ends the
 *                       old session first, so it does not hold its registrations until
 *                       its window passes.
 *   window passed,      the session ends as every session does (realm_leave: on_leave,
 *   killed, log full    testaments, calls it serves canceled), from a timer.
 *   router shutdown     resume_end_all: every detached session ends.
 */
#ifndef WAMPD_ROUTER_RESUME_H
#define WAMPD_ROUTER_RESUME_H

#include <jansson.h>
#include <stdbool.h>

#include "realm/session.h"
#include "router/core/router.h"

struct session_resume;

/*
 * s (authenticated, just joined r) gets its WELCOME.Details `details` (borrowed, changed):
 * resumed: false when its HELLO asked to resume; resumable, resume-token and
 * resume_window_s when it asked for resumable and may have it. Returns the session's
 * resume state, which the caller sets as s->resume right after sending WELCOME (counting
 * starts after it), or NULL (not resumable; also on allocation failure).
 */
struct session_resume *resume_offer(struct router *rt, struct session *s, struct realm *r,
                                    json_t *details);

/*
 * HELLO.Details (borrowed, may be NULL) as far as resumption goes, checked before anything
 * is looked up: `resumable`, if present, a boolean; `resume`, if present, an object with
 * `session` an id (1 to 2^53), `token` a string and `received` a count (0 to 2^53).
 * WAMPD_OK, or WAMPD_ERR_PROTOCOL with what is wrong in why[whylen] (the state machine
 * answers ABORT wamp.error.protocol_violation; no session is touched).
 */
enum wampd_err resume_request_check(const json_t *details, char *why, size_t whylen);

enum resume_result {
	RESUME_NEW,      /* not resumed: continue with a new session (resume_offer says so) */
	RESUME_RESUMED,  /* *resumed took over s's connection: WELCOME and replay were sent;
	                    s is spent (resume_replaced(s)): free it once its dispatch is over */
	RESUME_REFUSED,  /* wrong token: answer ABORT wamp.error.authentication_failed */
};

/*
 * s (authenticated: identity adopted, realm r chosen, not joined) asked in HELLO.Details
 * to resume a session. Decides and does what the header comment says. `details` builds
 * the resumed WELCOME's Details of a session (a new reference, NULL on allocation
 * failure); resume_session adds the resume keys. Everything that can fail is done before
 * the session moves: a failure leaves it as it was (RESUME_NEW).
 */
enum resume_result resume_session(struct router *rt, struct session *s, struct realm *r,
                                  json_t *(*details)(const struct router *rt,
                                                     const struct session *s),
                                  struct session **resumed);

/* Did resume_session hand s's connection to another session? The state machine then
 * frees s (session_free) when the dispatch that resumed it is over. */
bool resume_replaced(const struct session *s);

/*
 * s's transport is gone (proto_transport_closed): detach s if it is resumable (see the
 * header comment). true: s is detached and kept (the transport's connection no longer
 * has it: the transport's session pointer is NULL); false: end s as usual.
 */
bool resume_detach(struct router *rt, struct session *s);

/* Router shutdown: every detached session ends now (not from a dispatch). */
void resume_end_all(struct router *rt);

#endif
