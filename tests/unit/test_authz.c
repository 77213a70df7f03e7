/*
 * test_authz.c - the authorizer: permission precedence, deny by default, unknown roles,
 * dynamic roles, answer parsing, and the per-session cache (expiry, refresh, eviction).
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

static enum authz_result check(struct authz_config *cfg, const char *r, const char *uri,
                               enum authz_action a)
{
	struct authz_decision d;

	return authz_check(cfg, r, uri, strlen(uri), a, &d, NULL);
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
	assert_int_equal(authz_check(&cfg, "user", "com.app.x", 9, AUTHZ_CALL, &d, NULL), AUTHZ_ALLOW);
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
	assert_int_equal(authz_check(&cfg, "user", "com.app.x", 9, AUTHZ_CALL, &d, NULL), AUTHZ_ALLOW);
	assert_int_equal(d.trustlevel, 0);
	assert_int_equal(authz_check(&cfg, "user", "com.app.trusted.x", 17, AUTHZ_CALL, &d, NULL),
	                 AUTHZ_ALLOW);
	assert_int_equal(d.trustlevel, 3);
	assert_int_equal(authz_check(&cfg, "user", "com.app.x", 9, AUTHZ_PUBLISH, &d, NULL),
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
	assert_int_equal(authz_check(&cfg, "dyn", "com.x", 5, AUTHZ_PUBLISH, &d, &ask), AUTHZ_ASK);
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
	authz_cache_put(&c, "com.x", 5, AUTHZ_CALL, 1000, &d);
	assert_true(authz_cache_get(&c, "com.x", 5, AUTHZ_CALL, 999, &out));
	assert_true(out.allow);
	assert_false(authz_cache_get(&c, "com.x", 5, AUTHZ_CALL, 1000, &out)); /* expired */
	assert_false(authz_cache_get(&c, "com.x", 5, AUTHZ_PUBLISH, 0, &out)); /* other action */
	d.allow = false;
	authz_cache_put(&c, "com.x", 5, AUTHZ_CALL, 5000, &d); /* refresh */
	assert_true(authz_cache_get(&c, "com.x", 5, AUTHZ_CALL, 2000, &out));
	assert_false(out.allow);
	assert_int_equal(c.count, 1);
	/* bounded: the oldest entries go first */
	for (int i = 0; i < AUTHZ_CACHE_MAX + 10; i++) {
		snprintf(uri, sizeof(uri), "com.u%d", i);
		authz_cache_put(&c, uri, strlen(uri), AUTHZ_SUBSCRIBE, 10000, &d);
	}
	assert_int_equal(c.count, AUTHZ_CACHE_MAX);
	assert_false(authz_cache_get(&c, "com.x", 5, AUTHZ_CALL, 0, &out));
	assert_false(authz_cache_get(&c, "com.u0", 6, AUTHZ_SUBSCRIBE, 0, &out));
	snprintf(uri, sizeof(uri), "com.u%d", AUTHZ_CACHE_MAX + 9);
	assert_true(authz_cache_get(&c, uri, strlen(uri), AUTHZ_SUBSCRIBE, 0, &out));
	authz_cache_clear(&c);
	assert_int_equal(c.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_roles_allows_everything),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_trustlevel),
		cmocka_unit_test(test_dynamic_role_and_answers),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
