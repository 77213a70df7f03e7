/*
 * test_rawsocket.c - the RawSocket wire format (serializers/rawsocket.c): handshake replies for
 * every error code, the client's side of the handshake against the router's, length
 * exponents, frame prefixes at the length boundaries, and frame reassembly from arbitrary
 * chunks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serializers/rawsocket.h"

#define JSON_MSGPACK ((1u << WAMP_SER_JSON) | (1u << WAMP_SER_MSGPACK))

static void test_handshake_ok(void **state)
{
	uint8_t in[4] = {0x7F, 0xF1, 0, 0}, reply[4];
	enum wamp_ser ser;
	uint32_t peer_max;

	(void)state;
	assert_int_equal(rs_handshake(in, JSON_MSGPACK, 1u << 24, reply, &ser, &peer_max), RS_OK);
	assert_int_equal(ser, WAMP_SER_JSON);
	assert_int_equal(peer_max, 1u << 24);
	assert_memory_equal(reply, ((uint8_t[]){0x7F, 0xF1, 0, 0}), 4);
	in[1] = 0x02; /* msgpack, client max 512 */
	assert_int_equal(rs_handshake(in, JSON_MSGPACK, 65536, reply, &ser, &peer_max), RS_OK);
	assert_int_equal(ser, WAMP_SER_MSGPACK);
	assert_int_equal(peer_max, 512);
	assert_memory_equal(reply, ((uint8_t[]){0x7F, 0x72, 0, 0}), 4); /* 2^16 = 2^(9+7) */
}

static void test_handshake_errors(void **state)
{
	uint8_t reply[4];
	enum wamp_ser ser;
	uint32_t peer_max;

	(void)state;
	for (unsigned s = 0; s < 16; s++) {
		uint8_t in[4] = {0x7F, (uint8_t)(0x30 | s), 0, 0};
		enum rs_error e = rs_handshake(in, JSON_MSGPACK, 1 << 20, reply, &ser, &peer_max);

		if (s == 1 || s == 2)
			continue;
		assert_int_equal(e, RS_ERR_SERIALIZER);
		assert_memory_equal(reply, ((uint8_t[]){0x7F, 0x10, 0, 0}), 4);
	}
	/* a serializer the listener does not serve */
	assert_int_equal(rs_handshake((uint8_t[]){0x7F, 0x32, 0, 0}, 1u << WAMP_SER_JSON, 1 << 20,
	                              reply, &ser, &peer_max),
	                 RS_ERR_SERIALIZER);
	assert_int_equal(rs_handshake((uint8_t[]){0x7F, 0x31, 0, 1}, JSON_MSGPACK, 1 << 20, reply,
	                              &ser, &peer_max),
	                 RS_ERR_RESERVED);
	assert_memory_equal(reply, ((uint8_t[]){0x7F, 0x30, 0, 0}), 4);
	assert_int_equal(rs_handshake((uint8_t[]){0x7F, 0x31, 0x80, 0}, JSON_MSGPACK, 1 << 20,
	                              reply, &ser, &peer_max),
	                 RS_ERR_RESERVED);
}

/* The client's hello is what the router accepts, and its reply what the client accepts. */
static void test_client_handshake(void **state)
{
	uint8_t hello[4], reply[4];
	enum wamp_ser ser;
	uint32_t router_max = 0, client_max = 0;

	(void)state;
	for (int s = 0; s < WAMP_SER__COUNT; s++) {
		rs_client_hello(hello, (enum wamp_ser)s, 1u << 20);
		assert_int_equal(hello[0], 0x7F);
		assert_int_equal(hello[1] >> 4, 11); /* 2^(9+11) */
		assert_int_equal(rs_handshake(hello, 7, 1u << 16, reply, &ser, &client_max), RS_OK);
		assert_int_equal(ser, s);
		assert_int_equal(client_max, 1u << 20);
		assert_int_equal(rs_client_reply(reply, (enum wamp_ser)s, &router_max), RS_OK);
		assert_int_equal(router_max, 1u << 16);
	}
	/* every error code comes back as it is */
	for (unsigned e = 1; e < 16; e++)
		assert_int_equal(rs_client_reply((uint8_t[]){0x7F, (uint8_t)(e << 4), 0, 0},
		                                 WAMP_SER_JSON, &router_max),
		                 e);
	rs_client_hello(hello, WAMP_SER_MSGPACK, 1u << 24);
	assert_int_equal(rs_handshake(hello, 1u << WAMP_SER_JSON, 1u << 16, reply, &ser, &client_max),
	                 RS_ERR_SERIALIZER);
	assert_int_equal(rs_client_reply(reply, WAMP_SER_MSGPACK, &router_max), RS_ERR_SERIALIZER);
	/* not a RawSocket router, another serializer, reserved octets */
	assert_int_equal(rs_client_reply((uint8_t[]){'H', 'T', 'T', 'P'}, WAMP_SER_JSON, &router_max),
	                 RS_ERR_RESERVED);
	assert_int_equal(rs_client_reply((uint8_t[]){0x7F, 0xF2, 0, 0}, WAMP_SER_JSON, &router_max),
	                 RS_ERR_RESERVED);
	assert_int_equal(rs_client_reply((uint8_t[]){0x7F, 0xF1, 0, 1}, WAMP_SER_JSON, &router_max),
	                 RS_ERR_RESERVED);
	assert_int_equal(rs_client_reply((uint8_t[]){0x7F, 0x00, 0, 0}, WAMP_SER_JSON, &router_max),
	                 RS_ERR_RESERVED);
}

static void test_len_exponent(void **state)
{
	(void)state;
	assert_int_equal(rs_len_exponent(0), 0);
	assert_int_equal(rs_len_exponent(511), 0);
	assert_int_equal(rs_len_exponent(512), 0);
	assert_int_equal(rs_len_exponent(1023), 0);
	assert_int_equal(rs_len_exponent(1024), 1);
	assert_int_equal(rs_len_exponent(16u << 20), 15);
	assert_int_equal(rs_len_exponent(UINT32_MAX), 15);
}

static void test_prefix(void **state)
{
	uint8_t p[4];
	enum rs_frame t;
	uint32_t len;

	(void)state;
	rs_prefix(p, RS_MSG, 0);
	assert_memory_equal(p, ((uint8_t[]){0, 0, 0, 0}), 4);
	rs_prefix(p, RS_PING, 0xFFFFFF);
	assert_memory_equal(p, ((uint8_t[]){1, 0xFF, 0xFF, 0xFF}), 4);
	rs_prefix(p, RS_PONG, 1u << 24); /* exactly 16 MiB: the X bit */
	assert_memory_equal(p, ((uint8_t[]){0x0A, 0, 0, 0}), 4);
	assert_true(rs_parse_prefix(p, &t, &len));
	assert_int_equal(t, RS_PONG);
	assert_int_equal(len, 1u << 24);
	assert_true(rs_parse_prefix((uint8_t[]){0x01, 0x00, 0x01, 0x00}, &t, &len));
	assert_int_equal(t, RS_PING);
	assert_int_equal(len, 256);
	assert_false(rs_parse_prefix((uint8_t[]){0x10, 0, 0, 1}, &t, &len)); /* reserved */
	assert_false(rs_parse_prefix((uint8_t[]){0x80, 0, 0, 1}, &t, &len));
	assert_false(rs_parse_prefix((uint8_t[]){0x03, 0, 0, 1}, &t, &len)); /* type 3 */
	assert_false(rs_parse_prefix((uint8_t[]){0x07, 0, 0, 1}, &t, &len));
	assert_false(rs_parse_prefix((uint8_t[]){0x08, 0, 0, 1}, &t, &len)); /* X + length */
}

struct got {
	int n;
	enum rs_frame t[8];
	uint32_t len[8];
	char data[8][64];
	int stop_after;
};

static bool on_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	struct got *g = ctx;

	g->t[g->n] = t;
	g->len[g->n] = len;
	memcpy(g->data[g->n], data, len < 63 ? len : 63);
	g->n++;
	return g->n != g->stop_after;
}

static size_t frames(uint8_t *out)
{
	size_t n = 0;

	memcpy(out + n, "\x00\x00\x00\x05hello", 9);
	n += 9;
	memcpy(out + n, "\x01\x00\x00\x00", 4); /* empty PING */
	n += 4;
	memcpy(out + n, "\x00\x00\x00\x03" "abc", 7);
	n += 7;
	return n;
}

static void check(const struct got *g)
{
	assert_int_equal(g->n, 3);
	assert_int_equal(g->t[0], RS_MSG);
	assert_int_equal(g->len[0], 5);
	assert_memory_equal(g->data[0], "hello", 5);
	assert_int_equal(g->t[1], RS_PING);
	assert_int_equal(g->len[1], 0);
	assert_int_equal(g->len[2], 3);
	assert_memory_equal(g->data[2], "abc", 3);
}

static void test_rx_whole_and_split(void **state)
{
	uint8_t buf[64];
	size_t n = frames(buf);

	(void)state;
	/* everything at once, then every chunk size from 1 byte up */
	for (size_t chunk = n; chunk >= 1; chunk--) {
		struct rs_rx rx = {0};
		struct got g = {0};

		for (size_t off = 0; off < n; off += chunk)
			assert_int_equal(rs_rx_feed(&rx, buf + off, off + chunk > n ? n - off : chunk, 100,
			                            on_frame, &g),
			                 RS_RX_OK);
		check(&g);
		assert_null(rx.buf);
		rs_rx_clear(&rx);
	}
}

static void test_rx_limits(void **state)
{
	struct rs_rx rx = {0};
	struct got g = {0};
	uint8_t buf[64];
	size_t n = frames(buf);

	(void)state;
	/* a frame over the limit fails on its prefix, before anything is buffered */
	assert_int_equal(rs_rx_feed(&rx, (const uint8_t *)"\x00\x00\x01\x00", 4, 255, on_frame, &g),
	                 RS_RX_TOO_BIG);
	assert_null(rx.buf);
	rs_rx_clear(&rx);
	assert_int_equal(rs_rx_feed(&rx, (const uint8_t *)"\x40\x00\x00\x01x", 5, 255, on_frame, &g),
	                 RS_RX_BAD);
	rs_rx_clear(&rx);
	/* the callback stops the feed: later frames are not delivered */
	g.stop_after = 1;
	assert_int_equal(rs_rx_feed(&rx, buf, n, 100, on_frame, &g), RS_RX_STOP);
	assert_int_equal(g.n, 1);
	rs_rx_clear(&rx);
	/* a partly received frame is freed by rs_rx_clear */
	assert_int_equal(rs_rx_feed(&rx, (const uint8_t *)"\x00\x00\x00\x10part", 8, 100, on_frame,
	                            &g),
	                 RS_RX_OK);
	assert_non_null(rx.buf);
	rs_rx_clear(&rx);
	assert_null(rx.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_ok),     cmocka_unit_test(test_handshake_errors),
		cmocka_unit_test(test_client_handshake),
		cmocka_unit_test(test_len_exponent),     cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_rx_whole_and_split), cmocka_unit_test(test_rx_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
