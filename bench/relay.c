/*
 * relay.c - the baseline server: plain libwebsockets with wampd's lws settings and no WAMP.
 * It measures what this machine and lws can do, so wampd's figures are reported as ratios
 * to it from the same run.
 *
 *   relay --port N --mode echo|pair|broadcast [--transport websocket|rawsocket]
 *
 * echo       every message goes back to its sender (an echo server)
 * pair       connections are paired in arrival order; every message goes to the partner
 *            (the frames of a routed call: caller -> callee -> caller, with no routing)
 * broadcast  every message goes to every other connection (fan-out with no broker)
 *
 * Like wampd it accepts the subprotocols wamp.2.json and wamp.2.msgpack, queues outgoing
 * messages per connection (refcounted shared buffers for broadcast) and writes one message
 * per WRITEABLE callback from LWS_PRE headroom. It prints "listening ws://127.0.0.1:PORT/"
 * when ready.
 *
 * --transport rawsocket: the same over WAMP-over-RawSocket framing on a raw lws vhost (what
 * wampd's RawSocket transport does around its routing): the 4-octet handshake is answered
 * with the client's serializer, frames are reassembled with serializers/rawsocket.c's codec and
 * relayed with their 4-octet prefix written into the headroom. Prints
 * "listening rs://127.0.0.1:PORT".
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#include "serializers/rawsocket.h"

enum relay_mode { MODE_ECHO, MODE_PAIR, MODE_BROADCAST };

struct buf {
	int refs;
	size_t len;
	int binary;
	int verbatim;  /* RawSocket: written as it is (the handshake reply), no frame prefix */
	unsigned char data[]; /* LWS_PRE + len */
};

struct qnode {
	struct buf *b;
	struct qnode *next;
};

struct conn {
	struct lws *wsi;
	struct conn *partner;
	struct qnode *head, *tail;
	unsigned char *rx;
	size_t rx_len, rx_cap;
	uint8_t hs[4];            /* RawSocket: the client's handshake */
	size_t hs_have;
	struct rs_rx rs;          /* RawSocket: frame reassembly */
	struct conn *prev, *next; /* all connections */
};

static enum relay_mode mode = MODE_ECHO;
static struct conn *conns;
static struct conn *waiting; /* pair mode: a connection without a partner yet */
static volatile int interrupted;

static void buf_unref(struct buf *b)
{
	if (--b->refs == 0)
		free(b);
}

static void enqueue(struct conn *c, struct buf *b)
{
	struct qnode *n = malloc(sizeof(*n));

	if (!n)
		return;
	n->b = b;
	n->next = NULL;
	b->refs++;
	if (c->tail)
		c->tail->next = n;
	else
		c->head = n;
	c->tail = n;
	lws_callback_on_writable(c->wsi);
}

static struct buf *buf_new(const unsigned char *msg, size_t len, int binary)
{
	struct buf *b = malloc(sizeof(*b) + LWS_PRE + len);

	if (!b)
		return NULL;
	b->refs = 1;
	b->len = len;
	b->binary = binary;
	b->verbatim = 0;
	memcpy(b->data + LWS_PRE, msg, len);
	return b;
}

static void deliver(struct conn *from, const unsigned char *msg, size_t len, int binary)
{
	struct buf *b = buf_new(msg, len, binary);
	struct conn *c;

	if (!b)
		return;
	switch (mode) {
	case MODE_ECHO:
		enqueue(from, b);
		break;
	case MODE_PAIR:
		if (from->partner)
			enqueue(from->partner, b);
		break;
	case MODE_BROADCAST:
		DL_FOREACH(conns, c)
			if (c != from)
				enqueue(c, b);
		break;
	}
	buf_unref(b);
}

static void conn_open(struct conn *c, struct lws *wsi)
{
	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	DL_APPEND(conns, c);
	if (mode == MODE_PAIR) {
		if (waiting) {
			c->partner = waiting;
			waiting->partner = c;
			waiting = NULL;
		} else {
			waiting = c;
		}
	}
}

static void conn_closed(struct conn *c)
{
	DL_DELETE(conns, c);
	if (waiting == c)
		waiting = NULL;
	if (c->partner)
		c->partner->partner = NULL;
	while (c->head) {
		struct qnode *n = c->head;

		c->head = n->next;
		buf_unref(n->b);
		free(n);
	}
	free(c->rx);
}

/* WRITEABLE: the first queued message, one lws_write (raw: a RawSocket frame, its prefix
 * written into the headroom). */
static int write_head(struct conn *c, int raw)
{
	struct qnode *n = c->head;
	unsigned char *p;
	size_t k;

	if (!n)
		return 0;
	p = n->b->data + LWS_PRE;
	k = n->b->len;
	if (raw && !n->b->verbatim) {
		p -= 4;
		rs_prefix(p, RS_MSG, (uint32_t)k);
		k += 4;
	}
	if (lws_write(c->wsi, p, k, raw ? LWS_WRITE_RAW
	                                : n->b->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
		return -1;
	c->head = n->next;
	if (!c->head)
		c->tail = NULL;
	buf_unref(n->b);
	free(n);
	if (c->head)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		conn_open(c, wsi);
		break;
	case LWS_CALLBACK_RECEIVE: {
		int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

		if (first && final) {
			deliver(c, in, len, lws_frame_is_binary(wsi));
			break;
		}
		if (first)
			c->rx_len = 0;
		if (c->rx_len + len > c->rx_cap) {
			size_t ncap = (c->rx_len + len) * 2;
			unsigned char *n = realloc(c->rx, ncap);

			if (!n)
				return -1;
			c->rx = n;
			c->rx_cap = ncap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (final)
			deliver(c, c->rx, c->rx_len, lws_frame_is_binary(wsi));
		break;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return write_head(c, 0);
	case LWS_CALLBACK_CLOSED:
		conn_closed(c);
		break;
	default:
		break;
	}
	return 0;
}

static bool raw_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	if (t == RS_MSG)
		deliver(ctx, data, len, 1);
	return true;
}

static int callback_raw(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		conn_open(c, wsi);
		break;
	case LWS_CALLBACK_RAW_RX: {
		const uint8_t *p = in;

		if (c->hs_have < 4) {
			size_t k = 4 - c->hs_have < len ? 4 - c->hs_have : len;
			uint8_t reply[4];
			enum wamp_ser ser;
			uint32_t peer_max;
			struct buf *b;

			memcpy(c->hs + c->hs_have, p, k);
			c->hs_have += k;
			p += k;
			len -= k;
			if (c->hs_have < 4)
				break;
			/* any serializer (the relay does not decode), 2^24 octets */
			if (c->hs[0] != RS_MAGIC ||
			    rs_handshake(c->hs, wamp_ser_supported_set(), RS_MAX_LEN, reply, &ser,
			                 &peer_max) != RS_OK)
				return -1;
			if (!(b = buf_new(reply, 4, 1)))
				return -1;
			b->verbatim = 1;
			enqueue(c, b);
			buf_unref(b);
		}
		if (rs_rx_feed(&c->rs, p, len, RS_MAX_LEN, raw_frame, c) != RS_RX_OK)
			return -1;
		break;
	}
	case LWS_CALLBACK_RAW_WRITEABLE:
		return write_head(c, 1);
	case LWS_CALLBACK_RAW_CLOSE:
		conn_closed(c);
		rs_rx_clear(&c->rs);
		break;
	default:
		break;
	}
	return 0;
}

/* names [1] and [2]: the JSON and MessagePack subprotocols, from the serializer table (main) */
static struct lws_protocols protocols[] = {
	{"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
	{NULL, callback, sizeof(struct conn), 0, 0, NULL, 0},
	{NULL, callback, sizeof(struct conn), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static struct lws_protocols raw_protocols[] = {
	{"relay-raw", callback_raw, sizeof(struct conn), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	int port = 0, raw = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			const char *m = argv[++i];

			mode = !strcmp(m, "pair") ? MODE_PAIR : !strcmp(m, "broadcast") ? MODE_BROADCAST
			                                                                : MODE_ECHO;
		} else if (!strcmp(argv[i], "--transport") && i + 1 < argc) {
			raw = !strcmp(argv[++i], "rawsocket");
		} else {
			fprintf(stderr, "usage: relay [--port N] [--mode echo|pair|broadcast] "
			                "[--transport websocket|rawsocket]\n");
			return 2;
		}
	}
	protocols[1].name = wamp_ser_desc(WAMP_SER_JSON)->subprotocol;
	protocols[2].name = wamp_ser_desc(WAMP_SER_MSGPACK)->subprotocol;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
	               LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.timeout_secs = 10; /* wampd's too (its default hello_timeout): lws' 5 s is what a
	                           loaded machine can stall a client for */
	ctx = lws_create_context(&info);
	if (!ctx)
		return 1;
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = raw ? raw_protocols : protocols;
	info.options = raw ? LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG |
	                         LWS_SERVER_OPTION_DISABLE_IPV6
	                   : LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	if (raw) {
		info.listen_accept_role = "raw-skt";
		info.listen_accept_protocol = "relay-raw";
	}
	vh = lws_create_vhost(ctx, &info);
	if (!vh)
		return 1;
	if (raw)
		printf("listening rs://127.0.0.1:%d\n", lws_get_vhost_listen_port(vh));
	else
		printf("listening ws://127.0.0.1:%d/\n", lws_get_vhost_listen_port(vh));
	fflush(stdout);
	while (!interrupted)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
	return 0;
}
