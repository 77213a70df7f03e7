/*
 * log.c - see log.h.
 *
 * A line is formatted completely into a stack buffer and written with one fwrite, so lines
 * never interleave within a line. Formatting appends through `struct out`, which refuses
 * any piece that would not leave room for the line's closing bytes: a long message is cut
 * at a character boundary (never inside an escape or a UTF-8 sequence) and the line stays
 * well formed. JSON fields are found by one scan of the message for space-separated
 * tokens shaped key=value.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LOG_TEXT_MAX 1024 /* bytes of one formatted message */
#define LOG_LINE_MAX 4096 /* bytes of one output line (escapes can expand the text) */
#define LOG_FIELDS_MAX 16 /* key=value members of one JSON line */

const char *const wlog_modules[] = {"admin", "auth",  "authz",  "broker",  "config", "dealer",
                                    "front", "http",  "lws",    "meta",    "raw",    "realm",
                                    "router", "session", "store", "worker", "ws", NULL};

static const struct wlog_config default_config = {
	.gate = WLOG_NOTICE,
	.levels = {.def = WLOG_NOTICE},
	.format = WLOG_TEXT,
};

/* Written only by wlog_use (its owner, between events); log calls only read it. */
const struct wlog_config *wlog_cfg = &default_config;

static const char *const level_names[] = {"error", "warn", "notice", "info", "debug"};

/* ---------------------------------------------------------------------------------- */
/* levels                                                                               */

void wlog_config_set(struct wlog_config *c, const struct wlog_levels *levels,
                     enum wlog_format format, FILE *out)
{
	c->levels = *levels;
	c->gate = levels->def;
	for (unsigned i = 0; i < levels->n; i++)
		if (levels->mod[i].level > c->gate)
			c->gate = levels->mod[i].level;
	c->format = format;
	c->out = out;
}

void wlog_use(const struct wlog_config *c)
{
	wlog_cfg = c ? c : &default_config;
}

enum wlog_level wlog_module_level(const char *module)
{
	const struct wlog_levels *l = &wlog_cfg->levels;

	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->mod[i].name, module))
			return l->mod[i].level;
	return l->def;
}

bool wlog_parse_level(const char *name, enum wlog_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (enum wlog_level)i;
			return true;
		}
	}
	if (!strcmp(name, "warning")) {
		*out = WLOG_WARN;
		return true;
	}
	return false;
}

static bool module_known(const char *name)
{
	for (const char *const *m = wlog_modules; *m; m++)
		if (!strcmp(*m, name))
			return true;
	return false;
}

bool wlog_parse_spec(const char *spec, struct wlog_levels *out,
                     char unknown[WLOG_MODULE_NAME_MAX], char *err, size_t errlen)
{
	struct wlog_levels l = {.def = WLOG_NOTICE};
	bool have_default = false;
	const char *p = spec;

	if (unknown)
		unknown[0] = '\0';
	if (!spec || !*spec) {
		snprintf(err, errlen, "empty log level");
		return false;
	}
	while (*p) {
		char item[64], *eq;
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		enum wlog_level lv;

		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (!n || n >= sizeof(item)) {
			snprintf(err, errlen, "%s log level item in \"%s\"", n ? "overlong" : "empty",
			         spec);
			return false;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (!(eq = strchr(item, '='))) {
			if (!wlog_parse_level(item, &lv)) {
				snprintf(err, errlen, "unknown log level \"%s\" (error, warn, notice, "
				         "info, debug)", item);
				return false;
			}
			if (have_default) {
				snprintf(err, errlen, "two default log levels in \"%s\"", spec);
				return false;
			}
			have_default = true;
			l.def = lv;
		} else {
			size_t k = (size_t)(eq - item);

			*eq = '\0';
			if (!k || k >= WLOG_MODULE_NAME_MAX ||
			    strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_") != k) {
				snprintf(err, errlen, "bad module name \"%s\" in the log level", item);
				return false;
			}
			if (!wlog_parse_level(eq + 1, &lv)) {
				snprintf(err, errlen, "unknown log level \"%s\" for module %s", eq + 1,
				         item);
				return false;
			}
			{
				unsigned i;

				for (i = 0; i < l.n; i++)
					if (!strcmp(l.mod[i].name, item))
						break;
				if (i == l.n) {
					if (l.n == WLOG_MAX_MODULES) {
						snprintf(err, errlen, "too many modules in the log level");
						return false;
					}
					l.n++;
				}
				memcpy(l.mod[i].name, item, k + 1);
				l.mod[i].level = lv;
			}
			if (unknown && !unknown[0] && !module_known(item))
				memcpy(unknown, item, k + 1);
		}
		p += (end ? (size_t)(end - p) + 1 : strlen(p));
		if (end && !*p) {
			snprintf(err, errlen, "empty log level item in \"%s\"", spec);
			return false;
		}
	}
	*out = l;
	return true;
}

bool wlog_parse_format(const char *name, enum wlog_format *out)
{
	if (!strcmp(name, "text"))
		*out = WLOG_TEXT;
	else if (!strcmp(name, "json"))
		*out = WLOG_JSON;
	else
		return false;
	return true;
}

/* ---------------------------------------------------------------------------------- */
/* formatting                                                                           */

struct out {
	char *buf;
	size_t len;
	size_t limit; /* bytes usable before the line's closing bytes */
	bool full;
};

static bool out_put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n > o->limit) {
		o->full = true;
		return false;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return true;
}

static bool out_str(struct out *o, const char *s)
{
	return out_put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not valid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t k, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		k = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 4;
	else
		return 0;
	if (n < k)
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return k;
}

/* Append s[0..n) escaped for a JSON string (without quotes). */
static void out_json_chars(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n && !o->full) {
		unsigned char c = p[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_put(o, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': out_put(o, "\\n", 2); break;
			case '\r': out_put(o, "\\r", 2); break;
			case '\t': out_put(o, "\\t", 2); break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				out_put(o, esc, 6);
			}
			i++;
		} else if (c < 0x80) {
			out_put(o, (const char *)p + i, 1);
			i++;
		} else {
			size_t k = utf8_seq(p + i, n - i);

			if (k) {
				out_put(o, (const char *)p + i, k);
				i += k;
			} else {
				out_put(o, "\\ufffd", 6); /* not UTF-8: replaced, line stays valid */
				i++;
			}
		}
	}
}

/* Append s escaped for a text line: control characters become \n, \r, \t or \xNN. */
static void out_text_chars(struct out *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p && !o->full; p++) {
		char esc[8];

		if (*p >= 0x20 && *p != 0x7f) {
			out_put(o, (const char *)p, 1);
			continue;
		}
		switch (*p) {
		case '\n': out_put(o, "\\n", 2); break;
		case '\r': out_put(o, "\\r", 2); break;
		case '\t': out_put(o, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			out_put(o, esc, 4);
		}
	}
}

/* A JSON number for an all-digit value without a leading zero, up to 2^53. */
static bool is_json_int(const char *v, size_t n)
{
	uint64_t x = 0;

	if (!n || n > 16 || (v[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	return x <= (UINT64_C(1) << 53);
}

/* The key=value fields of text as JSON members. */
static void out_json_fields(struct out *o, const char *text)
{
	static const char *const reserved[] = {"ts", "level", "module", "msg"};
	struct {
		const char *k;
		size_t n;
	} seen[LOG_FIELDS_MAX];
	unsigned nseen = 0;
	const char *p = text;

	while (*p && nseen < LOG_FIELDS_MAX) {
		const char *tok, *eq, *end, *v;
		size_t klen, vlen;
		bool skip = false;

		while (*p == ' ')
			p++;
		tok = p;
		while (*p && *p != ' ')
			p++;
		end = p;
		eq = memchr(tok, '=', (size_t)(end - tok));
		if (!eq || eq == tok)
			continue;
		klen = (size_t)(eq - tok);
		if (strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789_") < klen || tok[0] < 'a')
			continue;
		v = eq + 1;
		vlen = (size_t)(end - v);
		/* "peer=1.2.3.4:5: why" or "a=1, b=2": the punctuation ends the sentence */
		while (vlen && (v[vlen - 1] == ':' || v[vlen - 1] == ',' || v[vlen - 1] == ';'))
			vlen--;
		for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (strlen(reserved[i]) == klen && !memcmp(reserved[i], tok, klen))
				skip = true;
		for (unsigned i = 0; i < nseen; i++)
			if (seen[i].n == klen && !memcmp(seen[i].k, tok, klen))
				skip = true; /* the first occurrence wins: no duplicate members */
		if (skip)
			continue;
		{
			/* a member is written whole or not at all */
			size_t mark = o->len;

			out_put(o, ",\"", 2);
			out_put(o, tok, klen);
			out_put(o, "\":", 2);
			if (is_json_int(v, vlen)) {
				out_put(o, v, vlen);
			} else {
				out_put(o, "\"", 1);
				out_json_chars(o, v, vlen);
				out_put(o, "\"", 1);
			}
			if (o->full) {
				o->len = mark;
				return;
			}
		}
		seen[nseen].k = tok;
		seen[nseen].n = klen;
		nseen++;
	}
}

size_t wlog_format_line(char *buf, size_t cap, enum wlog_format format, int64_t wall_ms,
                        enum wlog_level level, const char *module, const char *text)
{
	char stamp[40];
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	const char *lv = level_names[level <= WLOG_DEBUG ? level : WLOG_DEBUG];
	struct out o = {.buf = buf, .limit = cap - 3}; /* room for "}\n\0" or "\n\0" */

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03dZ",
	         (int)(wall_ms % 1000));
	if (format == WLOG_JSON) {
		out_str(&o, "{\"ts\":\"");
		out_str(&o, stamp);
		out_str(&o, "\",\"level\":\"");
		out_str(&o, lv);
		out_str(&o, "\",\"module\":\"");
		out_json_chars(&o, module, strlen(module));
		out_str(&o, "\",\"msg\":\"");
		/* the closing quote of msg must fit even when msg is cut */
		o.limit--;
		out_json_chars(&o, text, strlen(text));
		o.limit++;
		o.full = false;
		out_put(&o, "\"", 1);
		out_json_fields(&o, text);
		buf[o.len++] = '}';
	} else {
		out_str(&o, stamp);
		out_str(&o, " ");
		out_str(&o, lv);
		out_str(&o, " ");
		out_text_chars(&o, module);
		out_str(&o, ": ");
		out_text_chars(&o, text);
	}
	buf[o.len++] = '\n';
	buf[o.len] = '\0';
	return o.len;
}

void wlog_write(enum wlog_level level, const char *module, const char *fmt, ...)
{
	char text[LOG_TEXT_MAX];
	char line[LOG_LINE_MAX];
	struct timespec ts;
	va_list ap;
	size_t n;

	if (level > wlog_module_level(module))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	n = wlog_format_line(line, sizeof(line), wlog_cfg->format,
	                     (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L, level, module, text);
	fwrite(line, 1, n, wlog_cfg->out ? wlog_cfg->out : stderr);
}
