/*
 * auth.c - method selection, the pending state, anonymous and ticket authentication, and
 * the dispatch to wampcra.c, cryptosign.c and scram.c.
 *
 * Method selection: the client lists the methods it can do (HELLO.Details.authmethods; no
 * list means anonymous); the first one in the client's order that the listener enables is
 * used. Principals are looked up by HELLO.Details.authid (cryptosign may also find one by
 * its public key). Unknown principals and wrong secrets give the same error, so a failure
 * never tells whether an authid exists.
 */


#include "auth/auth.h"
#include "auth/auth_internal.h"
#include "common/hex.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[AUTH__COUNT] = {
	"anonymous", "ticket", "wampcra", "cryptosign", "scram", "tls",
};

const char *auth_method_name(enum auth_method m)
{
	return (unsigned)m < AUTH__COUNT ? method_names[m] : "unknown";
}

int auth_method_from_name(const char *name)
{
	if (!strcmp(name, "wamp-scram"))
		return AUTH_SCRAM;
	for (int i = 0; i < AUTH__COUNT; i++)
		if (!strcmp(name, method_names[i]))
			return i;
	return -1;
}

void auth_identity_clear(struct auth_identity *id)
{
	free(id->authid);
	free(id->authrole);
	free(id->authmethod);
	free(id->authprovider);
	json_decref(id->authextra);
	memset(id, 0, sizeof(*id));
}

void auth_principal_free(struct auth_principal *p)
{
	if (!p)
		return;
	free(p->authid);
	free(p->role);
	free(p->realm);
	if (p->ticket)
		sodium_memzero(p->ticket, strlen(p->ticket));
	free(p->ticket);
	if (p->secret)
		sodium_memzero(p->secret, strlen(p->secret));
	free(p->secret);
	free(p->salt);
	free(p->pubkeys);
	free(p->kdf);
	free(p->scram_salt);
	json_decref(p->authextra);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

void auth_config_clear(struct auth_config *cfg)
{
	for (int i = 0; i < AUTH__COUNT; i++) {
		struct auth_method_config *m = &cfg->m[i];
		struct auth_principal *p, *tmp;

		HASH_ITER(hh, m->principals, p, tmp) {
			HASH_DEL(m->principals, p);
			auth_principal_free(p);
		}
		free(m->authenticator);
		free(m->authenticator_realm);
		free(m->authenticator_role);
		free(m->role);
	}
	memset(cfg, 0, sizeof(*cfg));
}

void auth_pending_clear(struct auth_pending *st)
{
	free(st->realm);
	free(st->authid);
	if (st->own_principal)
		auth_principal_free(st->principal);
	free(st->challenge);
	free(st->client_nonce);
	free(st->scram_method);
	sodium_memzero(st, sizeof(*st));
}

bool auth_str_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	uint8_t ha[crypto_generichash_BYTES], hb[crypto_generichash_BYTES];

	/* hash both to a fixed length first: the comparison time then depends on neither the
	 * lengths nor the position of the first difference */
	crypto_generichash(ha, sizeof(ha), (const uint8_t *)a, alen, NULL, 0);
	crypto_generichash(hb, sizeof(hb), (const uint8_t *)b, blen, NULL, 0);
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0 && alen == blen;
}

enum wampd_err auth_identity_set(struct auth_identity *id, const char *authid,
                                 const char *role, enum auth_method method,
                                 const char *provider, const json_t *authextra)
{
	memset(id, 0, sizeof(*id));
	id->authid = strdup(authid);
	id->authrole = strdup(role ? role : "anonymous");
	id->authmethod = strdup(method == AUTH_SCRAM ? "wamp-scram" : auth_method_name(method));
	id->authprovider = strdup(provider);
	if (authextra)
		id->authextra = json_deep_copy(authextra);
	if (!id->authid || !id->authrole || !id->authmethod || !id->authprovider) {
		auth_identity_clear(id);
		return WAMPD_ERR_NOMEM;
	}
	return WAMPD_OK;
}

static void auth_random_authid(char out[15])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	int o = 0;

	for (int i = 0; i < 12; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[ids_uniform(sizeof(alphabet) - 1)];
	}
	out[o] = '\0';
}

enum wampd_err auth_anonymous(const json_t *hello_details, const char *role,
                              struct auth_identity *id)
{
	char authid[15];

	(void)hello_details;
	auth_random_authid(authid);
	return auth_identity_set(id, authid, role, AUTH_ANONYMOUS, "static", NULL);
}

/* The static principal for (authid, realm), or NULL. */
struct auth_principal *auth_find_principal(const struct auth_method_config *m,
                                           const char *authid, const char *realm)
{
	struct auth_principal *p = NULL;

	if (!authid)
		return NULL;
	HASH_FIND_STR(m->principals, authid, p);
	if (p && p->realm && strcmp(p->realm, realm))
		return NULL;
	return p;
}

/* The method to use: the client's first offered method the listener enables (tls only
 * with a verified client certificate, and then also when the client offers nothing). */
static int choose_method(const struct auth_config *cfg, const json_t *details,
                         const struct auth_transport *tr, const char **name_out)
{
	const json_t *methods = json_object_get(details, "authmethods");
	bool have_cert = tr && tr->tls_cn && cfg->m[AUTH_TLS].enabled;
	size_t i;
	const json_t *v;

	*name_out = NULL;
	if (!json_is_array(methods) || !json_array_size(methods))
		return have_cert ? AUTH_TLS : cfg->m[AUTH_ANONYMOUS].enabled ? AUTH_ANONYMOUS : -1;
	json_array_foreach(methods, i, v) {
		int m = json_is_string(v) ? auth_method_from_name(json_string_value(v)) : -1;

		if (m == AUTH_TLS && !have_cert)
			continue;
		if (m >= 0 && cfg->m[m].enabled) {
			*name_out = json_string_value(v);
			return m;
		}
	}
	return -1;
}

enum wampd_err auth_hello(const struct auth_config *cfg, const char *realm,
                          const json_t *details, uint64_t session_id,
                          const struct auth_transport *tr, struct auth_pending *st,
                          enum auth_step *step, json_t **extra, struct auth_identity *id)
{
	const char *authid = wamp_dict_str(details, "authid", NULL);
	const char *name;
	int m = choose_method(cfg, details, tr, &name);
	const struct auth_method_config *mc;
	enum wampd_err err;

	memset(st, 0, sizeof(*st));
	*extra = NULL;
	if (m < 0)
		return WAMPD_ERR_NO_AUTH_METHOD;
	mc = &cfg->m[m];
	st->method = (enum auth_method)m;
	st->session_id = session_id;
	if (m == AUTH_CRYPTOSIGN) {
		/* channel binding as the client asks for it (authextra.channel_binding): only
		 * tls-unique, and only where the transport has one */
		const char *cb = wamp_dict_str(json_object_get(details, "authextra"),
		                               "channel_binding", NULL);

		if (cb && (strcmp(cb, "tls-unique") || !tr || !tr->channel_id))
			return WAMPD_ERR_AUTH_FAILED;
		/* a man in the middle can strip the client's request for binding: the listener
		 * can insist on it */
		if (!cb && mc->require_channel_binding)
			return WAMPD_ERR_AUTH_FAILED;
		st->channel_id = cb ? tr->channel_id : NULL;
	}
	if (m == AUTH_TLS)
		authid = tr->tls_cn; /* the certificate names the client */
	if (!(st->realm = strdup(realm)) || (authid && !(st->authid = strdup(authid))))
		return WAMPD_ERR_NOMEM;

	if (mc->dynamic) {
		/* ticket asks for the ticket first; the others ask the authenticator first */
		if (m == AUTH_TICKET) {
			*step = AUTH_STEP_CHALLENGE;
			return (*extra = json_object()) ? WAMPD_OK : WAMPD_ERR_NOMEM;
		}
		if (m == AUTH_SCRAM && (err = auth_scram_hello(st, name, details)) != WAMPD_OK)
			return err;
		*step = AUTH_STEP_DYNAMIC;
		return WAMPD_OK;
	}

	switch (m) {
	case AUTH_ANONYMOUS:
		*step = AUTH_STEP_WELCOME;
		return auth_anonymous(details, mc->role, id);
	case AUTH_TLS: {
		/* a principal of that common name, or the method's default role */
		struct auth_principal *p = auth_find_principal(mc, authid, realm);

		*step = AUTH_STEP_WELCOME;
		if (!p && !mc->role)
			return WAMPD_ERR_AUTH_FAILED;
		return auth_identity_set(id, authid, p ? p->role : mc->role, AUTH_TLS, "static",
		                         p ? p->authextra : NULL);
	}
	case AUTH_TICKET:
		if (!(st->principal = auth_find_principal(mc, authid, realm)) || !st->principal->ticket)
			return WAMPD_ERR_AUTH_FAILED;
		*step = AUTH_STEP_CHALLENGE;
		return (*extra = json_object()) ? WAMPD_OK : WAMPD_ERR_NOMEM;
	case AUTH_WAMPCRA:
		if (!(st->principal = auth_find_principal(mc, authid, realm)) || !st->principal->secret)
			return WAMPD_ERR_AUTH_FAILED;
		*step = AUTH_STEP_CHALLENGE;
		return auth_wampcra_challenge(st, extra);
	case AUTH_CRYPTOSIGN:
		return auth_cryptosign_hello(mc, st, details, step, extra);
	case AUTH_SCRAM:
		if ((err = auth_scram_hello(st, name, details)) != WAMPD_OK)
			return err;
		*step = AUTH_STEP_CHALLENGE;
		return auth_scram_static(st, auth_find_principal(mc, authid, realm), extra);
	default:
		return WAMPD_ERR_NO_AUTH_METHOD;
	}
}

json_t *auth_dynamic_args(const struct auth_pending *st, const json_t *hello_details,
                          const char *ticket)
{
	json_t *details = hello_details ? json_deep_copy(hello_details) : json_object();

	if (!details)
		return NULL;
	json_object_set_new(details, "session", json_integer((json_int_t)st->session_id));
	json_object_set_new(details, "authmethod", json_string(auth_method_name(st->method)));
	if (ticket)
		json_object_set_new(details, "ticket", json_string(ticket));
	return json_pack("[s, s?, o]", st->realm, st->authid, details);
}

/* A principal from an authenticator's dict answer (role, secret, pubkey, ...). */
static struct auth_principal *principal_from_answer(const struct auth_pending *st,
                                                    const json_t *answer)
{
	struct auth_principal *p = calloc(1, sizeof(*p));
	const char *role = json_is_string(answer) ? json_string_value(answer)
	                                          : wamp_dict_str(answer, "role", NULL);
	const char *authid = wamp_dict_str(answer, "authid", NULL);

	if (!p)
		return NULL;
	p->role = role ? strdup(role) : NULL;
	p->authid = strdup(authid ? authid : st->authid ? st->authid : "");
	if (json_is_object(answer)) {
		const char *secret = wamp_dict_str(answer, "secret", NULL);
		const char *salt = wamp_dict_str(answer, "salt", NULL);
		const char *pubkey = wamp_dict_str(answer, "pubkey", NULL);
		const json_t *extra = json_object_get(answer, "extra");

		if (secret)
			p->secret = strdup(secret);
		if (salt) {
			p->salt = strdup(salt);
			p->iterations = (uint32_t)json_integer_value(json_object_get(answer, "iterations"));
			p->keylen = (uint32_t)json_integer_value(json_object_get(answer, "keylen"));
		}
		if (pubkey && strlen(pubkey) == 64 && (p->pubkeys = malloc(32))) {
			size_t n = 0;

			if (hex_decode(pubkey, 64, p->pubkeys[0], 32, &n))
				p->npubkeys = 1;
		}
		if (json_is_object(extra))
			p->authextra = json_deep_copy(extra);
	}
	if (!p->role || !p->authid) {
		auth_principal_free(p);
		return NULL;
	}
	return p;
}

enum wampd_err auth_dynamic_principal(struct auth_pending *st, const json_t *answer,
                                      enum auth_step *step, json_t **extra,
                                      struct auth_identity *id)
{
	struct auth_principal *p = principal_from_answer(st, answer);

	*extra = NULL;
	if (!p)
		return WAMPD_ERR_AUTH_FAILED;
	if (st->own_principal)
		auth_principal_free(st->principal);
	st->principal = p;
	st->own_principal = true;
	switch (st->method) {
	case AUTH_ANONYMOUS:
	case AUTH_TICKET:
		*step = AUTH_STEP_WELCOME;
		return auth_identity_set(id, p->authid[0] ? p->authid : "anonymous", p->role,
		                         st->method, "dynamic", p->authextra);
	case AUTH_WAMPCRA:
		if (!p->secret)
			return WAMPD_ERR_AUTH_FAILED;
		*step = AUTH_STEP_CHALLENGE;
		return auth_wampcra_challenge(st, extra);
	case AUTH_CRYPTOSIGN:
		if (!p->npubkeys)
			return WAMPD_ERR_AUTH_FAILED;
		*step = AUTH_STEP_CHALLENGE;
		return auth_cryptosign_challenge(st, extra);
	case AUTH_SCRAM:
		if (!auth_scram_principal_from_answer(p, answer))
			return WAMPD_ERR_AUTH_FAILED;
		*step = AUTH_STEP_CHALLENGE;
		return auth_scram_challenge(st, extra);
	default:
		return WAMPD_ERR_AUTH_FAILED;
	}
}

enum wampd_err auth_authenticate(struct auth_pending *st, const char *signature, size_t sig_len,
                                 const json_t *extra, enum auth_step *step,
                                 struct auth_identity *id)
{
	struct auth_principal *p = st->principal;
	const char *provider = st->own_principal ? "dynamic" : "static";

	*step = AUTH_STEP_WELCOME;
	switch (st->method) {
	case AUTH_TICKET:
		if (!p) {
			/* dynamic ticket: the authenticator decides */
			*step = AUTH_STEP_DYNAMIC;
			return WAMPD_OK;
		}
		if (!auth_str_equal(signature, sig_len, p->ticket, strlen(p->ticket)))
			return WAMPD_ERR_AUTH_FAILED;
		return auth_identity_set(id, p->authid, p->role, AUTH_TICKET, provider, p->authextra);
	case AUTH_WAMPCRA:
		return auth_wampcra_verify(st, signature, sig_len, provider, id);
	case AUTH_CRYPTOSIGN:
		return auth_cryptosign_verify(st, signature, sig_len, provider, id);
	case AUTH_SCRAM:
		return auth_scram_verify(st, signature, sig_len, extra, provider, id);
	default:
		return WAMPD_ERR_AUTH_FAILED;
	}
}
