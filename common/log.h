/*
 * log.h - leveled, one-line-per-event logging to stderr, as text or JSON lines.
 *
 * Text lines look like
 *   2026-11-24T20:11:59.123Z notice router: listening url=ws://127.0.0.1:8080/ws
 * The text after the module is by convention "what happened" followed by key=value fields
 * (session=, realm=, authid=, peer=) so logs can be grepped and parsed. JSON lines carry
 * the same event as one object per line:
 *   {"ts":"2026-11-24T20:11:59.123Z","level":"notice","module":"router",
 *    "msg":"listening url=ws://127.0.0.1:8080/ws","url":"ws://127.0.0.1:8080/ws"}
 * where every key=value token of the text also becomes a member (all-digit values as
 * numbers, others as strings; the keys ts, level, module and msg are never overwritten).
 * Control characters are escaped in both formats, so a client-chosen string (an authid)
 * can never start a second line; JSON output is always valid UTF-8.
 *
 * Levels can differ per module ("info,router=debug,auth=warn"). A message above every
 * module's level costs one integer compare (the macros check the most verbose level in use
 * first); one above its own module's level costs a short table lookup, and is never
 * formatted.
 *
 * What the log does is one struct, struct wlog_config (levels, their gate, format,
 * output), owned by whoever configures logging (main.c, from the configuration file and
 * the command line; a test) and installed with wlog_use(); log calls read it through the
 * one pointer wlog_cfg and never write anything shared, so any number of event loops may
 * log at once without locks while the installed configuration does not change.
 */
#ifndef WAMPD_COMMON_LOG_H
#define WAMPD_COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum wlog_level {
	WLOG_ERROR = 0,
	WLOG_WARN,
	WLOG_NOTICE,
	WLOG_INFO,
	WLOG_DEBUG,
};

enum wlog_format {
	WLOG_TEXT = 0,
	WLOG_JSON,
};

#define WLOG_MAX_MODULES 24
#define WLOG_MODULE_NAME_MAX 16

/* A default level and per-module overrides, as parsed from "info,router=debug". */
struct wlog_levels {
	enum wlog_level def;
	unsigned n;
	struct {
		char name[WLOG_MODULE_NAME_MAX];
		enum wlog_level level;
	} mod[WLOG_MAX_MODULES];
};

/* What and how the log writes. */
struct wlog_config {
	enum wlog_level gate;      /* the most verbose level in `levels` (the macros' one
	                              compare); wlog_config_set computes it */
	struct wlog_levels levels;
	enum wlog_format format;
	FILE *out;                 /* borrowed; NULL: stderr */
};

/* The configuration log calls read; never NULL: the built-in default (notice for every
 * module, text, stderr) until its owner installs one with wlog_use(). */
extern const struct wlog_config *wlog_cfg;

/* Fill c with levels (copied; the gate computed), format and out (NULL: stderr). */
void wlog_config_set(struct wlog_config *c, const struct wlog_levels *levels,
                     enum wlog_format format, FILE *out);

/*
 * Log with c from now on (borrowed: it must stay valid while installed; NULL: the built-in
 * default). Its owner changes c, or installs another, only between events, never from a
 * log call; with several loops, once before they start (they then share one read-only
 * configuration).
 */
void wlog_use(const struct wlog_config *c);

/* The module names wampd logs under (NULL-terminated), for --help and typo warnings. */
extern const char *const wlog_modules[];

/* The level in force for `module` in the installed configuration (its override, or the
 * default). */
enum wlog_level wlog_module_level(const char *module);

/* Parse "error|warn|warning|notice|info|debug" into *out. Returns false (and leaves *out)
 * on an unknown name. */
bool wlog_parse_level(const char *name, enum wlog_level *out);

/*
 * Parse a level specification: comma-separated items, each a bare level (the default for
 * every module; at most one) or module=level; spaces around items are ignored, e.g.
 * "info,router=debug, auth=warn". The default is `notice` when no bare level is given.
 * Module names are [a-z0-9_], at most 15 characters; a name wampd does not log under is
 * accepted (unknown, if not NULL, receives the first such name, "" if none) so the caller
 * can warn. Returns true and fills *out; on failure returns false, leaves *out untouched
 * and writes a message naming the bad item into err.
 */
bool wlog_parse_spec(const char *spec, struct wlog_levels *out,
                     char unknown[WLOG_MODULE_NAME_MAX], char *err, size_t errlen);

/* Parse "text" or "json". false on anything else. */
bool wlog_parse_format(const char *name, enum wlog_format *out);

/*
 * Format one event into buf (cap bytes, at least 64): a complete line ending in '\n' and
 * NUL-terminated, truncated (still valid, still one line) when it does not fit. wall_ms is
 * the event's time in ms since the epoch; module and text are borrowed. Returns the line's
 * length without the NUL.
 */
size_t wlog_format_line(char *buf, size_t cap, enum wlog_format format, int64_t wall_ms,
                        enum wlog_level level, const char *module, const char *text);

/* Write one line (a trailing newline is added) if `level` is enabled for `module`.
 * module and fmt are borrowed. */
void wlog_write(enum wlog_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define wlog_at(lvl, mod, ...)                                                         \
	do {                                                                           \
		if ((lvl) <= wlog_cfg->gate)                                           \
			wlog_write((lvl), (mod), __VA_ARGS__);                         \
	} while (0)

#define wlog_error(mod, ...) wlog_at(WLOG_ERROR, mod, __VA_ARGS__)
#define wlog_warn(mod, ...) wlog_at(WLOG_WARN, mod, __VA_ARGS__)
#define wlog_notice(mod, ...) wlog_at(WLOG_NOTICE, mod, __VA_ARGS__)
#define wlog_info(mod, ...) wlog_at(WLOG_INFO, mod, __VA_ARGS__)
#define wlog_debug(mod, ...) wlog_at(WLOG_DEBUG, mod, __VA_ARGS__)

#endif
