/*
 * test_auth.c - authenticators against known vectors computed with the real client
 * libraries (Autobahn|Python's autobahn.wamp.auth / cryptosign, PyNaCl, hashlib):
 * wampcra signatures and PBKDF2 key derivation, cryptosign signature checks, SCRAM proof
 * checks, ticket comparison, method selection and the dynamic steps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "auth/auth_internal.h" /* the methods' challenge state, to fix a challenge */
#include "common/hex.h"
#include "serializers/wamp_msg.h"

static struct ids_gen ids; /* the generator challenges draw from (a loop's, in the router) */

/* a CRA challenge string and its signatures, from autobahn.wamp.auth.compute_wcs */
static const char cra_challenge[] =
	"{\"authid\":\"peter\",\"authrole\":\"user\",\"authmethod\":\"wampcra\",\"authprovider\":"
	"\"static\",\"nonce\":\"LHRTC9zeOIrt_9U3\",\"timestamp\":\"2014-06-22T16:36:25.448Z\","
	"\"session\":3251278072152162}";

static void test_wampcra_vectors(void **state)
{
	char *sig, *key;

	(void)state;
	sig = auth_wampcra_sign("secret2", cra_challenge);
	assert_string_equal(sig, "TqU/a044toQzULMBK73iKuw8/Q+aBZmmcEcBxsxoI9A=");
	free(sig);
	key = auth_wampcra_derive_key("secret123", "salt123", 100, 16);
	assert_string_equal(key, "DpHHRlQ6UNULJlP9J8WkPw==");
	sig = auth_wampcra_sign(key, cra_challenge);
	assert_string_equal(sig, "DTnv11woHr1dcX2pQTYMAIk6sD8J7nFhSjX0mMMxU3c=");
	free(sig);
	free(key);
	key = auth_wampcra_derive_key("hello", "pepper", 1000, 32);
	assert_string_equal(key, "OpXWouYn6+16iI0KWdDwyjLe3w/xG4Uwuhg6ohG9ZxY=");
	free(key);
}

static void test_str_equal(void **state)
{
	(void)state;
	assert_true(auth_str_equal("abc", 3, "abc", 3));
	assert_false(auth_str_equal("abc", 3, "abd", 3));
	assert_false(auth_str_equal("abc", 3, "abcd", 4));
	assert_false(auth_str_equal("", 0, "a", 1));
}

/* The project's one hex decoder (common/hex.h), which auth reads keys and signatures with:
 * every digit of both cases, and what it must refuse. */
static void test_hex(void **state)
{
	uint8_t out[4];
	size_t n = 99;

	(void)state;
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? c - '0'
		           : c >= 'a' && c <= 'f' ? c - 'a' + 10
		           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		assert_int_equal(hex_digit((unsigned char)c), want);
	}
	assert_true(hex_decode("00fFa9", 6, out, sizeof(out), &n));
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], 0xa9);
	assert_true(hex_decode("", 0, out, sizeof(out), &n));
	assert_int_equal(n, 0);
	n = 99;
	assert_false(hex_decode("abc", 3, out, sizeof(out), &n)); /* odd */
	assert_int_equal(n, 0);
	assert_false(hex_decode("0g", 2, out, sizeof(out), &n));
	assert_false(hex_decode("g0", 2, out, sizeof(out), &n));
	assert_false(hex_decode("00 1", 4, out, sizeof(out), &n));
	assert_false(hex_decode("0011223344", 10, out, sizeof(out), &n)); /* does not fit */
	assert_int_equal(n, 0);
}

/* A static principal of method m, its credentials from cred (shaped as in the
 * configuration file; consumed), added to cfg (which enables m). */
static struct auth_principal *add(struct auth_config *cfg, enum auth_method m,
                                  const char *authid, const char *role, json_t *cred)
{
	struct auth_principal *p = calloc(1, sizeof(*p));
	char err[256] = "";

	p->authid = strdup(authid);
	p->role = strdup(role);
	assert_true(auth_principal_configure(m, p, cred, err, sizeof(err)));
	json_decref(cred);
	cfg->m[m].enabled = true;
	HASH_ADD_KEYPTR(hh, cfg->m[m].principals, p->authid, strlen(p->authid), p);
	return p;
}

/* Set a method's own settings from a JSON text (as in the configuration file). */
static void configure(struct auth_config *cfg, enum auth_method m, const char *settings)
{
	json_t *o = json_loads(settings, 0, NULL);
	char err[256] = "";

	assert_true(auth_method_configure(m, &cfg->m[m], o, err, sizeof(err)));
	json_decref(o);
}

static json_t *hello(const char *methods_json, const char *authid, const char *pubkey)
{
	json_t *d = json_pack("{s:o}", "authmethods", json_loads(methods_json, 0, NULL));

	if (authid)
		json_object_set_new(d, "authid", json_string(authid));
	if (pubkey)
		json_object_set_new(d, "authextra", json_pack("{s:s}", "pubkey", pubkey));
	return d;
}

static void test_method_selection_and_ticket(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra, *d;
	struct auth_principal *joe = add(&cfg, AUTH_TICKET, "joe", "user",
	                                 json_pack("{s:s}", "ticket", "s3cret"));

	(void)state;
	cfg.m[AUTH_ANONYMOUS].enabled = true;

	/* no authmethods: anonymous */
	d = json_object();
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_WELCOME);
	assert_string_equal(id.authmethod, "anonymous");
	assert_string_equal(id.authrole, "anonymous");
	assert_int_equal(strlen(id.authid), 14);
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(d);

	/* the client's first method the listener has wins */
	d = hello("[\"wampcra\", \"ticket\", \"anonymous\"]", "joe", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_int_equal(st.method, AUTH_TICKET);
	json_decref(extra);
	assert_int_equal(auth_authenticate(&st, "wrong", 5, NULL, &step, &id), WAMPD_ERR_AUTH_FAILED);
	assert_int_equal(auth_authenticate(&st, "s3cret", 6, NULL, &step, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_WELCOME);
	assert_string_equal(id.authid, "joe");
	assert_string_equal(id.authrole, "user");
	assert_string_equal(id.authmethod, "ticket");
	assert_string_equal(id.authprovider, "static");
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(d);

	/* an unknown principal is challenged like a known one (no authid enumeration) and
	 * fails at AUTHENTICATE, even with a known principal's ticket */
	d = hello("[\"ticket\"]", "nobody", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	json_decref(extra);
	extra = NULL;
	assert_int_equal(auth_authenticate(&st, "s3cret", 6, NULL, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	/* no usable method */
	d = hello("[\"cryptosign\"]", "joe", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_NO_AUTH_METHOD);
	auth_pending_clear(&st);
	json_decref(d);
	/* a principal restricted to another realm: unknown here (a decoy) */
	joe->realm = strdup("other");
	d = hello("[\"ticket\"]", "joe", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	json_decref(extra);
	extra = NULL;
	assert_int_equal(auth_authenticate(&st, "s3cret", 6, NULL, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
}

/* "trusted" (wampd's router components): a secret proven like a ticket, the identity says
 * "trusted"; only where wampd enabled it; no configuration, no authenticator can. */
static void test_trusted(void **state)
{
	struct auth_config cfg = {0}, open = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL, *d, *answer;
	const char *secret = "0123456789abcdef0123456789abcdef";

	(void)state;
	assert_false(auth_method_configurable(AUTH_TRUSTED));
	for (int m = 0; m < AUTH__COUNT; m++)
		assert_int_equal(auth_method_configurable((enum auth_method)m), m != AUTH_TRUSTED);
	assert_int_equal(auth_method_from_name("trusted"), AUTH_TRUSTED);
	add(&cfg, AUTH_TRUSTED, "6f1c2e4a-0b7d-4c3e-9a1f-2d3c4b5a6978", "backend",
	    json_pack("{s:s}", "secret", secret))->realm = strdup("realm1");

	/* the secret proves it: WELCOME as trusted with the principal's authid and role */
	d = hello("[\"trusted\"]", "6f1c2e4a-0b7d-4c3e-9a1f-2d3c4b5a6978", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_int_equal(json_object_size(extra), 0);
	json_decref(extra);
	extra = NULL;
	assert_int_equal(auth_authenticate(&st, secret, strlen(secret) - 1, NULL, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	assert_int_equal(auth_authenticate(&st, secret, strlen(secret), NULL, &step, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_WELCOME);
	assert_string_equal(id.authmethod, "trusted");
	assert_string_equal(id.authid, "6f1c2e4a-0b7d-4c3e-9a1f-2d3c4b5a6978");
	assert_string_equal(id.authrole, "backend");
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(d);
	/* another authid with the right secret, and the right authid in another realm: refused */
	d = hello("[\"trusted\"]", "intruder", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	json_decref(extra);
	extra = NULL;
	assert_int_equal(auth_authenticate(&st, secret, strlen(secret), NULL, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	d = hello("[\"trusted\"]", "6f1c2e4a-0b7d-4c3e-9a1f-2d3c4b5a6978", NULL);
	assert_int_equal(auth_hello(&cfg, "other", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	json_decref(extra);
	extra = NULL;
	assert_int_equal(auth_authenticate(&st, secret, strlen(secret), NULL, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	/* no authenticator answers for it */
	st = (struct auth_pending){.method = AUTH_TRUSTED, .method_name = "trusted"};
	answer = json_pack("{s:s, s:s}", "role", "backend", "authid", "x");
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(answer);
	auth_pending_clear(&st);
	/* a listener that does not enable it (every configured one): no such method, whatever
	 * the HELLO claims */
	open.m[AUTH_ANONYMOUS].enabled = true;
	json_object_set_new(d, "authextra", json_pack("{s:s, s:s}", "authmethod", "trusted",
	                                              "secret", secret));
	assert_int_equal(auth_hello(&open, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_NO_AUTH_METHOD);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&open);
	auth_config_clear(&cfg);
}

static void test_wampcra_flow(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra, *d, *c;
	char *sig, *key;

	(void)state;
	/* the key derived from the password at configuration (Autobahn's derive_key) */
	add(&cfg, AUTH_WAMPCRA, "peter", "user",
	    json_pack("{s:s, s:s, s:i, s:i}", "password", "secret123", "salt", "salt123",
	              "iterations", 100, "keylen", 16));
	d = hello("[\"wampcra\"]", "peter", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 3251278072152162, NULL, &ids, &st, &step,
	                            &extra, &id),
	                 WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_string_equal(wamp_dict_str(extra, "salt", ""), "salt123");
	assert_int_equal(wamp_dict_int(extra, "iterations", 0), 100);
	assert_int_equal(wamp_dict_int(extra, "keylen", 0), 16);
	c = json_loads(wamp_dict_str(extra, "challenge", ""), 0, NULL);
	assert_non_null(c);
	assert_int_equal(json_integer_value(json_object_get(c, "session")), 3251278072152162);
	assert_string_equal(json_string_value(json_object_get(c, "authid")), "peter");
	assert_string_equal(json_string_value(json_object_get(c, "authmethod")), "wampcra");
	json_decref(c);
	/* the client derives the key from the password and signs */
	key = auth_wampcra_derive_key("secret123", wamp_dict_str(extra, "salt", ""), 100, 16);
	sig = auth_wampcra_sign(key, wamp_dict_str(extra, "challenge", ""));
	assert_int_equal(auth_authenticate(&st, "AAAA", 4, NULL, &step, &id), WAMPD_ERR_AUTH_FAILED);
	assert_int_equal(auth_authenticate(&st, sig, strlen(sig), NULL, &step, &id), WAMPD_OK);
	assert_string_equal(id.authmethod, "wampcra");
	free(sig);
	free(key);
	json_decref(extra);
	json_decref(d);
	auth_identity_clear(&id);
	auth_pending_clear(&st);

	/* an unknown authid gets a decoy challenge shaped like peter's (salted, same
	 * parameters, a salt of its own that is the same at every HELLO) and fails at
	 * AUTHENTICATE whatever it signs */
	{
		char salt1[64];

		for (int round = 0; round < 2; round++) {
			d = hello("[\"wampcra\"]", "mallory", NULL);
			assert_int_equal(auth_hello(&cfg, "realm1", d, 7, NULL, &ids, &st, &step, &extra, &id),
			                 WAMPD_OK);
			assert_int_equal(step, AUTH_STEP_CHALLENGE);
			assert_int_equal(wamp_dict_int(extra, "iterations", 0), 100);
			assert_int_equal(wamp_dict_int(extra, "keylen", 0), 16);
			assert_int_equal(strlen(wamp_dict_str(extra, "salt", "")), 32);
			if (!round)
				snprintf(salt1, sizeof(salt1), "%s", wamp_dict_str(extra, "salt", ""));
			else
				assert_string_equal(wamp_dict_str(extra, "salt", ""), salt1);
			c = json_loads(wamp_dict_str(extra, "challenge", ""), 0, NULL);
			assert_string_equal(json_string_value(json_object_get(c, "authid")), "mallory");
			assert_string_equal(json_string_value(json_object_get(c, "authrole")), "user");
			json_decref(c);
			key = auth_wampcra_derive_key("secret123", wamp_dict_str(extra, "salt", ""), 100, 16);
			sig = auth_wampcra_sign(key, wamp_dict_str(extra, "challenge", ""));
			assert_int_equal(auth_authenticate(&st, sig, strlen(sig), NULL, &step, &id),
			                 WAMPD_ERR_AUTH_FAILED);
			free(sig);
			free(key);
			json_decref(extra);
			json_decref(d);
			auth_pending_clear(&st);
		}
	}
	auth_config_clear(&cfg);
}

static void test_cryptosign_vector_and_flow(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra, *d;
	uint8_t seed[32], pk[32], sk[64], chal[32], sig[64], blob[96];
	char hex[200];
	size_t n;

	(void)state;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	/* PyNaCl's public key for this seed */
	assert_string_equal(hex, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
	add(&cfg, AUTH_CRYPTOSIGN, "alice", "user", json_pack("{s:[s]}", "authorized_keys", hex));

	/* found by public key when no authid is given */
	d = hello("[\"cryptosign\"]", NULL, hex);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 1, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_int_equal(strlen(wamp_dict_str(extra, "challenge", "")), 64);
	assert_true(json_is_null(json_object_get(extra, "channel_binding")));
	sodium_hex2bin(chal, 32, wamp_dict_str(extra, "challenge", ""), 64, NULL, &n, NULL);
	crypto_sign_detached(sig, NULL, chal, 32, sk);
	memcpy(blob, sig, 64);
	memcpy(blob + 64, chal, 32);
	sodium_bin2hex(hex, sizeof(hex), blob, 96);
	/* a flipped bit fails */
	hex[10] = hex[10] == '0' ? '1' : '0';
	assert_int_equal(auth_authenticate(&st, hex, 192, NULL, &step, &id), WAMPD_ERR_AUTH_FAILED);
	hex[10] = hex[10] == '0' ? '1' : '0';
	sodium_bin2hex(hex, sizeof(hex), blob, 96);
	assert_int_equal(auth_authenticate(&st, hex, 192, NULL, &step, &id), WAMPD_OK);
	assert_string_equal(id.authid, "alice");
	assert_string_equal(id.authmethod, "cryptosign");
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(extra);
	json_decref(d);

	/* PyNaCl's signature of the spec's example challenge verifies with our check */
	d = hello("[\"cryptosign\"]", "alice",
	          "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
	assert_int_equal(auth_hello(&cfg, "realm1", d, 1, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	sodium_hex2bin(((struct auth_cryptosign_state *)st.state)->nonce, 32,
	               "fa034062ad76352b53a25358854577730db82f367aa439709c91296d04a5716c", 64, NULL,
	               &n, NULL);
	assert_int_equal(
		auth_authenticate(&st,
		                  "c0a54e5e6a442231215197b2f750ecee88074a487e63ff0e983f692f58f7eac0cfedde5d"
		                  "160a665e81e7623013524b2490194c051bcb8cc0ef4081dece730f05fa034062ad76352b"
		                  "53a25358854577730db82f367aa439709c91296d04a5716c",
		                  192, NULL, &step, &id),
		WAMPD_OK);
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(extra);
	json_decref(d);

	/* channel binding (tls-unique): only when the client asks, only where the transport
	 * has a channel id; the client then signs challenge XOR channel id */
	{
		struct auth_transport tr = {0};
		uint8_t cid[32];
		json_t *ae;

		for (int i = 0; i < 32; i++)
			cid[i] = (uint8_t)(0xa0 + i);
		tr.channel_id = cid;
		d = hello("[\"cryptosign\"]", "alice",
		          "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
		ae = json_object_get(d, "authextra");
		json_object_set_new(ae, "channel_binding", json_string("tls-unique"));
		/* asked for, but no TLS channel: refused */
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, NULL, &ids, &st, &step, &extra, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		auth_pending_clear(&st);
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, &tr, &ids, &st, &step, &extra, &id),
		                 WAMPD_OK);
		assert_string_equal(wamp_dict_str(extra, "channel_binding", ""), "tls-unique");
		sodium_hex2bin(chal, 32, wamp_dict_str(extra, "challenge", ""), 64, NULL, &n, NULL);
		/* signed without the binding: refused */
		crypto_sign_detached(sig, NULL, chal, 32, sk);
		memcpy(blob, sig, 64);
		memcpy(blob + 64, chal, 32);
		sodium_bin2hex(hex, sizeof(hex), blob, 96);
		assert_int_equal(auth_authenticate(&st, hex, 192, NULL, &step, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		/* signed over challenge XOR channel id: accepted */
		for (int i = 0; i < 32; i++)
			chal[i] ^= cid[i];
		crypto_sign_detached(sig, NULL, chal, 32, sk);
		memcpy(blob, sig, 64);
		memcpy(blob + 64, chal, 32);
		sodium_bin2hex(hex, sizeof(hex), blob, 96);
		assert_int_equal(auth_authenticate(&st, hex, 192, NULL, &step, &id), WAMPD_OK);
		auth_identity_clear(&id);
		auth_pending_clear(&st);
		json_decref(extra);
		/* a TLS channel the client did not ask to bind to: no binding */
		json_object_del(ae, "channel_binding");
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, &tr, &ids, &st, &step, &extra, &id),
		                 WAMPD_OK);
		assert_true(json_is_null(json_object_get(extra, "channel_binding")));
		assert_null(((struct auth_cryptosign_state *)st.state)->channel_id);
		auth_pending_clear(&st);
		json_decref(extra);
		/* ... unless the listener requires it (a man in the middle strips the request) */
		configure(&cfg, AUTH_CRYPTOSIGN, "{\"require_channel_binding\": true}");
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, &tr, &ids, &st, &step, &extra, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		auth_pending_clear(&st);
		json_object_set_new(ae, "channel_binding", json_string("tls-unique"));
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, &tr, &ids, &st, &step, &extra, &id),
		                 WAMPD_OK);
		assert_string_equal(wamp_dict_str(extra, "channel_binding", ""), "tls-unique");
		auth_pending_clear(&st);
		json_decref(extra);
		configure(&cfg, AUTH_CRYPTOSIGN, "{\"require_channel_binding\": false}");
		json_object_del(ae, "channel_binding");
		/* an unknown binding type */
		json_object_set_new(ae, "channel_binding", json_string("tls-exporter"));
		assert_int_equal(auth_hello(&cfg, "realm1", d, 1, &tr, &ids, &st, &step, &extra, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		auth_pending_clear(&st);
		json_decref(d);
	}

	/* an unknown key */
	d = hello("[\"cryptosign\"]", "alice",
	          "1111111111111111111111111111111111111111111111111111111111111111");
	assert_int_equal(auth_hello(&cfg, "realm1", d, 1, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
}

static void test_scram_vector(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	struct auth_scram_state *ss;
	uint8_t stored[32], server[32];
	enum auth_step step;
	char stored_hex[65], server_hex[65];
	json_t *extra, *d;
	const char *proof = "70O2c9eUz056Qvlc44dCmc9lL/HJSAmMTKa1t7UUWpY=";

	(void)state;
	/* keys derived from the password equal hashlib's */
	assert_true(auth_scram_derive("pbkdf2", "pencil", "QSXCR+Q6sek8bf92", 4096, 0, stored, server));
	sodium_bin2hex(stored_hex, sizeof(stored_hex), stored, 32);
	assert_string_equal(stored_hex,
	                    "14efbd8c16f7314ba4b7a8c99f38cf64e59ce68c3f3eee89b4fca3bb46aa684f");
	sodium_bin2hex(server_hex, sizeof(server_hex), server, 32);
	assert_string_equal(server_hex,
	                    "ab127549b992022e44712d09e4293f70a026ffe2316be2b0a7addfe0e1c3833a");

	/* a principal with these keys, as the configuration gives them */
	add(&cfg, AUTH_SCRAM, "user", "user",
	    json_pack("{s:s, s:s, s:i, s:s, s:s}", "kdf", "pbkdf2", "salt", "QSXCR+Q6sek8bf92",
	              "iterations", 4096, "stored-key", stored_hex, "server-key", server_hex));
	d = json_pack("{s:[s], s:s, s:{s:s}}", "authmethods", "wamp-scram", "authid", "user",
	              "authextra", "nonce", "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(auth_hello(&cfg, "realm1", d, 9, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_string_equal(st.method_name, "wamp-scram");
	assert_string_equal(wamp_dict_str(extra, "salt", ""), "QSXCR+Q6sek8bf92");
	assert_int_equal(wamp_dict_int(extra, "iterations", 0), 4096);
	json_decref(extra);

	/* the vector's server nonce instead of the random one: the proof hashlib computed for
	 * these nonces is accepted, and the verifier matches */
	ss = st.state;
	free(ss->nonce);
	ss->nonce = strdup("rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
	extra = json_pack("{s:s, s:n}", "nonce", ss->nonce, "channel_binding");
	assert_int_equal(auth_authenticate(&st, "AAAA", 4, extra, &step, &id), WAMPD_ERR_AUTH_FAILED);
	assert_int_equal(auth_authenticate(&st, proof, strlen(proof), extra, &step, &id), WAMPD_OK);
	assert_string_equal(wamp_dict_str(id.authextra, "verifier", ""),
	                    "FIa3WsnTFmtTKLhQzYSEIzASTNc458nnNQh4vthNKYg=");
	assert_string_equal(id.authmethod, "wamp-scram");
	assert_string_equal(id.authprovider, "static");
	json_decref(extra);
	auth_identity_clear(&id);
	/* a wrong echoed nonce fails */
	extra = json_pack("{s:s}", "nonce", "other");
	assert_int_equal(auth_authenticate(&st, proof, strlen(proof), extra, &step, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(extra);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
}

/* What a principal's configuration must have, per method (auth_principal_configure), and
 * a method's settings (auth_method_configure, auth_config_tls_only): the refusals name
 * what is missing, and another method's setting is refused. */
static void test_configure(void **state)
{
	static const struct {
		enum auth_method m;
		const char *cred, *err;
	} bad[] = {
		{AUTH_TICKET, "{}", "ticket is required"},
		{AUTH_WAMPCRA, "{\"salt\": \"s\"}", "secret (or password) is required"},
		{AUTH_CRYPTOSIGN, "{}", "authorized_keys must be a non-empty list of hex keys"},
		{AUTH_CRYPTOSIGN, "{\"authorized_keys\": []}", "authorized_keys must be a non-empty"},
		{AUTH_CRYPTOSIGN, "{\"pubkey\": \"03a1\"}", "authorized_keys[0] is not a 64-digit"},
		{AUTH_CRYPTOSIGN, "{\"authorized_keys\": [\"03a107bff3ce10be1d70dd18e74bc09967e4d630"
		                  "9ba50d5f1ddc8664125531b8\", \"zz\"]}", "authorized_keys[1] is not"},
		{AUTH_SCRAM, "{\"kdf\": \"md5\"}", "kdf must be argon2id13, argon2id-13 or pbkdf2"},
		{AUTH_SCRAM, "{\"kdf\": \"pbkdf2\", \"iterations\": 1}", "salt and iterations are"},
		{AUTH_SCRAM, "{\"kdf\": \"argon2id13\", \"salt\": \"c2FsdA==\", \"iterations\": 1}",
		 "memory is required for argon2"},
		{AUTH_SCRAM, "{\"kdf\": \"pbkdf2\", \"salt\": \"c2FsdA==\", \"iterations\": 1,"
		             " \"stored-key\": \"00\", \"server-key\": \"00\"}", "password, or stored-key"},
		{AUTH_ANONYMOUS, "{}", "this method has no principals"},
	};
	struct auth_config cfg = {0};
	enum auth_method m = AUTH_ANONYMOUS;
	char err[256];
	json_t *o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct auth_principal *p = calloc(1, sizeof(*p));

		o = json_loads(bad[i].cred, 0, NULL);
		assert_non_null(o);
		err[0] = '\0';
		assert_false(auth_principal_configure(bad[i].m, p, o, err, sizeof(err)));
		assert_non_null(strstr(err, bad[i].err));
		auth_principal_free(p); /* frees what was made before the refusal */
		json_decref(o);
	}

	/* settings: the roles of anonymous (default "anonymous") and tls, cryptosign's binding */
	o = json_pack("{s:s}", "role", "guest");
	assert_true(auth_method_configure(AUTH_TLS, &cfg.m[AUTH_TLS], o, err, sizeof(err)));
	assert_string_equal(cfg.m[AUTH_TLS].role, "guest");
	json_decref(o);
	o = json_object();
	assert_true(auth_method_configure(AUTH_ANONYMOUS, &cfg.m[AUTH_ANONYMOUS], o, err,
	                                  sizeof(err)));
	assert_string_equal(cfg.m[AUTH_ANONYMOUS].role, "anonymous");
	json_decref(o);
	assert_null(auth_config_tls_only(&cfg, &m));
	o = json_pack("{s:b}", "require_channel_binding", 1);
	assert_false(auth_method_configure(AUTH_TICKET, &cfg.m[AUTH_TICKET], o, err, sizeof(err)));
	assert_string_equal(err, "require_channel_binding applies to cryptosign only");
	assert_true(auth_method_configure(AUTH_CRYPTOSIGN, &cfg.m[AUTH_CRYPTOSIGN], o, err,
	                                  sizeof(err)));
	assert_string_equal(auth_config_tls_only(&cfg, &m), "require_channel_binding");
	assert_int_equal(m, AUTH_CRYPTOSIGN);
	json_decref(o);
	o = json_pack("{s:s}", "require_channel_binding", "yes");
	assert_false(auth_method_configure(AUTH_CRYPTOSIGN, &cfg.m[AUTH_CRYPTOSIGN], o, err,
	                                   sizeof(err)));
	assert_string_equal(err, "require_channel_binding must be true or false");
	json_decref(o);
	auth_config_clear(&cfg);
}

/* A method configured "refused" (what a Crossbar function authenticator becomes): picked
 * like any, answered NOT_AUTHORIZED with its message; the listener's other methods serve. */
static void test_refused_method(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL, *d;

	(void)state;
	add(&cfg, AUTH_WAMPCRA, "peter", "user", json_pack("{s:s}", "secret", "s"));
	cfg.m[AUTH_TICKET].enabled = true;
	cfg.m[AUTH_TICKET].refusal = strdup("ticket logins are not available");
	d = hello("[\"ticket\", \"wampcra\"]", "joe", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_NOT_AUTHORIZED);
	assert_string_equal(st.refusal, "ticket logins are not available");
	assert_null(extra);
	assert_null(id.authid);
	auth_pending_clear(&st);
	json_decref(d);
	d = hello("[\"wampcra\", \"ticket\"]", "peter", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_null(st.refusal);
	json_decref(extra);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
}

/* tls: a principal named by its certificate's SHA-1 fingerprint (Crossbar's
 * certificate-sha1) is that certificate's only, whatever its common name; the others by
 * common name, or the method's role. */
static void test_tls_fingerprints(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL, *d = hello("[\"tls\"]", "whoever", NULL);
	uint8_t sha1[20], other[20];
	struct auth_transport tr = {.tls_cn = "device-7", .cert_sha1 = sha1};
	struct auth_principal *p = calloc(1, sizeof(*p));
	char err[256] = "";
	json_t *o;

	(void)state;
	for (int i = 0; i < 20; i++) {
		sha1[i] = (uint8_t)(0xe0 + i);
		other[i] = (uint8_t)i;
	}
	add(&cfg, AUTH_TLS, "client_0", "backend", json_pack("{s:s}", "certificate-sha1",
	    "E0:E1:E2:E3:E4:E5:E6:E7:E8:E9:EA:EB:EC:ED:EE:EF:F0:F1:F2:F3"));
	add(&cfg, AUTH_TLS, "device-7", "device", json_object());
	/* the fingerprint's principal, though the CN names another */
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_WELCOME);
	assert_string_equal(id.authid, "client_0");
	assert_string_equal(id.authrole, "backend");
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	/* another certificate: by its CN */
	tr.cert_sha1 = other;
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_string_equal(id.authid, "device-7");
	assert_string_equal(id.authrole, "device");
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	/* ... but a fingerprint principal is never reached by its name as CN */
	tr.tls_cn = "client_0";
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	tr.cert_sha1 = NULL;
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
	/* the fingerprint's shape: 20 bytes, colons or not */
	p->authid = strdup("x");
	p->role = strdup("r");
	o = json_pack("{s:s}", "certificate-sha1", "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3");
	assert_true(auth_principal_configure(AUTH_TLS, p, o, err, sizeof(err)));
	assert_memory_equal(p->cred, sha1, 20);
	json_decref(o);
	for (const char *const *bad = (const char *const[]){"E0:E1", "zz", "", "e0e1e2e3e4e5e6e7e8e9"
	     "eaebecedeeeff0f1f2f3f4", "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f", NULL}; *bad; bad++) {
		free(p->cred);
		p->cred = NULL;
		o = json_pack("{s:s}", "certificate-sha1", *bad);
		assert_false(auth_principal_configure(AUTH_TLS, p, o, err, sizeof(err)));
		assert_non_null(strstr(err, "certificate-sha1 must be a SHA-1 fingerprint"));
		json_decref(o);
	}
	auth_principal_free(p);
}

static void test_dynamic_steps(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra, *d, *args, *answer;

	(void)state;
	cfg.m[AUTH_TICKET].enabled = true;
	cfg.m[AUTH_TICKET].dynamic = true;
	cfg.m[AUTH_WAMPCRA].enabled = true;
	cfg.m[AUTH_WAMPCRA].dynamic = true;

	/* ticket: CHALLENGE first, then the authenticator decides on the ticket */
	d = hello("[\"ticket\"]", "joe", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 7, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	json_decref(extra);
	assert_int_equal(auth_authenticate(&st, "tkt", 3, NULL, &step, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_DYNAMIC);
	args = auth_dynamic_args(&st, d, NULL, "tkt");
	assert_string_equal(json_string_value(json_array_get(args, 0)), "realm1");
	assert_string_equal(json_string_value(json_array_get(args, 1)), "joe");
	assert_string_equal(wamp_dict_str(json_array_get(args, 2), "ticket", ""), "tkt");
	assert_int_equal(wamp_dict_int(json_array_get(args, 2), "session", 0), 7);
	json_decref(args);
	/* a resume's token is not for the authenticator; the rest of the request is */
	json_object_set_new(d, "resume", json_pack("{s:I, s:s, s:i}", "session", (json_int_t)99,
	                                           "token", "secret-token", "received", 3));
	args = auth_dynamic_args(&st, d, NULL, "tkt");
	assert_null(json_object_get(json_object_get(json_array_get(args, 2), "resume"), "token"));
	assert_int_equal(wamp_dict_int(json_object_get(json_array_get(args, 2), "resume"),
	                               "session", 0), 99);
	assert_non_null(json_object_get(json_object_get(d, "resume"), "token")); /* d unchanged */
	json_decref(args);
	answer = json_pack("{s:s, s:{s:i}}", "role", "dyn", "extra", "x", 1);
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_WELCOME);
	assert_string_equal(id.authrole, "dyn");
	assert_string_equal(id.authprovider, "dynamic");
	assert_int_equal(wamp_dict_int(id.authextra, "x", 0), 1);
	json_decref(answer);
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(d);

	/* wampcra: the authenticator supplies the secret, then the usual challenge */
	d = hello("[\"wampcra\"]", "amy", NULL);
	assert_int_equal(auth_hello(&cfg, "realm1", d, 7, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_DYNAMIC);
	answer = json_pack("{s:s, s:s}", "role", "user", "secret", "k");
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	{
		char *sig = auth_wampcra_sign("k", wamp_dict_str(extra, "challenge", ""));

		assert_int_equal(auth_authenticate(&st, sig, strlen(sig), NULL, &step, &id), WAMPD_OK);
		assert_string_equal(id.authid, "amy");
		free(sig);
	}
	json_decref(answer);
	json_decref(extra);
	auth_identity_clear(&id);
	/* an unusable answer */
	answer = json_pack("{s:i}", "nonsense", 1);
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(answer);
	auth_pending_clear(&st);
	json_decref(d);

	/* cryptosign: the authenticator names the one key that may sign (no key in the
	 * answer: refused); a signature by another key fails */
	cfg.m[AUTH_CRYPTOSIGN].enabled = true;
	cfg.m[AUTH_CRYPTOSIGN].dynamic = true;
	{
		uint8_t seed[32] = {0}, pk[32], sk[64], other_pk[32], other_sk[64], chal[32];
		uint8_t blob[96];
		char pk_hex[65], sig_hex[193];
		size_t n;

		crypto_sign_seed_keypair(pk, sk, seed);
		seed[0] = 1;
		crypto_sign_seed_keypair(other_pk, other_sk, seed);
		sodium_bin2hex(pk_hex, sizeof(pk_hex), pk, 32);
		d = hello("[\"cryptosign\"]", "carl", pk_hex);
		assert_int_equal(auth_hello(&cfg, "realm1", d, 7, NULL, &ids, &st, &step, &extra, &id),
		                 WAMPD_OK);
		assert_int_equal(step, AUTH_STEP_DYNAMIC);
		answer = json_pack("{s:s}", "role", "user");
		assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		json_decref(answer);
		answer = json_pack("{s:s, s:s}", "role", "user", "pubkey", pk_hex);
		assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id), WAMPD_OK);
		assert_int_equal(step, AUTH_STEP_CHALLENGE);
		sodium_hex2bin(chal, 32, wamp_dict_str(extra, "challenge", ""), 64, NULL, &n, NULL);
		memcpy(blob + 64, chal, 32);
		crypto_sign_detached(blob, NULL, chal, 32, other_sk);
		sodium_bin2hex(sig_hex, sizeof(sig_hex), blob, 96);
		assert_int_equal(auth_authenticate(&st, sig_hex, 192, NULL, &step, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		crypto_sign_detached(blob, NULL, chal, 32, sk);
		sodium_bin2hex(sig_hex, sizeof(sig_hex), blob, 96);
		assert_int_equal(auth_authenticate(&st, sig_hex, 192, NULL, &step, &id), WAMPD_OK);
		assert_string_equal(id.authid, "carl");
		assert_string_equal(id.authmethod, "cryptosign");
		assert_string_equal(id.authprovider, "dynamic");
		json_decref(answer);
		json_decref(extra);
		auth_identity_clear(&id);
		auth_pending_clear(&st);
		json_decref(d);
	}
	auth_config_clear(&cfg);
}

/* #17 finding 10: a dynamic SCRAM HELLO asks the authenticator (before: an unknown-user
 * decoy challenge, so every login failed), whose answer (Crossbar's: hex salt and keys)
 * yields the challenge; the RFC 7677-style vector's proof then logs in. */
static void test_scram_dynamic(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL, *d, *args, *answer;
	const char *proof = "70O2c9eUz056Qvlc44dCmc9lL/HJSAmMTKa1t7UUWpY=";
	const char *stored = "14efbd8c16f7314ba4b7a8c99f38cf64e59ce68c3f3eee89b4fca3bb46aa684f";
	const char *server = "ab127549b992022e44712d09e4293f70a026ffe2316be2b0a7addfe0e1c3833a";

	(void)state;
	cfg.m[AUTH_SCRAM].enabled = true;
	cfg.m[AUTH_SCRAM].dynamic = true;
	d = json_pack("{s:[s], s:s, s:{s:s}}", "authmethods", "wamp-scram", "authid", "user",
	              "authextra", "nonce", "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(auth_hello(&cfg, "realm1", d, 9, NULL, &ids, &st, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_DYNAMIC);
	assert_null(extra);
	args = auth_dynamic_args(&st, d, NULL, NULL);
	assert_string_equal(json_string_value(json_array_get(args, 1)), "user");
	assert_string_equal(wamp_dict_str(json_array_get(args, 2), "authmethod", ""), "scram");
	json_decref(args);

	/* unusable answers: no keys; a base64 salt (Crossbar's answer is hex); no role */
	answer = json_pack("{s:s, s:s, s:i, s:s}", "role", "user", "kdf", "pbkdf2", "iterations",
	                   4096, "salt", "4125c247e43ab1e93c6dff76");
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(answer);
	answer = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "role", "user", "kdf", "pbkdf2",
	                   "iterations", 4096, "salt", "QSXCR+Q6sek8bf92", "stored-key", stored,
	                   "server-key", server);
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(answer);
	answer = json_pack("{s:s, s:i, s:s, s:s, s:s}", "kdf", "pbkdf2", "iterations", 4096, "salt",
	                   "4125c247e43ab1e93c6dff76", "stored-key", stored, "server-key", server);
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	json_decref(answer);

	answer = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "role", "user", "kdf", "pbkdf2",
	                   "iterations", 4096, "memory", 0, "salt", "4125c247e43ab1e93c6dff76",
	                   "stored-key", stored, "server-key", server);
	assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id), WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_CHALLENGE);
	assert_string_equal(wamp_dict_str(extra, "salt", ""), "QSXCR+Q6sek8bf92");
	assert_string_equal(wamp_dict_str(extra, "kdf", ""), "pbkdf2");
	assert_int_equal(wamp_dict_int(extra, "iterations", 0), 4096);
	assert_int_equal(strncmp(wamp_dict_str(extra, "nonce", ""), "rOprNGfwEbeRWgbNEkqO", 20), 0);
	json_decref(answer);
	json_decref(extra);

	/* the vector's server nonce instead of the random one: its proof is the right one */
	{
		struct auth_scram_state *ss = st.state;

		free(ss->nonce);
		ss->nonce = strdup("rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
		extra = json_pack("{s:s}", "nonce", ss->nonce);
	}
	assert_int_equal(auth_authenticate(&st, "AAAA", 4, extra, &step, &id), WAMPD_ERR_AUTH_FAILED);
	assert_int_equal(auth_authenticate(&st, proof, strlen(proof), extra, &step, &id), WAMPD_OK);
	assert_string_equal(id.authid, "user");
	assert_string_equal(id.authrole, "user");
	assert_string_equal(id.authprovider, "dynamic");
	assert_string_equal(wamp_dict_str(id.authextra, "verifier", ""),
	                    "FIa3WsnTFmtTKLhQzYSEIzASTNc458nnNQh4vthNKYg=");
	json_decref(extra);
	auth_identity_clear(&id);
	auth_pending_clear(&st);
	json_decref(d);

	/* a HELLO without a client nonce never reaches the authenticator */
	d = json_pack("{s:[s], s:s}", "authmethods", "wamp-scram", "authid", "user");
	assert_int_equal(auth_hello(&cfg, "realm1", d, 9, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_AUTH_FAILED);
	auth_pending_clear(&st);
	json_decref(d);
	auth_config_clear(&cfg);
}

/* Dynamic tls (Crossbar's): the authenticator is asked with the certificate's CN as authid
 * and the transport's certificate facts in details.transport.client_cert / peer_cert, never
 * what HELLO claims (its own "transport", authid, authextra), never the channel binding;
 * its answer (a role, or {role, authid, extra}) completes the login, an unusable one
 * refuses it; without a verified certificate the method is not chosen at all (nobody is
 * asked). */
static void test_tls_dynamic(void **state)
{
	struct auth_config cfg = {0};
	struct auth_pending st;
	struct auth_identity id = {0};
	enum auth_step step;
	json_t *extra = NULL, *args, *details, *transport, *answer;
	uint8_t sha1[20], chan[32];
	json_t *cert = json_pack("{s:s, s:{s:s}, s:{s:s}, s:i}", "sha1", "E0:E1:E2",
	                         "subject", "cn", "device-7", "issuer", "cn", "wampd test CA",
	                         "serial", 4660);
	struct auth_transport tr = {.tls_cn = "device-7", .cert_sha1 = sha1, .channel_id = chan,
	                            .cert = cert};
	/* a HELLO claiming someone else's certificate, authid and the router's own keys */
	json_t *d = json_pack("{s:[s], s:s, s:{s:s}, s:{s:{s:s, s:{s:s}}}, s:i, s:s}",
	                      "authmethods", "tls", "authid", "admin", "authextra", "cn", "admin",
	                      "transport", "client_cert", "sha1", "00:11:22", "subject", "cn",
	                      "admin", "session", 999, "authmethod", "ticket");
	const char *answers[] = {"\"device\"", "{\"role\": \"backend\", \"authid\": \"client_0\", "
	                         "\"extra\": {\"a\": 1}}"};
	char *text;

	(void)state;
	memset(sha1, 0xe0, sizeof(sha1));
	memset(chan, 0xc7, sizeof(chan));
	cfg.m[AUTH_TLS].enabled = true;
	assert_false(auth_config_asks(&cfg)); /* static: no authenticator sees a certificate */
	assert_false(auth_config_asks(NULL));
	cfg.m[AUTH_TLS].dynamic = true;
	assert_true(auth_config_asks(&cfg));

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra,
		                            &id), WAMPD_OK);
		assert_int_equal(step, AUTH_STEP_DYNAMIC);
		assert_null(extra);
		args = auth_dynamic_args(&st, d, &tr, NULL);
		assert_non_null(args);
		assert_string_equal(json_string_value(json_array_get(args, 0)), "realm1");
		assert_string_equal(json_string_value(json_array_get(args, 1)), "device-7"); /* CN */
		details = json_array_get(args, 2);
		assert_int_equal(wamp_dict_int(details, "session", 0), 42);
		assert_string_equal(wamp_dict_str(details, "authmethod", ""), "tls");
		transport = json_object_get(details, "transport");
		assert_int_equal(json_object_size(transport), 2); /* no channel_id, nothing else */
		assert_true(json_equal(json_object_get(transport, "client_cert"), cert));
		assert_true(json_equal(json_object_get(transport, "peer_cert"), cert));
		/* the channel binding appears nowhere (its hex, either case, or its base64) */
		text = json_dumps(args, 0);
		assert_null(strstr(text, "c7c7c7c7"));
		assert_null(strstr(text, "C7C7C7C7"));
		assert_null(strstr(text, "x8fHx8fH"));
		free(text);
		json_decref(args);
		answer = json_loads(answers[i], JSON_DECODE_ANY, NULL);
		assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id), WAMPD_OK);
		assert_int_equal(step, AUTH_STEP_WELCOME);
		assert_null(extra);
		assert_string_equal(id.authid, i == 0 ? "device-7" : "client_0");
		assert_string_equal(id.authrole, i == 0 ? "device" : "backend");
		assert_string_equal(id.authmethod, "tls");
		assert_string_equal(id.authprovider, "dynamic");
		if (i == 0)
			assert_null(id.authextra);
		else
			assert_int_equal(wamp_dict_int(id.authextra, "a", 0), 1);
		json_decref(answer);
		auth_identity_clear(&id);
		auth_pending_clear(&st);
	}

	/* unusable answers refuse: no role, a role that is no string, not a role or dict */
	for (const char *const *bad = (const char *const[]){"{\"authid\": \"x\"}",
	     "{\"role\": 7}", "7", "[\"device\"]", "null", NULL}; *bad; bad++) {
		assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra,
		                            &id), WAMPD_OK);
		answer = json_loads(*bad, JSON_DECODE_ANY, NULL);
		assert_int_equal(auth_dynamic_principal(&st, answer, &step, &extra, &id),
		                 WAMPD_ERR_AUTH_FAILED);
		assert_null(id.authid);
		json_decref(answer);
		auth_pending_clear(&st);
	}

	/* no verified certificate (plain, or TLS without one): tls is no method to choose, so
	 * HELLO is refused before any authenticator is asked, whatever it claims */
	for (int plain = 0; plain < 2; plain++) {
		struct auth_transport none = {.channel_id = plain ? NULL : chan};

		assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &none, &ids, &st, &step, &extra,
		                            &id), WAMPD_ERR_NO_AUTH_METHOD);
		auth_pending_clear(&st);
	}
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, NULL, &ids, &st, &step, &extra, &id),
	                 WAMPD_ERR_NO_AUTH_METHOD);
	auth_pending_clear(&st);
	json_decref(d);

	/* a client offering no method: tls (a verified certificate), asked likewise; another
	 * method's authenticator sees no certificate claimed in HELLO either */
	d = json_object();
	assert_int_equal(auth_hello(&cfg, "realm1", d, 42, &tr, &ids, &st, &step, &extra, &id),
	                 WAMPD_OK);
	assert_int_equal(step, AUTH_STEP_DYNAMIC);
	args = auth_dynamic_args(&st, d, NULL, "tkt");
	transport = json_object_get(json_array_get(args, 2), "transport");
	assert_true(json_is_null(json_object_get(transport, "client_cert")));
	assert_true(json_is_null(json_object_get(transport, "peer_cert")));
	json_decref(args);
	auth_pending_clear(&st);
	json_decref(d);
	json_decref(cert);
	auth_config_clear(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wampcra_vectors),
		cmocka_unit_test(test_str_equal),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_method_selection_and_ticket),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_wampcra_flow),
		cmocka_unit_test(test_cryptosign_vector_and_flow),
		cmocka_unit_test(test_scram_vector),
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_refused_method),
		cmocka_unit_test(test_tls_fingerprints),
		cmocka_unit_test(test_dynamic_steps),
		cmocka_unit_test(test_scram_dynamic),
		cmocka_unit_test(test_tls_dynamic),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
