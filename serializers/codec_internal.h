/*
 * codec_internal.h - what the codecs of serializers/ share (not for other layers).
 */
#ifndef WAMPD_SERIALIZERS_CODEC_INTERNAL_H
#define WAMPD_SERIALIZERS_CODEC_INTERNAL_H

#include <stdarg.h>

#include "serializers/codec.h"

/* Top-level elements a WAMP message can have (ERROR: 7) plus one to detect excess. */
#define CODEC_MAX_ELEMS 8

/* Byte span of one top-level element. */
struct codec_span {
	const uint8_t *p;
	size_t n;
};

/* Write a reason into errbuf (if any) and return WAMPD_ERR_PROTOCOL. */
enum wampd_err codec_fail(char *errbuf, size_t errlen, const char *fmt, ...)
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

/* JSON (json.c) */
enum wampd_err json_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                           struct wamp_msg *msg, char *errbuf, size_t errlen);
struct wamp_out *json_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Append v as compact JSON text. false on NOMEM. */
bool json_write_value(struct wamp_out **o, const json_t *v);
/* Decode one JSON value (a payload element) into json_t. NULL on failure. */
json_t *json_span_value(const uint8_t *p, size_t n);

/* MessagePack (msgpack.c) */
enum wampd_err mp_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *errbuf, size_t errlen);
struct wamp_out *mp_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Decode one msgpack value (payload element or dict) into json_t; `drop_undefined` drops
 * dict keys whose value is an ext (JS undefined). NULL on failure. */
json_t *mp_span_value(const uint8_t *p, size_t n, bool drop_undefined);

/* CBOR (cbor.c, built with libcbor) */
enum wampd_err cb_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                         struct wamp_msg *msg, char *errbuf, size_t errlen);
struct wamp_out *cb_encode(const struct wamp_msg *msg, enum wampd_err *err);
/* Decode one CBOR value (a payload element or dict) into json_t; undefined map values are
 * dropped. NULL on failure. */
json_t *cb_span_value(const uint8_t *p, size_t n);

/* The payload element (args or kwargs) of p as json_t, whatever its form. *err set. */
json_t *payload_element(const struct wamp_payload *p, bool kwargs, enum wampd_err *err);

#endif
