/*
 * front.h - the front door of a listener: every accepted TCP connection is read raw until
 * wampd knows what it is, then handed to the right handler.
 *
 * Why: libwebsockets 4.1 rejects a WebSocket upgrade whose Sec-WebSocket-Protocol list is
 * longer than 127 bytes, and Autobahn|Python offers 137 bytes of subprotocols by default.
 * The front door reads the HTTP request head, keeps only the subprotocols this listener
 * serves (in the client's order), and hands the socket with the rewritten head to the
 * WebSocket vhost (lws_adopt_socket_vhost_readbuf). It is also where a RawSocket client
 * (first byte 0x7F) will be told apart from HTTP on the same port.
 */
#ifndef WAMPD_ROUTER_FRONT_H
#define WAMPD_ROUTER_FRONT_H

#include <libwebsockets.h>
#include <stddef.h>

#include "router/core/iplimit.h"

struct router;
struct auth_config;
struct http_routes;

#define FRONT_HEAD_MAX 8192  /* an HTTP request head larger than this is refused (431) */
#define FRONT_ADOPT_MAX 2000 /* lws takes at most 2048 bytes of prefetched request */

/* What one listener's front door hands connections to (the front vhost's user pointer). */
/* The names of the WebSocket vhosts: all of one width, so that libwebsockets' prefix
 * comparison of a Host header with vhost names (lws_select_vhost) matches only the vhost
 * named exactly (front.c). */
#define FRONT_VHOST_NAME_FMT "wampd-ws-%04u"
#define FRONT_VHOST_NAME_MAX 32

/* One listener as its port's front door sees it. The listening vhost's user is the port's
 * first listener's (listen.c); the other listeners on the same port follow it in `next`. */
struct front_target {
	struct front_target *next;  /* the next listener on this port, or NULL */
	struct lws_vhost *ws_vhost; /* the WebSocket vhost (adopts HTTP connections) */
	char ws_vhost_name[FRONT_VHOST_NAME_MAX]; /* its name (FRONT_VHOST_NAME_FMT) */
	unsigned serializers;       /* bit set of the WAMP serializers served */
	int head_timeout_s;         /* seconds a client may take to send its request head */
	const char *ws_path;        /* the WebSocket path ("*": any) */
	struct iplimit *ipl;        /* per-address connection limit (the router's), or NULL */
	bool websocket;             /* WebSocket upgrades are served */
	bool rawsocket;             /* RawSocket (first octet 0x7F) is served */
	bool serves_http;           /* HTTP requests are answered (its services; an http
	                               listener: nothing else) */
	struct router *rt;          /* for RawSocket sessions */
	const struct auth_config *auth; /* the listener's authentication (RawSocket sessions) */
	size_t max_message_size;    /* the listener's (RawSocket sessions) */
	char *const *tls_ca_more;   /* TLS: CA files besides lws' one (tlspeer_load_cas) */
	const struct http_routes *http; /* plain HTTP services (router/net/http.h), or NULL */
};

/* The lws callback of the front vhost's only protocol ("wampd-front"). */
int front_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);

/* Per-connection state size for the front protocol. */
size_t front_pss_size(void);

/*
 * Rewrite an HTTP request head in place (head[0..len) ending with the blank line; cap is
 * the buffer size): the Host header becomes "Host: <host>" (the WebSocket vhost's name, so
 * that libwebsockets keeps the connection on it: see front.c); every
 * Sec-WebSocket-Protocol header keeps only the WAMP subprotocols in `serializers`; when the head is still longer than FRONT_ADOPT_MAX, headers a WAMP
 * router does not use (Cookie, User-Agent, Accept-*, ...) are dropped. Returns the new
 * length, or 0 if the head is malformed, has no Host or more than one, or cannot be made
 * small enough.
 */
size_t front_rewrite_head(char *head, size_t len, size_t cap, unsigned serializers,
                          const char *host);

/* The length of the request head in buf[0..len) up to and including the blank line that
 * ends it ("\r\n\r\n" or "\n\n"); 0 while it has not ended. */
size_t front_head_end(const char *buf, size_t len);

/* The listener of t's port (t and those after it in `next`) whose HTTP services have the
 * path (its query aside) of a complete request head (head[0..len)) that is a plain HTTP
 * request (no Upgrade header); NULL if it is none's. */
const struct front_target *front_http_target(const struct front_target *t, const char *head,
                                             size_t len);

/* The listener of t's port serving RawSocket, or NULL. */
const struct front_target *front_rawsocket_target(const struct front_target *t);

/*
 * The listener serving WebSocket at path[0..len) (the request target, its query aside)
 * among t and, when whole_port, the listeners after it on its port: the one with exactly
 * that path, else the one with "*" (any path), else NULL.
 */
const struct front_target *front_path_target(const struct front_target *t, const char *path,
                                             size_t len, bool whole_port);

/* What the front door answers a request it does not hand over: an HTTP status line and a
 * one-line text body. */
struct front_refusal {
	const char *status;
	const char *text;
};

/*
 * Check a complete request head (head[0..len)) before it is handed to a WebSocket vhost of
 * t's port: a WebSocket upgrade (Upgrade: websocket), for the path of one of its listeners
 * (front_path_target; *to is set to it), offering at least one WAMP subprotocol that
 * listener serves. NULL if it is one; else the refusal to answer with (static, in the
 * order of the checks: not an upgrade 404, on a port without a WebSocket listener (http
 * listeners only) any upgrade 404, malformed request line 400, no listener at the path
 * 404, no subprotocol served 400).
 */
const struct front_refusal *front_check_upgrade(const char *head, size_t len,
                                                const struct front_target *t,
                                                const struct front_target **to);

#endif
