/*
 * json.c - the JSON codec (wamp.2.json).
 *
 * Decoding: a validating scanner walks the message once, checking the whole text against
 * RFC 8259 (strings with their escapes and UTF-8, numbers, literals, nesting up to the
 * depth limit) and recording the byte span of each top-level element of the message array,
 * marking an element that holds a number overflowing a double (1e999: codec_span.nonfinite,
 * see validate.c).
 * Only the header fields are then decoded: integers by hand, strings by an unescaper,
 * Options/Details dicts by jansson (an empty `{}` needs no allocation at all). Arguments and
 * ArgumentsKw stay as spans: a router forwarding them to another JSON peer copies bytes.
 *
 * Encoding: written by hand, jansson values included (js_write_value: several times
 * cheaper than json_dumpb); payload spans are copied (or converted once from another
 * serializer through jansson values).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "serializers/codec_walk.h"

/* ---------------------------------------------------------------------------------- */
/* scanner                                                                              */

struct jscan {
	const uint8_t *p;
	const uint8_t *end;
	unsigned max_depth;
	const char *err;
	bool nonfinite;     /* a number that overflows a double (e.g. 1e999) was scanned */
};

static void js_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Read 4 hex digits at p (caller checked 4 bytes exist). -1 if not hex. */
static long js_hex4(const uint8_t *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hex_digit(p[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

/*
 * Bytes of s[0..n) that need no attention in a string, counted from s: none below 0x20,
 * no '"', no '\\', and, when `ascii`, none from 0x80 (UTF-8 to validate). Eight at a time
 * while all of them are plain (the usual case), then byte by byte.
 */
static size_t json_plain_run(const unsigned char *s, size_t n, bool ascii)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, quote, bslash, ctl;

		memcpy(&w, s + i, 8);
		/* (x - 0x01..) & ~x has the high bit of some byte set iff some byte of x is 0 */
		quote = w ^ 0x2222222222222222ull;
		bslash = w ^ 0x5c5c5c5c5c5c5c5cull;
		/* high bit clear in ctl for bytes below 0x20 (among bytes below 0x80) */
		ctl = (w & 0x7f7f7f7f7f7f7f7full) + 0x6060606060606060ull;
		if ((((quote - ones) & ~quote) | ((bslash - ones) & ~bslash) | (~ctl & ~w) |
		     (ascii ? w : 0)) & highs)
			break;
	}
	while (i < n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && (!ascii || s[i] < 0x80))
		i++;
	return i;
}


static bool js_string(struct jscan *s)
{
	s->p++; /* opening quote */
	while (s->p < s->end) {
		uint8_t c;

		s->p += json_plain_run(s->p, (size_t)(s->end - s->p), true);
		if (s->p == s->end)
			break;
		c = *s->p;

		if (c == '"') {
			s->p++;
			return true;
		}
		if (c < 0x20) {
			s->err = "control character in a string";
			return false;
		}
		if (c == '\\') {
			if (s->end - s->p < 2)
				break;
			c = s->p[1];
			if (c == 'u') {
				long cp;

				if (s->end - s->p < 6 || (cp = js_hex4(s->p + 2)) < 0) {
					s->err = "invalid \\u escape";
					return false;
				}
				s->p += 6;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					long lo;

					if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
					    (lo = js_hex4(s->p + 2)) < 0xdc00 || lo > 0xdfff) {
						s->err = "unpaired surrogate in a \\u escape";
						return false;
					}
					s->p += 6;
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					s->err = "unpaired surrogate in a \\u escape";
					return false;
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || c == 0) {
				s->err = "invalid escape in a string";
				return false;
			}
			s->p += 2;
			continue;
		}
		if (c >= 0x80) {
			/* one UTF-8 sequence */
			size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

			if ((size_t)(s->end - s->p) < len || !codec_utf8_valid(s->p, len)) {
				s->err = "invalid UTF-8 in a string";
				return false;
			}
			s->p += len;
			continue;
		}
		s->p++;
	}
	s->err = "unterminated string";
	return false;
}

static bool js_digits(struct jscan *s)
{
	const uint8_t *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/*
 * Does the real number literal p[0..n) overflow a double (strtod gives +-HUGE_VAL with
 * ERANGE, which jansson refuses as "real number overflow")? Only asked for literals whose
 * magnitude may reach 1e308 (rare), so the copy strtod needs costs nothing in the usual case.
 */
static bool js_real_overflows(const uint8_t *p, size_t n)
{
	char small[64], *text = n < sizeof(small) ? small : malloc(n + 1);
	double d;
	bool over;

	if (!text)
		return true; /* cannot tell: refused like an overflow rather than let through */
	memcpy(text, p, n);
	text[n] = '\0';
	errno = 0;
	d = strtod(text, NULL);
	over = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
	if (text != small)
		free(text);
	return over;
}

/* A number (RFC 8259 grammar). A real (with fraction or exponent) whose decimal magnitude
 * bound, integer digits + exponent, passes 308 is checked for overflowing a double (sets
 * s->nonfinite): JSON cannot carry what it would become, and jansson refuses it. */
static bool js_number(struct jscan *s)
{
	const uint8_t *start = s->p;
	int64_t magnitude = 0, exp = 0;
	bool real = false, negexp = false;

	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
	} else {
		const uint8_t *digits = s->p;

		if (!js_digits(s)) {
			s->err = "invalid number";
			return false;
		}
		magnitude = s->p - digits;
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		real = true;
		if (!js_digits(s)) {
			s->err = "invalid number";
			return false;
		}
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		real = true;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			negexp = *s->p++ == '-';
		if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
			s->err = "invalid number";
			return false;
		}
		for (; s->p < s->end && *s->p >= '0' && *s->p <= '9'; s->p++)
			if (exp < 1000000) /* saturates: far beyond any double either way */
				exp = exp * 10 + (*s->p - '0');
	}
	if (real && magnitude + (negexp ? -exp : exp) > 308 &&
	    js_real_overflows(start, (size_t)(s->p - start)))
		s->nonfinite = true;
	return true;
}

static bool js_literal(struct jscan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n)) {
		s->err = "invalid literal";
		return false;
	}
	s->p += n;
	return true;
}

/* One value at s->p (whitespace already skipped), nested at `depth` (1 = top level). */
static bool js_value(struct jscan *s, unsigned depth)
{
	if (s->p >= s->end) {
		s->err = "unexpected end of input";
		return false;
	}
	switch (*s->p) {
	case '"':
		return js_string(s);
	case '[':
	case '{': {
		bool object = *s->p == '{';
		uint8_t close = object ? '}' : ']';

		if (depth > s->max_depth) {
			s->err = "nesting too deep";
			return false;
		}
		s->p++;
		js_ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		for (;;) {
			if (object) {
				if (s->p >= s->end || *s->p != '"') {
					s->err = "object key must be a string";
					return false;
				}
				if (!js_string(s))
					return false;
				js_ws(s);
				if (s->p >= s->end || *s->p != ':') {
					s->err = "expected ':'";
					return false;
				}
				s->p++;
				js_ws(s);
			}
			if (!js_value(s, depth + 1))
				return false;
			js_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				js_ws(s);
				continue;
			}
			if (s->p < s->end && *s->p == close) {
				s->p++;
				return true;
			}
			s->err = object ? "expected ',' or '}'" : "expected ',' or ']'";
			return false;
		}
	}
	case 't':
		return js_literal(s, "true");
	case 'f':
		return js_literal(s, "false");
	case 'n':
		return js_literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return js_number(s);
		s->err = "unexpected character";
		return false;
	}
}

/*
 * Validate the whole message and collect the spans of the top-level array's elements.
 * Returns the element count, or -1 (s->err set).
 */
static int js_scan_message(struct jscan *s, struct codec_span *elems)
{
	int n = 0;

	js_ws(s);
	if (s->p >= s->end || *s->p != '[') {
		s->err = "a message must be a JSON array";
		return -1;
	}
	s->p++;
	js_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
	} else {
		for (;;) {
			const uint8_t *start = s->p;

			s->nonfinite = false;
			if (!js_value(s, 2))
				return -1;
			if (n < CODEC_MAX_ELEMS) {
				elems[n].p = start;
				elems[n].n = (size_t)(s->p - start);
				elems[n].nonfinite = s->nonfinite;
			}
			n++;
			js_ws(s);
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				js_ws(s);
				continue;
			}
			if (s->p < s->end && *s->p == ']') {
				s->p++;
				break;
			}
			s->err = "expected ',' or ']'";
			return -1;
		}
	}
	js_ws(s);
	if (s->p != s->end) {
		s->err = "trailing bytes after the message";
		return -1;
	}
	return n;
}

/* ---------------------------------------------------------------------------------- */
/* field decoding                                                                       */

/* A non-negative integer literal (no sign, fraction or exponent) up to 2^53. */
static bool json_field_uint(const struct codec_span *e, uint64_t *out)
{
	uint64_t v = 0;

	if (e->n == 0 || e->n > 16)
		return false;
	for (size_t i = 0; i < e->n; i++) {
		if (e->p[i] < '0' || e->p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(e->p[i] - '0');
	}
	if (e->n > 1 && e->p[0] == '0')
		return false;
	*out = v;
	return true;
}

/* Append the UTF-8 encoding of cp to out. */
static size_t utf8_put(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Unescape a validated JSON string span (with its quotes) into msg->uri. */
static bool json_field_string(const struct codec_span *e, struct wamp_msg *msg)
{
	const uint8_t *p = e->p + 1, *end = e->p + e->n - 1;
	uint8_t small[128], *buf = small;
	size_t o = 0;
	bool ok;

	if (e->n - 2 > sizeof(small) && !(buf = malloc(e->n)))
		return false;
	while (p < end) {
		if (*p != '\\') {
			buf[o++] = *p++;
			continue;
		}
		switch (p[1]) {
		case 'u': {
			uint32_t cp = (uint32_t)js_hex4(p + 2);

			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = (uint32_t)js_hex4(p + 2);

				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			o += utf8_put(buf + o, cp);
			continue;
		}
		case 'b':
			buf[o++] = '\b';
			break;
		case 'f':
			buf[o++] = '\f';
			break;
		case 'n':
			buf[o++] = '\n';
			break;
		case 'r':
			buf[o++] = '\r';
			break;
		case 't':
			buf[o++] = '\t';
			break;
		default: /* " \ / */
			buf[o++] = p[1];
			break;
		}
		p += 2;
	}
	ok = codec_set_uri(msg, o ? (const char *)buf : "", o);
	if (buf != small)
		free(buf);
	return ok;
}

/* true if the span is `{` whitespace `}`. */
static bool json_empty_object(const struct codec_span *e)
{
	size_t i = 1;

	if (e->n < 2 || e->p[0] != '{')
		return false;
	while (i < e->n - 1 && (e->p[i] == ' ' || e->p[i] == '\t' || e->p[i] == '\n' ||
	                        e->p[i] == '\r'))
		i++;
	return i == e->n - 1 && e->p[i] == '}';
}

json_t *js_span_value(const uint8_t *p, size_t n)
{
	return json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* the primitives of the schema walk (codec_decode_fields) on scanned JSON elements */
static enum wampd_err jr_string(const struct codec_span *e, struct wamp_msg *msg)
{
	if (e->p[0] != '"')
		return WAMPD_ERR_PROTOCOL;
	return json_field_string(e, msg) ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

static bool jr_is_dict(const struct codec_span *e)
{
	return e->p[0] == '{';
}

static bool jr_is_list(const struct codec_span *e)
{
	return e->p[0] == '[';
}

/* A transparent binary Payload: a string in the "\u0000" + base64 form, with valid base64
 * (else it is no binary and the message is refused: Arguments must be a list). Parsed only
 * when the prefix matches, so list payloads cost nothing here. */
static bool jr_is_binary(const struct codec_span *e)
{
	json_t *v;
	uint8_t *bin = NULL;
	size_t n = 0;
	bool ok;

	if (e->n < 7 || memcmp(e->p, "\"\\u0000", 7))
		return false;
	if (!(v = json_loadb((const char *)e->p, e->n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)))
		return false;
	ok = codec_json_binary(v, &bin, &n);
	free(bin);
	json_decref(v);
	return ok;
}

static json_t *jr_dict(const struct codec_span *e, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v = json_loadb((const char *)e->p, e->n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	/* the scanner accepted the bytes: what jansson refuses is a NUL in a key */
	if (!v)
		snprintf(err, errlen, "%s", jerr.text);
	return v;
}

static const struct codec_reader json_reader = {
	.uint = json_field_uint,
	.string = jr_string,
	.string_kind = "a string",
	.is_dict = jr_is_dict,
	.is_empty_dict = json_empty_object,
	.is_list = jr_is_list,
	.is_binary = jr_is_binary,
	.dict = jr_dict,
};

enum wampd_err js_decode(const uint8_t *buf, size_t len, unsigned max_depth,
                           struct wamp_msg *msg, char *err, size_t errlen)
{
	struct jscan s = {.p = buf, .end = buf + len, .max_depth = max_depth};
	struct codec_span el[CODEC_MAX_ELEMS];
	const struct wamp_schema *schema;
	uint64_t type;
	int n;

	n = js_scan_message(&s, el);
	if (n < 0)
		return codec_fail(err, errlen, "malformed JSON: %s at byte %zu", s.err,
		                  (size_t)(s.p - buf));
	if (n == 0)
		return codec_fail(err, errlen, "empty message array");
	if (!json_field_uint(&el[0], &type) || !(schema = wamp_schema((int)type)) ||
	    type > WAMP_TYPE__MAX)
		return codec_fail(err, errlen, "unknown message type %.*s",
		                  (int)(el[0].n > 20 ? 20 : el[0].n), el[0].p);
	return codec_decode_fields(&json_reader, (int)type, schema, el, n, msg, err, errlen);
}

/* ---------------------------------------------------------------------------------- */
/* encoding                                                                             */

/* Decimal digits of v, written backwards ending at end; returns the first digit. */
static char *out_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static bool out_uint(struct wamp_out **o, uint64_t v)
{
	char buf[24], *p = out_digits(buf + sizeof(buf), v);

	return wamp_out_append(o, p, (size_t)(buf + sizeof(buf) - p));
}

static bool out_int(struct wamp_out **o, int64_t v)
{
	char buf[24], *p;

	/* the magnitude of INT64_MIN does not fit an int64_t: negate as unsigned */
	p = out_digits(buf + sizeof(buf), v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	return wamp_out_append(o, p, (size_t)(buf + sizeof(buf) - p));
}

/* A JSON string literal for s[0..n) (UTF-8 passed through, '"', '\\' and control
 * characters escaped, as jansson does). */
static bool out_json_string(struct wamp_out **o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (!wamp_out_reserve(o, n + 2) || !wamp_out_append(o, "\"", 1))
		return false;
	while (i < n) {
		size_t run = json_plain_run(u + i, n - i, false);
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t elen = 2;

		if (run && !wamp_out_append(o, s + i, run))
			return false;
		if ((i += run) == n)
			break;
		switch (u[i]) {
		case '"':
		case '\\':
			esc[1] = (char)u[i];
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 15];
			elen = 6;
		}
		if (!wamp_out_append(o, esc, elen))
			return false;
		i++;
	}
	return wamp_out_append(o, "\"", 1);
}

/* A real as jansson writes it with JSON_REAL_PRECISION(17): "%.17g", ".0" added when that
 * looks like an integer, the exponent without '+' or leading zeros. */
static bool out_real(struct wamp_out **o, double d)
{
	char buf[40], *e;
	int n = snprintf(buf, sizeof(buf) - 2, "%.17g", d);

	if (n <= 0 || (size_t)n >= sizeof(buf) - 2)
		return false;
	if ((e = strchr(buf, 'e'))) {
		char *src = e + 1, *dst = e + 1;

		if (*src == '-')
			*dst++ = *src++;
		else if (*src == '+')
			src++;
		while (*src == '0' && src[1])
			src++;
		memmove(dst, src, strlen(src) + 1);
		n = (int)strlen(buf);
	} else if (!strchr(buf, '.')) { /* nan/inf cannot occur: jansson refuses them */
		buf[n++] = '.';
		buf[n++] = '0';
	}
	return wamp_out_append(o, buf, (size_t)n);
}

/*
 * Write a jansson value as compact JSON (objects in their insertion order, as json_dumpb
 * does). Written here rather than by json_dumpb, which costs several times more per value
 * (every WELCOME, every Details dict). Depth: values come from decoded messages (already
 * held to the nesting limit) or from the router itself.
 */
bool js_write_value(struct wamp_out **o, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		const json_t *val;
		bool first = true;
		void *it;

		if (!wamp_out_append(o, "{", 1))
			return false;
		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			key = json_object_iter_key(it);
			val = json_object_iter_value(it);
			if ((!first && !wamp_out_append(o, ",", 1)) ||
			    !out_json_string(o, key, json_object_iter_key_len(it)) ||
			    !wamp_out_append(o, ":", 1) || !js_write_value(o, val))
				return false;
			first = false;
		}
		return wamp_out_append(o, "}", 1);
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);

		if (!wamp_out_append(o, "[", 1))
			return false;
		for (size_t i = 0; i < n; i++)
			if ((i && !wamp_out_append(o, ",", 1)) ||
			    !js_write_value(o, json_array_get(v, i)))
				return false;
		return wamp_out_append(o, "]", 1);
	}
	case JSON_STRING:
		return out_json_string(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return out_int(o, json_integer_value(v));
	case JSON_REAL:
		return out_real(o, json_real_value(v));
	case JSON_TRUE:
		return wamp_out_append(o, "true", 4);
	case JSON_FALSE:
		return wamp_out_append(o, "false", 5);
	case JSON_NULL:
		return wamp_out_append(o, "null", 4);
	}
	return false;
}

/* the primitives of the schema walk (codec_encode_fields); the state is the wamp_out ** */
static bool jw_begin(void *w, size_t count)
{
	(void)count;
	return wamp_out_append(w, "[", 1);
}

static bool jw_end(void *w)
{
	return wamp_out_append(w, "]", 1);
}

static bool jw_sep(void *w)
{
	return wamp_out_append(w, ",", 1);
}

static bool jw_uint(void *w, uint64_t v)
{
	return out_uint(w, v);
}

static bool jw_string(void *w, const char *s, size_t n)
{
	return out_json_string(w, s, n);
}

static bool jw_json(void *w, const json_t *v)
{
	return js_write_value(w, v);
}

static bool jw_bytes(void *w, const uint8_t *p, size_t n)
{
	return wamp_out_append(w, p, n);
}

static const struct codec_writer json_writer = {
	.ser = WAMP_SER_JSON,
	.begin = jw_begin,
	.end = jw_end,
	.sep = jw_sep,
	.uint = jw_uint,
	.string = jw_string,
	.json = jw_json,
	.bytes = jw_bytes,
	.empty_dict = (const uint8_t *)"{}",
	.empty_list = (const uint8_t *)"[]",
	.empty_len = 2,
	.json_err = WAMPD_ERR_SERIALIZATION, /* the value cannot be written as JSON */
};

struct wamp_out *js_encode(const struct wamp_msg *msg, enum wampd_err *err)
{
	const struct wamp_schema *schema = wamp_schema(msg->type);
	struct wamp_out *o;

	if (!schema) {
		*err = WAMPD_ERR_INTERNAL;
		return NULL;
	}
	o = wamp_out_new(64 + msg->uri_len * 2 + wamp_payload_span_len(&msg->payload) * 2);
	if (!o) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	*err = WAMPD_OK;
	if (!codec_encode_fields(&json_writer, &o, msg, schema, err)) {
		wamp_out_unref(o);
		if (*err == WAMPD_OK)
			*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	return o;
}
