/*
 * hex.h - the one hexadecimal decoder of the project (JSON \u escapes, URL percent-escapes,
 * the keys, salts and signatures auth/ reads in hex).
 *
 * A digit is decoded without a branch or a table lookup that depends on its value (the
 * arithmetic of libsodium's sodium_hex2bin): the same code decodes secrets (SCRAM keys
 * from the configuration or an authenticator), so their timing must not depend on them.
 * Only whether a character is a digit at all decides a branch.
 */
#ifndef WAMPD_COMMON_HEX_H
#define WAMPD_COMMON_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value (0-15) of the hex digit c ('0'-'9', 'a'-'f', 'A'-'F'), or -1. */
static inline int hex_digit(unsigned char c)
{
	uint8_t num = c ^ 48u;                                      /* '0'-'9': 0-9 */
	uint8_t num_ok = (uint8_t)((num - 10u) >> 8);               /* 0xff iff num < 10 */
	uint8_t alpha = (uint8_t)((c & ~32u) - 55u);                /* 'A'-'F', 'a'-'f': 10-15 */
	uint8_t alpha_ok = (uint8_t)(((alpha - 10u) ^ (alpha - 16u)) >> 8); /* 0xff iff 10-15 */

	if (!(num_ok | alpha_ok))
		return -1;
	return (num_ok & num) | (alpha_ok & alpha);
}

/*
 * Decode the len hex digits at hex (not NUL-terminated; no separators) into out (cap
 * bytes): true and *n = len / 2 when every character is a digit, len is even and the bytes
 * fit. On false out may hold part of the bytes and *n is 0.
 */
bool hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *n);

#endif
