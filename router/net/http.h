/*
 * http.h - plain HTTP/1.1 services on a listener's port (the port that serves WebSocket
 * and RawSocket), with a small routing layer any router module can register handlers in
 * (the HTTP bridge, webhooks, Server-Sent Events, long-poll).
 *
 * Two ways a connection becomes an http_conn, one set of handlers:
 *
 * - Plain listeners: the front door (router/net/front.c) reads each connection's request head;
 *   a request that is not a WebSocket upgrade and whose path has a route here is handed
 *   over, and from then on the raw lws connection is an http_conn. It reads requests (head,
 *   then a Content-Length body up to the route's max_body), runs the route's handler, and
 *   writes the response from the WRITEABLE callback (one lws_write per callback, responses
 *   and stream chunks queued as refcounted buffers). Keep-alive and pipelined requests are
 *   served in order; OPTIONS (CORS preflight) is answered for every route.
 *
 * CORS: a response carries Access-Control-Allow-Origin (with Allow-Credentials, since
 * browsers send cookies, cached Basic credentials and client certificates along) only
 * when the request's Origin is in the route's allow-list (http_route.origins, from the
 * configuration's allowed_origins); with no allow-list, no CORS header at all (never
 * "*", which would also let any web page read a service that only the victim's browser
 * can reach). The preflight answers a fixed list of request headers, never the ones asked
 * for: nothing of a request is copied into a response header except an allowed Origin.
 *
 * - TLS listeners (https:// on the wss:// port): the WebSocket vhost does the TLS itself, so
 *   no front door sees the decrypted bytes, and lws 4.1.6 offers no way to turn an HTTP
 *   connection it parsed into a raw one (its fallback to the raw role happens only for a
 *   first line that is not HTTP, which is how RawSocket shares the port). The requests are
 *   therefore parsed by lws' own HTTP/1.1 role and served by the same http_conn: at
 *   LWS_CALLBACK_HTTP the head lws parsed is written back as an HTTP/1.1 head (method, the
 *   percent-encoded path and query, every header lws knows by name plus those the route
 *   names in `headers`) and fed to the same reader as the front door's bytes, the body
 *   follows from LWS_CALLBACK_HTTP_BODY; so routing, limits, 100-continue, 413/411, CORS and
 *   the handlers' view of a request are the same code. Responses are the same bytes, written
 *   with LWS_WRITE_HTTP (HTTP/1.1 only: these vhosts offer ALPN http/1.1, not h2).
 *   One request per connection (Connection: close), because of three lws 4.1.6 defects
 *   with a client that pipelines: it delivers the body of a request it had buffered from
 *   the wrong offset (the request's own head), it busy-loops for as long as a request is
 *   held while bytes of the next one are buffered, and rx flow control cannot hold them
 *   back (the HTTP role then stops servicing POLLOUT while POLLOUT stays requested, another
 *   busy loop). A held POST with pipelined bytes behind it is told by lws repeating
 *   HTTP_BODY_COMPLETION: it is given up at once (its `gone` runs) and answered 503; a held
 *   GET gives no such sign, so Server-Sent Events are not offered on TLS listeners
 *   (config.c refuses them). A large answer (a static file) to a client that pipelines
 *   and reads slowly would keep lws in that loop for the whole download: while the socket
 *   is full, http_throttle (http.c) takes the connection off lws' busy list (rx flow
 *   control, a timer looking at the socket instead of POLLOUT). When the connection ends
 *   (http_end), reading stops and the throttle with it (its timer too), since lws' TLS
 *   close then waits up to timeout_secs for the client's close_notify and would loop on a
 *   connection that holds the pipelined bytes and may read, for as long. A client
 *   that goes away while a request is held is noticed by a once-a-second probe of the
 *   socket (POLLRDHUP), so `gone` runs as on plain connections. Also: lws keeps at most 4 KiB of request head (a longer one is dropped
 *   without an answer), splits the query at ';' as at '&', and keeps only the headers it
 *   knows by name and those the route lists. lws also ends a header at a bare CR (dropping
 *   the rest of that line) or a bare LF (what follows is the next header), and drops CR
 *   from the headers it does not know by name: no CR or LF reaches the services on this
 *   path either, and the other control characters (NUL, DEL, ESC, ...) are refused by
 *   http_parse_head with 400 as on plain connections.
 *
 * What handlers see of a connection is in router/http/httpapi.h (no libwebsockets).
 */
#ifndef WAMPD_ROUTER_HTTP_H
#define WAMPD_ROUTER_HTTP_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router/http/httpapi.h"

struct iplimit;

#define HTTP_IDLE_S 30 /* seconds a keep-alive connection may wait for its next request */

/* ---- the front door's side (front.c) ----------------------------------------------- */

/* A new HTTP connection on the raw connection wsi; addr "ip:port" (copied). NULL on
 * allocation failure (close the connection). */
struct http_conn *http_conn_new(const struct http_routes *rs, struct lws *wsi, const char *addr);

/* Bytes received (the head the front door read first included). -1: close now. */
int http_conn_receive(struct http_conn *c, const uint8_t *in, size_t len);

/* LWS_CALLBACK_RAW_WRITEABLE. -1: close (done or failed). */
int http_conn_writeable(struct http_conn *c);

/* The connection closed: a held request's or stream's `gone` runs, c is freed. */
void http_conn_closed(struct http_conn *c);

/* ---- lws' HTTP role (a TLS listener's WebSocket vhost, ws.c) ------------------------- */

struct iplimit;

/*
 * A callback of protocols[0] on a TLS listener's WebSocket vhost. Serves LWS_CALLBACK_HTTP
 * for a path with a route in rs (and every later request of that connection),
 * HTTP_BODY, HTTP_BODY_COMPLETION, HTTP_WRITEABLE, TIMER, CLOSED_HTTP and
 * HTTP_CONFIRM_UPGRADE of such a connection; the connection counts in ipl (per address;
 * NULL: no limit). Returns true with *ret set to what the callback must return when it
 * handled `reason`; false when the reason is not an HTTP service's (a request for a path
 * without a route on a fresh connection: the caller answers it as before).
 */
bool http_lws_serve(const struct http_routes *rs, struct iplimit *ipl, struct lws *wsi,
                    enum lws_callback_reasons reason, void *in, size_t len, int *ret);

/* The wsi is being destroyed (LWS_CALLBACK_WSI_DESTROY, for a connection bound to
 * protocols[0]): its http_conn, if one is left, is closed as at CLOSED_HTTP. */
void http_lws_destroyed(struct lws *wsi);

#endif
