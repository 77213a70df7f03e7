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
 *
 * The credential (p->cred) is that key with the salt, iterations and key length the client
 * derives it with; the challenge string waits in st->state for the signature.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_internal.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"

struct wampcra_cred {
	char *secret;               /* the HMAC key (a derived key if salted) */
	char *salt;                 /* PBKDF2 salt sent to the client, or NULL */
	uint32_t iterations;        /* 0: 1000 */
	uint32_t keylen;            /* 0: 32 */
};

static enum wampd_err wampcra_challenge(struct auth_pending *st, json_t **extra)
{
	struct auth_wampcra_state *state;
	const struct auth_principal *p;
	const struct wampcra_cred *cred;
	const char *salt;
	uint8_t nonce[16];
	char *nonce_b64, stamp[40];
	struct timespec ts;
	struct tm tm;
	json_t *c;

	if (!st->state && !(st->state = calloc(1, sizeof(*state))))
		return WAMPD_ERR_NOMEM;
	state = st->state;
	p = st->decoy ? state->decoy_of : st->principal;
	if (!p)
		return WAMPD_ERR_AUTH_FAILED;
	cred = p->cred;
	salt = cred->salt && st->decoy ? state->decoy_salt : cred->salt;
	free(state->challenge); /* a new challenge replaces one made before */
	state->challenge = NULL;
	ids_random(st->ids, nonce, sizeof(nonce));
	if (!(nonce_b64 = auth_base64(nonce, sizeof(nonce))))
		return WAMPD_ERR_NOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%03ldZ",
	         ts.tv_nsec / 1000000L);
	c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "authid",
	              st->decoy ? st->authid : p->authid, "authrole",
	              p->role, "authmethod", "wampcra", "authprovider", auth_provider(st), "nonce",
	              nonce_b64, "timestamp", stamp, "session", (json_int_t)st->session_id);
	free(nonce_b64);
	if (!c || !(state->challenge = json_dumps(c, JSON_COMPACT))) {
		json_decref(c);
		return WAMPD_ERR_NOMEM;
	}
	json_decref(c);
	*extra = json_pack("{s:s}", "challenge", state->challenge);
	if (*extra && salt) {
		json_object_set_new(*extra, "salt", json_string(salt));
		json_object_set_new(*extra, "iterations",
		                    json_integer(cred->iterations ? cred->iterations : 1000));
		json_object_set_new(*extra, "keylen", json_integer(cred->keylen ? cred->keylen : 32));
	}
	return *extra ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

/*
 * An unknown authid's decoy challenge (st->decoy) looks like a real one: the role and the
 * salting of the method's first principal, and a salt of its own that is the same at
 * every HELLO for the same authid (a keyed hash under the process's secret, ids_secret():
 * the same whichever loop answers), so that repeating HELLO does not tell a decoy from a
 * principal either.
 */
static enum wampd_err wampcra_decoy(const struct auth_method_config *mc, struct auth_pending *st)
{
	struct auth_wampcra_state *state;
	uint8_t h[16];

	_Static_assert(IDS_SECRET_BYTES >= crypto_generichash_KEYBYTES_MIN &&
	                       IDS_SECRET_BYTES <= crypto_generichash_KEYBYTES_MAX,
	               "the process secret is a BLAKE2b key");

	if (!mc->principals)
		return WAMPD_ERR_AUTH_FAILED; /* nobody to look like */
	if (!st->state && !(st->state = calloc(1, sizeof(*state))))
		return WAMPD_ERR_NOMEM;
	state = st->state;
	state->decoy_of = mc->principals;
	crypto_generichash(h, sizeof(h), (const uint8_t *)(st->authid ? st->authid : ""),
	                   st->authid ? strlen(st->authid) : 0, ids_secret(), IDS_SECRET_BYTES);
	sodium_bin2hex(state->decoy_salt, sizeof(state->decoy_salt), h, sizeof(h));
	return WAMPD_OK;
}

static enum wampd_err wampcra_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                    const json_t *details, const struct auth_transport *tr,
                                    enum auth_step *step, struct auth_identity *id)
{
	enum wampd_err err;

	(void)details;
	(void)tr;
	(void)id;
	if (mc->dynamic)
		return auth_ask_first(step);
	if ((err = auth_static_challenge(mc, st, step)) != WAMPD_OK || !st->decoy)
		return err;
	return wampcra_decoy(mc, st);
}

static enum wampd_err wampcra_authenticate(struct auth_pending *st, const char *sig, size_t len,
                                           const json_t *extra, enum auth_step *step,
                                           struct auth_identity *id)
{
	const struct auth_principal *p = st->principal;
	const struct auth_wampcra_state *state = st->state;
	char *expected;
	bool ok;

	(void)extra;
	(void)step;
	if (!p || !p->cred || !state || !state->challenge ||
	    !(expected = auth_wampcra_sign(((const struct wampcra_cred *)p->cred)->secret,
	                                   state->challenge)))
		return WAMPD_ERR_AUTH_FAILED;
	ok = auth_str_equal(sig, len, expected, strlen(expected));
	free(expected);
	if (!ok)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_of(st, NULL, id);
}

static void wampcra_free_cred(void *cred)
{
	struct wampcra_cred *c = cred;

	if (c->secret)
		sodium_memzero(c->secret, strlen(c->secret));
	free(c->secret);
	free(c->salt);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

static void wampcra_free_state(void *state)
{
	struct auth_wampcra_state *s = state;

	free(s->challenge);
	free(s);
}

/* New credentials on p (the secret, salt and parameters filled by the caller). */
static struct wampcra_cred *wampcra_cred_new(struct auth_principal *p)
{
	return p->cred = calloc(1, sizeof(struct wampcra_cred));
}

/* The authenticator's {secret, salt, iterations, keylen} (a salt brings the parameters). */
static enum wampd_err wampcra_answer(struct auth_pending *st, const json_t *answer,
                                     enum auth_step *step, struct auth_identity *id)
{
	const char *secret = wamp_dict_str(answer, "secret", NULL);
	const char *salt = wamp_dict_str(answer, "salt", NULL);
	struct wampcra_cred *cred;

	(void)id;
	if (!secret)
		return WAMPD_ERR_AUTH_FAILED;
	if (!(cred = wampcra_cred_new(st->principal)) || !(cred->secret = strdup(secret)))
		return WAMPD_ERR_NOMEM;
	if (salt) {
		if (!(cred->salt = strdup(salt)))
			return WAMPD_ERR_NOMEM;
		cred->iterations = (uint32_t)json_integer_value(json_object_get(answer, "iterations"));
		cred->keylen = (uint32_t)json_integer_value(json_object_get(answer, "keylen"));
	}
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

/* "secret" (the key as Crossbar stores it) or "password" (with "salt": the key is derived
 * here), and "salt", "iterations", "keylen". */
static bool wampcra_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                        size_t errlen)
{
	const char *secret = wamp_dict_str(o, "secret", NULL);
	const char *password = wamp_dict_str(o, "password", NULL);
	const char *salt = wamp_dict_str(o, "salt", NULL);
	struct wampcra_cred *cred = wampcra_cred_new(p);

	if (!cred)
		return auth_config_fail(err, errlen, "out of memory");
	cred->iterations = (uint32_t)wamp_dict_int(o, "iterations", 0);
	cred->keylen = (uint32_t)wamp_dict_int(o, "keylen", 0);
	if (!secret && !password)
		return auth_config_fail(err, errlen, "secret (or password) is required");
	if (password && salt) {
		if (!(cred->secret = auth_wampcra_derive_key(password, salt, cred->iterations,
		                                             cred->keylen)))
			return auth_config_fail(err, errlen, "cannot derive the key from password");
	} else if (!auth_config_dup(secret ? secret : password, &cred->secret, err, errlen)) {
		return false;
	}
	return auth_config_dup(salt, &cred->salt, err, errlen);
}

const struct auth_method_ops auth_wampcra_ops = {
	.name = "wampcra",
	.principals = AUTH_PRINCIPALS_REQUIRED,
	.principals_key = "users",
	.hello = wampcra_hello,
	.answer = wampcra_answer,
	.challenge = wampcra_challenge,
	.authenticate = wampcra_authenticate,
	.configure_principal = wampcra_configure_principal,
	.free_cred = wampcra_free_cred,
	.free_state = wampcra_free_state,
};
