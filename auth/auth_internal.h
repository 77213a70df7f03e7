/*
 * auth_internal.h - what the authenticator files of auth/ share (not for other layers).
 */
#ifndef WAMPD_AUTH_INTERNAL_H
#define WAMPD_AUTH_INTERNAL_H

#include "auth/auth.h"

/* Fill id (copies everything). WAMPD_OK or WAMPD_ERR_NOMEM (id cleared). */
enum wampd_err auth_identity_set(struct auth_identity *id, const char *authid,
                                 const char *role, enum auth_method method,
                                 const char *provider, const json_t *authextra);

struct auth_principal *auth_find_principal(const struct auth_method_config *m,
                                           const char *authid, const char *realm);

/* base64 (standard alphabet, padded) of n bytes as a new string; NULL on NOMEM
 * (wampcra_key.c). */
char *auth_base64(const uint8_t *bin, size_t n);

/* wampcra.c */
enum wampd_err auth_wampcra_challenge(struct auth_pending *st, json_t **extra);
enum wampd_err auth_wampcra_verify(struct auth_pending *st, const char *sig, size_t len,
                                   const char *provider, struct auth_identity *id);

/* cryptosign.c */
enum wampd_err auth_cryptosign_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                     const json_t *details, enum auth_step *step,
                                     json_t **extra);
enum wampd_err auth_cryptosign_challenge(struct auth_pending *st, json_t **extra);
enum wampd_err auth_cryptosign_verify(struct auth_pending *st, const char *sig, size_t len,
                                      const char *provider, struct auth_identity *id);

/* scram.c */
/* Check a SCRAM HELLO (authid, client nonce, no channel binding) and keep what the
 * exchange needs in st. WAMPD_ERR_AUTH_FAILED for a HELLO SCRAM cannot serve. */
enum wampd_err auth_scram_hello(struct auth_pending *st, const char *method_name,
                                const json_t *details);
/* Static principal p (borrowed; NULL: unknown authid, a decoy that fails at the end is
 * made) becomes st's principal; then the CHALLENGE extra. */
enum wampd_err auth_scram_static(struct auth_pending *st, struct auth_principal *p,
                                 json_t **extra);
enum wampd_err auth_scram_challenge(struct auth_pending *st, json_t **extra);
enum wampd_err auth_scram_verify(struct auth_pending *st, const char *sig, size_t len,
                                 const json_t *extra, const char *provider,
                                 struct auth_identity *id);
/* A dynamic authenticator's SCRAM credentials (Crossbar's answer: kdf, iterations, memory,
 * salt, stored-key, server-key; hex) into p. false if one is missing or unusable. */
bool auth_scram_principal_from_answer(struct auth_principal *p, const json_t *answer);

#endif
