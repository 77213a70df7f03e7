/*
 * match.h - an index from URI patterns (exact, prefix, wildcard) to items, used by the
 * broker (subscriptions) and the dealer (registrations).
 *
 * An item is embedded in its owner (struct subscription / struct registration); the index
 * links items, it never allocates or frees them. Each (uri, policy) pair holds at most one
 * item: owners share one subscription/registration per pattern.
 *
 * Lookup yields the items matching a concrete URI in WAMP's precedence order
 * (advanced/rpc_pattern_based_registration.md): the exact item, then prefix items from
 * the longest prefix to the shortest, then wildcard items, those with literal components
 * before their first wildcard first (then the second wildcard, and so on).
 *
 * Prefix matching is on the string, as the spec defines it ("com.myapp.myobject1" is a
 * prefix of "com.myapp.myobject1-mysubobject1") and as Crossbar and Nexus do; one example
 * in the spec treats it per component instead, which we do not follow.
 */
#ifndef WAMPD_REALM_MATCH_H
#define WAMPD_REALM_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

enum match_policy { MATCH_EXACT = 0, MATCH_PREFIX = 1, MATCH_WILDCARD = 2 };

struct match_node;

struct match_item {
	char *uri;                 /* owned by the item's owner */
	size_t uri_len;
	enum match_policy policy;
	UT_hash_handle hh;         /* in the exact or the prefix table */
	struct match_node *node;   /* wildcard items: the trie node holding the item */
};

struct match_index {
	struct match_item *exact;  /* by uri (uthash, Jenkins hash) */
	struct match_item *prefix; /* by uri (uthash, FNV-1a hash: see match.c) */
	uint32_t *prefix_lens;     /* prefix_lens[n]: prefix items of length n */
	size_t prefix_lens_cap;
	size_t nprefix;
	struct match_node *root;   /* wildcard trie over URI components */
	size_t nwildcard;
	size_t nnodes;             /* trie nodes besides the root (memory accounting, tests) */
};

/* Parse "exact" / "prefix" / "wildcard" (NULL means exact). false if unknown. */
bool match_policy_parse(const char *name, enum match_policy *out);

/* "exact", "prefix", "wildcard". */
const char *match_policy_name(enum match_policy policy);

void match_init(struct match_index *idx);

/* Free the index's own memory (trie nodes, length table). Items are not touched. */
void match_destroy(struct match_index *idx);

/*
 * Link item (uri, uri_len, policy set by the caller; uri owned by the caller and kept alive
 * while linked). The caller has checked with match_get() that the pair is not present.
 * Returns false on allocation failure (nothing linked).
 */
bool match_insert(struct match_index *idx, struct match_item *item);

/* Unlink item (it must be linked). */
void match_delete(struct match_index *idx, struct match_item *item);

/* The item registered with exactly this pattern and policy, or NULL. */
struct match_item *match_get(struct match_index *idx, const char *uri, size_t len,
                             enum match_policy policy);

/* Called for each matching item in precedence order; return false to stop. */
typedef bool (*match_fn)(struct match_item *item, void *arg);

/* Visit every item whose pattern matches the concrete uri (see the order above). */
void match_each(struct match_index *idx, const char *uri, size_t len, match_fn fn, void *arg);

/* true if the pattern (uri, policy) of item matches the concrete uri. */
bool match_item_matches(const struct match_item *item, const char *uri, size_t len);

/* The best match (first in precedence order), or NULL. */
struct match_item *match_best(struct match_index *idx, const char *uri, size_t len);

#endif
