/*
 * ids.c - global-scope id generation and random bytes (libsodium randombytes, pooled per
 * generator: struct ids_gen, one per event loop).
 *
 * 2^53 is a power of two, so masking 53 random bits gives a uniform value in [0, 2^53 - 1]
 * without rejection sampling; adding 1 maps it onto [1, 2^53].
 */
#include "ids.h"

#include <sodium.h>
#include <string.h>

/* Written by ids_init() only, before any loop runs; read-only afterwards (ids_secret). */
static uint8_t process_secret[IDS_SECRET_BYTES];

bool ids_init(void)
{
	if (sodium_init() < 0)
		return false;
	randombytes_buf(process_secret, sizeof(process_secret));
	return true;
}

const uint8_t *ids_secret(void)
{
	return process_secret;
}

void ids_gen_init(struct ids_gen *g)
{
	g->avail = 0;
}

void ids_random(struct ids_gen *g, void *buf, size_t n)
{
	uint8_t *out = buf;

	if (n > IDS_POOL / 4) { /* large requests bypass the pool */
		randombytes_buf(out, n);
		return;
	}
	while (n) {
		size_t k, at;

		if (!g->avail) {
			randombytes_buf(g->bytes, IDS_POOL);
			g->avail = IDS_POOL;
		}
		k = g->avail < n ? g->avail : n;
		at = IDS_POOL - g->avail;
		memcpy(out, g->bytes + at, k);
		sodium_memzero(g->bytes + at, k);
		g->avail -= k;
		out += k;
		n -= k;
	}
}

uint32_t ids_uniform(struct ids_gen *g, uint32_t upper)
{
	/* reject the values of the last, partial multiple of upper (none if a power of 2) */
	uint32_t min = (uint32_t)(-upper) % upper, r;

	do
		ids_random(g, &r, sizeof(r));
	while (r < min);
	return r % upper;
}

uint64_t ids_global(struct ids_gen *g)
{
	uint64_t r;

	ids_random(g, &r, sizeof(r));
	return (r & (WAMP_ID_MAX - 1)) + 1;
}
