/*
 * serializer.c - the serializer descriptor table (see serializer.h) and its lookups.
 *
 * One constant row per serializer, indexed by enum wamp_ser. A row's codec is there only
 * when the build has it: CBOR needs libcbor (WAMPD_HAVE_CBOR), and a trimmed build (the
 * client library's smallest, client/CMakeLists.txt) may leave out JSON (WAMPD_WITHOUT_JSON)
 * or MessagePack (WAMPD_WITHOUT_MSGPACK); the other facts of the row stay, so a log can
 * still name what a peer asked for. The lookups walk the three rows (no hashing: three
 * string compares, done once per connection or configuration entry, never per message).
 */
#include "serializers/codec_internal.h"

#include <string.h>

#ifndef WAMPD_WITHOUT_JSON
static const struct wamp_codec_ops js_ops = {js_decode, js_encode, js_span_value};
#define JS_OPS (&js_ops)
#else
#define JS_OPS NULL
#endif

#ifndef WAMPD_WITHOUT_MSGPACK
static json_t *mp_element_value(const uint8_t *p, size_t n)
{
	return mp_span_value(p, n, false);
}
static const struct wamp_codec_ops mp_ops = {mp_decode, mp_encode, mp_element_value};
#define MP_OPS (&mp_ops)
#else
#define MP_OPS NULL
#endif

#ifdef WAMPD_HAVE_CBOR
static const struct wamp_codec_ops cb_ops = {cb_decode, cb_encode, cb_span_value};
#define CB_OPS (&cb_ops)
#else
#define CB_OPS NULL
#endif

const struct wamp_serializer_desc wamp_serializers[WAMP_SER__COUNT] = {
	[WAMP_SER_JSON] = {WAMP_SER_JSON, "json", "wamp.2.json", "wamp.2.json.batched", 1, false,
	                   "application/json", "application/json; charset=utf-8", JS_OPS},
	[WAMP_SER_MSGPACK] = {WAMP_SER_MSGPACK, "msgpack", "wamp.2.msgpack",
	                      "wamp.2.msgpack.batched", 2, true, "application/x-msgpack",
	                      "application/x-msgpack", MP_OPS},
	[WAMP_SER_CBOR] = {WAMP_SER_CBOR, "cbor", "wamp.2.cbor", "wamp.2.cbor.batched", 3, true,
	                   "application/cbor", "application/cbor", CB_OPS},
};

/* The row i if its serializer is built in, else NULL. */
static const struct wamp_serializer_desc *served(int i)
{
	return wamp_serializers[i].codec ? &wamp_serializers[i] : NULL;
}

const struct wamp_serializer_desc *wamp_ser_by_name(const char *name)
{
	for (int i = 0; i < WAMP_SER__COUNT; i++)
		if (!strcmp(name, wamp_serializers[i].name))
			return served(i);
	return NULL;
}

/* true if s[0..n) is exactly the NUL-terminated p */
static bool span_is(const char *s, size_t n, const char *p)
{
	return strlen(p) == n && !memcmp(s, p, n);
}

const struct wamp_serializer_desc *wamp_ser_by_subprotocol(const char *s, size_t n,
                                                           bool *batched)
{
	for (int i = 0; i < WAMP_SER__COUNT; i++) {
		bool b = span_is(s, n, wamp_serializers[i].subprotocol_batched);

		if (b || span_is(s, n, wamp_serializers[i].subprotocol)) {
			if (batched)
				*batched = b;
			return served(i);
		}
	}
	return NULL;
}

const struct wamp_serializer_desc *wamp_ser_by_rawsocket_id(unsigned id)
{
	for (int i = 0; i < WAMP_SER__COUNT; i++)
		if (wamp_serializers[i].rawsocket_id == id)
			return served(i);
	return NULL;
}

unsigned wamp_ser_supported_set(void)
{
	unsigned set = 0;

	for (int i = 0; i < WAMP_SER__COUNT; i++)
		if (served(i))
			set |= 1u << i;
	return set;
}
