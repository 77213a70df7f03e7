/*
 * fuzz_decode.c - libFuzzer target for one codec (built once per serializer: FUZZ_SER =
 * WAMP_SER_JSON for fuzz_json, WAMP_SER_MSGPACK for fuzz_msgpack, WAMP_SER_CBOR for
 * fuzz_cbor).
 *
 * Input: one message's bytes. Invariants checked (a violation aborts, which the fuzzer
 * reports as a crash):
 *   - decoding never crashes, leaks, or reads out of bounds (ASan/UBSan);
 *   - a message that decodes is re-encoded in the same serializer, and that re-encoding
 *     decodes again to the same type, ids and URI;
 *   - if it also encodes in another serializer, that encoding decodes too (a JSON
 *     caller's message must reach a MessagePack or CBOR callee intact).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serializers/codec.h"

#ifndef FUZZ_SER
#define FUZZ_SER WAMP_SER_JSON
#endif

static void check_roundtrip(enum wamp_ser ser, const struct wamp_msg *m)
{
	enum wampd_err err;
	struct wamp_out *o = wamp_encode(ser, m, &err);
	struct wamp_msg back;

	if (!o) {
		/* only a payload that the other serializer cannot represent may refuse */
		if (ser == FUZZ_SER || err != WAMPD_ERR_SERIALIZATION)
			abort();
		return;
	}
	if (wamp_decode(ser, wamp_out_data(o), o->len, NULL, &back, NULL, 0) != WAMPD_OK)
		abort();
	if (back.type != m->type || memcmp(back.id, m->id, sizeof(back.id)) ||
	    back.uri_len != m->uri_len || (m->uri && memcmp(back.uri, m->uri, m->uri_len)))
		abort();
	wamp_msg_clear(&back);
	wamp_out_unref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wamp_msg m;
	char why[128];

	if (wamp_decode(FUZZ_SER, data, size, NULL, &m, why, sizeof(why)) != WAMPD_OK)
		return 0;
	(void)wamp_validate(&m, why, sizeof(why));
	check_roundtrip(FUZZ_SER, &m);
	for (int to = 0; to < WAMP_SER__COUNT; to++)
		if (to != (int)FUZZ_SER && wamp_ser_supported((enum wamp_ser)to))
			check_roundtrip((enum wamp_ser)to, &m);
	wamp_msg_clear(&m);
	return 0;
}
