/*
 * match.c - the URI pattern index (see match.h).
 *
 * Exact: a hash table keyed by URI; one lookup.
 *
 * Prefix: a hash table keyed by the prefix string, plus a count of prefix items per
 * length. The table hashes with FNV-1a, which can be computed incrementally: one pass over
 * the URI yields the hash of every prefix of it, so the candidates are found with one hash
 * probe per length that has prefix items (longest first) and no rehashing: O(length of URI)
 * for the pass plus one probe per distinct prefix length.
 *
 * Wildcard: a trie over URI components, as MQTT brokers index topic filters (mosquitto's
 * subs.c): each node has its literal children in a hash table and one "wildcard" child
 * for an empty component; an item sits at the node where its pattern ends. Matching walks
 * the URI's components depth-first, trying the literal child before the wildcard child at
 * every level, so items come out in WAMP's precedence order (literal components before the
 * first wildcard win, then before the second, ...). Only patterns with the same number of
 * components as the URI can match, so the walk never goes deeper than the URI.
 */
#include <stdlib.h>
#include <string.h>

#include "realm/uri.h"

static inline unsigned match_fnv1a(const unsigned char *p, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* every uthash table in this file hashes with FNV-1a (the prefix probe relies on it) */
#define HASH_FUNCTION(keyptr, keylen, hashv)                                                  \
	((hashv) = match_fnv1a((const unsigned char *)(keyptr), (size_t)(keylen)))

#include "realm/match.h"

struct match_node {
	char *comp;                  /* literal component (key in parent->children) */
	size_t comp_len;
	struct match_node *parent;
	struct match_node *children; /* literal children */
	struct match_node *wild;     /* child for an empty component */
	struct match_item *item;     /* pattern ending here */
	UT_hash_handle hh;
};

bool match_policy_parse(const char *name, enum match_policy *out)
{
	if (!name || !strcmp(name, "exact"))
		*out = MATCH_EXACT;
	else if (!strcmp(name, "prefix"))
		*out = MATCH_PREFIX;
	else if (!strcmp(name, "wildcard"))
		*out = MATCH_WILDCARD;
	else
		return false;
	return true;
}

const char *match_policy_name(enum match_policy policy)
{
	switch (policy) {
	case MATCH_PREFIX:
		return "prefix";
	case MATCH_WILDCARD:
		return "wildcard";
	default:
		return "exact";
	}
}

void match_init(struct match_index *idx)
{
	memset(idx, 0, sizeof(*idx));
}

static void match_node_free(struct match_node *n)
{
	struct match_node *c, *tmp;

	if (!n)
		return;
	HASH_ITER(hh, n->children, c, tmp) {
		HASH_DEL(n->children, c);
		match_node_free(c);
	}
	match_node_free(n->wild);
	if (n->item)
		n->item->node = NULL;
	free(n->comp);
	free(n);
}

void match_destroy(struct match_index *idx)
{
	HASH_CLEAR(hh, idx->exact);
	HASH_CLEAR(hh, idx->prefix);
	match_node_free(idx->root);
	free(idx->prefix_lens);
	memset(idx, 0, sizeof(*idx));
}

/* Length of the component starting at uri[i] (up to the next '.' or the end). */
static size_t match_comp_len(const char *uri, size_t len, size_t i)
{
	const char *dot = memchr(uri + i, '.', len - i);

	return dot ? (size_t)(dot - (uri + i)) : len - i;
}

/* The child of n for component c (empty: the wildcard child), created if `create`. */
static struct match_node *match_child(struct match_index *idx, struct match_node *n,
                                      const char *c, size_t clen, bool create)
{
	struct match_node *child = NULL;

	if (clen == 0)
		child = n->wild;
	else
		HASH_FIND(hh, n->children, c, clen, child);
	if (child || !create)
		return child;
	if (!(child = calloc(1, sizeof(*child))))
		return NULL;
	child->parent = n;
	idx->nnodes++;
	if (clen == 0) {
		n->wild = child;
		return child;
	}
	if (!(child->comp = malloc(clen))) {
		free(child);
		idx->nnodes--;
		return NULL;
	}
	memcpy(child->comp, c, clen);
	child->comp_len = clen;
	HASH_ADD_KEYPTR(hh, n->children, child->comp, child->comp_len, child);
	return child;
}

/* Free n and its ancestors while they hold nothing. */
static void match_prune(struct match_index *idx, struct match_node *n)
{
	while (n && n != idx->root && !n->item && !n->children && !n->wild) {
		struct match_node *parent = n->parent;

		if (n->comp_len == 0 && parent->wild == n)
			parent->wild = NULL;
		else
			HASH_DEL(parent->children, n);
		free(n->comp);
		free(n);
		idx->nnodes--;
		n = parent;
	}
}

/* The trie node for pattern uri, walking (and if `create`, building) the path. */
static struct match_node *match_path(struct match_index *idx, const char *uri, size_t len,
                                     bool create)
{
	struct match_node *n;
	size_t i = 0;

	if (!idx->root) {
		if (!create || !(idx->root = calloc(1, sizeof(*idx->root))))
			return NULL;
	}
	n = idx->root;
	for (;;) {
		size_t clen = match_comp_len(uri, len, i);
		struct match_node *child = match_child(idx, n, uri + i, clen, create);

		if (!child) {
			if (create)
				match_prune(idx, n);
			return NULL;
		}
		n = child;
		i += clen;
		if (i >= len)
			return n;
		i++; /* the dot */
	}
}

bool match_insert(struct match_index *idx, struct match_item *item)
{
	switch (item->policy) {
	case MATCH_EXACT:
		HASH_ADD_KEYPTR(hh, idx->exact, item->uri, item->uri_len, item);
		return true;
	case MATCH_PREFIX:
		if (item->uri_len >= idx->prefix_lens_cap) {
			size_t ncap = item->uri_len + 1;
			uint32_t *n = realloc(idx->prefix_lens, ncap * sizeof(*n));

			if (!n)
				return false;
			memset(n + idx->prefix_lens_cap, 0, (ncap - idx->prefix_lens_cap) * sizeof(*n));
			idx->prefix_lens = n;
			idx->prefix_lens_cap = ncap;
		}
		idx->prefix_lens[item->uri_len]++;
		idx->nprefix++;
		HASH_ADD_KEYPTR(hh, idx->prefix, item->uri, item->uri_len, item);
		return true;
	case MATCH_WILDCARD: {
		struct match_node *n = match_path(idx, item->uri, item->uri_len, true);

		if (!n)
			return false;
		n->item = item;
		item->node = n;
		idx->nwildcard++;
		return true;
	}
	}
	return false;
}

void match_delete(struct match_index *idx, struct match_item *item)
{
	switch (item->policy) {
	case MATCH_EXACT:
		HASH_DEL(idx->exact, item);
		break;
	case MATCH_PREFIX:
		HASH_DEL(idx->prefix, item);
		idx->prefix_lens[item->uri_len]--;
		idx->nprefix--;
		break;
	case MATCH_WILDCARD:
		if (item->node) {
			item->node->item = NULL;
			match_prune(idx, item->node);
			item->node = NULL;
		}
		idx->nwildcard--;
		break;
	}
}

struct match_item *match_get(struct match_index *idx, const char *uri, size_t len,
                             enum match_policy policy)
{
	struct match_item *item = NULL;
	struct match_node *n;

	switch (policy) {
	case MATCH_EXACT:
		HASH_FIND(hh, idx->exact, uri, len, item);
		return item;
	case MATCH_PREFIX:
		HASH_FIND(hh, idx->prefix, uri, len, item);
		return item;
	case MATCH_WILDCARD:
		n = match_path(idx, uri, len, false);
		return n ? n->item : NULL;
	}
	return NULL;
}

/* Depth-first walk of the wildcard trie; false when the callback asked to stop. */
static bool match_walk(struct match_node *n, const char *uri, size_t len, size_t i, match_fn fn,
                       void *arg)
{
	size_t clen = match_comp_len(uri, len, i);
	bool last = i + clen >= len;
	struct match_node *lit = NULL;
	struct match_node *next[2];

	HASH_FIND(hh, n->children, uri + i, clen, lit);
	next[0] = lit;     /* literal first: it has precedence */
	next[1] = n->wild;
	for (int k = 0; k < 2; k++) {
		struct match_node *c = next[k];

		if (!c)
			continue;
		if (last) {
			if (c->item && !fn(c->item, arg))
				return false;
		} else if (!match_walk(c, uri, len, i + clen + 1, fn, arg)) {
			return false;
		}
	}
	return true;
}

void match_each(struct match_index *idx, const char *uri, size_t len, match_fn fn, void *arg)
{
	struct match_item *item = NULL;

	if (len == 0 || len > URI_MAX_LEN)
		return;
	HASH_FIND(hh, idx->exact, uri, len, item);
	if (item && !fn(item, arg))
		return;

	if (idx->nprefix) {
		unsigned hashes[URI_MAX_LEN + 1];
		unsigned h = 2166136261u;
		size_t top = len < idx->prefix_lens_cap ? len : idx->prefix_lens_cap - 1;

		for (size_t n = 1; n <= top; n++) {
			h ^= (unsigned char)uri[n - 1];
			h *= 16777619u;
			hashes[n] = h;
		}
		for (size_t n = top; n >= 1; n--) {
			if (!idx->prefix_lens[n])
				continue;
			item = NULL;
			HASH_FIND_BYHASHVALUE(hh, idx->prefix, uri, n, hashes[n], item);
			if (item && !fn(item, arg))
				return;
		}
	}

	if (idx->nwildcard && idx->root)
		match_walk(idx->root, uri, len, 0, fn, arg);
}

static bool match_first(struct match_item *item, void *arg)
{
	*(struct match_item **)arg = item;
	return false;
}

struct match_item *match_best(struct match_index *idx, const char *uri, size_t len)
{
	struct match_item *best = NULL;

	match_each(idx, uri, len, match_first, &best);
	return best;
}

bool match_item_matches(const struct match_item *item, const char *uri, size_t len)
{
	size_t i = 0, j = 0;

	switch (item->policy) {
	case MATCH_EXACT:
		return item->uri_len == len && !memcmp(item->uri, uri, len);
	case MATCH_PREFIX:
		return item->uri_len <= len && !memcmp(item->uri, uri, item->uri_len);
	case MATCH_WILDCARD:
		/* component by component; an empty pattern component matches any one component */
		for (;;) {
			size_t pl = match_comp_len(item->uri, item->uri_len, i);
			size_t ul = match_comp_len(uri, len, j);

			if (pl && (pl != ul || memcmp(item->uri + i, uri + j, pl)))
				return false;
			i += pl;
			j += ul;
			if (i >= item->uri_len || j >= len)
				return i >= item->uri_len && j >= len;
			i++;
			j++;
		}
	}
	return false;
}
