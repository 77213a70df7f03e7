/*
 * ids.h - WAMP identifiers.
 *
 * Global-scope ids (sessions, publications) are drawn uniformly from [1, 2^53] with
 * libsodium's CSPRNG; callers that keep live ids check for collisions themselves (a
 * collision among 2^53 values is astronomically rare but cheap to rule out).
 * Router- and session-scope ids are plain counters kept by their owners.
 */
#ifndef WAMPD_COMMON_IDS_H
#define WAMPD_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAMP_ID_MAX (UINT64_C(1) << 53) /* 9007199254740992, inclusive */

/* Initialise libsodium. Returns false if it cannot be initialised (then no id may be drawn). */
bool ids_init(void);

/* A random id, uniform in [1, 2^53]. ids_init() must have succeeded. */
uint64_t ids_global(void);

/*
 * n bytes from libsodium's CSPRNG (challenges, nonces, salts, anonymous authids), served
 * from a small pool refilled IDS_POOL bytes at a time: one getrandom(2) per refill instead
 * of one per call (that syscall was an eighth of a session setup). Served bytes are wiped
 * from the pool. Single-threaded, like the router. ids_init() must have succeeded.
 */
#define IDS_POOL 512
void ids_random(void *buf, size_t n);

/* A random value uniform in [0, upper) (upper >= 1), from ids_random. */
uint32_t ids_uniform(uint32_t upper);

/* The next id after *counter in [1, 2^53], wrapping to 1; stores and returns it. */
static inline uint64_t ids_next(uint64_t *counter)
{
	*counter = (*counter >= WAMP_ID_MAX) ? 1 : *counter + 1;
	return *counter;
}

/* true when v is a valid WAMP id ([1, 2^53]). */
static inline bool ids_valid(uint64_t v)
{
	return v >= 1 && v <= WAMP_ID_MAX;
}

#endif
