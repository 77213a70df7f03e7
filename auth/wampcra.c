/*
 * wampcra.c - WAMP-CRA (advanced/authentication_cra.md).
 *
 * The challenge is a JSON object serialized to a string (authid, authrole, authmethod,
 * authprovider, a random nonce, a timestamp and the session id the client will get); the
 * client answers base64(HMAC-SHA256(key, challenge)). With a salted secret the key is the
 * base64 text of PBKDF2-HMAC-SHA256(password, salt, iterations, keylen), which is what the
 * configuration stores as "secret" (Crossbar's convention) and what Autobahn's derive_key()
 * computes on the client from the password and the salt/iterations/keylen sent in the
 * CHALLENGE. The key derivation and the signature themselves are in wampcra_key.c (the
 * client library uses them too).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_internal.h"
#include "common/ids.h"

enum wampd_err auth_wampcra_challenge(struct auth_pending *st, json_t **extra)
{
	struct auth_principal *p = st->principal;
	uint8_t nonce[16];
	char *nonce_b64, stamp[40];
	struct timespec ts;
	struct tm tm;
	json_t *c;

	ids_random(nonce, sizeof(nonce));
	if (!(nonce_b64 = auth_base64(nonce, sizeof(nonce))))
		return WAMPD_ERR_NOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03ldZ",
	         ts.tv_nsec / 1000000L);
	c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "authid", p->authid, "authrole",
	              p->role, "authmethod", "wampcra", "authprovider",
	              st->own_principal ? "dynamic" : "static", "nonce", nonce_b64, "timestamp",
	              stamp, "session", (json_int_t)st->session_id);
	free(nonce_b64);
	if (!c || !(st->challenge = json_dumps(c, JSON_COMPACT))) {
		json_decref(c);
		return WAMPD_ERR_NOMEM;
	}
	json_decref(c);
	*extra = json_pack("{s:s}", "challenge", st->challenge);
	if (*extra && p->salt) {
		json_object_set_new(*extra, "salt", json_string(p->salt));
		json_object_set_new(*extra, "iterations",
		                    json_integer(p->iterations ? p->iterations : 1000));
		json_object_set_new(*extra, "keylen", json_integer(p->keylen ? p->keylen : 32));
	}
	return *extra ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

enum wampd_err auth_wampcra_verify(struct auth_pending *st, const char *sig, size_t len,
                                   const char *provider, struct auth_identity *id)
{
	struct auth_principal *p = st->principal;
	char *expected;
	bool ok;

	if (!p || !st->challenge || !(expected = auth_wampcra_sign(p->secret, st->challenge)))
		return WAMPD_ERR_AUTH_FAILED;
	ok = auth_str_equal(sig, len, expected, strlen(expected));
	free(expected);
	if (!ok)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_set(id, p->authid, p->role, AUTH_WAMPCRA, provider, p->authextra);
}
