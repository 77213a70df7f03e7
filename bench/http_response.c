/*
 * http_response.c - HTTP/1.x response parsing (see http_response.h).
 *
 * One pass over the head, line by line, from the start of the buffer each time it is
 * called (a head that is not complete is parsed again when more bytes came: heads are
 * small and bounded by HTTP_RESP_HEAD_MAX). The body is located, not copied.
 */
#include "bench/http_response.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool token_is(const char *p, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(p, word, n);
}

/* Does the comma-separated list [v, v + n) hold the token word? */
static bool list_has(const char *v, size_t n, const char *word)
{
	const char *end = v + n;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v)), *e = comma ? comma : end;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (token_is(v, (size_t)(e - v), word))
			return true;
		v = comma ? comma + 1 : end;
	}
	return false;
}

static bool status_line(const char *l, size_t len, int *status)
{
	if (len < 12 || memcmp(l, "HTTP/1.", 7) || !isdigit((unsigned char)l[7]) || l[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)l[i]))
			return false;
	if (l[9] == '0' || (len > 12 && l[12] != ' '))
		return false;
	*status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return true;
}

/* A Content-Length value: decimal digits only, at most 12 of them. */
static bool content_length(const char *v, size_t n, long long *out)
{
	long long k = 0;

	if (!n || n > 12)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		k = k * 10 + (v[i] - '0');
	}
	*out = k;
	return true;
}

enum http_resp_result http_resp_parse(const char *p, size_t n, struct http_resp *r, char *err,
                                      size_t errlen)
{
	const char *end = p + n, *line = p, *head_end = NULL;
	long long clen = -1;
	int status = 0;
	bool close = false;

	while (!head_end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len;

		if (!nl) {
			if (n <= HTTP_RESP_HEAD_MAX)
				return HTTP_RESP_MORE;
			snprintf(err, errlen, "response head longer than %d bytes", HTTP_RESP_HEAD_MAX);
			return HTTP_RESP_BAD;
		}
		len = (size_t)(nl - line);
		if (len && line[len - 1] == '\r')
			len--;
		if (!status) {
			if (!status_line(line, len, &status)) {
				snprintf(err, errlen, "bad status line \"%.*s\"", (int)(len < 60 ? len : 60),
				         line);
				return HTTP_RESP_BAD;
			}
		} else if (!len) {
			head_end = nl + 1;
		} else {
			const char *colon = memchr(line, ':', len), *v, *ve = line + len;
			size_t name_len;
			long long k;

			if (!colon || colon == line) {
				snprintf(err, errlen, "header line without a name");
				return HTTP_RESP_BAD;
			}
			name_len = (size_t)(colon - line);
			for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
				;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (token_is(line, name_len, "content-length")) {
				if (!content_length(v, (size_t)(ve - v), &k)) {
					snprintf(err, errlen, "bad Content-Length");
					return HTTP_RESP_BAD;
				}
				if (clen >= 0 && k != clen) {
					snprintf(err, errlen, "conflicting Content-Length headers");
					return HTTP_RESP_BAD;
				}
				clen = k;
			} else if (token_is(line, name_len, "transfer-encoding") &&
			           !token_is(v, (size_t)(ve - v), "identity")) {
				snprintf(err, errlen, "Transfer-Encoding %.*s not supported",
				         (int)(ve - v < 40 ? ve - v : 40), v);
				return HTTP_RESP_BAD;
			} else if (token_is(line, name_len, "connection") &&
			           list_has(v, (size_t)(ve - v), "close")) {
				close = true;
			}
		}
		line = nl + 1;
	}
	if (head_end - p > HTTP_RESP_HEAD_MAX) {
		snprintf(err, errlen, "response head longer than %d bytes", HTTP_RESP_HEAD_MAX);
		return HTTP_RESP_BAD;
	}
	if (status < 200 || status == 204 || status == 304) {
		clen = 0;
	} else if (clen < 0) {
		snprintf(err, errlen, "%d response without Content-Length", status);
		return HTTP_RESP_BAD;
	} else if (clen > HTTP_RESP_BODY_MAX) {
		snprintf(err, errlen, "response body of %lld bytes", clen);
		return HTTP_RESP_BAD;
	}
	if (end - head_end < clen)
		return HTTP_RESP_MORE;
	r->status = status;
	r->body = head_end;
	r->body_len = (size_t)clen;
	r->used = (size_t)(head_end - p) + (size_t)clen;
	r->close = close;
	return HTTP_RESP_OK;
}
