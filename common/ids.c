/*
 * ids.c - global-scope id generation and random bytes (libsodium randombytes, pooled).
 *
 * 2^53 is a power of two, so masking 53 random bits gives a uniform value in [0, 2^53 - 1]
 * without rejection sampling; adding 1 maps it onto [1, 2^53].
 */
#include "ids.h"

#include <sodium.h>
#include <string.h>

bool ids_init(void)
{
	return sodium_init() >= 0;
}

static struct {
	uint8_t bytes[IDS_POOL];
	size_t used; /* bytes already served (IDS_POOL: empty) */
} pool = {.used = IDS_POOL};

void ids_random(void *buf, size_t n)
{
	uint8_t *out = buf;

	if (n > IDS_POOL / 4) { /* large requests bypass the pool */
		randombytes_buf(out, n);
		return;
	}
	while (n) {
		size_t k;

		if (pool.used == IDS_POOL) {
			randombytes_buf(pool.bytes, IDS_POOL);
			pool.used = 0;
		}
		k = IDS_POOL - pool.used < n ? IDS_POOL - pool.used : n;
		memcpy(out, pool.bytes + pool.used, k);
		sodium_memzero(pool.bytes + pool.used, k);
		pool.used += k;
		out += k;
		n -= k;
	}
}

uint32_t ids_uniform(uint32_t upper)
{
	/* reject the values of the last, partial multiple of upper (none if a power of 2) */
	uint32_t min = (uint32_t)(-upper) % upper, r;

	do
		ids_random(&r, sizeof(r));
	while (r < min);
	return r % upper;
}

uint64_t ids_global(void)
{
	uint64_t r;

	ids_random(&r, sizeof(r));
	return (r & (WAMP_ID_MAX - 1)) + 1;
}
