/*
 * test_uri.c - URI rules (loose, strict, empty components, reserved namespace).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "realm/uri.h"

static bool ok(const char *u, enum uri_rule rule, unsigned flags)
{
	return uri_valid(u, strlen(u), rule, flags);
}

static void test_loose(void **state)
{
	(void)state;
	assert_true(ok("com.myapp.topic1", URI_LOOSE, 0));
	assert_true(ok("a", URI_LOOSE, 0));
	assert_true(ok("Com.My-App.Ünïcode", URI_LOOSE, 0));
	assert_false(ok("", URI_LOOSE, 0));
	assert_false(ok("a..b", URI_LOOSE, 0));
	assert_false(ok(".a", URI_LOOSE, 0));
	assert_false(ok("a.", URI_LOOSE, 0));
	assert_false(ok("a b", URI_LOOSE, 0));
	assert_false(ok("a\tb", URI_LOOSE, 0));
	assert_false(ok("a#b", URI_LOOSE, 0));
	assert_false(uri_valid("a\0b", 3, URI_LOOSE, 0));
}

static void test_strict(void **state)
{
	(void)state;
	assert_true(ok("com.myapp.topic_1", URI_STRICT, 0));
	assert_false(ok("com.MyApp", URI_STRICT, 0));
	assert_false(ok("com.my-app", URI_STRICT, 0));
}

static void test_empty_components(void **state)
{
	(void)state;
	assert_true(ok("com..topic", URI_LOOSE, URI_ALLOW_EMPTY));
	assert_true(ok("com.myapp.", URI_LOOSE, URI_ALLOW_EMPTY));
	assert_true(ok(".a", URI_STRICT, URI_ALLOW_EMPTY));
	assert_false(ok("com..Topic", URI_STRICT, URI_ALLOW_EMPTY));
	assert_false(ok("", URI_LOOSE, URI_ALLOW_EMPTY));
}

static void test_reserved(void **state)
{
	(void)state;
	assert_true(uri_reserved("wamp.session.count", 18));
	assert_false(uri_reserved("wampy.x", 7));
	assert_false(uri_reserved("com.wamp.x", 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loose),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_empty_components),
		cmocka_unit_test(test_reserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
