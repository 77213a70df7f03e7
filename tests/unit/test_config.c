/*
 * test_config.c - the embedded default and the JSON loader's checks and error messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "router/config.h"

static char path[64];

static bool load(const char *text, struct config *cfg, char *err, size_t errlen)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/wampd-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	bool ok = config_load_file(path, cfg, err, errlen);
	unlink(path);
	return ok;
}

static void test_default(void **state)
{
	struct config cfg;

	(void)state;
	assert_true(config_default(&cfg));
	assert_int_equal(cfg.nlisteners, 1);
	assert_string_equal(cfg.listeners[0].host, "127.0.0.1");
	assert_int_equal(cfg.listeners[0].port, 8080);
	assert_string_equal(cfg.listeners[0].path, "/ws");
	assert_true(cfg.listeners[0].websocket && cfg.listeners[0].rawsocket); /* universal */
	assert_int_equal(cfg.listeners[0].serializers,
	                 3 | (wamp_ser_supported(WAMP_SER_CBOR) ? 4 : 0));
	assert_int_equal(cfg.nrealms, 1);
	assert_string_equal(cfg.realms[0].name, "realm1");
	assert_int_equal(cfg.max_message_size, 16u << 20);
	config_free(&cfg);
}

static void test_full_file(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_true(load("{\"log_level\": \"debug\", \"listeners\": [{\"host\": \"*\", \"port\": 9000,"
	                 " \"path\": \"/wamp\", \"serializers\": [\"msgpack\"]}],"
	                 " \"realms\": [{\"name\": \"a\"}, {\"name\": \"b\", \"uri_check\": \"strict\"}],"
	                 " \"limits\": {\"max_message_size\": 4096, \"send_queue_bytes\": 65536,"
	                 " \"max_subscriptions_per_session\": 5}}",
	                 &cfg, err, sizeof(err)));
	assert_int_equal(cfg.log_level, WLOG_DEBUG);
	assert_null(cfg.listeners[0].host);
	assert_int_equal(cfg.listeners[0].port, 9000);
	assert_string_equal(cfg.listeners[0].path, "/wamp");
	assert_int_equal(cfg.listeners[0].serializers, 1u << WAMP_SER_MSGPACK);
	assert_int_equal(cfg.nrealms, 2);
	assert_int_equal(cfg.realms[1].uri_rule, URI_STRICT);
	assert_int_equal(cfg.max_message_size, 4096);
	assert_int_equal(cfg.send_queue_bytes, 65536);
	assert_int_equal(cfg.realm_limits.max_subscriptions_per_session, 5);
	assert_int_equal(cfg.realm_limits.max_registrations_per_session, 10000);
	config_free(&cfg);
}

static void expect_error(const char *text, const char *fragment)
{
	struct config cfg;
	char err[256] = "";

	assert_false(load(text, &cfg, err, sizeof(err)));
	if (!strstr(err, fragment))
		fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
	assert_int_equal(cfg.nlisteners, 0); /* nothing left to free */
}

static void test_errors_name_the_key(void **state)
{
	(void)state;
	expect_error("{\"limits\": {\"max_sesions\": 5}}", "limits.max_sesions: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a\", \"uri\": 1}]}", "realms[0].uri: unknown key");
	expect_error("{\"realms\": [{\"name\": \"a b\"}]}", "realms[0]: name must be a valid URI");
	expect_error("{\"realms\": [{\"name\": \"a\", \"roles\": [{\"name\": \"r\", \"permissions\":"
	             " [{\"uri\": \"com.\", \"trustlevel\": -1}]}]}]}",
	             "realms[0].roles[0].permissions[0]: trustlevel must be an integer >= 0");
	expect_error("{\"realms\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}", "defined twice");
	expect_error("{\"listeners\": [{\"port\": 70000}], \"realms\": [{\"name\": \"a\"}]}",
	             "listeners[0].port: must be between 0 and 65535");
	expect_error("{\"listeners\": [{\"serializers\": [\"xml\"]}], \"realms\": [{\"name\": \"a\"}]}",
	             "serializers[0]");
	expect_error("{\"limits\": {\"max_message_size\": \"big\"}}",
	             "limits.max_message_size: must be a non-negative integer");
	expect_error("{\"log_level\": \"loud\"}", "log_level");
	expect_error("{}", "no realm defined");
	expect_error("{\"realms\": [}", ":1:");
	expect_error("[1]", "must be a JSON object");
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char err[256];

	(void)state;
	assert_false(config_load_file("/nonexistent/wampd.json", &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/wampd.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
