/*
 * uri.h - WAMP URI rules (basic/building_blocks.md "URIs").
 *
 * loose:  components must not be empty and must not contain '.', '#' or whitespace
 * strict: components contain only [0-9a-z_]
 * With URI_ALLOW_EMPTY, empty components are allowed (pattern-based subscriptions and
 * registrations: "com..topic", and a prefix "com.myapp." ending with a dot).
 * NUL bytes are never valid (uri_len counts them; a string with one fails), nor are URIs
 * longer than URI_MAX_LEN bytes.
 */
#ifndef WAMPD_REALM_URI_H
#define WAMPD_REALM_URI_H

#include <stdbool.h>
#include <stddef.h>

enum uri_rule { URI_LOOSE = 0, URI_STRICT = 1 };

#define URI_ALLOW_EMPTY 1u /* allow empty components (patterns) */

#define URI_MAX_LEN 4096  /* longer URIs are invalid (bounds the match index's work) */

/* true if uri[0..len) is valid under rule and flags. */
bool uri_valid(const char *uri, size_t len, enum uri_rule rule, unsigned flags);

/* true if uri is in the reserved "wamp." namespace (first component "wamp"). */
bool uri_reserved(const char *uri, size_t len);

#endif
