/*
 * authz.c - static permissions and the per-session cache of dynamic answers (see authz.h).
 *
 * A request is a URI pattern (exact, prefix or wildcard) and an action. The decision is a
 * linear scan over the role's permissions (roles hold few of them), twice for a pattern:
 * first the best permission that covers the whole pattern (exact, then longest prefix,
 * then configuration order: what decides a lone URI), then a check that no denying
 * permission matching a URI inside the pattern beats that one there. Covering and
 * overlapping are decided per pair of match policies by tables of small functions over the
 * patterns' components (covers_ops, intersects_ops); see authz.h for the exact rules and
 * why they are conservative.
 *
 * The cache is a hash table keyed by "<action><match>:<uri>" with a FIFO list for eviction;
 * each entry carries its expiry time, checked on lookup.
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

/* ---------------------------------------------------------------------------------- */
/* URI pattern algebra                                                                  */

const char *authz_match_name(enum authz_match m)
{
	static const char *const names[AUTHZ_MATCH__COUNT] = {"exact", "prefix", "wildcard"};

	return (unsigned)m < AUTHZ_MATCH__COUNT ? names[m] : "exact";
}

struct pat {
	const char *s;
	size_t len;
	enum authz_match m;
};

/* Walks the components of a string ("a..b" has three, "" one, "a." two). */
struct comps {
	const char *s;
	size_t len, at;
	bool end;
};

static bool comp_next(struct comps *c, const char **p, size_t *n)
{
	const char *dot;

	if (c->end)
		return false;
	*p = c->s + c->at;
	dot = c->len > c->at ? memchr(*p, '.', c->len - c->at) : NULL;
	*n = dot ? (size_t)(dot - *p) : c->len - c->at;
	if (dot)
		c->at += *n + 1;
	else
		c->end = true;
	return true;
}

static bool starts_with(const char *s, size_t slen, const char *pre, size_t plen)
{
	return plen <= slen && !memcmp(s, pre, plen);
}

static bool same(const struct pat *a, const struct pat *b)
{
	return a->len == b->len && !memcmp(a->s, b->s, a->len);
}

/* Component i of a against component i of b, for every i; false if the counts differ. */
typedef bool (*comp_pred)(const char *a, size_t an, const char *b, size_t bn);

static bool zip(const struct pat *a, const struct pat *b, comp_pred ok)
{
	struct comps ca = {.s = a->s, .len = a->len}, cb = {.s = b->s, .len = b->len};
	const char *ap, *bp;
	size_t an, bn;

	for (;;) {
		bool ha = comp_next(&ca, &ap, &an), hb = comp_next(&cb, &bp, &bn);

		if (ha != hb)
			return false;
		if (!ha)
			return true;
		if (!ok(ap, an, bp, bn))
			return false;
	}
}

/* a's empty component matches anything; otherwise the same component */
static bool comp_wild_a(const char *a, size_t an, const char *b, size_t bn)
{
	return !an || (an == bn && !memcmp(a, b, an));
}

/* either one empty, or the same component */
static bool comp_wild_either(const char *a, size_t an, const char *b, size_t bn)
{
	return !bn || comp_wild_a(a, an, b, bn);
}

/* The length of w's literal lead: everything before its first empty component (the whole
 * of w if it has none). Every URI that w matches starts with it, and with nothing longer. */
static size_t wildcard_lead(const struct pat *w)
{
	struct comps c = {.s = w->s, .len = w->len};
	const char *p;
	size_t n;

	while (comp_next(&c, &p, &n))
		if (!n)
			return (size_t)(p - w->s);
	return w->len;
}

/* ---- covers[outer][inner]: every URI inner matches is matched by outer ---- */

static bool never(const struct pat *o, const struct pat *i)
{
	(void)o, (void)i;
	return false;
}

static bool exact_covers_exact(const struct pat *o, const struct pat *i)
{
	return same(o, i);
}

static bool exact_covers_wildcard(const struct pat *o, const struct pat *i)
{
	return wildcard_lead(i) == i->len && same(o, i); /* no empty component: i is one URI */
}

static bool prefix_covers_string(const struct pat *o, const struct pat *i)
{
	return starts_with(i->s, i->len, o->s, o->len);
}

static bool prefix_covers_wildcard(const struct pat *o, const struct pat *i)
{
	return starts_with(i->s, wildcard_lead(i), o->s, o->len);
}

static bool wildcard_covers(const struct pat *o, const struct pat *i)
{
	return zip(o, i, comp_wild_a);
}

/* A wildcard never covers a prefix (those match URIs of any number of components), an
 * exact pattern never covers a prefix either. */
static bool (*const covers_ops[AUTHZ_MATCH__COUNT][AUTHZ_MATCH__COUNT])(const struct pat *,
                                                                        const struct pat *) = {
	[AUTHZ_EXACT] = {exact_covers_exact, never, exact_covers_wildcard},
	[AUTHZ_PREFIX] = {prefix_covers_string, prefix_covers_string, prefix_covers_wildcard},
	[AUTHZ_WILDCARD] = {wildcard_covers, never, wildcard_covers},
};

/* ---- intersects[a][b] for a.m <= b.m (the relation is symmetric) ---- */

static bool exact_meets_prefix(const struct pat *a, const struct pat *b)
{
	return prefix_covers_string(b, a);
}

static bool exact_meets_wildcard(const struct pat *a, const struct pat *b)
{
	return wildcard_covers(b, a);
}

static bool prefix_meets_prefix(const struct pat *a, const struct pat *b)
{
	return starts_with(a->s, a->len, b->s, b->len) || starts_with(b->s, b->len, a->s, a->len);
}

/* Some URI starts with prefix a and matches wildcard b: a's components but the last are
 * b's first ones (or b has empty ones there), a's last (partial) component begins b's
 * component at that place (or b's is empty there), and b has at least as many. */
static bool prefix_meets_wildcard(const struct pat *a, const struct pat *b)
{
	struct comps ca = {.s = a->s, .len = a->len}, cb = {.s = b->s, .len = b->len};
	const char *ap, *bp;
	size_t an, bn;

	while (comp_next(&ca, &ap, &an)) {
		if (!comp_next(&cb, &bp, &bn))
			return false;
		if (bn && (ca.end ? !starts_with(bp, bn, ap, an)
		                  : !(an == bn && !memcmp(ap, bp, an))))
			return false;
	}
	return true;
}

static bool wildcard_meets_wildcard(const struct pat *a, const struct pat *b)
{
	return zip(a, b, comp_wild_either);
}

static bool (*const intersects_ops[AUTHZ_MATCH__COUNT][AUTHZ_MATCH__COUNT])(
	const struct pat *, const struct pat *) = {
	[AUTHZ_EXACT] = {exact_covers_exact, exact_meets_prefix, exact_meets_wildcard},
	[AUTHZ_PREFIX] = {NULL, prefix_meets_prefix, prefix_meets_wildcard},
	[AUTHZ_WILDCARD] = {NULL, NULL, wildcard_meets_wildcard},
};

static bool valid_match(enum authz_match m)
{
	return (unsigned)m < AUTHZ_MATCH__COUNT;
}

static bool pat_covers(const struct pat *o, const struct pat *i)
{
	return valid_match(o->m) && valid_match(i->m) && covers_ops[o->m][i->m](o, i);
}

static bool pat_intersects(const struct pat *a, const struct pat *b)
{
	if (!valid_match(a->m) || !valid_match(b->m))
		return true; /* unknown: assume the worst */
	return a->m <= b->m ? intersects_ops[a->m][b->m](a, b) : intersects_ops[b->m][a->m](b, a);
}

bool authz_pattern_matches(const char *pat, size_t plen, enum authz_match m, const char *uri,
                           size_t ulen)
{
	struct pat o = {pat, plen, m}, i = {uri, ulen, AUTHZ_EXACT};

	return pat_covers(&o, &i);
}

bool authz_pattern_covers(const char *outer, size_t olen, enum authz_match om,
                          const char *inner, size_t ilen, enum authz_match im)
{
	struct pat o = {outer, olen, om}, i = {inner, ilen, im};

	return pat_covers(&o, &i);
}

bool authz_pattern_intersects(const char *a, size_t alen, enum authz_match am, const char *b,
                              size_t blen, enum authz_match bm)
{
	struct pat x = {a, alen, am}, y = {b, blen, bm};

	return pat_intersects(&x, &y);
}

/* ---------------------------------------------------------------------------------- */
/* static roles                                                                         */

static struct pat perm_pat(const struct authz_permission *p)
{
	return (struct pat){p->uri, p->uri_len, p->match};
}

/* Where permissions p (index ip) and q (index iq) both match a URI, does p decide it?
 * Exact beats prefix beats wildcard; a longer prefix beats a shorter one; otherwise the one
 * listed first (as a lone URI's best permission is chosen). */
static bool takes_precedence(const struct authz_permission *p, size_t ip,
                             const struct authz_permission *q, size_t iq)
{
	static const int rank[AUTHZ_MATCH__COUNT] = {[AUTHZ_EXACT] = 2, [AUTHZ_PREFIX] = 1,
	                                             [AUTHZ_WILDCARD] = 0};

	if (p->match != q->match)
		return rank[p->match] > rank[q->match];
	if (p->match == AUTHZ_PREFIX && p->uri_len != q->uri_len)
		return p->uri_len > q->uri_len;
	return ip < iq;
}

bool authz_role_decide(const struct authz_role *role, const struct authz_request *rq,
                       struct authz_decision *out)
{
	struct pat r = {rq->uri, rq->uri_len, rq->match};
	const struct authz_permission *c = NULL;
	size_t ic = 0;

	out->allow = false;
	out->disclose = false;
	out->trustlevel = -1;
	if ((unsigned)rq->action >= AUTHZ__COUNT)
		return false;
	/* C: the permission of the request, the best of those covering all it can reach */
	for (size_t i = 0; i < role->nperms; i++) {
		const struct authz_permission *p = &role->perms[i];
		struct pat pp = perm_pat(p);

		if ((!c || takes_precedence(p, i, c, ic)) && pat_covers(&pp, &r)) {
			c = p;
			ic = i;
		}
	}
	if (!c || !c->allow[rq->action])
		return false;
	/* a pattern: no URI inside it may be decided by a denying permission that beats C
	 * (for an exact request C is already the best permission of its one URI) */
	if (rq->match != AUTHZ_EXACT) {
		for (size_t i = 0; i < role->nperms; i++) {
			const struct authz_permission *p = &role->perms[i];
			struct pat pp = perm_pat(p);

			if (!p->allow[rq->action] && takes_precedence(p, i, c, ic) &&
			    pat_intersects(&pp, &r))
				return false;
		}
	}
	out->allow = true;
	out->disclose = (rq->action == AUTHZ_CALL && c->disclose_caller) ||
	                (rq->action == AUTHZ_PUBLISH && c->disclose_publisher);
	if (rq->action == AUTHZ_CALL && c->has_trustlevel)
		out->trustlevel = c->trustlevel;
	return true;
}

enum authz_result authz_check(const struct authz_config *cfg, const char *authrole,
                              const struct authz_request *rq, struct authz_decision *out,
                              const struct authz_role **ask)
{
	const struct authz_role *role = NULL;

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
	return authz_role_decide(role, rq, out) ? AUTHZ_ALLOW : AUTHZ_DENY;
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
	char key[];                       /* "<action digit><match digit>:<uri>" */
};

#define CACHE_KEY_EXTRA 3 /* bytes besides the URI */

static size_t cache_key(char *buf, const struct authz_request *rq)
{
	buf[0] = (char)('0' + rq->action);
	buf[1] = (char)('0' + rq->match);
	buf[2] = ':';
	memcpy(buf + CACHE_KEY_EXTRA, rq->uri, rq->uri_len);
	return rq->uri_len + CACHE_KEY_EXTRA;
}

bool authz_cache_get(struct authz_cache *c, const struct authz_request *rq, int64_t now_ms,
                     struct authz_decision *out)
{
	struct authz_cache_entry *e = NULL;
	size_t need = rq->uri_len + CACHE_KEY_EXTRA, n;
	char small[256], *key = need <= sizeof(small) ? small : malloc(need);

	if (!key)
		return false;
	n = cache_key(key, rq);
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

void authz_cache_put(struct authz_cache *c, const struct authz_request *rq, int64_t expires_ms,
                     const struct authz_decision *d)
{
	struct authz_cache_entry *e = malloc(sizeof(*e) + rq->uri_len + CACHE_KEY_EXTRA), *old = NULL;

	if (!e)
		return;
	e->key_len = cache_key(e->key, rq);
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
