/*
 * test_lpreq.c - the long-poll transport's requests without the connection
 * (router/http/lpreq.c): routing of /open and /<token>/<op>, the transport secrets, and the
 * protocol negotiation of /open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "router/http/lpreq.h"

#define ALL_SER ((1u << WAMP_SER_JSON) | (1u << WAMP_SER_MSGPACK) | (1u << WAMP_SER_CBOR))

static enum lp_action route(const char *method, const char *rest, const char **tok, size_t *tl)
{
	return lp_route(method, rest, strlen(rest), tok, tl);
}

static void test_route(void **state)
{
	static const char tok32[] = "abcdefghijklmnopqrstuvwxyzABCDEF";
	static const struct {
		const char *rest;
		enum lp_action want;
	} cases[] = {
		{"/open", LP_OPEN},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/send", LP_SEND},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/receive", LP_RECEIVE},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/close", LP_CLOSE},
		/* a public id, a truncated or lengthened token: cannot be a token */
		{"/17/send", LP_NO_TRANSPORT},
		{"/abcdefghijklmnopqrstuvwxyzABCDE/receive", LP_NO_TRANSPORT},
		{"/abcdefghijklmnopqrstuvwxyzABCDEFG/close", LP_NO_TRANSPORT},
		{"//send", LP_NO_TRANSPORT},
		/* no such operation or path */
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/x/send", LP_NOT_FOUND},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/sendx", LP_NOT_FOUND},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF/", LP_NOT_FOUND},
		{"/abcdefghijklmnopqrstuvwxyzABCDEF", LP_NOT_FOUND},
		{"/openx", LP_NOT_FOUND},
		{"", LP_NOT_FOUND},
		{"/", LP_NOT_FOUND},
		{"x/send", LP_NOT_FOUND},
	};
	const char *tok;
	size_t tl;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum lp_action a = route("POST", cases[i].rest, &tok, &tl);

		if (a != cases[i].want)
			fail_msg("%s: %d, want %d", cases[i].rest, a, cases[i].want);
		if (a == LP_SEND || a == LP_RECEIVE || a == LP_CLOSE) {
			assert_int_equal(tl, LP_TOKEN_LEN);
			assert_memory_equal(tok, tok32, LP_TOKEN_LEN);
		} else {
			assert_null(tok);
			assert_int_equal(tl, 0);
		}
	}
	assert_int_equal(route("GET", "/open", &tok, &tl), LP_BAD_METHOD);
	assert_int_equal(route("post", "/open", &tok, &tl), LP_BAD_METHOD);
	assert_int_equal(route("PUT", "/abcdefghijklmnopqrstuvwxyzABCDEF/send", &tok, &tl),
	                 LP_BAD_METHOD);
}

static void test_tokens(void **state)
{
	char a[LP_TOKEN_LEN + 1], b[LP_TOKEN_LEN + 1], c[LP_TOKEN_LEN + 1];
	uint8_t ka[LP_KEY_LEN], kb[LP_KEY_LEN], k[LP_KEY_LEN];

	(void)state;
	assert_true(LP_TOKEN_BYTES * 8 >= 128);
	lp_token_new(a, ka);
	lp_token_new(b, kb);
	assert_int_equal(strlen(a), LP_TOKEN_LEN);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                           "0123456789-_"), LP_TOKEN_LEN);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(ka, kb, LP_KEY_LEN);
	/* the key is the token's hash, and any change to the token changes it */
	lp_token_key(a, LP_TOKEN_LEN, k);
	assert_memory_equal(k, ka, LP_KEY_LEN);
	memcpy(c, a, sizeof(c));
	c[LP_TOKEN_LEN - 1] = c[LP_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	lp_token_key(c, LP_TOKEN_LEN, k);
	assert_memory_not_equal(k, ka, LP_KEY_LEN);
	lp_token_key(a, LP_TOKEN_LEN - 1, k);
	assert_memory_not_equal(k, ka, LP_KEY_LEN);
}

static enum lp_open_result negotiate(const char *body, unsigned allowed, struct lp_protocol *p)
{
	return lp_open_negotiate((const uint8_t *)body, strlen(body), allowed, p);
}

static void test_negotiate(void **state)
{
	struct lp_protocol p;
	static const char nul[] = "{\"protocols\": [\"wamp.2.json\\u0000x\"]}";

	(void)state;
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.json\"]}", ALL_SER, &p), LP_OPEN_OK);
	assert_int_equal(p.ser, WAMP_SER_JSON);
	assert_false(p.batched);
	assert_string_equal(p.name, "wamp.2.json");
	/* the first served one, in the client's order */
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.cbor.x\", 3, \"wamp.2.msgpack.batched\","
	                           " \"wamp.2.json\"]}", ALL_SER, &p), LP_OPEN_OK);
	assert_int_equal(p.ser, WAMP_SER_MSGPACK);
	assert_true(p.batched);
	assert_string_equal(p.name, "wamp.2.msgpack.batched");
	/* a serializer the listener does not allow is skipped */
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.msgpack\", \"wamp.2.json.batched\"]}",
	                           1u << WAMP_SER_JSON, &p), LP_OPEN_OK);
	assert_string_equal(p.name, "wamp.2.json.batched");
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.msgpack\"]}", 1u << WAMP_SER_JSON, &p),
	                 LP_OPEN_NO_PROTOCOL);
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.xml\", \"wamp.2.\", \"wamp.2.batched\","
	                           " \"wamp.2..batched\", \"wamp.1.json\"]}", ALL_SER, &p),
	                 LP_OPEN_NO_PROTOCOL);
	assert_int_equal(negotiate(nul, ALL_SER, &p), LP_OPEN_BAD_BODY); /* no NUL in names */
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.jsonjsonjsonjsonjsonjsonjsonjsonjson"
	                           "\"]}", ALL_SER, &p), LP_OPEN_NO_PROTOCOL);
	assert_int_equal(negotiate("{\"protocols\": []}", ALL_SER, &p), LP_OPEN_NO_PROTOCOL);
	assert_int_equal(negotiate("{\"protocols\": \"wamp.2.json\"}", ALL_SER, &p), LP_OPEN_BAD_BODY);
	assert_int_equal(negotiate("[\"wamp.2.json\"]", ALL_SER, &p), LP_OPEN_BAD_BODY);
	assert_int_equal(negotiate("{\"protocols\": [\"wamp.2.json\"", ALL_SER, &p), LP_OPEN_BAD_BODY);
	assert_int_equal(lp_open_negotiate(NULL, 0, ALL_SER, &p), LP_OPEN_BAD_BODY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_negotiate),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
