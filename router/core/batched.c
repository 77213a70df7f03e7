/*
 * batched.c - splitting and building batched WebSocket messages (see batched.h).
 *
 * JSON text cannot contain a raw control character (they must be escaped in strings), so
 * a JSON batch is split at every separator; binary batches are walked length by length, each
 * length checked against the bytes left before it is trusted. Which framing a serializer
 * uses is its frame type in the serializer descriptor table (text: separators).
 */
#include "router/core/batched.h"

#include <string.h>

uint8_t batch_json_separator(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] == BATCH_SEP_SPEC || buf[i] == BATCH_SEP_AUTOBAHN)
			return buf[i];
	return 0;
}

enum batch_result batch_split(enum wamp_ser ser, uint8_t sep, const uint8_t *buf, size_t len,
                              batch_msg_fn fn, void *ctx)
{
	size_t off = 0;

	if (!len)
		return BATCH_EMPTY;
	while (off < len) {
		const uint8_t *msg;
		size_t n;

		if (!wamp_ser_is_binary(ser)) {
			const uint8_t *end = memchr(buf + off, sep, len - off);

			if (!end)
				return BATCH_MALFORMED;
			msg = buf + off;
			n = (size_t)(end - msg);
			off += n + 1;
		} else {
			if (len - off < 4)
				return BATCH_MALFORMED;
			n = (size_t)buf[off] << 24 | (size_t)buf[off + 1] << 16 |
			    (size_t)buf[off + 2] << 8 | buf[off + 3];
			if (n > len - off - 4)
				return BATCH_MALFORMED;
			msg = buf + off + 4;
			off += 4 + n;
		}
		if (!fn(ctx, msg, n))
			return BATCH_STOPPED;
	}
	return BATCH_OK;
}

size_t batch_put(enum wamp_ser ser, uint8_t sep, uint8_t *dst, const uint8_t *msg, size_t len)
{
	if (!wamp_ser_is_binary(ser)) {
		memcpy(dst, msg, len);
		dst[len] = sep;
		return len + 1;
	}
	dst[0] = (uint8_t)(len >> 24);
	dst[1] = (uint8_t)(len >> 16);
	dst[2] = (uint8_t)(len >> 8);
	dst[3] = (uint8_t)len;
	memcpy(dst + 4, msg, len);
	return len + 4;
}
