/*
 * test_http.c - the pure parts of the HTTP services: request heads, query strings and
 * percent-decoding (router/httpreq.c), Crossbar request signatures with the replay window
 * and GitHub webhook signatures (router/httpsig.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "router/httpreq.h"
#include "router/httpsig.h"

static void test_head_ok(void **state)
{
	static const char head[] = "POST /call?x=1&y=%20z HTTP/1.1\r\nHost: a\r\n"
	                           "Content-Type:  application/json \r\nContent-Length: 12\r\n"
	                           "Expect: 100-continue\r\n\r\n{\"body\":1}..";
	struct http_request r;
	size_t hl = 0, n = 0;
	const char *v;

	(void)state;
	assert_int_equal(http_parse_head(head, sizeof(head) - 1, &r, &hl), HTTP_PARSE_OK);
	assert_string_equal(r.method, "POST");
	assert_int_equal(r.path_len, 5);
	assert_memory_equal(r.path, "/call", 5);
	assert_int_equal(r.query_len, 10);
	assert_int_equal(r.content_length, 12);
	assert_true(r.keep_alive);
	assert_true(r.expect_continue);
	assert_false(r.chunked);
	assert_int_equal(r.nheaders, 4);
	v = http_header_get(&r, "content-type", &n);
	assert_non_null(v);
	assert_int_equal(n, 16); /* blanks trimmed */
	assert_memory_equal(v, "application/json", 16);
	assert_null(http_header_get(&r, "cookie", &n));
	assert_string_equal(head + hl, "{\"body\":1}..");
}

static void test_head_variants(void **state)
{
	struct http_request r;
	size_t hl;

	(void)state;
	/* bare LF, HTTP/1.0 is not persistent unless asked */
	assert_int_equal(http_parse_head("GET /sse HTTP/1.0\nAccept: x\n\n", 29, &r, &hl),
	                 HTTP_PARSE_OK);
	assert_false(r.keep_alive);
	assert_int_equal(r.content_length, -1);
	assert_int_equal(http_parse_head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 37, &r, &hl),
	                 HTTP_PARSE_OK);
	assert_false(r.keep_alive);
	assert_int_equal(http_parse_head("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	                                 53, &r, &hl), HTTP_PARSE_OK);
	assert_true(r.chunked);
	/* incomplete, malformed */
	assert_int_equal(http_parse_head("GET / HTTP/1.1\r\nHost: a\r\n", 25, &r, &hl),
	                 HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_head("GE", 2, &r, &hl), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_head("\x16\x03\x01", 3, &r, &hl), HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("get / HTTP/1.1\r\n\r\n", 18, &r, &hl), HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("GET nopath HTTP/1.1\r\n\r\n", 23, &r, &hl), HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("GET / HTTP/2.0\r\n\r\n", 18, &r, &hl), HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("GET / HTTP/1.1\r\nNo colon\r\n\r\n", 28, &r, &hl),
	                 HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 33, &r, &hl),
	                 HTTP_PARSE_BAD);
	assert_int_equal(http_parse_head("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 39, &r, &hl),
	                 HTTP_PARSE_BAD_LENGTH);
	assert_int_equal(http_parse_head("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
	                                 "Content-Length: 2\r\n\r\n", 57, &r, &hl),
	                 HTTP_PARSE_BAD_LENGTH);
	{
		char big[HTTP_MAX_HEADERS * 8 + 64];
		size_t n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");

		for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "A: b\r\n");
		n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
		assert_int_equal(http_parse_head(big, n, &r, &hl), HTTP_PARSE_TOO_MANY_HEADERS);
	}
}

static void test_query(void **state)
{
	static const char q[] = "topic=a.b&topic=c.&match=prefix&&empty&x=%41%2b+b&bad=%zz";
	char k[32], v[32];
	size_t pos = 0;

	(void)state;
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 1);
	assert_string_equal(k, "topic");
	assert_string_equal(v, "a.b");
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 1);
	assert_string_equal(v, "c.");
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 1);
	assert_string_equal(k, "match");
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 1);
	assert_string_equal(k, "empty");
	assert_string_equal(v, "");
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 1);
	assert_string_equal(v, "A+ b");
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), -1);
	assert_int_equal(http_query_next(q, strlen(q), &pos, k, sizeof(k), v, sizeof(v)), 0);
	assert_true(http_query_get(q, strlen(q), "match", v, sizeof(v)));
	assert_string_equal(v, "prefix");
	assert_false(http_query_get(q, strlen(q), "nothere", v, sizeof(v)));
	assert_false(http_query_get(NULL, 0, "topic", v, sizeof(v)));
	/* decoding: NUL, truncated escape, too long */
	assert_int_equal(http_pct_decode("a%00", 4, v, sizeof(v), false), (size_t)-1);
	assert_int_equal(http_pct_decode("a%4", 3, v, sizeof(v), false), (size_t)-1);
	assert_int_equal(http_pct_decode("abcdef", 6, v, 4, false), (size_t)-1);
	assert_int_equal(http_pct_decode("a+b", 3, v, sizeof(v), false), 3);
	assert_string_equal(v, "a+b");
}

/* Vector computed with Python: hmac.new(b"kkjH68GiuUZ", b"myapp1" + ts + b"1" + b"42" +
 * body, hashlib.sha256), base64.urlsafe_b64encode (Crossbar's scheme). */
#define TS "2011-10-14T16:59:51.123000Z"
#define SIG_VECTOR "NSli9XVCW4RDwLFF3RMylbwGWleX5_tXPzlystun5sI="
#define BODY "{\"topic\": \"com.myapp.topic1\", \"args\": [\"Hello, world\"]}"

static void test_signature(void **state)
{
	char sig[HTTPSIG_B64_LEN + 1], q[512];
	struct httpsig_replay rp;
	const char *why;
	int64_t ms = 0, now;

	(void)state;
	httpsig_compute("kkjH68GiuUZ", "myapp1", TS, "1", "42", (const uint8_t *)BODY,
	                strlen(BODY), sig);
	assert_string_equal(sig, SIG_VECTOR);
	assert_true(httpsig_parse_timestamp(TS, &ms));
	assert_int_equal(ms, INT64_C(1318611591123));
	assert_true(httpsig_parse_timestamp("2011-10-14T16:59:51Z", &ms));
	assert_false(httpsig_parse_timestamp("2011-10-14 16:59:51Z", &ms));
	assert_false(httpsig_parse_timestamp("2011-13-14T16:59:51Z", &ms));
	assert_false(httpsig_parse_timestamp("2011-10-14T16:59:51.Z", &ms));
	assert_false(httpsig_parse_timestamp("2011-10-14T16:59:51.1", &ms));

	now = INT64_C(1318611591123) + 2000;
	httpsig_replay_init(&rp, 2);
	snprintf(q, sizeof(q), "key=myapp1&timestamp=%s&seq=1&nonce=42&signature=%s", TS, sig);
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)BODY, strlen(BODY), now, &rp, &why), HTTPSIG_OK);
	/* the same request again within the window: a replay */
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)BODY, strlen(BODY), now, &rp, &why),
	                 HTTPSIG_REPLAY);
	/* after the window the entry is gone, but so is the timestamp's validity */
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)BODY, strlen(BODY), now + 60000, &rp, &why),
	                 HTTPSIG_STALE);
	assert_int_equal(rp.count, 1);
	/* a changed body, another key, a wrong secret */
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)"{}", 2, now, &rp, &why), HTTPSIG_BAD_SIGNATURE);
	assert_int_equal(httpsig_check("other", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)BODY, strlen(BODY), now, &rp, &why),
	                 HTTPSIG_UNKNOWN_KEY);
	assert_int_equal(httpsig_check("myapp1", "wrong", 10, q, strlen(q), (const uint8_t *)BODY,
	                               strlen(BODY), now, &rp, &why), HTTPSIG_BAD_SIGNATURE);
	/* missing and malformed parameters */
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, "key=myapp1", 10,
	                               (const uint8_t *)BODY, strlen(BODY), now, &rp, &why),
	                 HTTPSIG_MISSING);
	snprintf(q, sizeof(q), "key=myapp1&timestamp=%s&seq=one&nonce=42&signature=%s", TS, sig);
	assert_int_equal(httpsig_check("myapp1", "kkjH68GiuUZ", 10, q, strlen(q),
	                               (const uint8_t *)BODY, strlen(BODY), now, &rp, &why),
	                 HTTPSIG_MALFORMED);
	httpsig_replay_clear(&rp);
}

static void test_replay_bound(void **state)
{
	struct httpsig_replay rp;
	char sig[HTTPSIG_B64_LEN + 1], q[512], nonce[8];
	const char *why;
	int64_t now = INT64_C(1318611591123);

	(void)state;
	httpsig_replay_init(&rp, 2);
	for (int i = 0; i < 3; i++) {
		snprintf(nonce, sizeof(nonce), "%d", i);
		httpsig_compute("s", "k", TS, "1", nonce, NULL, 0, sig);
		snprintf(q, sizeof(q), "key=k&timestamp=%s&seq=1&nonce=%s&signature=%s", TS, nonce, sig);
		assert_int_equal(httpsig_check("k", "s", 300, q, strlen(q), NULL, 0, now, &rp, &why),
		                 i < 2 ? HTTPSIG_OK : HTTPSIG_CACHE_FULL);
	}
	httpsig_replay_clear(&rp);
}

/* fuzz_httpsig finding: a request signed for the very millisecond it is checked (or ahead of
 * the clock) was forgotten at timestamp + delta exactly, when the timestamp was still within
 * the window: the same request was accepted a second time at that millisecond. */
static void test_replay_window_edge(void **state)
{
	struct httpsig_replay rp;
	char sig[HTTPSIG_B64_LEN + 1], q[512];
	const char *why;
	int64_t ts = INT64_C(1318611591123);

	(void)state;
	httpsig_compute("s", "k", TS, "1", "7", NULL, 0, sig);
	snprintf(q, sizeof(q), "key=k&timestamp=%s&seq=1&nonce=7&signature=%s", TS, sig);
	for (int64_t first = ts - 1000; first <= ts + 1000; first += 500) {
		httpsig_replay_init(&rp, 4);
		assert_int_equal(httpsig_check("k", "s", 1, q, strlen(q), NULL, 0, first, &rp, &why),
		                 HTTPSIG_OK);
		/* every later millisecond up to past the window: never accepted again */
		for (int64_t t = first; t <= ts + 1002; t++)
			assert_int_not_equal(httpsig_check("k", "s", 1, q, strlen(q), NULL, 0, t, &rp,
			                                   &why), HTTPSIG_OK);
		httpsig_replay_clear(&rp);
	}
}

static void test_github(void **state)
{
	/* hmac.new(b"It's a Secret to Everybody", b"Hello, World!", sha256) - GitHub's docs */
	static const char hdr[] =
		"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	const uint8_t *body = (const uint8_t *)"Hello, World!";

	(void)state;
	assert_true(httpsig_github_ok("It's a Secret to Everybody", hdr, strlen(hdr), body, 13));
	assert_false(httpsig_github_ok("It's a Secret to Everybody", hdr, strlen(hdr), body, 12));
	assert_false(httpsig_github_ok("other", hdr, strlen(hdr), body, 13));
	assert_false(httpsig_github_ok("It's a Secret to Everybody", hdr + 7, strlen(hdr) - 7, body,
	                               13));
	assert_false(httpsig_github_ok("It's a Secret to Everybody", NULL, 0, body, 13));
	assert_true(httpsig_equal("abc", 3, "abc", 3));
	assert_false(httpsig_equal("abc", 3, "abd", 3));
	assert_false(httpsig_equal("abc", 3, "abcd", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_ok),       cmocka_unit_test(test_head_variants),
		cmocka_unit_test(test_query),         cmocka_unit_test(test_signature),
		cmocka_unit_test(test_replay_bound),  cmocka_unit_test(test_github),
		cmocka_unit_test(test_replay_window_edge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
