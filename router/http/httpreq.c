/*
 * httpreq.c - HTTP/1.x request head parsing and query strings (see httpreq.h).
 *
 * One pass over the head: the request line, then one header per line (CRLF only: a bare
 * LF is refused rather than taken as a line end, so no LF can split one header into two
 * here while a proxy in front sees one), each name and value checked for the characters
 * RFC 9110 allows there (a control character in a value is refused, not trimmed or
 * skipped: a bare CR would otherwise travel on to whatever echoes or logs the value); the
 * few headers the connection itself acts on (Content-Length, Transfer-Encoding,
 * Connection, Expect, Upgrade) are interpreted here, the rest are only located.
 *
 * Everything here works on (pointer, length) pairs: values point into a buffer that has no
 * NUL after them (the next header, the body, or the end of the heap block follows).
 * Content-Type parameters and Origin patterns are parsed the same way, by hand, for that
 * reason.
 */
#include "router/http/httpreq.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"

/* The next line in [p, end): 1 with its length without the CRLF in *len and *next after
 * it; 0 when its end has not arrived; -1 for a bare LF (no CR before it). */
static int next_line(const char *p, const char *end, size_t *len, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return 0;
	if (nl == p || nl[-1] != '\r')
		return -1;
	*next = nl + 1;
	*len = (size_t)(nl - 1 - p);
	return 1;
}

static bool has_token(const char *v, size_t n, const char *token)
{
	size_t k = strlen(token);

	for (size_t i = 0; i + k <= n; i++) {
		if (strncasecmp(v + i, token, k))
			continue;
		if ((i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t') &&
		    (i + k == n || v[i + k] == ',' || v[i + k] == ' ' || v[i + k] == '\t' ||
		     v[i + k] == ';'))
			return true;
	}
	return false;
}

/* tchar (RFC 9110 5.6.2) */
static bool tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The length of the run of token characters at s[0..n). */
static size_t token_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && tchar((unsigned char)s[i]))
		i++;
	return i;
}

bool http_field_name_ok(const char *s, size_t n)
{
	return n && token_len(s, n) == n;
}

bool http_field_value_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

static bool name_is(const struct http_header *h, const char *name)
{
	return h->name_len == strlen(name) && !strncasecmp(h->name, name, h->name_len);
}

static enum http_parse_result parse_request_line(const char *p, size_t n,
                                                 struct http_request *req)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *target, *q;
	size_t mlen, tlen;

	if (!sp1)
		return HTTP_PARSE_BAD;
	mlen = (size_t)(sp1 - p);
	if (!mlen || mlen >= sizeof(req->method))
		return HTTP_PARSE_BAD;
	for (size_t i = 0; i < mlen; i++)
		if (!isupper((unsigned char)p[i]))
			return HTTP_PARSE_BAD;
	memcpy(req->method, p, mlen);
	req->method[mlen] = '\0';
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - mlen - 1);
	if (!sp2)
		return HTTP_PARSE_BAD;
	tlen = (size_t)(sp2 - target);
	if (!tlen || target[0] != '/')
		return HTTP_PARSE_BAD;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' || target[i] == 0x7f)
			return HTTP_PARSE_BAD;
	if (n - (size_t)(sp2 + 1 - p) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    !isdigit((unsigned char)sp2[8]))
		return HTTP_PARSE_BAD;
	req->minor = sp2[8] - '0';
	q = memchr(target, '?', tlen);
	req->path = target;
	req->path_len = q ? (size_t)(q - target) : tlen;
	req->query = q ? q + 1 : NULL;
	req->query_len = q ? tlen - req->path_len - 1 : 0;
	return HTTP_PARSE_OK;
}

static enum http_parse_result interpret(struct http_request *req, const struct http_header *h)
{
	if (name_is(h, "content-length")) {
		int64_t v = 0;

		if (!h->value_len || h->value_len > 15)
			return HTTP_PARSE_BAD_LENGTH;
		for (size_t i = 0; i < h->value_len; i++) {
			if (!isdigit((unsigned char)h->value[i]))
				return HTTP_PARSE_BAD_LENGTH;
			v = v * 10 + (h->value[i] - '0');
		}
		if (req->content_length >= 0 && req->content_length != v)
			return HTTP_PARSE_BAD_LENGTH;
		req->content_length = v;
	} else if (name_is(h, "transfer-encoding")) {
		if (has_token(h->value, h->value_len, "chunked"))
			req->chunked = true;
	} else if (name_is(h, "connection")) {
		if (has_token(h->value, h->value_len, "close"))
			req->keep_alive = false;
		else if (has_token(h->value, h->value_len, "keep-alive"))
			req->keep_alive = true;
	} else if (name_is(h, "expect")) {
		if (h->value_len == 12 && !strncasecmp(h->value, "100-continue", 12))
			req->expect_continue = true;
	} else if (name_is(h, "upgrade")) {
		req->upgrade = true;
	}
	return HTTP_PARSE_OK;
}

enum http_parse_result http_parse_head(const char *buf, size_t len, struct http_request *req,
                                       size_t *head_len)
{
	const char *p = buf, *end = buf + len, *next;
	size_t n;
	enum http_parse_result r;
	bool connection_seen = false;
	int k;

	memset(req, 0, sizeof(*req));
	req->content_length = -1;
	if ((k = next_line(p, end, &n, &next)) < 0)
		return HTTP_PARSE_BAD;
	if (!k) {
		/* not even a full request line: still, reject garbage early */
		for (size_t i = 0; i < len && i < 16 && buf[i] != ' '; i++)
			if (!isupper((unsigned char)buf[i]))
				return HTTP_PARSE_BAD;
		return HTTP_PARSE_INCOMPLETE;
	}
	if ((r = parse_request_line(p, n, req)) != HTTP_PARSE_OK)
		return r;
	p = next;
	for (;;) {
		struct http_header h;
		const char *colon;

		if ((k = next_line(p, end, &n, &next)) <= 0)
			return k ? HTTP_PARSE_BAD : HTTP_PARSE_INCOMPLETE;
		if (n == 0) {
			p = next;
			break;
		}
		if (p[0] == ' ' || p[0] == '\t')
			return HTTP_PARSE_BAD; /* obsolete line folding */
		colon = memchr(p, ':', n);
		if (!colon || colon == p)
			return HTTP_PARSE_BAD;
		h.name = p;
		h.name_len = (size_t)(colon - p);
		h.value = colon + 1;
		h.value_len = n - h.name_len - 1;
		/* the whole value before trimming: a control character anywhere is refused */
		if (!http_field_name_ok(h.name, h.name_len) ||
		    !http_field_value_ok(h.value, h.value_len))
			return HTTP_PARSE_BAD;
		while (h.value_len && (*h.value == ' ' || *h.value == '\t'))
			h.value++, h.value_len--;
		while (h.value_len && (h.value[h.value_len - 1] == ' ' ||
		                       h.value[h.value_len - 1] == '\t'))
			h.value_len--;
		if (req->nheaders == HTTP_MAX_HEADERS)
			return HTTP_PARSE_TOO_MANY_HEADERS;
		if (name_is(&h, "connection"))
			connection_seen = true;
		req->headers[req->nheaders++] = h;
		if ((r = interpret(req, &h)) != HTTP_PARSE_OK)
			return r;
		p = next;
	}
	if (!connection_seen)
		req->keep_alive = req->minor >= 1; /* HTTP/1.1 default: persistent */
	*head_len = (size_t)(p - buf);
	return HTTP_PARSE_OK;
}

const char *http_header_get(const struct http_request *req, const char *name, size_t *len)
{
	for (size_t i = 0; i < req->nheaders; i++) {
		if (name_is(&req->headers[i], name)) {
			if (len)
				*len = req->headers[i].value_len;
			return req->headers[i].value;
		}
	}
	return NULL;
}

static size_t skip_ows(const char *v, size_t n, size_t i)
{
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	return i;
}

bool http_media_type(const char *v, size_t n, const char *type, const char **charset,
                     size_t *charset_len)
{
	size_t i = skip_ows(v, n, 0), start = i, k, tl = strlen(type);

	*charset = NULL;
	*charset_len = 0;
	/* type "/" subtype */
	if (!(k = token_len(v + i, n - i)))
		return false;
	i += k;
	if (i == n || v[i] != '/')
		return false;
	i++;
	if (!(k = token_len(v + i, n - i)))
		return false;
	i += k;
	if (i - start != tl || strncasecmp(v + start, type, tl))
		return false;
	/* *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] ) OWS */
	for (;;) {
		const char *name, *val;
		size_t name_len, val_len;

		i = skip_ows(v, n, i);
		if (i == n)
			return true;
		if (v[i] != ';')
			return false;
		i = skip_ows(v, n, i + 1);
		if (i == n || v[i] == ';')
			continue;
		name = v + i;
		if (!(name_len = token_len(v + i, n - i)))
			return false;
		i += name_len;
		if (i == n || v[i] != '=')
			return false;
		i++;
		if (i < n && v[i] == '"') {
			val = v + ++i;
			while (i < n && v[i] != '"')
				i += v[i] == '\\' ? 2 : 1;
			if (i >= n)
				return false;
			val_len = (size_t)(v + i - val);
			i++;
		} else {
			val = v + i;
			if (!(val_len = token_len(v + i, n - i)))
				return false;
			i += val_len;
		}
		if (name_len == 7 && !strncasecmp(name, "charset", 7)) {
			*charset = val;
			*charset_len = val_len;
		}
	}
}

/* RFC 6454 serialized origin: "null", or scheme "://" host [":" port] */
static bool origin_ok(const char *o, size_t n)
{
	size_t i = 0;

	if (n == 4 && !memcmp(o, "null", 4))
		return true;
	if (!n || n > HTTP_ORIGIN_MAX || !isalpha((unsigned char)o[0]))
		return false;
	while (i < n && (isalnum((unsigned char)o[i]) || o[i] == '+' || o[i] == '-' || o[i] == '.'))
		i++;
	if (n - i < 4 || memcmp(o + i, "://", 3))
		return false;
	i += 3;
	if (o[i] == '[') { /* IPv6 literal */
		size_t s = ++i;

		while (i < n && (isxdigit((unsigned char)o[i]) || o[i] == ':' || o[i] == '.'))
			i++;
		if (i == s || i == n || o[i] != ']')
			return false;
		i++;
	} else {
		size_t s = i;

		while (i < n && (isalnum((unsigned char)o[i]) || o[i] == '-' || o[i] == '.' ||
		                 o[i] == '_' || o[i] == '~'))
			i++;
		if (i == s)
			return false;
	}
	if (i < n && o[i] == ':') {
		size_t s = ++i;

		while (i < n && isdigit((unsigned char)o[i]))
			i++;
		if (i == s || i - s > 5)
			return false;
	}
	return i == n;
}

/* Whole-string match of s[0..n) against pattern p ('*': any run), ASCII case-insensitive;
 * the usual single-backtrack glob walk (linear in practice, O(n * m) at worst). */
static bool glob_match(const char *p, const char *s, size_t n)
{
	const char *star = NULL;
	size_t si = 0, star_si = 0;

	while (si < n) {
		if (*p == '*') {
			star = p++;
			star_si = si;
		} else if (*p && tolower((unsigned char)*p) == tolower((unsigned char)s[si])) {
			p++;
			si++;
		} else if (star) {
			p = star + 1;
			si = ++star_si;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

bool http_origin_allowed(char *const *patterns, const char *origin, size_t len)
{
	if (!patterns || !origin || !origin_ok(origin, len))
		return false;
	for (size_t i = 0; patterns[i]; i++)
		if (glob_match(patterns[i], origin, len))
			return true;
	return false;
}

bool http_origin_pattern_ok(const char *p)
{
	const char *sep;

	if (!strcmp(p, "*") || !strcmp(p, "null"))
		return true;
	if (!(sep = strstr(p, "://")) || sep == p || !sep[3])
		return false;
	for (const char *q = p; q < sep; q++)
		if (!isalnum((unsigned char)*q) && !strchr("+-.*", *q))
			return false;
	for (const char *q = sep + 3; *q; q++)
		if (!isalnum((unsigned char)*q) && !strchr("-._~*[]:", *q))
			return false;
	return true;
}

size_t http_pct_decode(const char *in, size_t n, char *out, size_t cap, bool plus_space)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return (size_t)-1;
			hi = hex_digit((unsigned char)in[i + 1]);
			lo = hex_digit((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return (size_t)-1;
			c = (char)(hi * 16 + lo);
			i += 2;
			if (!c)
				return (size_t)-1;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (o + 1 >= cap)
			return (size_t)-1;
		out[o++] = c;
	}
	if (!cap)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

int http_query_next(const char *q, size_t qlen, size_t *pos, char *key, size_t keycap,
                    char *val, size_t valcap)
{
	while (*pos < qlen && q[*pos] == '&')
		(*pos)++;
	if (!q || *pos >= qlen)
		return 0;
	{
		const char *pair = q + *pos, *amp = memchr(pair, '&', qlen - *pos), *eq;
		size_t plen = amp ? (size_t)(amp - pair) : qlen - *pos;

		*pos += plen;
		eq = memchr(pair, '=', plen);
		if (http_pct_decode(pair, eq ? (size_t)(eq - pair) : plen, key, keycap, true) ==
		    (size_t)-1)
			return -1;
		if (http_pct_decode(eq ? eq + 1 : "", eq ? plen - (size_t)(eq + 1 - pair) : 0, val,
		                    valcap, true) == (size_t)-1)
			return -1;
		return 1;
	}
}

bool http_query_get(const char *q, size_t qlen, const char *key, char *val, size_t valcap)
{
	size_t pos = 0;
	char k[64];
	int r;

	while ((r = http_query_next(q, qlen, &pos, k, sizeof(k), val, valcap)) != 0)
		if (r > 0 && !strcmp(k, key))
			return true;
	return false;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}
