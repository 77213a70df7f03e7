/*
 * test_ids.c - id ranges and the session-scope counter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/ids.h"

static void test_global_range(void **state)
{
	uint64_t max = 0, min = UINT64_MAX;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint64_t id = ids_global();

		assert_true(ids_valid(id));
		if (id > max)
			max = id;
		if (id < min)
			min = id;
	}
	/* uniform over [1, 2^53]: 100k draws reach far above 2^52 and below 2^50 */
	assert_true(max > (UINT64_C(1) << 52));
	assert_true(min < (UINT64_C(1) << 50));
}

static void test_counter_wraps(void **state)
{
	uint64_t c = 0;

	(void)state;
	assert_int_equal(ids_next(&c), 1);
	assert_int_equal(ids_next(&c), 2);
	c = WAMP_ID_MAX - 1;
	assert_int_equal(ids_next(&c), WAMP_ID_MAX);
	assert_int_equal(ids_next(&c), 1);
}

static void test_valid(void **state)
{
	(void)state;
	assert_false(ids_valid(0));
	assert_true(ids_valid(1));
	assert_true(ids_valid(WAMP_ID_MAX));
	assert_false(ids_valid(WAMP_ID_MAX + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_range),
		cmocka_unit_test(test_counter_wraps),
		cmocka_unit_test(test_valid),
	};

	assert_true(ids_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
