/*
 * codec_internal.h - what the codecs of serializers/ share (not for other layers).
 */
#ifndef WAMPD_SERIALIZERS_CODEC_INTERNAL_H
#define WAMPD_SERIALIZERS_CODEC_INTERNAL_H

#include <stdarg.h>

#include "serializers/codec.h"

/* What a codec does: a row's codec in the serializer descriptor table (serializer.c). */
struct wamp_codec_ops {
	enum wampd_err (*decode)(const uint8_t *buf, size_t len, unsigned max_depth,
	                         struct wamp_msg *msg, char *err, size_t errlen);
	struct wamp_out *(*encode)(const struct wamp_msg *msg, enum wampd_err *err);
	json_t *(*value)(const uint8_t *p, size_t n); /* one payload element as json_t */
};

/* Top-level elements a WAMP message can have (ERROR: 7) plus one to detect excess. */
#define CODEC_MAX_ELEMS 8

/* Byte span of one top-level element; `nonfinite`: the scanner met a number inside it that
 * is NaN or +-Infinity (MessagePack/CBOR floats) or overflows a double (a JSON literal such
 * as 1e999), which JSON cannot carry and jansson cannot hold. */
struct codec_span {
	const uint8_t *p;
	size_t n;
	bool nonfinite;
};

/* true if the IEEE 754 binary float of `bytes` octets (2: half, 4: single, 8: double) whose
 * bits are `bits` is NaN or +-Infinity (its exponent field all ones). */
static inline bool codec_float_nonfinite(uint64_t bits, unsigned bytes)
{
	unsigned mantissa = bytes == 2 ? 10 : bytes == 4 ? 23 : 52;
	uint64_t ones = bytes == 2 ? 0x1f : bytes == 4 ? 0xff : 0x7ff;

	return ((bits >> mantissa) & ones) == ones;
}

/* Write a reason into err (if any) and return WAMPD_ERR_PROTOCOL. */
enum wampd_err codec_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* true if s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
bool codec_utf8_valid(const uint8_t *s, size_t n);

/* Copy a string field into msg->uri (inline storage or heap). false on NOMEM. */
bool codec_set_uri(struct wamp_msg *msg, const char *s, size_t n);

/* Binary convention: "\0" + base64 <-> bytes. */
json_t *codec_binary_to_json(const uint8_t *bytes, size_t n);
/* If v is a "\0"+base64 string, decode it into *out (malloc'd, caller frees) and return
 * true; *out_len set. Returns false for other strings (and for invalid base64). */
bool codec_json_binary(const json_t *v, uint8_t **out, size_t *out_len);

/*
 * The schema walk every codec shares (codec_walk.h). A codec finds its message's top-level
 * element spans and its schema (its own format), then codec_decode_fields checks the
 * element count and turns each element into the message's fields by the schema, asking the
 * codec's primitives (struct codec_reader) what an element is. Encoding is the same walk the
 * other way: codec_encode_fields writes the schema's fields through the codec's primitives
 * (struct codec_writer) into the codec's writer state.
 */
struct codec_reader {
	/* An unsigned integer element: true and *v, or false. */
	bool (*uint)(const struct codec_span *e, uint64_t *v);
	/* A string element into msg->uri: WAMPD_OK, WAMPD_ERR_PROTOCOL (not a string / not
	 * UTF-8: the walker says so, naming string_kind) or WAMPD_ERR_NOMEM. */
	enum wampd_err (*string)(const struct codec_span *e, struct wamp_msg *msg);
	const char *string_kind;  /* "a string", "a UTF-8 string": for that error */
	bool (*is_dict)(const struct codec_span *e);
	bool (*is_empty_dict)(const struct codec_span *e); /* a dict span known to be one */
	bool (*is_list)(const struct codec_span *e);
	bool (*is_binary)(const struct codec_span *e);     /* a transparent binary Payload */
	/* A non-empty dict element as json_t (new reference); NULL on failure, with a reason
	 * in err when the codec has a specific one (else dict_why is reported). */
	json_t *(*dict)(const struct codec_span *e, char *err, size_t errlen);
	const char *dict_why;
};


struct codec_writer {
	enum wamp_ser ser;        /* a payload span already in it is copied as it is */
	/* The message array of `count` elements starts / ends (JSON: "[" / "]"). */
	bool (*begin)(void *w, size_t count);
	bool (*end)(void *w);
	bool (*sep)(void *w);     /* between two elements (JSON: ","), or NULL */
	bool (*uint)(void *w, uint64_t v);
	bool (*string)(void *w, const char *s, size_t n);
	bool (*json)(void *w, const json_t *v);     /* any value ("\0"+base64: binary) */
	bool (*bytes)(void *w, const uint8_t *p, size_t n); /* encoded bytes, as they are */
	const uint8_t *empty_dict, *empty_list;     /* their encoding (one octet or "{}"/"[]") */
	size_t empty_len;
	enum wampd_err json_err;  /* what a failing json() means (NOMEM, or SERIALIZATION) */
};


/* JSON (json.c; prefixed js_, like mp_ and cb_: json_ is jansson's namespace) */
enum wampd_err js_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                           struct wamp_msg *msg, char *err, size_t errlen);
struct wamp_out *js_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Append v as compact JSON text. false on NOMEM. */
bool js_write_value(struct wamp_out **o, const json_t *v);
/* Decode one JSON value (a payload element) into json_t. NULL on failure. */
json_t *js_span_value(const uint8_t *p, size_t n);

/* MessagePack (msgpack.c) */
enum wampd_err mp_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *err, size_t errlen);
struct wamp_out *mp_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Decode one msgpack value (payload element or dict) into json_t; `drop_undefined` drops
 * dict keys whose value is an ext (JS undefined). NULL on failure. */
json_t *mp_span_value(const uint8_t *p, size_t n, bool drop_undefined);

/* CBOR (cbor.c, built with libcbor) */
enum wampd_err cb_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *err, size_t errlen);
struct wamp_out *cb_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Decode one CBOR value (a payload element or dict) into json_t; undefined map values are
 * dropped. NULL on failure. */
json_t *cb_span_value(const uint8_t *p, size_t n);

/* The payload element (args or kwargs) of p as json_t, whatever its form. *err set. */
json_t *payload_element(const struct wamp_payload *p, bool kwargs, enum wampd_err *err);

#endif
