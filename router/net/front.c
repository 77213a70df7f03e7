/*
 * front.c - a listener's front door (see front.h).
 *
 * Each accepted connection starts as a raw lws socket. Its bytes are buffered until the
 * end of the HTTP request head (an empty line); the head is rewritten
 * (front_rewrite_head) and the socket, duplicated with dup(2), is adopted by the WebSocket
 * vhost together with the rewritten bytes; the raw connection is then closed, which closes
 * only its own descriptor (lws does not shut raw sockets down on close, so the duplicate
 * keeps the TCP connection open). A head that does not end within FRONT_HEAD_MAX bytes
 * gets "431 Request Header Fields Too Large"; a client that does not finish its head in
 * time is dropped (slowloris).
 *
 * Listener isolation: the rewritten head names the listener's own WebSocket vhost in its
 * Host header. libwebsockets 4.1.6, once it has parsed an HTTP head, moves the connection
 * to the vhost lws_select_vhost() picks by Host among the vhosts of the same listen port
 * (roles/http/server/server.c), else to the first vhost of that port. Every WebSocket vhost
 * here is created without a listener of its own (CONTEXT_PORT_NO_LISTEN_SERVER), so all of
 * them share that "port": with the client's Host, lws moved every adopted connection to the
 * first listener's vhost (or to one the client named), and a ticket-only listener was
 * served with another one's anonymous auth. Dropping Host is not possible (lws refuses a
 * WebSocket handshake without it), so it is replaced by the vhost's name, which the first
 * rule of lws_select_vhost() matches exactly (names are of one width, see
 * FRONT_VHOST_NAME_FMT: lws compares only as many characters as Host has). Nothing of
 * ours reads the client's Host (tests/security/test_listener_isolation.py).
 *
 * Several listeners on one port (config.h): the listening vhost belongs to the first of
 * them, and each connection is given to exactly one: a WebSocket upgrade to the listener
 * with exactly its path (the query aside), else to the one with "*"; a RawSocket
 * handshake to the one serving RawSocket; a plain HTTP request to the one with a service
 * at its path. From then on it is that listener's connection: its subprotocols, its vhost
 * (named in Host as above), its auth and limits. A path no listener has is answered 404.
 * An http listener (HTTP services only) is only ever given plain HTTP requests: it has no
 * WebSocket vhost, no upgrade is handed to it, and a port of http listeners alone answers
 * every upgrade 404 and a RawSocket handshake with RawSocket's error.
 */
#include "router/net/front.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "router/net/http.h"
#include "router/net/raw.h"
#include "serializers/codec.h"

struct front_conn {
	char *buf;
	size_t len;
	bool counted;                 /* counted in the per-address limit */
	bool over_limit;              /* refused: answered 429 once its head arrives */
	char ip[IPLIMIT_ADDR_MAX];
	int port;
	struct raw_conn *raw;         /* a RawSocket connection (first octet 0x7F), or NULL */
	struct http_conn *http;       /* a plain HTTP connection (router/net/http.c), or NULL */
};

size_t front_pss_size(void)
{
	return sizeof(struct front_conn);
}

size_t front_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && !memcmp(buf + i, "\r\n\r\n", 4))
			return i + 4;
	}
	return 0;
}

static bool header_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && line[k] == ':' && !strncasecmp(line, name, k);
}

/* Keep in the value [v, v+n) only the subprotocols we serve; writes into out. */
static size_t front_filter_protocols(const char *v, size_t n, unsigned serializers, char *out,
                                     size_t cap)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t start, end;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t' || v[end - 1] == '\r'))
			end--;
		if (end > start) {
			/* wamp.2.<ser>[.batched]: the batched variant is served for every serializer */
			const struct wamp_serializer_desc *d =
				wamp_ser_by_subprotocol(v + start, end - start, NULL);

			if (!d || !(serializers & (1u << d->ser)))
				continue;
			if (o + (end - start) + 2 >= cap)
				break;
			if (o) {
				out[o++] = ',';
				out[o++] = ' ';
			}
			memcpy(out + o, v + start, end - start);
			o += end - start;
		}
	}
	return o;
}

size_t front_rewrite_head(char *head, size_t len, size_t cap, unsigned serializers,
                          const char *host)
{
	static const char *const droppable[] = {"cookie", "user-agent", "accept", "accept-language",
	                                        "accept-encoding", "cache-control", "pragma",
	                                        "referer", "dnt", "sec-fetch-mode", "sec-fetch-site",
	                                        "sec-fetch-dest", "sec-websocket-extensions", NULL};
	char *out = malloc(cap);
	size_t o = 0, i = 0;
	bool drop = false, host_done;

	if (!out)
		return 0;
again:
	o = 0;
	i = 0;
	host_done = false;
	while (i < len) {
		const char *line = head + i;
		const char *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) + 1 : len - i;
		size_t content = n - (n && line[n - 1] == '\n' ? 1 : 0);

		if (content && line[content - 1] == '\r')
			content--;
		if (header_is(line, content, "host")) {
			/* our vhost's name, never the client's (see the file comment) */
			if (host_done || o + strlen(host) + 10 > cap)
				goto fail;
			host_done = true;
			o += (size_t)snprintf(out + o, cap - o, "Host: %s\r\n", host);
		} else if (header_is(line, content, "sec-websocket-protocol")) {
			size_t name = strlen("sec-websocket-protocol") + 1;
			char value[512];
			size_t vn = front_filter_protocols(line + name, content - name, serializers, value,
			                             sizeof(value));

			if (!vn) { /* nothing we serve: a name lws will not find, to refuse cleanly */
				memcpy(value, "x-wampd-none", 12);
				vn = 12;
			}
			if (o + vn + 40 > cap)
				goto fail;
			o += (size_t)snprintf(out + o, cap - o, "Sec-WebSocket-Protocol: %.*s\r\n", (int)vn,
			                      value);
		} else {
			bool skip = false;

			for (int k = 0; drop && droppable[k]; k++)
				if (header_is(line, content, droppable[k]))
					skip = true;
			if (!skip) {
				if (o + n > cap)
					goto fail;
				memcpy(out + o, line, n);
				o += n;
			}
		}
		i += n;
	}
	if (o > FRONT_ADOPT_MAX && !drop) {
		drop = true;
		goto again;
	}
	if (o > FRONT_ADOPT_MAX || !host_done) /* no Host: lws would refuse it anyway */
		goto fail;
	memcpy(head, out, o);
	free(out);
	return o;
fail:
	free(out);
	return 0;
}

/* Answer an HTTP error with a one-line text body and close. */
static int front_refuse(struct lws *wsi, const char *status, const char *text)
{
	char resp[512];
	int n = snprintf(resp, sizeof(resp),
	                 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n%s\n", status, strlen(text) + 1, text);

	if (write(lws_get_socket_fd(wsi), resp, (size_t)n) < 0)
		wlog_debug("front", "cannot answer %s", status);
	return -1;
}

/* The value of header `name` in the head (points into it; *len set), or NULL. */
static const char *head_value(const char *head, size_t len, const char *name, size_t *vlen)
{
	size_t k = strlen(name), i = 0;

	while (i < len) {
		const char *line = head + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i;

		if (n > k && line[k] == ':' && !strncasecmp(line, name, k)) {
			const char *v = line + k + 1;
			size_t vn = n - k - 1;

			while (vn && (*v == ' ' || *v == '\t'))
				v++, vn--;
			while (vn && (v[vn - 1] == '\r' || v[vn - 1] == ' '))
				vn--;
			*vlen = vn;
			return v;
		}
		i += n + 1;
	}
	return NULL;
}

const struct front_target *front_path_target(const struct front_target *t, const char *path,
                                             size_t len, bool whole_port)
{
	const struct front_target *any = NULL;
	const char *q = memchr(path, '?', len);

	if (q)
		len = (size_t)(q - path);
	for (; t; t = whole_port ? t->next : NULL) {
		if (!t->websocket)
			continue;
		if (!strcmp(t->ws_path, "*"))
			any = any ? any : t;
		else if (strlen(t->ws_path) == len && !memcmp(t->ws_path, path, len))
			return t;
	}
	return any;
}

const struct front_target *front_rawsocket_target(const struct front_target *t)
{
	while (t && !t->rawsocket)
		t = t->next;
	return t;
}

/* Does any listener of t's port answer HTTP requests (a WebSocket listener, or an http
 * listener's services)? */
static bool front_serves_http(const struct front_target *t)
{
	while (t && !t->serves_http)
		t = t->next;
	return t != NULL;
}

/* Does any listener of t's port serve WebSocket? */
static bool front_serves_websocket(const struct front_target *t)
{
	while (t && !t->websocket)
		t = t->next;
	return t != NULL;
}

const struct front_refusal *front_check_upgrade(const char *head, size_t len,
                                                const struct front_target *t,
                                                const struct front_target **to)
{
	static const struct front_refusal not_ws = {"404 Not Found",
	                                            "wampd: connect with a WAMP WebSocket client"};
	static const struct front_refusal bad_line = {"400 Bad Request", "malformed request line"};
	static const struct front_refusal bad_path = {"404 Not Found",
	                                              "no WAMP service at this path"};
	static const struct front_refusal no_proto = {
		"400 Bad Request",
		"no supported WAMP subprotocol offered (" WAMP_SER_SUBPROTOCOLS ")"};
	/* a port of http listeners: nothing here is a WebSocket */
	static const struct front_refusal no_service = {"404 Not Found",
	                                                "no HTTP service at this path"};
	static const struct front_refusal no_ws_port = {
		"404 Not Found", "no WebSocket on this port (it serves HTTP services only)"};
	const char *sp1 = memchr(head, ' ', len), *sp2, *up, *protos;
	size_t uplen, plen;
	char filtered[512];
	bool ws = front_serves_websocket(t);

	*to = NULL;
	up = head_value(head, len, "upgrade", &uplen);
	if (!up || uplen != 9 || strncasecmp(up, "websocket", 9))
		return ws ? &not_ws : &no_service;
	if (!ws)
		return &no_ws_port;
	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - head))))
		return &bad_line;
	if (!(t = front_path_target(t, sp1 + 1, (size_t)(sp2 - sp1 - 1), true)))
		return &bad_path;
	protos = head_value(head, len, "sec-websocket-protocol", &plen);
	if (!protos || !front_filter_protocols(protos, plen, t->serializers, filtered, sizeof(filtered)))
		return &no_proto;
	*to = t;
	return NULL;
}

/* A WebSocket upgrade for the path of one of the port's listeners (port: the first one),
 * offering one of its subprotocols: handed to that listener's WebSocket vhost. Else
 * answered. */
static int front_hand_over(struct lws *wsi, struct front_conn *c,
                           const struct front_target *port, size_t head_len)
{
	const struct front_target *t;
	const struct front_refusal *no = front_check_upgrade(c->buf, head_len, port, &t);
	size_t n;
	int fd;

	if (no)
		return front_refuse(wsi, no->status, no->text);
	n = front_rewrite_head(c->buf, head_len, FRONT_HEAD_MAX, t->serializers, t->ws_vhost_name);
	if (!n || c->len > head_len)
		/* malformed, or bytes after the head before the upgrade was answered */
		return front_refuse(wsi, "400 Bad Request", "malformed request");
	/* the WebSocket side counts the connection from here on (it is established inside
	 * the adoption below) */
	if (c->counted) {
		iplimit_conn_close(port->ipl, c->ip);
		c->counted = false;
	}
	fd = dup(lws_get_socket_fd(wsi));
	if (fd < 0) {
		wlog_warn("front", "dup failed: refusing a connection");
		return -1;
	}
	/* NULL: lws refused it or already served and closed it (it closes fd itself) */
	if (!lws_adopt_socket_vhost_readbuf(t->ws_vhost, fd, c->buf, n))
		wlog_debug("front", "connection closed during the hand-over");
	return -1; /* close the raw side: only its own descriptor */
}

const struct front_target *front_http_target(const struct front_target *t, const char *head,
                                             size_t len)
{
	const char *sp1 = memchr(head, ' ', len), *sp2, *q, *rest;
	size_t uplen, rest_len;

	if (head_value(head, len, "upgrade", &uplen) || !sp1 ||
	    !(sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - head))))
		return NULL;
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	for (; t; t = t->next)
		if (t->http && t->http->n &&
		    http_route_find(t->http, sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1), &rest,
		                    &rest_len))
			return t;
	return NULL;
}

/* From here on the connection is an HTTP connection: hand it what was read. */
static int front_to_http(struct lws *wsi, struct front_conn *c, const struct front_target *t,
                         const uint8_t *more, size_t more_len)
{
	char addr[IPLIMIT_ADDR_MAX + 8];
	char *buf = c->buf;
	size_t n = c->len;
	int rc;

	snprintf(addr, sizeof(addr), "%s:%d", c->ip, c->port);
	if (!(c->http = http_conn_new(t->http, wsi, addr)))
		return -1;
	c->buf = NULL;
	c->len = 0;
	rc = http_conn_receive(c->http, (const uint8_t *)buf, n);
	free(buf);
	if (!rc && more_len)
		rc = http_conn_receive(c->http, more, more_len);
	return rc;
}

int front_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
	struct front_conn *c = user;
	/* some callbacks (GET_THREAD_ID) come with a wsi of no vhost: to the first vhost's
	 * first protocol, ours when the first listener has no WebSocket vhost */
	struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
	struct front_target *t = vh ? lws_vhost_user(vh) : NULL;
	size_t end;

	if (!t)
		return 0;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT: {
		int port;

		c->buf = NULL;
		c->len = 0;
		c->counted = false;
		c->over_limit = false;
		c->raw = NULL;
		c->http = NULL;
		/* a connection still sending its head counts against its address too, so one
		 * host cannot hold many half-open (slowloris) connections */
		iplimit_fd_peer(lws_get_socket_fd(wsi), c->ip, &port);
		c->port = port;
		if (t->ipl && !iplimit_conn_open(t->ipl, c->ip)) {
			wlog_warn("front", "refusing connection peer=%s:%d: max_sessions_per_ip=%u "
			          "reached", c->ip, port, t->ipl->max_conns);
			/* answer once the head is in (answering before it would make the client's
			 * write meet a reset and lose the answer); wait briefly for it */
			c->over_limit = true;
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 2);
			return 0;
		}
		c->counted = t->ipl != NULL;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, t->head_timeout_s);
		return 0;
	}
	case LWS_CALLBACK_RAW_RX:
		if (c->raw)
			return raw_conn_receive(c->raw, in, len);
		if (c->http)
			return http_conn_receive(c->http, in, len);
		if (!c->len && len && ((const uint8_t *)in)[0] == 0x7F) {
			/* RawSocket: no valid HTTP request starts with 0x7F */
			const struct front_target *r = front_rawsocket_target(t);
			char addr[IPLIMIT_ADDR_MAX + 8];

			if (!r || c->over_limit) {
				/* error 1 (serializer unsupported: no RawSocket here) or 4 (connections) */
				static const uint8_t no_raw[4] = {0x7F, 0x10, 0, 0};
				static const uint8_t full[4] = {0x7F, 0x40, 0, 0};

				if (write(lws_get_socket_fd(wsi), c->over_limit ? full : no_raw, 4) < 0)
					wlog_debug("front", "cannot answer a RawSocket handshake");
				return -1;
			}
			snprintf(addr, sizeof(addr), "%s:%d", c->ip, c->port);
			if (!(c->raw = raw_conn_new(r->rt, wsi, r->serializers, r->auth,
			                            r->max_message_size, addr)))
				return -1;
			return raw_conn_receive(c->raw, in, len);
		}
		if (c->over_limit)
			return front_refuse(wsi, "429 Too Many Requests",
			                    "too many connections from this address");
		if (!front_serves_http(t))
			return front_refuse(wsi, "400 Bad Request", "this port serves WAMP-over-RawSocket");
		if (!c->buf && !(c->buf = malloc(FRONT_HEAD_MAX)))
			return -1;
		{
			/* an HTTP request's body may follow its head in the same read */
			size_t k = len < FRONT_HEAD_MAX - c->len ? len : FRONT_HEAD_MAX - c->len;

			memcpy(c->buf + c->len, in, k);
			c->len += k;
			if ((end = front_head_end(c->buf, c->len))) {
				const struct front_target *h = front_http_target(t, c->buf, end);

				if (h)
					return front_to_http(wsi, c, h, (const uint8_t *)in + k, len - k);
				if (k < len)
					return front_refuse(wsi, "400 Bad Request", "malformed request");
				return front_hand_over(wsi, c, t, end);
			}
			if (k < len || c->len == FRONT_HEAD_MAX)
				return front_refuse(wsi, "431 Request Header Fields Too Large",
				                    "request head too large");
		}
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (c->http)
			return http_conn_writeable(c->http);
		return c->raw ? raw_conn_writeable(c->raw) : 0;
	case LWS_CALLBACK_RAW_CLOSE:
		/* the address's place first: a resumable session that detaches takes it over
		 * (router/core/resume.c), as a WebSocket connection's does */
		if (c->counted)
			iplimit_conn_close(t->ipl, c->ip);
		c->counted = false;
		if (c->raw)
			raw_conn_closed(c->raw);
		c->raw = NULL;
		if (c->http)
			http_conn_closed(c->http);
		c->http = NULL;
		free(c->buf);
		c->buf = NULL;
		return 0;
	default:
		return 0;
	}
}
