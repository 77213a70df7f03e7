/*
 * ws.c - the WebSocket transport on libwebsockets 4.1 (follows lws' minimal-ws-server
 * examples of v4.1.6): the callback of every "wamp.2.<serializer>" protocol of the
 * listeners' WebSocket vhosts (router/net/listen.c), and each connection's state.
 *
 * Admission: a handshake is served only on its listener's path, from an allowed origin,
 * when the connection core admits one more connection (router/core/conn.h). The listener
 * is the one the path chooses among those the vhost carries (listen.c,
 * listener_for_upgrade): remembered in the connection, it is the configuration the
 * connection is served with from the handshake to the close (auth, limits).
 *
 * Receiving: a message that arrives in one piece (the common case) is handed to the state
 * machine straight from lws' buffer; a fragmented one is reassembled in a per-connection
 * buffer (freed again when it grew beyond 64 KiB) up to max_message_size.
 *
 * Sending: the connection core queues (conn_send) and asks for a WRITEABLE callback; each
 * WRITEABLE callback writes exactly one message with one lws_write from the buffer's
 * LWS_PRE headroom (or, for a .batched subprotocol, what fits in one batch), and asks again
 * while messages remain. A queue over its byte bound closes the connection at once (slow
 * consumer, in the core); nothing is dropped silently.
 *
 * Closing: the core marks the connection and ws_close lets WRITEABLE flush what is queued
 * (e.g. an ABORT) before returning -1 with the close code; a 5 s timeout bounds the flush.
 * The session is forgotten by the realm and freed only in LWS_CALLBACK_CLOSED.
 */
#include "router/net/ws.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <utlist.h>

#include "auth/auth.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "router/core/batched.h"
#include "router/core/conn.h"
#include "router/net/lwsconn.h"
#include "router/http/httpreq.h"
#include "router/net/listen.h"
#include "router/core/protocol.h"
#include "router/net/tlspeer.h"

_Static_assert(LWS_PRE <= WAMP_OUT_HEADROOM, "wamp_out headroom must cover LWS_PRE");

#define WS_CLOSE_FLUSH_S 5        /* seconds a closing connection may take to flush */
#define WS_BATCH_MAX (64u * 1024) /* bytes gathered into one outgoing batch (at least one
                                     message, whatever its size) */


struct ws_conn {
	struct conn conn;     /* the connection core's part (router/core/conn.h): must stay first */
	struct listener *l;   /* its listener (set when the handshake is filtered) */
	struct lws *wsi;
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


/* -------------------------------------------------------------------------------- */
/* peer_ops for realm/                                                                */

/* conn_ops.close: c->conn.closing is set (conn_close) */
static void ws_close(struct conn *cc, int code, const char *reason, bool now)
{
	struct ws_conn *c = (struct ws_conn *)cc;

	c->close_code = (uint16_t)code;
	snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
	lwsconn_close(c->wsi, now, WS_CLOSE_FLUSH_S);
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

static const struct peer_ops ws_peer_ops = {
	.send = conn_peer_send,
	.close = conn_peer_close,
	.address = conn_peer_address,
	.transport = conn_peer_transport,
	.kind = "websocket",
	.adopt = conn_peer_adopt, /* can carry a resumed session */
};

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

static int ws_established(struct ws_conn *c, struct lws *wsi)
{
	struct listener *l = c->l;
	struct router *rt = l->rt;
	enum wamp_ser ser = (enum wamp_ser)(lws_get_protocol(wsi)->id & ~WS_PROTO_BATCHED);
	struct proto_peer peer = {.hello_deadline = true};

	memset(c, 0, sizeof(*c));
	c->l = l;
	c->wsi = wsi;
	c->conn.ops = &ws_conn_ops;
	c->conn.rt = rt;
	ws_address(wsi, c->conn.addr, sizeof(c->conn.addr));
	{
		char ip[IPLIMIT_ADDR_MAX];

		iplimit_host(c->conn.addr, ip);
		if (!iplimit_conn_open(&rt->ipl, ip)) {
			wlog_warn("ws", "refusing connection peer=%s: max_sessions_per_ip=%u reached",
			          c->conn.addr, rt->ipl.max_conns);
			return -1;
		}
		c->ip_counted = true;
	}
	c->conn.session = session_new(&ws_peer_ops, &c->conn, ser, &rt->metrics);
	if (!c->conn.session)
		return -1;
	c->batched = (lws_get_protocol(wsi)->id & WS_PROTO_BATCHED) != 0;
	peer.auth = &l->cfg->auth;
	if (l->cfg->tls_cert) {
		peer.tls_cn = tlspeer_cn(wsi);
		peer.tls_cert_sha1 = tlspeer_cert_sha1(wsi);
		peer.tls_channel_id = tlspeer_channel_id(wsi);
		if (auth_config_asks(peer.auth)) /* only an authenticator is shown them */
			peer.tls_cert = tlspeer_cert_facts(wsi);
	}
	conn_open(&c->conn);
	conn_count(&c->conn);
	if (!proto_transport_open(rt, c->conn.session, &peer)) /* the HELLO..WELCOME deadline */
		session_close(c->conn.session, 1011, "out of memory");
	wlog_debug("ws", "open peer=%s serializer=%s", c->conn.addr, wamp_ser_name(ser));
	return 0;
}

static void ws_closed(struct ws_conn *c)
{
	struct router *rt = c->conn.rt;

	if (c->ip_counted) {
		char ip[IPLIMIT_ADDR_MAX];

		iplimit_host(c->conn.addr, ip);
		iplimit_conn_close(&rt->ipl, ip);
		c->ip_counted = false;
	}
	if (c->conn.session) {
		proto_transport_closed(rt, c->conn.session);
		session_free(c->conn.session); /* NULL if it was detached (resumable) */
		c->conn.session = NULL;
	}
	/* also when its session resumed elsewhere (adopted away): it was opened with one */
	conn_release(&c->conn);
	free(c->rx);
	c->rx = NULL;
	wlog_debug("ws", "closed peer=%s", c->conn.addr);
}

/* -------------------------------------------------------------------------------- */
/* receiving                                                                          */

static void ws_deliver_one(struct ws_conn *c, const uint8_t *buf,
                           size_t len);

static bool ws_batch_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct ws_conn *c = ctx;

	ws_deliver_one(c, msg, len);
	return !c->conn.closing;
}

/* One complete WebSocket message: one WAMP message, or a batch of them. */
static void ws_deliver(struct ws_conn *c, const uint8_t *buf, size_t len)
{
	enum batch_result r;

	if (!c->batched) {
		ws_deliver_one(c, buf, len);
		return;
	}
	if (!c->batch_sep && !wamp_ser_is_binary(c->conn.session->ser))
		c->batch_sep = batch_json_separator(buf, len);
	r = batch_split(c->conn.session->ser, c->batch_sep ? c->batch_sep : BATCH_SEP_SPEC, buf, len,
	                ws_batch_msg, c);
	if (r == BATCH_EMPTY || r == BATCH_MALFORMED)
		session_fail(c->conn.session, 0, 0, WAMPD_ERR_PROTOCOL,
		             r == BATCH_EMPTY ? "empty batch"
		                              : wamp_ser_is_binary(c->conn.session->ser)
		                                    ? "batch: a length beyond the message"
		                                    : "batch: a message without its 0x1E separator");
}

/* Run one WAMP message through the state machine. */
static void ws_deliver_one(struct ws_conn *c, const uint8_t *buf,
                           size_t len)
{
	proto_receive(c->conn.rt, c->conn.session, buf, len);
}

static void ws_too_big(struct ws_conn *c, size_t size)
{
	char why[96];

	snprintf(why, sizeof(why), "message of %zu+ bytes exceeds the limit of %zu", size,
	         c->l->cfg->max_message_size);
	wlog_warn("ws", "message too big session=%llu peer=%s: %s",
	          (unsigned long long)c->conn.session->id, c->conn.addr, why);
	c->rx_discard = true;
	session_fail(c->conn.session, 0, 0, WAMPD_ERR_TOO_BIG, why);
}

static void ws_receive(struct ws_conn *c, const uint8_t *in, size_t len)
{
	struct lws *wsi = c->wsi;
	size_t max = c->l->cfg->max_message_size;
	bool first = lws_is_first_fragment(wsi);
	bool final = lws_is_final_fragment(wsi);

	c->conn.rt->metrics.bytes_in += len;
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
			ws_too_big(c, len + lws_remaining_packet_payload(wsi));
			return;
		}
		if (final) { /* the whole message in one piece: no copy */
			ws_deliver(c, in, len);
			return;
		}
	}
	if (c->rx_discard)
		return;
	if (c->rx_len + len > max) {
		ws_too_big(c, c->rx_len + len);
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
	ws_deliver(c, c->rx, c->rx_len);
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
	              wamp_ser_is_binary(ser) ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	free(buf);
	c->conn.rt->metrics.bytes_out += total;
	return n < 0 ? -1 : 0;
}

static int ws_writeable(struct ws_conn *c)
{
	struct wamp_out *out = outq_peek(&c->conn.q);

	if (out && c->batched) {
		if (ws_write_batch(c) < 0)
			return -1;
		if (conn_more(&c->conn))
			return 0;
	} else if (out) {
		int n = lws_write(c->wsi, wamp_out_data(out), out->len,
		                  out->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);

		c->conn.rt->metrics.bytes_out += out->len;
		if ((n = conn_wrote(&c->conn, n)))
			return n < 0 ? -1 : 0;
	} else if (conn_more(&c->conn)) {
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

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
	struct ws_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		struct listener *l = listener_for_upgrade(lws_vhost_user(lws_get_vhost(wsi)), wsi);
		unsigned ser = lws_get_protocol(wsi)->id & ~WS_PROTO_BATCHED;
		char addr[IPLIMIT_ADDR_MAX + 8];

		/* its listener's path, one of its serializers (over TLS lws picks among the
		 * port's: listen.c cut the client's list down), an origin it allows */
		if (!l || !(l->cfg->serializers & (1u << ser)) || !ws_origin_ok(wsi, l->cfg))
			return 1;
		ws_address(wsi, addr, sizeof(addr));
		if (!conn_admit(l->rt, "ws", addr))
			return 1;
		c->l = l;
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED:
		if (!c->l)
			return -1;
		return ws_established(c, wsi);
	case LWS_CALLBACK_RECEIVE:
		if (c->conn.session)
			ws_receive(c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c->conn.session)
			return -1;
		return ws_writeable(c);
	case LWS_CALLBACK_CLOSED:
		ws_closed(c);
		return 0;
	default:
		return 0;
	}
}

size_t ws_pss_size(void)
{
	return sizeof(struct ws_conn);
}
