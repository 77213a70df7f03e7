/*
 * test_serializer.c - the serializer descriptor table (serializers/serializer.h): every row
 * is its enum's, the wire facts are the spec's (subprotocols, RawSocket ids, frame types),
 * the lookups find exactly the rows this build serves and refuse near misses (prefixes,
 * another case, a trailing NUL, an id out of range), and WAMP_SER_SUBPROTOCOLS lists the
 * table's subprotocols.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "serializers/codec.h"
#include "serializers/rawsocket.h"

/* by_subprotocol on a NUL-terminated string */
static const struct wamp_serializer_desc *by_sub(const char *s, bool *batched)
{
	return wamp_ser_by_subprotocol(s, strlen(s), batched);
}

static void test_rows(void **state)
{
	static const struct {
		const char *name, *sub, *sub_batched;
		unsigned id;
		bool binary;
	} spec[WAMP_SER__COUNT] = {
		[WAMP_SER_JSON] = {"json", "wamp.2.json", "wamp.2.json.batched", 1, false},
		[WAMP_SER_MSGPACK] = {"msgpack", "wamp.2.msgpack", "wamp.2.msgpack.batched", 2, true},
		[WAMP_SER_CBOR] = {"cbor", "wamp.2.cbor", "wamp.2.cbor.batched", 3, true},
	};

	(void)state;
	for (int i = 0; i < WAMP_SER__COUNT; i++) {
		const struct wamp_serializer_desc *d = wamp_ser_desc((enum wamp_ser)i);

		assert_ptr_equal(d, &wamp_serializers[i]);
		assert_int_equal(d->ser, i);
		assert_string_equal(d->name, spec[i].name);
		assert_string_equal(wamp_ser_name((enum wamp_ser)i), spec[i].name);
		assert_string_equal(d->subprotocol, spec[i].sub);
		assert_string_equal(d->subprotocol_batched, spec[i].sub_batched);
		assert_int_equal(d->rawsocket_id, spec[i].id);
		assert_int_equal(d->binary, spec[i].binary);
		assert_int_equal(wamp_ser_is_binary((enum wamp_ser)i), spec[i].binary);
		assert_non_null(d->media_type);
		/* the Content-Type is the media type, with parameters at most */
		assert_memory_equal(d->content_type, d->media_type, strlen(d->media_type));
	}
	assert_string_equal(wamp_serializers[WAMP_SER_JSON].content_type,
	                    "application/json; charset=utf-8");
	assert_string_equal(wamp_serializers[WAMP_SER_MSGPACK].content_type,
	                    "application/x-msgpack");
	assert_string_equal(wamp_serializers[WAMP_SER_CBOR].content_type, "application/cbor");
	assert_null(wamp_ser_desc(WAMP_SER__COUNT));
	assert_string_equal(wamp_ser_name(WAMP_SER__COUNT), "unknown");
	assert_false(wamp_ser_supported(WAMP_SER__COUNT));
}

static void test_supported(void **state)
{
	unsigned set = wamp_ser_supported_set();

	(void)state;
	/* the router's build has JSON and MessagePack, CBOR with libcbor */
	assert_true(set & 1u << WAMP_SER_JSON);
	assert_true(set & 1u << WAMP_SER_MSGPACK);
	for (int i = 0; i < WAMP_SER__COUNT; i++) {
		const struct wamp_serializer_desc *d = &wamp_serializers[i];
		bool on = (set >> i) & 1;

		assert_int_equal(wamp_ser_supported(d->ser), on);
		assert_int_equal(d->codec != NULL, on);
		/* every lookup finds a served row, and none finds one not built in */
		assert_ptr_equal(wamp_ser_by_name(d->name), on ? d : NULL);
		assert_ptr_equal(by_sub(d->subprotocol, NULL), on ? d : NULL);
		assert_ptr_equal(by_sub(d->subprotocol_batched, NULL), on ? d : NULL);
		assert_ptr_equal(wamp_ser_by_rawsocket_id(d->rawsocket_id), on ? d : NULL);
	}
	assert_int_equal(set >> WAMP_SER__COUNT, 0);
}

static void test_lookups(void **state)
{
	bool batched = true;

	(void)state;
	assert_ptr_equal(by_sub("wamp.2.json", &batched), wamp_ser_desc(WAMP_SER_JSON));
	assert_false(batched);
	assert_ptr_equal(by_sub("wamp.2.msgpack.batched", &batched),
	                 wamp_ser_desc(WAMP_SER_MSGPACK));
	assert_true(batched);
	/* exact matches only: the span's length counts, so do case and a NUL */
	assert_ptr_equal(wamp_ser_by_subprotocol("wamp.2.jsonx", 11, NULL),
	                 wamp_ser_desc(WAMP_SER_JSON));
	assert_null(wamp_ser_by_subprotocol("wamp.2.json\0", 12, NULL));
	assert_null(wamp_ser_by_subprotocol("wamp.2.json", 10, NULL));
	assert_null(by_sub("wamp.2.jsonx", NULL));
	assert_null(by_sub("wamp.2.JSON", NULL));
	assert_null(by_sub("WAMP.2.json", NULL));
	assert_null(by_sub("wamp.1.json", NULL));
	assert_null(by_sub("wamp.2.", NULL));
	assert_null(by_sub("wamp.2.batched", NULL));
	assert_null(by_sub("wamp.2..batched", NULL));
	assert_null(by_sub("wamp.2.json.batched.batched", NULL));
	assert_null(by_sub("json", NULL));
	assert_null(wamp_ser_by_subprotocol("", 0, NULL));
	assert_null(wamp_ser_by_name("JSON"));
	assert_null(wamp_ser_by_name("wamp.2.json"));
	assert_null(wamp_ser_by_name(""));
	assert_null(wamp_ser_by_name("xml"));
	for (unsigned id = 0; id < 256; id++)
		if (id < 1 || id > 3)
			assert_null(wamp_ser_by_rawsocket_id(id));
}

/* WAMP_SER_SUBPROTOCOLS, the refusals' list, is the table's */
static void test_subprotocol_list(void **state)
{
	char list[128] = "";

	(void)state;
	for (int i = 0; i < WAMP_SER__COUNT; i++) {
		if (i)
			strcat(list, ", ");
		strcat(list, wamp_serializers[i].subprotocol);
	}
	assert_string_equal(WAMP_SER_SUBPROTOCOLS, list);
}

/* The RawSocket handshake speaks the table's ids, both ways. */
static void test_rawsocket_ids(void **state)
{
	(void)state;
	for (int i = 0; i < WAMP_SER__COUNT; i++) {
		const struct wamp_serializer_desc *d = &wamp_serializers[i];
		uint8_t hello[4], reply[4];
		enum wamp_ser got = WAMP_SER__COUNT;
		uint32_t peer_max = 0;

		if (!d->codec)
			continue;
		rs_client_hello(hello, d->ser, 1u << 16);
		assert_int_equal(hello[1] & 0x0f, d->rawsocket_id);
		assert_int_equal(rs_handshake(hello, wamp_ser_supported_set(), 1u << 20, reply, &got,
		                              &peer_max),
		                 RS_OK);
		assert_int_equal(got, d->ser);
		assert_int_equal(reply[1] & 0x0f, d->rawsocket_id);
		assert_int_equal(rs_client_reply(reply, d->ser, &peer_max), RS_OK);
		/* a listener without it refuses it */
		assert_int_equal(rs_handshake(hello, wamp_ser_supported_set() & ~(1u << d->ser),
		                              1u << 20, reply, &got, &peer_max),
		                 RS_ERR_SERIALIZER);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_supported),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_subprotocol_list),
		cmocka_unit_test(test_rawsocket_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
