/*
 * auth.h - authenticators (who is this client?) and the static authorizer (may it do this?).
 *
 * Authentication follows the WAMP CHALLENGE/AUTHENTICATE flow:
 *   auth_hello()        picks a method among those the client offers (HELLO.Details.
 *                       authmethods, in the client's order) and the listener enables; for
 *                       anonymous (and tls) it yields the identity at once, otherwise it
 *                       prepares the pending state and the CHALLENGE.Extra to send;
 *   auth_authenticate() checks the AUTHENTICATE signature against the pending state and
 *                       yields the identity (and WELCOME.Details.authextra) or an error.
 * Methods whose principals live in a WAMP procedure ("dynamic") are driven by the router:
 * auth_hello() says so, and the router calls the authenticator and feeds its answer back
 * through auth_dynamic_principal().
 *
 * Each method is one row of a table of operations (struct auth_method_ops in
 * auth_internal.h: hello, challenge, answer, authenticate, configure, free), like
 * mosquitto's extended-auth events or redis' ConnectionType, with its code in its own file
 * (anonymous.c, ticket.c, wampcra.c, cryptosign.c, scram.c, tls.c, trusted.c). auth.c picks the row
 * and does what every method shares (selection, the pending state, the authenticator's
 * answer's common part); what is particular to a method (its credentials, settings and
 * challenge state) sits behind opaque pointers that only its own file reads.
 *
 * Secrets are compared in constant time; failures never say whether the authid exists.
 * auth/ uses libsodium for randomness, HMAC-SHA256, SHA-256, Ed25519 and Argon2id, and
 * OpenSSL's libcrypto only for PBKDF2 (which libsodium lacks).
 */
#ifndef WAMPD_AUTH_AUTH_H
#define WAMPD_AUTH_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "common/err.h"
#include "common/ids.h"

/* The methods, in the order of the metrics and the admin statistics. Each is one row of
 * the method table (auth.c; the operations in auth_internal.h, each method's code in its own
 * file): nothing outside that table tells the methods apart. */
enum auth_method {
	AUTH_ANONYMOUS = 0,
	AUTH_TICKET,
	AUTH_WAMPCRA,
	AUTH_CRYPTOSIGN,
	AUTH_SCRAM,
	AUTH_TLS,
	AUTH_TRUSTED, /* wampd's own router components only (trusted.c): no configuration
	                 enables it (auth_method_configurable) */
	AUTH__COUNT
};

struct auth_identity {
	char *authid;       /* owned */
	char *authrole;     /* owned */
	char *authmethod;   /* owned */
	char *authprovider; /* owned */
	json_t *authextra;  /* owned, may be NULL (WELCOME.Details.authextra) */
};

/* One principal (user): configured (static) or an authenticator's answer (dynamic). What
 * proves it is the method's (cred: a ticket, a wampcra secret, Ed25519 keys, SCRAM keys),
 * opaque outside auth/; auth_principal_configure() fills it from the configuration. */
struct auth_principal {
	char *authid;
	char *role;
	char *realm;                /* restricts the principal to one realm, or NULL */
	json_t *authextra;          /* returned in WELCOME.Details.authextra, or NULL */
	enum auth_method method;    /* whose credentials cred holds */
	void *cred;                 /* owned by the method's code; NULL: none (tls, a dynamic
	                               anonymous or ticket answer) */
	UT_hash_handle hh;          /* by authid */
};

struct auth_method_config {
	bool enabled;
	bool dynamic;               /* principals come from an authenticator procedure */
	char *authenticator;        /* its URI */
	char *authenticator_realm;  /* realm it is registered on (NULL: the session's realm) */
	char *authenticator_role;   /* only sessions of this authrole may register it (NULL: see
	                               router/core/procguard.c for who may) */
	char *role;                 /* the role of a client admitted without a principal
	                               (anonymous; tls for a certificate no principal names) */
	void *opts;                 /* the method's own settings (cryptosign:
	                               require_channel_binding), owned by its code, or NULL;
	                               auth_method_configure() sets them */
	struct auth_principal *principals; /* by authid (static) */
	char *refusal;              /* type "refused" (a Crossbar function authenticator: Python
	                               code no wampd runs): a HELLO that picks the method gets
	                               ABORT wamp.error.not_authorized with this message */
};

/* Authentication of one listener (transport). */
struct auth_config {
	struct auth_method_config m[AUTH__COUNT];
};

/* What the transport knows about the client (borrowed, may be all NULL). */
struct auth_transport {
	const char *tls_cn;         /* common name of a verified TLS client certificate */
	const uint8_t *cert_sha1;   /* its SHA-1 fingerprint (20 bytes), or NULL */
	const uint8_t *channel_id;  /* tls-unique channel binding (32 bytes) */
	const json_t *cert;         /* that verified certificate's facts as Crossbar shows them
	                               to authenticators (details.transport.client_cert: sha1,
	                               subject, issuer, serial, not_before, ...), or NULL (none,
	                               or the listener has no dynamic method: auth_config_asks) */
};

/* What the router keeps between HELLO and WELCOME. */
struct auth_pending {
	enum auth_method method;
	const char *method_name;    /* static: the method as the client named it (scram:
	                               "scram" or "wamp-scram"), said back in CHALLENGE and
	                               WELCOME */
	char *realm;
	char *authid;
	struct auth_principal *principal; /* borrowed (static) or owned (dynamic: own_principal) */
	bool own_principal;
	uint64_t session_id;
	struct ids_gen *ids;        /* the loop's id generator (borrowed): challenges' nonces,
	                               salts and anonymous authids are drawn from it */
	void *state;                /* the method's own (its challenge, nonces), owned by its
	                               code, or NULL */
	bool decoy;                 /* static method, unknown authid: challenged like a known
	                               one and failed at AUTHENTICATE, so that HELLO does not
	                               tell which authids exist */
	const char *refusal;        /* the picked method is refused: why (borrowed from its
	                               configuration), or NULL */
};

/* Release what id owns and zero it. */
void auth_identity_clear(struct auth_identity *id);

/* Release what st owns (the method's state too) and zero it. */
void auth_pending_clear(struct auth_pending *st);

/* "anonymous", "ticket", "wampcra", "cryptosign", "scram", "tls", "trusted"; and back (-1
 * unknown; "wamp-scram" is scram). */
const char *auth_method_name(enum auth_method m);
int auth_method_from_name(const char *name);

/* Whether a listener's configuration may enable method m: false for the methods only wampd
 * itself sets up ("trusted": its router components' internal listener, router/workers/). */
bool auth_method_configurable(enum auth_method m);

/* Release a config's principals, strings and the methods' settings. */
void auth_config_clear(struct auth_config *cfg);

/* Free one principal (and what it owns, its credentials too). NULL is a no-op. */
void auth_principal_free(struct auth_principal *p);

/* ---- configuration (the listener's "auth" object; router/config/config_auth.c reads the
 * shapes and the types, these the meaning) ---- */

/* Whether a static method lists principals, and under which key of its object. */
enum auth_principals {
	AUTH_PRINCIPALS_NONE,     /* anonymous */
	AUTH_PRINCIPALS_OPTIONAL, /* tls: by certificate common name, besides "role" */
	AUTH_PRINCIPALS_REQUIRED,
};
enum auth_principals auth_method_principals(enum auth_method m, const char **key);

/*
 * The method's own settings from its configuration object o (borrowed; "type" already read
 * into mc->dynamic, the common keys' types checked): the role of anonymous and tls,
 * cryptosign's require_channel_binding. A setting of another method fails ("... applies to
 * cryptosign only"). false with a message in err (errlen bytes); what was set stays in mc
 * for auth_config_clear.
 */
bool auth_method_configure(enum auth_method m, struct auth_method_config *mc, const json_t *o,
                           char *err, size_t errlen);

/* A setting of cfg that only a TLS listener can honour (its method into *m), or NULL. */
const char *auth_config_tls_only(const struct auth_config *cfg, enum auth_method *m);

/*
 * The credentials of principal p (authid and role already set) of a static method m from
 * its configuration object o (borrowed; the config reader has checked the types and ranges
 * of the keys it knows: iterations 1..1e8, keylen 1..256, memory 8..4Mi). Derives keys from
 * a "password" where the method stores derived keys. false with a message in err; what was
 * set stays in p for auth_principal_free.
 */
bool auth_principal_configure(enum auth_method m, struct auth_principal *p, const json_t *o,
                              char *err, size_t errlen);

/* ---- the exchange ---- */

enum auth_step {
	AUTH_STEP_WELCOME,   /* *id is set: send WELCOME */
	AUTH_STEP_CHALLENGE, /* *extra is set: send CHALLENGE [st->method_name, extra] */
	AUTH_STEP_DYNAMIC,   /* ask the authenticator procedure (auth_dynamic_args), then call
	                        auth_dynamic_principal() with its answer */
};

/*
 * Start authentication for a HELLO to `realm` with details (borrowed). session_id is the
 * id the session will get (wampcra puts it into its challenge); tr (may be NULL) what the
 * transport knows (a TLS client certificate selects the "tls" method when the listener
 * enables it and the client offers it or offers no method at all); ids the calling loop's
 * generator (borrowed, kept in st for the challenges: it must outlive st). On success returns
 * WAMPD_OK and *step; st holds the pending state (clear it with auth_pending_clear, also
 * after a failure). On failure: WAMPD_ERR_NO_AUTH_METHOD (nothing offered matches),
 * WAMPD_ERR_AUTH_FAILED (unknown principal, bad HELLO for the method),
 * WAMPD_ERR_NOT_AUTHORIZED (the method picked is configured "refused": st->refusal says
 * why), WAMPD_ERR_NOMEM.
 */
enum wampd_err auth_hello(const struct auth_config *cfg, const char *realm,
                          const json_t *details, uint64_t session_id,
                          const struct auth_transport *tr, struct ids_gen *ids,
                          struct auth_pending *st, enum auth_step *step, json_t **extra,
                          struct auth_identity *id);

/*
 * Arguments for the authenticator procedure: [realm, authid, details] (a new reference, NULL
 * on allocation failure). details is HELLO.Details (borrowed; the client's own claims, its
 * authid and authextra among them) with what the router says over it: "session",
 * "authmethod", the "ticket" (when not NULL) and "transport" from tr (borrowed, may be
 * NULL): {"client_cert": tr->cert, "peer_cert": tr->cert} (null without one; both names,
 * Crossbar's older and current), so no HELLO can claim a certificate. The channel binding is
 * never passed. For tls the authid is the certificate's CN (auth_hello), not HELLO's.
 */
json_t *auth_dynamic_args(const struct auth_pending *st, const json_t *hello_details,
                          const struct auth_transport *tr, const char *ticket);

/* Whether a method of cfg (NULL: none) asks an authenticator, which is then shown the
 * transport's certificate facts (auth_transport.cert; a transport builds them only then). */
bool auth_config_asks(const struct auth_config *cfg);

/*
 * Feed the authenticator's answer (its first result argument; borrowed) for the pending
 * state. For ticket, anonymous and tls this completes authentication (*step WELCOME, *id
 * set: a role string, or {role, authid, extra}; the authid by default HELLO's, tls' the
 * certificate's CN);
 * for wampcra/cryptosign/scram it supplies the principal and yields the CHALLENGE.
 * Errors: WAMPD_ERR_AUTH_FAILED (answer unusable, or a method no authenticator can
 * serve), WAMPD_ERR_NOMEM.
 */
enum wampd_err auth_dynamic_principal(struct auth_pending *st, const json_t *answer,
                                      enum auth_step *step, json_t **extra,
                                      struct auth_identity *id);

/*
 * Check AUTHENTICATE [signature, extra] (borrowed) against st. On success sets *id (and
 * id->authextra for WELCOME). For a dynamic ticket, *step is AUTH_STEP_DYNAMIC: the router
 * calls the authenticator with the ticket, then auth_dynamic_principal(). Errors:
 * WAMPD_ERR_AUTH_FAILED (also for a method that sends no CHALLENGE), WAMPD_ERR_NOMEM.
 */
enum wampd_err auth_authenticate(struct auth_pending *st, const char *signature, size_t sig_len,
                                 const json_t *extra, enum auth_step *step,
                                 struct auth_identity *id);

/* ---- primitives (exported for the known-answer tests) ---- */

/* Autobahn's wampcra key derivation: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations,
 * keylen)), as a new string. NULL on failure. */
char *auth_wampcra_derive_key(const char *secret, const char *salt, uint32_t iterations,
                              uint32_t keylen);

/* base64(HMAC-SHA256(key, challenge)) as a new string (the wampcra signature). */
char *auth_wampcra_sign(const char *key, const char *challenge);

/* SCRAM credentials from a password: stored_key and server_key (32 bytes each).
 * kdf "argon2id13" (iterations = time cost, memory in KiB) or "pbkdf2". false on failure. */
bool auth_scram_derive(const char *kdf, const char *password, const char *salt_b64,
                       uint32_t iterations, uint32_t memory, uint8_t stored_key[32],
                       uint8_t server_key[32]);

/* Constant-time equality of two strings (lengths may differ; the time does not depend on
 * where they differ). */
bool auth_str_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
