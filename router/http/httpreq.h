/*
 * httpreq.h - HTTP/1.x request heads, query strings and percent-decoding: pure functions
 * with no I/O and no allocation (the parsed request points into the caller's buffer).
 *
 * Used by the HTTP services on the front door (router/net/http.c) and unit-tested on their
 * own. What is accepted: a request line "METHOD SP target SP HTTP/1.x", header lines
 * "name: value" (no obsolete line folding), at most HTTP_MAX_HEADERS of them, ending with
 * an empty line; CRLF line ends (a bare LF is refused). A header name is a token (RFC 9110
 * 5.6.2); a value holds no control character but HTAB (RFC 9110 5.5: no CR, LF, NUL,
 * DEL): anything else is HTTP_PARSE_BAD (400), so no request byte that could end or split
 * a line reaches a handler, a log line or a response header. Both ways a request reaches
 * the HTTP services (the front door's bytes, and the head a TLS listener's lws parsed,
 * written back by router/net/http.c) go through http_parse_head: this is the one place it is
 * checked. (On the TLS path lws has already ended a header at a bare CR or LF, dropping
 * what followed the CR, so what arrives here has none; see router/net/http.h.)
 *
 * Header values and bodies point into the connection's input buffer and are NOT
 * NUL-terminated: use their lengths (the helpers below), never str* functions on them.
 */
#ifndef WAMPD_ROUTER_HTTPREQ_H
#define WAMPD_ROUTER_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing blanks trimmed */
	size_t value_len;
};

struct http_request {
	char method[16];            /* NUL-terminated */
	const char *path;           /* request target before '?' (not decoded) */
	size_t path_len;
	const char *query;          /* after '?', or NULL */
	size_t query_len;
	int minor;                  /* HTTP/1.<minor> */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	int64_t content_length;     /* -1: no Content-Length header */
	bool chunked;               /* Transfer-Encoding names chunked */
	bool keep_alive;            /* the connection may carry another request */
	bool expect_continue;       /* Expect: 100-continue */
	bool upgrade;               /* an Upgrade header is present */
	const uint8_t *body;        /* set by the connection once the body is in */
	size_t body_len;
};

enum http_parse_result {
	HTTP_PARSE_OK = 0,
	HTTP_PARSE_INCOMPLETE,      /* the empty line has not arrived yet */
	HTTP_PARSE_BAD,             /* not an HTTP/1.x request head */
	HTTP_PARSE_TOO_MANY_HEADERS,
	HTTP_PARSE_BAD_LENGTH,      /* Content-Length malformed or given twice differently */
};

/*
 * Parse the request head at buf[0..len). On HTTP_PARSE_OK fills *req (pointers into buf,
 * valid while buf is) and sets *head_len to the bytes of the head including the empty
 * line. Nothing is allocated.
 */
enum http_parse_result http_parse_head(const char *buf, size_t len, struct http_request *req,
                                       size_t *head_len);

/* The value of the first header called `name` (case-insensitive), its length in *len; or
 * NULL. The value is not NUL-terminated. */
const char *http_header_get(const struct http_request *req, const char *name, size_t *len);

/* s[0..n) is a header name: one or more token characters (RFC 9110 5.6.2). */
bool http_field_name_ok(const char *s, size_t n);

/* s[0..n) is a header value: visible ASCII, SP, HTAB and obs-text (0x80-0xFF) only; no
 * other control character (CR, LF, NUL, DEL, ...). */
bool http_field_value_ok(const char *s, size_t n);

/*
 * A Content-Type value v[0..n) (not NUL-terminated): true when its media type is `type`
 * (e.g. "application/json"; compared case-insensitively) and its parameters are
 * well-formed (";" name "=" token or quoted-string, blanks around ";"). The charset
 * parameter's value (without quotes; not NUL-terminated) goes to *charset and its length
 * to *charset_len, NULL/0 when there is none. false for another type or a malformed value.
 */
bool http_media_type(const char *v, size_t n, const char *type, const char **charset,
                     size_t *charset_len);

/*
 * Whether the Origin header value origin[0..len) (not NUL-terminated) is allowed by
 * patterns (a NULL-terminated list; NULL or empty: nothing is allowed). A pattern is an
 * origin ("https://app.example.com:8443") in which '*' matches any run of characters
 * (Crossbar's allowed_origins: "http://localhost:*", a host "*.example.com" after the
 * scheme, or "*" alone), compared with the whole origin, ASCII case-insensitively. The
 * origin must be a serialized origin (RFC 6454: scheme "://" host [":" port], or "null")
 * of at most HTTP_ORIGIN_MAX bytes, else it is not allowed whatever the patterns.
 */
#define HTTP_ORIGIN_MAX 255
bool http_origin_allowed(char *const *patterns, const char *origin, size_t len);

/* Whether p (NUL-terminated) is a usable origin pattern: "*", "null", or scheme "://"
 * host [":" port] where '*' may stand for any part; no path, no blanks or controls. The
 * configuration refuses the others (a misspelt pattern would silently allow nothing). */
bool http_origin_pattern_ok(const char *p);

/*
 * Percent-decode in[0..n) into out (cap bytes, NUL-terminated); '+' becomes a space when
 * plus_space (query strings). Returns the decoded length, or (size_t)-1 when the input has
 * a malformed escape, decodes to a NUL byte, or does not fit.
 */
size_t http_pct_decode(const char *in, size_t n, char *out, size_t cap, bool plus_space);

/*
 * Iterate a query string: *pos starts at 0; each call decodes the next "key=value" pair
 * (a pair without '=' has an empty value) into key/val (NUL-terminated). Returns 1 for a
 * pair, 0 at the end, -1 for a pair that is malformed or too long (iteration may go on).
 */
int http_query_next(const char *q, size_t qlen, size_t *pos, char *key, size_t keycap,
                    char *val, size_t valcap);

/* The decoded value of the first parameter `key` into val; false if absent or malformed. */
bool http_query_get(const char *q, size_t qlen, const char *key, char *val, size_t valcap);

/* The reason phrase of a status code ("Not Found"); "Unknown" for codes not used here. */
const char *http_status_text(int status);

#endif
