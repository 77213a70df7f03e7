/*
 * log.c - see log.h. One fprintf per line so concurrent writers (none today: the router is
 * single-threaded) would not interleave within a line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum wlog_level wlog_current_level = WLOG_NOTICE;

static const char *const level_names[] = {"error", "warn", "notice", "info", "debug"};

void wlog_set_level(enum wlog_level level)
{
	wlog_current_level = level;
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

void wlog_write(enum wlog_level level, const char *module, const char *fmt, ...)
{
	char text[1024];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
	        level_names[level <= WLOG_DEBUG ? level : WLOG_DEBUG], module, text);
}
