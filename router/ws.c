/*
 * ws.c - the WebSocket transport on libwebsockets 4.1 (the only file with lws' callbacks
 * for WAMP; follows lws' minimal-ws-server examples of v4.1.6).
 *
 * Listeners: one lws vhost per configured listener, created explicitly so each vhost
 * carries its listener (lws_vhost_user). Its protocol list is: protocols[0] "http" (plain
 * HTTP, and the protocol lws falls back to for an upgrade naming no subprotocol, which we
 * refuse), then one "wamp.2.<serializer>" protocol per serializer the listener enables,
 * all sharing ws_callback. lws picks the first subprotocol of the client's list it knows.
 *
 * Receiving: a message that arrives in one piece (the common case) is handed to the state
 * machine straight from lws' buffer; a fragmented one is reassembled in a per-connection
 * buffer (freed again when it grew beyond 64 KiB) up to max_message_size.
 *
 * Sending: peer_ops.send only queues (router/outq.c) and asks for a WRITEABLE callback;
 * each WRITEABLE callback writes exactly one message with one lws_write from the buffer's
 * LWS_PRE headroom, and asks again while messages remain. A queue over its byte bound
 * closes the connection at once (slow consumer); nothing is dropped silently.
 *
 * Closing: peer_ops.close marks the connection and lets WRITEABLE flush what is queued
 * (e.g. an ABORT) before returning -1 with the close code; a 5 s timeout bounds the flush.
 * The session is forgotten by the realm and freed only in LWS_CALLBACK_CLOSED.
 */
#include "router/ws.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <utlist.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "router/front.h"
#include "router/httpreq.h"
#include "router/httpsvc.h"
#include "router/outq.h"
#include "router/protocol.h"
#include "router/raw.h"
#include "router/reuseport.h"
#include "router/batched.h"
#include "router/conn.h"
#include "router/tlspeer.h"

_Static_assert(LWS_PRE <= WAMP_OUT_HEADROOM, "wamp_out headroom must cover LWS_PRE");

#define WS_CLOSE_FLUSH_S 5        /* seconds a closing connection may take to flush */
#define WS_PROTO_BATCHED 0x10u    /* lws protocol id bit: a .batched subprotocol */
#define WS_BATCH_MAX (64u * 1024) /* bytes gathered into one outgoing batch (at least one
                                     message, whatever its size) */
#define WS_RX_CHUNK 1024u        /* lws' per-connection receive chunk (memory per idle session) */
#define WS_RAW_TLS_PROTOCOL "wampd-rawsocket" /* RawSocket over TLS (raw.c) */

struct ws_server;

struct ws_listener {
	struct front_target front;       /* the front vhost's user: must stay first */
	struct ws_server *server;
	const struct listener_config *cfg;
	struct lws_protocols *protocols; /* WebSocket vhost's, terminated array, owned */
	struct lws_protocols front_protocols[2];
	struct lws_vhost *vhost;         /* WebSocket vhost (no listener of its own) */
	struct lws_vhost *front_vhost;   /* the listening socket (front.c) */
	struct reuseport *reuseport;     /* its listener when shared (SO_REUSEPORT), or NULL */
	char front_name[FRONT_VHOST_NAME_MAX]; /* the listening vhost's name when it is not the
	                                          WebSocket vhost (lws keeps the pointer) */
};

struct ws_conn {
	struct conn conn;     /* the connection core's part (router/conn.h): must stay first */
	struct lws *wsi;
	struct ws_server *server;
	uint8_t *rx;          /* reassembly buffer */
	size_t rx_len;
	size_t rx_cap;
	bool rx_discard;      /* dropping the rest of an oversized message */
	bool ip_counted;      /* counted in the router's per-address limit */
	bool batched;         /* wamp.2.*.batched: several messages per WebSocket message */
	uint8_t batch_sep;    /* JSON batches: the client's separator (batched.h), 0 = unknown */
	uint16_t close_code;
	char close_reason[64];
};

struct ws_server {
	struct router *rt;
	struct lws_context *ctx;
	struct ws_listener *listeners;
	size_t nlisteners;
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t tick;
	unsigned ticks;
	volatile int *stop;
};

/* -------------------------------------------------------------------------------- */
/* peer_ops for realm/                                                                */

/* conn_ops.close: c->conn.closing is set (conn_close) */
static void ws_close(struct conn *cc, int code, const char *reason, bool now)
{
	struct ws_conn *c = (struct ws_conn *)cc;

	c->close_code = (uint16_t)code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	if (now) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, WS_CLOSE_FLUSH_S);
		lws_callback_on_writable(c->wsi);
	}
}

static void ws_kick(struct conn *c)
{
	lws_callback_on_writable(((struct ws_conn *)c)->wsi);
}

static int ws_fd(struct conn *c)
{
	return lws_get_socket_fd(((struct ws_conn *)c)->wsi);
}

static json_t *ws_transport(struct conn *cc)
{
	struct ws_conn *c = (struct ws_conn *)cc;

	return json_pack("{s:s, s:s, s:s}", "type", "websocket", "protocol",
	                 lws_get_protocol(c->wsi)->name, "peer", c->conn.addr);
}

static const struct conn_ops ws_conn_ops = {
	.kind = "websocket",
	.kick = ws_kick,
	.close = ws_close,
	.fd = ws_fd,
	.transport = ws_transport,
};

static const struct peer_ops ws_peer_ops = CONN_PEER_OPS("websocket");

/* -------------------------------------------------------------------------------- */
/* connection lifecycle                                                               */

/* "ip:port" of wsi's peer into out[n] */
static void ws_address(struct lws *wsi, char *out, size_t n)
{
	char ip[IPLIMIT_ADDR_MAX];
	int port;

	iplimit_fd_peer(lws_get_socket_fd(wsi), ip, &port);
	snprintf(out, n, "%s:%d", ip, port);
}

static int ws_established(struct ws_listener *l, struct ws_conn *c, struct lws *wsi)
{
	struct ws_server *srv = l->server;
	enum wamp_ser ser = (enum wamp_ser)(lws_get_protocol(wsi)->id & ~WS_PROTO_BATCHED);

	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->server = srv;
	c->conn.ops = &ws_conn_ops;
	c->conn.rt = srv->rt;
	ws_address(wsi, c->conn.addr, sizeof(c->conn.addr));
	{
		char ip[IPLIMIT_ADDR_MAX];

		iplimit_host(c->conn.addr, ip);
		if (!iplimit_conn_open(&srv->rt->ipl, ip)) {
			wlog_warn("ws", "refusing connection peer=%s: max_sessions_per_ip=%u reached",
			          c->conn.addr, srv->rt->ipl.max_conns);
			return -1;
		}
		c->ip_counted = true;
	}
	c->conn.session = session_new(&ws_peer_ops, &c->conn, ser);
	if (!c->conn.session)
		return -1;
	c->conn.session->auth = &l->cfg->auth;
	c->batched = (lws_get_protocol(wsi)->id & WS_PROTO_BATCHED) != 0;
	if (l->cfg->tls_cert) {
		c->conn.session->tls_cn = tlspeer_cn(wsi);
		c->conn.session->tls_channel_id = tlspeer_channel_id(wsi);
	}
	conn_open(&c->conn);
	conn_count(&c->conn);
	proto_transport_open(srv->rt, c->conn.session); /* the HELLO..WELCOME deadline */
	wlog_debug("ws", "open peer=%s serializer=%s", c->conn.addr, wamp_ser_name(ser));
	return 0;
}

static void ws_closed(struct ws_server *srv, struct ws_conn *c)
{
	if (c->ip_counted) {
		char ip[IPLIMIT_ADDR_MAX];

		iplimit_host(c->conn.addr, ip);
		iplimit_conn_close(&srv->rt->ipl, ip);
		c->ip_counted = false;
	}
	if (!c->conn.session)
		return;
	proto_transport_closed(srv->rt, c->conn.session);
	session_free(c->conn.session);
	c->conn.session = NULL;
	conn_release(&c->conn);
	free(c->rx);
	c->rx = NULL;
	wlog_debug("ws", "closed peer=%s", c->conn.addr);
}

/* -------------------------------------------------------------------------------- */
/* receiving                                                                          */

static void ws_deliver_one(struct ws_server *srv, struct ws_conn *c, const uint8_t *buf,
                           size_t len);

static bool ws_batch_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct ws_conn *c = ctx;

	ws_deliver_one(c->server, c, msg, len);
	return !c->conn.closing;
}

/* One complete WebSocket message: one WAMP message, or a batch of them. */
static void ws_deliver(struct ws_server *srv, struct ws_conn *c, const uint8_t *buf, size_t len)
{
	enum batch_result r;

	if (!c->batched) {
		ws_deliver_one(srv, c, buf, len);
		return;
	}
	if (!c->batch_sep && c->conn.session->ser == WAMP_SER_JSON)
		c->batch_sep = batch_json_separator(buf, len);
	r = batch_split(c->conn.session->ser, c->batch_sep ? c->batch_sep : BATCH_SEP_SPEC, buf, len,
	                ws_batch_msg, c);
	if (r == BATCH_EMPTY || r == BATCH_MALFORMED)
		session_fail(c->conn.session, 0, 0, WAMPD_ERR_PROTOCOL,
		             r == BATCH_EMPTY ? "empty batch"
		                              : c->conn.session->ser == WAMP_SER_JSON
		                                    ? "batch: a message without its 0x1E separator"
		                                    : "batch: a length beyond the message");
}

/* Run one WAMP message through the state machine. */
static void ws_deliver_one(struct ws_server *srv, struct ws_conn *c, const uint8_t *buf,
                           size_t len)
{
	proto_receive(srv->rt, c->conn.session, buf, len);
}

static void ws_too_big(struct ws_server *srv, struct ws_conn *c, size_t size)
{
	char why[96];

	snprintf(why, sizeof(why), "message of %zu+ bytes exceeds the limit of %zu", size,
	         srv->rt->cfg.max_message_size);
	wlog_warn("ws", "message too big session=%llu peer=%s: %s",
	          (unsigned long long)c->conn.session->id, c->conn.addr, why);
	c->rx_discard = true;
	session_fail(c->conn.session, 0, 0, WAMPD_ERR_TOO_BIG, why);
}

static void ws_receive(struct ws_server *srv, struct ws_conn *c, const uint8_t *in, size_t len)
{
	struct lws *wsi = c->wsi;
	size_t max = srv->rt->cfg.max_message_size;
	bool first = lws_is_first_fragment(wsi);
	bool final = lws_is_final_fragment(wsi);

	metrics.bytes_in += len;
	if (c->conn.closing)
		return;
	if (first) {
		bool binary = lws_frame_is_binary(wsi);

		c->rx_len = 0;
		c->rx_discard = false;
		if (binary != wamp_ser_is_binary(c->conn.session->ser)) {
			session_fail(c->conn.session, 0, 0, WAMPD_ERR_PROTOCOL,
			             binary ? "binary frame on a text (JSON) session"
			                    : "text frame on a binary session");
			return;
		}
		if (len + lws_remaining_packet_payload(wsi) > max) {
			ws_too_big(srv, c, len + lws_remaining_packet_payload(wsi));
			return;
		}
		if (final) { /* the whole message in one piece: no copy */
			ws_deliver(srv, c, in, len);
			return;
		}
	}
	if (c->rx_discard)
		return;
	if (c->rx_len + len > max) {
		ws_too_big(srv, c, c->rx_len + len);
		return;
	}
	if (c->rx_len + len > c->rx_cap) {
		/* first guess: the frame's announced size, so an unfragmented frame split into
		 * chunks needs one allocation */
		size_t want = c->rx_len + len + lws_remaining_packet_payload(wsi);
		size_t ncap = c->rx_cap ? c->rx_cap * 2 : 1024;
		uint8_t *n;

		while (ncap < want)
			ncap *= 2;
		if (ncap > max)
			ncap = max;
		if (!(n = realloc(c->rx, ncap))) {
			session_fail(c->conn.session, 0, 0, WAMPD_ERR_TOO_BIG, "out of memory");
			return;
		}
		c->rx = n;
		c->rx_cap = ncap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!final)
		return;
	ws_deliver(srv, c, c->rx, c->rx_len);
	/* an idle session holds no receive buffer (see bench idle: memory per session) */
	c->rx_len = 0;
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = 0;
}

/* -------------------------------------------------------------------------------- */
/* sending                                                                            */

/* A batched session: as many queued messages as fit in WS_BATCH_MAX (at least one) go
 * out as one WebSocket message, each framed for the batch (a copy, unlike unbatched
 * sessions, which write the shared buffers themselves). */
static int ws_write_batch(struct ws_conn *c)
{
	size_t total = 0, k = 0, off = LWS_PRE;
	enum wamp_ser ser = c->conn.session->ser;
	struct wamp_out *out;
	uint8_t *buf;
	int n;

	for (k = 0; k < c->conn.q.count; k++) {
		struct wamp_out *o = c->conn.q.ring[(c->conn.q.head + k) & (c->conn.q.cap - 1)];
		size_t add = batch_framed_len(ser, o->len);

		if (k && total + add > WS_BATCH_MAX)
			break;
		total += add;
	}
	if (!(buf = malloc(LWS_PRE + total)))
		return -1;
	while (k--) {
		out = outq_peek(&c->conn.q);
		off += batch_put(ser, c->batch_sep ? c->batch_sep : BATCH_SEP_SPEC, buf + off,
		                 wamp_out_data(out), out->len);
		outq_pop(&c->conn.q);
	}
	n = lws_write(c->wsi, buf + LWS_PRE, total,
	              ser == WAMP_SER_JSON ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
	free(buf);
	metrics.bytes_out += total;
	return n < 0 ? -1 : 0;
}

static int ws_writeable(struct ws_conn *c)
{
	struct wamp_out *out = outq_peek(&c->conn.q);

	if (out && c->batched) {
		if (ws_write_batch(c) < 0)
			return -1;
	} else if (out) {
		int n = lws_write(c->wsi, wamp_out_data(out), out->len,
		                  out->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);

		metrics.bytes_out += out->len;
		outq_pop(&c->conn.q);
		if (n < 0)
			return -1;
	}
	if (c->conn.q.count) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->conn.closing) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
		                 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------------------------- */
/* lws callbacks                                                                      */

static bool ws_path_ok(struct lws *wsi, const struct listener_config *cfg)
{
	char uri[256];
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (n <= 0)
		return false;
	return !strcmp(cfg->path, "*") || !strcmp(uri, cfg->path);
}

/*
 * A browser's page may open this WebSocket only from an origin the listener allows
 * (listeners[].allowed_origins, Crossbar's WebSocket option): without it, any web site a
 * user visits could open a session with whatever the browser authenticates on its own
 * (a TLS client certificate). A handshake without Origin is no browser's and is let
 * through; a listener without allowed_origins lets every origin through (Crossbar's
 * default "*"). Both transports' handshakes (the front door's adopted connections and
 * TLS) pass here.
 */
static bool ws_origin_ok(struct lws *wsi, const struct listener_config *cfg)
{
	char origin[HTTP_ORIGIN_MAX + 2];
	int n;

	if (!cfg->allowed_origins || lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return true;
	n = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
	if (n > 0 && http_origin_allowed(cfg->allowed_origins, origin, (size_t)n))
		return true;
	wlog_info("ws", "refusing a WebSocket handshake from origin %.*s (not in allowed_origins)",
	          n > 0 ? n : 0, origin);
	return false;
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
	struct ws_listener *l = lws_vhost_user(lws_get_vhost(wsi));
	struct ws_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!l || !ws_path_ok(wsi, l->cfg) || !ws_origin_ok(wsi, l->cfg))
			return 1;
		{
			char addr[IPLIMIT_ADDR_MAX + 8];

			ws_address(wsi, addr, sizeof(addr));
			return conn_admit(l->server->rt, "ws", addr) ? 0 : 1;
		}
	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(l, c, wsi);
	case LWS_CALLBACK_RECEIVE:
		if (c->conn.session)
			ws_receive(l->server, c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c->conn.session)
			return -1;
		return ws_writeable(c);
	case LWS_CALLBACK_CLOSED:
		ws_closed(l->server, c);
		return 0;
	default:
		return 0;
	}
}

/* protocols[0]: plain HTTP (on a TLS listener the HTTP services, router/http.c), and
 * refusal of upgrades without a WAMP subprotocol */
static int ws_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len)
{
	/* some callbacks (GET_THREAD_ID) come with a wsi of no vhost */
	struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
	struct ws_listener *l = vh ? lws_vhost_user(vh) : NULL;
	int rc;

	if (l && l->front.http && http_lws_serve(l->front.http, l->front.ipl, wsi, reason, in, len,
	                                         &rc))
		return rc;
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY:
		/* every wsi of the vhost ends here; an HTTP connection is bound to us */
		if (l && l->front.http && lws_get_protocol(wsi) == &l->protocols[0])
			http_lws_destroyed(wsi);
		return 0;
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		return tlspeer_verify(len);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		wlog_info("ws", "refusing WebSocket upgrade without a WAMP subprotocol");
		return 1;
	case LWS_CALLBACK_HTTP:
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
		                           "wampd: connect with a WAMP WebSocket client"))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static void ws_lws_log(int level, const char *line)
{
	char buf[512];
	size_t n;

	/* lws 4.1.6 reports every adoption of a socket with prefetched data at error level */
	if (strstr(line, "calling service"))
		return;

	/* lws lines carry their own timestamp prefix "[date] E: "; keep the text only */
	{
		const char *p = strstr(line, ": ");

		if (p && p - line < 40)
			line = p + 2;
	}
	n = strlen(line);
	snprintf(buf, sizeof(buf), "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
	if (level & LLL_ERR)
		wlog_error("lws", "%s", buf);
	else if (level & LLL_WARN)
		wlog_warn("lws", "%s", buf);
	else
		wlog_info("lws", "%s", buf);
}

/* -------------------------------------------------------------------------------- */
/* timers for realm/ (struct realm_timer_ops) on lws' sorted usec lists               */

struct realm_timer {
	lws_sorted_usec_list_t sul;
	void (*fn)(void *arg);
	void *arg;
};

static void ws_timer_fire(lws_sorted_usec_list_t *sul)
{
	struct realm_timer *t = lws_container_of(sul, struct realm_timer, sul);
	void (*fn)(void *) = t->fn;
	void *arg = t->arg;

	free(t); /* one-shot: the handle is gone before the callback runs */
	fn(arg);
}

static struct realm_timer *ws_timer_start(void *ctx, uint32_t ms, void (*fn)(void *arg),
                                          void *arg)
{
	struct ws_server *srv = ctx;
	struct realm_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	lws_sul_schedule(srv->ctx, 0, &t->sul, ws_timer_fire, (lws_usec_t)ms * LWS_US_PER_MS);
	return t;
}

static void ws_timer_cancel(void *ctx, struct realm_timer *t)
{
	(void)ctx;
	lws_sul_cancel(&t->sul);
	free(t);
}

/* -------------------------------------------------------------------------------- */
/* server                                                                             */

static bool ws_listener_protocols(struct ws_listener *l)
{
	static const char *const names[2][WAMP_SER__COUNT] = {
		{"wamp.2.json", "wamp.2.msgpack", "wamp.2.cbor"},
		{"wamp.2.json.batched", "wamp.2.msgpack.batched", "wamp.2.cbor.batched"}};
	size_t n = 1;

	l->protocols = calloc(3 + 2 * WAMP_SER__COUNT, sizeof(*l->protocols));
	if (!l->protocols)
		return false;
	l->protocols[0].name = "http";
	l->protocols[0].callback = ws_http_callback;
	for (int batched = 0; batched < 2; batched++) {
		for (int ser = 0; ser < WAMP_SER__COUNT; ser++) {
			if (!(l->cfg->serializers & (1u << ser)) ||
			    !wamp_ser_supported((enum wamp_ser)ser))
				continue;
			l->protocols[n].name = names[batched][ser];
			l->protocols[n].callback = ws_callback;
			l->protocols[n].per_session_data_size = sizeof(struct ws_conn);
			l->protocols[n].rx_buffer_size = WS_RX_CHUNK;
			l->protocols[n].id = (unsigned)ser | (batched ? WS_PROTO_BATCHED : 0);
			n++;
		}
	}
	if (n > 1 && l->cfg->tls_cert && l->cfg->rawsocket) {
		/* universal over TLS: where lws binds a connection whose decrypted first line
		 * is not HTTP (see ws_server_new) */
		l->protocols[n].name = WS_RAW_TLS_PROTOCOL;
		l->protocols[n].callback = raw_tls_callback;
		/* no per-session data: raw_tls_callback allocates its own (see there) */
	}
	return n > 1;
}

static void ws_tick(lws_sorted_usec_list_t *sul)
{
	struct ws_server *srv = lws_container_of(sul, struct ws_server, tick);

	/* forget addresses whose failed-authentication window has passed (every ~10 s) */
	if (++srv->ticks % 40 == 0)
		iplimit_sweep(&srv->rt->ipl, clock_mono_ms());
	/* wakes lws_service() so a stop request is seen within a tick */
	lws_sul_schedule(srv->ctx, 0, &srv->tick, ws_tick, 250 * LWS_US_PER_MS);
}

/*
 * Size the process's descriptor limit to the configured capacity before libwebsockets
 * sizes its fd tables from it. libwebsockets 4.1.6 as Debian builds it checks every new
 * connection against its whole fd table (a scan of RLIMIT_NOFILE entries: at a limit of
 * 20,000 it was more than half of a session setup), so a limit far above what the router
 * may use only slows it down; one below max_sessions caps the sessions instead. Soft limit
 * := min(hard limit, max_sessions + a reserve for handshakes in flight, listeners, logs).
 */
static void ws_size_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_sessions + cfg->max_sessions / 8 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
		wlog_warn("router", "limits.max_sessions=%u is above the file-descriptor limit %llu: "
		          "connections beyond it will be refused (raise LimitNOFILE / ulimit -Hn)",
		          cfg->max_sessions, (unsigned long long)rl.rlim_max);
		want = rl.rlim_max;
	}
	if (want == rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		wlog_warn("router", "cannot set the file-descriptor limit to %llu",
		          (unsigned long long)want);
	else
		wlog_info("router", "file-descriptor limit %llu (max_sessions %u)",
		          (unsigned long long)want, cfg->max_sessions);
}

/*
 * A TLS listener's listening vhost (OpenSSL through lws; the certificate, key and client
 * CA of the listener):
 * - websocket: the WebSocket vhost listens itself;
 * - universal: the same, and a connection whose decrypted first line is not HTTP (a
 *   RawSocket client's first octet is 0x7F, which no HTTP method starts with) is handed by
 *   lws to the "wampd-rawsocket" protocol (raw.c) with the bytes it read
 *   (LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG): the decrypted first octet
 *   decides, as the front door's first octet does without TLS;
 * - rawsocket: a raw vhost whose connections all go to "wampd-rawsocket".
 * Prints the listening URLs (wss://, rss://). false on failure (logged).
 */
static bool ws_listen_tls(struct ws_server *srv, struct ws_listener *l, size_t i)
{
	const struct listener_config *lc = l->cfg;
	const struct config *cfg = &srv->rt->cfg;
	const char *host = lc->host ? lc->host : "0.0.0.0";
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.port = lc->port;
	info.iface = lc->host;
	/* lws serves TLS on a vhost only with this bit in the vhost's own options (the
	 * client-certificate options carry it too, so it used to work only with a CA) */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.ssl_cert_filepath = lc->tls_cert;
	info.ssl_private_key_filepath = lc->tls_key;
	if (lc->tls_ca) {
		info.ssl_ca_filepath = lc->tls_ca;
		info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
		if (!lc->tls_require_client_cert)
			info.options |= LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
	}
	if (lc->rawsocket) {
		info.listen_accept_role = "raw-skt";
		info.listen_accept_protocol = WS_RAW_TLS_PROTOCOL;
	}
	if (lc->websocket) {
		info.vhost_name = l->front.ws_vhost_name;
		info.protocols = l->protocols;
		info.user = l;
		info.options |= LWS_SERVER_OPTION_VALIDATE_UTF8;
		/* HTTP/1.1 only: the HTTP services write HTTP/1.1 (http.h); lws would otherwise
		 * offer h2 first, which browsers take for https:// (WebSocket uses HTTP/1.1) */
		info.alpn = "http/1.1";
		info.keepalive_timeout = HTTP_IDLE_S;
		if (lc->rawsocket)
			info.options |= LWS_SERVER_OPTION_FALLBACK_TO_APPLY_LISTEN_ACCEPT_CONFIG;
		if (cfg->ping_interval_s && cfg->ping_timeout_s)
			info.retry_and_idle_policy = &srv->retry;
	} else {
		snprintf(l->front_name, sizeof(l->front_name), "wampd-rawtls-%04u", (unsigned)(i % 10000));
		info.vhost_name = l->front_name;
		l->front_protocols[0].name = WS_RAW_TLS_PROTOCOL;
		l->front_protocols[0].callback = raw_tls_callback;
		info.protocols = l->front_protocols;
		info.user = &l->front;
		info.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
	}
	vh = lws_create_vhost(srv->ctx, &info);
	if (!vh) {
		wlog_error("ws", "cannot listen with TLS on %s:%d (listener %zu: check the "
		           "certificate, key and port)", host, lc->port, i);
		return false;
	}
	if (lc->websocket) {
		l->vhost = vh;
		printf("listening wss://%s:%d%s\n", host, lws_get_vhost_listen_port(vh),
		       strcmp(lc->path, "*") ? lc->path : "/");
		wlog_notice("router", "listening url=wss://%s:%d%s", host,
		            lws_get_vhost_listen_port(vh), lc->path);
	} else {
		l->front_vhost = vh;
	}
	if (lc->rawsocket) {
		printf("listening rss://%s:%d\n", host, lws_get_vhost_listen_port(vh));
		wlog_notice("router", "listening rawsocket+tls=%s:%d", host,
		            lws_get_vhost_listen_port(vh));
	}
	return true;
}

struct ws_server *ws_server_new(struct router *rt)
{
	struct lws_context_creation_info info;
	struct ws_server *srv = calloc(1, sizeof(*srv));
	const struct config *cfg = &rt->cfg;

	if (!srv)
		return NULL;
	srv->rt = rt;
	lws_set_log_level(LLL_ERR | LLL_WARN, ws_lws_log);
	ws_size_fd_limit(cfg);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
	               LWS_SERVER_OPTION_DISABLE_IPV6;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].tls_cert)
			info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.fd_limit_per_thread = 0;
	info.timeout_secs = (unsigned)cfg->hello_timeout_s;
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx) {
		wlog_error("ws", "cannot create the libwebsockets context");
		goto fail;
	}

	srv->retry.secs_since_valid_ping = (uint16_t)cfg->ping_interval_s;
	srv->retry.secs_since_valid_hangup = (uint16_t)cfg->ping_timeout_s;

	srv->listeners = calloc(cfg->nlisteners, sizeof(*srv->listeners));
	if (!srv->listeners)
		goto fail;
	srv->nlisteners = cfg->nlisteners;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct ws_listener *l = &srv->listeners[i];
		const struct listener_config *lc = &cfg->listeners[i];

		l->server = srv;
		l->cfg = lc;
		/* lws keeps the name's pointer; front.c writes it into the Host of every head it
		 * hands over, to keep the connection on this listener's vhost (listener isolation) */
		snprintf(l->front.ws_vhost_name, sizeof(l->front.ws_vhost_name), FRONT_VHOST_NAME_FMT,
		         (unsigned)(i % 10000));
		if (!ws_listener_protocols(l)) {
			wlog_error("ws", "listener %zu: no supported serializer", i);
			goto fail;
		}
		int listen_port;

		/* what the front door (front.c) or, over TLS, raw_tls_callback hands connections
		 * to: the vhosts' user */
		l->front.serializers = lc->serializers;
		l->front.head_timeout_s = (int)cfg->hello_timeout_s;
		l->front.ws_path = lc->path;
		/* a Unix socket has no peer address to limit per */
		l->front.ipl = lc->unix_path ? NULL : &srv->rt->ipl;
		l->front.websocket = lc->websocket;
		l->front.rawsocket = lc->rawsocket;
		l->front.rt = srv->rt;
		l->front.auth = &lc->auth;
		if (lc->nhttp) {
			char why[256];

			if (!(l->front.http = httpsvc_listener_new(srv->rt, lc, why, sizeof(why)))) {
				wlog_error("config", "listener %zu: %s", i, why);
				goto fail;
			}
		}
		if (lc->tls_cert) {
			/* TLS: the listening vhost itself (a front door cannot read an encrypted head;
			 * lws' HTTP role parses the HTTP services' requests there, see http.h) */
			if (lc->reuse_port)
				wlog_warn("config", "listener %zu: reuse_port is not supported with TLS "
				          "yet; this listener does not share its port", i);
			if (!ws_listen_tls(srv, l, i))
				goto fail;
			continue;
		}

		/* the WebSocket vhost: adopts the connections the front door hands over */
		memset(&info, 0, sizeof(info));
		info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info.iface = lc->host;
		info.protocols = l->protocols;
		info.user = l;
		info.vhost_name = l->front.ws_vhost_name;
		info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
		if (cfg->ping_interval_s && cfg->ping_timeout_s)
			info.retry_and_idle_policy = &srv->retry;
		l->vhost = lws_create_vhost(srv->ctx, &info);
		if (!l->vhost) {
			wlog_error("ws", "cannot create the WebSocket vhost of listener %zu", i);
			goto fail;
		}

		/* the front door: the listening socket, raw until it knows the protocol */
		l->front.ws_vhost = l->vhost;
		l->front_protocols[0].name = "wampd-front";
		l->front_protocols[0].callback = front_callback;
		l->front_protocols[0].per_session_data_size = front_pss_size();
		snprintf(l->front_name, sizeof(l->front_name), "wampd-front-%04u", (unsigned)(i % 10000));
		memset(&info, 0, sizeof(info));
		info.port = lc->port;
		info.iface = lc->host;
		info.protocols = l->front_protocols;
		info.user = &l->front;
		info.vhost_name = l->front_name;
		info.options = LWS_SERVER_OPTION_ONLY_RAW | LWS_SERVER_OPTION_DISABLE_IPV6;
		if (lc->reuse_port && !lc->unix_path) /* the listener is ours (reuseport.c) */
			info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
		if (lc->unix_path) {
			info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
			info.iface = lc->unix_path;
			info.port = 0; /* lws: port 0 + UNIX_SOCK = a Unix socket at iface */
			unlink(lc->unix_path); /* a stale socket file from an earlier run */
		}
		l->front_vhost = lws_create_vhost(srv->ctx, &info);
		if (!l->front_vhost) {
			wlog_error("ws", "cannot listen on %s:%d", lc->host ? lc->host : "*", lc->port);
			goto fail;
		}
		if (info.port == CONTEXT_PORT_NO_LISTEN_SERVER &&
		    !(l->reuseport = reuseport_listen(srv->ctx, l->front_vhost, "wampd-front",
		                                      lc->host, lc->port)))
			goto fail;
		listen_port = l->reuseport ? reuseport_port(l->reuseport)
		                           : lws_get_vhost_listen_port(l->front_vhost);
		if (lc->unix_path) {
			printf("listening unix:%s\n", lc->unix_path);
			wlog_notice("router", "listening unix=%s websocket=%s rawsocket=%s",
			            lc->unix_path, lc->websocket ? "yes" : "no",
			            lc->rawsocket ? "yes" : "no");
			continue;
		}
		if (lc->websocket) {
			printf("listening ws://%s:%d%s\n", lc->host ? lc->host : "0.0.0.0",
			       listen_port, strcmp(lc->path, "*") ? lc->path : "/");
			wlog_notice("router", "listening url=ws://%s:%d%s", lc->host ? lc->host : "0.0.0.0",
			            listen_port,
			            strcmp(lc->path, "*") ? lc->path : "/ (any path)");
		}
		if (lc->rawsocket) {
			printf("listening rs://%s:%d\n", lc->host ? lc->host : "0.0.0.0", listen_port);
			wlog_notice("router", "listening rawsocket=%s:%d", lc->host ? lc->host : "0.0.0.0",
			            listen_port);
		}
	}
	fflush(stdout);
	lws_sul_schedule(srv->ctx, 0, &srv->tick, ws_tick, 250 * LWS_US_PER_MS);
	rt->realms.timers.start = ws_timer_start;
	rt->realms.timers.cancel = ws_timer_cancel;
	rt->realms.timers.ctx = srv;
	return srv;
fail:
	ws_server_free(srv);
	return NULL;
}

int ws_server_run(struct ws_server *srv, volatile int *stop, int grace_ms)
{
	int64_t deadline;

	srv->stop = stop;
	while (!*stop)
		if (lws_service(srv->ctx, 0) < 0)
			return -1;

	wlog_notice("router", "shutting down: %u connection(s)", srv->rt->nconns);
	srv->rt->shutting_down = true;
	{
		struct realm *r, *rtmp;

		/* pending calls are answered first, then every session is told goodbye */
		HASH_ITER(hh, srv->rt->realms.by_name, r, rtmp)
			dealer_cancel_all(&r->dealer);
	}
	conn_shutdown_all(srv->rt);
	httpsvc_shutdown_all();
	deadline = clock_mono_ms() + grace_ms;
	while (srv->rt->nconns && clock_mono_ms() < deadline)
		if (lws_service(srv->ctx, 0) < 0)
			break;
	if (srv->rt->nconns)
		wlog_notice("router", "closing %u connection(s) that did not finish in time",
		            srv->rt->nconns);
	return 0;
}

void ws_server_free(struct ws_server *srv)
{
	if (!srv)
		return;
	/* what is still open is going away together: nothing more is queued to it while
	 * the sessions leave their realms one by one below */
	conn_abandon_all(srv->rt);
	httpsvc_abandon();
	if (srv->ctx)
		lws_context_destroy(srv->ctx); /* closes what is left: LWS_CALLBACK_CLOSED each */
	httpsvc_free_all();
	memset(&srv->rt->realms.timers, 0, sizeof(srv->rt->realms.timers));
	for (size_t i = 0; i < srv->nlisteners; i++) {
		free(srv->listeners[i].protocols);
		reuseport_free(srv->listeners[i].reuseport);
		if (srv->listeners[i].cfg && srv->listeners[i].cfg->unix_path &&
		    srv->listeners[i].front_vhost)
			unlink(srv->listeners[i].cfg->unix_path);
	}
	free(srv->listeners);
	free(srv);
}

struct lws_context *ws_server_context(struct ws_server *srv)
{
	return srv->ctx;
}
