/*
 * auth_internal.h - what the files of auth/ share (not for other layers): the method table
 * and the helpers the methods use.
 *
 * One row (struct auth_method_ops) per method, in its own file; auth.c holds the table
 * indexed by enum auth_method and is the only place that picks a row. The rows' facts
 * (names, how principals are configured) serve selection and the configuration reader;
 * its operations are called in this order for one session:
 *
 *   hello        HELLO: checks what the method needs from it, finds a static principal (or
 *                says the authenticator must be asked), keeps what the exchange needs in
 *                st->state; yields WELCOME (anonymous, tls), CHALLENGE or DYNAMIC;
 *   answer       the dynamic authenticator's answer: the principal's credentials into
 *                st->principal->cred; yields WELCOME (anonymous, ticket, tls) or CHALLENGE;
 *   challenge    after a CHALLENGE step: CHALLENGE.Extra (and the state to check against);
 *   authenticate AUTHENTICATE: the signature against st; yields WELCOME (or DYNAMIC: a
 *                dynamic ticket is checked by the authenticator).
 *
 * Every operation returns WAMPD_OK, WAMPD_ERR_AUTH_FAILED (refused: the same for an unknown
 * principal and a wrong secret) or WAMPD_ERR_NOMEM; what it allocated before failing stays
 * in st (or p, mc) and is freed by auth_pending_clear (auth_principal_free,
 * auth_config_clear) through the free operations. A NULL operation: the method has no such
 * step (auth.c refuses it, or skips it where nothing is to be done).
 */
#ifndef WAMPD_AUTH_INTERNAL_H
#define WAMPD_AUTH_INTERNAL_H

#include "auth/auth.h"

struct auth_method_ops {
	const char *name;            /* config key, HELLO authmethods, metrics label */
	const char *alias;           /* another name clients offer it by ("wamp-scram"), or NULL */
	bool wampd_only;             /* only wampd enables it, on a listener it makes itself (its
	                                router components'): no configuration may name it */
	enum auth_principals principals; /* how a static method is configured */
	const char *principals_key;  /* ... and under which key ("users": Crossbar's wampcra) */
	const char *const *settings; /* its own keys in the method's config object (NULL-ended),
	                                or NULL: another method's object may not have them */

	/* May this transport's client use the method at all? NULL: yes. */
	bool (*usable)(const struct auth_transport *tr);
	enum wampd_err (*hello)(const struct auth_method_config *mc, struct auth_pending *st,
	                        const json_t *details, const struct auth_transport *tr,
	                        enum auth_step *step, struct auth_identity *id);
	enum wampd_err (*answer)(struct auth_pending *st, const json_t *answer,
	                         enum auth_step *step, struct auth_identity *id);
	enum wampd_err (*challenge)(struct auth_pending *st, json_t **extra);
	enum wampd_err (*authenticate)(struct auth_pending *st, const char *sig, size_t len,
	                               const json_t *extra, enum auth_step *step,
	                               struct auth_identity *id);

	/* configuration: auth_method_configure, auth_config_tls_only, auth_principal_configure
	 * (auth.h) */
	bool (*configure)(struct auth_method_config *mc, const json_t *o, char *err, size_t errlen);
	const char *(*tls_only)(const struct auth_method_config *mc);
	bool (*configure_principal)(struct auth_principal *p, const json_t *o, char *err,
	                            size_t errlen);

	void (*free_cred)(void *cred);   /* p->cred */
	void (*free_opts)(void *opts);   /* mc->opts */
	void (*free_state)(void *state); /* st->state */
};

extern const struct auth_method_ops auth_anonymous_ops; /* anonymous.c */
extern const struct auth_method_ops auth_ticket_ops;    /* ticket.c */
extern const struct auth_method_ops auth_wampcra_ops;   /* wampcra.c */
extern const struct auth_method_ops auth_cryptosign_ops; /* cryptosign.c */
extern const struct auth_method_ops auth_scram_ops;     /* scram.c */
extern const struct auth_method_ops auth_tls_ops;       /* tls.c */
extern const struct auth_method_ops auth_trusted_ops;   /* trusted.c */

/* ---- helpers (auth.c) ---- */

/* Fill id (copies everything; role NULL: "anonymous"). WAMPD_OK or WAMPD_ERR_NOMEM (id
 * cleared). */
enum wampd_err auth_identity_set(struct auth_identity *id, const char *authid,
                                 const char *role, const char *method,
                                 const char *provider, const json_t *authextra);

/* The identity of st's principal (its authextra, or `authextra` when not NULL): the
 * method named as the client did, provider "static" or "dynamic". */
enum wampd_err auth_identity_of(const struct auth_pending *st, const json_t *authextra,
                                struct auth_identity *id);

/* "dynamic" when the principal came from an authenticator, else "static". */
const char *auth_provider(const struct auth_pending *st);

/* The static principal for (authid, realm) of the method, or NULL. */
struct auth_principal *auth_find_principal(const struct auth_method_config *m,
                                           const char *authid, const char *realm);

/* Hello for a method with a static principal that must have credentials: st's principal
 * by st->authid in st->realm, and *step CHALLENGE; an unknown authid is challenged as a
 * decoy (st->decoy, st->principal NULL: the method fails its AUTHENTICATE);
 * WAMPD_ERR_AUTH_FAILED for a principal without credentials. */
enum wampd_err auth_static_challenge(const struct auth_method_config *mc,
                                     struct auth_pending *st, enum auth_step *step);

/*
 * A shared secret sent in AUTHENTICATE, as ticket's and trusted's static principals have
 * it (defined in ticket.c): the CHALLENGE's Extra is {} (*extra a new object; NOMEM);
 * the check compares sig with the principal's secret in constant time (AUTH_FAILED for a
 * decoy or a wrong one, else the identity); the principal's secret is the string under
 * `key` of its configuration (required, copied into p->cred; false with err written) and
 * is wiped when freed.
 */
enum wampd_err auth_secret_challenge(struct auth_pending *st, json_t **extra);
enum wampd_err auth_secret_check(struct auth_pending *st, const char *sig, size_t len,
                                 struct auth_identity *id);
bool auth_secret_configure(struct auth_principal *p, const json_t *o, const char *key,
                           char *err, size_t errlen);
void auth_secret_free(void *cred);

/* base64 (standard alphabet, padded) of n bytes as a new string; NULL on NOMEM
 * (wampcra_key.c). */
char *auth_base64(const uint8_t *bin, size_t n);

/* Hello for a dynamic method whose authenticator is asked first: *step DYNAMIC. */
enum wampd_err auth_ask_first(enum auth_step *step);

/* An authenticator's answer that completes authentication (anonymous, ticket, tls): WELCOME
 * with the answer's authid (or "anonymous"), role and extra. */
enum wampd_err auth_answer_welcome(struct auth_pending *st, const json_t *answer,
                                   enum auth_step *step, struct auth_identity *id);

/* Write a message into err (errlen bytes); returns false (for the configure operations). */
bool auth_config_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A copy of s into *out (NULL stays NULL); false (with "out of memory" in err) if it
 * cannot be made. */
bool auth_config_dup(const char *s, char **out, char *err, size_t errlen);

/* ---- the methods' challenge state (st->state), declared here so the known-answer tests
 * can fix a challenge; only the method's own file reads or writes it otherwise ---- */

struct auth_wampcra_state {
	char *challenge;            /* the challenge string the client signs */
	const struct auth_principal *decoy_of; /* a decoy (st->decoy) looks like this principal:
	                                          its role, whether salted and how */
	char decoy_salt[33];        /* a decoy's salt: the same for the same authid */
};

struct auth_cryptosign_state {
	uint8_t nonce[32];          /* the challenge */
	uint8_t key[32];            /* the public key the client announced (static) */
	bool have_key;              /* false: any key of the (dynamic) principal */
	const uint8_t *channel_id;  /* tls-unique (32 bytes, borrowed from the transport) when
	                               the client binds to the channel, else NULL */
};

struct auth_scram_state {
	char *client_nonce;
	char *nonce;                /* client nonce + server nonce (CHALLENGE.Extra.nonce) */
};

#endif
