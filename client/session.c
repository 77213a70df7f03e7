/*
 * session.c - the session's life: HELLO (roles, features, authentication offer), CHALLENGE
 * -> AUTHENTICATE, WELCOME (then the restore of subscriptions and registrations and the
 * offline queue), ABORT, and GOODBYE in both directions.
 *
 * Authentication is a table of methods (auth_ops), in the order of preference they are
 * offered in (the router picks the first it enables, in the client's order): tls (the
 * client certificate of the TLS handshake names the client; no CHALLENGE), cryptosign,
 * wampcra, ticket, anonymous. Each method with a CHALLENGE has a `sign` operation that
 * turns CHALLENGE.Extra into the AUTHENTICATE signature:
 *   ticket      the ticket itself;
 *   wampcra     base64(HMAC-SHA256(key, extra.challenge)), key = the secret, or for a salted
 *               secret Autobahn's derive_key(secret, salt, iterations, keylen) (PBKDF2-HMAC-
 *               SHA256, auth/wampcra_key.c, shared with the router); iterations and keylen
 *               from the router are bounded (a router cannot make a device spin);
 *   cryptosign  hex(Ed25519 signature || message), message = the 32 challenge bytes, XORed
 *               with the TLS channel's tls-unique when channel binding is on (libsodium).
 * A CHALLENGE for a method not offered ends the attempt (ABORT authentication_failed).
 * Signatures and derived keys are wiped after use; secrets when the client is freed.
 *
 * Reconnect policy: every end of a session (ABORT included) is followed by a new attempt
 * when reconnect is on, with the backoff of engine.c; the WAMPC_LEFT event carries the
 * reason so the application can stop (wampc_leave) on the ones it considers final.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "client/wampc_internal.h"
#ifdef WAMPC_HAVE_WAMPCRA
#include "auth/auth.h"
#endif

#define CRA_MAX_ITERATIONS 1000000 /* Autobahn's default is 1000; Crossbar's examples 100s */
#define CRA_MAX_KEYLEN 256

/* ------------------------------------------------------------------- the methods */

static enum wampd_err sign_ticket(wampc *c, const json_t *extra, char **sig)
{
	return (*sig = strdup(c->ticket)) ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

#ifdef WAMPC_HAVE_WAMPCRA
static enum wampd_err sign_wampcra(wampc *c, const json_t *extra, char **sig)
{
	const char *challenge = wamp_dict_str(extra, "challenge", NULL);
	const char *salt = wamp_dict_str(extra, "salt", NULL);
	int64_t iterations = wamp_dict_int(extra, "iterations", 1000);
	int64_t keylen = wamp_dict_int(extra, "keylen", 32);
	char *key = NULL;

	if (!challenge)
		return WAMPD_ERR_AUTH_FAILED;
	if (salt) {
		if (iterations < 1 || iterations > CRA_MAX_ITERATIONS || keylen < 1 ||
		    keylen > CRA_MAX_KEYLEN)
			return WAMPD_ERR_AUTH_FAILED;
		if (!(key = auth_wampcra_derive_key(c->secret, salt, (uint32_t)iterations,
		                                    (uint32_t)keylen)))
			return WAMPD_ERR_NOMEM;
	}
	*sig = auth_wampcra_sign(key ? key : c->secret, challenge);
	if (key) {
		sodium_memzero(key, strlen(key));
		free(key);
	}
	return *sig ? WAMPD_OK : WAMPD_ERR_NOMEM;
}
#endif

#ifdef WAMPC_HAVE_CRYPTOSIGN
static enum wampd_err sign_cryptosign(wampc *c, const json_t *extra, char **sig)
{
	const char *hex = wamp_dict_str(extra, "challenge", NULL);
	const char *binding = wamp_dict_str(extra, "channel_binding", NULL);
	uint8_t msg[32], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	uint8_t blob[crypto_sign_BYTES + 32];
	size_t n = 0;

	if (!hex || strlen(hex) != 64 || sodium_hex2bin(msg, 32, hex, 64, NULL, &n, NULL) != 0 ||
	    n != 32)
		return WAMPD_ERR_AUTH_FAILED;
	if (binding && (strcmp(binding, "tls-unique") || !c->have_binding))
		return WAMPD_ERR_AUTH_FAILED; /* a binding we cannot compute */
	if (c->have_binding)
		for (int i = 0; i < 32; i++)
			msg[i] ^= c->binding[i];
	crypto_sign_seed_keypair(pk, sk, c->seed);
	crypto_sign_detached(blob, NULL, msg, 32, sk);
	sodium_memzero(sk, sizeof(sk));
	memcpy(blob + crypto_sign_BYTES, msg, 32);
	if (!(*sig = malloc(2 * sizeof(blob) + 1)))
		return WAMPD_ERR_NOMEM;
	sodium_bin2hex(*sig, 2 * sizeof(blob) + 1, blob, sizeof(blob));
	return WAMPD_OK;
}

/* HELLO.Details.authextra.pubkey: the public key of the seed, hex. */
static bool cryptosign_pubkey(wampc *c, char hex[65])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pk, sk, c->seed);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2hex(hex, 65, pk, sizeof(pk));
	return true;
}
#endif

static const struct auth_op {
	const char *name;
	unsigned bit;
	enum wampd_err (*sign)(wampc *c, const json_t *extra, char **sig);
} auth_ops[] = {
	{"tls", WAMPC_AUTH_TLS, NULL},
#ifdef WAMPC_HAVE_CRYPTOSIGN
	{"cryptosign", WAMPC_AUTH_CRYPTOSIGN, sign_cryptosign},
#endif
#ifdef WAMPC_HAVE_WAMPCRA
	{"wampcra", WAMPC_AUTH_WAMPCRA, sign_wampcra},
#endif
	{"ticket", WAMPC_AUTH_TICKET, sign_ticket},
	{"anonymous", WAMPC_AUTH_ANONYMOUS, NULL},
};

#define N_AUTH (sizeof(auth_ops) / sizeof(auth_ops[0]))

void session_free_secrets(wampc *c)
{
	if (c->ticket)
		sodium_memzero(c->ticket, strlen(c->ticket));
	if (c->secret)
		sodium_memzero(c->secret, strlen(c->secret));
	if (c->seed)
		sodium_memzero(c->seed, CRYPTOSIGN_SEED_LEN);
	sodium_memzero(c->binding, sizeof(c->binding));
	free(c->ticket);
	free(c->secret);
	free(c->seed);
	c->ticket = c->secret = NULL;
	c->seed = NULL;
}

/* ------------------------------------------------------------------------ HELLO */

/* The roles a client can announce, with the features each implements (all true). */
static const char *const caller_features[] = {"progressive_call_results", "call_canceling",
                                              "call_timeout", "caller_identification", NULL};
static const char *const callee_features[] = {"progressive_call_results", "call_canceling",
                                              "pattern_based_registration",
                                              "shared_registration", NULL};
static const char *const publisher_features[] = {"publisher_exclusion",
                                                 "subscriber_blackwhite_listing",
                                                 "publisher_identification", NULL};
static const char *const subscriber_features[] = {"pattern_based_subscription",
                                                  "publisher_identification", NULL};

static const struct role {
	const char *name;
	unsigned bit;
	const char *const *features;
} roles[] = {
	{"caller", WAMPC_ROLE_CALLER, caller_features},
	{"callee", WAMPC_ROLE_CALLEE, callee_features},
	{"publisher", WAMPC_ROLE_PUBLISHER, publisher_features},
	{"subscriber", WAMPC_ROLE_SUBSCRIBER, subscriber_features},
};

/* HELLO.Details.roles: the announced roles (c->roles) with their features. */
static json_t *hello_roles(const wampc *c)
{
	json_t *all = json_object();

	for (size_t i = 0; all && i < sizeof(roles) / sizeof(roles[0]); i++) {
		json_t *f;

		if (!(c->roles & roles[i].bit))
			continue;
		if (!(f = json_object()) ||
		    json_object_set_new(all, roles[i].name, json_pack("{s:o}", "features", f)) != 0) {
			json_decref(all);
			return NULL;
		}
		for (const char *const *n = roles[i].features; *n; n++)
			if (json_object_set_new(f, *n, json_true()) != 0) {
				json_decref(all);
				return NULL;
			}
	}
	return all;
}

enum wampd_err session_hello(wampc *c)
{
	json_t *d = json_object(), *methods = json_array(), *extra = NULL;
	struct wamp_msg m = {.type = WAMP_HELLO, .uri = c->realm, .uri_len = strlen(c->realm)};
	enum wampd_err err = WAMPD_ERR_NOMEM;
	bool ok = d && methods;

	for (size_t i = 0; ok && i < N_AUTH; i++)
		if (c->authmethods & auth_ops[i].bit)
			ok = json_array_append_new(methods, json_string(auth_ops[i].name)) == 0;
	if (ok && (c->authextra || c->have_binding || (c->authmethods & WAMPC_AUTH_CRYPTOSIGN)))
		ok = (extra = c->authextra ? json_deep_copy(c->authextra) : json_object()) != NULL;
#ifdef WAMPC_HAVE_CRYPTOSIGN
	if (ok && (c->authmethods & WAMPC_AUTH_CRYPTOSIGN)) {
		char hex[65];

		ok = cryptosign_pubkey(c, hex) &&
		     json_object_set_new(extra, "pubkey", json_string(hex)) == 0;
	}
#endif
	if (ok && extra && c->have_binding)
		ok = json_object_set_new(extra, "channel_binding", json_string("tls-unique")) == 0;
	ok = ok && json_object_set_new(d, "roles", hello_roles(c)) == 0 &&
	     json_object_set_new(d, "agent", json_string("wampc/" WAMPC_VERSION)) == 0 &&
	     /* anonymous without an authid is what a HELLO without authmethods means */
	     ((c->authmethods == WAMPC_AUTH_ANONYMOUS && !c->authid) ||
	      json_object_set_new(d, "authmethods", json_incref(methods)) == 0) &&
	     (!c->authid || json_object_set_new(d, "authid", json_string(c->authid)) == 0) &&
	     (!extra || json_object_set_new(d, "authextra", json_incref(extra)) == 0) &&
	     resume_hello(c, d);
	if (ok) {
		m.dict = d;
		err = wampc_send(c, &m, true);
	}
	json_decref(extra);
	json_decref(methods);
	json_decref(d);
	return err;
}

/* -------------------------------------------------------------------- CHALLENGE */

void session_on_challenge(wampc *c, struct wamp_msg *m)
{
	const struct auth_op *op = NULL;
	enum wampd_err err;
	char *sig = NULL;

	for (size_t i = 0; i < N_AUTH && !op; i++)
		if ((c->authmethods & auth_ops[i].bit) && auth_ops[i].sign &&
		    !strcmp(auth_ops[i].name, m->uri))
			op = &auth_ops[i];
	if (!op) {
		wampc_fail(c, WAMPD_ERR_AUTH_FAILED, "CHALLENGE for a method not offered", true);
		return;
	}
	if ((err = op->sign(c, m->dict, &sig)) != WAMPD_OK) {
		wampc_fail(c, err == WAMPD_ERR_NOMEM ? err : WAMPD_ERR_AUTH_FAILED,
		           "the CHALLENGE cannot be answered", true);
		return;
	}
	{
		struct wamp_msg a = {.type = WAMP_AUTHENTICATE, .uri = sig, .uri_len = strlen(sig)};

		if ((err = wampc_send(c, &a, true)) != WAMPD_OK)
			wampc_fail(c, err, NULL, false);
	}
	sodium_memzero(sig, strlen(sig));
	free(sig);
}

/* ---------------------------------------------------------------------- WELCOME */

void session_on_welcome(wampc *c, struct wamp_msg *m)
{
	struct wampc_session_info info = {.event = WAMPC_JOINED};

	switch (resume_on_welcome(c, m)) {
	case RW_FAILED:
		wampc_fail(c, WAMPD_ERR_PROTOCOL, "WELCOME resumed with an impossible count", true);
		return;
	case RW_RESUMED: /* the same session: nothing to restore, nothing lost */
		c->session = m->id[0];
		c->state = ST_JOINED;
		c->t_state = 0;
		c->attempts = 0;
		c->stats.resumes++;
		pubsub_flush_offline(c);
		info.event = WAMPC_RESUMED;
		info.session = c->session;
		info.details = (const wampc_value *)m->dict;
		wampc_session_event(c, &info);
		return;
	case RW_OVER: /* the router has no such session any more: it ended while we were away */
		wampc_set_close_reason(c, wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST), NULL);
		wampc_session_over(c, true);
		if (c->state != ST_HELLO)
			return; /* the application left in its callback */
		break;
	case RW_NONE:
		break;
	}
	c->session = m->id[0];
	c->state = ST_JOINED;
	c->t_state = 0;
	c->attempts = 0;
	c->stats.joins++;
	resume_start(c, m); /* before anything is sent: it is all counted */
	handles_restore(c);
	pubsub_flush_offline(c);
	info.session = c->session;
	info.authid = wamp_dict_str(m->dict, "authid", NULL);
	info.authrole = wamp_dict_str(m->dict, "authrole", NULL);
	info.authmethod = wamp_dict_str(m->dict, "authmethod", NULL);
	info.details = (const wampc_value *)m->dict;
	wampc_session_event(c, &info);
}

/* ------------------------------------------------------------- ABORT, GOODBYE */

void session_on_abort(wampc *c, struct wamp_msg *m)
{
	resume_refused(c); /* an ABORT answering a resume: that session is over */
	wampc_set_close_reason(c, m->uri, m->dict);
	wampc_close(c);
}

void session_on_goodbye(wampc *c, struct wamp_msg *m)
{
	if (c->state == ST_JOINED) { /* the router ends the session: answer, then close */
		static const char out[] = "wamp.close.goodbye_and_out";
		struct wamp_msg g = {.type = WAMP_GOODBYE, .uri = out, .uri_len = sizeof(out) - 1};

		wampc_set_close_reason(c, m->uri, m->dict);
		wampc_send(c, &g, true);
	}
	wampc_close(c);
}
