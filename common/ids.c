/*
 * ids.c - global-scope id generation (libsodium randombytes).
 *
 * 2^53 is a power of two, so masking 53 random bits gives a uniform value in [0, 2^53 - 1]
 * without rejection sampling; adding 1 maps it onto [1, 2^53].
 */
#include "ids.h"

#include <sodium.h>

bool ids_init(void)
{
	return sodium_init() >= 0;
}

uint64_t ids_global(void)
{
	uint64_t r;

	randombytes_buf(&r, sizeof(r));
	return (r & (WAMP_ID_MAX - 1)) + 1;
}
