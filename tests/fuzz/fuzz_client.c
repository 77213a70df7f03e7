/*
 * fuzz_client.c - libFuzzer target for the input side of libwampc's engine (client/): the
 * bytes and messages a router sends, with the application and the clock acting in between.
 * One client per input (serializer and framing chosen by the first byte), configured with
 * every authentication method, reconnect and an offline queue, holding two subscriptions
 * (exact, prefix) and a registration from the start, so that every state and handler is
 * reachable: HELLO/CHALLENGE/WELCOME, the restore after WELCOME (SUBSCRIBE requests 1 and 2,
 * REGISTER 3), then a call (request 4, timeout, progressive results) and an acknowledged
 * publication (5) made from the JOINED callback.
 *
 * Input: [config] then steps [op][len lo][len hi][len bytes]:
 *   config   bits 0-1 serializer (JSON, MessagePack, CBOR; one this build lacks: JSON),
 *            bit 2 message framing (else RawSocket), bit 3 the RawSocket handshake reply
 *            comes from the input (else a valid one is fed at each connection), bit 4
 *            resumable (a WELCOME with resumable suspends the session at a drop, and the
 *            next WELCOME may resume it: ACKs, replay, the counts)
 *   op % 6   0: the bytes as they are (RawSocket: stream bytes; message framing: one
 *               message)
 *            1: the bytes are a JSON message, re-encoded in the client's serializer (and
 *               framed), so binary serializers get meaningful input
 *            2: the clock moves len ms forward, timers run
 *            3: the connection drops; the clock moves past the backoff and, when the
 *               engine wants it, a new connection opens
 *            4: the application acts (len % 8: call, acknowledged publish, subscribe,
 *               unsubscribe, cancel, leave, start, answer the last invocation)
 *            5: the adapter writes what the engine has
 *
 * Invariants: no crash, leak or UB (ASan/UBSan), and every message the client writes
 * decodes in its serializer (the engine never emits malformed output).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/wampc.h"
#include "serializers/codec.h"
#include "serializers/rawsocket.h"

struct fz {
	wampc *c;
	int64_t now;
	enum wamp_ser ser;
	bool message;          /* message framing */
	bool manual_handshake;
	/* the client's output, parsed as the router would */
	uint8_t hs_left;       /* handshake octets still to skip */
	uint8_t pre[4];
	size_t pre_len;
	uint8_t *frame;
	size_t frame_len, frame_have;
	bool in_frame, frame_msg;
	uint64_t last_call, last_inv;
	wampc_sub *subs[4];
	int nsubs;
};

static int64_t fz_clock(void *ud)
{
	return ((struct fz *)ud)->now;
}

static uint32_t fz_random(void *ud)
{
	return (uint32_t)((struct fz *)ud)->now;
}

static void must_decode(struct fz *f, const uint8_t *p, size_t n)
{
	struct wamp_msg m;

	if (wamp_decode(f->ser, p, n, NULL, &m, NULL, 0) != WAMPD_OK)
		abort(); /* the engine wrote a message that does not decode */
	wamp_msg_clear(&m);
}

static void frame_done(struct fz *f)
{
	if (f->frame_msg)
		must_decode(f, f->frame, f->frame_len);
	free(f->frame);
	f->frame = NULL;
	f->in_frame = false;
}

/* RawSocket output, as a router reads it: the handshake, then frames. */
static void parse_out(struct fz *f, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k;

		if (f->hs_left) {
			k = n < f->hs_left ? n : f->hs_left;
			f->hs_left -= (uint8_t)k;
			p += k;
			n -= k;
			continue;
		}
		if (!f->in_frame) {
			enum rs_frame t;
			uint32_t len;

			f->pre[f->pre_len++] = *p++;
			n--;
			if (f->pre_len < 4)
				continue;
			f->pre_len = 0;
			if (!rs_parse_prefix(f->pre, &t, &len))
				abort(); /* the engine wrote a malformed frame prefix */
			f->frame = malloc(len ? len : 1);
			f->frame_len = len;
			f->frame_have = 0;
			f->frame_msg = t == RS_MSG;
			f->in_frame = true;
			if (!len)
				frame_done(f);
			continue;
		}
		k = f->frame_len - f->frame_have < n ? f->frame_len - f->frame_have : n;
		memcpy(f->frame + f->frame_have, p, k);
		f->frame_have += k;
		p += k;
		n -= k;
		if (f->frame_have == f->frame_len)
			frame_done(f);
	}
}

static void drain(struct fz *f)
{
	const uint8_t *d;
	size_t n;

	while (f->c && (n = wampc_transport_output(f->c, &d, NULL)) > 0) {
		if (f->message)
			must_decode(f, d, n);
		else
			parse_out(f, d, n);
		wampc_transport_consumed(f->c, n);
	}
}

static void reset_out(struct fz *f)
{
	free(f->frame);
	f->frame = NULL;
	f->pre_len = f->frame_len = f->frame_have = 0;
	f->in_frame = false;
	f->hs_left = f->message ? 0 : 4;
}

/* The engine wants a connection: open it (and answer the handshake unless the input
 * does). */
static void open_if_wanted(struct fz *f)
{
	if (!f->c || !(wampc_want(f->c) & WAMPC_WANT_CONNECT))
		return;
	reset_out(f);
	wampc_transport_open(f->c);
	if (!f->message && !f->manual_handshake) {
		uint8_t reply[4] = {0x7F, (uint8_t)(0xF0 | (f->ser + 1)), 0, 0};

		drain(f);
		wampc_transport_input(f->c, reply, 4);
	}
}

static void close_if_wanted(struct fz *f)
{
	if (f->c && (wampc_want(f->c) & WAMPC_WANT_CLOSE)) {
		drain(f);
		wampc_transport_closed(f->c);
	}
}

/* ------------------------------------------------------------------ the application */

static void payload_read(const struct wampc_payload *p)
{
	wampc_value_free(wampc_payload_args(p, NULL));
	wampc_value_free(wampc_payload_kwargs(p, NULL));
}

static void on_reply(wampc *c, const struct wampc_reply *r, void *ud)
{
	free(wampc_value_to_json(r->details));
	payload_read(r->payload);
}

static void on_event(wampc *c, const struct wampc_event *e, void *ud)
{
	payload_read(e->payload);
}

static void on_invoke(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	struct fz *f = ud;

	f->last_inv = inv->request;
	payload_read(inv->payload);
	if (inv->request % 3 == 0) {
		wampc_yield(c, inv->request, true, inv->payload); /* refused without progress */
		wampc_yield(c, inv->request, false, inv->payload);
	} else if (inv->request % 3 == 1) {
		wampc_invocation_error(c, inv->request, "com.f.error", inv->payload);
	} /* else: answered later (op 4), or interrupted */
}

static void on_interrupt(wampc *c, uint64_t request, const char *mode, void *ud)
{
}

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	struct fz *f = ud;
	struct wampc_call_opts co = {.timeout = 100, .receive_progress = true};
	struct wampc_publish_opts po = {.acknowledge = true};

	if (info->event == WAMPC_JOINED) {
		wampc_call(c, "com.f.call", &co, NULL, on_reply, f, &f->last_call);
		wampc_publish(c, "com.f.pub", &po, NULL, on_reply, f, NULL);
	}
}

static void act(struct fz *f, unsigned what)
{
	wampc *c = f->c;
	wampc_value *args = wampc_value_from_json("[1, \"x\", {\"y\": null}]");

	switch (what % 8) {
	case 0:
		wampc_call(c, "com.f.call", &(struct wampc_call_opts){.timeout = what},
		           WAMPC_ARGS(args, NULL), on_reply, f, &f->last_call);
		break;
	case 1:
		wampc_publish(c, "com.f.pub", &(struct wampc_publish_opts){.acknowledge = true},
		              WAMPC_ARGS(args, NULL), on_reply, f, NULL);
		break;
	case 2:
		if (f->nsubs < 4)
			wampc_subscribe(c, "com.f.s", NULL, on_event, f, on_reply, f, &f->subs[f->nsubs++]);
		break;
	case 3:
		if (f->nsubs)
			wampc_unsubscribe(c, f->subs[--f->nsubs], on_reply, f);
		break;
	case 4:
		wampc_cancel(c, f->last_call, (enum wampc_cancel_mode)(what / 8 % 3));
		break;
	case 5:
		wampc_leave(c, NULL);
		break;
	case 6:
		wampc_start(c);
		break;
	default:
		wampc_yield(c, f->last_inv, false, WAMPC_ARGS(args, NULL));
		break;
	}
	wampc_value_free(args);
}

/* ------------------------------------------------------------------------- input */

static void feed(struct fz *f, const uint8_t *p, size_t n)
{
	if (f->message)
		wampc_transport_message(f->c, p, n);
	else
		wampc_transport_input(f->c, p, n);
}

static void feed_json(struct fz *f, const uint8_t *p, size_t n)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	if (wamp_decode(WAMP_SER_JSON, p, n, NULL, &m, NULL, 0) != WAMPD_OK)
		return;
	if ((o = wamp_encode(f->ser, &m, &err))) {
		if (f->message) {
			wampc_transport_message(f->c, wamp_out_data(o), o->len);
		} else {
			rs_prefix(wamp_out_data(o) - 4, RS_MSG, (uint32_t)o->len);
			wampc_transport_input(f->c, wamp_out_data(o) - 4, o->len + 4);
		}
		wamp_out_unref(o);
	}
	wamp_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t seed[32] = {7};
	struct fz f = {.now = 1000};
	struct wampc_config cfg = {
		.realm = "realm1", .authid = "fz",
		.authmethods = WAMPC_AUTH_ANONYMOUS | WAMPC_AUTH_TICKET | WAMPC_AUTH_WAMPCRA |
		               WAMPC_AUTH_CRYPTOSIGN,
		.ticket = "t", .secret = "s", .cryptosign_seed = seed, .reconnect = true,
		.offline_queue_bytes = 2048, .offline_drop = WAMPC_DROP_OLDEST, .max_pending = 8,
		.max_queue_bytes = 8192, .max_message = 4096, .ping_interval = 500,
		.on_session = on_session, .ud = &f, .clock_ms = fz_clock, .random_u32 = fz_random,
		.clock_ud = &f};
	size_t i = 1;

	if (size < 1)
		return 0;
	f.ser = (enum wamp_ser)(data[0] & 3);
	if (f.ser >= WAMP_SER__COUNT || !wamp_ser_supported(f.ser))
		f.ser = WAMP_SER_JSON;
	f.message = data[0] & 4;
	f.manual_handshake = data[0] & 8;
	cfg.resumable = data[0] & 16;
	cfg.serializer = (enum wampc_ser)f.ser;
	cfg.framing = f.message ? WAMPC_FRAMING_MESSAGE : WAMPC_FRAMING_RAWSOCKET;
	if (!(f.c = wampc_new(&cfg, NULL)))
		abort();
	wampc_subscribe(f.c, "com.f.t", NULL, on_event, &f, on_reply, &f, NULL);
	wampc_subscribe(f.c, "com.f.", &(struct wampc_subscribe_opts){.match = WAMPC_MATCH_PREFIX},
	                on_event, &f, NULL, NULL, NULL);
	wampc_register(f.c, "com.f.p", &(struct wampc_register_opts){.on_interrupt = on_interrupt},
	               on_invoke, &f, on_reply, &f, NULL);
	wampc_start(f.c);
	open_if_wanted(&f);
	while (i + 3 <= size) {
		unsigned op = data[i] % 6;
		size_t n = data[i + 1] | (size_t)data[i + 2] << 8;

		i += 3;
		if (op <= 1) { /* ops 0 and 1 carry bytes; the others use len as a number */
			if (n > size - i)
				n = size - i;
			i += n;
		}
		switch (op) {
		case 0:
			feed(&f, data + i - n, n);
			break;
		case 1:
			feed_json(&f, data + i - n, n);
			break;
		case 2:
			f.now += (int64_t)n;
			wampc_tick(f.c);
			break;
		case 3:
			drain(&f);
			wampc_transport_closed(f.c);
			f.now += wampc_next_timeout(f.c) > 0 ? wampc_next_timeout(f.c) : 0;
			wampc_tick(f.c);
			open_if_wanted(&f);
			break;
		case 4:
			act(&f, (unsigned)n);
			break;
		default:
			drain(&f);
			break;
		}
		drain(&f);
		close_if_wanted(&f);
		open_if_wanted(&f);
	}
	drain(&f);
	wampc_free(f.c);
	free(f.frame);
	return 0;
}
