/*
 * test_outq.c - the bounded send queue: order, byte bound, growth, references.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "router/core/outq.h"

static struct wamp_out *msg(size_t len)
{
	struct wamp_out *o = wamp_out_new(len);

	assert_non_null(o);
	o->len = len;
	return o;
}

static void test_fifo_and_growth(void **state)
{
	struct outq q = {0};
	struct wamp_out *m[100];

	(void)state;
	for (int i = 0; i < 100; i++) {
		m[i] = msg(10);
		assert_true(outq_push(&q, m[i], 1 << 20));
		assert_int_equal(m[i]->refs, 2);
	}
	assert_int_equal(q.bytes, 1000);
	for (int i = 0; i < 100; i++) {
		assert_ptr_equal(outq_peek(&q), m[i]);
		outq_pop(&q);
		assert_int_equal(m[i]->refs, 1);
		wamp_out_unref(m[i]);
	}
	assert_null(outq_peek(&q));
	assert_int_equal(q.bytes, 0);
	outq_clear(&q);
}

static void test_byte_bound(void **state)
{
	struct outq q = {0};
	struct wamp_out *big = msg(5000), *small = msg(100);

	(void)state;
	/* an empty queue takes any single message */
	assert_true(outq_push(&q, big, 1000));
	assert_false(outq_push(&q, small, 1000));
	assert_int_equal(small->refs, 1); /* refused: no reference taken */
	outq_pop(&q);
	assert_true(outq_push(&q, small, 1000));
	assert_true(outq_push(&q, small, 1000));
	assert_int_equal(q.bytes, 200);
	outq_clear(&q);
	assert_int_equal(small->refs, 1);
	wamp_out_unref(big);
	wamp_out_unref(small);
}

static void test_wraparound(void **state)
{
	struct outq q = {0};
	struct wamp_out *o = msg(1);

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 5; i++)
			assert_true(outq_push(&q, o, 1000));
		for (int i = 0; i < 4; i++)
			outq_pop(&q);
	}
	assert_int_equal(q.count, 50);
	outq_clear(&q);
	assert_int_equal(o->refs, 1);
	wamp_out_unref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_growth),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_wraparound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
