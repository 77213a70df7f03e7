/*
 * fuzz_session.c - libFuzzer target for the session state machine and everything behind
 * it (router/core/protocol.c, realm/: broker, dealer, meta API), fed through the fake transport
 * of the unit tests: three sessions (two JSON, one MessagePack) on one router with the
 * default realm, a fresh router per input.
 *
 * Input: a sequence of steps, each [op][len lo][len hi][len bytes]:
 *   op % 3          the session
 *   (op / 3) % 8    0-4: deliver the bytes as one message (as the transport would);
 *                   5:   the transport closes, a new connection opens on that slot (state
 *                        OPEN: the next step may HELLO);
 *                   6:   the clock moves forward by len ms (call timeouts fire);
 *                   7:   the bytes are a JSON message, re-encoded for the session's
 *                        serializer first (so MessagePack sessions get meaningful input)
 * Each session starts joined to realm1 (HELLO fed before the first step). realm1 offers
 * resumable sessions (a 5 s window, a 4 KiB log): a HELLO with "resumable" makes one, whose
 * transport closing detaches it (the clock ends it) and whose ACKs are counted.
 *
 * Invariants: no crash, leak or UB (ASan/UBSan), and every message the router sends
 * decodes in its session's serializer (the router never emits malformed output).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/core/protocol.h"
#include "router/core/resume.h"
#include "router/core/router.h"
#include "tests/lib/fake_peer.h"
#include "tests/lib/fake_timers.h"

#define NSESS 3

static const char hello[] = "[1,\"realm1\",{\"roles\":{\"caller\":{\"features\":{"
                            "\"progressive_call_results\":true,\"call_canceling\":true}},"
                            "\"callee\":{\"features\":{\"progressive_call_invocations\":true,"
                            "\"call_canceling\":true}},\"publisher\":{},\"subscriber\":{}}}]";

static void drain(struct fake_peer *p)
{
	struct wamp_msg m;

	/* fake_peer_next decodes; a message that does not decode is a router bug */
	while (fake_peer_pending(p)) {
		if (!fake_peer_next(p, &m))
			abort();
		wamp_msg_clear(&m);
	}
	fake_peer_reset(p);
}

static void feed(struct router *rt, struct fake_peer *p, const uint8_t *b, size_t n, bool as_json)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	if (!as_json || p->s->ser == WAMP_SER_JSON) {
		proto_receive(rt, p->s, b, n);
		return;
	}
	if (wamp_decode(WAMP_SER_JSON, b, n, NULL, &m, NULL, 0) != WAMPD_OK) {
		proto_receive(rt, p->s, b, n);
		return;
	}
	o = wamp_encode(p->s->ser, &m, &err);
	wamp_msg_clear(&m);
	if (o) {
		proto_receive(rt, p->s, wamp_out_data(o), o->len);
		wamp_out_unref(o);
	}
}

static void open_slot(struct router *rt, struct fake_peer *p, int i)
{
	memset(p, 0, sizeof(*p));
	fake_peer_session(p, i == 2 ? WAMP_SER_MSGPACK : WAMP_SER_JSON, &rt->metrics);
}

static void close_slot(struct router *rt, struct fake_peer *p)
{
	if (p->s) /* NULL: it resumed on another slot */
		proto_transport_closed(rt, p->s);
	drain(p);
	fake_peer_destroy(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_peer peers[NSESS];
	struct router rt;
	struct config cfg;

	if (!config_default(&cfg))
		abort();
	cfg.realms[0].resume_window_s = 5;
	cfg.realms[0].resume_max_bytes = 4096;
	if (!router_init(&rt, &cfg, NULL))
		abort();
	fake_timers_install(&rt.realms);
	for (int i = 0; i < NSESS; i++) {
		open_slot(&rt, &peers[i], i);
		feed(&rt, &peers[i], (const uint8_t *)hello, sizeof(hello) - 1, true);
		drain(&peers[i]);
	}
	while (size >= 3) {
		unsigned op = data[0], who = op % NSESS, kind = (op / NSESS) % 8;
		size_t n = (size_t)data[1] | (size_t)data[2] << 8;

		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		switch (kind) {
		case 5:
			close_slot(&rt, &peers[who]);
			open_slot(&rt, &peers[who], (int)who);
			n = 0;
			break;
		case 6:
			fake_timers_advance(n);
			n = 0;
			break;
		default:
			/* a closing session receives nothing more from its transport, and one
			 * whose session resumed elsewhere has none */
			if (!peers[who].closed && peers[who].s)
				feed(&rt, &peers[who], data, n, kind == 7);
			break;
		}
		data += n;
		size -= n;
		for (int i = 0; i < NSESS; i++)
			drain(&peers[i]);
	}
	rt.shutting_down = true; /* nothing detaches any more; detached sessions end */
	for (int i = 0; i < NSESS; i++)
		close_slot(&rt, &peers[i]);
	resume_end_all(&rt);
	router_destroy(&rt);
	return 0;
}
