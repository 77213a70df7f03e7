/*
 * test_webfile.c - the pure parts of the static web service (router/http/webfile.c): the
 * request path check (every way of writing "..", an encoded '/', '\', NUL and control
 * bytes refused; plain segments decoded once), MIME types, Range parsing, entity tags and
 * If-None-Match / If-Range, HTTP dates, and the escaping of a directory listing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router/http/webfile.h"

static void expect_path(const char *in, enum webfile_path_result want, const char *out)
{
	char buf[64];
	size_t len = 12345;
	enum webfile_path_result r = webfile_path(in, strlen(in), buf, sizeof(buf), &len);

	if (r != want)
		fail_msg("webfile_path(\"%s\") = %d, expected %d", in, r, want);
	if (want == WEBFILE_PATH_OK) {
		assert_string_equal(buf, out);
		assert_int_equal(len, strlen(out));
	}
}

static void test_path_plain(void **state)
{
	(void)state;
	expect_path("", WEBFILE_PATH_OK, "");
	expect_path("/", WEBFILE_PATH_OK, "");
	expect_path("a/b.html", WEBFILE_PATH_OK, "a/b.html");
	expect_path("/a/b/", WEBFILE_PATH_OK, "a/b");
	expect_path("//a///b//", WEBFILE_PATH_OK, "a/b");
	expect_path("/%41%62c", WEBFILE_PATH_OK, "Abc");
	expect_path("/caf%C3%A9", WEBFILE_PATH_OK, "caf\xc3\xa9");
	expect_path("/my%20file.txt", WEBFILE_PATH_OK, "my file.txt");
	expect_path("/.well-known/x", WEBFILE_PATH_OK, ".well-known/x");
	expect_path("/.../..a/a..", WEBFILE_PATH_OK, ".../..a/a..");
	/* decoded once: "%252e%252e" is a file named "%2e%2e", not ".." */
	expect_path("/%252e%252e/x", WEBFILE_PATH_OK, "%2e%2e/x");
}

static void test_path_traversal_refused(void **state)
{
	static const char *const forbidden[] = {
		"/../etc/passwd", "..", "/a/../../b", "/a/..", "/.", "/./a", "/a/./b",
		"/%2e%2e/etc/passwd", "/%2E%2E/x", "/.%2e/x", "/%2e./x", "/%2e", "/a/%2e%2e",
		"/..%2fetc%2fpasswd", "/a%2fb", "/a%2Fb", "/%2f", "/%2e%2e%2f%2e%2e%2fetc",
		"/..\\etc", "/a\\b", "/%5c..%5cetc", "/%5C",
	};
	static const char *const bad[] = {
		"/a%00b", "/%00", "/a%0ab", "/a%0d%0aSet-Cookie:x", "/%1f", "/%7f", "/a\x01",
		"/%zz", "/%4", "/%", "/a%g1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		expect_path(forbidden[i], WEBFILE_PATH_FORBIDDEN, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_path(bad[i], WEBFILE_PATH_BAD, NULL);
}

static void test_path_bounds(void **state)
{
	char buf[8], big[200];
	size_t len;

	(void)state;
	assert_int_equal(webfile_path("/abcdefg", 8, buf, sizeof(buf), &len), WEBFILE_PATH_OK);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(webfile_path("/abcdefgh", 9, buf, sizeof(buf), &len),
	                 WEBFILE_PATH_TOO_LONG);
	assert_int_equal(webfile_path("/abc/defg", 9, buf, sizeof(buf), &len),
	                 WEBFILE_PATH_TOO_LONG);
	assert_int_equal(webfile_path("/a", 2, buf, 0, &len), WEBFILE_PATH_TOO_LONG);
	memset(big, 'a', sizeof(big));
	assert_int_equal(webfile_path(big, sizeof(big), buf, sizeof(buf), &len),
	                 WEBFILE_PATH_TOO_LONG);
	/* only n bytes are read: what follows does not count */
	assert_int_equal(webfile_path("/ab/../x", 3, buf, sizeof(buf), &len), WEBFILE_PATH_OK);
	assert_string_equal(buf, "ab");
}

static void test_mime(void **state)
{
	char *extra[] = {".js", "application/x-custom", "Foo", "text/foo", NULL};

	(void)state;
	assert_string_equal(webfile_mime("index.html", NULL), "text/html; charset=utf-8");
	assert_string_equal(webfile_mime("a/b/INDEX.HTM", NULL), "text/html; charset=utf-8");
	assert_string_equal(webfile_mime("app.js", NULL), "text/javascript; charset=utf-8");
	assert_string_equal(webfile_mime("x.css", NULL), "text/css; charset=utf-8");
	assert_string_equal(webfile_mime("x.json", NULL), "application/json");
	assert_string_equal(webfile_mime("x.svg", NULL), "image/svg+xml");
	assert_string_equal(webfile_mime("x.jgz", NULL), "text/javascript");
	assert_string_equal(webfile_mime("x.png", NULL), "image/png");
	assert_string_equal(webfile_mime("x.woff2", NULL), "font/woff2");
	assert_string_equal(webfile_mime("x.wasm", NULL), "application/wasm");
	assert_string_equal(webfile_mime("README", NULL), "application/octet-stream");
	assert_string_equal(webfile_mime("x.", NULL), "application/octet-stream");
	assert_string_equal(webfile_mime("dir.html/file", NULL), "application/octet-stream");
	assert_string_equal(webfile_mime("x.unknownext", NULL), "application/octet-stream");
	/* the configuration's mime_types first, with or without the dot */
	assert_string_equal(webfile_mime("a.js", extra), "application/x-custom");
	assert_string_equal(webfile_mime("a.foo", extra), "text/foo");
	assert_string_equal(webfile_mime("a.css", extra), "text/css; charset=utf-8");
}

static void expect_range(const char *v, uint64_t size, enum webfile_range_result want,
                         uint64_t first, uint64_t count)
{
	uint64_t f = 777, c = 777;
	enum webfile_range_result r = webfile_range(v, strlen(v), size, &f, &c);

	if (r != want)
		fail_msg("webfile_range(\"%s\", %llu) = %d, expected %d", v, (unsigned long long)size,
		         r, want);
	if (want == WEBFILE_RANGE_OK && (f != first || c != count))
		fail_msg("webfile_range(\"%s\", %llu) = %llu+%llu, expected %llu+%llu", v,
		         (unsigned long long)size, (unsigned long long)f, (unsigned long long)c,
		         (unsigned long long)first, (unsigned long long)count);
}

static void test_range(void **state)
{
	(void)state;
	expect_range("bytes=0-9", 100, WEBFILE_RANGE_OK, 0, 10);
	expect_range("bytes=10-10", 100, WEBFILE_RANGE_OK, 10, 1);
	expect_range("bytes=90-", 100, WEBFILE_RANGE_OK, 90, 10);
	expect_range("bytes=95-200", 100, WEBFILE_RANGE_OK, 95, 5);
	expect_range("bytes=-10", 100, WEBFILE_RANGE_OK, 90, 10);
	expect_range("bytes=-200", 100, WEBFILE_RANGE_OK, 0, 100);
	expect_range("BYTES=1-2", 100, WEBFILE_RANGE_OK, 1, 2);
	expect_range("bytes=1-2  ", 100, WEBFILE_RANGE_OK, 1, 2);
	expect_range("bytes=0-18446744073709551615", 100, WEBFILE_RANGE_OK, 0, 100);
	/* 416 */
	expect_range("bytes=100-", 100, WEBFILE_RANGE_UNSATISFIABLE, 0, 0);
	expect_range("bytes=100-200", 100, WEBFILE_RANGE_UNSATISFIABLE, 0, 0);
	expect_range("bytes=-0", 100, WEBFILE_RANGE_UNSATISFIABLE, 0, 0);
	expect_range("bytes=0-", 0, WEBFILE_RANGE_UNSATISFIABLE, 0, 0);
	expect_range("bytes=-5", 0, WEBFILE_RANGE_UNSATISFIABLE, 0, 0);
	/* ignored: the whole file */
	expect_range("bytes=5-3", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=0-1,5-6", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("items=0-1", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=-", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=a-b", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes= 1-2", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=1-2x", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=1", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=--1", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=18446744073709551616-", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("bytes=-99999999999999999999", 100, WEBFILE_RANGE_NONE, 0, 0);
	expect_range("", 100, WEBFILE_RANGE_NONE, 0, 0);
}

static void test_etag(void **state)
{
	char tag[WEBFILE_ETAG_MAX], other[WEBFILE_ETAG_MAX], list[160], weak[64];

	(void)state;
	webfile_etag(tag, 12, 784111777, 5);
	assert_string_equal(tag, "\"c-2ebc98a100000005\"");
	webfile_etag(other, 12, 784111777, 6); /* another version: another tag */
	assert_string_not_equal(tag, other);
	webfile_etag(other, UINT64_MAX, INT64_MAX, 999999999); /* fits */
	assert_true(strlen(other) < WEBFILE_ETAG_MAX);

	assert_true(webfile_etag_match(tag, strlen(tag), tag));
	assert_true(webfile_etag_match("*", 1, tag));
	assert_true(webfile_etag_match(" * ", 3, tag));
	snprintf(weak, sizeof(weak), "W/%s", tag); /* If-None-Match compares weakly */
	assert_true(webfile_etag_match(weak, strlen(weak), tag));
	snprintf(list, sizeof(list), "\"x\", W/\"y\",%s", tag);
	assert_true(webfile_etag_match(list, strlen(list), tag));
	assert_false(webfile_etag_match("\"x\", \"y\"", 8, tag));
	assert_false(webfile_etag_match("", 0, tag));
	assert_false(webfile_etag_match("c-2ebc98a100000005", 18, tag)); /* unquoted */
	assert_false(webfile_etag_match("\"c-2ebc98a1", 11, tag));      /* unterminated */
	assert_false(webfile_etag_match("**", 2, tag));

	/* If-Range: strong comparison, or the Last-Modified date */
	assert_true(webfile_if_range(tag, strlen(tag), tag, 784111777));
	assert_false(webfile_if_range(weak, strlen(weak), tag, 784111777));
	assert_false(webfile_if_range("\"x\"", 3, tag, 784111777));
	assert_true(webfile_if_range("Sun, 06 Nov 1994 08:49:37 GMT", 29, tag, 784111777));
	assert_true(webfile_if_range("Wed, 09 Nov 1994 08:49:37 GMT", 29, tag, 784370977));
	assert_false(webfile_if_range("Sun, 06 Nov 1994 08:49:38 GMT", 29, tag, 784111777));
	assert_false(webfile_if_range("yesterday", 9, tag, 784111777));
	assert_false(webfile_if_range("", 0, tag, 784111777));
}

static void test_dates(void **state)
{
	char d[WEBFILE_DATE_MAX];
	int64_t t = 0;

	(void)state;
	assert_int_equal(webfile_http_date(784111777, d), 29);
	assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	webfile_http_date(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");

	assert_true(webfile_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t));
	assert_int_equal(t, 784111777);
	t = 0;
	assert_true(webfile_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t));
	assert_int_equal(t, 784111777);
	t = 0;
	assert_true(webfile_http_date_parse("Sun Nov  6 08:49:37 1994", 24, &t));
	assert_int_equal(t, 784111777);
	assert_true(webfile_http_date_parse("Thu, 01 Jan 2037 00:00:00 GMT", 29, &t));
	assert_int_equal(t, 2114380800);
	/* an RFC 850 year below 70 is in this century */
	assert_true(webfile_http_date_parse("Thursday, 01-Jan-37 00:00:00 GMT", 32, &t));
	assert_int_equal(t, 2114380800);

	assert_false(webfile_http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t));
	assert_false(webfile_http_date_parse("Sun, 32 Nov 1994 08:49:37 GMT", 29, &t));
	assert_false(webfile_http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", 29, &t));
	assert_false(webfile_http_date_parse("Sun, 06 Nov 1994 24:49:37 GMT", 29, &t));
	assert_false(webfile_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTx", 30, &t));
	assert_false(webfile_http_date_parse("Sun, 6 Nov 1994 08:49:37 GMT", 28, &t));
	assert_false(webfile_http_date_parse("Sun, 06 Nov 1969 08:49:37 GMT", 29, &t));
	assert_false(webfile_http_date_parse("", 0, &t));
	assert_false(webfile_http_date_parse("Sun", 3, &t));
	/* only n bytes are read */
	assert_false(webfile_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 20, &t));
}

static void test_escaping(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(webfile_html_escape("<a href=\"x\">&'", out, sizeof(out)), 38);
	assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	assert_int_equal(webfile_html_escape("plain", out, sizeof(out)), 5);
	assert_int_equal(webfile_html_escape("<<<", out, 12), (size_t)-1); /* 12 + NUL */
	assert_int_equal(webfile_html_escape("<<<", out, 13), 12);
	assert_int_equal(webfile_html_escape("", out, 0), (size_t)-1);

	assert_int_equal(webfile_url_encode("a b/\xc3\xa9?#%\"<", out, sizeof(out)), 29);
	assert_string_equal(out, "a%20b%2F%C3%A9%3F%23%25%22%3C");
	assert_int_equal(webfile_url_encode("Az09-._~", out, sizeof(out)), 8);
	assert_string_equal(out, "Az09-._~");
	assert_int_equal(webfile_url_encode(" ", out, 3), (size_t)-1);
	assert_int_equal(webfile_url_encode(" ", out, 4), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_plain),
		cmocka_unit_test(test_path_traversal_refused),
		cmocka_unit_test(test_path_bounds),
		cmocka_unit_test(test_mime),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
