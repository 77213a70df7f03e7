/*
 * uri.c - one pass over the bytes, tracking the length of the current component.
 * Whitespace is ASCII whitespace (what the spec's \s means for the bytes a URI can hold;
 * multi-byte UTF-8 sequences are passed through under the loose rule).
 */
#include "realm/uri.h"

#include <string.h>

static bool uri_char_ok(unsigned char c, enum uri_rule rule)
{
	if (rule == URI_STRICT)
		return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
	switch (c) {
	case '#':
	case ' ':
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case '\0':
		return false;
	default:
		return true;
	}
}

bool uri_valid(const char *uri, size_t len, enum uri_rule rule, unsigned flags)
{
	size_t comp = 0; /* bytes in the current component */
	bool allow_empty = flags & URI_ALLOW_EMPTY;

	if (!uri || len == 0 || len > URI_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uri[i];

		if (c == '.') {
			if (comp == 0 && !allow_empty)
				return false;
			comp = 0;
			continue;
		}
		if (!uri_char_ok(c, rule))
			return false;
		comp++;
	}
	return comp > 0 || allow_empty;
}

bool uri_reserved(const char *uri, size_t len)
{
	return len >= 5 && !memcmp(uri, "wamp.", 5);
}
