/*
 * cbor.c - the CBOR codec (wamp.2.cbor, RawSocket serializer 3), on libcbor.
 *
 * Decoding: a validating scanner walks the message once (every major type of RFC 8949,
 * definite and indefinite lengths, tags, lengths checked against the bytes left before they
 * are trusted, nesting up to the depth limit) and records the span of each top-level
 * element, as the MessagePack codec does. Header fields are read from their spans: unsigned
 * integers (and integral floats), text strings (checked to be UTF-8; indefinite ones are
 * joined), and dicts converted to jansson values through libcbor (cbor_load). A payload
 * stays as its spans and is copied as bytes to CBOR receivers; the scanner marks an element
 * holding a NaN or +-Infinity float of any width (codec_span.nonfinite, see validate.c).
 *
 * Conversion to jansson values: byte strings become WAMP's "\0"+base64 string (so they reach
 * msgpack peers as bin and JSON peers in the JSON convention); `undefined` is dropped as a
 * map value and becomes null in a list; tags are dropped (their content is kept); map keys
 * must be text strings.
 *
 * Encoding uses libcbor's streaming encoders writing into the wamp_out; "\0"+base64 strings
 * become byte strings; payload spans of CBOR are appended as bytes.
 */
#include <cbor.h>
#include <stdlib.h>
#include <string.h>

#include "serializers/codec_walk.h"

/* ---------------------------------------------------------------------------------- */
/* scanning                                                                             */

struct cbscan {
	const uint8_t *p;
	const uint8_t *end;
	unsigned max_depth;
	const char *err;
	bool nonfinite;     /* a float that is NaN or +-Infinity was skipped */
};

#define CB_INDEFINITE UINT64_MAX

/* Read an item head: major type, and its argument (length, value) or CB_INDEFINITE. */
static bool cb_head(struct cbscan *s, unsigned *major, uint64_t *arg, uint8_t *ai_out)
{
	uint8_t ib, ai;
	size_t n;

	if (s->p >= s->end) {
		s->err = "truncated";
		return false;
	}
	ib = *s->p++;
	*major = ib >> 5;
	ai = ib & 0x1f;
	*ai_out = ai;
	if (ai < 24) {
		*arg = ai;
		return true;
	}
	if (ai == 31) {
		*arg = CB_INDEFINITE;
		return true;
	}
	if (ai > 27) {
		s->err = "reserved additional information";
		return false;
	}
	n = (size_t)1 << (ai - 24);
	if ((size_t)(s->end - s->p) < n) {
		s->err = "truncated";
		return false;
	}
	*arg = 0;
	for (size_t i = 0; i < n; i++)
		*arg = (*arg << 8) | *s->p++;
	return true;
}

static bool cb_skip(struct cbscan *s, unsigned depth);

/* Chunks of an indefinite byte/text string: definite strings of the same major type. */
static bool cb_skip_chunks(struct cbscan *s, unsigned major)
{
	for (;;) {
		unsigned m;
		uint64_t n;
		uint8_t ai;

		if (s->p < s->end && *s->p == 0xff) {
			s->p++;
			return true;
		}
		if (!cb_head(s, &m, &n, &ai))
			return false;
		if (m != major || n == CB_INDEFINITE) {
			s->err = "bad chunk in an indefinite-length string";
			return false;
		}
		if ((uint64_t)(s->end - s->p) < n) {
			s->err = "truncated";
			return false;
		}
		if (major == 3 && !codec_utf8_valid(s->p, (size_t)n)) {
			s->err = "invalid UTF-8";
			return false;
		}
		s->p += n;
	}
}

/* n items (CB_INDEFINITE: until a break), each at depth. */
static bool cb_skip_items(struct cbscan *s, uint64_t n, unsigned depth)
{
	if (n == CB_INDEFINITE) {
		for (;;) {
			if (s->p < s->end && *s->p == 0xff) {
				s->p++;
				return true;
			}
			if (!cb_skip(s, depth))
				return false;
		}
	}
	/* every item takes at least one byte: a count beyond the bytes left is a lie */
	if (n > (uint64_t)(s->end - s->p)) {
		s->err = "truncated";
		return false;
	}
	for (uint64_t i = 0; i < n; i++)
		if (!cb_skip(s, depth))
			return false;
	return true;
}

static bool cb_skip(struct cbscan *s, unsigned depth)
{
	unsigned major;
	uint64_t arg;
	uint8_t ai;

	if (!cb_head(s, &major, &arg, &ai))
		return false;
	/* containers (and tags) at a depth over the limit, as the other codecs count it: a
	 * scalar inside the deepest allowed container is fine */
	if (major >= 4 && major <= 6 && depth > s->max_depth) {
		s->err = "nested too deeply";
		return false;
	}
	switch (major) {
	case 0: /* unsigned */
	case 1: /* negative */
		if (arg == CB_INDEFINITE) {
			s->err = "indefinite integer";
			return false;
		}
		return true;
	case 2: /* bytes */
	case 3: /* text */
		if (arg == CB_INDEFINITE)
			return cb_skip_chunks(s, major);
		if ((uint64_t)(s->end - s->p) < arg) {
			s->err = "truncated";
			return false;
		}
		if (major == 3 && !codec_utf8_valid(s->p, (size_t)arg)) {
			s->err = "invalid UTF-8";
			return false;
		}
		s->p += arg;
		return true;
	case 4:
		return cb_skip_items(s, arg, depth + 1);
	case 5:
		if (arg != CB_INDEFINITE && arg > (uint64_t)(s->end - s->p) / 2) {
			s->err = "truncated";
			return false;
		}
		return cb_skip_items(s, arg == CB_INDEFINITE ? arg : arg * 2, depth + 1);
	case 6: /* tag: one item follows */
		if (arg == CB_INDEFINITE) {
			s->err = "indefinite tag";
			return false;
		}
		return cb_skip(s, depth + 1);
	default: /* 7: simple values and floats */
		if (ai == 31) {
			s->err = "unexpected break";
			return false;
		}
		if (ai == 24 && arg < 32) {
			s->err = "invalid simple value";
			return false;
		}
		if (ai >= 25 && ai <= 27 && codec_float_nonfinite(arg, 1u << (ai - 24)))
			s->nonfinite = true; /* half, single, double float */
		return true;
	}
}

/* ---------------------------------------------------------------------------------- */
/* header fields                                                                        */

/* An id/integer field: an unsigned integer, or an integral non-negative float. */
static bool cb_field_uint(const struct codec_span *e, uint64_t *out)
{
	struct cbscan s = {.p = e->p, .end = e->p + e->n};
	unsigned major;
	uint64_t arg;
	uint8_t ai;

	if (!cb_head(&s, &major, &arg, &ai))
		return false;
	if (major == 0 && arg != CB_INDEFINITE) {
		*out = arg;
		return true;
	}
	if (major == 7 && (ai == 25 || ai == 26 || ai == 27)) {
		struct cbor_load_result r;
		cbor_item_t *it = cbor_load(e->p, e->n, &r);
		double d = it && cbor_isa_float_ctrl(it) && !cbor_float_ctrl_is_ctrl(it)
		               ? cbor_float_get_float(it)
		               : -1;

		if (it)
			cbor_decref(&it);
		if (d >= 0 && d <= 9007199254740992.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			return true;
		}
	}
	return false;
}

/* A text string field (definite, or indefinite chunks joined) into msg->uri. */
static enum wampd_err cb_field_string(const struct codec_span *e, struct wamp_msg *msg)
{
	struct cbscan s = {.p = e->p, .end = e->p + e->n};
	unsigned major;
	uint64_t arg;
	uint8_t ai;
	char *joined;
	size_t n = 0;
	bool ok;

	if (!cb_head(&s, &major, &arg, &ai) || major != 3)
		return WAMPD_ERR_PROTOCOL;
	if (arg != CB_INDEFINITE) /* UTF-8 was checked by the scanner */
		return codec_set_uri(msg, (const char *)s.p, (size_t)arg) ? WAMPD_OK : WAMPD_ERR_NOMEM;
	if (!(joined = malloc(e->n)))
		return WAMPD_ERR_NOMEM;
	while (s.p < s.end && *s.p != 0xff) {
		cb_head(&s, &major, &arg, &ai); /* validated: definite text chunks */
		memcpy(joined + n, s.p, (size_t)arg);
		n += (size_t)arg;
		s.p += arg;
	}
	ok = codec_set_uri(msg, joined, n);
	free(joined);
	return ok ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

/* ---------------------------------------------------------------------------------- */
/* values                                                                               */

static json_t *cb_item_json(const cbor_item_t *it, bool *undefined);

/* The bytes of a byte/text string item (joining chunks) into a new buffer. */
static uint8_t *cb_string_bytes(const cbor_item_t *it, size_t *len)
{
	bool bytes = cbor_isa_bytestring(it);
	uint8_t *out;
	size_t n = 0;

	if (bytes ? cbor_bytestring_is_definite(it) : cbor_string_is_definite(it)) {
		size_t k = bytes ? cbor_bytestring_length(it) : cbor_string_length(it);

		if (!(out = malloc(k ? k : 1)))
			return NULL;
		memcpy(out, bytes ? cbor_bytestring_handle(it) : cbor_string_handle(it), k);
		*len = k;
		return out;
	}
	{
		size_t count = bytes ? cbor_bytestring_chunk_count(it) : cbor_string_chunk_count(it);
		cbor_item_t **chunks = bytes ? cbor_bytestring_chunks_handle(it)
		                             : cbor_string_chunks_handle(it);
		size_t total = 0;

		for (size_t i = 0; i < count; i++)
			total += bytes ? cbor_bytestring_length(chunks[i]) : cbor_string_length(chunks[i]);
		if (!(out = malloc(total ? total : 1)))
			return NULL;
		for (size_t i = 0; i < count; i++) {
			size_t k = bytes ? cbor_bytestring_length(chunks[i]) : cbor_string_length(chunks[i]);

			memcpy(out + n, bytes ? cbor_bytestring_handle(chunks[i]) : cbor_string_handle(chunks[i]),
			       k);
			n += k;
		}
	}
	*len = n;
	return out;
}

static json_t *cb_item_json(const cbor_item_t *it, bool *undefined)
{
	*undefined = false;
	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT: {
		uint64_t u = cbor_get_int(it);

		return u > (uint64_t)INT64_MAX ? json_real((double)u) : json_integer((json_int_t)u);
	}
	case CBOR_TYPE_NEGINT: {
		uint64_t u = cbor_get_int(it); /* the value is -1 - u */

		return u > (uint64_t)INT64_MAX ? json_real(-1.0 - (double)u)
		                               : json_integer(-1 - (json_int_t)u);
	}
	case CBOR_TYPE_BYTESTRING:
	case CBOR_TYPE_STRING: {
		size_t n;
		uint8_t *b = cb_string_bytes(it, &n);
		json_t *v;

		if (!b)
			return NULL;
		v = cbor_isa_bytestring(it) ? codec_binary_to_json(b, n)
		                            : json_stringn((const char *)b, n);
		free(b);
		return v;
	}
	case CBOR_TYPE_ARRAY: {
		json_t *a = json_array();
		cbor_item_t **items = cbor_array_handle(it);

		for (size_t i = 0; a && i < cbor_array_size(it); i++) {
			bool undef;
			json_t *v = cb_item_json(items[i], &undef);

			if (!v || json_array_append_new(a, v)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case CBOR_TYPE_MAP: {
		json_t *o = json_object();
		struct cbor_pair *pairs = cbor_map_handle(it);

		for (size_t i = 0; o && i < cbor_map_size(it); i++) {
			bool undef;
			size_t klen;
			uint8_t *key;
			json_t *v;

			if (!cbor_isa_string(pairs[i].key) || !(key = cb_string_bytes(pairs[i].key, &klen)))
				goto bad_map;
			if (memchr(key, 0, klen)) {
				free(key);
				goto bad_map;
			}
			v = cb_item_json(pairs[i].value, &undef);
			if (!v) {
				free(key);
				goto bad_map;
			}
			if (undef)
				json_decref(v); /* undefined: the key is absent */
			else if (json_object_setn_new(o, (const char *)key, klen, v))
				o = (json_decref(o), NULL);
			free(key);
			continue;
		bad_map:
			json_decref(o);
			return NULL;
		}
		return o;
	}
	case CBOR_TYPE_TAG: {
		cbor_item_t *inner = cbor_tag_item(it);
		json_t *v = cb_item_json(inner, undefined);

		cbor_decref(&inner);
		return v;
	}
	case CBOR_TYPE_FLOAT_CTRL:
		if (!cbor_float_ctrl_is_ctrl(it))
			return json_real(cbor_float_get_float(it));
		switch (cbor_ctrl_value(it)) {
		case CBOR_CTRL_FALSE:
			return json_false();
		case CBOR_CTRL_TRUE:
			return json_true();
		case CBOR_CTRL_UNDEF:
			*undefined = true;
			return json_null();
		default:
			return json_null(); /* null and unassigned simple values */
		}
	}
	return NULL;
}

json_t *cb_span_value(const uint8_t *p, size_t n)
{
	struct cbscan s = {.p = p, .end = p + n, .max_depth = 1000};
	struct cbor_load_result r;
	cbor_item_t *it;
	json_t *v;
	bool undef;

	/* spans handed to us were validated when their message was decoded; check anyway so
	 * other bytes cannot make libcbor read beyond them */
	if (!n || !cb_skip(&s, 1) || s.p != s.end)
		return NULL;
	if (!(it = cbor_load(p, n, &r)) || r.error.code != CBOR_ERR_NONE) {
		if (it)
			cbor_decref(&it);
		return NULL;
	}
	v = cb_item_json(it, &undef);
	cbor_decref(&it);
	return v;
}

/* ---------------------------------------------------------------------------------- */
/* decoding a message                                                                   */

/* the primitives of the schema walk (codec_decode_fields) on scanned elements: the major
 * type is the top 3 bits of an element's first octet */
static bool cr_is_dict(const struct codec_span *e)
{
	return e->p[0] >> 5 == 5;
}

static bool cr_is_empty_dict(const struct codec_span *e)
{
	return e->p[0] == 0xa0;
}

static bool cr_is_list(const struct codec_span *e)
{
	return e->p[0] >> 5 == 4;
}

static bool cr_is_binary(const struct codec_span *e)
{
	return e->p[0] >> 5 == 2;
}

static json_t *cr_dict(const struct codec_span *e, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return cb_span_value(e->p, e->n);
}

static const struct codec_reader cb_reader = {
	.uint = cb_field_uint,
	.string = cb_field_string,
	.string_kind = "a string",
	.is_dict = cr_is_dict,
	.is_empty_dict = cr_is_empty_dict,
	.is_list = cr_is_list,
	.is_binary = cr_is_binary,
	.dict = cr_dict,
	.dict_why = "a dict needs text keys (without NUL)",
};

enum wampd_err cb_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *err, size_t errlen)
{
	struct cbscan s = {.p = buf, .end = buf + len, .max_depth = max_depth};
	struct codec_span el[CODEC_MAX_ELEMS];
	const struct wamp_schema *schema;
	unsigned major;
	uint64_t count, type;
	uint8_t ai;
	int n = 0;

	if (!cb_head(&s, &major, &count, &ai))
		return codec_fail(err, errlen, "malformed CBOR: %s", s.err);
	if (major != 4)
		return codec_fail(err, errlen, "a message must be an array");
	for (;;) {
		if (count == CB_INDEFINITE) {
			if (s.p < s.end && *s.p == 0xff) {
				s.p++;
				break;
			}
		} else if ((uint64_t)n == count) {
			break;
		}
		if (n == CODEC_MAX_ELEMS)
			return codec_fail(err, errlen, "message array of more than %d elements",
			                  CODEC_MAX_ELEMS);
		el[n].p = s.p;
		s.nonfinite = false;
		if (!cb_skip(&s, 2))
			return codec_fail(err, errlen, "malformed CBOR: %s (element %d)", s.err, n);
		el[n].n = (size_t)(s.p - el[n].p);
		el[n].nonfinite = s.nonfinite;
		n++;
	}
	if (s.p != s.end)
		return codec_fail(err, errlen, "trailing bytes after the message");
	if (n == 0)
		return codec_fail(err, errlen, "empty message array");
	if (!cb_field_uint(&el[0], &type) || type > WAMP_TYPE__MAX ||
	    !(schema = wamp_schema((int)type)))
		return codec_fail(err, errlen, "unknown message type");
	return codec_decode_fields(&cb_reader, (int)type, schema, el, n, msg, err, errlen);
}

/* ---------------------------------------------------------------------------------- */
/* writing                                                                              */

/* Append one head written by a libcbor encoder. */
#define CB_PUT(o, call)                                                                    \
	do {                                                                               \
		unsigned char h_[16];                                                      \
		size_t n_ = (call);                                                        \
		if (!n_ || !wamp_out_append((o), h_, n_))                                  \
			return false;                                                      \
	} while (0)

static bool cb_put_uint(struct wamp_out **o, uint64_t v)
{
	CB_PUT(o, cbor_encode_uint(v, h_, sizeof(h_)));
	return true;
}

static bool cb_put_string(struct wamp_out **o, const char *s, size_t n, bool bytes)
{
	CB_PUT(o, bytes ? cbor_encode_bytestring_start(n, h_, sizeof(h_))
	                : cbor_encode_string_start(n, h_, sizeof(h_)));
	return wamp_out_append(o, s, n);
}

static bool cb_put_json(struct wamp_out **o, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		void *iter;

		CB_PUT(o, cbor_encode_map_start(json_object_size(v), h_, sizeof(h_)));
		for (iter = json_object_iter((json_t *)v); iter;
		     iter = json_object_iter_next((json_t *)v, iter))
			if (!cb_put_string(o, json_object_iter_key(iter), json_object_iter_key_len(iter),
			                   false) ||
			    !cb_put_json(o, json_object_iter_value(iter)))
				return false;
		return true;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		CB_PUT(o, cbor_encode_array_start(json_array_size(v), h_, sizeof(h_)));
		json_array_foreach(v, i, item)
			if (!cb_put_json(o, item))
				return false;
		return true;
	}
	case JSON_STRING: {
		uint8_t *bin;
		size_t n;
		bool ok;

		if (codec_json_binary(v, &bin, &n)) {
			ok = cb_put_string(o, (const char *)bin, n, true);
			free(bin);
			return ok;
		}
		return cb_put_string(o, json_string_value(v), json_string_length(v), false);
	}
	case JSON_INTEGER: {
		json_int_t i = json_integer_value(v);

		if (i >= 0)
			return cb_put_uint(o, (uint64_t)i);
		CB_PUT(o, cbor_encode_negint((uint64_t)(-(i + 1)), h_, sizeof(h_)));
		return true;
	}
	case JSON_REAL:
		CB_PUT(o, cbor_encode_double(json_real_value(v), h_, sizeof(h_)));
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		CB_PUT(o, cbor_encode_bool(json_is_true(v), h_, sizeof(h_)));
		return true;
	default:
		CB_PUT(o, cbor_encode_null(h_, sizeof(h_)));
		return true;
	}
}

/* the primitives of the schema walk (codec_encode_fields); the state is the wamp_out ** */
static bool cw_begin(void *w, size_t count)
{
	CB_PUT(w, cbor_encode_array_start(count, h_, sizeof(h_)));
	return true;
}

static bool cw_uint(void *w, uint64_t v)
{
	return cb_put_uint(w, v);
}

static bool cw_string(void *w, const char *s, size_t n)
{
	return cb_put_string(w, s, n, false);
}

static bool cw_json(void *w, const json_t *v)
{
	return cb_put_json(w, v);
}

static bool cw_bytes(void *w, const uint8_t *p, size_t n)
{
	return wamp_out_append(w, p, n);
}

static const struct codec_writer cb_writer = {
	.ser = WAMP_SER_CBOR,
	.begin = cw_begin,
	.uint = cw_uint,
	.string = cw_string,
	.json = cw_json,
	.bytes = cw_bytes,
	.empty_dict = (const uint8_t *)"\xa0",
	.empty_list = (const uint8_t *)"\x80",
	.empty_len = 1,
	.json_err = WAMPD_ERR_NOMEM,
};

struct wamp_out *cb_encode(const struct wamp_msg *msg, enum wampd_err *err)
{
	const struct wamp_schema *schema = wamp_schema(msg->type);
	struct wamp_out *o;

	if (!schema) {
		*err = WAMPD_ERR_INTERNAL;
		return NULL;
	}
	if (!(o = wamp_out_new(48 + msg->uri_len + wamp_payload_span_len(&msg->payload) * 2))) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	*err = WAMPD_OK;
	if (!codec_encode_fields(&cb_writer, &o, msg, schema, err)) {
		wamp_out_unref(o);
		if (*err == WAMPD_OK)
			*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	return o;
}
