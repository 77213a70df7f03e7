/*
 * test_ids.c - id ranges, the session-scope counter, and generators that share nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"

static void test_global_range(void **state)
{
	uint64_t max = 0, min = UINT64_MAX;
	struct ids_gen g;

	(void)state;
	ids_gen_init(&g);
	for (int i = 0; i < 100000; i++) {
		uint64_t id = ids_global(&g);

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

/* Each loop's generator is its own: drawing from one leaves another untouched, served
 * bytes are wiped from the pool, and a zeroed generator is a valid empty one. */
static void test_generators_are_independent(void **state)
{
	struct ids_gen a, b = {.avail = 0};
	uint8_t before[IDS_POOL], buf[16], zero[16] = {0};

	(void)state;
	ids_gen_init(&a);
	ids_random(&b, buf, sizeof(buf)); /* fills b's pool, serves its first 16 bytes */
	assert_int_equal(b.avail, IDS_POOL - sizeof(buf));
	assert_memory_equal(b.bytes, zero, sizeof(zero)); /* served: wiped */
	memcpy(before, b.bytes, sizeof(before));
	for (int i = 0; i < 50; i++) /* 400 of a's 512 bytes: no refill */
		(void)ids_global(&a);
	assert_int_equal(b.avail, IDS_POOL - sizeof(buf));
	assert_memory_equal(b.bytes, before, sizeof(before)); /* untouched by a's draws */
	assert_int_equal(a.avail, IDS_POOL - 50 * sizeof(uint64_t));
	for (int i = 0; i < 1000; i++)
		assert_true(ids_uniform(&a, 3) < 3);
	/* the process secret: drawn once, the same whichever generator asks */
	assert_memory_not_equal(ids_secret(), zero, sizeof(zero));
	assert_ptr_equal(ids_secret(), ids_secret());
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
		cmocka_unit_test(test_generators_are_independent),
		cmocka_unit_test(test_valid),
	};

	assert_true(ids_init());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
