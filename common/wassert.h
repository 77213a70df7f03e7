/*
 * wassert.h - WAMPD_ASSERT: a documented precondition checked in every build (redis'
 * serverAssert): on failure the expression, file and line are logged at error level and
 * the process aborts, so a broken invariant stops the router where it broke instead of
 * corrupting state further. For preconditions of internal callers only, never for input
 * from the network (that gets an ERROR or ABORT, see common/err.h).
 */
#ifndef WAMPD_COMMON_WASSERT_H
#define WAMPD_COMMON_WASSERT_H

#include <stdlib.h>

#include "common/log.h"

#define WAMPD_ASSERT(expr)                                                                  \
	do {                                                                                \
		if (!(expr)) {                                                              \
			wlog_error("router", "assertion failed: %s (%s:%d)", #expr, __FILE__,       \
			           __LINE__);                                                   \
			abort();                                                            \
		}                                                                           \
	} while (0)

#endif
