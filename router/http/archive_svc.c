/*
 * archive_svc.c - the archive web service: the files inside a ZIP archive over HTTP (GET,
 * HEAD), as Crossbar's "archive" web service serves them, read with libzip.
 *
 * From request to entry:
 *   1. webfile_path (router/http/webfile.c) turns the request path below the route into a
 *      relative path of plain segments, or refuses it exactly as for the static service
 *      (a ".." or "." segment, also %2e-encoded, an encoded '/' or a '\' is 403, a
 *      malformed escape, NUL or a control byte 400). What is left can only name entries
 *      below object_prefix: the entry name is object_prefix "/" that path, compared as a
 *      string with the archive's names; nothing is ever resolved on the file system, so
 *      an entry named "../x" or "/etc/x" inside the ZIP is simply never matched.
 *   2. A path ending in '/' (or the route itself) names default_object inside that folder
 *      (Crossbar's default_object); otherwise the entry of that exact name. A folder
 *      without its '/' is not an entry: 404, as in Crossbar (no redirect, no listing).
 *   3. Nothing of that name: default_file (an entry below object_prefix: a single-page
 *      application's index) when configured, else 404. Encrypted entries and compression
 *      methods libzip cannot decode are refused (403 / 500), logged.
 *
 * The archive is opened once (ZIP_CHECKCONS) and stays open: its contents are the
 * configuration author's (trusted), taken as they were then. A file that is there but
 * does not open fails the start (archive_check does the same for `wampd check`); one that
 * is not there yet (Crossbar would download it from `origin`; wampd downloads nothing) is
 * logged and answers 404 until it appears, as a static service's missing directory: each
 * request then looks for it (one stat) and opens it once it is there. ETag: the entry's
 * size, the archive's modification time and the entry's CRC-32;
 * Last-Modified: the archive's time. No byte ranges (a compressed entry cannot seek):
 * Range is ignored, as RFC 9110 allows, and no Accept-Ranges is sent.
 *
 * The body is streamed through http_respond_body, the static service's path: each
 * request opens the entry (zip_fopen_index) and zip_fread decompresses at most
 * HTTP_BODY_CHUNK bytes each time the previous chunk was written, so one download holds
 * one chunk plus libzip's inflate state whatever the entry's size or compression ratio,
 * and exactly the size the central directory declares is sent (an entry that inflates to
 * more is cut there, one that ends early closes the connection: the client sees a short
 * body).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "common/log.h"
#include "router/http/httpsvc.h"
#include "router/http/webfile.h"

#define ENTRY_NAME_MAX 4096 /* object_prefix + request path + default_object */

struct archive_svc {
	struct httpsvc svc;
	const char *route_path;
	zip_t *zip;     /* NULL while the file is missing (or does not open) */
	int64_t mtime;  /* the archive file's modification time when it was opened */
	bool started;   /* created: an open that fails from now on is logged, not fatal */
	bool failed;    /* the file at failed_mtime/failed_size did not open */
	struct timespec failed_mtime;
	off_t failed_size;
};

static void answer_text(struct http_conn *c, int status, const char *text)
{
	http_respond(c, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

/* Open path as a ZIP archive, read only, its central directory checked: the archive, or
 * NULL with the reason in err. */
static zip_t *open_zip(const char *path, char *err, size_t errlen)
{
	int code = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);

	if (!z) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, code);
		snprintf(err, errlen, "%s: not a readable ZIP archive (%s)", path,
		         zip_error_strerror(&ze));
		zip_error_fini(&ze);
	}
	return z;
}

bool archive_check(const char *path, char *err, size_t errlen)
{
	zip_t *z = open_zip(path, err, errlen);

	if (!z)
		return false;
	zip_discard(z);
	return true;
}

/* The archive, opened now if it was missing (true), or false: 404. A file that is there
 * but does not open is tried again only once it has changed (a request never makes the
 * router parse the same damaged file twice); its error is logged once per version, and is
 * in err (for the start's error). */
static bool archive_ready(struct archive_svc *s, char *err, size_t errlen)
{
	struct stat st;

	if (s->zip)
		return true;
	if (stat(s->svc.cfg->archive, &st)) {
		snprintf(err, errlen, "%s: %s", s->svc.cfg->archive, strerror(errno));
		return false;
	}
	if (s->failed && st.st_mtim.tv_sec == s->failed_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == s->failed_mtime.tv_nsec && st.st_size == s->failed_size) {
		snprintf(err, errlen, "%s: not a readable ZIP archive", s->svc.cfg->archive);
		return false;
	}
	if (!(s->zip = open_zip(s->svc.cfg->archive, err, errlen))) {
		if (s->started)
			wlog_warn("http", "archive %s: %s: answering 404", s->route_path, err);
		s->failed = true;
		s->failed_mtime = st.st_mtim;
		s->failed_size = st.st_size;
		return false;
	}
	s->mtime = (int64_t)st.st_mtim.tv_sec;
	wlog_info("http", "archive %s: %s, %lld entries", s->route_path, s->svc.cfg->archive,
	          (long long)zip_get_num_entries(s->zip, 0));
	return true;
}

/* ---- an entry's answer -------------------------------------------------------------- */

struct entry_body {
	zip_file_t *f;
	uint64_t left; /* bytes of the declared size still to send */
};

static long entry_read(void *ctx, void *buf, size_t cap)
{
	struct entry_body *b = ctx;
	zip_int64_t n;

	if (!b->left)
		return 0;
	if (cap > b->left)
		cap = (size_t)b->left;
	n = zip_fread(b->f, buf, cap);
	if (n <= 0)
		return -1; /* ended before its declared size, or does not inflate */
	b->left -= (uint64_t)n;
	return (long)n;
}

static void entry_close(void *ctx)
{
	struct entry_body *b = ctx;

	zip_fclose(b->f);
	free(b);
}

/* The entry of exactly this name: served (true), or false when there is none. */
static bool serve_entry(struct archive_svc *s, struct http_conn *c,
                        const struct http_request *req, const char *name)
{
	char etag[WEBFILE_ETAG_MAX], date[WEBFILE_DATE_MAX], hdr[512];
	zip_int64_t idx = zip_name_locate(s->zip, name, 0);
	struct entry_body *b;
	zip_stat_t st;
	size_t o;

	if (idx < 0)
		return false;
	zip_stat_init(&st);
	if (zip_stat_index(s->zip, (zip_uint64_t)idx, 0, &st)) {
		answer_text(c, 500, "the entry cannot be read\n");
		return true;
	}
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
		wlog_info("http", "archive %s: entry %s is encrypted: not served", s->route_path,
		          name);
		answer_text(c, 403, "forbidden\n");
		return true;
	}
	if ((st.valid & (ZIP_STAT_SIZE | ZIP_STAT_CRC)) != (ZIP_STAT_SIZE | ZIP_STAT_CRC)) {
		answer_text(c, 500, "the entry cannot be read\n");
		return true;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%08x\"", (unsigned long long)st.size,
	         (unsigned long long)s->mtime, (unsigned)st.crc);
	webfile_http_date(s->mtime, date);
	o = (size_t)snprintf(hdr, sizeof(hdr), "Last-Modified: %s\r\nETag: %s\r\n"
	                     "X-Content-Type-Options: nosniff\r\n", date, etag);
	websvc_cache_headers(s->svc.cfg->cache_timeout_s, hdr, sizeof(hdr), &o);
	if (websvc_not_modified(req, etag, s->mtime)) {
		http_respond(c, 304, NULL, NULL, 0, hdr);
		return true;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		answer_text(c, 500, "out of memory\n");
		return true;
	}
	if (!(b->f = zip_fopen_index(s->zip, (zip_uint64_t)idx, 0))) {
		wlog_warn("http", "archive %s: entry %s cannot be read: %s", s->route_path, name,
		          zip_strerror(s->zip));
		free(b);
		answer_text(c, 500, "the entry cannot be read\n");
		return true;
	}
	b->left = st.size;
	http_respond_body(c, 200, webfile_mime(name, s->svc.cfg->mime_types), st.size, hdr,
	                  &(struct http_body){.read = entry_read, .close = entry_close, .ctx = b});
	return true;
}

/* object_prefix, rel and last joined by '/' (empty parts left out) into out: false when
 * it does not fit. */
static bool entry_name(const struct archive_svc *s, const char *rel, const char *last,
                       char *out, size_t cap)
{
	const char *parts[] = {s->svc.cfg->object_prefix, rel, last};
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = parts[i] ? strlen(parts[i]) : 0;

		if (!n)
			continue;
		if (o + n + 2 > cap)
			return false;
		if (o)
			out[o++] = '/';
		memcpy(out + o, parts[i], n + 1);
		o += n;
	}
	return true;
}

/* ---- the route ---------------------------------------------------------------------- */

static void archive_handle(const struct http_route *route, struct http_conn *c,
                           const struct http_request *req, const char *rest, size_t rest_len)
{
	struct archive_svc *s = route->ctx;
	const struct http_service_config *cfg = s->svc.cfg;
	char rel[ENTRY_NAME_MAX], name[ENTRY_NAME_MAX], err[512];
	size_t rel_len;
	enum webfile_path_result pr;
	bool folder = !rest_len || rest[rest_len - 1] == '/';

	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
		http_respond(c, 405, "text/plain; charset=utf-8", "method not allowed\n", 19,
		             "Allow: GET, HEAD, OPTIONS\r\n");
		return;
	}
	if ((pr = webfile_path(rest, rest_len, rel, sizeof(rel), &rel_len)) != WEBFILE_PATH_OK) {
		websvc_refuse_path(c, pr, "archive", s->route_path);
		return;
	}
	if (!archive_ready(s, err, sizeof(err))) {
		answer_text(c, 404, "not found\n");
		return;
	}
	if (!entry_name(s, rel, folder ? cfg->default_object : NULL, name, sizeof(name))) {
		answer_text(c, 414, "request path too long\n");
		return;
	}
	if ((*name && serve_entry(s, c, req, name)) ||
	    (cfg->default_file && entry_name(s, cfg->default_file, NULL, name, sizeof(name)) &&
	     serve_entry(s, c, req, name)))
		return;
	answer_text(c, 404, "not found\n");
}

static void archive_destroy(struct httpsvc *svc)
{
	struct archive_svc *s = (struct archive_svc *)svc;

	if (s->zip)
		zip_discard(s->zip);
	free(s);
}

struct httpsvc *archive_service_new(struct router *rt, const struct http_service_config *cfg,
                                    struct http_route *route, char *err, size_t errlen)
{
	struct archive_svc *s = calloc(1, sizeof(*s));
	struct stat st;

	(void)rt;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->svc.cfg = cfg;
	s->route_path = cfg->path;
	if (!archive_ready(s, err, errlen)) {
		if (!stat(cfg->archive, &st) || errno != ENOENT) { /* there, but not a ZIP */
			free(s);
			return NULL;
		}
		wlog_warn("http", "archive %s: %s does not exist (yet): answering 404 until it "
		          "does (wampd downloads nothing)", cfg->path, cfg->archive);
		err[0] = '\0';
	}
	s->started = true;
	s->svc.destroy = archive_destroy;
	route->handle = archive_handle;
	route->max_body = 0; /* GET and HEAD: no request body */
	return &s->svc;
}
