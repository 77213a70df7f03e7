/*
 * ids.h - WAMP identifiers.
 *
 * Global-scope ids (sessions, publications) are drawn uniformly from [1, 2^53] with
 * libsodium's CSPRNG; callers that keep live ids check for collisions themselves (a
 * collision among 2^53 values is astronomically rare but cheap to rule out).
 * Router- and session-scope ids are plain counters kept by their owners. There is no
 * generator state in here: the caller passes its loop's (struct ids_gen).
 */
#ifndef WAMPD_COMMON_IDS_H
#define WAMPD_COMMON_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAMP_ID_MAX (UINT64_C(1) << 53) /* 9007199254740992, inclusive */

/*
 * The state ids are drawn from: a pool of CSPRNG bytes. Each event loop owns one (today the
 * router's, rt->ids; realm/ and auth/ borrow it) and draws from it without locks or atomics;
 * two loops never share one. Zero it, or ids_gen_init(), before use.
 */
#define IDS_POOL 512
struct ids_gen {
	uint8_t bytes[IDS_POOL];
	size_t avail; /* bytes not served yet, at the pool's end (0: empty, refilled on demand) */
};

/*
 * Initialise libsodium and the process-wide secret (ids_secret). Once per process, before
 * any loop runs. Returns false if libsodium cannot be initialised (then no id may be drawn).
 */
bool ids_init(void);

/* An empty generator (the first draw fills it). */
void ids_gen_init(struct ids_gen *g);

/* A random id, uniform in [1, 2^53]. ids_init() must have succeeded. */
uint64_t ids_global(struct ids_gen *g);

/*
 * n bytes from libsodium's CSPRNG (challenges, nonces, salts, anonymous authids), served
 * from g's pool refilled IDS_POOL bytes at a time: one getrandom(2) per refill instead of
 * one per call (that syscall was an eighth of a session setup). Served bytes are wiped
 * from the pool. ids_init() must have succeeded.
 */
void ids_random(struct ids_gen *g, void *buf, size_t n);

/* A random value uniform in [0, upper) (upper >= 1), from ids_random. */
uint32_t ids_uniform(struct ids_gen *g, uint32_t upper);

/*
 * IDS_SECRET_BYTES random bytes drawn once by ids_init() and never changed afterwards: a
 * key for values that must be the same whichever loop computes them (the WAMP-CRA decoy
 * salt of an unknown authid, auth/wampcra.c), so it is the process's, not a loop's.
 * Read-only after ids_init(), so any number of loops may read it.
 */
#define IDS_SECRET_BYTES 32
const uint8_t *ids_secret(void);

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
