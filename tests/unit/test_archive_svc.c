/*
 * test_archive_svc.c - the archive web service (router/http/archive_svc.c) on fake HTTP
 * connections (tests/lib/fake_http.h) of a router built from a configuration
 * (tests/lib/http_fixture.h), over a ZIP written here with libzip: entries and their MIME
 * types (mime_types first), object_prefix, default_object for a path ending in '/',
 * default_file only where configured, ETag (size, archive time, CRC) with 304 on
 * If-None-Match and If-Modified-Since, Cache-Control, every refusal (method, dot segments
 * also encoded, encoded '/', '\', NUL, names outside the prefix or climbing out of it,
 * encrypted entries), an entry of many chunks read back whole, and archive_check on a
 * good, a missing and a damaged file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "tests/lib/http_fixture.h"

#define BIG_SIZE (1u << 20) /* 16 chunks */

static char dir[64], zpath[96], config[1024];
static char *big;
static bool encrypted; /* the ZIP holds an AES-encrypted entry (libzip built with crypto) */

static const struct {
	const char *name, *data;
} entries[] = {
	{"site/index.html", "<p>index</p>\n"},
	{"site/app.js", "let x = 1;\n"},
	{"site/style.css", "p { }\n"},
	{"site/page.wampd", "custom\n"},
	{"site/sub/index.html", "<p>sub</p>\n"},
	{"site/sub/deeper/x.txt", "x\n"},
	{"secret.txt", "SECRET\n"},
	{"site/../escape.txt", "SECRET\n"},
	{"../escape.txt", "SECRET\n"},
	{"site/locked.txt", "SECRET\n"},
};

static void add(zip_t *z, const char *name, const void *data, size_t len)
{
	zip_source_t *src = zip_source_buffer(z, data, len, 0);
	zip_int64_t i;

	assert_non_null(src);
	i = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8);
	assert_true(i >= 0);
	assert_int_equal(zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_DEFLATE, 0), 0);
	if (!strcmp(name, "site/locked.txt"))
		encrypted = !zip_file_set_encryption(z, (zip_uint64_t)i, ZIP_EM_AES_256, "pw");
}

static int group_setup(void **state)
{
	int err = 0;
	zip_t *z;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/wampd-archive-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(zpath, sizeof(zpath), "%s/a.zip", dir);
	assert_non_null(z = zip_open(zpath, ZIP_CREATE | ZIP_TRUNCATE, &err));
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		add(z, entries[i].name, entries[i].data, strlen(entries[i].data));
	assert_non_null(big = malloc(BIG_SIZE));
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = (char)(i * 7 + i / 4096);
	add(z, "site/big.bin", big, BIG_SIZE);
	assert_int_equal(zip_close(z), 0);
	snprintf(config, sizeof(config),
	         "{\"listeners\": [{\"type\": \"websocket\", \"port\": 0, \"http\": {"
	         "  \"/z\": {\"type\": \"archive\", \"archive\": \"%s\", \"object_prefix\": \"/site/\","
	         "           \"cache_timeout\": 60, \"mime_types\": {\".wampd\": \"text/x-w\"}},"
	         "  \"/spa\": {\"type\": \"archive\", \"archive\": \"%s\", \"object_prefix\": \"site\","
	         "             \"default_object\": \"app.js\", \"default_file\": \"index.html\"}}}],"
	         " \"realms\": [{\"name\": \"realm1\"}]}", zpath, zpath);
	return 0;
}

static int group_teardown(void **state)
{
	char p[128];

	(void)state;
	unlink(zpath);
	snprintf(p, sizeof(p), "%s/bad.zip", dir);
	unlink(p);
	rmdir(dir);
	free(big);
	return 0;
}

static int setup(void **state)
{
	return hf_setup(state, config);
}

/* The value of header `name` in the last answer's extra headers, into out. */
static const char *header(const struct fake_http_answer *a, const char *name, char *out,
                          size_t cap)
{
	const char *p = a->headers ? strstr(a->headers, name) : NULL;
	size_t n;

	assert_non_null(p);
	p += strlen(name);
	n = strcspn(p, "\r");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static const struct fake_http_answer *get(struct http_fixture *f, const char *target,
                                          const char *headers)
{
	return fake_http_last(hf_request(f, "GET", target, headers, NULL));
}

static void expect_body(struct http_fixture *f, const char *target, const char *type,
                        const char *body)
{
	const struct fake_http_answer *a = get(f, target, NULL);

	assert_int_equal(a->status, 200);
	assert_string_equal(a->content_type, type);
	assert_int_equal(a->len, strlen(body));
	assert_memory_equal(a->body, body, a->len);
}

static void test_entries_and_types(void **state)
{
	struct http_fixture *f = *state;
	char v[128];

	expect_body(f, "/z", "text/html; charset=utf-8", "<p>index</p>\n");
	expect_body(f, "/z/", "text/html; charset=utf-8", "<p>index</p>\n");
	expect_body(f, "/z/app.js", "text/javascript; charset=utf-8", "let x = 1;\n");
	expect_body(f, "/z/style.css?v=2", "text/css; charset=utf-8", "p { }\n");
	expect_body(f, "/z/page.wampd", "text/x-w", "custom\n");
	expect_body(f, "/z/sub/", "text/html; charset=utf-8", "<p>sub</p>\n");
	expect_body(f, "/z/sub//deeper/x.txt", "text/plain; charset=utf-8", "x\n");
	/* another default_object */
	expect_body(f, "/spa/", "text/javascript; charset=utf-8", "let x = 1;\n");
	/* HEAD: the same head (the connection leaves the body out) */
	assert_int_equal(fake_http_last(hf_request(f, "HEAD", "/z/app.js", NULL, NULL))->status,
	                 200);
	assert_string_equal(header(get(f, "/z/app.js", NULL), "Cache-Control: ", v, sizeof(v)),
	                    "max-age=60, public");
	assert_string_equal(header(get(f, "/spa/app.js", NULL), "Cache-Control: ", v, sizeof(v)),
	                    "no-cache");
	assert_null(strstr(get(f, "/z/app.js", NULL)->headers, "Accept-Ranges"));
}

static void test_missing_and_default_file(void **state)
{
	struct http_fixture *f = *state;
	static const char *const missing[] = {"/z/nothing", "/z/sub", "/z/sub/deeper/",
	                                      "/z/site/index.html", "/z/app.js/", "/z/APP.JS"};

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		assert_int_equal(get(f, missing[i], NULL)->status, 404);
	expect_body(f, "/spa/nothing", "text/html; charset=utf-8", "<p>index</p>\n");
	expect_body(f, "/spa/sub", "text/html; charset=utf-8", "<p>index</p>\n");
}

static void test_validators(void **state)
{
	struct http_fixture *f = *state;
	const struct fake_http_answer *a = get(f, "/z/app.js", NULL);
	char etag[64], etag2[64], lm[64], h[160];

	header(a, "ETag: ", etag, sizeof(etag));
	header(a, "Last-Modified: ", lm, sizeof(lm));
	/* another entry of the same size has another tag (its CRC) */
	header(get(f, "/z/page.wampd", NULL), "ETag: ", etag2, sizeof(etag2));
	assert_string_not_equal(etag, etag2);
	snprintf(h, sizeof(h), "If-None-Match: %s\r\n", etag);
	a = get(f, "/z/app.js", h);
	assert_int_equal(a->status, 304);
	assert_int_equal(a->len, 0);
	snprintf(h, sizeof(h), "If-None-Match: W/%s, \"x\"\r\n", etag);
	assert_int_equal(get(f, "/z/app.js", h)->status, 304);
	assert_int_equal(get(f, "/z/app.js", "If-None-Match: \"x\"\r\n")->status, 200);
	snprintf(h, sizeof(h), "If-Modified-Since: %s\r\n", lm);
	assert_int_equal(get(f, "/z/app.js", h)->status, 304);
	assert_int_equal(get(f, "/z/app.js", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
	                 "GMT\r\n")->status, 200);
	/* a Range is ignored: the whole entry */
	a = get(f, "/z/app.js", "Range: bytes=0-1\r\n");
	assert_int_equal(a->status, 200);
	assert_int_equal(a->len, strlen("let x = 1;\n"));
}

static void test_refusals(void **state)
{
	struct http_fixture *f = *state;
	static const struct {
		const char *target;
		int status;
	} cases[] = {
		{"/z/../secret.txt", 403},      {"/z/%2e%2e/secret.txt", 403},
		{"/z/%2E%2e/escape.txt", 403},  {"/z/sub/..%2f..%2fsecret.txt", 403},
		{"/z/..%5cescape.txt", 403},    {"/z/sub%5c..%5c..%5csecret.txt", 403},
		{"/z/./app.js", 403},           {"/z/app.js%00.txt", 400},
		{"/z/%zz", 400},                {"/z/secret.txt", 404},
		{"/z/escape.txt", 404},         {"/spa/../secret.txt", 403},
		{"/spa/%2e%2e/escape.txt", 403}, {"/spa/secret.txt", 200}, /* its default_file */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fake_http_answer *a = get(f, cases[i].target, NULL);

		if (a->status != cases[i].status)
			fail_msg("%s: %d, expected %d", cases[i].target, a->status, cases[i].status);
		assert_null(strstr(a->body ? a->body : "", "SECRET"));
	}
	assert_int_equal(fake_http_last(hf_request(f, "DELETE", "/z/app.js", NULL, NULL))->status,
	                 405);
	if (encrypted)
		assert_int_equal(get(f, "/z/locked.txt", NULL)->status, 403);
	else
		print_message("libzip without AES: the encrypted entry is not tested\n");
}

static void test_big_entry(void **state)
{
	struct http_fixture *f = *state;
	const struct fake_http_answer *a = get(f, "/z/big.bin", NULL);

	assert_int_equal(a->status, 200);
	assert_string_equal(a->content_type, "application/octet-stream");
	assert_int_equal(a->len, BIG_SIZE);
	assert_memory_equal(a->body, big, BIG_SIZE);
}

static void test_archive_check(void **state)
{
	char err[512], bad[128];
	FILE *fp;

	(void)state;
	assert_true(archive_check(zpath, err, sizeof(err)));
	snprintf(bad, sizeof(bad), "%s/missing.zip", dir);
	assert_false(archive_check(bad, err, sizeof(err)));
	assert_non_null(strstr(err, bad));
	snprintf(bad, sizeof(bad), "%s/bad.zip", dir);
	assert_non_null(fp = fopen(bad, "wb"));
	fputs("PK\x03\x04 not an archive at all, only its first bytes", fp);
	fclose(fp);
	assert_false(archive_check(bad, err, sizeof(err)));
	assert_non_null(strstr(err, "not a readable ZIP archive"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_entries_and_types, setup, hf_teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_default_file, setup, hf_teardown),
		cmocka_unit_test_setup_teardown(test_validators, setup, hf_teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, hf_teardown),
		cmocka_unit_test_setup_teardown(test_big_entry, setup, hf_teardown),
		cmocka_unit_test(test_archive_check),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
