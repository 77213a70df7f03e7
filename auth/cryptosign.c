/*
 * cryptosign.c - WAMP-Cryptosign client authentication (advanced/authentication_cryptosign.md).
 *
 * The client announces its Ed25519 public key (HELLO.Details.authextra.pubkey, hex); the
 * router finds the principal by authid, or by that key among all principals when no authid
 * is given, and checks the key is one of the principal's authorized keys. The challenge is
 * 32 random bytes (hex); the client returns hex(signature(64) || message(32)) where the
 * message is the challenge, XORed with the TLS channel id when channel binding
 * "tls-unique" is in use. libsodium verifies the detached signature.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "common/hex.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"

/* Parse 64 hex characters into 32 bytes. */
static bool hex32(const char *hex, uint8_t out[32])
{
	size_t n = 0;

	return hex && strlen(hex) == 64 && hex_decode(hex, 64, out, 32, &n);
}

static bool principal_has_key(const struct auth_principal *p, const uint8_t key[32])
{
	for (size_t i = 0; i < p->npubkeys; i++)
		if (sodium_memcmp(p->pubkeys[i], key, 32) == 0)
			return true;
	return false;
}

enum wampd_err auth_cryptosign_challenge(struct auth_pending *st, json_t **extra)
{
	char hex[65];

	ids_random(st->nonce, 32);
	sodium_bin2hex(hex, sizeof(hex), st->nonce, 32);
	*extra = json_pack("{s:s, s:n}", "challenge", hex, "channel_binding");
	if (*extra && st->channel_id)
		json_object_set_new(*extra, "channel_binding", json_string("tls-unique"));
	return *extra ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

enum wampd_err auth_cryptosign_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                     const json_t *details, enum auth_step *step,
                                     json_t **extra)
{
	const json_t *authextra = json_object_get(details, "authextra");
	const char *pubkey = wamp_dict_str(authextra, "pubkey", NULL);
	struct auth_principal *p = NULL, *it, *tmp;
	uint8_t key[32];

	if (!hex32(pubkey, key))
		return WAMPD_ERR_AUTH_FAILED;
	if (st->authid) {
		p = auth_find_principal(mc, st->authid, st->realm);
		if (p && !principal_has_key(p, key))
			p = NULL;
	} else {
		HASH_ITER(hh, mc->principals, it, tmp) {
			if ((!it->realm || !strcmp(it->realm, st->realm)) && principal_has_key(it, key)) {
				p = it;
				break;
			}
		}
	}
	if (!p)
		return WAMPD_ERR_AUTH_FAILED;
	st->principal = p;
	*step = AUTH_STEP_CHALLENGE;
	/* the key that must have signed, kept as hex (st->nonce holds the challenge) */
	if (!(st->challenge = strdup(pubkey)))
		return WAMPD_ERR_NOMEM;
	return auth_cryptosign_challenge(st, extra);
}

enum wampd_err auth_cryptosign_verify(struct auth_pending *st, const char *sig, size_t len,
                                      const char *provider, struct auth_identity *id)
{
	struct auth_principal *p = st->principal;
	uint8_t blob[96], msg[32], key[32];
	size_t n = 0;
	bool key_ok = false;

	if (!p || len != 192 || !hex_decode(sig, len, blob, sizeof(blob), &n))
		return WAMPD_ERR_AUTH_FAILED;
	memcpy(msg, st->nonce, 32);
	if (st->channel_id)
		for (int i = 0; i < 32; i++)
			msg[i] ^= st->channel_id[i];
	/* the signed message must be our challenge */
	if (sodium_memcmp(blob + 64, msg, 32) != 0)
		return WAMPD_ERR_AUTH_FAILED;
	/* the key the client announced (static), or any key of the principal (dynamic) */
	if (st->challenge && hex32(st->challenge, key))
		key_ok = crypto_sign_verify_detached(blob, msg, 32, key) == 0;
	else
		for (size_t i = 0; i < p->npubkeys && !key_ok; i++)
			key_ok = crypto_sign_verify_detached(blob, msg, 32, p->pubkeys[i]) == 0;
	if (!key_ok)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_set(id, p->authid, p->role, AUTH_CRYPTOSIGN, provider, p->authextra);
}
