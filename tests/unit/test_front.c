/*
 * test_front.c - the front door's rewrite of a WebSocket request head (router/front.c):
 * the Host header always names the listener's own vhost (listener isolation, issue #17),
 * subprotocols are filtered to the listener's serializers, and a head without exactly one
 * Host is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router/front.h"
#include "serializers/codec.h"

#define JSON_ONLY (1u << WAMP_SER_JSON)

static size_t rewrite(char *buf, const char *head, unsigned sers)
{
	size_t n = strlen(head);

	memcpy(buf, head, n + 1);
	n = front_rewrite_head(buf, n, FRONT_HEAD_MAX, sers, "wampd-ws-0003");
	buf[n] = '\0';
	return n;
}

static void test_host_is_replaced(void **state)
{
	char buf[FRONT_HEAD_MAX + 1];
	size_t n;

	(void)state;
	/* whatever the client names (another listener's vhost, a prefix of ours), the head
	 * handed to lws names this listener's vhost, once */
	static const char *const hosts[] = {"127.0.0.1:8080", "wampd-ws-0000", "wampd-ws-",
	                                    "ws0", "", "wampd-ws-0003"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char head[512];

		snprintf(head, sizeof(head),
		         "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		         "Sec-WebSocket-Protocol: wamp.2.cbor, wamp.2.json\r\n\r\n", hosts[i]);
		n = rewrite(buf, head, JSON_ONLY);
		assert_true(n > 0);
		assert_non_null(strstr(buf, "\r\nHost: wampd-ws-0003\r\n"));
		assert_null(strstr(strstr(buf, "Host:") + 1, "Host:"));
		if (strcmp(hosts[i], "wampd-ws-0003")) {
			char theirs[64];

			snprintf(theirs, sizeof(theirs), "Host: %s\r\n", hosts[i]);
			assert_null(strstr(buf, theirs));
		}
		assert_non_null(strstr(buf, "Sec-WebSocket-Protocol: wamp.2.json\r\n"));
		assert_null(strstr(buf, "cbor"));
		assert_non_null(strstr(buf, "\r\n\r\n"));
	}
	/* the header name is case-insensitive */
	n = rewrite(buf, "GET /ws HTTP/1.1\r\nhOsT: evil\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
	            JSON_ONLY);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "Host: wampd-ws-0003\r\n"));
	assert_null(strstr(buf, "evil"));
}

static void test_host_missing_or_twice(void **state)
{
	char buf[FRONT_HEAD_MAX + 1];

	(void)state;
	assert_int_equal(rewrite(buf, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", JSON_ONLY), 0);
	assert_int_equal(rewrite(buf, "GET /ws HTTP/1.1\r\nHost: a\r\nHost: wampd-ws-0000\r\n\r\n",
	                         JSON_ONLY), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_is_replaced),
		cmocka_unit_test(test_host_missing_or_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
