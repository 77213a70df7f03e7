/*
 * fuzz_httpreq.c - libFuzzer target for the hand-written HTTP/1.x request-head parser and
 * the query and percent-decoding helpers (router/http/httpreq.c), fed the way the front door
 * feeds them: the connection re-parses its whole buffer each time bytes arrive
 * (router/net/http.c), so every chunking of the same bytes must come to the same answer.
 *
 * Input: byte 0 seeds the chunking (a small xorshift generator of chunk sizes 1..64),
 * the rest is what the client sends.
 *
 * Invariants (abort otherwise): no crash or UB (ASan/UBSan: the parser reads only
 * buf[0..len)); a prefix of the bytes is INCOMPLETE or gets the same answer as the whole,
 * with the same head length (a verdict never changes when more bytes come, so a valid
 * request split across TCP segments is never refused); on OK every pointer of the request
 * lies within the head, there are at most HTTP_MAX_HEADERS headers, and the head length is
 * within the bytes; percent-decoding never writes past its buffer and never returns more
 * than it wrote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/http/httpreq.h"

static bool within(const char *p, size_t n, const char *buf, size_t len)
{
	return !n || (p && p >= buf && p + n <= buf + len);
}

static void check_ok(const char *buf, size_t len, const struct http_request *r, size_t hl)
{
	if (hl == 0 || hl > len || r->nheaders > HTTP_MAX_HEADERS)
		abort();
	if (!memchr(r->method, '\0', sizeof(r->method)) || !r->method[0])
		abort();
	if (!within(r->path, r->path_len, buf, hl) || !r->path_len || r->path[0] != '/' ||
	    !within(r->query, r->query_len, buf, hl) || r->content_length < -1)
		abort();
	for (size_t i = 0; i < r->nheaders; i++)
		if (!within(r->headers[i].name, r->headers[i].name_len, buf, hl) ||
		    !within(r->headers[i].value, r->headers[i].value_len, buf, hl))
			abort();
}

/* The helpers the services use on a parsed request. */
static void use(const char *buf, size_t hl, const struct http_request *r)
{
	static const char *const names[] = {"content-type", "authorization", "origin", "host",
	                                    "x-hub-signature-256", "content-length"};
	char key[64], val[256], path[512];
	size_t pos = 0, n, k;
	int rc;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = http_header_get(r, names[i], &n);

		if (v && !within(v, n, buf, hl))
			abort();
	}
	for (k = 0; k < 64 && (rc = http_query_next(r->query, r->query_len, &pos, key, sizeof(key),
	                                             val, sizeof(val))) != 0; k++)
		if (rc == 1 && (strlen(key) >= sizeof(key) || strlen(val) >= sizeof(val)))
			abort();
	http_query_get(r->query, r->query_len, "topic", val, sizeof(val));
	n = http_pct_decode(r->path, r->path_len, path, sizeof(path), false);
	if (n != (size_t)-1 && (n >= sizeof(path) || strlen(path) != n))
		abort();
	n = http_pct_decode(r->path, r->path_len, path, 8, true);
	if (n != (size_t)-1 && n >= 8)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request whole, part;
	enum http_parse_result rw, rp;
	size_t hw = 0, hp, len, at = 0;
	uint32_t x;
	const char *buf;

	if (size < 1)
		return 0;
	x = 0x9e3779b9u ^ data[0];
	buf = (const char *)data + 1;
	len = size - 1;
	rw = http_parse_head(buf, len, &whole, &hw);
	if (rw == HTTP_PARSE_OK) {
		check_ok(buf, len, &whole, hw);
		use(buf, hw, &whole);
	}
	/* the same bytes as they would arrive in chunks: every prefix the front door sees */
	while (at < len) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		at += 1 + x % 64;
		if (at > len)
			at = len;
		hp = 0;
		rp = http_parse_head(buf, at, &part, &hp);
		if (rp == HTTP_PARSE_INCOMPLETE)
			continue;
		/* decided: more bytes must not change the verdict */
		if (rp != rw)
			abort();
		if (rp == HTTP_PARSE_OK) {
			check_ok(buf, at, &part, hp);
			if (hp != hw || part.nheaders != whole.nheaders || part.path != whole.path ||
			    part.content_length != whole.content_length)
				abort();
		}
		break;
	}
	return 0;
}
