/*
 * test_authz.c - the authorizer: permission precedence, deny by default, unknown roles,
 * dynamic roles, answer parsing, the per-session cache (expiry, refresh, eviction, keyed by
 * the match policy), and the decision on pattern requests (#17 finding 5).
 *
 * The pattern algebra (covers, intersects, matches) and the decision are checked twice: by
 * hand-picked cases that say what the rules are, and exhaustively against brute force over
 * a finite universe of URIs (every URI of 1 to 5 components over {a, ab, b}), with an
 * independent matcher written here: covers/intersects must agree with the universe for
 * every pair of patterns of up to 3 components over {a, ab, ""} in every policy, and for
 * many generated roles every allowed pattern request may reach only URIs that are allowed
 * on their own, every exact decision is the best permission's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/authz.h"

static void perm(struct authz_role *r, const char *uri, enum authz_match m, bool call,
                 bool reg, bool pub, bool sub)
{
	struct authz_permission *p;

	r->perms = realloc(r->perms, (r->nperms + 1) * sizeof(*r->perms));
	p = &r->perms[r->nperms++];
	memset(p, 0, sizeof(*p));
	p->uri = strdup(uri);
	p->uri_len = strlen(uri);
	p->match = m;
	p->allow[AUTHZ_CALL] = call;
	p->allow[AUTHZ_REGISTER] = reg;
	p->allow[AUTHZ_PUBLISH] = pub;
	p->allow[AUTHZ_SUBSCRIBE] = sub;
}

static struct authz_role *role(struct authz_config *cfg, const char *name)
{
	struct authz_role *r = calloc(1, sizeof(*r));

	r->name = strdup(name);
	HASH_ADD_KEYPTR(hh, cfg->roles, r->name, strlen(r->name), r);
	return r;
}

/* A request for action a on (uri, match); the string is borrowed. */
static struct authz_request rq(const char *uri, enum authz_match m, enum authz_action a)
{
	return (struct authz_request){uri, strlen(uri), m, a};
}

#define RQ(uri, a) (&(struct authz_request){(uri), strlen(uri), AUTHZ_EXACT, (a)})

static enum authz_result check(struct authz_config *cfg, const char *r, const char *uri,
                               enum authz_action a)
{
	struct authz_decision d;

	return authz_check(cfg, r, RQ(uri, a), &d, NULL);
}

static void test_no_roles_allows_everything(void **state)
{
	struct authz_config cfg = {0};

	(void)state;
	assert_int_equal(check(&cfg, "anyone", "com.x", AUTHZ_REGISTER), AUTHZ_ALLOW);
}

static void test_precedence(void **state)
{
	struct authz_config cfg = {0};
	struct authz_role *r = role(&cfg, "user");
	struct authz_decision d;

	(void)state;
	perm(r, "com.app.", AUTHZ_PREFIX, true, false, true, true);
	perm(r, "com.app.admin.", AUTHZ_PREFIX, false, false, false, false); /* longer prefix */
	perm(r, "com.app.admin.status", AUTHZ_EXACT, true, false, false, false); /* exact */
	perm(r, "com..public", AUTHZ_WILDCARD, false, false, false, true);
	r->perms[0].disclose_caller = true;

	assert_int_equal(check(&cfg, "user", "com.app.x", AUTHZ_CALL), AUTHZ_ALLOW);
	assert_int_equal(check(&cfg, "user", "com.app.x", AUTHZ_REGISTER), AUTHZ_DENY);
	assert_int_equal(check(&cfg, "user", "com.app.admin.kill", AUTHZ_CALL), AUTHZ_DENY);
	assert_int_equal(check(&cfg, "user", "com.app.admin.status", AUTHZ_CALL), AUTHZ_ALLOW);
	assert_int_equal(check(&cfg, "user", "com.foo.public", AUTHZ_SUBSCRIBE), AUTHZ_ALLOW);
	assert_int_equal(check(&cfg, "user", "com.foo.bar.public", AUTHZ_SUBSCRIBE), AUTHZ_DENY);
	assert_int_equal(check(&cfg, "user", "org.other", AUTHZ_CALL), AUTHZ_DENY); /* no match */
	assert_int_equal(check(&cfg, "nobody", "com.app.x", AUTHZ_CALL), AUTHZ_DENY); /* no role */
	assert_int_equal(authz_check(&cfg, "user", RQ("com.app.x", AUTHZ_CALL), &d, NULL), AUTHZ_ALLOW);
	assert_true(d.disclose);
	assert_true(d.trustlevel < 0); /* no trust level configured */
	authz_config_clear(&cfg);
	assert_null(cfg.roles);
}

/* call_trustlevels: the best permission's level goes with the calls it allows, only them */
static void test_trustlevel(void **state)
{
	struct authz_config cfg = {0};
	struct authz_role *r = role(&cfg, "user");
	struct authz_decision d;
	bool cacheable;
	json_t *a;

	(void)state;
	perm(r, "com.app.", AUTHZ_PREFIX, true, false, true, false);
	perm(r, "com.app.trusted.", AUTHZ_PREFIX, true, false, false, false);
	r->perms[0].has_trustlevel = true;
	r->perms[0].trustlevel = 0;
	r->perms[1].has_trustlevel = true;
	r->perms[1].trustlevel = 3;
	assert_int_equal(authz_check(&cfg, "user", RQ("com.app.x", AUTHZ_CALL), &d, NULL), AUTHZ_ALLOW);
	assert_int_equal(d.trustlevel, 0);
	assert_int_equal(authz_check(&cfg, "user", RQ("com.app.trusted.x", AUTHZ_CALL), &d, NULL),
	                 AUTHZ_ALLOW);
	assert_int_equal(d.trustlevel, 3);
	assert_int_equal(authz_check(&cfg, "user", RQ("com.app.x", AUTHZ_PUBLISH), &d, NULL),
	                 AUTHZ_ALLOW);
	assert_true(d.trustlevel < 0); /* calls only */
	/* a dynamic authorizer's answer: an integer >= 0, anything else ignored */
	a = json_pack("{s:b, s:i}", "allow", 1, "trustlevel", 2);
	authz_parse_answer(a, &d, &cacheable);
	assert_true(d.allow && cacheable);
	assert_int_equal(d.trustlevel, 2);
	json_decref(a);
	a = json_pack("{s:b, s:i}", "allow", 1, "trustlevel", -1);
	authz_parse_answer(a, &d, &cacheable);
	assert_true(d.trustlevel < 0);
	json_decref(a);
	a = json_pack("{s:b, s:s}", "allow", 1, "trustlevel", "high");
	authz_parse_answer(a, &d, &cacheable);
	assert_true(d.allow && d.trustlevel < 0);
	json_decref(a);
	authz_config_clear(&cfg);
}

static void test_dynamic_role_and_answers(void **state)
{
	struct authz_config cfg = {0};
	struct authz_role *r = role(&cfg, "dyn");
	const struct authz_role *ask = NULL;
	struct authz_decision d;
	bool cacheable;
	json_t *a;

	(void)state;
	r->authorizer = strdup("com.auth.authorize");
	assert_int_equal(authz_check(&cfg, "dyn", RQ("com.x", AUTHZ_PUBLISH), &d, &ask), AUTHZ_ASK);
	assert_ptr_equal(ask, r);

	authz_parse_answer(json_true(), &d, &cacheable);
	assert_true(d.allow && cacheable);
	a = json_pack("{s:b, s:b, s:b}", "allow", 1, "disclose", 1, "cache", 0);
	authz_parse_answer(a, &d, &cacheable);
	assert_true(d.allow && d.disclose && !cacheable);
	json_decref(a);
	a = json_string("yes");
	authz_parse_answer(a, &d, &cacheable); /* anything else: deny */
	assert_false(d.allow);
	json_decref(a);
	authz_config_clear(&cfg);
}

static void test_cache(void **state)
{
	struct authz_cache c = {0};
	struct authz_decision d = {.allow = true}, out;
	char uri[32];

	(void)state;
	authz_cache_put(&c, RQ("com.x", AUTHZ_CALL), 1000, &d);
	assert_true(authz_cache_get(&c, RQ("com.x", AUTHZ_CALL), 999, &out));
	assert_true(out.allow);
	assert_false(authz_cache_get(&c, RQ("com.x", AUTHZ_CALL), 1000, &out)); /* expired */
	assert_false(authz_cache_get(&c, RQ("com.x", AUTHZ_PUBLISH), 0, &out)); /* other action */
	d.allow = false;
	authz_cache_put(&c, RQ("com.x", AUTHZ_CALL), 5000, &d); /* refresh */
	assert_true(authz_cache_get(&c, RQ("com.x", AUTHZ_CALL), 2000, &out));
	assert_false(out.allow);
	assert_int_equal(c.count, 1);
	/* bounded: the oldest entries go first */
	for (int i = 0; i < AUTHZ_CACHE_MAX + 10; i++) {
		snprintf(uri, sizeof(uri), "com.u%d", i);
		authz_cache_put(&c, RQ(uri, AUTHZ_SUBSCRIBE), 10000, &d);
	}
	assert_int_equal(c.count, AUTHZ_CACHE_MAX);
	assert_false(authz_cache_get(&c, RQ("com.x", AUTHZ_CALL), 0, &out));
	assert_false(authz_cache_get(&c, RQ("com.u0", AUTHZ_SUBSCRIBE), 0, &out));
	snprintf(uri, sizeof(uri), "com.u%d", AUTHZ_CACHE_MAX + 9);
	assert_true(authz_cache_get(&c, RQ(uri, AUTHZ_SUBSCRIBE), 0, &out));
	authz_cache_clear(&c);
	assert_int_equal(c.count, 0);
}


/* ---------------------------------------------------------------------------------- */
/* the match policy is part of the cache key                                            */

static void test_cache_keyed_by_match(void **state)
{
	struct authz_cache c = {0};
	struct authz_decision yes = {.allow = true}, no = {.allow = false}, out;
	struct authz_request ex = rq("com.pub.news", AUTHZ_EXACT, AUTHZ_SUBSCRIBE);
	struct authz_request pre = rq("com.pub.news", AUTHZ_PREFIX, AUTHZ_SUBSCRIBE);
	struct authz_request wild = rq("com.pub.news", AUTHZ_WILDCARD, AUTHZ_SUBSCRIBE);

	(void)state;
	authz_cache_put(&c, &ex, 1000, &yes);
	/* an exact grant never answers a pattern request on the same URI */
	assert_false(authz_cache_get(&c, &pre, 0, &out));
	assert_false(authz_cache_get(&c, &wild, 0, &out));
	authz_cache_put(&c, &pre, 1000, &no);
	assert_true(authz_cache_get(&c, &pre, 0, &out));
	assert_false(out.allow);
	assert_true(authz_cache_get(&c, &ex, 0, &out));
	assert_true(out.allow);
	assert_int_equal(c.count, 2);
	authz_cache_clear(&c);
}

/* ---------------------------------------------------------------------------------- */
/* the pattern algebra, case by case                                                    */

#define E AUTHZ_EXACT
#define P AUTHZ_PREFIX
#define W AUTHZ_WILDCARD

static bool covers(const char *o, enum authz_match om, const char *i, enum authz_match im)
{
	return authz_pattern_covers(o, strlen(o), om, i, strlen(i), im);
}

static bool meets(const char *a, enum authz_match am, const char *b, enum authz_match bm)
{
	bool x = authz_pattern_intersects(a, strlen(a), am, b, strlen(b), bm);

	assert_int_equal(x, authz_pattern_intersects(b, strlen(b), bm, a, strlen(a), am));
	return x;
}

static void test_pattern_cases(void **state)
{
	(void)state;
	/* exact covers only itself (a wildcard without empty components is one URI) */
	assert_true(covers("com.pub.news", E, "com.pub.news", E));
	assert_false(covers("com.pub.news", E, "com.pub.news", P));
	assert_true(covers("com.pub.news", E, "com.pub.news", W));
	assert_false(covers("com.pub.news", E, "com..news", W));
	/* prefix: on the string */
	assert_true(covers("com.pub.", P, "com.pub.news", P));
	assert_true(covers("com.pub", P, "com.pub.news", P));
	assert_true(covers("com.pub.news", P, "com.pub.news", P));
	assert_false(covers("com.pub.news.", P, "com.pub.news", P)); /* com.pub.newsroom */
	assert_true(covers("com.pub.news", P, "com.pub.newsroom", E));
	assert_true(covers("", P, "anything", P));
	/* prefix over wildcard: only the literal part before the first empty component */
	assert_true(covers("com.", P, "com..news", W));
	assert_true(covers("com", P, "com..news", W));
	assert_false(covers("com.a", P, "com..news", W)); /* com.b.news */
	assert_false(covers("com.", P, ".com.news", W));
	assert_true(covers("com.pub.", P, "com.pub.", W));
	assert_true(covers("com.pub.news", P, "com.pub.news", W)); /* no empty component */
	/* wildcard: never a prefix; a wildcard as wide or wider in every component */
	assert_false(covers("com..", W, "com.", P));
	assert_false(covers("..", W, "a.b.c", P));
	assert_true(covers("com..", W, "com.a.b", W));
	assert_true(covers("com..", W, "com.a.", W));
	assert_true(covers("com..", W, "com..", W));
	assert_false(covers("com.a.", W, "com..", W));
	assert_false(covers("com..", W, "com...", W)); /* another number of components */
	assert_true(covers("com..", W, "com.a.b", E));
	assert_false(covers("com..", W, "com.a", E));

	/* intersections */
	assert_true(meets("com.app.secret", E, "com.app.", P));
	assert_false(meets("com.app.secret", E, "com.apq", P));
	assert_true(meets("com.app.secret", E, "com..secret", W));
	assert_false(meets("com.app.secret", E, "com.", W)); /* two components */
	assert_true(meets("com.app.secret", E, "com..", W));
	assert_true(meets("com.pub.news", P, "com.pub.newsroom.", P));
	assert_true(meets("com.pub.newsroom.", P, "com.pub.news", P));
	assert_false(meets("com.pub.a", P, "com.pub.b", P));
	assert_true(meets("com.a", P, "com.ab.", W));   /* com.ab.x */
	assert_true(meets("com.", P, ".x", W));        /* com.x */
	assert_true(meets("com.a.", P, "com..", W)); /* com.a.x */
	assert_false(meets("com.a.b.", P, "com..", W)); /* needs 4 components */
	assert_false(meets("org.", P, "com..", W));
	assert_true(meets("wamp.", P, ".session.count", W));
	assert_true(meets("wamp.", P, "wam", P));
	assert_false(meets("wamp.", P, "wamp", E));
	assert_true(meets("com..x", W, "com.a.", W));
	assert_false(meets("com..x", W, "com.a.y", W));
	assert_false(meets("com..x", W, "com.a", W));
	/* matches */
	assert_true(authz_pattern_matches("com..x", 6, W, "com.a.x", 7));
	assert_false(authz_pattern_matches("com..x", 6, W, "com.a.b.x", 9));
	assert_true(authz_pattern_matches("com.a", 5, P, "com.ab", 6));
	assert_false(authz_pattern_matches("com.a", 5, E, "com.ab", 6));
	/* an unknown policy never covers */
	assert_false(covers("", (enum authz_match)7, "a", E));
}

/* ---------------------------------------------------------------------------------- */
/* the pattern algebra against brute force                                              */

/* An independent matcher: components split by hand, no code shared with authz.c. */
static size_t split(const char *s, char comps[][8], size_t max)
{
	size_t n = 0, k = 0;

	for (;; s++) {
		if (*s == '.' || !*s) {
			if (n < max) {
				comps[n][k] = '\0';
			}
			n++;
			k = 0;
			if (!*s)
				return n;
		} else if (n < max && k < 7) {
			comps[n][k++] = *s;
		}
	}
}

static bool oracle_matches(const char *pat, enum authz_match m, const char *x)
{
	char pc[8][8], xc[8][8];
	size_t pn, xn;

	if (m == AUTHZ_EXACT)
		return !strcmp(pat, x);
	if (m == AUTHZ_PREFIX)
		return !strncmp(x, pat, strlen(pat));
	pn = split(pat, pc, 8);
	xn = split(x, xc, 8);
	if (pn != xn)
		return false;
	for (size_t i = 0; i < pn; i++)
		if (pc[i][0] && strcmp(pc[i], xc[i]))
			return false;
	return true;
}

#define UMAX 400
static char universe[UMAX][24];
static size_t nuniverse;

/* every URI of 1..5 components over {a, ab, b} */
static void build_universe(void)
{
	static const char *const comp[] = {"a", "ab", "b"};

	nuniverse = 0;
	for (int depth = 1; depth <= 5; depth++) {
		int total = 1;

		for (int i = 0; i < depth; i++)
			total *= 3;
		for (int code = 0; code < total; code++) {
			char *u = universe[nuniverse++];
			int c = code;

			u[0] = '\0';
			for (int i = 0; i < depth; i++, c /= 3) {
				if (i)
					strcat(u, ".");
				strcat(u, comp[c % 3]);
			}
		}
	}
	assert_true(nuniverse <= UMAX);
}

struct tpat {
	char s[16];
	enum authz_match m;
};

#define PMAX 160
static struct tpat pats[PMAX];
static size_t npats;

/* Patterns of 1..3 components over {a, ab, ""}: exact ones without empty components (the
 * only valid exact URIs), prefixes with an empty component only at the end (any other
 * matches no valid URI), wildcards all. */
static void build_patterns(void)
{
	static const char *const comp[] = {"a", "ab", ""};

	npats = 0;
	for (int depth = 1; depth <= 3; depth++) {
		int total = 1;

		for (int i = 0; i < depth; i++)
			total *= 3;
		for (int code = 0; code < total; code++) {
			char s[16] = "";
			int c = code, empty_at = -1, nempty = 0;

			for (int i = 0; i < depth; i++, c /= 3) {
				if (i)
					strcat(s, ".");
				strcat(s, comp[c % 3]);
				if (c % 3 == 2) {
					nempty++;
					empty_at = i;
				}
			}
			for (int m = 0; m < AUTHZ_MATCH__COUNT; m++) {
				if (m == AUTHZ_EXACT && nempty)
					continue;
				if (m == AUTHZ_PREFIX && nempty && (nempty > 1 || empty_at != depth - 1))
					continue;
				assert_true(npats < PMAX);
				strcpy(pats[npats].s, s);
				pats[npats++].m = (enum authz_match)m;
			}
		}
	}
}

static void test_pattern_universe(void **state)
{
	size_t agree_cover = 0, agree_meet = 0;

	(void)state;
	build_universe();
	build_patterns();
	for (size_t i = 0; i < npats; i++) {
		for (size_t j = 0; j < npats; j++) {
			const struct tpat *o = &pats[i], *in = &pats[j];
			bool sub = true, common = false, any = false;

			for (size_t k = 0; k < nuniverse; k++) {
				bool a = oracle_matches(o->s, o->m, universe[k]);
				bool b = oracle_matches(in->s, in->m, universe[k]);

				any = any || b;
				sub = sub && (!b || a);
				common = common || (a && b);
			}
			if (covers(o->s, o->m, in->s, in->m) != sub)
				fail_msg("covers(%s/%d, %s/%d) = %d, universe says %d", o->s, o->m, in->s,
				         in->m, !sub, sub);
			if (meets(o->s, o->m, in->s, in->m) != common)
				fail_msg("intersects(%s/%d, %s/%d) = %d, universe says %d", o->s, o->m,
				         in->s, in->m, !common, common);
			agree_cover += sub;
			agree_meet += common;
			assert_true(any); /* every pattern matches something in the universe */
		}
		for (size_t k = 0; k < nuniverse; k++)
			assert_int_equal(authz_pattern_matches(pats[i].s, strlen(pats[i].s), pats[i].m,
			                                       universe[k], strlen(universe[k])),
			                 oracle_matches(pats[i].s, pats[i].m, universe[k]));
	}
	/* both answers occur plenty (the comparison is not vacuous) */
	assert_true(npats > 70);
	assert_true(agree_cover > 300 && agree_cover < npats * npats - 1000);
	assert_true(agree_meet > 1000 && agree_meet < npats * npats - 1000);
}

/* ---------------------------------------------------------------------------------- */
/* decisions on pattern requests                                                        */

static bool allowed(const struct authz_role *r, const char *uri, enum authz_match m,
                    enum authz_action a)
{
	struct authz_decision d;
	struct authz_request q = rq(uri, m, a);
	bool yes = authz_role_decide(r, &q, &d);

	assert_int_equal(yes, d.allow);
	return yes;
}

/* A role of one permission (uri, m) allowing subscribe only. */
static void one_perm(struct authz_role *r, const char *uri, enum authz_match m)
{
	perm(r, uri, m, false, false, false, true);
}

static void drop_perms(struct authz_role *r)
{
	for (size_t i = 0; i < r->nperms; i++)
		free(r->perms[i].uri);
	free(r->perms);
	r->perms = NULL;
	r->nperms = 0;
}

static void test_pattern_decisions(void **state)
{
	struct authz_role r = {0};
	const enum authz_action S = AUTHZ_SUBSCRIBE;

	(void)state;
	/* the finding: only exact com.pub.news */
	one_perm(&r, "com.pub.news", E);
	assert_true(allowed(&r, "com.pub.news", E, S));
	assert_false(allowed(&r, "com.pub.news", P, S)); /* reaches com.pub.newsroom.salaries */
	assert_false(allowed(&r, "com.pub.news.internal", E, S));
	assert_true(allowed(&r, "com.pub.news", W, S));  /* one URI: itself */
	assert_false(allowed(&r, "com.pub.", W, S));
	assert_false(allowed(&r, "com.pub.news", E, AUTHZ_REGISTER)); /* action not allowed */
	drop_perms(&r);

	/* prefix com.app. allowed, exact com.app.secret denied */
	one_perm(&r, "com.app.", P);
	perm(&r, "com.app.secret", E, false, false, false, false);
	assert_true(allowed(&r, "com.app.x", E, S));
	assert_false(allowed(&r, "com.app.secret", E, S));
	assert_false(allowed(&r, "com.app.", P, S));      /* would reach com.app.secret */
	assert_false(allowed(&r, "com.app.se", P, S));
	assert_true(allowed(&r, "com.app.pub", P, S));
	assert_true(allowed(&r, "com.app.secret.", P, S)); /* beyond it: the prefix decides */
	assert_false(allowed(&r, "com.app.", W, S));      /* com.app.secret again */
	assert_true(allowed(&r, "com.app..x", W, S));
	assert_false(allowed(&r, "com..x", W, S));        /* com.b.x: nothing covers it */
	assert_false(allowed(&r, "com.ap", P, S));        /* com.apz is not covered */
	drop_perms(&r);

	/* a deny that does not take precedence where it meets the pattern does not matter */
	perm(&r, "com.", P, false, false, false, false);
	one_perm(&r, "com.app.", P);
	assert_true(allowed(&r, "com.app.x", P, S));
	assert_false(allowed(&r, "com.", P, S));
	assert_false(allowed(&r, "com.ap", P, S));
	drop_perms(&r);
	one_perm(&r, "com.", P);
	perm(&r, "com..secret", W, false, false, false, false); /* prefixes beat wildcards */
	assert_true(allowed(&r, "com.x.secret", E, S));
	assert_true(allowed(&r, "com.", P, S));
	assert_true(allowed(&r, "com..secret", W, S));
	drop_perms(&r);

	/* a longer denying prefix inside the pattern */
	one_perm(&r, "com.", P);
	perm(&r, "com.app.", P, false, false, false, false);
	assert_false(allowed(&r, "com.", P, S));
	assert_false(allowed(&r, "com.a", P, S));
	assert_true(allowed(&r, "com.b", P, S));
	assert_false(allowed(&r, "com.app.x", P, S)); /* its permission is the deny */
	assert_false(allowed(&r, "com..x", W, S));   /* com.app.x */
	assert_true(allowed(&r, "com.b.", W, S));
	drop_perms(&r);

	/* wildcard permissions: order decides between them, as for a lone URI */
	perm(&r, "com..secret", W, false, false, false, false);
	one_perm(&r, "com..", W);
	assert_false(allowed(&r, "com.x.secret", E, S));
	assert_false(allowed(&r, "com..", W, S));
	assert_true(allowed(&r, "com..public", W, S));
	assert_false(allowed(&r, "com.a.", W, S)); /* com.a.secret */
	assert_false(allowed(&r, "com.", P, S));          /* a wildcard never covers a prefix */
	drop_perms(&r);
	one_perm(&r, "com..", W);
	perm(&r, "com..secret", W, false, false, false, false); /* listed after: never decides */
	assert_true(allowed(&r, "com.x.secret", E, S));
	assert_true(allowed(&r, "com..", W, S));
	assert_false(allowed(&r, "..", W, S)); /* wider than the permission */
	assert_false(allowed(&r, "com...", W, S));
	drop_perms(&r);

	/* an exact deny inside a wildcard-covered wildcard request */
	one_perm(&r, "com..news", W);
	perm(&r, "com.hr.news", E, false, false, false, false);
	assert_true(allowed(&r, "com.pub.news", E, S));
	assert_false(allowed(&r, "com..news", W, S));
	assert_true(allowed(&r, "com.pub.news", W, S));
	assert_false(allowed(&r, "com.pub.news", P, S));
	drop_perms(&r);

	/* conservative: a deny that is itself overridden inside the pattern by a third
	 * permission still refuses the pattern (every URI of com.a. is allowed on its own) */
	perm(&r, "com..x", W, false, false, false, false);
	one_perm(&r, "com..", W);
	one_perm(&r, "com.a.x", E);
	assert_true(allowed(&r, "com.a.x", E, S));
	assert_true(allowed(&r, "com.a.y", E, S));
	assert_false(allowed(&r, "com.a.", W, S));
	drop_perms(&r);
	/* and permissions that only together cover a pattern do not allow it */
	one_perm(&r, "com.a", E);
	one_perm(&r, "com.a", P);
	assert_true(allowed(&r, "com.a", P, S));
	drop_perms(&r);
	one_perm(&r, "com.a.", P);
	one_perm(&r, "com.a", E);
	assert_false(allowed(&r, "com.a", P, S)); /* com.ab */
	drop_perms(&r);

	/* the same rules for registrations; disclosure and trust levels only for calls */
	perm(&r, "com.svc.", P, true, true, false, false);
	r.perms[0].has_trustlevel = true;
	r.perms[0].trustlevel = 2;
	perm(&r, "com.svc.admin", E, false, false, false, false);
	assert_false(allowed(&r, "com.svc.", P, AUTHZ_REGISTER));
	assert_true(allowed(&r, "com.svc.public.", P, AUTHZ_REGISTER));
	assert_false(allowed(&r, "com.svc.public.", P, AUTHZ_SUBSCRIBE));
	{
		struct authz_decision d;
		struct authz_request q = rq("com.svc.public.", AUTHZ_PREFIX, AUTHZ_REGISTER);

		assert_true(authz_role_decide(&r, &q, &d));
		assert_true(d.trustlevel < 0 && !d.disclose);
		q = rq("com.svc.x", AUTHZ_EXACT, AUTHZ_CALL);
		assert_true(authz_role_decide(&r, &q, &d));
		assert_int_equal(d.trustlevel, 2);
	}
	drop_perms(&r);

	/* no permission at all */
	assert_false(allowed(&r, "com.x", E, S));
	assert_false(allowed(&r, "com.", P, S));
	/* everything */
	perm(&r, "", P, true, true, true, true);
	assert_true(allowed(&r, "com.", P, S));
	assert_true(allowed(&r, "..", W, AUTHZ_REGISTER));
	assert_true(allowed(&r, "c", P, AUTHZ_REGISTER));
	drop_perms(&r);
}

/* Through authz_check: a realm without roles allows patterns too, unknown roles nothing,
 * dynamic roles ask whatever the policy. */
static void test_pattern_check(void **state)
{
	struct authz_config cfg = {0};
	struct authz_decision d;
	struct authz_request q = rq("com.", AUTHZ_PREFIX, AUTHZ_SUBSCRIBE);
	const struct authz_role *ask = NULL;

	(void)state;
	assert_int_equal(authz_check(&cfg, "x", &q, &d, NULL), AUTHZ_ALLOW);
	one_perm(role(&cfg, "user"), "com.pub.news", E);
	role(&cfg, "dyn")->authorizer = strdup("com.authz");
	assert_int_equal(authz_check(&cfg, "user", &q, &d, NULL), AUTHZ_DENY);
	q = rq("com.pub.news", AUTHZ_PREFIX, AUTHZ_SUBSCRIBE);
	assert_int_equal(authz_check(&cfg, "user", &q, &d, NULL), AUTHZ_DENY);
	assert_int_equal(authz_check(&cfg, "nobody", &q, &d, NULL), AUTHZ_DENY);
	assert_int_equal(authz_check(&cfg, "dyn", &q, &d, &ask), AUTHZ_ASK);
	q = rq("com.pub.news", AUTHZ_EXACT, AUTHZ_SUBSCRIBE);
	assert_int_equal(authz_check(&cfg, "user", &q, &d, NULL), AUTHZ_ALLOW);
	assert_string_equal(authz_match_name(AUTHZ_PREFIX), "prefix");
	assert_string_equal(authz_match_name(AUTHZ_WILDCARD), "wildcard");
	assert_string_equal(authz_match_name(AUTHZ_EXACT), "exact");
	authz_config_clear(&cfg);
}

/* The best permission of a concrete URI by the rules of authz.h, brute force. */
static const struct authz_permission *oracle_best(const struct authz_role *r, const char *x)
{
	const struct authz_permission *best = NULL;

	for (size_t i = 0; i < r->nperms; i++) {
		const struct authz_permission *p = &r->perms[i];

		if (!oracle_matches(p->uri, p->match, x))
			continue;
		if (!best || (p->match == E && best->match != E) ||
		    (p->match == P && best->match == W) ||
		    (p->match == P && best->match == P && p->uri_len > best->uri_len))
			best = p;
	}
	return best;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* Generated roles: exact decisions are the best permission's; an allowed pattern request
 * reaches no URI of the universe that is refused on its own, and an allowed pattern
 * always has one permission covering it all. */
static void test_pattern_decisions_sound(void **state)
{
	struct authz_role r = {0};
	size_t allowed_patterns = 0, refused_patterns = 0;

	(void)state;
	build_universe();
	build_patterns();
	for (int round = 0; round < 300; round++) {
		uint32_t n = 1 + rnd(4);
		bool ok_x[UMAX];

		for (uint32_t i = 0; i < n; i++) {
			const struct tpat *t = &pats[rnd((uint32_t)npats)];

			perm(&r, t->s, t->m, false, false, false, rnd(3) != 0);
		}
		for (size_t k = 0; k < nuniverse; k++) {
			const struct authz_permission *b = oracle_best(&r, universe[k]);

			ok_x[k] = b && b->allow[AUTHZ_SUBSCRIBE];
			assert_int_equal(allowed(&r, universe[k], E, AUTHZ_SUBSCRIBE), ok_x[k]);
		}
		for (size_t j = 0; j < npats; j++) {
			bool yes;

			if (pats[j].m == E)
				continue;
			yes = allowed(&r, pats[j].s, pats[j].m, AUTHZ_SUBSCRIBE);
			if (yes) {
				bool covered = false;

				for (size_t k = 0; k < nuniverse; k++)
					if (oracle_matches(pats[j].s, pats[j].m, universe[k]) && !ok_x[k])
						fail_msg("round %d: %s/%d allowed but reaches refused %s", round,
						         pats[j].s, pats[j].m, universe[k]);
				for (size_t i = 0; i < r.nperms && !covered; i++)
					covered = r.perms[i].allow[AUTHZ_SUBSCRIBE] &&
					          covers(r.perms[i].uri, r.perms[i].match, pats[j].s,
					                 pats[j].m);
				assert_true(covered);
			}
			allowed_patterns += yes;
			refused_patterns += !yes;
		}
		drop_perms(&r);
	}
	assert_true(allowed_patterns > 500 && refused_patterns > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_roles_allows_everything),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_trustlevel),
		cmocka_unit_test(test_dynamic_role_and_answers),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_keyed_by_match),
		cmocka_unit_test(test_pattern_cases),
		cmocka_unit_test(test_pattern_universe),
		cmocka_unit_test(test_pattern_decisions),
		cmocka_unit_test(test_pattern_check),
		cmocka_unit_test(test_pattern_decisions_sound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
