/*
 * ws.h - the WebSocket transport (libwebsockets 4.1): the callback of the WAMP subprotocols
 * of every listener's WebSocket vhost (router/net/listen.c builds the protocol tables), and
 * the size of its per-connection state.
 */
#ifndef WAMPD_ROUTER_WS_H
#define WAMPD_ROUTER_WS_H

#include <libwebsockets.h>
#include <stddef.h>

#define WS_PROTO_BATCHED 0x10u /* lws protocol id bit: a .batched subprotocol (the id's low
                                  bits: its enum wamp_ser) */
#define WS_RX_CHUNK 1024u      /* lws' per-connection receive chunk (memory per idle session) */

/* The callback of every "wamp.2.<serializer>[.batched]" protocol; the vhost's user is the
 * connection's struct listener (router/net/listen.h). */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);

/* Per-connection data lws allocates for those protocols. */
size_t ws_pss_size(void);

#endif
