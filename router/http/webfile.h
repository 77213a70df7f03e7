/*
 * webfile.h - the pure parts of serving files over HTTP (the static web service,
 * router/http/static_svc.c): which file a request path names, MIME types, byte ranges,
 * entity tags, HTTP dates and the escaping of names in a directory listing. No I/O and
 * no allocation: each function works on the caller's buffers, so all of it is unit-tested
 * (tests/unit/test_webfile.c) and fuzzed (tests/fuzz/fuzz_webfile.c) on its own.
 *
 * Security: webfile_path is where a request path becomes a file path. It decodes each
 * segment exactly once and refuses what could leave the served directory or be read two
 * ways: "." and ".." segments (also when percent-encoded), an encoded '/' (%2F) or any
 * '\', NUL and control bytes. What it returns is a relative path of plain segments; the
 * service then resolves it (symbolic links included) and checks that the result is still
 * inside the directory.
 */
#ifndef WAMPD_ROUTER_WEBFILE_H
#define WAMPD_ROUTER_WEBFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webfile_path_result {
	WEBFILE_PATH_OK = 0,
	WEBFILE_PATH_BAD,       /* a malformed %-escape, a NUL or control byte: 400 */
	WEBFILE_PATH_FORBIDDEN, /* a "." or ".." segment, an encoded '/', a '\': 403 */
	WEBFILE_PATH_TOO_LONG,  /* the decoded path does not fit: 414 */
};

/*
 * The file a request path asks for below a static route. rest[0..n) is the request path
 * after the route's own, as the client sent it (percent-encoded; without the query).
 * Each '/'-separated segment is percent-decoded on its own; empty segments are dropped.
 * On WEBFILE_PATH_OK, out (cap bytes) holds the segments joined by '/' ("" for the route's
 * root, never a leading or trailing '/'), NUL-terminated, and *len its length. On any
 * other result out is unspecified.
 */
enum webfile_path_result webfile_path(const char *rest, size_t n, char *out, size_t cap,
                                      size_t *len);

/*
 * The MIME type of a file by its name's extension (case-insensitive), looked up first in
 * extra (a NULL-terminated list of pairs: ".ext", "type", ...; may be NULL: the
 * configuration's mime_types), then in the built-in table; text types carry
 * "; charset=utf-8". "application/octet-stream" for anything else. Never NULL; the result
 * is borrowed (static, or from extra).
 */
const char *webfile_mime(const char *name, char *const *extra);

enum webfile_range_result {
	WEBFILE_RANGE_NONE = 0,     /* no usable Range: answer the whole file (200) */
	WEBFILE_RANGE_OK,           /* one satisfiable range: 206 */
	WEBFILE_RANGE_UNSATISFIABLE /* 416, with Content-Range: bytes * / size */
};

/*
 * A Range header value v[0..n) (not NUL-terminated) for a file of `size` bytes. One range
 * of unit "bytes" ("a-b", "a-", "-suffix") is served: *first and *count set on
 * WEBFILE_RANGE_OK (count >= 1, first + count <= size). Several ranges, another unit, a
 * malformed value or numbers that overflow are ignored (NONE: RFC 9110 14.2 lets a server
 * ignore Range); a range that starts at or after the end, or a zero suffix, is
 * UNSATISFIABLE.
 */
enum webfile_range_result webfile_range(const char *v, size_t n, uint64_t size,
                                        uint64_t *first, uint64_t *count);

#define WEBFILE_ETAG_MAX 48

/* The entity tag of a file's version, by its size and modification time (no inode: it
 * would show how the disk is laid out): a quoted strong tag into out. */
void webfile_etag(char out[WEBFILE_ETAG_MAX], uint64_t size, int64_t mtime_s, long mtime_ns);

/* Whether an If-None-Match value v[0..n) matches etag (from webfile_etag): "*", or a
 * comma-separated list of entity tags compared weakly (RFC 9110 13.1.2: "W/" ignored). */
bool webfile_etag_match(const char *v, size_t n, const char *etag);

/* Whether an If-Range value v[0..n) lets a Range apply: an entity tag equal to etag by
 * strong comparison (a weak one never), or an HTTP-date equal to mtime_s (the
 * Last-Modified sent). false for anything else. */
bool webfile_if_range(const char *v, size_t n, const char *etag, int64_t mtime_s);

#define WEBFILE_DATE_MAX 32

/* t (seconds since the epoch) as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into
 * out; returns its length. Locale-independent. */
size_t webfile_http_date(int64_t t, char out[WEBFILE_DATE_MAX]);

/* An HTTP-date v[0..n) (IMF-fixdate, RFC 850 or asctime form, RFC 9110 5.6.7) into *t.
 * false when it is none of those or not a valid date. */
bool webfile_http_date_parse(const char *v, size_t n, int64_t *t);

/* s with &, <, >, " and ' as HTML character references, into out (cap bytes,
 * NUL-terminated): its length, or (size_t)-1 when it does not fit. */
size_t webfile_html_escape(const char *s, char *out, size_t cap);

/* s percent-encoded as one path segment (every byte but RFC 3986's unreserved ones), into
 * out (cap bytes, NUL-terminated): its length, or (size_t)-1 when it does not fit. */
size_t webfile_url_encode(const char *s, char *out, size_t cap);

#endif
