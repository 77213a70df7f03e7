/*
 * test_batched.c - batched WebSocket framing (router/core/batched.c): splitting JSON batches at
 * 0x1E and binary batches by their length prefixes, the faults (empty batch, missing final
 * separator, lengths beyond the message), stopping early, and building batches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "router/core/batched.h"

struct seen {
	int n;
	char msg[8][32];
	int stop_after;
};

static bool collect(void *ctx, const uint8_t *msg, size_t len)
{
	struct seen *s = ctx;

	memcpy(s->msg[s->n], msg, len);
	s->msg[s->n][len] = '\0';
	s->n++;
	return s->n != s->stop_after;
}

#define SPLIT(ser, lit, s)                                                                 \
	batch_split((ser), BATCH_SEP_SPEC, (const uint8_t *)(lit), sizeof(lit) - 1, collect, (s))

static void test_json(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(SPLIT(WAMP_SER_JSON, "[1]\x1e[2,\"a\"]\x1e", &s), BATCH_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.msg[0], "[1]");
	assert_string_equal(s.msg[1], "[2,\"a\"]");
	memset(&s, 0, sizeof(s));
	assert_int_equal(SPLIT(WAMP_SER_JSON, "[1]\x1e[2]", &s), BATCH_MALFORMED);
	assert_int_equal(s.n, 1); /* what came before the fault was delivered */
	assert_int_equal(batch_split(WAMP_SER_JSON, BATCH_SEP_SPEC, (const uint8_t *)"", 0, collect, &s),
	                 BATCH_EMPTY);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(SPLIT(WAMP_SER_JSON, "[1]\x1e[2]\x1e", &s), BATCH_STOPPED);
	assert_int_equal(s.n, 1);
}

/* Autobahn|Python's separator (0x18) is recognised and split on as well */
static void test_json_autobahn_separator(void **state)
{
	static const uint8_t in[] = "[1]\x18[2]\x18";
	struct seen s = {0};
	uint8_t buf[8];

	(void)state;
	assert_int_equal(batch_json_separator(in, sizeof(in) - 1), BATCH_SEP_AUTOBAHN);
	assert_int_equal(batch_json_separator((const uint8_t *)"[1]\x1e", 4), BATCH_SEP_SPEC);
	assert_int_equal(batch_json_separator((const uint8_t *)"[1]", 3), 0);
	assert_int_equal(batch_split(WAMP_SER_JSON, BATCH_SEP_AUTOBAHN, in, sizeof(in) - 1, collect, &s),
	                 BATCH_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(batch_put(WAMP_SER_JSON, BATCH_SEP_AUTOBAHN, buf, (const uint8_t *)"[3]", 3), 4);
	assert_memory_equal(buf, "[3]\x18", 4);
}

static void test_binary(void **state)
{
	struct seen s = {0};

	(void)state;
	assert_int_equal(SPLIT(WAMP_SER_MSGPACK, "\0\0\0\x02" "ab" "\0\0\0\0" "\0\0\0\x01" "c", &s),
	                 BATCH_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.msg[0], "ab");
	assert_string_equal(s.msg[1], "");
	assert_string_equal(s.msg[2], "c");
	memset(&s, 0, sizeof(s));
	assert_int_equal(SPLIT(WAMP_SER_CBOR, "\0\0\0\x05" "ab", &s), BATCH_MALFORMED);
	assert_int_equal(SPLIT(WAMP_SER_CBOR, "\0\0\0", &s), BATCH_MALFORMED);
	assert_int_equal(SPLIT(WAMP_SER_MSGPACK, "\xff\xff\xff\xff" "x", &s), BATCH_MALFORMED);
	assert_int_equal(s.n, 0);
}

static void test_put(void **state)
{
	uint8_t buf[32];

	(void)state;
	assert_int_equal(batch_framed_len(WAMP_SER_JSON, 3), 4);
	assert_int_equal(batch_put(WAMP_SER_JSON, BATCH_SEP_SPEC, buf, (const uint8_t *)"[1]", 3), 4);
	assert_memory_equal(buf, "[1]\x1e", 4);
	assert_int_equal(batch_framed_len(WAMP_SER_MSGPACK, 258), 262);
	assert_int_equal(batch_put(WAMP_SER_MSGPACK, 0, buf, (const uint8_t *)"xy", 2), 6);
	assert_memory_equal(buf, "\0\0\0\x02xy", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_autobahn_separator),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
