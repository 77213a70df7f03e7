/*
 * scram.c - WAMP-SCRAM (advanced/authentication_scram.md), in two dialects:
 *
 *   "wamp-scram" (the spec): SaltedPassword = KDF(password, salt) as 32 raw bytes, with
 *       kdf "argon2id13" or "pbkdf2"; AuthMessage ends in "c=" + Base64(CBindInput) + ",r=" +
 *       nonce; WELCOME.Details.authextra.verifier = Base64(ServerSignature).
 *   "scram" (what Autobahn|Python 22 sends): kdf "argon2id-13"; the HMAC key is the
 *       unpadded base64 text of the Argon2id hash; AuthMessage ends in "c=" + channel
 *       binding name (empty) + ",r=" + nonce; the server signature goes into
 *       authextra.scram_server_signature.
 *
 * The server stores per principal the salt, the KDF parameters and StoredKey/ServerKey
 * (derived once from a password at configuration load, or given). Verification:
 *   ClientSignature = HMAC(StoredKey, AuthMessage); ClientKey = ClientProof XOR
 *   ClientSignature; accept iff SHA256(ClientKey) == StoredKey (constant time).
 * An unknown authid gets a challenge with a random salt (and fails at the end), so the
 * exchange does not reveal which authids exist. A dynamic method asks the authenticator
 * first; its answer carries Crossbar's credentials (kdf, iterations, memory, and salt,
 * stored-key, server-key in hex, as Autobahn's derive_scram_credential makes them).
 *
 * The dialect is the name the client offered the method by (st->method_name). The
 * credential (p->cred) is the salt, the KDF parameters and the two keys; the nonces wait in
 * st->state for the proof.
 */
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "common/hex.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"

struct scram_cred {
	char *kdf;                  /* "argon2id13", "argon2id-13" (Autobahn) or "pbkdf2" */
	char *salt;                 /* base64 */
	uint32_t iterations;
	uint32_t memory;            /* argon2: KiB */
	uint8_t stored_key[32];
	uint8_t server_key[32];
};

/* Does the client speak Autobahn's dialect ("scram"), not the spec's ("wamp-scram")? */
static bool scram_autobahn(const struct auth_pending *st)
{
	return !strcmp(st->method_name, "scram");
}

static bool scram_autobahn_kdf(const char *kdf)
{
	return kdf && !strcmp(kdf, "argon2id-13");
}

static void hmac256(const uint8_t *key, size_t keylen, const void *msg, size_t len,
                    uint8_t out[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, out);
}

bool auth_scram_derive(const char *kdf, const char *password, const char *salt_b64,
                       uint32_t iterations, uint32_t memory, uint8_t stored_key[32],
                       uint8_t server_key[32])
{
	uint8_t salt[64], salted[32], client_key[32];
	char salted_b64[64];
	const uint8_t *key = salted;
	size_t salt_len = 0, key_len = 32;
	bool ok = false;

	if (sodium_base642bin(salt, sizeof(salt), salt_b64, strlen(salt_b64), NULL, &salt_len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	if (!strcmp(kdf, "pbkdf2")) {
		if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len,
		                      (int)iterations, EVP_sha256(), 32, salted) != 1)
			goto out;
	} else if (!strcmp(kdf, "argon2id13") || scram_autobahn_kdf(kdf)) {
		if (salt_len != crypto_pwhash_SALTBYTES ||
		    crypto_pwhash(salted, 32, password, strlen(password), salt, iterations,
		                  (size_t)memory * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
			goto out;
		if (scram_autobahn_kdf(kdf)) {
			sodium_bin2base64(salted_b64, sizeof(salted_b64), salted, 32,
			                  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
			key = (const uint8_t *)salted_b64;
			key_len = strlen(salted_b64);
		}
	} else {
		goto out;
	}
	hmac256(key, key_len, "Client Key", 10, client_key);
	crypto_hash_sha256(stored_key, client_key, 32);
	hmac256(key, key_len, "Server Key", 10, server_key);
	ok = true;
out:
	sodium_memzero(salted, sizeof(salted));
	sodium_memzero(salted_b64, sizeof(salted_b64));
	sodium_memzero(client_key, sizeof(client_key));
	return ok;
}

static struct scram_cred *scram_cred_new(struct auth_principal *p)
{
	return p->cred = calloc(1, sizeof(struct scram_cred));
}

/* The authenticator's SCRAM credentials (Crossbar's answer: kdf, iterations, memory, salt,
 * stored-key, server-key; hex). */
static enum wampd_err scram_answer(struct auth_pending *st, const json_t *answer,
                                   enum auth_step *step, struct auth_identity *id)
{
	const char *kdf = wamp_dict_str(answer, "kdf", NULL);
	const char *salt = wamp_dict_str(answer, "salt", NULL);
	const char *stored = wamp_dict_str(answer, "stored-key", NULL);
	const char *server = wamp_dict_str(answer, "server-key", NULL);
	json_int_t iterations = json_integer_value(json_object_get(answer, "iterations"));
	json_int_t memory = json_integer_value(json_object_get(answer, "memory"));
	uint8_t salt_bin[64];
	char salt_b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	size_t n1 = 0, n2 = 0, ns = 0;
	struct scram_cred *cred;

	(void)id;
	if (!kdf || !salt || !stored || !server ||
	    (strcmp(kdf, "argon2id13") && !scram_autobahn_kdf(kdf) && strcmp(kdf, "pbkdf2")))
		return WAMPD_ERR_AUTH_FAILED;
	if (iterations < 1 || iterations > 100000000 ||
	    (strstr(kdf, "argon2") && (memory < 8 || memory > (4 << 20))))
		return WAMPD_ERR_AUTH_FAILED;
	if (!(cred = scram_cred_new(st->principal)))
		return WAMPD_ERR_NOMEM;
	/* Crossbar's (and Autobahn's derive_scram_credential) hex everywhere; the salt goes
	 * to the client base64-encoded */
	if (!hex_decode(stored, strlen(stored), cred->stored_key, 32, &n1) || n1 != 32 ||
	    !hex_decode(server, strlen(server), cred->server_key, 32, &n2) || n2 != 32 ||
	    !hex_decode(salt, strlen(salt), salt_bin, sizeof(salt_bin), &ns) || ns < 8)
		return WAMPD_ERR_AUTH_FAILED;
	sodium_bin2base64(salt_b64, sizeof(salt_b64), salt_bin, ns, sodium_base64_VARIANT_ORIGINAL);
	cred->kdf = strdup(kdf);
	cred->salt = strdup(salt_b64);
	cred->iterations = (uint32_t)iterations;
	cred->memory = (uint32_t)(memory > 0 ? memory : 0);
	if (!cred->kdf || !cred->salt)
		return WAMPD_ERR_AUTH_FAILED;
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

static char *b64_new(const uint8_t *bin, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(len);

	if (out)
		sodium_bin2base64(out, len, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static enum wampd_err scram_challenge(struct auth_pending *st, json_t **extra)
{
	struct auth_scram_state *state = st->state;
	const struct scram_cred *cred = st->principal ? st->principal->cred : NULL;
	uint8_t server_nonce[16];
	char *sn;
	size_t n;

	if (!cred || !cred->kdf || !cred->salt)
		return WAMPD_ERR_AUTH_FAILED;
	ids_random(st->ids, server_nonce, sizeof(server_nonce));
	if (!(sn = b64_new(server_nonce, sizeof(server_nonce))))
		return WAMPD_ERR_NOMEM;
	n = strlen(state->client_nonce) + strlen(sn) + 1;
	free(state->nonce); /* a new challenge replaces one made before */
	if (!(state->nonce = malloc(n))) {
		free(sn);
		return WAMPD_ERR_NOMEM;
	}
	snprintf(state->nonce, n, "%s%s", state->client_nonce, sn);
	free(sn);
	*extra = json_pack("{s:s, s:s, s:s, s:I}", "nonce", state->nonce, "salt", cred->salt,
	                   "kdf", cred->kdf, "iterations", (json_int_t)cred->iterations);
	if (*extra && strstr(cred->kdf, "argon2"))
		json_object_set_new(*extra, "memory", json_integer(cred->memory));
	return *extra ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

/* Unknown authid: a decoy principal with a random salt, failing at the end. */
static enum wampd_err scram_decoy(struct auth_pending *st)
{
	struct auth_principal *p = calloc(1, sizeof(*p));
	struct scram_cred *cred;
	uint8_t salt[16];
	char salt_b64[32];

	if (!p)
		return WAMPD_ERR_NOMEM;
	p->method = st->method;
	st->principal = p;
	st->own_principal = true;
	if (!(cred = scram_cred_new(p)))
		return WAMPD_ERR_NOMEM;
	ids_random(st->ids, salt, sizeof(salt));
	sodium_bin2base64(salt_b64, sizeof(salt_b64), salt, sizeof(salt),
	                  sodium_base64_VARIANT_ORIGINAL);
	cred->kdf = strdup(scram_autobahn(st) ? "argon2id-13" : "argon2id13");
	cred->salt = strdup(salt_b64);
	cred->iterations = 4096;
	cred->memory = 512;
	randombytes_buf(cred->stored_key, 32);
	randombytes_buf(cred->server_key, 32);
	p->authid = strdup(st->authid);
	return cred->kdf && cred->salt && p->authid ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

/* Check a SCRAM HELLO (authid, client nonce, no channel binding) and keep the client
 * nonce; then the static principal (or a decoy), or the authenticator first. */
static enum wampd_err scram_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                  const json_t *details, const struct auth_transport *tr,
                                  enum auth_step *step, struct auth_identity *id)
{
	const json_t *authextra = json_object_get(details, "authextra");
	const char *nonce = wamp_dict_str(authextra, "nonce", NULL);
	struct auth_scram_state *state;
	enum wampd_err err;

	(void)tr;
	(void)id;
	if (!st->authid || !nonce || !*nonce || strchr(nonce, ','))
		return WAMPD_ERR_AUTH_FAILED;
	if (json_is_string(json_object_get(authextra, "channel_binding")))
		return WAMPD_ERR_AUTH_FAILED; /* channel binding is not offered on this transport */
	if (!(state = st->state = calloc(1, sizeof(*state))) ||
	    !(state->client_nonce = strdup(nonce)))
		return WAMPD_ERR_NOMEM;
	if (mc->dynamic)
		return auth_ask_first(step);
	if (!(st->principal = auth_find_principal(mc, st->authid, st->realm)) &&
	    (err = scram_decoy(st)) != WAMPD_OK)
		return err;
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

/* AuthMessage of the dialect in use (new string). */
static char *scram_auth_message(const struct auth_pending *st, const char *cbind_name,
                                const char *cbind_data)
{
	const struct auth_scram_state *state = st->state;
	const struct scram_cred *cred = st->principal->cred;
	char *msg = NULL;
	size_t need;

	if (scram_autobahn(st)) {
		need = 64 + strlen(st->authid) + strlen(state->client_nonce) +
		       2 * strlen(state->nonce) + strlen(cred->salt);
		if ((msg = malloc(need)))
			snprintf(msg, need, "n=%s,r=%s,r=%s,s=%s,i=%u,c=,r=%s", st->authid,
			         state->client_nonce, state->nonce, cred->salt, cred->iterations,
			         state->nonce);
		return msg;
	}
	/* the spec's dialect: c = Base64(CBindInput) with CBindInput "n,," without binding */
	{
		char cbind_input[128], cbind_b64[256];
		char escaped[512];
		size_t o = 0;

		(void)cbind_data;
		if (cbind_name)
			return NULL; /* not offered */
		snprintf(cbind_input, sizeof(cbind_input), "n,,");
		sodium_bin2base64(cbind_b64, sizeof(cbind_b64), (const uint8_t *)cbind_input,
		                  strlen(cbind_input), sodium_base64_VARIANT_ORIGINAL);
		for (const char *c = st->authid; *c && o + 4 < sizeof(escaped); c++) {
			if (*c == ',')
				o += (size_t)snprintf(escaped + o, sizeof(escaped) - o, "=2C");
			else if (*c == '=')
				o += (size_t)snprintf(escaped + o, sizeof(escaped) - o, "=3D");
			else
				escaped[o++] = *c;
		}
		escaped[o] = '\0';
		need = 64 + strlen(escaped) + strlen(state->client_nonce) + 2 * strlen(state->nonce) +
		       strlen(cred->salt) + strlen(cbind_b64);
		if ((msg = malloc(need)))
			snprintf(msg, need, "n=%s,r=%s,r=%s,s=%s,i=%u,c=%s,r=%s", escaped,
			         state->client_nonce, state->nonce, cred->salt, cred->iterations,
			         cbind_b64, state->nonce);
		return msg;
	}
}

static enum wampd_err scram_authenticate(struct auth_pending *st, const char *sig, size_t len,
                                         const json_t *extra, enum auth_step *step,
                                         struct auth_identity *id)
{
	const struct auth_principal *p = st->principal;
	const struct auth_scram_state *state = st->state;
	const struct scram_cred *cred = p ? p->cred : NULL;
	const char *nonce = wamp_dict_str(extra, "nonce", NULL);
	const char *cbind_name = wamp_dict_str(extra, "channel_binding", NULL);
	uint8_t proof[64], client_sig[32], client_key[32], recovered[32], server_sig[32];
	size_t proof_len = 0;
	char *auth_message, server_sig_b64[64];
	enum wampd_err err = WAMPD_ERR_AUTH_FAILED;
	json_t *authextra;

	(void)step;
	if (!cred || !state || !state->nonce)
		return WAMPD_ERR_AUTH_FAILED;
	/* Autobahn sends no nonce back; the spec's dialect must echo ours */
	if (nonce && strcmp(nonce, state->nonce))
		return WAMPD_ERR_AUTH_FAILED;
	if (sodium_base642bin(proof, sizeof(proof), sig, len, NULL, &proof_len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    proof_len != 32)
		return WAMPD_ERR_AUTH_FAILED;
	if (!(auth_message = scram_auth_message(st, cbind_name, NULL)))
		return WAMPD_ERR_AUTH_FAILED;
	hmac256(cred->stored_key, 32, auth_message, strlen(auth_message), client_sig);
	for (int i = 0; i < 32; i++)
		client_key[i] = proof[i] ^ client_sig[i];
	crypto_hash_sha256(recovered, client_key, 32);
	if (sodium_memcmp(recovered, cred->stored_key, 32) != 0 || (st->own_principal && !p->role))
		goto out;
	hmac256(cred->server_key, 32, auth_message, strlen(auth_message), server_sig);
	sodium_bin2base64(server_sig_b64, sizeof(server_sig_b64), server_sig, 32,
	                  sodium_base64_VARIANT_ORIGINAL);
	authextra = p->authextra ? json_deep_copy(p->authextra) : json_object();
	json_object_set_new(authextra, "verifier", json_string(server_sig_b64));
	json_object_set_new(authextra, "scram_server_signature", json_string(server_sig_b64));
	/* WELCOME names the method the client used ("scram" or "wamp-scram"): Autobahn looks
	 * its authenticator up by WELCOME.authmethod to check the server signature */
	err = auth_identity_of(st, authextra, id);
	json_decref(authextra);
out:
	free(auth_message);
	sodium_memzero(client_key, sizeof(client_key));
	return err;
}

/* "kdf", "salt" (base64), "iterations" ("memory" for argon2), and "password" (the keys are
 * derived here) or "stored-key" and "server-key" (hex). */
static bool scram_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                      size_t errlen)
{
	const char *kdf = wamp_dict_str(o, "kdf", NULL), *salt = wamp_dict_str(o, "salt", NULL);
	const char *password = wamp_dict_str(o, "password", NULL);
	const char *stored = wamp_dict_str(o, "stored-key", NULL);
	const char *server = wamp_dict_str(o, "server-key", NULL);
	struct scram_cred *cred = scram_cred_new(p);
	size_t n1 = 0, n2 = 0;

	if (!cred)
		return auth_config_fail(err, errlen, "out of memory");
	cred->iterations = (uint32_t)wamp_dict_int(o, "iterations", 0);
	cred->memory = (uint32_t)wamp_dict_int(o, "memory", 0);
	if (!kdf || (strcmp(kdf, "argon2id13") && strcmp(kdf, "argon2id-13") &&
	             strcmp(kdf, "pbkdf2")))
		return auth_config_fail(err, errlen, "kdf must be argon2id13, argon2id-13 or pbkdf2");
	if (!salt || !cred->iterations)
		return auth_config_fail(err, errlen, "salt and iterations are required");
	if (strstr(kdf, "argon2") && !cred->memory)
		return auth_config_fail(err, errlen, "memory is required for argon2");
	if (!auth_config_dup(kdf, &cred->kdf, err, errlen) ||
	    !auth_config_dup(salt, &cred->salt, err, errlen))
		return false;
	if (password) {
		if (!auth_scram_derive(kdf, password, salt, cred->iterations, cred->memory,
		                       cred->stored_key, cred->server_key))
			return auth_config_fail(err, errlen, "cannot derive SCRAM keys (salt must be "
			                        "base64 of 16 bytes for argon2)");
		return true;
	}
	if (!stored || !server || !hex_decode(stored, strlen(stored), cred->stored_key, 32, &n1) ||
	    n1 != 32 || !hex_decode(server, strlen(server), cred->server_key, 32, &n2) || n2 != 32)
		return auth_config_fail(err, errlen, "password, or stored-key and server-key (hex), "
		                        "are required");
	return true;
}

static void scram_free_cred(void *cred)
{
	struct scram_cred *c = cred;

	free(c->kdf);
	free(c->salt);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static void scram_free_state(void *state)
{
	struct auth_scram_state *s = state;

	free(s->client_nonce);
	free(s->nonce);
	free(s);
}

const struct auth_method_ops auth_scram_ops = {
	.name = "scram",
	.alias = "wamp-scram",
	.principals = AUTH_PRINCIPALS_REQUIRED,
	.principals_key = "principals",
	.hello = scram_hello,
	.answer = scram_answer,
	.challenge = scram_challenge,
	.authenticate = scram_authenticate,
	.configure_principal = scram_configure_principal,
	.free_cred = scram_free_cred,
	.free_state = scram_free_state,
};
