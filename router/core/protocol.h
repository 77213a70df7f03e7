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

/*
 * A transport opened s (state OPEN): from now on it has limits.hello_timeout to be
 * WELCOMEd (HELLO, authentication, a dynamic authenticator's answer included), again after
 * each GOODBYE. Past the deadline an authenticating session gets ABORT
 * wamp.error.authentication_failed (a failure counted against its address, logged with
 * it); one that never said HELLO is closed, logged too. Transports call this once, right
 * after session_new; a session never opened has no deadline (unit tests).
 */
void proto_transport_open(struct router *rt, struct session *s);

/* The transport is gone (or going): the realm forgets s. The caller frees s afterwards,
 * reading its connection's session pointer again: a resumable session is detached instead
 * (router/core/resume.h) and the connection lets go of it (peer_ops.adopt NULL), so the
 * transport's session_free(c->conn.session) frees nothing. */
void proto_transport_closed(struct router *rt, struct session *s);

/* Router shutdown: GOODBYE wamp.close.system_shutdown to an established session (state
 * SHUTTING_DOWN), or close a session that never joined. */
void proto_shutdown(struct router *rt, struct session *s);

#endif
