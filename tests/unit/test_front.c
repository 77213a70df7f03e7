/*
 * test_front.c - the front door's work on a request head (router/net/front.c), without a
 * socket: where a head ends; its rewrite for the WebSocket vhost (the Host header always
 * names the listener's own vhost: listener isolation, issue #17; subprotocols filtered to
 * the listener's serializers in the client's order; headers a WAMP router does not read
 * dropped only when the head is too long to hand over; a head without exactly one Host
 * refused); the checks that decide between the hand-over and an HTTP refusal; and which
 * heads go to the plain HTTP services instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router/net/front.h"
#include "router/net/http.h"
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

static void test_head_end(void **state)
{
	static const char crlf[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\nbody";
	static const char lf[] = "GET / HTTP/1.1\nHost: a\n\nbody";

	(void)state;
	assert_int_equal(front_head_end(crlf, strlen(crlf)), strlen(crlf) - 4);
	assert_int_equal(front_head_end(lf, strlen(lf)), strlen(lf) - 4);
	/* not ended yet: every prefix short of the blank line */
	for (size_t n = 0; n < strlen(crlf) - 4; n++)
		assert_int_equal(front_head_end(crlf, n), 0);
	assert_int_equal(front_head_end("GET / HTTP/1.1\r\nHost: a\r\n\r", 26), 0);
	assert_int_equal(front_head_end("\r\n\r\n", 4), 4);
}

/* The Sec-WebSocket-Protocol value the rewrite of a head offering `offer` hands over. */
static const char *protocols_after(char *buf, const char *offer, unsigned sers)
{
	char head[1024];
	char *v, *end;

	snprintf(head, sizeof(head), "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	         "Sec-WebSocket-Protocol: %s\r\n\r\n", offer);
	assert_true(rewrite(buf, head, sers) > 0);
	v = strstr(buf, "Sec-WebSocket-Protocol: ");
	assert_non_null(v);
	v += strlen("Sec-WebSocket-Protocol: ");
	end = strstr(v, "\r\n");
	assert_non_null(end);
	*end = '\0';
	return v;
}

static void test_subprotocols_filtered_in_client_order(void **state)
{
	const unsigned both = JSON_ONLY | (1u << WAMP_SER_MSGPACK);
	char buf[FRONT_HEAD_MAX + 1];

	(void)state;
	assert_string_equal(protocols_after(buf, "wamp.2.msgpack, wamp.2.json", both),
	                    "wamp.2.msgpack, wamp.2.json");
	assert_string_equal(protocols_after(buf, "wamp.2.json,wamp.2.msgpack", both),
	                    "wamp.2.json, wamp.2.msgpack");
	assert_string_equal(protocols_after(buf, "wamp.2.msgpack, wamp.2.json", JSON_ONLY),
	                    "wamp.2.json");
	/* batched variants are served for every serializer served; others are not WAMP's */
	assert_string_equal(protocols_after(buf, "wamp.2.json.batched,\twamp.2.ubjson, mqtt, "
	                                    "wamp.2.json.x, wamp.1.json, wamp.2., wamp.2.json",
	                                    JSON_ONLY),
	                    "wamp.2.json.batched, wamp.2.json");
	/* a name longer than any serializer's is skipped, not truncated into one */
	assert_string_equal(protocols_after(buf, "wamp.2.jsonjsonjsonjsonjsonjsonjsonjson, "
	                                    "wamp.2.json", JSON_ONLY), "wamp.2.json");
	/* nothing served: a name lws will not find, so the handshake is refused cleanly */
	assert_string_equal(protocols_after(buf, "wamp.2.msgpack, wamp.2.cbor", JSON_ONLY),
	                    "x-wampd-none");
	assert_string_equal(protocols_after(buf, "", JSON_ONLY), "x-wampd-none");
	/* Autobahn|Python's default offer (137 bytes: more than lws 4.1 takes) is trimmed */
	assert_string_equal(protocols_after(buf, "wamp.2.json.batched, wamp.2.json, "
	                                    "wamp.2.msgpack.batched, wamp.2.msgpack, "
	                                    "wamp.2.ubjson.batched, wamp.2.ubjson, "
	                                    "wamp.2.cbor.batched, wamp.2.cbor", JSON_ONLY),
	                    "wamp.2.json.batched, wamp.2.json");
}

/* Headers a WAMP router does not read are dropped only when the head would otherwise be
 * too long to hand to lws (FRONT_ADOPT_MAX); a head that stays too long is refused. */
static void test_long_heads_lose_unused_headers(void **state)
{
	char head[FRONT_HEAD_MAX], buf[FRONT_HEAD_MAX + 1], cookie[1500];
	size_t n;

	(void)state;
	memset(cookie, 'c', sizeof(cookie) - 1);
	cookie[sizeof(cookie) - 1] = '\0';
	/* short: everything stays */
	n = rewrite(buf, "GET /ws HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nUser-Agent: t\r\n"
	            "Upgrade: websocket\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n", JSON_ONLY);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\r\nCookie: a=1\r\n"));
	assert_non_null(strstr(buf, "\r\nUser-Agent: t\r\n"));
	/* long: the droppable ones go (whatever their case), the rest stays in order */
	snprintf(head, sizeof(head), "GET /ws HTTP/1.1\r\nHost: x\r\ncookie: %s\r\n"
	         "USER-AGENT: %.600s\r\nUpgrade: websocket\r\nAccept-Language: en\r\n"
	         "Sec-WebSocket-Key: k==\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
	         cookie, cookie);
	n = rewrite(buf, head, JSON_ONLY);
	assert_true(n > 0 && n <= FRONT_ADOPT_MAX);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "GET /ws HTTP/1.1\r\nHost: wampd-ws-0003\r\nUpgrade: websocket\r\n"
	                    "Sec-WebSocket-Key: k==\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n");
	/* long with a header that cannot go: refused */
	snprintf(head, sizeof(head), "GET /ws HTTP/1.1\r\nHost: x\r\nX-Mine: %s%s\r\n"
	         "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", cookie, cookie);
	assert_int_equal(rewrite(buf, head, JSON_ONLY), 0);
}

static const char upgrade_head[] = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n"
                                   "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n";

/* The refusal's status for head on a port with one listener at path (NULL: handed over,
 * to that listener). */
static const char *check(const char *head, const char *path, unsigned sers)
{
	struct front_target t = {.ws_path = path, .serializers = sers, .websocket = true};
	const struct front_target *to = &t;
	const struct front_refusal *no = front_check_upgrade(head, strlen(head), &t, &to);

	if (no)
		assert_non_null(no->text);
	assert_ptr_equal(to, no ? NULL : &t);
	return no ? no->status : NULL;
}

static void test_upgrade_checks(void **state)
{
	(void)state;
	assert_null(check(upgrade_head, "/ws", JSON_ONLY)); /* "WebSocket": any case */
	assert_null(check(upgrade_head, "*", JSON_ONLY));
	/* not an upgrade (a plain GET, another protocol) */
	assert_string_equal(check("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", "/ws", JSON_ONLY),
	                    "404 Not Found");
	assert_string_equal(check("GET /ws HTTP/1.1\r\nUpgrade: h2c\r\n"
	                          "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", "/ws", JSON_ONLY),
	                    "404 Not Found");
	assert_string_equal(check("GET /ws HTTP/1.1\r\nUpgrade: websockets\r\n"
	                          "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", "/ws", JSON_ONLY),
	                    "404 Not Found");
	/* a request line without a path */
	assert_string_equal(check("GET\r\nUpgrade: websocket\r\n\r\n", "/ws", JSON_ONLY),
	                    "400 Bad Request");
	/* another path: neither a prefix nor an extension of ours is ours */
	assert_string_equal(check(upgrade_head, "/w", JSON_ONLY), "404 Not Found");
	assert_string_equal(check(upgrade_head, "/ws/", JSON_ONLY), "404 Not Found");
	assert_string_equal(check(upgrade_head, "/", JSON_ONLY), "404 Not Found");
	/* the query is not part of the path */
	assert_null(check("GET /ws?x=1&y=/ws HTTP/1.1\r\nUpgrade: websocket\r\n"
	                  "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", "/ws", JSON_ONLY));
	assert_null(check("GET /?a HTTP/1.1\r\nUpgrade: websocket\r\n"
	                  "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", "/", JSON_ONLY));
	assert_string_equal(check("GET /wsx?/ws HTTP/1.1\r\nUpgrade: websocket\r\n"
	                          "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n", "/ws", JSON_ONLY),
	                    "404 Not Found");
	/* no subprotocol this listener serves */
	assert_string_equal(check(upgrade_head, "/ws", 1u << WAMP_SER_MSGPACK), "400 Bad Request");
	assert_string_equal(check("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "/ws",
	                          JSON_ONLY), "400 Bad Request");
	assert_string_equal(check("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
	                          "Sec-WebSocket-Protocol: chat, wamp.2.jsonx\r\n\r\n", "/ws",
	                          JSON_ONLY), "400 Bad Request");
}

static void no_handler(const struct http_route *route, struct http_conn *c,
                       const struct http_request *req, const char *rest, size_t rest_len)
{
	(void)route, (void)c, (void)req, (void)rest, (void)rest_len;
	fail_msg("the front door's routing ran a handler");
}

static bool is_http(const struct front_target *t, const char *head)
{
	return front_http_target(t, head, strlen(head)) == t;
}

/* The listener of a port (a chain of targets) a head is handed to, or NULL (refused with
 * *status). */
static const struct front_target *chosen(const struct front_target *port, const char *path,
                                         const char *protocols, const char **status)
{
	char head[512];
	const struct front_target *to;
	const struct front_refusal *no;

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	         "Sec-WebSocket-Protocol: %s\r\n\r\n", path, protocols);
	no = front_check_upgrade(head, strlen(head), port, &to);
	*status = no ? no->status : NULL;
	assert_true(!no == !!to);
	return to;
}

/* Several listeners on one port: each upgrade goes to the listener of exactly its path (an
 * exact path before "*"), is checked against that listener's serializers only, and RawSocket
 * and HTTP requests go to the listener serving them. */
static void test_listeners_sharing_a_port(void **state)
{
	struct http_route v[] = {{.path = "/call", .handle = no_handler}};
	struct http_routes routes = {.v = v, .n = 1};
	struct front_target any = {.ws_path = "*", .serializers = JSON_ONLY, .websocket = true};
	struct front_target raw = {.ws_path = "/raw", .serializers = JSON_ONLY, .rawsocket = true,
	                           .next = &any};
	struct front_target b = {.ws_path = "/b", .serializers = 1u << WAMP_SER_MSGPACK,
	                         .websocket = true, .http = &routes, .next = &raw};
	struct front_target a = {.ws_path = "/a", .serializers = JSON_ONLY, .websocket = true,
	                         .next = &b};
	const char *status;

	(void)state;
	assert_ptr_equal(chosen(&a, "/a", "wamp.2.json", &status), &a);
	assert_ptr_equal(chosen(&a, "/b", "wamp.2.msgpack", &status), &b);
	assert_ptr_equal(chosen(&a, "/b?x", "wamp.2.msgpack", &status), &b);
	/* another listener's serializer is not this path's */
	assert_null(chosen(&a, "/b", "wamp.2.json", &status));
	assert_string_equal(status, "400 Bad Request");
	assert_null(chosen(&a, "/a", "wamp.2.msgpack", &status));
	assert_string_equal(status, "400 Bad Request");
	/* a path of none: the "*" listener; a RawSocket-only listener's path is no WebSocket
	 * path */
	assert_ptr_equal(chosen(&a, "/c", "wamp.2.json", &status), &any);
	assert_ptr_equal(chosen(&a, "/raw", "wamp.2.json", &status), &any);
	assert_ptr_equal(chosen(&a, "/a/", "wamp.2.json", &status), &any);
	assert_ptr_equal(front_path_target(&a, "/b", 2, true), &b);
	assert_ptr_equal(front_path_target(&a, "/b", 2, false), NULL); /* a alone */
	assert_ptr_equal(front_path_target(&any, "/b", 2, false), &any);
	b.next = NULL; /* no "*" listener */
	assert_null(chosen(&a, "/c", "wamp.2.json", &status));
	assert_string_equal(status, "404 Not Found");
	b.next = &raw;
	assert_ptr_equal(front_rawsocket_target(&a), &raw);
	assert_null(front_rawsocket_target(&any));
	/* HTTP: the listener with the service, whichever it is on the port */
	assert_ptr_equal(front_http_target(&a, "POST /call HTTP/1.1\r\n\r\n", 22), &b);
	assert_null(front_http_target(&a, "POST /a HTTP/1.1\r\n\r\n", 19));
}

/* A port of http listeners (HTTP services only): its requests go to the services, and
 * nothing is ever handed to a WebSocket vhost: every upgrade, on a service's path, "*" or
 * any other, is refused 404, as is a plain request at no service's path; RawSocket has
 * nobody. Next to a WebSocket listener on the same port, only that listener takes
 * upgrades. */
static void test_http_only_port(void **state)
{
	struct http_route v[] = {{.path = "/", .prefix = true, .handle = no_handler},
	                         {.path = "/json", .handle = no_handler}};
	struct http_routes routes = {.v = v, .n = 2};
	/* its ws_path as config.c leaves it (the default), to show it is never read */
	struct front_target h = {.ws_path = "/ws", .serializers = JSON_ONLY, .serves_http = true,
	                         .http = &routes};
	struct front_target ws = {.ws_path = "/ws", .serializers = JSON_ONLY, .websocket = true,
	                          .serves_http = true};
	const char *status;
	const char *const paths[] = {"/", "/ws", "/json", "*", "/x?y=/ws"};

	(void)state;
	assert_ptr_equal(front_http_target(&h, "GET /json HTTP/1.1\r\n\r\n", 22), &h);
	assert_ptr_equal(front_http_target(&h, "GET /a/b HTTP/1.1\r\n\r\n", 21), &h);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_null(chosen(&h, paths[i], "wamp.2.json", &status));
		assert_string_equal(status, "404 Not Found");
		assert_null(front_path_target(&h, paths[i], strlen(paths[i]), true));
	}
	{
		const struct front_target *to = &h;
		const char *get = "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n";
		const struct front_refusal *no = front_check_upgrade(get, strlen(get), &h, &to);

		assert_non_null(no);
		assert_null(to);
		assert_string_equal(no->status, "404 Not Found");
		assert_string_equal(no->text, "no HTTP service at this path");
	}
	assert_null(front_rawsocket_target(&h));
	/* with a WebSocket listener after it on the port: that one's path, that one */
	h.next = &ws;
	assert_ptr_equal(chosen(&h, "/ws", "wamp.2.json", &status), &ws);
	assert_null(chosen(&h, "/", "wamp.2.json", &status));
	assert_string_equal(status, "404 Not Found");
	assert_ptr_equal(front_http_target(&h, "GET /json HTTP/1.1\r\n\r\n", 22), &h);
	assert_null(front_rawsocket_target(&h));
}

static void test_plain_http_goes_to_the_services(void **state)
{
	struct http_route v[] = {{.path = "/publish", .handle = no_handler},
	                         {.path = "/lp", .prefix = true, .handle = no_handler}};
	struct http_routes routes = {.v = v, .n = 2};
	struct front_target t = {.ws_path = "/ws", .http = &routes};
	struct front_target none = {.ws_path = "/ws"};

	(void)state;
	assert_true(is_http(&t, "POST /publish HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_true(is_http(&t, "POST /publish?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_true(is_http(&t, "POST /lp/open HTTP/1.1\r\n\r\n"));
	assert_false(is_http(&t, "POST /publisher HTTP/1.1\r\n\r\n"));
	assert_false(is_http(&t, "POST /lpx HTTP/1.1\r\n\r\n"));
	assert_false(is_http(&t, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n"));
	/* an upgrade is never the services', even on their path */
	assert_false(is_http(&t, "GET /publish HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"));
	assert_false(is_http(&t, "POST\r\n\r\n"));
	/* a listener without services */
	assert_false(is_http(&none, "POST /publish HTTP/1.1\r\n\r\n"));
	routes.n = 0;
	assert_false(is_http(&t, "POST /publish HTTP/1.1\r\n\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_is_replaced),
		cmocka_unit_test(test_host_missing_or_twice),
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_subprotocols_filtered_in_client_order),
		cmocka_unit_test(test_long_heads_lose_unused_headers),
		cmocka_unit_test(test_upgrade_checks),
		cmocka_unit_test(test_plain_http_goes_to_the_services),
		cmocka_unit_test(test_http_only_port),
		cmocka_unit_test(test_listeners_sharing_a_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
