/*
 * value.c - the value API of libwampc (wampc.h), and payload decoding.
 *
 * A wampc_value is a jansson json_t: the value type of wampd's message model (Options and
 * Details are json_t, and payload values are encoded from json_t by every codec), so a
 * value the application builds is encoded straight into its message, with no conversion
 * layer of our own. Bytes follow the model's convention: a string of a NUL character and
 * the base64 of the bytes, which the MessagePack and CBOR codecs write as binary and the
 * JSON codec as that string (serializers/codec.c). The constructors check UTF-8 (jansson
 * does) so that no value can make an encoder fail later.
 *
 * Ownership follows jansson's "_new" functions: containers take the element's reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"
#include "serializers/codec_internal.h"

#define J(v) ((json_t *)(v))
#define CJ(v) ((const json_t *)(v))
#define V(j) ((wampc_value *)(j))

wampc_value *wampc_null(void)
{
	return V(json_null());
}

wampc_value *wampc_bool(bool b)
{
	return V(json_boolean(b));
}

wampc_value *wampc_int(int64_t i)
{
	return V(json_integer((json_int_t)i));
}

wampc_value *wampc_float(double d)
{
	return V(json_real(d));
}

wampc_value *wampc_string(const char *s)
{
	return s ? wampc_stringn(s, strlen(s)) : NULL;
}

wampc_value *wampc_stringn(const char *s, size_t n)
{
	if (!s || (n && s[0] == '\0'))
		return NULL; /* a leading NUL is the bytes convention: use wampc_bytes */
	return V(json_stringn(s, n));
}

wampc_value *wampc_bytes(const void *p, size_t n)
{
	return p || !n ? V(codec_binary_to_json(p, n)) : NULL;
}

wampc_value *wampc_array(void)
{
	return V(json_array());
}

wampc_value *wampc_map(void)
{
	return V(json_object());
}

enum wampd_err wampc_array_append(wampc_value *a, wampc_value *v)
{
	if (!json_is_array(J(a)) || !v) {
		json_decref(J(v));
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	return json_array_append_new(J(a), J(v)) == 0 ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

enum wampd_err wampc_map_set(wampc_value *m, const char *key, wampc_value *v)
{
	if (!json_is_object(J(m)) || !key || !v) {
		json_decref(J(v));
		return WAMPD_ERR_INVALID_ARGUMENT;
	}
	return json_object_set_new(J(m), key, J(v)) == 0 ? WAMPD_OK : WAMPD_ERR_INVALID_ARGUMENT;
}

void wampc_value_free(wampc_value *v)
{
	json_decref(J(v));
}

wampc_value *wampc_value_copy(const wampc_value *v)
{
	return v ? V(json_deep_copy(CJ(v))) : NULL;
}

static bool is_bytes(const json_t *j)
{
	return json_is_string(j) && json_string_length(j) > 0 && json_string_value(j)[0] == '\0';
}

enum wampc_kind wampc_value_kind(const wampc_value *v)
{
	const json_t *j = CJ(v);

	if (!j)
		return WAMPC_INVALID;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return WAMPC_MAP;
	case JSON_ARRAY:
		return WAMPC_ARRAY;
	case JSON_STRING:
		return is_bytes(j) ? WAMPC_BYTES : WAMPC_STRING;
	case JSON_INTEGER:
		return WAMPC_INT;
	case JSON_REAL:
		return WAMPC_FLOAT;
	case JSON_TRUE:
	case JSON_FALSE:
		return WAMPC_BOOL;
	default:
		return WAMPC_NULL;
	}
}

bool wampc_value_bool(const wampc_value *v, bool def)
{
	return json_is_boolean(CJ(v)) ? json_is_true(CJ(v)) : def;
}

int64_t wampc_value_int(const wampc_value *v, int64_t def)
{
	return json_is_integer(CJ(v)) ? (int64_t)json_integer_value(CJ(v)) : def;
}

double wampc_value_float(const wampc_value *v, double def)
{
	return json_is_number(CJ(v)) ? json_number_value(CJ(v)) : def;
}

const char *wampc_value_string(const wampc_value *v, size_t *len)
{
	if (!json_is_string(CJ(v)) || is_bytes(CJ(v)))
		return NULL;
	if (len)
		*len = json_string_length(CJ(v));
	return json_string_value(CJ(v));
}

long wampc_value_bytes(const wampc_value *v, void *buf, size_t cap)
{
	uint8_t *bin;
	size_t n;

	if (!is_bytes(CJ(v)) || !codec_json_binary(CJ(v), &bin, &n))
		return -1;
	if (n <= cap && n)
		memcpy(buf, bin, n);
	free(bin);
	return (long)n;
}

size_t wampc_array_size(const wampc_value *a)
{
	return json_array_size(CJ(a));
}

const wampc_value *wampc_array_get(const wampc_value *a, size_t i)
{
	return (const wampc_value *)json_array_get(CJ(a), i);
}

size_t wampc_map_size(const wampc_value *m)
{
	return json_object_size(CJ(m));
}

const wampc_value *wampc_map_get(const wampc_value *m, const char *key)
{
	return json_is_object(CJ(m)) && key ? (const wampc_value *)json_object_get(CJ(m), key)
	                                    : NULL;
}

void *wampc_map_iter(const wampc_value *m)
{
	return json_is_object(CJ(m)) ? json_object_iter(J(m)) : NULL;
}

void *wampc_map_next(const wampc_value *m, void *it)
{
	return it ? json_object_iter_next(J(m), it) : NULL;
}

const char *wampc_map_iter_key(void *it)
{
	return it ? json_object_iter_key(it) : NULL;
}

const wampc_value *wampc_map_iter_value(void *it)
{
	return it ? (const wampc_value *)json_object_iter_value(it) : NULL;
}

wampc_value *wampc_value_parse(const char *text, char *why, size_t why_len)
{
	json_error_t e;
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	                                    JSON_REJECT_DUPLICATES, &e) : NULL;

	if (!v && why && why_len)
		snprintf(why, why_len, "%s", text ? e.text : "no text");
	return V(v);
}

wampc_value *wampc_value_from_json(const char *text)
{
	return wampc_value_parse(text, NULL, 0);
}

char *wampc_value_to_json(const wampc_value *v)
{
	return v ? json_dumps(CJ(v), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* -------------------------------------------------------------------------- payloads */

static wampc_value *payload_part(const struct wampc_payload *p, bool kwargs, enum wampd_err *err)
{
	struct wamp_payload wp;
	enum wampd_err dummy, *e = err ? err : &dummy;

	*e = WAMPD_OK;
	if (!p)
		return NULL;
	wampc_payload_to(&wp, p);
	return V(kwargs ? wamp_payload_kwargs(&wp, e) : wamp_payload_args(&wp, e));
}

wampc_value *wampc_payload_args(const struct wampc_payload *p, enum wampd_err *err)
{
	return payload_part(p, false, err);
}

wampc_value *wampc_payload_kwargs(const struct wampc_payload *p, enum wampd_err *err)
{
	return payload_part(p, true, err);
}

/* ------------------------------------------------------------------ internal helpers */

bool opt_set(json_t **d, const char *key, json_t *v)
{
	if (!v || (!*d && !(*d = json_object()))) {
		json_decref(v);
		return false;
	}
	return json_object_set_new(*d, key, v) == 0;
}

bool wampc_uri_ok(const char *uri)
{
	return uri && *uri && codec_utf8_valid((const uint8_t *)uri, strlen(uri));
}

enum wampd_err wampc_payload_check(const struct wampc_payload *p)
{
	if (p && ((!p->args && p->args_v && !json_is_array(CJ(p->args_v))) ||
	          (!p->kwargs && p->kwargs_v && !json_is_object(CJ(p->kwargs_v))) ||
	          (p->args || p->kwargs ? !wamp_ser_supported((enum wamp_ser)p->ser) : false)))
		return WAMPD_ERR_INVALID_ARGUMENT;
	return WAMPD_OK;
}
