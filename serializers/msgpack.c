/*
 * msgpack.c - the MessagePack codec (wamp.2.msgpack).
 *
 * Decoding: a validating scanner walks the message once (every type of the MessagePack
 * spec, lengths checked against the bytes left before they are trusted, nesting up to the
 * depth limit) and records the span of each top-level element. Header fields are decoded
 * from their spans: integers of any width (and integral floats, as some JS encoders send
 * large ids), strings (checked to be UTF-8), and dicts converted to jansson values. A
 * payload stays as its spans; the scanner marks an element holding a NaN or +-Infinity float
 * (codec_span.nonfinite), which the message is refused for (validate.c).
 *
 * Conversion to jansson values (dicts, and payloads going to a JSON peer) is a recursive
 * walk bounded by the same depth limit: bin becomes WAMP's "\0"+base64 string; an ext
 * value (JavaScript `undefined` from some clients) is dropped as a map value and becomes
 * null in a list, as JSON.stringify treats undefined.
 *
 * Encoding uses msgpack-c's packer writing straight into the wamp_out; payload spans of
 * the same serializer are appended as bytes.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "serializers/codec_walk.h"

/* ---------------------------------------------------------------------------------- */
/* reading                                                                              */

struct mpscan {
	const uint8_t *p;
	const uint8_t *end;
	unsigned max_depth;
	const char *err;
	bool nonfinite;     /* a float that is NaN or +-Infinity was skipped */
};

static uint64_t mp_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Take n bytes; false if fewer are left. */
static bool mp_take(struct mpscan *s, uint64_t n)
{
	if ((uint64_t)(s->end - s->p) < n) {
		s->err = "truncated";
		return false;
	}
	s->p += n;
	return true;
}

/* Read an n-byte big-endian length. */
static bool mp_len(struct mpscan *s, size_t n, uint64_t *out)
{
	if ((size_t)(s->end - s->p) < n) {
		s->err = "truncated";
		return false;
	}
	*out = mp_be(s->p, n);
	s->p += n;
	return true;
}

static bool mp_skip(struct mpscan *s, unsigned depth);

static bool mp_skip_items(struct mpscan *s, uint64_t n, unsigned depth)
{
	if (depth > s->max_depth) {
		s->err = "nesting too deep";
		return false;
	}
	if (n > (uint64_t)(s->end - s->p)) { /* every item takes at least one byte */
		s->err = "truncated";
		return false;
	}
	for (uint64_t i = 0; i < n; i++)
		if (!mp_skip(s, depth + 1))
			return false;
	return true;
}

/* Skip one well-formed value at nesting `depth`. */
static bool mp_skip(struct mpscan *s, unsigned depth)
{
	uint8_t c;
	uint64_t n;

	if (s->p >= s->end) {
		s->err = "truncated";
		return false;
	}
	c = *s->p++;
	if (c <= 0x7f || c >= 0xe0)
		return true; /* fixint */
	if (c <= 0x8f)
		return mp_skip_items(s, 2 * (uint64_t)(c & 0x0f), depth);
	if (c <= 0x9f)
		return mp_skip_items(s, c & 0x0f, depth);
	if (c <= 0xbf)
		return mp_take(s, c & 0x1f);
	switch (c) {
	case 0xc0: /* nil */
	case 0xc2: /* false */
	case 0xc3: /* true */
		return true;
	case 0xc4: /* bin 8/16/32 */
	case 0xd9: /* str 8/16/32 */
		return mp_len(s, 1, &n) && mp_take(s, n);
	case 0xc5:
	case 0xda:
		return mp_len(s, 2, &n) && mp_take(s, n);
	case 0xc6:
	case 0xdb:
		return mp_len(s, 4, &n) && mp_take(s, n);
	case 0xc7: /* ext 8/16/32: length, type, data */
		return mp_len(s, 1, &n) && mp_take(s, n + 1);
	case 0xc8:
		return mp_len(s, 2, &n) && mp_take(s, n + 1);
	case 0xc9:
		return mp_len(s, 4, &n) && mp_take(s, n + 1);
	case 0xca: /* float32 */
	case 0xcb: /* float64 */
		n = c == 0xca ? 4 : 8;
		if ((size_t)(s->end - s->p) >= n &&
		    codec_float_nonfinite(mp_be(s->p, n), (unsigned)n))
			s->nonfinite = true;
		return mp_take(s, n);
	case 0xcc: /* uint 8..64 */
	case 0xd0: /* int 8..64 */
		return mp_take(s, 1);
	case 0xcd:
	case 0xd1:
		return mp_take(s, 2);
	case 0xce:
	case 0xd2:
		return mp_take(s, 4);
	case 0xcf:
	case 0xd3:
		return mp_take(s, 8);
	case 0xd4: /* fixext 1, 2, 4, 8, 16 (+ type byte) */
		return mp_take(s, 2);
	case 0xd5:
		return mp_take(s, 3);
	case 0xd6:
		return mp_take(s, 5);
	case 0xd7:
		return mp_take(s, 9);
	case 0xd8:
		return mp_take(s, 17);
	case 0xdc:
		return mp_len(s, 2, &n) && mp_skip_items(s, n, depth);
	case 0xdd:
		return mp_len(s, 4, &n) && mp_skip_items(s, n, depth);
	case 0xde:
		return mp_len(s, 2, &n) && mp_skip_items(s, 2 * n, depth);
	case 0xdf:
		return mp_len(s, 4, &n) && mp_skip_items(s, 2 * n, depth);
	default: /* 0xc1 is never used */
		s->err = "invalid type byte";
		return false;
	}
}

/* The array header at s->p: element count, or -1. */
static int64_t mp_array_header(struct mpscan *s)
{
	uint64_t n;
	uint8_t c;

	if (s->p >= s->end) {
		s->err = "empty input";
		return -1;
	}
	c = *s->p++;
	if (c >= 0x90 && c <= 0x9f)
		return c & 0x0f;
	if (c == 0xdc && mp_len(s, 2, &n))
		return (int64_t)n;
	if (c == 0xdd && mp_len(s, 4, &n))
		return (int64_t)n;
	s->err = "a message must be a MessagePack array";
	return -1;
}

/* An integer field: any int family value >= 0, or an integral float. */
static bool mp_field_uint(const struct codec_span *e, uint64_t *out)
{
	const uint8_t *p = e->p;
	uint8_t c = p[0];
	double d;

	if (c <= 0x7f) {
		*out = c;
		return true;
	}
	switch (c) {
	case 0xcc:
		*out = p[1];
		return true;
	case 0xcd:
		*out = mp_be(p + 1, 2);
		return true;
	case 0xce:
		*out = mp_be(p + 1, 4);
		return true;
	case 0xcf:
		*out = mp_be(p + 1, 8);
		return true;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		size_t n = (size_t)1 << (c - 0xd0);
		uint64_t raw = mp_be(p + 1, n);
		int64_t v = n == 8 ? (int64_t)raw
		                   : (int64_t)(raw ^ (UINT64_C(1) << (8 * n - 1))) -
		                         (int64_t)(UINT64_C(1) << (8 * n - 1));

		if (v < 0)
			return false;
		*out = (uint64_t)v;
		return true;
	}
	case 0xca: {
		uint32_t bits = (uint32_t)mp_be(p + 1, 4);
		float f;

		memcpy(&f, &bits, 4);
		d = f;
		goto integral;
	}
	case 0xcb: {
		uint64_t bits = mp_be(p + 1, 8);

		memcpy(&d, &bits, 8);
		goto integral;
	}
	default:
		return false;
	}
integral:
	if (!(d >= 0 && d <= (double)WAMP_ID_MAX) || d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

/* A str field: its bytes; false if not a string. */
static bool mp_field_str(const struct codec_span *e, const uint8_t **out, size_t *len)
{
	uint8_t c = e->p[0];
	size_t hdr;

	if (c >= 0xa0 && c <= 0xbf)
		hdr = 1;
	else if (c == 0xd9)
		hdr = 2;
	else if (c == 0xda)
		hdr = 3;
	else if (c == 0xdb)
		hdr = 5;
	else
		return false;
	*out = e->p + hdr;
	*len = e->n - hdr;
	return true;
}

static bool mp_is_map(uint8_t c)
{
	return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

static bool mp_is_array(uint8_t c)
{
	return (c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd;
}

/* Convert one validated value at *pp into a jansson value (recursive; the scanner already
 * bounded the depth). NULL on a value JSON cannot hold (invalid UTF-8, non-string key). */
static json_t *mp_to_json(const uint8_t **pp, bool drop_undefined, bool *undefined)
{
	const uint8_t *p = *pp;
	uint8_t c = *p++;
	uint64_t n = 0;
	json_t *v = NULL;

	*undefined = false;
	if (c <= 0x7f) {
		*pp = p;
		return json_integer(c);
	}
	if (c >= 0xe0) {
		*pp = p;
		return json_integer((int8_t)c);
	}
	if (c <= 0x8f) {
		n = c & 0x0f;
		goto map;
	}
	if (c <= 0x9f) {
		n = c & 0x0f;
		goto array;
	}
	if (c <= 0xbf) {
		n = c & 0x1f;
		goto str;
	}
	switch (c) {
	case 0xc0:
		*pp = p;
		return json_null();
	case 0xc2:
		*pp = p;
		return json_false();
	case 0xc3:
		*pp = p;
		return json_true();
	case 0xc4:
	case 0xc5:
	case 0xc6: {
		size_t h = (size_t)1 << (c - 0xc4);

		n = mp_be(p, h);
		p += h;
		v = codec_binary_to_json(p, n);
		*pp = p + n;
		return v;
	}
	case 0xc7:
	case 0xc8:
	case 0xc9: {
		size_t h = (size_t)1 << (c - 0xc7);

		n = mp_be(p, h);
		*pp = p + h + 1 + n;
		*undefined = true;
		return json_null();
	}
	case 0xca: {
		uint32_t bits = (uint32_t)mp_be(p, 4);
		float f;

		memcpy(&f, &bits, 4);
		*pp = p + 4;
		return json_real(f);
	}
	case 0xcb: {
		uint64_t bits = mp_be(p, 8);
		double d;

		memcpy(&d, &bits, 8);
		*pp = p + 8;
		return json_real(d);
	}
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf: {
		size_t w = (size_t)1 << (c - 0xcc);
		uint64_t u = mp_be(p, w);

		*pp = p + w;
		/* beyond int64: a real (jansson integers are signed 64-bit) */
		return u > (uint64_t)INT64_MAX ? json_real((double)u) : json_integer((json_int_t)u);
	}
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		size_t w = (size_t)1 << (c - 0xd0);
		uint64_t raw = mp_be(p, w);
		int64_t i = w == 8 ? (int64_t)raw
		                   : (int64_t)(raw ^ (UINT64_C(1) << (8 * w - 1))) -
		                         (int64_t)(UINT64_C(1) << (8 * w - 1));

		*pp = p + w;
		return json_integer((json_int_t)i);
	}
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		*pp = p + 1 + ((size_t)1 << (c - 0xd4));
		*undefined = true;
		return json_null();
	case 0xd9:
	case 0xda:
	case 0xdb: {
		size_t h = c == 0xd9 ? 1 : c == 0xda ? 2 : 4;

		n = mp_be(p, h);
		p += h;
		goto str;
	}
	case 0xdc:
	case 0xdd: {
		size_t h = c == 0xdc ? 2 : 4;

		n = mp_be(p, h);
		p += h;
		goto array;
	}
	case 0xde:
	case 0xdf: {
		size_t h = c == 0xde ? 2 : 4;

		n = mp_be(p, h);
		p += h;
		goto map;
	}
	default:
		return NULL;
	}
str:
	*pp = p + n;
	return json_stringn((const char *)p, n); /* NULL if not UTF-8 */
array:
	v = json_array();
	for (uint64_t i = 0; v && i < n; i++) {
		bool undef;
		json_t *item = mp_to_json(&p, drop_undefined, &undef);

		if (!item || json_array_append_new(v, item)) {
			json_decref(v);
			return NULL;
		}
	}
	*pp = p;
	return v;
map:
	v = json_object();
	for (uint64_t i = 0; v && i < n; i++) {
		bool undef;
		json_t *key = mp_to_json(&p, drop_undefined, &undef);
		/* keys: strings without NUL (as in JSON, where jansson cannot hold one) */
		json_t *val = key && json_is_string(key) &&
		                      !memchr(json_string_value(key), 0, json_string_length(key))
		                  ? mp_to_json(&p, drop_undefined, &undef)
		                  : NULL;

		if (!val) {
			json_decref(key);
			json_decref(v);
			return NULL;
		}
		if (undef && drop_undefined)
			json_decref(val);
		else if (json_object_setn_new(v, json_string_value(key), json_string_length(key), val))
			v = (json_decref(v), NULL);
		json_decref(key);
	}
	*pp = p;
	return v;
}

json_t *mp_span_value(const uint8_t *p, size_t n, bool drop_undefined)
{
	struct mpscan s = {.p = p, .end = p + n, .max_depth = 1000};
	bool undef;

	/* spans handed to us were validated when their message was decoded; check anyway
	 * so a caller with other bytes cannot make the converter read out of bounds */
	if (!n || !mp_skip(&s, 1) || s.p != s.end)
		return NULL;
	return mp_to_json(&p, drop_undefined, &undef);
}

/* the primitives of the schema walk (codec_decode_fields) on scanned elements */
static enum wampd_err mr_string(const struct codec_span *e, struct wamp_msg *msg)
{
	const uint8_t *str;
	size_t slen;

	if (!mp_field_str(e, &str, &slen) || !codec_utf8_valid(str, slen))
		return WAMPD_ERR_PROTOCOL;
	return codec_set_uri(msg, (const char *)str, slen) ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

static bool mr_is_dict(const struct codec_span *e)
{
	return mp_is_map(e->p[0]);
}

static bool mr_is_empty_dict(const struct codec_span *e)
{
	return e->p[0] == 0x80;
}

static bool mr_is_list(const struct codec_span *e)
{
	return mp_is_array(e->p[0]);
}

static bool mr_is_binary(const struct codec_span *e)
{
	return e->p[0] >= 0xc4 && e->p[0] <= 0xc6;
}

static json_t *mr_dict(const struct codec_span *e, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return mp_span_value(e->p, e->n, true);
}

static const struct codec_reader mp_reader = {
	.uint = mp_field_uint,
	.string = mr_string,
	.string_kind = "a UTF-8 string",
	.is_dict = mr_is_dict,
	.is_empty_dict = mr_is_empty_dict,
	.is_list = mr_is_list,
	.is_binary = mr_is_binary,
	.dict = mr_dict,
	.dict_why = "a dict needs string keys (without NUL) and UTF-8 strings",
};

enum wampd_err mp_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *err, size_t errlen)
{
	struct mpscan s = {.p = buf, .end = buf + len, .max_depth = max_depth};
	struct codec_span el[CODEC_MAX_ELEMS];
	const struct wamp_schema *schema;
	int64_t count;
	uint64_t type;
	int n;

	count = mp_array_header(&s);
	if (count < 0)
		return codec_fail(err, errlen, "malformed MessagePack: %s", s.err);
	if (count == 0)
		return codec_fail(err, errlen, "empty message array");
	if (count > CODEC_MAX_ELEMS)
		return codec_fail(err, errlen, "message array of %lld elements",
		                  (long long)count);
	n = (int)count;
	for (int i = 0; i < n; i++) {
		el[i].p = s.p;
		s.nonfinite = false;
		if (!mp_skip(&s, 2))
			return codec_fail(err, errlen, "malformed MessagePack: %s (element %d)",
			                  s.err, i);
		el[i].n = (size_t)(s.p - el[i].p);
		el[i].nonfinite = s.nonfinite;
	}
	if (s.p != s.end)
		return codec_fail(err, errlen, "trailing bytes after the message");

	if (!mp_field_uint(&el[0], &type) || type > WAMP_TYPE__MAX || !(schema = wamp_schema((int)type)))
		return codec_fail(err, errlen, "unknown message type");
	return codec_decode_fields(&mp_reader, (int)type, schema, el, n, msg, err, errlen);
}

/* ---------------------------------------------------------------------------------- */
/* writing                                                                              */

static int mp_write_cb(void *data, const char *buf, size_t len)
{
	return wamp_out_append((struct wamp_out **)data, buf, len) ? 0 : -1;
}

/* Pack a jansson value; "\0"+base64 strings become bin. */
static bool mp_pack_json(msgpack_packer *pk, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *item;
		void *iter;

		if (msgpack_pack_map(pk, json_object_size(v)))
			return false;
		for (iter = json_object_iter((json_t *)v); iter;
		     iter = json_object_iter_next((json_t *)v, iter)) {
			size_t klen;

			key = json_object_iter_key(iter);
			item = json_object_iter_value(iter);
			klen = json_object_iter_key_len(iter);
			if (msgpack_pack_str(pk, klen) || msgpack_pack_str_body(pk, key, klen) ||
			    !mp_pack_json(pk, item))
				return false;
		}
		return true;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		if (msgpack_pack_array(pk, json_array_size(v)))
			return false;
		json_array_foreach(v, i, item)
			if (!mp_pack_json(pk, item))
				return false;
		return true;
	}
	case JSON_STRING: {
		uint8_t *bin;
		size_t n;
		bool ok;

		if (codec_json_binary(v, &bin, &n)) {
			ok = !msgpack_pack_bin(pk, n) && !msgpack_pack_bin_body(pk, bin, n);
			free(bin);
			return ok;
		}
		n = json_string_length(v);
		return !msgpack_pack_str(pk, n) && !msgpack_pack_str_body(pk, json_string_value(v), n);
	}
	case JSON_INTEGER:
		return !msgpack_pack_int64(pk, json_integer_value(v));
	case JSON_REAL:
		return !msgpack_pack_double(pk, json_real_value(v));
	case JSON_TRUE:
		return !msgpack_pack_true(pk);
	case JSON_FALSE:
		return !msgpack_pack_false(pk);
	default:
		return !msgpack_pack_nil(pk);
	}
}

/* the primitives of the schema walk (codec_encode_fields); the state is the packer, whose
 * data is the wamp_out ** it appends to */
static bool mw_begin(void *w, size_t count)
{
	return !msgpack_pack_array(w, count);
}

static bool mw_uint(void *w, uint64_t v)
{
	return !msgpack_pack_uint64(w, v);
}

static bool mw_string(void *w, const char *s, size_t n)
{
	return !msgpack_pack_str(w, n) && !msgpack_pack_str_body(w, s, n);
}

static bool mw_json(void *w, const json_t *v)
{
	return mp_pack_json(w, v);
}

static bool mw_bytes(void *w, const uint8_t *p, size_t n)
{
	return wamp_out_append(((msgpack_packer *)w)->data, p, n);
}

static const struct codec_writer mp_writer = {
	.ser = WAMP_SER_MSGPACK,
	.begin = mw_begin,
	.uint = mw_uint,
	.string = mw_string,
	.json = mw_json,
	.bytes = mw_bytes,
	.empty_dict = (const uint8_t *)"\x80",
	.empty_list = (const uint8_t *)"\x90",
	.empty_len = 1,
	.json_err = WAMPD_ERR_NOMEM,
};

struct wamp_out *mp_encode(const struct wamp_msg *msg, enum wampd_err *err)
{
	const struct wamp_schema *schema = wamp_schema(msg->type);
	struct wamp_out *o;
	msgpack_packer pk;

	if (!schema) {
		*err = WAMPD_ERR_INTERNAL;
		return NULL;
	}
	o = wamp_out_new(48 + msg->uri_len + wamp_payload_span_len(&msg->payload) * 2);
	if (!o) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	msgpack_packer_init(&pk, &o, mp_write_cb);
	*err = WAMPD_OK;
	if (!codec_encode_fields(&mp_writer, &pk, msg, schema, err)) {
		wamp_out_unref(o);
		if (*err == WAMPD_OK)
			*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	return o;
}
