/*
 * hex.c - decoding hexadecimal text into bytes (hex.h).
 *
 * Two digits a byte, most significant first. Every digit is decoded, also after a bad one,
 * so the time depends on the length only.
 */
#include "common/hex.h"

bool hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	int bad = 0;

	*n = 0;
	if (len % 2 || len / 2 > cap)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit((unsigned char)hex[i]), lo = hex_digit((unsigned char)hex[i + 1]);

		bad |= hi | lo; /* negative once any was -1 */
		out[i / 2] = (uint8_t)((((unsigned)hi & 15u) << 4) | ((unsigned)lo & 15u));
	}
	if (bad < 0)
		return false;
	*n = len / 2;
	return true;
}
