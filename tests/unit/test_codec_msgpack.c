/*
 * test_codec_msgpack.c - the MessagePack codec: round trips, integer widths (ids >= 2^32
 * as uint64, integral floats), ext `undefined` in options, span passthrough, conversion to
 * JSON, and rejection of malformed input (truncation, huge declared lengths, bad types).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serializers/codec.h"
#include "tests/lib/codec_check.h"

#define MP(s) ((const uint8_t *)(s)), (sizeof(s) - 1)
#define dec(...) codec_dec(WAMP_SER_MSGPACK, __VA_ARGS__)
#define reject(...) codec_reject(WAMP_SER_MSGPACK, __VA_ARGS__)
#define payload_nonfinite(...) codec_payload_nonfinite(WAMP_SER_MSGPACK, __VA_ARGS__)

static void test_call_roundtrip_byte_identical(void **state)
{
	/* [48, 1, {}, "com.p", [1, "a"], {"k": true}] */
	static const uint8_t in[] = "\x96\x30\x01\x80\xa5" "com.p" "\x92\x01\xa1" "a" "\x81\xa1k\xc3";
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	assert_int_equal(dec(in, sizeof(in) - 1, &m), WAMPD_OK);
	assert_int_equal(m.type, WAMP_CALL);
	assert_null(m.dict);
	assert_ptr_equal(m.payload.args, in + 10);
	assert_int_equal(m.payload.args_len, 4);
	assert_int_equal(m.payload.kwargs_len, 4);
	o = wamp_encode(WAMP_SER_MSGPACK, &m, &err);
	assert_int_equal(o->len, sizeof(in) - 1);
	assert_memory_equal(wamp_out_data(o), in, o->len);
	wamp_out_unref(o);
	/* to JSON */
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_int_equal(o->len, strlen("[48,1,{},\"com.p\",[1,\"a\"],{\"k\":true}]"));
	assert_memory_equal(wamp_out_data(o), "[48,1,{},\"com.p\",[1,\"a\"],{\"k\":true}]", o->len);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
}

static void test_integer_widths(void **state)
{
	struct wamp_msg m;

	(void)state;
	/* [17, uint64 2^40, uint32 70000] */
	assert_int_equal(dec(MP("\x93\x11\xcf\x00\x00\x01\x00\x00\x00\x00\x00\xce\x00\x01\x11\x70"), &m),
	                 WAMPD_OK);
	assert_int_equal(m.id[0], UINT64_C(1) << 40);
	assert_int_equal(m.id[1], 70000);
	wamp_msg_clear(&m);
	/* int8 positive and float64 5.0 are accepted as ids */
	assert_int_equal(dec(MP("\x93\x11\xd0\x05\xcb\x40\x14\x00\x00\x00\x00\x00\x00"), &m), WAMPD_OK);
	assert_int_equal(m.id[0], 5);
	assert_int_equal(m.id[1], 5);
	wamp_msg_clear(&m);
	reject(MP("\x93\x11\xd0\xfb\x01"), "negative int8 id");
	reject(MP("\x93\x11\xcb\x40\x14\x66\x66\x66\x66\x66\x66\x01"), "float 5.1 id");
	reject(MP("\x93\x11\x00\x01"), "id 0");
	reject(MP("\x93\x11\xcf\x00\x20\x00\x00\x00\x00\x00\x01\x01"), "id 2^53 + 1");
}

static void test_undefined_in_options_dropped(void **state)
{
	/* [32, 1, {"match": fixext1 undefined, "x": 1}, "a.b"] */
	struct wamp_msg m;

	(void)state;
	assert_int_equal(dec(MP("\x94\x20\x01\x82\xa5match\xd4\x00\x00\xa1x\x01\xa3" "a.b"), &m),
	                 WAMPD_OK);
	assert_null(json_object_get(m.dict, "match"));
	assert_int_equal(json_integer_value(json_object_get(m.dict, "x")), 1);
	assert_int_equal(json_object_size(m.dict), 1);
	wamp_msg_clear(&m);
}

static void test_bin_to_json(void **state)
{
	/* [70, 1, {}, [bin 00 ff]] */
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	assert_int_equal(dec(MP("\x94\x46\x01\x80\x91\xc4\x02\x00\xff"), &m), WAMPD_OK);
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_memory_equal(wamp_out_data(o), "[70,1,{},[\"\\u0000AP8=\"]]", o->len);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
	/* invalid UTF-8 in a str cannot go to JSON: a clean error, not garbage */
	assert_int_equal(dec(MP("\x94\x46\x01\x80\x91\xa2\xff\xfe"), &m), WAMPD_OK);
	assert_null(wamp_encode(WAMP_SER_JSON, &m, &err));
	assert_int_equal(err, WAMPD_ERR_SERIALIZATION);
	wamp_msg_clear(&m);
}

static void test_malformed(void **state)
{
	(void)state;
	reject(MP(""), "empty");
	reject(MP("\x80"), "a map");
	reject(MP("\x90"), "empty array");
	reject(MP("\x94\x30\x01\x80"), "truncated array");
	reject(MP("\x94\x30\x01\x80\xa5" "com"), "truncated string");
	reject(MP("\x94\x30\x01\x80\xa1p\x00"), "trailing byte");
	reject(MP("\x93\xcc\xc8\x01\x02"), "unknown type 200");
	reject(MP("\x94\x30\x01\x80\x01"), "procedure an int");
	reject(MP("\x94\x30\xa1" "1" "\x80\xa1p"), "request id a string");
	reject(MP("\x94\x30\x01\x90\xa1p"), "options a list");
	reject(MP("\x95\x30\x01\x80\xa1p\x80"), "args a dict");
	reject(MP("\x96\x30\x01\x80\xa1p\x90\x90"), "kwargs a list");
	reject(MP("\x94\x30\x01\x80\xa2\xff\xfe"), "URI not UTF-8");
	reject(MP("\x94\x30\x01\x81\x01\x02\xa1p"), "options with an int key");
	reject(MP("\x94\x30\x01\x80\xdb\xff\xff\xff\xff"), "str32 of 4 GiB in 5 bytes");
	reject(MP("\x95\x30\x01\x80\xa1p\xdd\xff\xff\xff\xff"), "array32 of 4G items");
	reject(MP("\x95\x30\x01\x80\xa1p\xdf\x7f\xff\xff\xff"), "map32 of 2G pairs");
	reject(MP("\x95\x30\x01\x80\xa1p\x91\xc1"), "reserved byte c1");
	reject(MP("\x95\x30\x01\x80\xa1p\x91\xc7\xff\x01"), "ext8 truncated");
	reject(MP("\xdd\xff\xff\xff\xff\x30"), "message array32 with 4G elements");
}

static void test_depth_limit(void **state)
{
	uint8_t buf[200];
	size_t n = 0;
	struct wamp_msg m;
	struct wamp_codec_limits lim = {.max_depth = 64};
	char why[100];

	(void)state;
	memcpy(buf, "\x95\x30\x01\x80\xa1p", 6);
	n = 6;
	for (int i = 0; i < 63; i++)
		buf[n++] = 0x91; /* nested single-element arrays */
	buf[n++] = 0x01;
	assert_int_equal(wamp_decode(WAMP_SER_MSGPACK, buf, n, &lim, &m, why, sizeof(why)), WAMPD_OK);
	wamp_msg_clear(&m);
	/* one more level is too deep */
	n = 6;
	for (int i = 0; i < 64; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x01;
	assert_int_equal(wamp_decode(WAMP_SER_MSGPACK, buf, n, &lim, &m, why, sizeof(why)),
	                 WAMPD_ERR_PROTOCOL);
}

static void test_transparent_payload(void **state)
{
	/* [36, 1, 2, {"enc_algo": "cryptobox"}, bin 01 02] */
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	assert_int_equal(dec(MP("\x95\x24\x01\x02\x81\xa8" "enc_algo" "\xa9" "cryptobox" "\xc4\x02\x01\x02"), &m),
	                 WAMPD_OK);
	assert_true(m.payload.transparent);
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_memory_equal(wamp_out_data(o), "[36,1,2,{\"enc_algo\":\"cryptobox\"},\"\\u0000AQI=\"]",
	                    o->len);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
}

/* The schema walk's reasons, the same words as before it was shared (codec_walk.h), with
 * each codec's own wording where it had one (JSON's reasons alongside). */
#define REASON(ser, lit, reason) codec_expect_reason(ser, lit, sizeof(lit) - 1, reason)

static void test_field_reasons(void **state)
{
	(void)state;
	REASON(WAMP_SER_MSGPACK, "\x94\x30\x01\x80\x05", "CALL: element 3 must be a UTF-8 string");
	REASON(WAMP_SER_MSGPACK, "\x93\x01\xa1r\x81\x01\x01",
	       "HELLO: element 2: a dict needs string keys (without NUL) and UTF-8 strings");
	REASON(WAMP_SER_MSGPACK, "\x95\x30\x01\x80\xa1" "a" "\x80", "CALL: Arguments must be a list");
	REASON(WAMP_SER_MSGPACK, "\x92\x30\x01", "CALL: 2 elements, expected 4 to 6");
	REASON(WAMP_SER_JSON, "[48,1,{},5]", "CALL: element 3 must be a string");
	REASON(WAMP_SER_JSON, "[1,\"realm1\",{\"a\\u0000b\":1}]",
	       "HELLO: element 2: NUL byte in object key not supported near '\"a\\u0000b\"'");
	REASON(WAMP_SER_JSON, "[48,1,[],\"a\"]", "CALL: element 2 must be a dict");
	REASON(WAMP_SER_JSON, "[48,1,{},\"a\",\"\\u0000AA==\",{}]",
	       "CALL: nothing may follow a binary Payload");
	REASON(WAMP_SER_JSON, "[48,0,{},\"a\"]", "CALL: element 1 must be an id in [1, 2^53]");
	REASON(WAMP_SER_JSON, "[8,99,1,{},\"a\"]", "ERROR: element 1 must be a message type");
}

/* NaN and +-Infinity (float32 and float64) cannot reach JSON peers: refused as a request
 * wherever they are in the payload; finite extremes pass. */
static void test_nonfinite_numbers(void **state)
{
	(void)state;
	/* [16, 1, {}, "t", [NaN]] (float64 7ff8...) */
	assert_true(payload_nonfinite(MP("\x95\x10\x01\x80\xa1t\x91\xcb\x7f\xf8\0\0\0\0\0\0")));
	/* [48, 1, {}, "p", [], {"x": [-Infinity]}] (float64 fff0...) */
	assert_true(payload_nonfinite(
		MP("\x96\x30\x01\x80\xa1p\x90\x81\xa1x\x91\xcb\xff\xf0\0\0\0\0\0\0")));
	/* [70, 1, {}, [Infinity]] as float32 (7f80 0000) */
	assert_true(payload_nonfinite(MP("\x94\x46\x01\x80\x91\xca\x7f\x80\0\0")));
	/* finite: float64 max (7fef ffff ffff ffff), float32 max (7f7f ffff), -0.0 */
	assert_false(payload_nonfinite(MP("\x95\x30\x01\x80\xa1p\x93\xcb\x7f\xef\xff\xff\xff\xff\xff\xff"
	                                  "\xca\x7f\x7f\xff\xff\xcb\x80\0\0\0\0\0\0\0")));
	/* in WAMP's own dict: a malformed message; a NaN id is no id */
	reject(MP("\x94\x10\x01\x81\xa3x_v\xcb\x7f\xf8\0\0\0\0\0\0\xa1t"), "NaN in Options");
	reject(MP("\x94\x10\xcb\x7f\xf8\0\0\0\0\0\0\x80\xa1t"), "NaN request id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_roundtrip_byte_identical),
		cmocka_unit_test(test_integer_widths),
		cmocka_unit_test(test_undefined_in_options_dropped),
		cmocka_unit_test(test_bin_to_json),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_transparent_payload),
		cmocka_unit_test(test_field_reasons),
		cmocka_unit_test(test_nonfinite_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
