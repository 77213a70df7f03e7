/*
 * auth.c - the method table, method selection, the pending state, and what every method
 * shares: the exchange's steps in order, the authenticator's answer's common part, the
 * configuration's dispatch.
 *
 * Method selection: the client lists the methods it can do (HELLO.Details.authmethods); the
 * first one in the client's order that the listener enables and the transport allows is
 * used. A client that lists none gets tls when a verified certificate names it, else
 * anonymous. Principals are looked up by HELLO.Details.authid (cryptosign may also find one
 * by its public key). Unknown principals and wrong secrets give the same error, so a failure
 * never tells whether an authid exists.
 *
 * Everything particular to a method goes through its row (auth_internal.h); no code here
 * names a method but the table itself and the order of the methods a client gets without
 * asking.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "auth/auth_internal.h"
#include "serializers/wamp_msg.h"

static const struct auth_method_ops *const methods[AUTH__COUNT] = {
	[AUTH_ANONYMOUS] = &auth_anonymous_ops,
	[AUTH_TICKET] = &auth_ticket_ops,
	[AUTH_WAMPCRA] = &auth_wampcra_ops,
	[AUTH_CRYPTOSIGN] = &auth_cryptosign_ops,
	[AUTH_SCRAM] = &auth_scram_ops,
	[AUTH_TLS] = &auth_tls_ops,
	[AUTH_TRUSTED] = &auth_trusted_ops,
};

/* A client that offers no method gets the first of these its listener enables and its
 * transport allows. */
static const enum auth_method implicit_methods[] = {AUTH_TLS, AUTH_ANONYMOUS};

const char *auth_method_name(enum auth_method m)
{
	return (unsigned)m < AUTH__COUNT ? methods[m]->name : "unknown";
}

/* The method called `name` (its name or alias) and that spelling (static) into *spelled. */
static int method_by_name(const char *name, const char **spelled)
{
	for (int i = 0; i < AUTH__COUNT; i++) {
		const struct auth_method_ops *ops = methods[i];

		if (!strcmp(name, ops->name) || (ops->alias && !strcmp(name, ops->alias))) {
			*spelled = !strcmp(name, ops->name) ? ops->name : ops->alias;
			return i;
		}
	}
	return -1;
}

int auth_method_from_name(const char *name)
{
	const char *spelled;

	return method_by_name(name, &spelled);
}

bool auth_method_configurable(enum auth_method m)
{
	return (unsigned)m < AUTH__COUNT && !methods[m]->wampd_only;
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
	if (p->cred && (unsigned)p->method < AUTH__COUNT && methods[p->method]->free_cred)
		methods[p->method]->free_cred(p->cred);
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
		free(m->refusal);
		if (m->opts && methods[i]->free_opts)
			methods[i]->free_opts(m->opts);
	}
	memset(cfg, 0, sizeof(*cfg));
}

void auth_pending_clear(struct auth_pending *st)
{
	free(st->realm);
	free(st->authid);
	if (st->own_principal)
		auth_principal_free(st->principal);
	if (st->state && (unsigned)st->method < AUTH__COUNT && methods[st->method]->free_state)
		methods[st->method]->free_state(st->state);
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
                                 const char *role, const char *method,
                                 const char *provider, const json_t *authextra)
{
	memset(id, 0, sizeof(*id));
	id->authid = strdup(authid);
	id->authrole = strdup(role ? role : "anonymous");
	id->authmethod = strdup(method);
	id->authprovider = strdup(provider);
	if (authextra)
		id->authextra = json_deep_copy(authextra);
	if (!id->authid || !id->authrole || !id->authmethod || !id->authprovider) {
		auth_identity_clear(id);
		return WAMPD_ERR_NOMEM;
	}
	return WAMPD_OK;
}

const char *auth_provider(const struct auth_pending *st)
{
	return st->own_principal ? "dynamic" : "static";
}

enum wampd_err auth_identity_of(const struct auth_pending *st, const json_t *authextra,
                                struct auth_identity *id)
{
	const struct auth_principal *p = st->principal;

	return auth_identity_set(id, p->authid, p->role, st->method_name, auth_provider(st),
	                         authextra ? authextra : p->authextra);
}

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

enum wampd_err auth_static_challenge(const struct auth_method_config *mc,
                                     struct auth_pending *st, enum auth_step *step)
{
	st->principal = auth_find_principal(mc, st->authid, st->realm);
	if (st->principal && !st->principal->cred)
		return WAMPD_ERR_AUTH_FAILED;
	/* an unknown authid is challenged too (a decoy): its AUTHENTICATE fails like a wrong
	 * secret, so that the answer to HELLO does not tell which authids exist */
	st->decoy = !st->principal;
	*step = AUTH_STEP_CHALLENGE;
	return WAMPD_OK;
}

enum wampd_err auth_ask_first(enum auth_step *step)
{
	*step = AUTH_STEP_DYNAMIC;
	return WAMPD_OK;
}

enum wampd_err auth_answer_welcome(struct auth_pending *st, const json_t *answer,
                                   enum auth_step *step, struct auth_identity *id)
{
	const struct auth_principal *p = st->principal;

	(void)answer;
	*step = AUTH_STEP_WELCOME;
	return auth_identity_set(id, p->authid[0] ? p->authid : "anonymous", p->role,
	                         st->method_name, auth_provider(st), p->authextra);
}

/* May the client of tr use method m of cfg? */
static bool method_usable(const struct auth_config *cfg, int m, const struct auth_transport *tr)
{
	return cfg->m[m].enabled && (!methods[m]->usable || methods[m]->usable(tr));
}

/* The method to use, and its name as the client spelled it (static) into *name_out. */
static int choose_method(const struct auth_config *cfg, const json_t *details,
                         const struct auth_transport *tr, const char **name_out)
{
	const json_t *methods_offered = json_object_get(details, "authmethods");
	size_t i;
	const json_t *v;

	if (!json_is_array(methods_offered) || !json_array_size(methods_offered)) {
		for (i = 0; i < sizeof(implicit_methods) / sizeof(implicit_methods[0]); i++)
			if (method_usable(cfg, implicit_methods[i], tr)) {
				*name_out = methods[implicit_methods[i]]->name;
				return implicit_methods[i];
			}
		return -1;
	}
	json_array_foreach(methods_offered, i, v) {
		int m = json_is_string(v) ? method_by_name(json_string_value(v), name_out) : -1;

		if (m >= 0 && method_usable(cfg, m, tr))
			return m;
	}
	return -1;
}

enum wampd_err auth_hello(const struct auth_config *cfg, const char *realm,
                          const json_t *details, uint64_t session_id,
                          const struct auth_transport *tr, struct ids_gen *ids,
                          struct auth_pending *st, enum auth_step *step, json_t **extra,
                          struct auth_identity *id)
{
	const char *authid = wamp_dict_str(details, "authid", NULL);
	const char *name = NULL;
	int m = choose_method(cfg, details, tr, &name);
	enum wampd_err err;

	memset(st, 0, sizeof(*st));
	*extra = NULL;
	if (m < 0)
		return WAMPD_ERR_NO_AUTH_METHOD;
	st->method = (enum auth_method)m;
	st->method_name = name;
	st->session_id = session_id;
	st->ids = ids;
	if (!(st->realm = strdup(realm)) || (authid && !(st->authid = strdup(authid))))
		return WAMPD_ERR_NOMEM;
	if (cfg->m[m].refusal) {
		st->refusal = cfg->m[m].refusal;
		return WAMPD_ERR_NOT_AUTHORIZED;
	}
	err = methods[m]->hello(&cfg->m[m], st, details, tr, step, id);
	if (err == WAMPD_OK && *step == AUTH_STEP_CHALLENGE)
		err = methods[m]->challenge(st, extra);
	return err;
}

/* details.transport: the certificate the transport verified, under Crossbar's current
 * name and its older one (which crossbar-examples' authenticators read), or null. The
 * facts are shared (incref), not copied: nothing changes them. NULL on NOMEM. */
static json_t *transport_details(const struct auth_transport *tr)
{
	json_t *cert = tr && tr->cert ? json_incref((json_t *)tr->cert) : json_null();

	return json_pack("{s:O, s:o}", "client_cert", cert, "peer_cert", cert);
}

json_t *auth_dynamic_args(const struct auth_pending *st, const json_t *hello_details,
                          const struct auth_transport *tr, const char *ticket)
{
	json_t *details = hello_details ? json_deep_copy(hello_details) : json_object();

	if (!details)
		return NULL;
	/* the router's word over any HELLO key of these names */
	if (json_object_set_new(details, "session", json_integer((json_int_t)st->session_id)) ||
	    json_object_set_new(details, "authmethod", json_string(auth_method_name(st->method))) ||
	    json_object_set_new(details, "transport", transport_details(tr)) ||
	    (ticket && json_object_set_new(details, "ticket", json_string(ticket)))) {
		json_decref(details);
		return NULL;
	}
	/* a resume token is the client's bearer secret for its session (docs/resumption.md):
	 * the authenticator is told a resume is asked (session, received), not the token */
	json_object_del(json_object_get(details, "resume"), "token");
	return json_pack("[s, s?, o]", st->realm, st->authid, details);
}

bool auth_config_asks(const struct auth_config *cfg)
{
	for (int i = 0; cfg && i < AUTH__COUNT; i++)
		if (cfg->m[i].enabled && cfg->m[i].dynamic && !cfg->m[i].refusal)
			return true;
	return false;
}

/* The common part of a principal from an authenticator's answer: a role (the answer itself
 * when a string), authid (the HELLO's unless the answer names one) and extra; the method's
 * answer operation reads the credentials. NULL when it has no role (or out of memory). */
static struct auth_principal *principal_from_answer(const struct auth_pending *st,
                                                    const json_t *answer)
{
	struct auth_principal *p = calloc(1, sizeof(*p));
	const char *role = json_is_string(answer) ? json_string_value(answer)
	                                          : wamp_dict_str(answer, "role", NULL);
	const char *authid = wamp_dict_str(answer, "authid", NULL);
	const json_t *extra = json_object_get(answer, "extra");

	if (!p)
		return NULL;
	p->method = st->method;
	p->role = role ? strdup(role) : NULL;
	p->authid = strdup(authid ? authid : st->authid ? st->authid : "");
	if (json_is_object(answer) && json_is_object(extra))
		p->authextra = json_deep_copy(extra);
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
	const struct auth_method_ops *ops = methods[st->method];
	struct auth_principal *p = principal_from_answer(st, answer);
	enum wampd_err err;

	*extra = NULL;
	if (!p)
		return WAMPD_ERR_AUTH_FAILED;
	if (st->own_principal)
		auth_principal_free(st->principal);
	st->principal = p;
	st->own_principal = true;
	if (!ops->answer)
		return WAMPD_ERR_AUTH_FAILED;
	err = ops->answer(st, answer, step, id);
	if (err == WAMPD_OK && *step == AUTH_STEP_CHALLENGE)
		err = ops->challenge(st, extra);
	return err;
}

enum wampd_err auth_authenticate(struct auth_pending *st, const char *signature, size_t sig_len,
                                 const json_t *extra, enum auth_step *step,
                                 struct auth_identity *id)
{
	const struct auth_method_ops *ops = methods[st->method];

	*step = AUTH_STEP_WELCOME;
	if (!ops->authenticate)
		return WAMPD_ERR_AUTH_FAILED;
	return ops->authenticate(st, signature, sig_len, extra, step, id);
}

/* ---- configuration ---- */

bool auth_config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

bool auth_config_dup(const char *s, char **out, char *err, size_t errlen)
{
	if (s && !(*out = strdup(s)))
		return auth_config_fail(err, errlen, "out of memory");
	return true;
}

enum auth_principals auth_method_principals(enum auth_method m, const char **key)
{
	*key = methods[m]->principals_key;
	return methods[m]->principals;
}

bool auth_method_configure(enum auth_method m, struct auth_method_config *mc, const json_t *o,
                           char *err, size_t errlen)
{
	/* another method's setting here is a mistake worth naming */
	for (int i = 0; i < AUTH__COUNT; i++)
		for (const char *const *k = methods[i]->settings; i != (int)m && k && *k; k++)
			if (json_object_get(o, *k))
				return auth_config_fail(err, errlen, "%s applies to %s only", *k,
				                        methods[i]->name);
	return !methods[m]->configure || methods[m]->configure(mc, o, err, errlen);
}

const char *auth_config_tls_only(const struct auth_config *cfg, enum auth_method *m)
{
	for (int i = 0; i < AUTH__COUNT; i++) {
		const char *what = methods[i]->tls_only ? methods[i]->tls_only(&cfg->m[i]) : NULL;

		if (what) {
			*m = (enum auth_method)i;
			return what;
		}
	}
	return NULL;
}

bool auth_principal_configure(enum auth_method m, struct auth_principal *p, const json_t *o,
                              char *err, size_t errlen)
{
	if (methods[m]->principals == AUTH_PRINCIPALS_NONE)
		return auth_config_fail(err, errlen, "this method has no principals");
	p->method = m;
	return !methods[m]->configure_principal || methods[m]->configure_principal(p, o, err, errlen);
}
