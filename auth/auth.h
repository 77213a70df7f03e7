/*
 * auth.h - authenticators: who is this client? (authid, authrole, authmethod, ...)
 *
 * The session state machine (router/) asks an authenticator for an identity on HELLO.
 * Challenge-response methods (ticket, wampcra, cryptosign, scram) build on the same
 * identity structure; auth/ knows nothing about realms' tables or transports.
 */
#ifndef WAMPD_AUTH_AUTH_H
#define WAMPD_AUTH_AUTH_H

#include <jansson.h>

#include "common/err.h"

struct auth_identity {
	char *authid;       /* owned */
	char *authrole;     /* owned */
	char *authmethod;   /* owned */
	char *authprovider; /* owned */
	json_t *authextra;  /* owned, may be NULL */
};

/* Release what id owns and zero it. */
void auth_identity_clear(struct auth_identity *id);

/*
 * Anonymous authentication: authrole `role` (borrowed; "anonymous" if NULL), a random
 * authid of the form XXXX-XXXX-XXXX (Crossbar's shape), authmethod "anonymous",
 * authprovider "static". hello_details is borrowed and not used today.
 * Returns WAMPD_OK or WAMPD_ERR_NOMEM (id then cleared).
 */
enum wampd_err auth_anonymous(const json_t *hello_details, const char *role,
                              struct auth_identity *id);

#endif
