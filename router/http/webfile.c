/*
 * webfile.c - request paths, MIME types, ranges, entity tags and dates for the static web
 * service (see webfile.h).
 *
 * Request paths: split at '/' first, then each segment decoded once, so an encoded '/'
 * (%2F) can never become a separator and "%2e%2e" is seen as "..", exactly as a file
 * system would see it; nothing is decoded twice ("%252e" stays the name "%2e"). Refusing
 * rather than normalising: a ".." or "." segment is an error, not something to resolve,
 * because browsers resolve dot segments before they send a request (RFC 3986 5.2.4) and
 * only a crafted request still carries one.
 *
 * Dates are formatted and parsed by hand (English names, UTC), never through the C
 * locale's strftime/strptime.
 */
#include "router/http/webfile.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hex.h"

/* ---- request paths ---------------------------------------------------------------- */

/* Decode one segment seg[0..n) into out at *o (cap bytes in all). */
static enum webfile_path_result segment(const char *seg, size_t n, char *out, size_t cap,
                                        size_t *o)
{
	size_t start = *o;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)seg[i];

		if (ch == '%') {
			int hi = i + 2 < n ? hex_digit((unsigned char)seg[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit((unsigned char)seg[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return WEBFILE_PATH_BAD;
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
			if (ch == '/')
				return WEBFILE_PATH_FORBIDDEN;
		}
		if (ch < 0x20 || ch == 0x7f)
			return WEBFILE_PATH_BAD;
		if (ch == '\\')
			return WEBFILE_PATH_FORBIDDEN;
		if (*o + 1 >= cap)
			return WEBFILE_PATH_TOO_LONG;
		out[(*o)++] = (char)ch;
	}
	if ((*o - start == 1 && out[start] == '.') ||
	    (*o - start == 2 && out[start] == '.' && out[start + 1] == '.'))
		return WEBFILE_PATH_FORBIDDEN;
	return WEBFILE_PATH_OK;
}

enum webfile_path_result webfile_path(const char *rest, size_t n, char *out, size_t cap,
                                      size_t *len)
{
	size_t o = 0, i = 0;

	if (!cap)
		return WEBFILE_PATH_TOO_LONG;
	while (i < n) {
		const char *slash = memchr(rest + i, '/', n - i);
		size_t k = slash ? (size_t)(slash - (rest + i)) : n - i;

		if (k) {
			enum webfile_path_result r;

			if (o) {
				if (o + 1 >= cap)
					return WEBFILE_PATH_TOO_LONG;
				out[o++] = '/';
			}
			if ((r = segment(rest + i, k, out, cap, &o)) != WEBFILE_PATH_OK)
				return r;
		}
		i += k + 1;
	}
	out[o] = '\0';
	*len = o;
	return WEBFILE_PATH_OK;
}

/* ---- MIME types --------------------------------------------------------------------- */

#define UTF8 "; charset=utf-8"

/* By extension (without the dot, lower case). Crossbar's own additions (.svg, .jgz) are
 * here too, so a Crossbar site is served with the types Crossbar gives it. */
static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
	{"html", "text/html" UTF8},          {"htm", "text/html" UTF8},
	{"xhtml", "application/xhtml+xml"},  {"css", "text/css" UTF8},
	{"js", "text/javascript" UTF8},      {"mjs", "text/javascript" UTF8},
	{"jgz", "text/javascript"},          {"json", "application/json"},
	{"map", "application/json"},         {"jsonld", "application/ld+json"},
	{"webmanifest", "application/manifest+json"},
	{"txt", "text/plain" UTF8},          {"text", "text/plain" UTF8},
	{"md", "text/markdown" UTF8},        {"csv", "text/csv" UTF8},
	{"xml", "application/xml"},          {"rss", "application/rss+xml"},
	{"atom", "application/atom+xml"},    {"ics", "text/calendar" UTF8},
	{"yaml", "application/yaml"},        {"yml", "application/yaml"},
	{"svg", "image/svg+xml"},            {"png", "image/png"},
	{"jpg", "image/jpeg"},               {"jpeg", "image/jpeg"},
	{"gif", "image/gif"},                {"ico", "image/vnd.microsoft.icon"},
	{"webp", "image/webp"},              {"avif", "image/avif"},
	{"bmp", "image/bmp"},                {"tif", "image/tiff"},
	{"tiff", "image/tiff"},              {"woff", "font/woff"},
	{"woff2", "font/woff2"},             {"ttf", "font/ttf"},
	{"otf", "font/otf"},                 {"eot", "application/vnd.ms-fontobject"},
	{"wasm", "application/wasm"},        {"pdf", "application/pdf"},
	{"zip", "application/zip"},          {"gz", "application/gzip"},
	{"tgz", "application/gzip"},         {"tar", "application/x-tar"},
	{"7z", "application/x-7z-compressed"},
	{"mp3", "audio/mpeg"},               {"ogg", "audio/ogg"},
	{"oga", "audio/ogg"},                {"wav", "audio/wav"},
	{"flac", "audio/flac"},              {"m4a", "audio/mp4"},
	{"mp4", "video/mp4"},                {"m4v", "video/mp4"},
	{"webm", "video/webm"},              {"ogv", "video/ogg"},
	{"mov", "video/quicktime"},          {"avi", "video/x-msvideo"},
	{"swf", "application/x-shockwave-flash"},
	{"cbor", "application/cbor"},        {"msgpack", "application/msgpack"},
	{"py", "text/x-python" UTF8},        {"c", "text/x-c" UTF8},
	{"h", "text/x-c" UTF8},              {"sh", "application/x-sh"},
	{"appcache", "text/cache-manifest"},
};

const char *webfile_mime(const char *name, char *const *extra)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');

	if (!dot || !dot[1])
		return "application/octet-stream";
	for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
		if (!strcasecmp(extra[i][0] == '.' ? extra[i] + 1 : extra[i], dot + 1))
			return extra[i + 1];
	for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
		if (!strcasecmp(mime_table[i].ext, dot + 1))
			return mime_table[i].type;
	return "application/octet-stream";
}

/* ---- ranges ------------------------------------------------------------------------- */

/* Digits at v[*i..n) into *out; false when there are none or they overflow. */
static bool digits(const char *v, size_t n, size_t *i, uint64_t *out)
{
	uint64_t x = 0;
	size_t start = *i;

	while (*i < n && v[*i] >= '0' && v[*i] <= '9') {
		unsigned d = (unsigned)(v[*i] - '0');

		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
		(*i)++;
	}
	*out = x;
	return *i > start;
}

enum webfile_range_result webfile_range(const char *v, size_t n, uint64_t size,
                                        uint64_t *first, uint64_t *count)
{
	size_t i = 6;
	uint64_t a, b;

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n < 7 || strncasecmp(v, "bytes=", 6) || memchr(v, ',', n))
		return WEBFILE_RANGE_NONE;
	if (v[i] == '-') {
		i++;
		if (!digits(v, n, &i, &b) || i != n)
			return WEBFILE_RANGE_NONE;
		if (!b || !size)
			return WEBFILE_RANGE_UNSATISFIABLE;
		*count = b < size ? b : size;
		*first = size - *count;
		return WEBFILE_RANGE_OK;
	}
	if (!digits(v, n, &i, &a) || i >= n || v[i] != '-')
		return WEBFILE_RANGE_NONE;
	i++;
	if (i == n) {
		b = UINT64_MAX;
	} else if (!digits(v, n, &i, &b) || i != n || b < a) {
		return WEBFILE_RANGE_NONE;
	}
	if (a >= size)
		return WEBFILE_RANGE_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*first = a;
	*count = b - a + 1;
	return WEBFILE_RANGE_OK;
}

/* ---- entity tags -------------------------------------------------------------------- */

void webfile_etag(char out[WEBFILE_ETAG_MAX], uint64_t size, int64_t mtime_s, long mtime_ns)
{
	snprintf(out, WEBFILE_ETAG_MAX, "\"%llx-%llx%08lx\"", (unsigned long long)size,
	         (unsigned long long)mtime_s, (unsigned long)mtime_ns);
}

/* The next entity tag of a list at v[*i..n): its opaque part (quotes included) in
 * [*tag, *tag + *tl) and whether it is weak. false at the end or on a malformed one. */
static bool next_tag(const char *v, size_t n, size_t *i, const char **tag, size_t *tl,
                     bool *weak)
{
	const char *q;

	while (*i < n && (v[*i] == ' ' || v[*i] == '\t' || v[*i] == ','))
		(*i)++;
	if (*i >= n)
		return false;
	*weak = n - *i >= 2 && v[*i] == 'W' && v[*i + 1] == '/';
	if (*weak)
		*i += 2;
	if (*i >= n || v[*i] != '"' || !(q = memchr(v + *i + 1, '"', n - *i - 1)))
		return false;
	*tag = v + *i;
	*tl = (size_t)(q - *tag) + 1;
	*i += *tl;
	return true;
}

bool webfile_etag_match(const char *v, size_t n, const char *etag)
{
	size_t i = 0, el = strlen(etag), tl;
	const char *tag;
	bool weak;

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (n - i == 1 && v[i] == '*')
		return true;
	while (next_tag(v, n, &i, &tag, &tl, &weak))
		if (tl == el && !memcmp(tag, etag, el))
			return true;
	return false;
}

bool webfile_if_range(const char *v, size_t n, const char *etag, int64_t mtime_s)
{
	size_t i = 0, tl;
	const char *tag;
	bool weak;
	int64_t t;

	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n && (v[0] == '"' || (n > 1 && v[0] == 'W' && v[1] == '/'))) {
		if (!next_tag(v, n, &i, &tag, &tl, &weak) || i != n)
			return false;
		return !weak && tl == strlen(etag) && !memcmp(tag, etag, tl);
	}
	return webfile_http_date_parse(v, n, &t) && t == mtime_s;
}

/* ---- dates -------------------------------------------------------------------------- */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

size_t webfile_http_date(int64_t t, char out[WEBFILE_DATE_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;
	int n;

	if (!gmtime_r(&tt, &tm)) {
		tt = 0;
		gmtime_r(&tt, &tm);
	}
	n = snprintf(out, WEBFILE_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	             wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && n < WEBFILE_DATE_MAX ? (size_t)n : 0;
}

/* A number of exactly `width` digits (width 0: 1 to 4 digits) at v[*i..n). */
static bool num(const char *v, size_t n, size_t *i, int width, int *out)
{
	int x = 0, k = 0;

	while (*i < n && v[*i] >= '0' && v[*i] <= '9' && (width ? k < width : k < 4)) {
		x = x * 10 + (v[*i] - '0');
		(*i)++;
		k++;
	}
	*out = x;
	return k && (!width || k == width);
}

static bool lit(const char *v, size_t n, size_t *i, const char *s)
{
	size_t k = strlen(s);

	if (n - *i < k || memcmp(v + *i, s, k))
		return false;
	*i += k;
	return true;
}

static bool month(const char *v, size_t n, size_t *i, int *mon)
{
	for (int m = 0; m < 12; m++)
		if (lit(v, n, i, months[m])) {
			*mon = m;
			return true;
		}
	return false;
}

/* hh:mm:ss */
static bool clock_of(const char *v, size_t n, size_t *i, struct tm *tm)
{
	return num(v, n, i, 2, &tm->tm_hour) && lit(v, n, i, ":") &&
	       num(v, n, i, 2, &tm->tm_min) && lit(v, n, i, ":") && num(v, n, i, 2, &tm->tm_sec);
}

bool webfile_http_date_parse(const char *v, size_t n, int64_t *t)
{
	struct tm tm = {0};
	size_t i = 0;
	const char *comma = memchr(v, ',', n);
	time_t r;

	if (n < 3)
		return false;
	if (comma && comma - v == 3) {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		i = 4;
		if (!lit(v, n, &i, " ") || !num(v, n, &i, 2, &tm.tm_mday) || !lit(v, n, &i, " ") ||
		    !month(v, n, &i, &tm.tm_mon) || !lit(v, n, &i, " ") ||
		    !num(v, n, &i, 4, &tm.tm_year) || !lit(v, n, &i, " ") || !clock_of(v, n, &i, &tm) ||
		    !lit(v, n, &i, " GMT") || i != n)
			return false;
		tm.tm_year -= 1900;
	} else if (comma) {
		/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
		i = (size_t)(comma - v) + 1;
		if (!lit(v, n, &i, " ") || !num(v, n, &i, 2, &tm.tm_mday) || !lit(v, n, &i, "-") ||
		    !month(v, n, &i, &tm.tm_mon) || !lit(v, n, &i, "-") ||
		    !num(v, n, &i, 2, &tm.tm_year) || !lit(v, n, &i, " ") || !clock_of(v, n, &i, &tm) ||
		    !lit(v, n, &i, " GMT") || i != n)
			return false;
		if (tm.tm_year < 70) /* RFC 9110 5.6.7: 50 years into the future at most */
			tm.tm_year += 100;
	} else {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		i = 3;
		if (!lit(v, n, &i, " ") || !month(v, n, &i, &tm.tm_mon) || !lit(v, n, &i, " "))
			return false;
		if (i < n && v[i] == ' ')
			i++;
		if (!num(v, n, &i, 0, &tm.tm_mday) || tm.tm_mday > 31 || !lit(v, n, &i, " ") ||
		    !clock_of(v, n, &i, &tm) || !lit(v, n, &i, " ") ||
		    !num(v, n, &i, 4, &tm.tm_year) || i != n)
			return false;
		tm.tm_year -= 1900;
	}
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || tm.tm_year < 70)
		return false;
	r = timegm(&tm);
	if (r == (time_t)-1)
		return false;
	*t = (int64_t)r;
	return true;
}

/* ---- escaping ----------------------------------------------------------------------- */

size_t webfile_html_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
		                : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
		size_t k = rep ? strlen(rep) : 1;

		if (o + k >= cap)
			return (size_t)-1;
		memcpy(out + o, rep ? rep : s, k);
		o += k;
	}
	if (!cap)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

size_t webfile_url_encode(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
		             ch == '~';

		if (o + (plain ? 1 : 3) >= cap)
			return (size_t)-1;
		if (plain) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (!cap)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}
