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
enum wampd_err auth_scram_hello(struct auth_pending *st, const char *method_name,
                                const json_t *details, struct auth_principal *p,
                                enum auth_step *step, json_t **extra);
enum wampd_err auth_scram_challenge(struct auth_pending *st, json_t **extra);
enum wampd_err auth_scram_verify(struct auth_pending *st, const char *sig, size_t len,
                                 const json_t *extra, const char *provider,
                                 struct auth_identity *id);
void auth_scram_principal_from_answer(struct auth_principal *p, const json_t *answer);

#endif
