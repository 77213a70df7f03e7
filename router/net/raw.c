/*
 * raw.c - RawSocket connections: handshake, framing and the session's transport
 * (struct peer_ops) on a raw libwebsockets connection. See raw.h.
 *
 * Outgoing frames: a queued wamp_out is either an encoded WAMP message (its 4-octet prefix
 * is written into the buffer's headroom just before lws_write, the same bytes for every
 * receiver of a shared EVENT) or, marked RAW_VERBATIM, bytes written as they are (the
 * handshake reply, PONG frames). While lws holds a part of a write the socket did not take,
 * the connection is not read (lwsconn_raw_wrote): lws would not read it anyway, and would
 * wake the loop for its input without end.
 */
#include "router/net/raw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "auth/auth.h"
#include "common/log.h"
#include "common/metrics.h"
#include "router/net/front.h"
#include "router/core/outq.h"
#include "router/core/conn.h"
#include "router/net/lwsconn.h"
#include "router/core/protocol.h"
#include "serializers/rawsocket.h"
#include "router/net/tlspeer.h"

#define RAW_VERBATIM 0xff     /* wamp_out.ser of a buffer written as it is */
#define RAW_CLOSE_FLUSH_S 5

_Static_assert(WAMP_OUT_HEADROOM >= 4, "RawSocket prefixes need 4 bytes of headroom");

struct raw_conn {
	struct conn conn;                 /* the connection core's (router/core/conn.h): first; its
	                                     session is NULL until the handshake succeeded */
	struct lws *wsi;
	const struct auth_config *auth;
	unsigned serializers;
	uint32_t max_len;                 /* longest message accepted (the listener's) */
	uint8_t hs[4];
	size_t hs_have;
	uint32_t peer_max;                /* longest message the client accepts */
	struct rs_rx rx;
	bool rx_off;                      /* reading is off while lws holds a partial write
	                                     (lwsconn_raw_wrote) */
	bool refuse;                      /* answer the handshake with error 4 (per-address
	                                     limit) */
	char *tls_cn;                     /* verified client certificate's CN until the session is
	                                     opened (owned), or NULL */
	uint8_t *tls_cert_sha1;           /* ... and its fingerprint (owned), or NULL */
	uint8_t *tls_channel_id;          /* TLS: tls-unique binding until the session is opened
	                                     (owned), or NULL */
	json_t *tls_cert;                 /* ... and the certificate's facts, when a dynamic
	                                     authenticator may be asked (owned), or NULL */
};

/* conn_ops.close: c->conn.closing is set (conn_close). RawSocket has no close frame:
 * ABORT/GOODBYE said it already */
static void raw_close(struct conn *cc, int code, const char *reason, bool now)
{
	struct raw_conn *c = (struct raw_conn *)cc;

	(void)code;
	(void)reason;
	lwsconn_close(c->wsi, now || !c->conn.q.count, RAW_CLOSE_FLUSH_S);
}

/* Queue bytes written as they are (handshake reply, PONG). */
static bool raw_queue_verbatim(struct raw_conn *c, const uint8_t *a, size_t an, const uint8_t *b,
                               size_t bn)
{
	struct wamp_out *o = wamp_out_bytes(a, an, b, bn);
	bool ok;

	if (!o)
		return false;
	o->ser = RAW_VERBATIM;
	ok = conn_queue(&c->conn, o);
	wamp_out_unref(o);
	return ok;
}

/* ------------------------------------------------------------------------------------ */
/* peer_ops                                                                               */

/* The core's send, after RawSocket's own limit: the client said how much it takes */
static enum wampd_err raw_peer_send(void *peer, struct wamp_out *out)
{
	struct raw_conn *c = peer;

	if (!c->conn.closing && out->len > c->peer_max) {
		/* never drop silently: close loudly */
		wlog_warn("raw", "message of %zu bytes over the client's RawSocket limit of %u, "
		          "closing session=%llu peer=%s", out->len, c->peer_max,
		          (unsigned long long)c->conn.session->id, c->conn.addr);
		c->conn.session->state = SESSION_CLOSING;
		conn_close(&c->conn, 0, NULL, true);
		return WAMPD_ERR_LIMIT;
	}
	return conn_send(&c->conn, out);
}

static void raw_kick(struct conn *c)
{
	lws_callback_on_writable(((struct raw_conn *)c)->wsi);
}

static int raw_fd(struct conn *c)
{
	return lws_get_socket_fd(((struct raw_conn *)c)->wsi);
}

static json_t *raw_transport(struct conn *cc)
{
	return json_pack("{s:s, s:s, s:s}", "type", "rawsocket", "serializer",
	                 wamp_ser_name(cc->session->ser), "peer", cc->addr);
}

static const struct conn_ops raw_conn_ops = {
	.kind = "rawsocket",
	.kick = raw_kick,
	.close = raw_close,
	.fd = raw_fd,
	.transport = raw_transport,
};

static const struct peer_ops raw_peer_ops = {
	.send = raw_peer_send,
	.close = conn_peer_close,
	.address = conn_peer_address,
	.transport = conn_peer_transport,
	.kind = "rawsocket",
	.adopt = conn_peer_adopt, /* can carry a resumed session */
};

/* ------------------------------------------------------------------------------------ */
/* receiving                                                                              */

static bool raw_on_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	struct raw_conn *c = ctx;
	struct session *s = c->conn.session;

	switch (t) {
	case RS_MSG:
		c->conn.rt->stats.msgs_in++;
		proto_receive(c->conn.rt, s, data, len);
		return !c->conn.closing;
	case RS_PING: {
		uint8_t prefix[4];

		/* exactly one PONG, echoing the payload (Crossbar closes instead) */
		rs_prefix(prefix, RS_PONG, len);
		if (!raw_queue_verbatim(c, prefix, 4, data, len)) {
			wlog_warn("raw", "slow consumer: no room for a PONG, closing peer=%s", c->conn.addr);
			conn_close(&c->conn, 0, NULL, true);
			return false;
		}
		return true;
	}
	case RS_PONG:
		return true;
	}
	return true;
}

/* The 4 handshake octets are in: answer, and create the session on success. */
static int raw_handshake(struct raw_conn *c)
{
	uint8_t reply[4];
	enum wamp_ser ser = WAMP_SER_JSON;
	struct proto_peer peer = {.hello_deadline = true};
	uint32_t our_max = c->max_len;
	enum rs_error err;

	if (c->refuse || !conn_admit(c->conn.rt, "raw", c->conn.addr)) {
		err = RS_ERR_CONNECTIONS;
		reply[0] = RS_MAGIC;
		reply[1] = (uint8_t)(err << 4);
		reply[2] = reply[3] = 0;
	} else {
		err = rs_handshake(c->hs, c->serializers, our_max, reply, &ser, &c->peer_max);
	}
	if (err) {
		static const char *const why[] = {"", "serializer unsupported",
		                                  "maximum message length unacceptable",
		                                  "use of reserved bits",
		                                  "maximum connection count reached"};

		wlog_info("raw", "handshake refused peer=%s: %s (octets %02x %02x %02x %02x)", c->conn.addr,
		          why[err], c->hs[0], c->hs[1], c->hs[2], c->hs[3]);
		if (!raw_queue_verbatim(c, reply, 4, NULL, 0))
			return -1;
		conn_close(&c->conn, 0, NULL, false);
		return 0;
	}
	if (!(c->conn.session =
	          session_new(&raw_peer_ops, &c->conn, ser, &c->conn.rt->metrics)))
		return -1;
	peer.auth = c->auth;
	peer.tls_cn = c->tls_cn; /* the state machine owns them from here on */
	peer.tls_cert_sha1 = c->tls_cert_sha1;
	peer.tls_channel_id = c->tls_channel_id;
	peer.tls_cert = c->tls_cert;
	c->tls_cn = NULL;
	c->tls_cert_sha1 = NULL;
	c->tls_channel_id = NULL;
	c->tls_cert = NULL;
	conn_count(&c->conn);
	/* the front door's deadline covered the handshake; the session's own takes over */
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	if (!proto_transport_open(c->conn.rt, c->conn.session, &peer))
		session_close(c->conn.session, 1011, "out of memory");
	if (!raw_queue_verbatim(c, reply, 4, NULL, 0))
		return -1;
	wlog_debug("raw", "open peer=%s serializer=%s max_out=%u", c->conn.addr, wamp_ser_name(ser),
	           c->peer_max);
	return 0;
}

int raw_conn_receive(struct raw_conn *c, const uint8_t *in, size_t len)
{
	enum rs_rx_result r;

	c->conn.rt->metrics.bytes_in += len;
	if (c->conn.closing)
		return 0; /* draining: what the client still sends is ignored */
	if (!c->conn.session) {
		size_t k = 4 - c->hs_have < len ? 4 - c->hs_have : len;

		memcpy(c->hs + c->hs_have, in, k);
		c->hs_have += k;
		in += k;
		len -= k;
		if (c->hs_have < 4)
			return 0;
		if (raw_handshake(c) < 0)
			return -1;
		if (!c->conn.session)
			return 0;
	}
	r = rs_rx_feed(&c->rx, in, len, c->max_len, raw_on_frame, c);
	switch (r) {
	case RS_RX_OK:
	case RS_RX_STOP:
		return 0;
	case RS_RX_BAD:
		session_fail(c->conn.session, 0, 0, WAMPD_ERR_PROTOCOL,
		             "malformed RawSocket frame prefix (reserved bits or type)");
		return 0;
	case RS_RX_TOO_BIG:
		wlog_warn("raw", "message too big session=%llu peer=%s: %u bytes, limit %u",
		          (unsigned long long)c->conn.session->id, c->conn.addr, c->rx.len,
		          c->max_len);
		session_fail(c->conn.session, 0, 0, WAMPD_ERR_TOO_BIG, "message over the maximum length");
		return 0;
	case RS_RX_NOMEM:
		return -1;
	}
	return 0;
}

int raw_conn_writeable(struct raw_conn *c)
{
	struct wamp_out *out = outq_peek(&c->conn.q);

	lwsconn_raw_wrote(c->wsi, &c->rx_off); /* lws holds nothing now: reading is on */
	if (out) {
		uint8_t *p = wamp_out_data(out);
		size_t n = out->len;
		int w;

		if (out->ser != RAW_VERBATIM) {
			p -= 4; /* the prefix goes into the headroom: same bytes for every receiver */
			rs_prefix(p, RS_MSG, (uint32_t)out->len);
			n += 4;
		}
		w = lws_write(c->wsi, p, n, LWS_WRITE_RAW);
		lwsconn_raw_wrote(c->wsi, &c->rx_off); /* off while lws holds a rest of it */
		c->conn.rt->metrics.bytes_out += n;
		if ((w = conn_wrote(&c->conn, w)))
			return w < 0 ? -1 : 0;
	} else if (conn_more(&c->conn)) {
		return 0;
	}
	return c->conn.closing ? -1 : 0;
}

struct raw_conn *raw_conn_new(struct router *rt, struct lws *wsi, unsigned serializers,
                              const struct auth_config *auth, size_t max_message_size,
                              const char *addr)
{
	struct raw_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->wsi = wsi;
	c->conn.ops = &raw_conn_ops;
	c->conn.rt = rt;
	c->serializers = serializers;
	c->auth = auth;
	c->max_len = max_message_size > RS_MAX_LEN ? RS_MAX_LEN : (uint32_t)max_message_size;
	snprintf(c->conn.addr, sizeof(c->conn.addr), "%s", addr);
	conn_open(&c->conn);
	return c;
}

void raw_conn_closed(struct raw_conn *c)
{
	if (c->conn.session) {
		proto_transport_closed(c->conn.rt, c->conn.session);
		session_free(c->conn.session); /* NULL if it was detached (resumable) */
	}
	conn_release(&c->conn);
	rs_rx_clear(&c->rx);
	free(c->tls_cn);
	free(c->tls_cert_sha1);
	free(c->tls_channel_id);
	json_decref(c->tls_cert);
	wlog_debug("raw", "closed peer=%s", c->conn.addr);
	free(c);
}

/* ------------------------------------------------------------------------------------ */
/* RawSocket over TLS                                                                     */

struct raw_tls_pss {
	struct raw_conn *raw;         /* from the first decrypted octet 0x7F on */
	bool counted;                 /* counted in the per-address limit */
	bool over_limit;              /* over it: the handshake is answered with error 4 */
	char ip[IPLIMIT_ADDR_MAX];
	int port;
};

/* The first decrypted bytes: a RawSocket handshake (0x7F) gets a raw_conn, anything else
 * is closed (RawSocket has no way to say "wrong protocol", and a TLS connection cannot be
 * answered in plain HTTP the way the front door does). */
static int raw_tls_first(struct lws *wsi, struct raw_tls_pss *p, const struct front_target *t,
                         const uint8_t *in, size_t len)
{
	char addr[IPLIMIT_ADDR_MAX + 8];

	snprintf(addr, sizeof(addr), "%s:%d", p->ip, p->port);
	t = front_rawsocket_target(t); /* the port's listener serving RawSocket */
	if (in[0] != RS_MAGIC || !t) {
		wlog_info("raw", "closing a TLS connection that is not RawSocket peer=%s (first "
		          "octet %02x)", addr, in[0]);
		return -1;
	}
	if (!(p->raw = raw_conn_new(t->rt, wsi, t->serializers, t->auth, t->max_message_size,
	                            addr)))
		return -1;
	p->raw->refuse = p->over_limit;
	/* the TLS handshake is over by now: the client certificate and the channel binding
	 * (cryptosign's tls-unique) are known */
	p->raw->tls_cn = tlspeer_cn(wsi);
	p->raw->tls_cert_sha1 = tlspeer_cert_sha1(wsi);
	p->raw->tls_channel_id = tlspeer_channel_id(wsi);
	if (auth_config_asks(t->auth)) /* only an authenticator is shown them */
		p->raw->tls_cert = tlspeer_cert_facts(wsi);
	/* the RawSocket handshake must come within the hello timeout (at the handshake the
	 * session's own HELLO deadline takes over, see raw_handshake) */
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, t->head_timeout_s);
	return 0;
}

/*
 * The per-connection state hangs off the wsi's opaque user data, not lws' per-session data:
 * lws 4.1.6 allocates the listen_accept_protocol's per-session data for every connection a
 * WebSocket TLS vhost accepts, binds the connection to protocols[0], and never frees that
 * block when the TLS handshake fails (a leak per refused client certificate).
 */
int raw_tls_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
	struct raw_tls_pss *p = lws_get_opaque_user_data(wsi);
	/* some callbacks (GET_THREAD_ID) come with a wsi of no vhost */
	struct lws_vhost *vh = wsi ? lws_get_vhost(wsi) : NULL;
	const struct front_target *t = vh ? lws_vhost_user(vh) : NULL;

	(void)user;
	if (!t && reason != LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
		return tlspeer_verify(len); /* protocols[0] of a rawsocket-only TLS vhost */
	case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
		return t ? tlspeer_load_cas(user, t->tls_ca_more) : 0; /* ... the same */
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 1; /* a WebSocket upgrade naming this protocol: not a WAMP subprotocol */
	case LWS_CALLBACK_RAW_ADOPT:
		if (!(p = calloc(1, sizeof(*p))))
			return -1;
		lws_set_opaque_user_data(wsi, p);
		iplimit_fd_peer(lws_get_socket_fd(wsi), p->ip, &p->port);
		if (t->ipl && !iplimit_conn_open(t->ipl, p->ip)) {
			wlog_warn("raw", "refusing connection peer=%s:%d: max_sessions_per_ip=%u reached",
			          p->ip, p->port, t->ipl->max_conns);
			p->over_limit = true;
			return 0;
		}
		p->counted = t->ipl != NULL;
		return 0;
	case LWS_CALLBACK_RAW_RX:
		if (!p)
			return -1;
		if (!len)
			return 0;
		if (!p->raw && raw_tls_first(wsi, p, t, in, len) < 0)
			return -1;
		return raw_conn_receive(p->raw, in, len);
	case LWS_CALLBACK_RAW_WRITEABLE:
		return p && p->raw ? raw_conn_writeable(p->raw) : 0;
	case LWS_CALLBACK_RAW_CLOSE:
		if (!p)
			return 0; /* closed before it was adopted */
		if (p->counted) /* first: a detaching session takes the place over (resume.c) */
			iplimit_conn_close(t->ipl, p->ip);
		if (p->raw)
			raw_conn_closed(p->raw);
		lws_set_opaque_user_data(wsi, NULL);
		free(p);
		return 0;
	default:
		return 0;
	}
}
