/*
 * raw.h - WAMP-over-RawSocket connections on the front door's raw libwebsockets
 * connections (router/net/front.c hands a connection over when its first byte is 0x7F).
 *
 * Over TLS there is no front door that could read the head: a listener serving RawSocket
 * over TLS binds its accepted (or, universal, fallen back from HTTP) connections to
 * raw_tls_callback, which sees the decrypted bytes.
 *
 * A raw_conn is the transport of one session: it answers the RawSocket handshake, reassembles
 * frames (serializers/rawsocket.c), answers PING with PONG, and queues the session's outgoing
 * messages in the connection core's byte-bounded queue (router/core/conn.h) written one frame per
 * WRITEABLE callback, prefixing each shared encoded buffer in its headroom (no copy). The
 * core admits, counts, registers and shuts them down like every connection.
 */
#ifndef WAMPD_ROUTER_RAW_H
#define WAMPD_ROUTER_RAW_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/core/router.h"

struct raw_conn;

/*
 * A new RawSocket connection on wsi (a raw-role connection) for router rt, serving the
 * serializers in the bit set `serializers`, authenticating with `auth` (borrowed, lives as
 * long as the listener), messages of up to max_message_size bytes (the listener's; at
 * most RawSocket's 16 MiB). addr is "ip:port" for logs. NULL on allocation failure (close).
 */
struct raw_conn *raw_conn_new(struct router *rt, struct lws *wsi, unsigned serializers,
                              const struct auth_config *auth, size_t max_message_size,
                              const char *addr);

/* Bytes received. Returns -1 when the connection must be closed now. */
int raw_conn_receive(struct raw_conn *c, const uint8_t *in, size_t len);

/* LWS_CALLBACK_RAW_WRITEABLE: write one frame. Returns -1 to close (done or failed). */
int raw_conn_writeable(struct raw_conn *c);

/* The connection has closed: the session leaves, everything is freed (c is gone). */
void raw_conn_closed(struct raw_conn *c);

/*
 * The lws callback of the "wampd-rawsocket" protocol of TLS listeners: a rawsocket TLS
 * listener's raw vhost (its only protocol, LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG)
 * and a universal TLS listener's WebSocket vhost (where lws binds a connection whose
 * decrypted first line is not HTTP, LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG).
 * The vhost's user is the port's first listener's struct front_target; the connection is
 * served by the one of its port serving RawSocket (front.h). The first decrypted octet must
 * be 0x7F, else the connection is closed; the verified client certificate's CN goes to the
 * session (the tls authentication method); the per-address limit applies (error 4).
 * The protocol's per_session_data_size must be 0 (the state is allocated here).
 */
int raw_tls_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);

#endif
