/*
 * session.h - a WAMP session as the realm sees it, and the only door to its transport.
 *
 * realm/ never sees a socket: it sends through struct peer_ops, which the transport
 * (router/net/ws.c, a fake in unit tests) implements. A transport creates one struct session
 * per connection (session_new), feeds it decoded messages through the state machine in
 * router/, and destroys it (session_free) only after the connection is gone.
 *
 * Closing is always asynchronous: session_close() marks the session CLOSING (from then on
 * nothing is routed to or from it) and asks the transport to close; the realm forgets the
 * session (realm_leave, which detaches subscriptions, registrations and pending calls)
 * either at once when that is safe (in the session's own dispatch: GOODBYE, ABORT) or from
 * the transport's "closed" callback. A session is never freed inside dispatch or fan-out.
 */
#ifndef WAMPD_REALM_SESSION_H
#define WAMPD_REALM_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "auth/auth.h"
#include "auth/authz.h"
#include "common/err.h"
#include "serializers/codec.h"

struct realm;
struct metrics;
struct proto_state;
struct bp_session;
struct sub_member;
struct reg_member;
struct pending_call;
struct session_resume;
struct session;

enum session_state {
	SESSION_OPEN = 0,        /* transport up, no WAMP session: only HELLO is valid */
	SESSION_AUTHENTICATING,  /* CHALLENGE sent, waiting for AUTHENTICATE */
	SESSION_ESTABLISHED,     /* WELCOME sent: joined to s->realm */
	SESSION_SHUTTING_DOWN,   /* the router sent GOODBYE and waits for the reply */
	SESSION_CLOSING,         /* ABORT sent or transport going away: nothing in or out */
};

/* Client features announced in HELLO.Details.roles.*.features (bit set). */
enum session_feature {
	SF_CALLER_PROGRESSIVE_RESULTS = 1u << 0,
	SF_CALLEE_PROGRESSIVE_RESULTS = 1u << 1,
	SF_CALLEE_CALL_CANCELING = 1u << 2,
	SF_CALLEE_PROGRESSIVE_INVOCATIONS = 1u << 3,
	SF_CALLEE_CALLER_IDENTIFICATION = 1u << 4,
	SF_SUBSCRIBER_REVOCATION = 1u << 5,
	SF_CALLEE_REGISTRATION_REVOCATION = 1u << 6,
	SF_CALLER_PROGRESSIVE_INVOCATIONS = 1u << 7,
};

/* Implemented by each transport. `peer` is the transport's own per-connection object. */
struct peer_ops {
	/*
	 * Queue one encoded message for sending. The transport takes its own reference on
	 * success; the caller keeps its reference either way. Never re-enters realm/.
	 * Returns WAMPD_OK, or WAMPD_ERR_LIMIT when the send queue would exceed its byte
	 * bound: the message is not queued and the transport has already scheduled the
	 * close of this connection (the caller need not do anything).
	 */
	enum wampd_err (*send)(void *peer, struct wamp_out *out);
	/*
	 * Close the connection asynchronously once what is queued has been written (or at
	 * once if `now`). code is a WebSocket close code (1000 normal, 1002 protocol error,
	 * 1009 too big, 1011 internal). Idempotent. Never re-enters realm/.
	 */
	void (*close)(void *peer, int code, const char *reason, bool now);
	/* The peer's address for logs ("127.0.0.1:51234"); never NULL. */
	const char *(*address)(void *peer);
	/* The transport's description for the meta API ({"type": "websocket", ...}): a new
	 * reference the caller owns, or NULL. Optional (NULL: none). Built on demand so an
	 * idle session does not keep it. */
	json_t *(*transport)(void *peer);
	/* The transport's kind for metrics and the status page ("websocket", "rawsocket");
	 * a static string, or NULL (shown as "other"). */
	const char *kind;
	/* Resumable sessions (router/core/resume.c): the connection carries session s from now
	 * on instead of the one it has (NULL: none; it is closing). Optional: a transport
	 * without it cannot carry a resumed session, and its sessions are not resumable. */
	void (*adopt)(void *peer, struct session *s);
};

struct session {
	uint64_t id;              /* 0 until WELCOME, then unique among live sessions */
	enum session_state state;
	enum wamp_ser ser;
	struct realm *realm;      /* set while ESTABLISHED / SHUTTING_DOWN */

	const struct peer_ops *ops;
	void *peer;
	struct metrics *metrics;  /* the owning loop's counters (borrowed) */

	/* identity, set by authentication (owned strings) */
	char *authid;
	char *authrole;
	char *authmethod;
	char *authprovider;
	json_t *authextra;        /* owned, may be NULL */
	uint32_t features;        /* enum session_feature bits */
	int64_t joined_at_ms;     /* wall clock when WELCOME was sent */

	/* session-scope ids the router sends (INVOCATION.Request), sequential */
	uint64_t last_out_request;
	/* highest CALL.Request seen (progressive call invocations, see dealer.c) */
	uint64_t call_watermark;
	/* testaments (wamp.session.add_testament): JSON lists of {topic, args, kwargs,
	 * options}, owned, NULL when empty; changed only through session_testament_*(), which
	 * keep testament_bytes (both lists' session_testament_cost) up to date */
	json_t *testaments_detached;
	json_t *testaments_destroyed;
	size_t testament_bytes;

	/* realm membership: maintained by realm.c, broker.c, dealer.c */
	UT_hash_handle hh;               /* realm->sessions, key id */
	struct sub_member *subs;         /* this session's subscriptions (list) */
	struct reg_member *regs;         /* this session's registrations (list) */
	struct pending_call *calls;      /* calls it made, key: its CALL.Request */
	struct pending_call *invocations;/* calls it serves, key: INVOCATION.Request */
	uint32_t nsubs;
	uint32_t nregs;
	uint32_t ncalls;
	bool limit_logged;               /* a limit was hit and logged once already */

	/* authorization by a dynamic authorizer (realm.c) */
	struct authz_cache authz_cache;  /* its cached answers (authorizer_cache_ttl) */
	struct authz_cache authz_answers;/* answers for the request being retried, whether
	                                    cacheable or not; forgotten once that request is
	                                    done (realm_authorize_settled): one request may ask
	                                    more than one question (a CALL of
	                                    wamp.session.add_testament: call, then publish) */
	struct pending_call *authz_call; /* the question in flight, or NULL */
	struct {                         /* what authz_call asks */
		char *uri;
		enum authz_match match;
		enum authz_action action;
	} authz_question;

	/*
	 * State that belongs to other layers, each behind one opaque pointer whose layout realm/
	 * does not know (one allocation per session at most, never one per message):
	 * - proto: the session state machine's (router/core/protocol.c: the listener's
	 *   authentication, TLS identity, HELLO.Details, the authentication in progress, requests
	 *   parked for an authorizer, the HELLO deadline). Allocated by proto_transport_open()
	 *   (or the first proto_receive() of a session never opened), freed by
	 *   proto_transport_closed(), which the transport calls before session_free();
	 *   session_free() asserts it is gone. NULL for sessions the state machine never ran
	 *   (backplane stubs, realm unit tests).
	 * - bp: the cluster backplane's (realm/backplane.c: the node a stub stands for, the
	 *   registration asked from the store). Allocated by backplane.c (a stub at its creation,
	 *   a local session at its first store lookup), freed by session_free() through
	 *   backplane_session_free(). NULL without a backplane.
	 */
	struct proto_state *proto;
	struct bp_session *bp;

	/* a resumable session's counts, replay log and token (realm/replay.h): allocated at
	 * WELCOME when resumption was negotiated, freed when it leaves its realm; else NULL */
	struct session_resume *resume;
};

/*
 * Create a session for a new transport connection (state OPEN). ops must outlive it; peer
 * is borrowed; metrics are the counters of the loop that serves it (borrowed: the router's,
 * must outlive it). Returns NULL on allocation failure.
 */
struct session *session_new(const struct peer_ops *ops, void *peer, enum wamp_ser ser,
                            struct metrics *metrics);

/*
 * Free a session. The realm must already have forgotten it (state is not ESTABLISHED:
 * realm_leave() was called). Owned strings and json are released. NULL is ignored.
 */
void session_free(struct session *s);

/* Replace an owned identity string (copies val; NULL clears). false on allocation failure. */
bool session_set_str(char **field, const char *val);

/* Take over the identity in id (authid, authrole, authmethod, authprovider, authextra),
 * releasing any previous one of s; id is left empty. */
void session_adopt_identity(struct session *s, struct auth_identity *id);

/*
 * Encode msg in the session's serializer and queue it. msg is borrowed.
 * Returns WAMPD_OK; WAMPD_ERR_LIMIT if the transport refused it (and is closing);
 * WAMPD_ERR_NOMEM / WAMPD_ERR_SERIALIZATION if it could not be encoded (nothing sent).
 * Sending to a CLOSING session is a no-op returning WAMPD_OK.
 */
enum wampd_err session_send_msg(struct session *s, const struct wamp_msg *msg);

/* Queue an already encoded message (must be in s->ser); see peer_ops.send. A resumable
 * session (s->resume) logs it too (replay_send): while detached it goes only there. */
enum wampd_err session_send(struct session *s, struct wamp_out *out);

/*
 * THE place where an error becomes wire traffic.
 * - Fatal errors (wampd_err_is_fatal) or req_type 0: ABORT {message} <uri> and close the
 *   session (state CLOSING, transport closed once the ABORT is written).
 * - Other errors: ERROR [req_type, req_id, {}, <uri>, [message]] to the client.
 * `message` (borrowed, may be NULL: the error's default text is used) explains the error
 * to a human. Also logs the error with the session id and peer address.
 */
void session_fail(struct session *s, int req_type, uint64_t req_id, enum wampd_err err,
                  const char *message);

/* Close the session without a WAMP message (transport lost, killed, queue overflow):
 * state CLOSING, transport closed with `code`. Idempotent. */
void session_close(struct session *s, int code, const char *reason);

/*
 * Testaments (wamp.session.add_testament), bounded in bytes per session. `bucket` is
 * &s->testaments_detached or &s->testaments_destroyed.
 * - session_testament_cost: the bytes testament t (a {topic, args, kwargs, options} object)
 *   is charged: its jansson values (wamp_json_heap_size) and its slot in the list.
 * - session_testament_add: append t to *bucket (the list is created if needed), taking over
 *   the caller's reference to t. If s's testaments would then be charged more than `limit`
 *   bytes: WAMPD_ERR_LIMIT and nothing changes; WAMPD_ERR_NOMEM on allocation failure. t is
 *   released on failure.
 * - session_testaments_flush: release *bucket; returns how many testaments it held.
 * - session_testaments_take: hand both lists to the caller (who owns them; NULL when empty)
 *   and leave s without testaments.
 */
size_t session_testament_cost(const json_t *t);
enum wampd_err session_testament_add(struct session *s, json_t **bucket, json_t *t, size_t limit);
size_t session_testaments_flush(struct session *s, json_t **bucket);
void session_testaments_take(struct session *s, json_t **detached, json_t **destroyed);

/* true if messages may be routed to this session (it is ESTABLISHED). */
static inline bool session_routable(const struct session *s)
{
	return s->state == SESSION_ESTABLISHED;
}

#endif
