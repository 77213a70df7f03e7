/*
 * test_log.c - the log line formatter (text and JSON lines), the level specification
 * parser, per-module filtering, and the metrics histogram (common/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/metrics.h"

#define T0 1795000000123LL /* 2026-11-18T11:06:40.123Z */

static void test_text_line(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = wlog_format_line(buf, sizeof(buf), WLOG_TEXT, T0, WLOG_NOTICE, "router",
	                     "listening url=ws://127.0.0.1:8080/ws");
	assert_string_equal(buf, "2026-11-18T11:06:40.123Z notice router: listening "
	                         "url=ws://127.0.0.1:8080/ws\n");
	assert_int_equal(n, strlen(buf));
	/* a newline in a client's string cannot start a second line */
	wlog_format_line(buf, sizeof(buf), WLOG_TEXT, T0, WLOG_INFO, "realm",
	                 "join authid=evil\nfake line\x01");
	assert_string_equal(buf, "2026-11-18T11:06:40.123Z info realm: join authid=evil\\nfake "
	                         "line\\x01\n");
}

static void test_json_line(void **state)
{
	char buf[512];

	(void)state;
	wlog_format_line(buf, sizeof(buf), WLOG_JSON, T0, WLOG_WARN, "ws",
	                 "slow consumer: closing session=4503599627370496 peer=127.0.0.1:5000: "
	                 "queued=12 authid=\"joe\" level=x empty= 07=x x=007");
	assert_string_equal(buf,
	                    "{\"ts\":\"2026-11-18T11:06:40.123Z\",\"level\":\"warn\",\"module\":\"ws\","
	                    "\"msg\":\"slow consumer: closing session=4503599627370496 "
	                    "peer=127.0.0.1:5000: queued=12 authid=\\\"joe\\\" level=x empty= 07=x "
	                    "x=007\",\"session\":4503599627370496,\"peer\":\"127.0.0.1:5000\","
	                    "\"queued\":12,\"authid\":\"\\\"joe\\\"\",\"empty\":\"\",\"x\":\"007\"}\n");
	/* duplicates: the first wins; numbers beyond 2^53 stay strings */
	wlog_format_line(buf, sizeof(buf), WLOG_JSON, T0, WLOG_DEBUG, "dealer",
	                 "a=1 a=2 big=9007199254740993");
	assert_string_equal(buf, "{\"ts\":\"2026-11-18T11:06:40.123Z\",\"level\":\"debug\","
	                         "\"module\":\"dealer\",\"msg\":\"a=1 a=2 big=9007199254740993\","
	                         "\"a\":1,\"big\":\"9007199254740993\"}\n");
	/* control characters and invalid UTF-8 are escaped; valid UTF-8 is kept */
	wlog_format_line(buf, sizeof(buf), WLOG_JSON, T0, WLOG_INFO, "realm",
	                 "id=\xc3\xa9\xff\n\x01");
	assert_string_equal(buf, "{\"ts\":\"2026-11-18T11:06:40.123Z\",\"level\":\"info\","
	                         "\"module\":\"realm\",\"msg\":\"id=\xc3\xa9\\ufffd\\n\\u0001\","
	                         "\"id\":\"\xc3\xa9\\ufffd\\n\\u0001\"}\n");
}

static void test_truncation_keeps_the_line_valid(void **state)
{
	char text[900], buf[128];
	size_t n;

	(void)state;
	memset(text, '"', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (enum wlog_format f = WLOG_TEXT; f <= WLOG_JSON; f++) {
		n = wlog_format_line(buf, sizeof(buf), f, T0, WLOG_INFO, "m", text);
		assert_true(n < sizeof(buf));
		assert_int_equal(buf[n - 1], '\n');
		assert_null(memchr(buf, '\n', n - 1));
		if (f == WLOG_JSON) {
			/* ends with an escaped quote pair, the closing quote and brace: \"\"}\n */
			assert_memory_equal(buf + n - 3, "\"}\n", 3);
			assert_int_equal(buf[n - 4], '"');
			assert_int_equal(buf[n - 5], '\\');
		}
	}
}

static void test_level_spec(void **state)
{
	struct wlog_levels l;
	char unknown[WLOG_MODULE_NAME_MAX];
	char err[160];

	(void)state;
	assert_true(wlog_parse_spec("debug", &l, unknown, err, sizeof(err)));
	assert_int_equal(l.def, WLOG_DEBUG);
	assert_int_equal(l.n, 0);
	assert_string_equal(unknown, "");

	assert_true(wlog_parse_spec(" info , router=debug,auth=warning,router=error", &l, unknown,
	                            err, sizeof(err)));
	assert_int_equal(l.def, WLOG_INFO);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.mod[0].name, "router");
	assert_int_equal(l.mod[0].level, WLOG_ERROR); /* the later item wins */
	assert_string_equal(l.mod[1].name, "auth");
	assert_int_equal(l.mod[1].level, WLOG_WARN);
	assert_string_equal(unknown, "");

	/* no bare level: notice; an unknown module is accepted and reported */
	assert_true(wlog_parse_spec("rutor=debug", &l, unknown, err, sizeof(err)));
	assert_int_equal(l.def, WLOG_NOTICE);
	assert_string_equal(unknown, "rutor");

	l.def = WLOG_ERROR;
	assert_false(wlog_parse_spec("loud", &l, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "unknown log level \"loud\""));
	assert_int_equal(l.def, WLOG_ERROR); /* untouched */
	assert_false(wlog_parse_spec("info,,debug", &l, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	assert_false(wlog_parse_spec("info,", &l, NULL, err, sizeof(err)));
	assert_false(wlog_parse_spec("", &l, NULL, err, sizeof(err)));
	assert_false(wlog_parse_spec("info,warn", &l, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "two default"));
	assert_false(wlog_parse_spec("Router=debug", &l, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "bad module name"));
	assert_false(wlog_parse_spec("=debug", &l, NULL, err, sizeof(err)));
	assert_false(wlog_parse_spec("router=", &l, NULL, err, sizeof(err)));
	assert_false(wlog_parse_spec("averyveryverylongname=debug", &l, NULL, err, sizeof(err)));
}

static void test_per_module_filtering(void **state)
{
	struct wlog_levels l;
	struct wlog_config text, json;
	char err[160], *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	(void)state;
	assert_non_null(f);
	assert_int_equal(wlog_cfg->gate, WLOG_NOTICE); /* the built-in default */
	assert_true(wlog_parse_spec("warn,router=debug", &l, NULL, err, sizeof(err)));
	wlog_config_set(&text, &l, WLOG_TEXT, f);
	assert_int_equal(text.gate, WLOG_DEBUG); /* the gate opens for the most verbose */
	wlog_use(&text);
	assert_int_equal(wlog_module_level("router"), WLOG_DEBUG);
	assert_int_equal(wlog_module_level("auth"), WLOG_WARN);
	wlog_debug("router", "shown=1");
	wlog_debug("auth", "hidden=1");
	wlog_info("auth", "hidden=2");
	wlog_warn("auth", "shown=2");
	json = text;
	json.format = WLOG_JSON;
	wlog_use(&json); /* another configuration, installed between events */
	wlog_error("ws", "shown=3");
	fflush(f);
	assert_non_null(strstr(out, "debug router: shown=1\n"));
	assert_non_null(strstr(out, "warn auth: shown=2\n"));
	assert_non_null(strstr(out, "\"module\":\"ws\",\"msg\":\"shown=3\",\"shown\":3}\n"));
	assert_null(strstr(out, "hidden"));
	wlog_use(NULL);
	assert_int_equal(wlog_cfg->gate, WLOG_NOTICE);
	assert_int_equal(wlog_module_level("router"), WLOG_NOTICE); /* back to the default */
	wlog_debug("router", "hidden=3");
	fflush(f);
	assert_null(strstr(out, "hidden"));
	fclose(f);
	free(out);
}

static void test_histogram_buckets(void **state)
{
	struct metrics_histogram h = {0};

	(void)state;
	metrics_observe(&h, 0);        /* <= 100 us */
	metrics_observe(&h, 100);      /* <= 100 us: bounds are inclusive */
	metrics_observe(&h, 101);      /* <= 250 us */
	metrics_observe(&h, 10000000); /* <= 10 s */
	metrics_observe(&h, 10000001); /* +Inf */
	assert_int_equal(h.buckets[0], 2);
	assert_int_equal(h.buckets[1], 1);
	assert_int_equal(h.buckets[METRICS_BUCKETS - 1], 1);
	assert_int_equal(h.buckets[METRICS_BUCKETS], 1);
	assert_int_equal(h.count, 5);
	assert_int_equal(h.sum_us, 20000202);
	for (unsigned i = 1; i < METRICS_BUCKETS; i++)
		assert_true(metrics_bucket_us[i] > metrics_bucket_us[i - 1]);
}

/* One struct per loop, bumped by its loop alone; the exposition sums them (metrics_add). */
static void test_metrics_per_loop_add_up(void **state)
{
	struct metrics loop[2], sum;

	(void)state;
	memset(loop, 0, sizeof(loop));
	memset(&sum, 0, sizeof(sum));
	metrics_count_type(loop[0].msgs_in, 48);
	metrics_count_type(loop[0].msgs_in, 200); /* out of range: ignored, no overflow */
	metrics_count_type(loop[1].msgs_in, 48);
	loop[0].bytes_out = 10;
	loop[1].bytes_out = 5;
	loop[1].auth_fail[2] = 3;
	loop[0].pending_calls = 2; /* a gauge: the loops' values add up too */
	loop[1].pending_calls = 1;
	loop[1].publish_refused[WAMPD_ERR__COUNT - 1] = 7;
	loop[0].sessions_detached = 4;
	loop[1].sessions_detached = 1;
	loop[1].sessions_resumed = 2;
	loop[0].detached_ended[METRICS_DETACHED_CLOSED] = 1;
	loop[1].detached_ended[METRICS_DETACHED_CLOSED] = 6;
	metrics_observe(&loop[0].call_latency, 50);
	metrics_observe(&loop[1].call_latency, 20000000);
	metrics_observe(&loop[1].loop_lag, 300);
	assert_int_equal(loop[0].msgs_in[48], 1);
	for (int i = 0; i < 2; i++)
		metrics_add(&sum, &loop[i]);
	assert_int_equal(sum.msgs_in[48], 2);
	assert_int_equal(sum.bytes_out, 15);
	assert_int_equal(sum.auth_fail[2], 3);
	assert_int_equal(sum.pending_calls, 3);
	assert_int_equal(sum.publish_refused[WAMPD_ERR__COUNT - 1], 7);
	assert_int_equal(sum.sessions_detached, 5);
	assert_int_equal(sum.sessions_resumed, 2);
	assert_int_equal(sum.detached_ended[METRICS_DETACHED_EXPIRED], 0);
	assert_int_equal(sum.detached_ended[METRICS_DETACHED_CLOSED], 7);
	assert_int_equal(sum.call_latency.count, 2);
	assert_int_equal(sum.call_latency.sum_us, 20000050);
	assert_int_equal(sum.call_latency.buckets[0], 1);
	assert_int_equal(sum.call_latency.buckets[METRICS_BUCKETS], 1);
	assert_int_equal(sum.loop_lag.buckets[2], 1);
	assert_int_equal(loop[0].msgs_in[48], 1); /* the loops' own are untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_truncation_keeps_the_line_valid),
		cmocka_unit_test(test_level_spec),
		cmocka_unit_test(test_per_module_filtering),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_metrics_per_loop_add_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
