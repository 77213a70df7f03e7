/*
 * protocol.h - the WAMP session state machine, independent of the transport.
 *
 * A transport hands every complete message it receives to proto_receive(); the state
 * machine decodes it, checks it is allowed in the session's state, dispatches it to the
 * realm's broker or dealer, and turns a returned error into ERROR/ABORT through
 * session_fail(). States and transitions (basic/sessions.md):
 *
 *   OPEN --HELLO--> ESTABLISHED (WELCOME) | CLOSING (ABORT: no such realm, ...)
 *   ESTABLISHED --GOODBYE--> OPEN (GOODBYE goodbye_and_out; the transport may HELLO again)
 *   ESTABLISHED --ABORT--> CLOSING (no reply)
 *   ESTABLISHED --router shutdown--> SHUTTING_DOWN (GOODBYE system_shutdown) --GOODBYE--> CLOSING
 *   any --protocol violation--> CLOSING (ABORT wamp.error.protocol_violation)
 *   ESTABLISHED, resumable --transport lost--> still ESTABLISHED, detached (no transport;
 *     router/core/resume.h) --resume HELLO on a new connection--> attached to it
 *                                              --window, kill, log bound--> ended
 */
#ifndef WAMPD_ROUTER_PROTOCOL_H
#define WAMPD_ROUTER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "realm/session.h"
#include "router/core/router.h"

/* Install the state machine's hooks into the router's realms and build what every WELCOME
 * shares (called once by router_init). false on allocation failure. */
bool proto_init(struct router *rt);

/* Handle one complete message. buf is borrowed for the duration of the call (a request
 * that must wait for a dynamic authorizer is copied). */
void proto_receive(struct router *rt, struct session *s, const uint8_t *buf, size_t len);

/* What a transport knows of its peer when it opens a session. */
struct proto_peer {
	const struct auth_config *auth; /* the listener's (or service's) authentication,
	                                   borrowed: must outlive the session; NULL:
	                                   anonymous only */
	char *tls_cn;                   /* verified TLS client certificate's CN, or NULL */
	uint8_t *tls_cert_sha1;         /* its SHA-1 fingerprint (20 bytes), or NULL */
	uint8_t *tls_channel_id;        /* tls-unique channel binding (32 bytes), or NULL */
	json_t *tls_cert;               /* its certificate's facts for dynamic authenticators
	                                   (auth_transport.cert), or NULL */
	bool hello_deadline;            /* the session has limits.hello_timeout to be WELCOMEd */
};

/*
 * A transport opened s (state OPEN): the state machine makes its per-session state
 * (s->proto, one allocation; see session.h), keeping peer->auth and taking over
 * peer->tls_cn, peer->tls_cert_sha1, peer->tls_channel_id and peer->tls_cert (set to NULL
 * in *peer, also on failure, when they are freed). Called once per session, right after
 * session_new; false on allocation failure (the transport then closes the connection and
 * frees s as usual).
 *
 * With peer->hello_deadline, from now on s has limits.hello_timeout to be WELCOMEd (HELLO,
 * authentication, a dynamic authenticator's answer included), again after each GOODBYE.
 * Past the deadline an authenticating session gets ABORT wamp.error.authentication_failed
 * (a failure counted against its address, logged with it); one that never said HELLO is
 * closed, logged too.
 *
 * A session never opened (unit tests, the HTTP bridge's internal sessions) gets the state
 * at its first proto_receive(): anonymous authentication only, no deadline.
 */
bool proto_transport_open(struct router *rt, struct session *s, struct proto_peer *peer);

/* The CN of the verified TLS client certificate s was opened with (borrowed, lives as long
 * as the session's state), or NULL. */
const char *proto_tls_cn(const struct session *s);

/* HELLO.Details of s as its client sent them, until its WELCOME (borrowed), else NULL. */
const json_t *proto_hello_details(const struct session *s);

/* The router whose state machine runs s (s->proto must exist: an opened or running
 * session). */
struct router *proto_router(const struct session *s);

/*
 * Resumption (router/core/resume.c): `from` (a new connection's session, authenticated,
 * never joined) hands its connection's facts to `to` (the established session it resumes,
 * whose connection is gone or being replaced): the listener's authentication, the TLS
 * identity (CN, certificate SHA-1, channel binding, the certificate's facts for dynamic
 * authenticators) and the HELLO deadline rule. `to`'s old
 * connection's facts go to `from` and are freed with it (proto_transport_closed). What
 * belongs to the session rather than its connection stays: `to`'s requests parked for an
 * authorizer and their timer, `from`'s HELLO.Details and HELLO timer. Both must have their
 * state (s->proto); nothing is allocated, nothing fails.
 */
void proto_take_connection(struct session *to, struct session *from);

/* Did a and b (both with their state, s->proto) come through the same listener, i.e. the
 * same listener authentication configuration? A session is resumable only through the
 * listener it was established on (resume_session). Reads only. */
bool proto_same_listener(const struct session *a, const struct session *b);

/*
 * The transport is gone (or going): the state machine's state of s is freed (s->proto
 * NULL), the realm forgets s. The caller frees s afterwards (session_free), reading its
 * connection's session pointer again: a resumable session is detached instead
 * (router/core/resume.h), keeping its state, and the connection lets go of it
 * (peer_ops.adopt NULL), so the transport's session_free(c->conn.session) frees nothing.
 */
void proto_transport_closed(struct router *rt, struct session *s);

/* Router shutdown: GOODBYE wamp.close.system_shutdown to an established session (state
 * SHUTTING_DOWN), or close a session that never joined. */
void proto_shutdown(struct router *rt, struct session *s);

#endif
