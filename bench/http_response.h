/*
 * http_response.h - parse HTTP/1.x responses from a byte stream (wampbench's http-publish
 * client: pipelined responses arrive back to back on one keep-alive connection).
 *
 * No allocation: a parsed response points into the caller's buffer. Only what a client
 * needs to stay in step with the stream is interpreted: the status line, Content-Length,
 * Transfer-Encoding (only identity is accepted) and Connection: close.
 */
#ifndef WAMPD_BENCH_HTTP_RESPONSE_H
#define WAMPD_BENCH_HTTP_RESPONSE_H
#include <stdbool.h>
#include <stddef.h>

#define HTTP_RESP_HEAD_MAX 16384
#define HTTP_RESP_BODY_MAX (1 << 20)

enum http_resp_result {
	HTTP_RESP_BAD = -1, /* malformed, or of a kind not supported (reason given) */
	HTTP_RESP_MORE = 0, /* not complete yet: call again with more bytes */
	HTTP_RESP_OK = 1,   /* one response parsed */
};

struct http_resp {
	int status;        /* 100..999 */
	const char *body;  /* into the buffer given; body_len bytes */
	size_t body_len;
	size_t used;       /* bytes of the buffer the response takes (head and body) */
	bool close;        /* Connection: close (the server hangs up after it) */
};

/*
 * Parse the response at the start of [p, p + n). Borrows p; *r is written only on
 * HTTP_RESP_OK (r->body then points into p). On HTTP_RESP_BAD a short reason goes into
 * err (errlen > 0). Rejected: a status line other than "HTTP/1.x DDD[ reason]" (first
 * digit 1-9), a header line without a name, a Content-Length that is not a decimal number
 * or is repeated with another value, a Transfer-Encoding other than identity, a response
 * that must have a body but has no Content-Length, a head over HTTP_RESP_HEAD_MAX or a body
 * over HTTP_RESP_BODY_MAX. 1xx, 204 and 304 responses have no body whatever their headers.
 * Lines may end in CRLF or LF.
 */
enum http_resp_result http_resp_parse(const char *p, size_t n, struct http_resp *r, char *err,
                                      size_t errlen);
#endif
