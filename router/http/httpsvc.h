/*
 * httpsvc.h - the HTTP services of the listeners (publisher, caller, webhook, sse,
 * longpoll, and the web services static, archive, redirect, json, nodeinfo): their construction from the configuration, the routes the front door uses,
 * shutdown, and the helpers the services share for talking to the router as internal
 * WAMP clients.
 *
 * An internal session speaks JSON: what it sends goes through the same state machine
 * (proto_receive) as a client's bytes, so authorization, dynamic authorizers, option
 * validation and limits apply unchanged; what the router sends it arrives through its
 * peer_ops.send as encoded JSON and is decoded by the service.
 */
#ifndef WAMPD_ROUTER_HTTPSVC_H
#define WAMPD_ROUTER_HTTPSVC_H

#include <jansson.h>
#include <stdbool.h>

#include "router/config/config.h"
#include "router/http/httpapi.h"
#include "router/http/webfile.h"
#include "router/core/router.h"

/* What every service has (first member of each service's struct). */
struct httpsvc {
	const struct http_service_config *cfg; /* borrowed from rt->cfg */
	struct router *rt;
	const struct auth_config *auth;        /* the listener's authentication */
	unsigned serializers;                  /* the listener's serializers */
	/* router shutdown: close what is open (sessions get GOODBYE / requests an answer) */
	void (*shutdown)(struct httpsvc *svc);
	/* free everything (the lws context is gone; no connection is left) */
	void (*destroy)(struct httpsvc *svc);
	struct httpsvc *next;
};

/*
 * The routes of listener lc (its "http" services; the default WebSocket-only listener has
 * none: returns an empty table). Services are created here and stay until
 * httpsvc_free_all(). NULL with err set when a service cannot be set up (unknown realm).
 */
struct http_routes *httpsvc_listener_new(struct router *rt, const struct listener_config *lc,
                                         char *err, size_t errlen);

/* Router shutdown (loop_run): every service of rt closes what it has open. */
void httpsvc_shutdown_all(struct router *rt);

/* The lws context is about to be destroyed: connections close, no timer may start. */
void httpsvc_abandon(struct router *rt);

/* Free every service and route table of rt (loop_free, after the lws context). */
void httpsvc_free_all(struct router *rt);

/*
 * Feed a WAMP message (a JSON array, borrowed) to internal session s as if its client had
 * sent it. It is decoded and validated first: false (nothing fed, err set) when it does not
 * pass, so a bad HTTP request never becomes a protocol violation of the session.
 */
bool httpsvc_feed(struct router *rt, struct session *s, json_t *msg, char *err, size_t errlen);

/* A message the router queued for an internal JSON session, decoded (new reference), or
 * NULL. */
json_t *httpsvc_decode(const struct wamp_out *out);

/* Start/stop a one-shot timer on the router's loop (NULL when timers are unavailable). */
struct realm_timer *httpsvc_timer(struct router *rt, uint32_t ms, void (*fn)(void *), void *arg);
void httpsvc_timer_cancel(struct router *rt, struct realm_timer **t);

/* Services (one file each). NULL on failure with err set. */
struct httpsvc *bridge_service_new(struct router *rt, const struct http_service_config *cfg,
                                   struct http_route *route, char *err, size_t errlen);
struct httpsvc *sse_service_new(struct router *rt, const struct http_service_config *cfg,
                                struct http_route *route, char *err, size_t errlen);
struct httpsvc *longpoll_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen);
/* the web services: files of a directory (static_svc.c), redirect, json, nodeinfo
 * (websvc.c) */
struct httpsvc *static_service_new(struct router *rt, const struct http_service_config *cfg,
                                   struct http_route *route, char *err, size_t errlen);
struct httpsvc *redirect_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen);
struct httpsvc *json_service_new(struct router *rt, const struct http_service_config *cfg,
                                 struct http_route *route, char *err, size_t errlen);
struct httpsvc *nodeinfo_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen);
/* the files inside a ZIP archive (archive_svc.c): NULL with err set when the archive does
 * not open */
struct httpsvc *archive_service_new(struct router *rt, const struct http_service_config *cfg,
                                    struct http_route *route, char *err, size_t errlen);

/* ---- what the file services share (static_svc.c; used by archive_svc.c) -------------- */

/* Answer a request path webfile_path refused (pr != WEBFILE_PATH_OK): 400, 403 or 414,
 * logged with the service's kind ("static") and route path. */
void websvc_refuse_path(struct http_conn *c, enum webfile_path_result pr, const char *kind,
                        const char *route_path);

/* Cache-Control (and Expires) for a max-age of timeout_s seconds (0: no-cache), appended
 * to buf (cap bytes) at *o, which advances. */
void websvc_cache_headers(uint32_t timeout_s, char *buf, size_t cap, size_t *o);

/* Whether the client's copy is current: If-None-Match against etag, else
 * If-Modified-Since against mtime (seconds since the epoch). */
bool websvc_not_modified(const struct http_request *req, const char *etag, int64_t mtime);

/* Whether the file at path opens as a ZIP archive (archive_svc.c; the preflight of `wampd
 * check` and of the start): true, or false with the reason in err. */
bool archive_check(const char *path, char *err, size_t errlen);

/* ---- the services' parts that need no connection (tests/unit/test_httpsvc.c) ---------- */

/* The HTTP status the bridge answers a WAMP error URI with (README "HTTP bridge"): 400,
 * 403, 404, 413, 429, 501, 503 or 504 for the router's errors, 500 for any other (the
 * callee's own error URI). */
int bridge_error_status(const char *uri);

/* The HTTP status of an SSE request whose internal session was refused with ABORT `uri`:
 * 404 no such realm, 403 not authorized or no such role, 400 invalid URI, 503 shutdown
 * or a limit, 401 otherwise (authentication). */
int sse_refusal_status(const char *uri);

/* One event in SSE framing, "id: <publication>\ndata: {"topic", "args", "kwargs"}\n\n"
 * (args and kwargs borrowed; NULL: empty): a new buffer (one reference), NULL on
 * allocation failure. */
struct wamp_out *sse_render(uint64_t publication, const char *topic, json_t *args,
                            json_t *kwargs);

/*
 * The credentials of an SSE request, into authid and ticket (NUL-terminated): none (true,
 * both left as they are), "Authorization: Basic base64(authid:ticket)", or
 * "Authorization: Bearer <ticket>" with ?authid=. false: another scheme, malformed, an
 * empty authid, or too long for authid_size / ticket_size.
 */
bool sse_credentials(const struct http_request *req, char *authid, size_t authid_size,
                     char *ticket, size_t ticket_size);

#endif
