/*
 * fuzz_validate.c - libFuzzer target for message validation: arity, field types, id
 * ranges (decode), Options/Details key types (wamp_validate) and the URI rules (realm/uri).
 *
 * Input: byte 0 chooses the serializer (bit 0); the rest is a message. Every decoded URI
 * is checked under both rules, with and without empty components (patterns); the answer
 * must not depend on anything but the bytes (asked twice), and a URI valid under the
 * strict rule must be valid under the loose one.
 */
#include <stdint.h>
#include <stdlib.h>

#include "realm/uri.h"
#include "serializers/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wamp_msg m;
	char why[128];
	enum wamp_ser ser;

	if (size < 1)
		return 0;
	ser = (data[0] & 1) ? WAMP_SER_MSGPACK : WAMP_SER_JSON;
	if (wamp_decode(ser, data + 1, size - 1, NULL, &m, why, sizeof(why)) != WAMPD_OK)
		return 0;
	(void)wamp_validate(&m, why, sizeof(why));
	if (m.uri) {
		for (unsigned flags = 0; flags <= URI_ALLOW_EMPTY; flags += URI_ALLOW_EMPTY) {
			bool strict = uri_valid(m.uri, m.uri_len, URI_STRICT, flags);
			bool loose = uri_valid(m.uri, m.uri_len, URI_LOOSE, flags);

			if (strict != uri_valid(m.uri, m.uri_len, URI_STRICT, flags))
				abort();
			if (strict && !loose)
				abort();
		}
		(void)uri_reserved(m.uri, m.uri_len);
	}
	wamp_msg_clear(&m);
	return 0;
}
