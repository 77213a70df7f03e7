/*
 * log.h - leveled, one-line-per-event logging to stderr.
 *
 * Lines look like
 *   2026-11-24T20:11:59.123Z notice router: listening url=ws://127.0.0.1:8080/ws
 * The text after the module is free-form but by convention "what happened" followed by
 * key=value fields (session=, realm=, authid=, peer=) so logs can be grepped and parsed.
 * Messages above the current level cost one integer compare (the macros check first).
 */
#ifndef WAMPD_COMMON_LOG_H
#define WAMPD_COMMON_LOG_H

#include <stdbool.h>

enum wlog_level {
	WLOG_ERROR = 0,
	WLOG_WARN,
	WLOG_NOTICE,
	WLOG_INFO,
	WLOG_DEBUG,
};

extern enum wlog_level wlog_current_level;

/* Set the level below which lines are dropped. */
void wlog_set_level(enum wlog_level level);

/* Parse "error|warn|notice|info|debug" into *out. Returns false (and leaves *out) on an
 * unknown name. */
bool wlog_parse_level(const char *name, enum wlog_level *out);

/* Write one line (a trailing newline is added). module and fmt are borrowed. */
void wlog_write(enum wlog_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define wlog_at(lvl, mod, ...)                                                         \
	do {                                                                           \
		if ((lvl) <= wlog_current_level)                                       \
			wlog_write((lvl), (mod), __VA_ARGS__);                         \
	} while (0)

#define wlog_error(mod, ...) wlog_at(WLOG_ERROR, mod, __VA_ARGS__)
#define wlog_warn(mod, ...) wlog_at(WLOG_WARN, mod, __VA_ARGS__)
#define wlog_notice(mod, ...) wlog_at(WLOG_NOTICE, mod, __VA_ARGS__)
#define wlog_info(mod, ...) wlog_at(WLOG_INFO, mod, __VA_ARGS__)
#define wlog_debug(mod, ...) wlog_at(WLOG_DEBUG, mod, __VA_ARGS__)

#endif
