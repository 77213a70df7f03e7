/*
 * codec.c - dispatch to the codecs, the helpers the codecs share (UTF-8 check, string
 * field storage, WAMP's binary-in-JSON convention) and payload decoding. The schema walk the
 * codecs share is in codec_walk.h.
 *
 * Dispatch on the serializer goes through the codec operations (decode, encode, payload
 * element -> value) of its row in the serializer descriptor table (serializer.c); a row
 * without codec (not built in: CBOR without libcbor, a trimmed client build) is "not
 * supported".
 *
 * Binary convention (advanced/serialization_binary_json.md): bytes travel through JSON as
 * a string made of a NUL character followed by the standard base64 (RFC 4648 section 4,
 * with padding) of the bytes. libsodium's base64 codec does the encoding.
 */
#include "serializers/codec_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The codec of ser, or NULL when this build has none. */
static const struct wamp_codec_ops *codec_of(enum wamp_ser ser)
{
	const struct wamp_serializer_desc *d = wamp_ser_desc(ser);

	return d ? d->codec : NULL;
}

enum wampd_err codec_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return WAMPD_ERR_PROTOCOL;
}

bool codec_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

bool codec_set_uri(struct wamp_msg *msg, const char *s, size_t n)
{
	char *dst = msg->uri_inline;

	if (n >= sizeof(msg->uri_inline)) {
		if (!(msg->uri_heap = malloc(n + 1)))
			return false;
		dst = msg->uri_heap;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	msg->uri = dst;
	msg->uri_len = n;
	return true;
}

json_t *codec_binary_to_json(const uint8_t *bytes, size_t n)
{
	size_t b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *buf = malloc(b64len + 1);
	json_t *v;

	if (!buf)
		return NULL;
	buf[0] = '\0';
	sodium_bin2base64(buf + 1, b64len, bytes, n, sodium_base64_VARIANT_ORIGINAL);
	v = json_stringn_nocheck(buf, 1 + strlen(buf + 1));
	free(buf);
	return v;
}

bool codec_json_binary(const json_t *v, uint8_t **out, size_t *out_len)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), bin_len = 0;
	const char *end = NULL;
	uint8_t *bin;

	if (!s || n == 0 || s[0] != '\0')
		return false;
	bin = malloc(n ? n : 1); /* base64 decodes to at most 3/4 of its length */
	if (!bin)
		return false;
	if (sodium_base642bin(bin, n, s + 1, n - 1, " \t\r\n", &bin_len, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + n) {
		free(bin);
		return false;
	}
	*out = bin;
	*out_len = bin_len;
	return true;
}

enum wampd_err wamp_decode(enum wamp_ser ser, const uint8_t *buf, size_t len,
                           const struct wamp_codec_limits *lim, struct wamp_msg *msg,
                           char *err, size_t errlen)
{
	unsigned depth = lim && lim->max_depth ? lim->max_depth : WAMP_DEFAULT_MAX_DEPTH;
	const struct wamp_codec_ops *codec = codec_of(ser);
	enum wampd_err code;

	memset(msg, 0, sizeof(*msg));
	if (!codec)
		return codec_fail(err, errlen, "serializer %s not supported", wamp_ser_name(ser));
	code = codec->decode(buf, len, depth, msg, err, errlen);
	if (code != WAMPD_OK)
		wamp_msg_clear(msg);
	else
		msg->payload.ser = ser;
	return code;
}

struct wamp_out *wamp_encode(enum wamp_ser ser, const struct wamp_msg *msg, enum wampd_err *err)
{
	const struct wamp_codec_ops *codec = codec_of(ser);
	struct wamp_out *o;

	*err = WAMPD_OK;
	if (!codec) {
		*err = WAMPD_ERR_SERIALIZATION;
		return NULL;
	}
	o = codec->encode(msg, err);
	if (o) {
		o->ser = (uint8_t)ser;
		o->binary = wamp_ser_is_binary(ser);
		o->type = (uint8_t)msg->type;
	}
	return o;
}

json_t *payload_element(const struct wamp_payload *p, bool kwargs, enum wampd_err *err)
{
	const uint8_t *span = kwargs ? p->kwargs : p->args;
	size_t n = kwargs ? p->kwargs_len : p->args_len;
	json_t *v = kwargs ? p->kwargs_v : p->args_v;
	const struct wamp_codec_ops *codec;

	*err = WAMPD_OK;
	if (!span)
		return v ? json_incref(v) : NULL;
	codec = codec_of(p->ser);
	v = codec ? codec->value(span, n) : NULL;
	if (!v)
		*err = WAMPD_ERR_SERIALIZATION;
	return v;
}

json_t *wamp_payload_args(const struct wamp_payload *p, enum wampd_err *err)
{
	return payload_element(p, false, err);
}

json_t *wamp_payload_kwargs(const struct wamp_payload *p, enum wampd_err *err)
{
	return payload_element(p, true, err);
}
