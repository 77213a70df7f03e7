/*
 * test_codec_cbor.c - the CBOR codec: byte-identical round trips with payload spans kept,
 * byte strings <-> msgpack bin <-> JSON "\0"+base64, `undefined` dropped from dicts,
 * indefinite lengths, tags, integral float ids, negative integers, and rejection of
 * malformed input (truncation, reserved additional information, stray breaks, invalid
 * UTF-8, non-text map keys, excessive nesting, lying counts).
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

#define CB(s) ((const uint8_t *)(s)), (sizeof(s) - 1)
#define dec(...) codec_dec(WAMP_SER_CBOR, __VA_ARGS__)
#define reject(...) codec_reject(WAMP_SER_CBOR, __VA_ARGS__)
#define payload_nonfinite(...) codec_payload_nonfinite(WAMP_SER_CBOR, __VA_ARGS__)

/* Encode m in ser and compare with the expected bytes. */
static void encodes_to(const struct wamp_msg *m, enum wamp_ser ser, const void *exp, size_t n)
{
	enum wampd_err err;
	struct wamp_out *o = wamp_encode(ser, m, &err);

	assert_non_null(o);
	if (o->len != n || memcmp(wamp_out_data(o), exp, n)) {
		fprintf(stderr, "got %zu bytes: ", o->len);
		for (size_t i = 0; i < o->len; i++)
			fprintf(stderr, "%02x", wamp_out_data(o)[i]);
		fprintf(stderr, "\n");
		fail_msg("%s encoding differs", wamp_ser_name(ser));
	}
	wamp_out_unref(o);
}

#define encodes_to_json(m, text) encodes_to((m), WAMP_SER_JSON, (text), strlen(text))

static void test_supported(void **state)
{
	(void)state;
	assert_true(wamp_ser_supported(WAMP_SER_CBOR));
	assert_ptr_equal(wamp_ser_by_name("cbor"), wamp_ser_desc(WAMP_SER_CBOR));
}

static void test_call_roundtrip(void **state)
{
	/* [48, 1, {}, "com.p", [1, "a"], {"k": true}] */
	static const uint8_t in[] = "\x86\x18\x30\x01\xa0\x65" "com.p" "\x82\x01\x61" "a"
	                            "\xa1\x61k\xf5";
	struct wamp_msg m;

	(void)state;
	assert_int_equal(dec(in, sizeof(in) - 1, &m), WAMPD_OK);
	assert_int_equal(m.type, WAMP_CALL);
	assert_int_equal(m.id[0], 1);
	assert_string_equal(m.uri, "com.p");
	assert_null(m.dict);
	assert_ptr_equal(m.payload.args, in + 11); /* the payload stays as its bytes */
	assert_int_equal(m.payload.args_len, 4);
	assert_int_equal(m.payload.kwargs_len, 4);
	encodes_to(&m, WAMP_SER_CBOR, in, sizeof(in) - 1);
	encodes_to_json(&m, "[48,1,{},\"com.p\",[1,\"a\"],{\"k\":true}]");
	wamp_msg_clear(&m);
}

static void test_binary_across_serializers(void **state)
{
	/* [16, 2, {}, "t", [h'00ff']] */
	static const uint8_t in[] = "\x85\x10\x02\xa0\x61t\x81\x42\x00\xff";
	struct wamp_msg m, j;
	enum wampd_err err;
	struct wamp_out *o;

	(void)state;
	assert_int_equal(dec(in, sizeof(in) - 1, &m), WAMPD_OK);
	encodes_to_json(&m, "[16,2,{},\"t\",[\"\\u0000AP8=\"]]");
	encodes_to(&m, WAMP_SER_MSGPACK, "\x95\x10\x02\x80\xa1t\x91\xc4\x02\x00\xff", 11);
	/* and back: JSON's form becomes a CBOR byte string again */
	o = wamp_encode(WAMP_SER_JSON, &m, &err);
	assert_int_equal(wamp_decode(WAMP_SER_JSON, wamp_out_data(o), o->len, NULL, &j, NULL, 0),
	                 WAMPD_OK);
	encodes_to(&j, WAMP_SER_CBOR, in, sizeof(in) - 1);
	wamp_msg_clear(&j);
	wamp_out_unref(o);
	wamp_msg_clear(&m);
}

static void test_transparent_binary_payload(void **state)
{
	/* [16, 2, {}, "t", h'01'] : one binary Payload (payload passthru mode) */
	struct wamp_msg m;

	(void)state;
	assert_int_equal(dec(CB("\x85\x10\x02\xa0\x61t\x41\x01"), &m), WAMPD_OK);
	assert_true(m.payload.transparent);
	encodes_to(&m, WAMP_SER_MSGPACK, "\x95\x10\x02\x80\xa1t\xc4\x01\x01", 9);
	wamp_msg_clear(&m);
	reject(CB("\x86\x10\x02\xa0\x61t\x41\x01\xa0"), "binary Payload followed by kwargs");
}

static void test_undefined_dropped_and_tags(void **state)
{
	/* [32, 1, {"match": "prefix", "x": undefined}, "a."] with a tag (0) on the URI */
	struct wamp_msg m;

	(void)state;
	assert_int_equal(dec(CB("\x84\x18\x20\x01\xa2\x65match\x66prefix\x61x\xf7\x62" "a."), &m),
	                 WAMPD_OK);
	assert_int_equal(json_object_size(m.dict), 1);
	assert_string_equal(json_string_value(json_object_get(m.dict, "match")), "prefix");
	wamp_msg_clear(&m);
	/* tags inside a payload: the tagged value is kept, the tag dropped */
	assert_int_equal(dec(CB("\x85\x10\x02\xa0\x61t\x81\xc1\x1a\x00\x00\x00\x05"), &m), WAMPD_OK);
	encodes_to_json(&m, "[16,2,{},\"t\",[5]]");
	wamp_msg_clear(&m);
}

static void test_indefinite_lengths(void **state)
{
	/* [_ 16, 3, {_ }, (_ "co", "m.t"), [_ -1, -300]] */
	static const uint8_t in[] = "\x9f\x10\x03\xbf\xff\x7f\x62" "co" "\x63" "m.t" "\xff"
	                            "\x9f\x20\x39\x01\x2b\xff\xff";
	struct wamp_msg m;

	(void)state;
	assert_int_equal(dec(in, sizeof(in) - 1, &m), WAMPD_OK);
	assert_int_equal(m.type, WAMP_PUBLISH);
	assert_string_equal(m.uri, "com.t");
	encodes_to_json(&m, "[16,3,{},\"com.t\",[-1,-300]]");
	wamp_msg_clear(&m);
}

static void test_ids(void **state)
{
	struct wamp_msg m;

	(void)state;
	/* 2^53 as uint64, and as an integral double */
	assert_int_equal(dec(CB("\x83\x11\x1b\x00\x20\x00\x00\x00\x00\x00\x00\x01"), &m), WAMPD_OK);
	assert_int_equal(m.id[0], UINT64_C(1) << 53);
	wamp_msg_clear(&m);
	assert_int_equal(dec(CB("\x83\x11\xfb\x43\x40\x00\x00\x00\x00\x00\x00\x01"), &m), WAMPD_OK);
	assert_int_equal(m.id[0], UINT64_C(1) << 53);
	wamp_msg_clear(&m);
	reject(CB("\x83\x11\x1b\x00\x20\x00\x00\x00\x00\x00\x01\x01"), "id > 2^53");
	reject(CB("\x83\x11\x00\x01"), "id 0");
	reject(CB("\x83\x11\x20\x01"), "negative id");
	reject(CB("\x83\x11\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00\x01"), "id 1.5");
	reject(CB("\x85\x08\x19\x0f\xf8\x04\xa0\x61x"), "ERROR for an unknown request type");
}

static void test_malformed(void **state)
{
	(void)state;
	reject(CB(""), "empty");
	reject(CB("\x80"), "empty array");
	reject(CB("\xa0"), "not an array");
	reject(CB("\x83\x11\x01"), "truncated array");
	reject(CB("\x83\x11\x01\x01\x00"), "trailing bytes");
	reject(CB("\x83\x11\x1c\x01"), "reserved additional information");
	reject(CB("\x83\x11\xff\x01"), "break outside an indefinite item");
	reject(CB("\x84\x18\x20\x01\xa0\x62\xc3\x28"), "invalid UTF-8 URI");
	reject(CB("\x84\x18\x20\x01\xa1\x01\x02\x61t"), "integer map key in options");
	reject(CB("\x84\x18\x20\x01\xa1\x62\x61\x00\x01\x61t"), "NUL in an options key");
	reject(CB("\x85\x10\x02\xa0\x61t\x9b\xff\xff\xff\xff\xff\xff\xff\xff"), "lying count");
	reject(CB("\x85\x10\x02\xa0\x61t\x5a\x7f\xff\xff\xff"), "huge byte string");
	reject(CB("\x84\x18\x20\x01\xa0\x7f\x41x\xff"), "byte chunk in a text string");
	reject(CB("\x83\x11\x01\xf8\x10"), "invalid simple value");
	reject(CB("\x85\x10\x02\xa0\x61t\xa0"), "Arguments not a list");
	{
		/* nesting: [16, 1, {}, "t", [[[[...]]]]] 100 deep */
		uint8_t deep[120] = "\x85\x10\x01\xa0\x61t";
		size_t n = 6;

		for (int i = 0; i < 100; i++)
			deep[n++] = 0x81;
		deep[n++] = 0x01;
		reject(deep, n, "nested too deeply");
	}
}

/* The schema walk's reasons in CBOR's words (see test_codec_msgpack.c for the others). */
#define expect_reason(...) codec_expect_reason(WAMP_SER_CBOR, __VA_ARGS__)

static void test_field_reasons(void **state)
{
	(void)state;
	expect_reason(CB("\x84\x18\x30\x01\xa0\x05"), "CALL: element 3 must be a string");
	expect_reason(CB("\x83\x01\x61r\xa1\x01\x01"),
	              "HELLO: element 2: a dict needs text keys (without NUL)");
	expect_reason(CB("\x86\x18\x30\x01\xa0\x61" "a" "\x41\x00\xa0"),
	              "CALL: nothing may follow a binary Payload");
	expect_reason(CB("\x85\x18\x30\x01\xa0\x61" "a" "\xa0"), "CALL: Arguments must be a list");
}

/* The three codecs count nesting alike (a fuzzer found CBOR one level stricter: a message
 * MessagePack accepted could not be passed on to a CBOR peer): [69, 1, {"k": [...[110]...]}]
 * with n nested arrays, in every serializer, is accepted by all or by none. */
static void test_depth_limit_agrees(void **state)
{
	(void)state;
	for (int n = 56; n < 70; n++) {
		uint8_t mp[160], cb[160];
		char js[200];
		size_t k = 0, c = 0, j = 0;
		int ok[3];
		struct wamp_msg m;
		char why[160];

		memcpy(mp, "\x93\x45\x01\x81\xa1k", 6), k = 6;
		memcpy(cb, "\x83\x18\x45\x01\xa1\x61k", 7), c = 7;
		j = (size_t)snprintf(js, sizeof(js), "[69,1,{\"k\":");
		for (int i = 0; i < n; i++) {
			mp[k++] = 0x91;
			cb[c++] = 0x81;
			js[j++] = '[';
		}
		mp[k++] = 0x6e;
		cb[c++] = 0x18;
		cb[c++] = 0x6e;
		j += (size_t)snprintf(js + j, sizeof(js) - j, "110");
		for (int i = 0; i < n; i++)
			js[j++] = ']';
		j += (size_t)snprintf(js + j, sizeof(js) - j, "}]");
		ok[0] = wamp_decode(WAMP_SER_JSON, (const uint8_t *)js, j, NULL, &m, why, sizeof(why)) ==
		        WAMPD_OK;
		if (ok[0])
			wamp_msg_clear(&m);
		ok[1] = wamp_decode(WAMP_SER_MSGPACK, mp, k, NULL, &m, why, sizeof(why)) == WAMPD_OK;
		if (ok[1])
			wamp_msg_clear(&m);
		ok[2] = wamp_decode(WAMP_SER_CBOR, cb, c, NULL, &m, why, sizeof(why)) == WAMPD_OK;
		if (ok[2])
			wamp_msg_clear(&m);
		if (ok[0] != ok[1] || ok[1] != ok[2])
			fail_msg("nesting %d: json %d msgpack %d cbor %d", n, ok[0], ok[1], ok[2]);
	}
}

/* NaN and +-Infinity as half, single and double floats: refused as a request wherever they
 * are in the payload (JSON cannot carry them); finite extremes pass. */
static void test_nonfinite_numbers(void **state)
{
	(void)state;
	/* [16, 1, {}, "t", [NaN]] half (f9 7e00) */
	assert_true(payload_nonfinite(CB("\x85\x10\x01\xa0\x61t\x81\xf9\x7e\x00")));
	/* [48, 1, {}, "p", [], {"x": [-Infinity]}] single (fa ff80 0000) */
	assert_true(payload_nonfinite(CB("\x86\x18\x30\x01\xa0\x61p\x80\xa1\x61x\x81\xfa\xff\x80\0\0")));
	/* [70, 1, {}, [Infinity]] double (fb 7ff0...) inside a tag */
	assert_true(payload_nonfinite(CB("\x84\x18\x46\x01\xa0\x81\xc1\xfb\x7f\xf0\0\0\0\0\0\0")));
	/* finite: half max (7bff), single max (7f7fffff), double max (7fefffffffffffff) */
	assert_false(payload_nonfinite(CB("\x85\x18\x30\x01\xa0\x61p\x83\xf9\x7b\xff\xfa\x7f\x7f\xff\xff"
	                                  "\xfb\x7f\xef\xff\xff\xff\xff\xff\xff")));
	/* in WAMP's own dict: a malformed message */
	reject(CB("\x84\x10\x01\xa1\x63x_v\xf9\x7c\x00\x61t"), "Infinity in Options");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_call_roundtrip),
		cmocka_unit_test(test_binary_across_serializers),
		cmocka_unit_test(test_transparent_binary_payload),
		cmocka_unit_test(test_undefined_dropped_and_tags),
		cmocka_unit_test(test_indefinite_lengths),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_field_reasons),
		cmocka_unit_test(test_depth_limit_agrees),
		cmocka_unit_test(test_nonfinite_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
