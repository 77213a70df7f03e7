/*
 * test_match.c - the URI pattern index: exact, prefix (longest first), wildcard precedence
 * (the spec's examples), removal, pruning, and many patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "realm/match.h"

struct entry {
	struct match_item item;
	int tag;
};

static struct entry *entry_new(const char *uri, enum match_policy p, int tag)
{
	struct entry *e = calloc(1, sizeof(*e));

	e->item.uri = strdup(uri);
	e->item.uri_len = strlen(uri);
	e->item.policy = p;
	e->tag = tag;
	return e;
}

static void entry_free(struct entry *e)
{
	free(e->item.uri);
	free(e);
}

static int best(struct match_index *idx, const char *uri)
{
	struct match_item *it = match_best(idx, uri, strlen(uri));

	return it ? ((struct entry *)it)->tag : 0;
}

struct collect {
	int tags[64];
	int n;
};

static bool collect_fn(struct match_item *it, void *arg)
{
	struct collect *c = arg;

	c->tags[c->n++] = ((struct entry *)it)->tag;
	return true;
}

/* the example of advanced/rpc_pattern_based_registration.md */
static void test_spec_precedence(void **state)
{
	struct match_index idx;
	struct entry *e[7];

	(void)state;
	match_init(&idx);
	e[0] = entry_new("a1.b2.c3.d4.e55", MATCH_EXACT, 1);
	e[1] = entry_new("a1.b2.c3", MATCH_PREFIX, 2);
	e[2] = entry_new("a1.b2.c3.d4", MATCH_PREFIX, 3);
	e[3] = entry_new("a1.b2..d4.e5", MATCH_WILDCARD, 4);
	e[4] = entry_new("a1.b2.c33..e5", MATCH_WILDCARD, 5);
	e[5] = entry_new("a1.b2..d4.e5..g7", MATCH_WILDCARD, 6);
	e[6] = entry_new("a1.b2..d4..f6.g7", MATCH_WILDCARD, 7);
	for (int i = 0; i < 7; i++)
		assert_true(match_insert(&idx, &e[i]->item));

	assert_int_equal(best(&idx, "a1.b2.c3.d4.e55"), 1);
	assert_int_equal(best(&idx, "a1.b2.c3.d98.e74"), 2);
	assert_int_equal(best(&idx, "a1.b2.c3.d4.e325"), 3);
	assert_int_equal(best(&idx, "a1.b2.c55.d4.e5"), 4);
	/* The spec's example says RPC 5 here, but its own definition of prefix matching (a
	 * string prefix: "com.myapp.myobject1-mysubobject1" matches "com.myapp.myobject1"),
	 * Crossbar and Nexus make "a1.b2.c3" a prefix of "a1.b2.c33...": prefix wins. */
	assert_int_equal(best(&idx, "a1.b2.c33.d4.e5"), 2);
	assert_int_equal(best(&idx, "a1.b2.c88.d4.e5.f6.g7"), 6);
	/* without the prefixes, the wildcard precedence of the example holds */
	match_delete(&idx, &e[1]->item);
	assert_int_equal(best(&idx, "a1.b2.c33.d4.e5"), 5);
	assert_int_equal(best(&idx, "a1.b2.c55.d4.e5"), 4);
	assert_true(match_insert(&idx, &e[1]->item));
	assert_int_equal(best(&idx, "a2.b2.c2.d2.e2"), 0);

	/* all matches, in order: exact, prefixes longest first, wildcards */
	struct collect c = {.n = 0};
	match_each(&idx, "a1.b2.c3.d4.e5", strlen("a1.b2.c3.d4.e5"), collect_fn, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.tags[0], 3);
	assert_int_equal(c.tags[1], 2);
	assert_int_equal(c.tags[2], 4);

	for (int i = 0; i < 7; i++) {
		match_delete(&idx, &e[i]->item);
		entry_free(e[i]);
	}
	assert_int_equal(idx.nnodes, 0); /* the trie pruned itself */
	match_destroy(&idx);
}

static void test_prefix_is_a_string_prefix(void **state)
{
	struct match_index idx;
	struct entry *p = entry_new("com.myapp.myobject1", MATCH_PREFIX, 1);

	(void)state;
	match_init(&idx);
	assert_true(match_insert(&idx, &p->item));
	assert_int_equal(best(&idx, "com.myapp.myobject1.myprocedure1"), 1);
	assert_int_equal(best(&idx, "com.myapp.myobject1-mysubobject1"), 1);
	assert_int_equal(best(&idx, "com.myapp.myobject1"), 1);
	assert_int_equal(best(&idx, "com.myapp.myobject2"), 0);
	assert_int_equal(best(&idx, "com.myapp.myobject"), 0);
	assert_ptr_equal(match_get(&idx, "com.myapp.myobject1", 19, MATCH_PREFIX), &p->item);
	assert_null(match_get(&idx, "com.myapp.myobject1", 19, MATCH_EXACT));
	match_delete(&idx, &p->item);
	assert_int_equal(best(&idx, "com.myapp.myobject1"), 0);
	entry_free(p);
	match_destroy(&idx);
}

static void test_wildcard_component_count(void **state)
{
	struct match_index idx;
	struct entry *w = entry_new("com.myapp..myprocedure1", MATCH_WILDCARD, 1);

	(void)state;
	match_init(&idx);
	assert_true(match_insert(&idx, &w->item));
	assert_int_equal(best(&idx, "com.myapp.myobject1.myprocedure1"), 1);
	assert_int_equal(best(&idx, "com.myapp.myobject2.myprocedure1"), 1);
	assert_int_equal(best(&idx, "com.myapp.myobject1.myprocedure1.mysubprocedure1"), 0);
	assert_int_equal(best(&idx, "com.myapp.myobject1.myprocedure2"), 0);
	assert_int_equal(best(&idx, "com.myapp2.myobject1.myprocedure1"), 0);
	assert_int_equal(best(&idx, "com.myapp.myprocedure1"), 0);
	assert_ptr_equal(match_get(&idx, "com.myapp..myprocedure1", 23, MATCH_WILDCARD), &w->item);
	assert_null(match_get(&idx, "com.myapp.x.myprocedure1", 24, MATCH_WILDCARD));
	match_delete(&idx, &w->item);
	entry_free(w);
	match_destroy(&idx);
}

static void test_same_uri_three_policies(void **state)
{
	struct match_index idx;
	struct entry *a = entry_new("a.b", MATCH_EXACT, 1);
	struct entry *b = entry_new("a.b", MATCH_PREFIX, 2);
	struct entry *c = entry_new("a.b", MATCH_WILDCARD, 3);
	struct collect col = {.n = 0};

	(void)state;
	match_init(&idx);
	assert_true(match_insert(&idx, &a->item));
	assert_true(match_insert(&idx, &b->item));
	assert_true(match_insert(&idx, &c->item));
	match_each(&idx, "a.b", 3, collect_fn, &col);
	assert_int_equal(col.n, 3);
	assert_int_equal(col.tags[0], 1);
	assert_int_equal(col.tags[1], 2);
	assert_int_equal(col.tags[2], 3);
	match_delete(&idx, &b->item);
	col.n = 0;
	match_each(&idx, "a.b", 3, collect_fn, &col);
	assert_int_equal(col.n, 2);
	match_delete(&idx, &a->item);
	match_delete(&idx, &c->item);
	entry_free(a);
	entry_free(b);
	entry_free(c);
	match_destroy(&idx);
}

static void test_many_patterns(void **state)
{
	enum { N = 3000 };
	struct match_index idx;
	struct entry **e = calloc(3 * N, sizeof(*e));
	char uri[64];

	(void)state;
	match_init(&idx);
	for (int i = 0; i < N; i++) {
		snprintf(uri, sizeof(uri), "com.app%d.topic", i);
		e[i] = entry_new(uri, MATCH_EXACT, i + 1);
		snprintf(uri, sizeof(uri), "com.app%d.", i);
		e[N + i] = entry_new(uri, MATCH_PREFIX, N + i + 1);
		snprintf(uri, sizeof(uri), "com..topic%d", i);
		e[2 * N + i] = entry_new(uri, MATCH_WILDCARD, 2 * N + i + 1);
	}
	for (int i = 0; i < 3 * N; i++)
		assert_true(match_insert(&idx, &e[i]->item));
	for (int i = 0; i < N; i += 97) {
		struct collect c = {.n = 0};

		snprintf(uri, sizeof(uri), "com.app%d.topic", i);
		match_each(&idx, uri, strlen(uri), collect_fn, &c);
		assert_int_equal(c.n, 2); /* exact + its prefix; "topic" != "topic<i>" */
		assert_int_equal(c.tags[0], i + 1);
		assert_int_equal(c.tags[1], N + i + 1);
		snprintf(uri, sizeof(uri), "com.x.topic%d", i);
		assert_int_equal(best(&idx, uri), 2 * N + i + 1);
	}
	for (int i = 0; i < 3 * N; i++) {
		match_delete(&idx, &e[i]->item);
		entry_free(e[i]);
	}
	assert_int_equal(idx.nprefix, 0);
	assert_int_equal(idx.nwildcard, 0);
	free(e);
	match_destroy(&idx);
}

static void test_policy_names(void **state)
{
	enum match_policy p;

	(void)state;
	assert_true(match_policy_parse(NULL, &p) && p == MATCH_EXACT);
	assert_true(match_policy_parse("prefix", &p) && p == MATCH_PREFIX);
	assert_true(match_policy_parse("wildcard", &p) && p == MATCH_WILDCARD);
	assert_false(match_policy_parse("regex", &p));
	assert_string_equal(match_policy_name(MATCH_WILDCARD), "wildcard");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_precedence),
		cmocka_unit_test(test_prefix_is_a_string_prefix),
		cmocka_unit_test(test_wildcard_component_count),
		cmocka_unit_test(test_same_uri_three_policies),
		cmocka_unit_test(test_many_patterns),
		cmocka_unit_test(test_policy_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
