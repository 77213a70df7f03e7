/*
 * raw.h - WAMP-over-RawSocket connections on the front door's raw libwebsockets
 * connections (router/front.c hands a connection over when its first byte is 0x7F).
 *
 * A raw_conn is the transport of one session: it answers the RawSocket handshake, reassembles
 * frames (router/rawsocket.c), answers PING with PONG, and queues the session's outgoing
 * messages in a byte-bounded queue written one frame per WRITEABLE callback, prefixing each
 * shared encoded buffer in its headroom (no copy). Connections are counted in the router's
 * nconns (max_sessions) like WebSocket ones.
 */
#ifndef WAMPD_ROUTER_RAW_H
#define WAMPD_ROUTER_RAW_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/router.h"

struct raw_conn;

/*
 * A new RawSocket connection on wsi (a raw-role connection) for router rt, serving the
 * serializers in the bit set `serializers`, authenticating with `auth` (borrowed, lives as
 * long as the listener). addr is "ip:port" for logs. NULL on allocation failure (close).
 */
struct raw_conn *raw_conn_new(struct router *rt, struct lws *wsi, unsigned serializers,
                              const struct auth_config *auth, const char *addr);

/* Bytes received. Returns -1 when the connection must be closed now. */
int raw_conn_receive(struct raw_conn *c, const uint8_t *in, size_t len);

/* LWS_CALLBACK_RAW_WRITEABLE: write one frame. Returns -1 to close (done or failed). */
int raw_conn_writeable(struct raw_conn *c);

/* The connection has closed: the session leaves, everything is freed (c is gone). */
void raw_conn_closed(struct raw_conn *c);

/* Router shutdown: every established RawSocket session is told GOODBYE system_shutdown. */
void raw_conns_shutdown(struct router *rt);

/* Add every RawSocket connection's queued bytes to *sum and raise *max to the largest. */
void raw_conns_queue_stats(size_t *sum, size_t *max);

/* Everything is going away at once (context destruction): queue nothing more. */
void raw_conns_abandon(void);

#endif
