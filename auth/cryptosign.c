/*
 * cryptosign.c - WAMP-Cryptosign client authentication (advanced/authentication_cryptosign.md).
 *
 * The client announces its Ed25519 public key (HELLO.Details.authextra.pubkey, hex); the
 * router finds the principal by authid, or by that key among all principals when no authid
 * is given, and checks the key is one of the principal's authorized keys. The challenge is
 * 32 random bytes (hex); the client returns hex(signature(64) || message(32)) where the
 * message is the challenge, XORed with the TLS channel id when channel binding
 * "tls-unique" is in use. libsodium verifies the detached signature.
 *
 * The credential (p->cred) is the principal's list of authorized keys; the method's setting
 * (mc->opts) whether a HELLO must ask for channel binding; the challenge, the announced key
 * and the channel id wait in st->state for the signature.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "common/hex.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"

struct cryptosign_cred {
	size_t nkeys;
	uint8_t keys[][32];         /* authorized Ed25519 public keys */
};

struct cryptosign_opts {
	bool require_channel_binding; /* a HELLO without authextra.channel_binding "tls-unique"
	                                 is refused (TLS listeners only) */
};

/* Parse 64 hex characters into 32 bytes. */
static bool hex32(const char *hex, uint8_t out[32])
{
	size_t n = 0;

	return hex && strlen(hex) == 64 && hex_decode(hex, 64, out, 32, &n);
}

static bool principal_has_key(const struct auth_principal *p, const uint8_t key[32])
{
	const struct cryptosign_cred *cred = p->cred;

	for (size_t i = 0; cred && i < cred->nkeys; i++)
		if (sodium_memcmp(cred->keys[i], key, 32) == 0)
			return true;
	return false;
}

static struct cryptosign_cred *cryptosign_cred_new(struct auth_principal *p, size_t nkeys)
{
	struct cryptosign_cred *cred = calloc(1, sizeof(*cred) + nkeys * 32);

	return p->cred = cred;
}

static enum wampd_err cryptosign_challenge(struct auth_pending *st, json_t **extra)
{
	struct auth_cryptosign_state *state = st->state;
	char hex[65];

	ids_random(st->ids, state->nonce, 32);
	sodium_bin2hex(hex, sizeof(hex), state->nonce, 32);
	*extra = json_pack("{s:s, s:n}", "challenge", hex, "channel_binding");
	if (*extra && state->channel_id)
		json_object_set_new(*extra, "channel_binding", json_string("tls-unique"));
	return *extra ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

static enum wampd_err cryptosign_hello(const struct auth_method_config *mc,
                                       struct auth_pending *st, const json_t *details,
                                       const struct auth_transport *tr, enum auth_step *step,
                                       struct auth_identity *id)
{
	const struct cryptosign_opts *opts = mc->opts;
	const json_t *authextra = json_object_get(details, "authextra");
	const char *pubkey = wamp_dict_str(authextra, "pubkey", NULL);
	/* channel binding as the client asks for it (authextra.channel_binding): only
	 * tls-unique, and only where the transport has one */
	const char *cb = wamp_dict_str(authextra, "channel_binding", NULL);
	struct auth_cryptosign_state *state;
	struct auth_principal *p = NULL, *it, *tmp;

	(void)id;
	if (cb && (strcmp(cb, "tls-unique") || !tr || !tr->channel_id))
		return WAMPD_ERR_AUTH_FAILED;
	/* a man in the middle can strip the client's request for binding: the listener can
	 * insist on it */
	if (!cb && opts && opts->require_channel_binding)
		return WAMPD_ERR_AUTH_FAILED;
	if (!(state = st->state = calloc(1, sizeof(*state))))
		return WAMPD_ERR_NOMEM;
	state->channel_id = cb ? tr->channel_id : NULL;
	if (mc->dynamic)
		return auth_ask_first(step);

	if (!hex32(pubkey, state->key))
		return WAMPD_ERR_AUTH_FAILED;
	if (st->authid) {
		p = auth_find_principal(mc, st->authid, st->realm);
		if (p && !principal_has_key(p, state->key))
			p = NULL;
	} else {
		HASH_ITER(hh, mc->principals, it, tmp) {
			if ((!it->realm || !strcmp(it->realm, st->realm)) &&
			    principal_has_key(it, state->key)) {
				p = it;
				break;
			}
		}
	}
	if (!p)
		return WAMPD_ERR_AUTH_FAILED;
	st->principal = p;
	state->have_key = true; /* the key that must have signed */
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

static enum wampd_err cryptosign_authenticate(struct auth_pending *st, const char *sig,
                                              size_t len, const json_t *extra,
                                              enum auth_step *step, struct auth_identity *id)
{
	const struct auth_principal *p = st->principal;
	const struct auth_cryptosign_state *state = st->state;
	const struct cryptosign_cred *cred = p ? p->cred : NULL;
	uint8_t blob[96], msg[32];
	size_t n = 0;
	bool key_ok = false;

	(void)extra;
	(void)step;
	if (!cred || !state || len != 192 || !hex_decode(sig, len, blob, sizeof(blob), &n))
		return WAMPD_ERR_AUTH_FAILED;
	memcpy(msg, state->nonce, 32);
	if (state->channel_id)
		for (int i = 0; i < 32; i++)
			msg[i] ^= state->channel_id[i];
	/* the signed message must be our challenge */
	if (sodium_memcmp(blob + 64, msg, 32) != 0)
		return WAMPD_ERR_AUTH_FAILED;
	/* the key the client announced (static), or any key of the principal (dynamic) */
	if (state->have_key)
		key_ok = crypto_sign_verify_detached(blob, msg, 32, state->key) == 0;
	else
		for (size_t i = 0; i < cred->nkeys && !key_ok; i++)
			key_ok = crypto_sign_verify_detached(blob, msg, 32, cred->keys[i]) == 0;
	if (!key_ok)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_of(st, NULL, id);
}

/* The authenticator's {pubkey} (hex): the one key that may sign. */
static enum wampd_err cryptosign_answer(struct auth_pending *st, const json_t *answer,
                                        enum auth_step *step, struct auth_identity *id)
{
	uint8_t key[32];
	struct cryptosign_cred *cred;

	(void)id;
	if (!hex32(wamp_dict_str(answer, "pubkey", NULL), key))
		return WAMPD_ERR_AUTH_FAILED;
	if (!(cred = cryptosign_cred_new(st->principal, 1)))
		return WAMPD_ERR_NOMEM;
	memcpy(cred->keys[0], key, 32);
	cred->nkeys = 1;
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

/* "require_channel_binding": true or false. */
static bool cryptosign_configure(struct auth_method_config *mc, const json_t *o, char *err,
                                 size_t errlen)
{
	const json_t *binding = json_object_get(o, "require_channel_binding");
	struct cryptosign_opts *opts;

	if (!binding)
		return true;
	if (!json_is_boolean(binding))
		return auth_config_fail(err, errlen, "require_channel_binding must be true or false");
	if (!mc->opts && !(mc->opts = calloc(1, sizeof(*opts))))
		return auth_config_fail(err, errlen, "out of memory");
	opts = mc->opts;
	opts->require_channel_binding = json_is_true(binding);
	return true;
}

static const char *cryptosign_tls_only(const struct auth_method_config *mc)
{
	const struct cryptosign_opts *opts = mc->opts;

	/* tls-unique exists only on a TLS connection: nobody could ever log in */
	return opts && opts->require_channel_binding ? "require_channel_binding" : NULL;
}

/* "authorized_keys": a non-empty list of hex keys ("pubkey": one). */
static bool cryptosign_configure_principal(struct auth_principal *p, const json_t *o,
                                           char *err, size_t errlen)
{
	const char *pubkey = wamp_dict_str(o, "pubkey", NULL);
	const json_t *keylist = json_object_get(o, "authorized_keys");
	json_t *one = pubkey && !keylist ? json_pack("[s]", pubkey) : NULL;
	struct cryptosign_cred *cred = NULL;
	bool ok = true;

	if (one)
		keylist = one;
	if (!json_is_array(keylist) || !json_array_size(keylist))
		ok = auth_config_fail(err, errlen, "authorized_keys must be a non-empty list of hex keys");
	else if (!(cred = cryptosign_cred_new(p, json_array_size(keylist))))
		ok = auth_config_fail(err, errlen, "out of memory");
	for (size_t i = 0; ok && i < json_array_size(keylist); i++) {
		if (!hex32(json_string_value(json_array_get(keylist, i)), cred->keys[i]))
			ok = auth_config_fail(err, errlen, "authorized_keys[%zu] is not a 64-digit hex key",
			                      i);
		else
			cred->nkeys = i + 1;
	}
	json_decref(one);
	return ok;
}

static void cryptosign_free(void *cred_opts_or_state)
{
	free(cred_opts_or_state);
}

static const char *const cryptosign_settings[] = {"require_channel_binding", NULL};

const struct auth_method_ops auth_cryptosign_ops = {
	.name = "cryptosign",
	.principals = AUTH_PRINCIPALS_REQUIRED,
	.principals_key = "principals",
	.settings = cryptosign_settings,
	.hello = cryptosign_hello,
	.answer = cryptosign_answer,
	.challenge = cryptosign_challenge,
	.authenticate = cryptosign_authenticate,
	.configure = cryptosign_configure,
	.tls_only = cryptosign_tls_only,
	.configure_principal = cryptosign_configure_principal,
	.free_cred = cryptosign_free,
	.free_opts = cryptosign_free,
	.free_state = cryptosign_free,
};
