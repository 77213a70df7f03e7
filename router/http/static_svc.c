/*
 * static_svc.c - the static web service: the files of a directory over HTTP (GET, HEAD),
 * as Crossbar's "static" web service serves them, with index.html for a directory, a
 * directory listing only where configured, Last-Modified / ETag validators, 304 on
 * If-None-Match / If-Modified-Since, one byte range (206 / 416), and Cache-Control from
 * cache_timeout.
 *
 * From request to file, in three steps, each refusing on its own:
 *   1. webfile_path (router/http/webfile.c) turns the request path below the route into a
 *      relative path of plain segments, or refuses it: a ".." or "." segment, an encoded
 *      '/' or a '\' is 403, a malformed escape or a control byte 400;
 *   2. realpath() resolves root + that path, symbolic links included; the result must be
 *      the root itself or below it (the root is resolved the same way), else 403: a
 *      symbolic link inside the directory that points out of it serves nothing, one that
 *      stays inside works as in Crossbar;
 *   3. the resolved path (no link left in it) is opened with O_NOFOLLOW | O_NONBLOCK and
 *      checked with fstat: a regular file is served, a directory gets its index.html (which
 *      goes through steps 2-3 itself) or the listing, anything else (a FIFO, a device) 403.
 * Between 2 and 3 someone who can write into the served directory could swap a component
 * for a link; the directory's contents are the configuration author's (trusted), not a
 * network peer's, so that is outside what this defends against.
 *
 * The body is streamed: http_respond_body reads HTTP_BODY_CHUNK bytes at a time with
 * pread() as the previous chunk has been written, so one download holds one chunk in
 * memory whatever the file's size. The listing is built in memory, bounded by
 * LISTING_MAX entries; names are HTML-escaped and their links percent-encoded.
 *
 * The answers shared with the archive service (archive_svc.c) are exported from here
 * (websvc_* in httpsvc.h): the path check's refusals, Cache-Control and the conditional
 * request test, so both services answer alike.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "router/http/httpsvc.h"
#include "router/http/webfile.h"

#define LISTING_MAX 10000 /* entries shown in one directory listing */

struct static_svc {
	struct httpsvc svc;
	const char *route_path;
	char *root;         /* realpath of the configured directory; NULL while it is missing */
	size_t root_len;
};

static void answer_text(struct http_conn *c, int status, const char *text, const char *extra)
{
	http_respond(c, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

/* The root, resolved (once it exists). */
static bool root_ready(struct static_svc *s)
{
	struct stat st;
	char *r;

	if (s->root)
		return true;
	if (!(r = realpath(s->svc.cfg->directory, NULL)))
		return false;
	if (stat(r, &st) || !S_ISDIR(st.st_mode)) {
		free(r);
		return false;
	}
	s->root = r;
	s->root_len = strlen(r);
	return true;
}

enum resolved { FOUND, MISSING, OUTSIDE, DENIED };

/* root/rel resolved into *real (malloc'd; FOUND only), checked to be within the root. */
static enum resolved resolve(const struct static_svc *s, const char *rel, char **real)
{
	size_t n = s->root_len + strlen(rel) + 2;
	char *full = malloc(n), *r;
	int e;

	if (!full)
		return MISSING;
	snprintf(full, n, "%s%s%s", s->root, *rel ? "/" : "", rel);
	r = realpath(full, NULL);
	e = errno;
	free(full);
	if (!r)
		return e == EACCES ? DENIED : MISSING;
	if (strncmp(r, s->root, s->root_len) ||
	    (r[s->root_len] && r[s->root_len] != '/' && s->root_len > 1)) {
		free(r);
		return OUTSIDE;
	}
	*real = r;
	return FOUND;
}

/* ---- a file's answer ---------------------------------------------------------------- */

struct file_body {
	int fd;
	uint64_t at;
};

static long file_read(void *ctx, void *buf, size_t cap)
{
	struct file_body *b = ctx;
	ssize_t n;

	do
		n = pread(b->fd, buf, cap, (off_t)b->at);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		b->at += (uint64_t)n;
	return (long)n;
}

static void file_close(void *ctx)
{
	struct file_body *b = ctx;

	close(b->fd);
	free(b);
}

/* The answers of the path check (enum webfile_path_result) */
static const struct {
	int status;
	const char *text;
	const char *why; /* for the log */
} path_refusals[] = {
	[WEBFILE_PATH_BAD] = {400, "malformed request path\n", "malformed"},
	[WEBFILE_PATH_FORBIDDEN] = {403, "forbidden request path\n",
	                            "a dot segment, an encoded '/' or a '\\'"},
	[WEBFILE_PATH_TOO_LONG] = {414, "request path too long\n", "too long"},
};

void websvc_refuse_path(struct http_conn *c, enum webfile_path_result pr, const char *kind,
                        const char *route_path)
{
	wlog_info("http", "%s %s: refused request path (%s) peer=%s", kind, route_path,
	          path_refusals[pr].why, http_conn_address(c));
	answer_text(c, path_refusals[pr].status, path_refusals[pr].text, NULL);
}

void websvc_cache_headers(uint32_t t, char *buf, size_t cap, size_t *o)
{
	char date[WEBFILE_DATE_MAX];

	if (!t) {
		*o += (size_t)snprintf(buf + *o, cap - *o, "Cache-Control: no-cache\r\n");
		return;
	}
	webfile_http_date((int64_t)time(NULL) + t, date);
	*o += (size_t)snprintf(buf + *o, cap - *o, "Cache-Control: max-age=%u, public\r\n"
	                       "Expires: %s\r\n", (unsigned)t, date);
}

bool websvc_not_modified(const struct http_request *req, const char *etag, int64_t mtime)
{
	const char *v;
	size_t n;
	int64_t since;

	if ((v = http_header_get(req, "if-none-match", &n)))
		return webfile_etag_match(v, n, etag);
	if ((v = http_header_get(req, "if-modified-since", &n)))
		return webfile_http_date_parse(v, n, &since) && mtime <= since;
	return false;
}

/* Serve the open regular file fd (taken over) named `name` (for its MIME type). */
static void serve_file(struct static_svc *s, struct http_conn *c, const struct http_request *req,
                       int fd, const struct stat *st, const char *name)
{
	char etag[WEBFILE_ETAG_MAX], date[WEBFILE_DATE_MAX], hdr[1024];
	uint64_t size = (uint64_t)st->st_size, first = 0, count = size;
	int64_t mtime = (int64_t)st->st_mtim.tv_sec;
	const char *v;
	size_t o, n;
	int status = 200;
	struct file_body *b;

	webfile_etag(etag, size, mtime, st->st_mtim.tv_nsec);
	webfile_http_date(mtime, date);
	o = (size_t)snprintf(hdr, sizeof(hdr), "Last-Modified: %s\r\nETag: %s\r\n"
	                     "Accept-Ranges: bytes\r\nX-Content-Type-Options: nosniff\r\n",
	                     date, etag);
	websvc_cache_headers(s->svc.cfg->cache_timeout_s, hdr, sizeof(hdr), &o);
	if (websvc_not_modified(req, etag, mtime)) {
		close(fd);
		http_respond(c, 304, NULL, NULL, 0, hdr);
		return;
	}
	if (!strcmp(req->method, "GET") && (v = http_header_get(req, "range", &n))) {
		const char *ir;
		size_t irn;

		if (!(ir = http_header_get(req, "if-range", &irn)) ||
		    webfile_if_range(ir, irn, etag, mtime)) {
			switch (webfile_range(v, n, size, &first, &count)) {
			case WEBFILE_RANGE_OK:
				status = 206;
				o += (size_t)snprintf(hdr + o, sizeof(hdr) - o,
				                      "Content-Range: bytes %llu-%llu/%llu\r\n",
				                      (unsigned long long)first,
				                      (unsigned long long)(first + count - 1),
				                      (unsigned long long)size);
				break;
			case WEBFILE_RANGE_UNSATISFIABLE:
				close(fd);
				snprintf(hdr + o, sizeof(hdr) - o, "Content-Range: bytes */%llu\r\n",
				         (unsigned long long)size);
				answer_text(c, 416, "range not satisfiable\n", hdr);
				return;
			case WEBFILE_RANGE_NONE:
				first = 0;
				count = size;
				break;
			}
		}
	}
	if (!(b = malloc(sizeof(*b)))) {
		close(fd);
		answer_text(c, 500, "out of memory\n", NULL);
		return;
	}
	b->fd = fd;
	b->at = first;
	http_respond_body(c, status, webfile_mime(name, s->svc.cfg->mime_types), count, hdr,
	                  &(struct http_body){.read = file_read, .close = file_close, .ctx = b});
}

/* Open real (resolved) for reading: the descriptor and its stat, or -1. */
static int open_resolved(const char *real, struct stat *st)
{
	int fd = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && fstat(fd, st)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The file rel (resolved within the root) if it is a regular file: served, true. */
static bool serve_if_file(struct static_svc *s, struct http_conn *c,
                          const struct http_request *req, const char *rel)
{
	struct stat st;
	char *real = NULL;
	int fd;

	if (resolve(s, rel, &real) != FOUND)
		return false;
	fd = open_resolved(real, &st);
	free(real);
	if (fd < 0)
		return false;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	serve_file(s, c, req, fd, &st, rel);
	return true;
}

/* Nothing at this path: the default_file (Crossbar's: a single-page application's
 * index), else 404. */
static void not_found(struct static_svc *s, struct http_conn *c, const struct http_request *req)
{
	if (s->svc.cfg->default_file && s->root && serve_if_file(s, c, req, s->svc.cfg->default_file))
		return;
	answer_text(c, 404, "not found\n", NULL);
}

/* ---- directories -------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_html(struct sbuf *b, const char *s)
{
	char out[6 * PATH_MAX + 1];
	size_t n = webfile_html_escape(s, out, sizeof(out));

	if (n == (size_t)-1)
		b->failed = true;
	else
		sb_add(b, out, n);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The listing of the directory open at fd (taken over) as the request path `shown`
 * (decoded); rel: its path below the root ("" for the root). */
static void listing(struct http_conn *c, int fd, const char *shown, const char *rel)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	bool truncated = false;
	struct sbuf b = {0};

	if (!d) {
		close(fd);
		answer_text(c, 500, "the directory cannot be read\n", NULL);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == LISTING_MAX) {
			truncated = true;
			break;
		}
		if (!(n % 64)) {
			char **more = realloc(names, (n + 64) * sizeof(*names));

			if (!more) {
				b.failed = true;
				break;
			}
			names = more;
		}
		if (!(names[n] = strdup(e->d_name))) {
			b.failed = true;
			break;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	sb_str(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
	sb_html(&b, shown);
	sb_str(&b, "</title></head>\n<body><h1>Index of ");
	sb_html(&b, shown);
	sb_str(&b, "</h1>\n<table>\n");
	if (*rel)
		sb_str(&b, "<tr><td><a href=\"../\">../</a></td><td></td></tr>\n");
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char href[3 * NAME_MAX + 2], size[32] = "";
		bool dir = false;

		if (!fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			dir = S_ISDIR(st.st_mode);
			if (S_ISREG(st.st_mode))
				snprintf(size, sizeof(size), "%lld", (long long)st.st_size);
		}
		if (webfile_url_encode(names[i], href, sizeof(href) - 1) == (size_t)-1)
			continue;
		if (dir)
			strcat(href, "/");
		sb_str(&b, "<tr><td><a href=\"");
		sb_str(&b, href);
		sb_str(&b, "\">");
		sb_html(&b, names[i]);
		sb_str(&b, dir ? "/</a></td><td></td></tr>\n" : "</a></td><td>");
		if (!dir) {
			sb_str(&b, size);
			sb_str(&b, "</td></tr>\n");
		}
	}
	sb_str(&b, "</table>\n");
	if (truncated)
		sb_str(&b, "<p>(only the first 10000 entries are listed)</p>\n");
	sb_str(&b, "</body></html>\n");
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (b.failed)
		answer_text(c, 500, "out of memory\n", NULL);
	else
		http_respond(c, 200, "text/html; charset=utf-8", b.p, b.len,
		             "X-Content-Type-Options: nosniff\r\n");
	free(b.p);
}

/* The request path of rel below the route, with a trailing '/': into out (percent-encoded
 * when encode: a Location; else decoded: the listing's title). */
static bool dir_path(const struct static_svc *s, const char *rel, bool encode, char *out,
                     size_t cap)
{
	size_t rl = strlen(s->route_path), o;

	if (rl + 2 > cap)
		return false;
	memcpy(out, s->route_path, rl);
	o = rl;
	if (!o || out[o - 1] != '/')
		out[o++] = '/';
	out[o] = '\0';
	for (const char *p = rel; *p;) {
		const char *slash = strchr(p, '/');
		size_t k = slash ? (size_t)(slash - p) : strlen(p), w;
		char seg[NAME_MAX + 1];

		if (k > NAME_MAX)
			return false;
		memcpy(seg, p, k);
		seg[k] = '\0';
		if (encode) {
			if ((w = webfile_url_encode(seg, out + o, cap - o)) == (size_t)-1)
				return false;
		} else {
			if (o + k + 1 >= cap)
				return false;
			memcpy(out + o, seg, k + 1);
			w = k;
		}
		o += w;
		if (o + 2 > cap)
			return false;
		out[o++] = '/';
		out[o] = '\0';
		p += k + (slash ? 1 : 0);
	}
	return true;
}

/* The directory real (open at fd, taken over) for request path rel. */
static void serve_dir(struct static_svc *s, struct http_conn *c, const struct http_request *req,
                      int fd, const char *rel)
{
	static const char *const index_names[] = {"index.html", "index.htm"};
	char path[3 * PATH_MAX + 64];

	if (!req->path_len || req->path[req->path_len - 1] != '/') {
		/* a relative link in the page must resolve below the directory: as Crossbar,
		 * redirect to the path with its '/' (built from the checked path, never from the
		 * request's bytes) */
		char loc[3 * PATH_MAX + 64];

		close(fd);
		if (!dir_path(s, rel, true, path, sizeof(path))) {
			answer_text(c, 414, "request path too long\n", NULL);
			return;
		}
		if (snprintf(loc, sizeof(loc), "Location: %s\r\n", path) >= (int)sizeof(loc))
			answer_text(c, 414, "request path too long\n", NULL);
		else
			answer_text(c, 302, "found\n", loc);
		return;
	}
	for (size_t i = 0; i < sizeof(index_names) / sizeof(index_names[0]); i++) {
		char sub[PATH_MAX];

		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", index_names[i]) >=
		    (int)sizeof(sub))
			break;
		if (serve_if_file(s, c, req, sub)) {
			close(fd);
			return;
		}
	}
	if (!s->svc.cfg->directory_listing) {
		close(fd);
		not_found(s, c, req);
		return;
	}
	if (!dir_path(s, rel, false, path, sizeof(path))) {
		close(fd);
		answer_text(c, 414, "request path too long\n", NULL);
		return;
	}
	listing(c, fd, path, rel);
}

/* ---- the route ---------------------------------------------------------------------- */

static void static_handle(const struct http_route *route, struct http_conn *c,
                          const struct http_request *req, const char *rest, size_t rest_len)
{
	struct static_svc *s = route->ctx;
	char rel[PATH_MAX];
	size_t rel_len;
	enum webfile_path_result pr;
	char *real = NULL;
	struct stat st;
	int fd;

	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		answer_text(c, 405, "method not allowed\n", "Allow: GET, HEAD, OPTIONS\r\n");
		return;
	}
	if ((pr = webfile_path(rest, rest_len, rel, sizeof(rel), &rel_len)) != WEBFILE_PATH_OK) {
		websvc_refuse_path(c, pr, "static", s->route_path);
		return;
	}
	if (!root_ready(s)) {
		answer_text(c, 404, "not found\n", NULL);
		return;
	}
	switch (resolve(s, rel, &real)) {
	case FOUND:
		break;
	case OUTSIDE:
		wlog_info("http", "static %s: refused a path that leads out of the directory (a "
		          "symbolic link) peer=%s", s->route_path, http_conn_address(c));
		/* fall through */
	case DENIED:
		answer_text(c, 403, "forbidden\n", NULL);
		return;
	case MISSING:
		not_found(s, c, req);
		return;
	}
	fd = open_resolved(real, &st);
	free(real);
	if (fd < 0) {
		not_found(s, c, req);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		serve_dir(s, c, req, fd, rel);
	} else if (S_ISREG(st.st_mode)) {
		serve_file(s, c, req, fd, &st, rel);
	} else {
		close(fd);
		answer_text(c, 403, "forbidden\n", NULL);
	}
}

static void static_destroy(struct httpsvc *svc)
{
	struct static_svc *s = (struct static_svc *)svc;

	free(s->root);
	free(s);
}

struct httpsvc *static_service_new(struct router *rt, const struct http_service_config *cfg,
                                   struct http_route *route, char *err, size_t errlen)
{
	struct static_svc *s = calloc(1, sizeof(*s));

	(void)rt;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->svc.cfg = cfg;
	s->route_path = cfg->path;
	if (!root_ready(s))
		wlog_warn("http", "static %s: the directory %s does not exist (yet): answering 404 "
		          "until it does", cfg->path, cfg->directory);
	s->svc.destroy = static_destroy;
	route->handle = static_handle;
	route->max_body = 0; /* GET and HEAD: no request body */
	return &s->svc;
}
