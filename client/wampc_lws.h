/*
 * wampc_lws.h - libwampc-ws: the libwebsockets adapter of libwampc (a library of its own,
 * so that libwampc itself stays free of libwebsockets; pkg-config libwampc-ws).
 *
 * It carries a client (wampc.h) over WebSocket ("ws://HOST[:PORT][/PATH]", "wss://...":
 * the subprotocol wamp.2.json, wamp.2.msgpack or wamp.2.cbor after the serializer, text
 * frames for JSON and binary frames otherwise) and RawSocket ("rs://HOST:PORT",
 * "rss://HOST:PORT" over TLS, "unix:PATH": for applications whose event loop is
 * libwebsockets') on a libwebsockets 4.1 context: either the application's own
 * (wampc_lws_attach: any number of clients, in the application's lws_service loop), or one
 * of its own (wampc_lws_run: like wampc_run). Everything the engine does (reconnect with
 * backoff, timeouts, the offline queue) works the same; its timers are libwebsockets timers
 * of the context.
 *
 * wss:// and rss:// verify the router as the POSIX adapter's rss:// does
 * (wampc_config.tls: CA file and/or directory, else the system store; the name or
 * address; a client certificate for WAMPC_AUTH_TLS; tls.channel_binding): for wss:// the
 * TLS context is made by libwampc and given to libwebsockets; for rss:// libwebsockets
 * connects a plain raw socket and libwampc runs TLS over it (libwebsockets 4.1 cannot
 * keep a raw client connection raw after a TLS handshake). An application context used
 * for wss:// must have been created with LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT. Logging is
 * the application's (lws_set_log_level).
 *
 * An application's loop around lws_service may look at wampc_stopped() after each call:
 * the end of a connection wakes the context's poll (lws_cancel_service), whatever ended
 * it. Threads: a client and its context are used from the thread that runs lws_service.
 */
#ifndef WAMPC_LWS_H
#define WAMPC_LWS_H

#include <libwebsockets.h>

#include "wampc.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Serve client c on the application's context ctx (borrowed: it must outlive c, or c must
 * be freed first). The connection is made once the client is started (wampc_start; now if
 * it is) on the context's own vhosts: "wampc" for plain connections, one per TLS
 * configuration for wss://, made on first use and kept for the context's life. Returns
 * WAMPD_OK; WAMPD_ERR_INVALID_ARGUMENT for a URL this adapter does not serve (none, or
 * one wampc_url_parse refuses) or a client already served by another adapter;
 * WAMPD_ERR_NOMEM.
 */
enum wampd_err wampc_lws_attach(wampc *c, struct lws_context *ctx);

/*
 * Run c on a context of its own (made at the first call, kept until wampc_free) until
 * wampc_stop() (from a callback), the client stops for good, or timeout_ms passes (-1: no
 * limit), like wampc_run. Starts the client if it is not started. Returns WAMPD_OK;
 * WAMPD_ERR_INVALID_ARGUMENT as wampc_lws_attach, or for a client attached to an
 * application's context (its loop is the application's); WAMPD_ERR_NOMEM or
 * WAMPD_ERR_INTERNAL when the context cannot be made.
 */
enum wampd_err wampc_lws_run(wampc *c, int timeout_ms);

/*
 * The libwebsockets connection of c now (NULL while there is none): for what the
 * application wants to know of it (lws_get_socket_fd, lws_get_ssl (wss:// only: an
 * rss:// connection's TLS is libwampc's, not lws'), lws_get_peer_simple)
 * or to pause reading it (lws_rx_flow_control; the adapter changes it only when the
 * engine's own wish to read changes). Not to close it or to change its user data.
 */
struct lws *wampc_lws_wsi(const wampc *c);

#ifdef __cplusplus
}
#endif

#endif
