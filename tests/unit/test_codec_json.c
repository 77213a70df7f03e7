/*
 * test_codec_json.c - the JSON codec: round trips of every message type, span passthrough,
 * binary conversion to MessagePack, and rejection of malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serializers/codec.h"
#include "serializers/codec_internal.h"
#include "tests/lib/codec_check.h"

#define dec(text, m) codec_dec(WAMP_SER_JSON, (text), strlen(text), (m))
#define reject(text) codec_reject(WAMP_SER_JSON, (text), strlen(text), (text))
#define payload_nonfinite(text) codec_payload_nonfinite(WAMP_SER_JSON, (text), strlen(text))

/* Decode, encode in JSON again, compare text (our output is compact). */
static void roundtrip(const char *in, const char *expect)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	if (dec(in, &m) != WAMPD_OK)
		fail_msg("does not decode: %s", in);
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_non_null(o);
	if (o->len != strlen(expect) || memcmp(wamp_out_data(o), expect, o->len))
		fail_msg("%s -> %.*s (expected %s)", in, (int)o->len, wamp_out_data(o), expect);
	assert_false(o->binary);
	assert_int_equal(o->type, m.type);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
}

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	roundtrip("[1, \"realm1\", {\"roles\": {\"caller\": {}}}]", "[1,\"realm1\",{\"roles\":{\"caller\":{}}}]");
	roundtrip("[2, 9129137332, {}]", "[2,9129137332,{}]");
	roundtrip("[3, {\"message\": \"x\"}, \"wamp.error.no_such_realm\"]",
	          "[3,{\"message\":\"x\"},\"wamp.error.no_such_realm\"]");
	roundtrip("[4, \"wampcra\", {}]", "[4,\"wampcra\",{}]");
	roundtrip("[5, \"sig\", {}]", "[5,\"sig\",{}]");
	roundtrip("[6, {}, \"wamp.close.goodbye_and_out\"]", "[6,{},\"wamp.close.goodbye_and_out\"]");
	roundtrip("[7, 0]", "[7,0]"); /* ACK (resumable sessions): a count, 0 allowed */
	roundtrip("[7, 9007199254740992]", "[7,9007199254740992]");
	roundtrip("[8, 48, 1, {}, \"com.err\", [1], {\"a\": 2}]", "[8,48,1,{},\"com.err\",[1],{\"a\": 2}]");
	roundtrip("[16, 1, {}, \"com.t\"]", "[16,1,{},\"com.t\"]");
	roundtrip("[17, 1, 2]", "[17,1,2]");
	roundtrip("[32, 1, {\"match\": \"prefix\"}, \"com\"]", "[32,1,{\"match\":\"prefix\"},\"com\"]");
	roundtrip("[33, 1, 2]", "[33,1,2]");
	roundtrip("[34, 1, 2]", "[34,1,2]");
	roundtrip("[35, 1]", "[35,1]");
	roundtrip("[35, 0, {\"reason\": \"r\"}]", "[35,0,{\"reason\":\"r\"}]");
	roundtrip("[36, 1, 2, {}, []]", "[36,1,2,{},[]]");
	roundtrip("[48, 1, {}, \"com.p\", [], {}]", "[48,1,{},\"com.p\",[],{}]");
	roundtrip("[49, 1, {\"mode\": \"kill\"}]", "[49,1,{\"mode\":\"kill\"}]");
	roundtrip("[50, 1, {}]", "[50,1,{}]");
	roundtrip("[64, 1, {}, \"com.p\"]", "[64,1,{},\"com.p\"]");
	roundtrip("[65, 1, 2]", "[65,1,2]");
	roundtrip("[66, 1, 2]", "[66,1,2]");
	roundtrip("[67, 1]", "[67,1]");
	roundtrip("[68, 1, 2, {}, [\"x\"]]", "[68,1,2,{},[\"x\"]]");
	roundtrip("[69, 1, {}]", "[69,1,{}]");
	roundtrip("[70, 1, {}, [1.5, null, true]]", "[70,1,{},[1.5, null, true]]");
}

static void test_spans_and_fast_path(void **state)
{
	struct wamp_msg m;
	const char *text = "[48, 7, {}, \"com.p\", [1, {\"deep\": [\"\\u00e9\"]}], {\"k\": \"v\"}]";

	(void)state;
	assert_int_equal(dec(text, &m), WAMPD_OK);
	assert_null(m.dict); /* empty dict: no allocation */
	assert_ptr_equal(m.payload.args, (const uint8_t *)strstr(text, "[1,"));
	assert_int_equal(m.payload.args_len, strlen("[1, {\"deep\": [\"\\u00e9\"]}]"));
	assert_memory_equal(m.payload.kwargs, "{\"k\": \"v\"}", 10);
	assert_string_equal(m.uri, "com.p");
	wamp_msg_clear(&m);
	assert_int_equal(dec("[48, 7, { \n }, \"com.p\"]", &m), WAMPD_OK);
	assert_null(m.dict);
	wamp_msg_clear(&m);
}

static void test_string_escapes(void **state)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	assert_int_equal(dec("[32, 1, {}, \"a\\u00e9\\ud83d\\ude00\\n\\\"\\\\/\"]", &m), WAMPD_OK);
	assert_int_equal(m.uri_len, strlen("a\xc3\xa9\xf0\x9f\x98\x80\n\"\\/"));
	assert_memory_equal(m.uri, "a\xc3\xa9\xf0\x9f\x98\x80\n\"\\/", m.uri_len);
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_memory_equal(wamp_out_data(o), "[32,1,{},\"a\xc3\xa9\xf0\x9f\x98\x80\\n\\\"\\\\/\"]",
	                    o->len);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
	/* a NUL inside a string is kept and counted */
	assert_int_equal(dec("[32, 1, {}, \"a\\u0000b\"]", &m), WAMPD_OK);
	assert_int_equal(m.uri_len, 3);
	wamp_msg_clear(&m);
	/* long strings go to the heap */
	char big[600];
	memset(big, 'x', sizeof(big));
	memcpy(big, "[32, 1, {}, \"", 13);
	memcpy(big + sizeof(big) - 3, "\"]", 3);
	assert_int_equal(dec(big, &m), WAMPD_OK);
	assert_int_equal(m.uri_len, sizeof(big) - 3 - 13);
	wamp_msg_clear(&m);
}

/* js_write_value writes exactly what json_dumpb (compact, precision 17) writes; takes
 * the reference v */
static void check_like_jansson(json_t *v)
{
	struct wamp_out *o = wamp_out_new(8);
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));

	assert_non_null(o);
	assert_non_null(want);
	assert_true(js_write_value(&o, v));
	if (o->len != strlen(want) || memcmp(wamp_out_data(o), want, o->len))
		fail_msg("wrote %.*s, jansson writes %s", (int)o->len, (const char *)wamp_out_data(o),
		         want);
	free(want);
	wamp_out_unref(o);
	json_decref(v);
}

static void test_value_writer_matches_jansson(void **state)
{
	static const double reals[] = {0.5, 1.0, -0.0, 3.0, 1e20, 1e21, 1e-7, 123456789.123,
	                               1e300, -2.5e-300, 0.1, 2.0 / 3.0, 9007199254740993.0};
	static const json_int_t ints[] = {0, -1, 1, 9, 10, INT64_MAX, INT64_MIN, 9007199254740992LL,
	                                  -9007199254740993LL};
	char s[300];
	json_t *obj = json_object(), *arr = json_array();

	(void)state;
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		check_like_jansson(json_real(reals[i]));
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		check_like_jansson(json_integer(ints[i]));
	/* every control character, quote and backslash, at every offset of an 8-byte word */
	for (int c = 0; c < 0x80; c++) {
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && c != '/')
			continue;
		for (int at = 0; at < 17; at++) {
			memset(s, 'a', 20);
			s[at] = (char)c;
			check_like_jansson(json_stringn(s, 20));
		}
	}
	/* UTF-8 passes through, long plain runs too */
	check_like_jansson(json_string("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac"));
	memset(s, 'z', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	check_like_jansson(json_string(s));
	/* containers, in insertion order, nested */
	json_object_set_new(obj, "roles", json_pack("{s:{s:{s:b,s:b}}, s:{}}", "broker", "features",
	                                            "x", 1, "y", 0, "dealer"));
	json_object_set_new(obj, "k\"ey", json_null());
	json_object_set_new(obj, "list", json_pack("[i, f, s, b, n, [], {}]", 1, 1.5, "two", 0));
	json_array_append(arr, obj);
	json_array_append_new(arr, json_true());
	check_like_jansson(json_incref(obj));
	check_like_jansson(json_incref(arr));
	check_like_jansson(json_object());
	check_like_jansson(json_array());
	json_decref(obj);
	json_decref(arr);
}

static void test_binary_to_msgpack_and_back(void **state)
{
	struct wamp_msg m, back;
	struct wamp_out *o, *o2;
	enum wampd_err err;
	char why[100];

	(void)state;
	/* bytes 01 02 03 ff */
	assert_int_equal(dec("[48, 1, {\"x\": \"\\u0000AQID/w==\"}, \"com.p\", [\"\\u0000AQID/w==\", \"plain\"]]",
	                     &m), WAMPD_OK);
	o = wamp_encode(WAMP_SER_MSGPACK, &m, &err);
	assert_non_null(o);
	assert_true(o->binary);
	/* ... [bin 01 02 03 ff, "plain"] */
	assert_non_null(memmem(wamp_out_data(o), o->len, "\x92\xc4\x04\x01\x02\x03\xff\xa5plain", 12));
	assert_non_null(memmem(wamp_out_data(o), o->len, "\xa1x\xc4\x04\x01\x02\x03\xff", 8));
	assert_int_equal(wamp_decode(WAMP_SER_MSGPACK, wamp_out_data(o), o->len, NULL, &back, why,
	                             sizeof(why)), WAMPD_OK);
	o2 = wamp_encode(WAMP_SER_JSON, &back, &err);
	assert_non_null(memmem(wamp_out_data(o2), o2->len, "[\"\\u0000AQID/w==\",\"plain\"]", 26));
	wamp_out_unref(o);
	wamp_out_unref(o2);
	wamp_msg_clear(&m);
	wamp_msg_clear(&back);
}

/* One transparent binary Payload in the "\u0000"+base64 form; invalid base64 is no binary
 * (a fuzz finding: it was taken for one and could not be converted to MessagePack). */
static void test_transparent_binary_payload(void **state)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	assert_int_equal(dec("[70, 3, {}, \"\\u0000AQID/w==\"]", &m), WAMPD_OK);
	assert_true(m.payload.transparent);
	o = wamp_encode(WAMP_SER_MSGPACK, &m, &err);
	assert_non_null(o);
	assert_non_null(memmem(wamp_out_data(o), o->len, "\xc4\x04\x01\x02\x03\xff", 6));
	wamp_out_unref(o);
	wamp_msg_clear(&m);
	reject("[70, 3, {}, \"\\u0000c\"]");        /* not base64 */
	reject("[70, 3, {}, \"\\u0000AQID/w\"]");   /* unpadded */
	reject("[70, 3, {}, \"\\u0000AQ==\", {}]"); /* nothing may follow it */
}

static void test_payload_values_and_args_inserted(void **state)
{
	struct wamp_msg m = {.type = WAMP_RESULT, .id = {5}};
	struct wamp_out *o;
	enum wampd_err err;

	(void)state;
	m.payload.kwargs_v = json_pack("{s:i}", "a", 1);
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	/* kwargs without args: an empty args list is written first */
	assert_int_equal(o->len, strlen("[50,5,{},[],{\"a\":1}]"));
	assert_memory_equal(wamp_out_data(o), "[50,5,{},[],{\"a\":1}]", o->len);
	wamp_out_unref(o);
	json_decref(m.payload.kwargs_v);
}

static void test_malformed(void **state)
{
	char deep_ok[300], deep_bad[300];

	(void)state;
	reject("");
	reject("{}");
	reject("[]");
	reject("[48, 1, {}, \"com.p\"");           /* truncated */
	reject("[48, 1, {}, \"com.p\"] x");        /* trailing garbage */
	reject("[48, 1, {}, \"com.p\"],");
	reject("[999, 1]");                         /* unknown type */
	reject("[\"48\", 1, {}, \"com.p\"]");
	reject("[48, 1, {}]");                      /* arity */
	reject("[48, 1, {}, \"p\", [], {}, 1]");
	reject("[48, \"1\", {}, \"com.p\"]");       /* wrong field types */
	reject("[48, 1, [], \"com.p\"]");
	reject("[48, 1, {}, 5]");
	reject("[48, 1, {}, \"p\", {}]");           /* args must be a list */
	reject("[48, 1, {}, \"p\", [], []]");       /* kwargs must be a dict */
	reject("[48, 0, {}, \"com.p\"]");           /* id 0 */
	reject("[48, 9007199254740993, {}, \"com.p\"]"); /* 2^53 + 1 */
	reject("[48, -1, {}, \"com.p\"]");
	reject("[48, 1.0, {}, \"com.p\"]");
	reject("[48, 1e3, {}, \"com.p\"]");
	reject("[48, 01, {}, \"com.p\"]");
	reject("[48, 1, {}, \"com\xff\"]");         /* invalid UTF-8 */
	reject("[48, 1, {}, \"com\xc0\xaf\"]");     /* overlong */
	reject("[48, 1, {}, \"\xed\xa0\x80\"]");    /* UTF-8 surrogate */
	reject("[48, 1, {}, \"\\ud800\"]");         /* lone surrogate escape */
	reject("[48, 1, {}, \"\\udc00x\"]");
	reject("[48, 1, {}, \"a\tb\"]");            /* raw control character */
	reject("[48, 1, {}, \"\\x\"]");             /* bad escape */
	reject("[48, 1, {}, \"p\", [tru]]");
	reject("[48, 1, {}, \"p\", [1.]]");
	reject("[48, 1, {}, \"p\", [-]]");
	reject("[48, 1, {1: 2}, \"p\"]");           /* non-string key */
	reject("[48, 1, {\"a\" 2}, \"p\"]");
	reject("[48,, 1]");
	reject("[7]");                              /* ACK: exactly one count */
	reject("[7, 1, 2]");
	reject("[7, -1]");
	reject("[7, 9007199254740993]");
	reject("[7, \"1\"]");
	/* depth: 64 levels (the message array is 1) pass, 65 fail */
	strcpy(deep_ok, "[48, 1, {}, \"p\", ");
	strcpy(deep_bad, deep_ok);
	for (int i = 0; i < 63; i++)
		strcat(deep_ok, "[");
	for (int i = 0; i < 63; i++)
		strcat(deep_ok, "]");
	strcat(deep_ok, "]");
	for (int i = 0; i < 64; i++)
		strcat(deep_bad, "[");
	for (int i = 0; i < 64; i++)
		strcat(deep_bad, "]");
	strcat(deep_bad, "]");
	struct wamp_msg m;
	assert_int_equal(dec(deep_ok, &m), WAMPD_OK);
	wamp_msg_clear(&m);
	reject(deep_bad);
}

static void test_validate_options(void **state)
{
	struct wamp_msg m;
	char why[160];

	(void)state;
	assert_int_equal(dec("[48, 1, {\"timeout\": -5}, \"com.p\"]", &m), WAMPD_OK);
	assert_int_equal(wamp_validate(&m, why, sizeof(why)), WAMPD_ERR_PROTOCOL);
	assert_non_null(strstr(why, "CALL.Options.timeout"));
	wamp_msg_clear(&m);
	assert_int_equal(dec("[64, 1, {\"invoke\": \"sometimes\"}, \"com.p\"]", &m), WAMPD_OK);
	assert_int_equal(wamp_validate(&m, why, sizeof(why)), WAMPD_ERR_PROTOCOL);
	wamp_msg_clear(&m);
	assert_int_equal(dec("[64, 1, {\"x_custom\": [1]}, \"com.p\"]", &m), WAMPD_OK);
	assert_int_equal(wamp_validate(&m, why, sizeof(why)), WAMPD_OK); /* unknown keys pass */
	wamp_msg_clear(&m);
}

/* JSON has no NaN/Infinity, but a literal may overflow a double (jansson refuses it, so it
 * could not reach MessagePack or CBOR peers): refused as a request, exactly at the edge. */
static void test_nonfinite_numbers(void **state)
{
	(void)state;
	assert_true(payload_nonfinite("[16, 1, {}, \"t\", [1e999]]"));
	assert_true(payload_nonfinite("[16, 1, {}, \"t\", [], {\"x\": [-1E+309]}]"));
	assert_true(payload_nonfinite("[48, 1, {}, \"p\", [1.7976931348623159e308]]"));
	assert_true(payload_nonfinite("[70, 1, {}, [0.0001e313]]"));
	assert_false(payload_nonfinite("[48, 1, {}, \"p\", [1.7976931348623157e308, -1e308]]"));
	assert_false(payload_nonfinite("[48, 1, {}, \"p\", [0.0000001e315, 1e-999, 1.5, 0]]"));
	assert_false(payload_nonfinite("[48, 1, {}, \"p\", [1000000000000000000000000000000]]"));
	/* in WAMP's own dict: a malformed message */
	reject("[16, 1, {\"x_v\": 1e999}, \"t\"]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_every_type),
		cmocka_unit_test(test_spans_and_fast_path),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_value_writer_matches_jansson),
		cmocka_unit_test(test_binary_to_msgpack_and_back),
		cmocka_unit_test(test_transparent_binary_payload),
		cmocka_unit_test(test_payload_values_and_args_inserted),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_validate_options),
		cmocka_unit_test(test_nonfinite_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
