/*
 * authz.c - static permissions and the per-session cache of dynamic answers (see authz.h).
 *
 * Permission lookup is a linear scan over the role's permissions (roles hold few of them)
 * keeping the best match: an exact match wins at once; otherwise the longest matching
 * prefix; otherwise the first matching wildcard pattern in configuration order.
 *
 * The cache is a hash table keyed by "<action>:<uri>" with a FIFO list for eviction; each
 * entry carries its expiry time, checked on lookup.
 */
#include "auth/authz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[AUTHZ__COUNT] = {"call", "register", "publish",
                                                       "subscribe"};

const char *authz_action_name(enum authz_action a)
{
	return (unsigned)a < AUTHZ__COUNT ? action_names[a] : "unknown";
}

int authz_action_from_name(const char *name)
{
	for (int i = 0; i < AUTHZ__COUNT; i++)
		if (!strcmp(name, action_names[i]))
			return i;
	return -1;
}

/* Does the wildcard pattern (empty components match any one component) match uri? */
static bool wildcard_matches(const char *pat, size_t plen, const char *uri, size_t ulen)
{
	size_t i = 0, j = 0;

	for (;;) {
		const char *pd = memchr(pat + i, '.', plen - i), *ud = memchr(uri + j, '.', ulen - j);
		size_t pc = pd ? (size_t)(pd - (pat + i)) : plen - i;
		size_t uc = ud ? (size_t)(ud - (uri + j)) : ulen - j;

		if (pc && (pc != uc || memcmp(pat + i, uri + j, pc)))
			return false;
		if (!pd || !ud)
			return !pd && !ud;
		i += pc + 1;
		j += uc + 1;
	}
}

static const struct authz_permission *best_permission(const struct authz_role *role,
                                                      const char *uri, size_t len)
{
	const struct authz_permission *prefix = NULL, *wild = NULL;

	for (size_t i = 0; i < role->nperms; i++) {
		const struct authz_permission *p = &role->perms[i];

		switch (p->match) {
		case AUTHZ_EXACT:
			if (p->uri_len == len && !memcmp(p->uri, uri, len))
				return p;
			break;
		case AUTHZ_PREFIX:
			if (p->uri_len <= len && !memcmp(p->uri, uri, p->uri_len) &&
			    (!prefix || p->uri_len > prefix->uri_len))
				prefix = p;
			break;
		case AUTHZ_WILDCARD:
			if (!wild && wildcard_matches(p->uri, p->uri_len, uri, len))
				wild = p;
			break;
		}
	}
	return prefix ? prefix : wild;
}

enum authz_result authz_check(const struct authz_config *cfg, const char *authrole,
                              const char *uri, size_t uri_len, enum authz_action action,
                              struct authz_decision *out, const struct authz_role **ask)
{
	const struct authz_role *role = NULL;
	const struct authz_permission *p;

	out->allow = false;
	out->disclose = false;
	out->trustlevel = -1;
	if (!cfg || !cfg->roles) {
		out->allow = true;
		return AUTHZ_ALLOW;
	}
	if (authrole)
		HASH_FIND_STR(cfg->roles, authrole, role);
	if (!role)
		return AUTHZ_DENY;
	if (role->authorizer) {
		if (ask)
			*ask = role;
		return AUTHZ_ASK;
	}
	p = best_permission(role, uri, uri_len);
	if (!p || !p->allow[action])
		return AUTHZ_DENY;
	out->allow = true;
	out->disclose = (action == AUTHZ_CALL && p->disclose_caller) ||
	                (action == AUTHZ_PUBLISH && p->disclose_publisher);
	if (action == AUTHZ_CALL && p->has_trustlevel)
		out->trustlevel = p->trustlevel;
	return AUTHZ_ALLOW;
}

void authz_parse_answer(const json_t *answer, struct authz_decision *out, bool *cacheable)
{
	out->allow = false;
	out->disclose = false;
	out->trustlevel = -1;
	*cacheable = false;
	if (json_is_boolean(answer)) {
		out->allow = json_is_true(answer);
		*cacheable = true;
	} else if (json_is_object(answer)) {
		json_t *tl = json_object_get(answer, "trustlevel");

		out->allow = json_is_true(json_object_get(answer, "allow"));
		out->disclose = json_is_true(json_object_get(answer, "disclose"));
		if (json_is_integer(tl) && json_integer_value(tl) >= 0 &&
		    json_integer_value(tl) <= INT32_MAX)
			out->trustlevel = json_integer_value(tl);
		*cacheable = !json_is_false(json_object_get(answer, "cache"));
	}
}

void authz_config_clear(struct authz_config *cfg)
{
	struct authz_role *r, *tmp;

	HASH_ITER(hh, cfg->roles, r, tmp) {
		HASH_DEL(cfg->roles, r);
		for (size_t i = 0; i < r->nperms; i++)
			free(r->perms[i].uri);
		free(r->perms);
		free(r->authorizer);
		free(r->authorizer_role);
		free(r->name);
		free(r);
	}
	memset(cfg, 0, sizeof(*cfg));
}

/* ---------------------------------------------------------------------------------- */
/* cache                                                                                */

struct authz_cache_entry {
	struct authz_cache_entry *next;   /* insertion order */
	int64_t expires_ms;
	struct authz_decision d;
	UT_hash_handle hh;
	size_t key_len;
	char key[];                       /* "<action digit>:<uri>" */
};

static size_t cache_key(char *buf, const char *uri, size_t len, enum authz_action a)
{
	buf[0] = (char)('0' + a);
	buf[1] = ':';
	memcpy(buf + 2, uri, len);
	return len + 2;
}

bool authz_cache_get(struct authz_cache *c, const char *uri, size_t uri_len,
                     enum authz_action action, int64_t now_ms, struct authz_decision *out)
{
	struct authz_cache_entry *e = NULL;
	char small[256], *key = uri_len + 2 <= sizeof(small) ? small : malloc(uri_len + 2);
	size_t n;

	if (!key)
		return false;
	n = cache_key(key, uri, uri_len, action);
	HASH_FIND(hh, c->by_key, key, n, e);
	if (key != small)
		free(key);
	if (!e || e->expires_ms <= now_ms)
		return false;
	*out = e->d;
	return true;
}

static void cache_drop_oldest(struct authz_cache *c)
{
	struct authz_cache_entry *e = c->oldest;

	if (!e)
		return;
	c->oldest = e->next;
	if (!c->oldest)
		c->newest = NULL;
	HASH_DEL(c->by_key, e);
	c->count--;
	free(e);
}

void authz_cache_put(struct authz_cache *c, const char *uri, size_t uri_len,
                     enum authz_action action, int64_t expires_ms,
                     const struct authz_decision *d)
{
	struct authz_cache_entry *e = malloc(sizeof(*e) + uri_len + 2), *old = NULL;

	if (!e)
		return;
	e->key_len = cache_key(e->key, uri, uri_len, action);
	HASH_FIND(hh, c->by_key, e->key, e->key_len, old);
	if (old) { /* refresh in place (keeps its place in the eviction order) */
		old->expires_ms = expires_ms;
		old->d = *d;
		free(e);
		return;
	}
	if (c->count >= AUTHZ_CACHE_MAX)
		cache_drop_oldest(c);
	e->next = NULL;
	e->expires_ms = expires_ms;
	e->d = *d;
	HASH_ADD(hh, c->by_key, key, e->key_len, e);
	if (c->newest)
		c->newest->next = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
}

void authz_cache_clear(struct authz_cache *c)
{
	while (c->oldest)
		cache_drop_oldest(c);
	memset(c, 0, sizeof(*c));
}
