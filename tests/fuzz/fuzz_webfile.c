/*
 * fuzz_webfile.c - libFuzzer target for the static web service's parsers
 * (router/http/webfile.c): the request path check, Range, If-None-Match / If-Range and
 * HTTP dates, fed what a client controls.
 *
 * Input: 8 bytes of file size (little-endian; for Range), then the text a client sends
 * (a request path, or a header value: every parser gets the same bytes).
 *
 * Invariants (abort otherwise): no crash or UB (ASan/UBSan: the parsers read only
 * text[0..n), there is no NUL after it); a path that passes is plain segments joined by
 * single '/' (none empty, none "." or "..", no '\', no control byte, no leading or trailing
 * '/'), of the length returned, and every segment percent-encoded again gives the same
 * path (a path cannot be read two ways); a byte range that passes lies within the file
 * and is not empty; an unsatisfiable range only for a start at or past the end, a zero
 * suffix or an empty file; a parsed date formats and parses back to itself; the escapes
 * never write past their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/http/webfile.h"

static void check_path(const char *text, size_t n)
{
	char out[256], again[256], enc[1024], seg[256];
	size_t len = 0, len2 = 0, o = 0;

	if (webfile_path(text, n, out, sizeof(out), &len) != WEBFILE_PATH_OK)
		return;
	if (len >= sizeof(out) || strlen(out) != len)
		abort();
	if (len && (out[0] == '/' || out[len - 1] == '/' || strstr(out, "//")))
		abort();
	for (const char *p = out; *p;) {
		const char *slash = strchr(p, '/');
		size_t k = slash ? (size_t)(slash - p) : strlen(p), w;

		memcpy(seg, p, k);
		seg[k] = '\0';
		if (!k || !strcmp(seg, ".") || !strcmp(seg, "..") || strchr(seg, '\\'))
			abort();
		for (size_t i = 0; i < k; i++)
			if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
				abort();
		/* the path again, each segment encoded: the same path */
		enc[o++] = '/';
		if ((w = webfile_url_encode(seg, enc + o, sizeof(enc) - o)) == (size_t)-1)
			abort();
		o += w;
		p += k + (slash ? 1 : 0);
	}
	if (webfile_path(enc, o, again, sizeof(again), &len2) != WEBFILE_PATH_OK ||
	    len2 != len || strcmp(again, out))
		abort();
}

static void check_range(const char *text, size_t n, uint64_t size)
{
	uint64_t first = 0, count = 0;

	switch (webfile_range(text, n, size, &first, &count)) {
	case WEBFILE_RANGE_OK:
		if (!count || first >= size || count > size - first)
			abort();
		break;
	case WEBFILE_RANGE_UNSATISFIABLE:
		/* only for a well-formed "bytes=..." */
		if (n < 7 || memchr(text, ',', n))
			abort();
		break;
	case WEBFILE_RANGE_NONE:
		break;
	}
}

static void check_validators(const char *text, size_t n)
{
	char tag[WEBFILE_ETAG_MAX], date[WEBFILE_DATE_MAX], esc[6 * 64 + 1], enc[3 * 64 + 1];
	char small[64];
	int64_t t = 0, t2 = 0;

	webfile_etag(tag, n, (int64_t)n * 1000, (long)(n % 1000000000));
	(void)webfile_etag_match(text, n, tag);
	(void)webfile_if_range(text, n, tag, (int64_t)n);
	if (webfile_http_date_parse(text, n, &t)) {
		size_t k = webfile_http_date(t, date);

		if (!k || !webfile_http_date_parse(date, k, &t2) || t2 != t)
			abort();
	}
	/* the escapes, on a NUL-terminated copy of at most 63 bytes */
	memcpy(small, text, n < sizeof(small) - 1 ? n : sizeof(small) - 1);
	small[n < sizeof(small) - 1 ? n : sizeof(small) - 1] = '\0';
	if (webfile_html_escape(small, esc, sizeof(esc)) == (size_t)-1 ||
	    webfile_url_encode(small, enc, sizeof(enc)) == (size_t)-1)
		abort();
	(void)webfile_mime(small, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fsize = 0;
	char *text;
	size_t n;

	if (size < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		fsize = fsize << 8 | data[i];
	n = size - 8;
	/* a private copy of exactly n bytes: a read past the end is caught */
	if (!(text = malloc(n ? n : 1)))
		return 0;
	memcpy(text, data + 8, n);
	check_path(text, n);
	check_range(text, n, fsize);
	check_validators(text, n);
	free(text);
	return 0;
}
