/*
 * test_iplimit.c - per-address connection counts and failed-authentication windows
 * (router/core/iplimit.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "router/core/iplimit.h"

static void test_conn_limit(void **state)
{
	struct iplimit l;

	(void)state;
	iplimit_init(&l, 2, 0, 1000);
	assert_true(iplimit_conn_open(&l, "10.0.0.1"));
	assert_true(iplimit_conn_open(&l, "10.0.0.1"));
	assert_false(iplimit_conn_open(&l, "10.0.0.1")); /* third from the same address */
	assert_true(iplimit_conn_open(&l, "10.0.0.2"));  /* others are not affected */
	iplimit_conn_close(&l, "10.0.0.1");
	assert_true(iplimit_conn_open(&l, "10.0.0.1"));  /* a slot was freed */
	iplimit_conn_close(&l, "10.0.0.1");
	iplimit_conn_close(&l, "10.0.0.1");
	iplimit_conn_close(&l, "10.0.0.2");
	assert_int_equal(iplimit_entries(&l), 0);        /* nothing kept for idle addresses */
	iplimit_conn_close(&l, "10.0.0.9");              /* unknown: harmless */
	iplimit_destroy(&l);
}

static void test_conn_unlimited(void **state)
{
	struct iplimit l;

	(void)state;
	iplimit_init(&l, 0, 0, 1000);
	for (int i = 0; i < 100; i++)
		assert_true(iplimit_conn_open(&l, "10.0.0.1"));
	assert_int_equal(iplimit_entries(&l), 0);
	iplimit_destroy(&l);
}

static void test_auth_window(void **state)
{
	struct iplimit l;

	(void)state;
	iplimit_init(&l, 0, 3, 1000);
	assert_false(iplimit_auth_blocked(&l, "::1", 0));
	iplimit_auth_failed(&l, "::1", 0);
	iplimit_auth_failed(&l, "::1", 100);
	assert_false(iplimit_auth_blocked(&l, "::1", 200));
	iplimit_auth_failed(&l, "::1", 300);
	assert_true(iplimit_auth_blocked(&l, "::1", 300));   /* third failure in the window */
	assert_false(iplimit_auth_blocked(&l, "10.1.1.1", 300));
	assert_true(iplimit_auth_blocked(&l, "::1", 999));
	assert_false(iplimit_auth_blocked(&l, "::1", 1000)); /* the window has passed */
	assert_int_equal(iplimit_entries(&l), 0);
	/* failures spread over windows never block */
	for (int i = 0; i < 10; i++) {
		iplimit_auth_failed(&l, "::1", 2000 + i * 600);
		assert_false(iplimit_auth_blocked(&l, "::1", 2000 + i * 600));
	}
	iplimit_destroy(&l);
}

static void test_sweep(void **state)
{
	struct iplimit l;

	(void)state;
	iplimit_init(&l, 5, 3, 1000);
	iplimit_auth_failed(&l, "10.0.0.1", 0);
	iplimit_auth_failed(&l, "10.0.0.2", 500);
	assert_true(iplimit_conn_open(&l, "10.0.0.3"));
	assert_int_equal(iplimit_entries(&l), 3);
	iplimit_sweep(&l, 1200); /* 10.0.0.1's window passed; .2's has not; .3 is connected */
	assert_int_equal(iplimit_entries(&l), 2);
	iplimit_sweep(&l, 1600);
	assert_int_equal(iplimit_entries(&l), 1);
	iplimit_conn_close(&l, "10.0.0.3");
	assert_int_equal(iplimit_entries(&l), 0);
	iplimit_destroy(&l);
}

static void test_host(void **state)
{
	char ip[IPLIMIT_ADDR_MAX];

	(void)state;
	iplimit_host("127.0.0.1:5000", ip);
	assert_string_equal(ip, "127.0.0.1");
	iplimit_host("::1:443", ip);
	assert_string_equal(ip, "::1");
	iplimit_host("nocolon", ip);
	assert_string_equal(ip, "nocolon");
	iplimit_host("0123456789012345678901234567890123456789012345678901234567:1", ip);
	assert_int_equal(strlen(ip), IPLIMIT_ADDR_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conn_limit), cmocka_unit_test(test_conn_unlimited),
		cmocka_unit_test(test_auth_window), cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
