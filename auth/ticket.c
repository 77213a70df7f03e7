/*
 * ticket.c - ticket authentication (advanced/authentication_ticket.md): the client sends a
 * shared secret in AUTHENTICATE.
 *
 * The CHALLENGE carries nothing (Extra {}). A static principal's ticket is compared in
 * constant time (auth_str_equal). A dynamic method asks the authenticator only once it has
 * the ticket (in the call's details), so its CHALLENGE comes first and its answer (a role,
 * or {role, authid, extra}) completes authentication.
 *
 * The credential (p->cred) is the ticket itself, a string wiped when freed. The secret's
 * challenge, check, configuration and wiping (auth_secret_*) are shared with trusted.c.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "serializers/wamp_msg.h"

static enum wampd_err ticket_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                   const json_t *details, const struct auth_transport *tr,
                                   enum auth_step *step, struct auth_identity *id)
{
	(void)details;
	(void)tr;
	(void)id;
	if (!mc->dynamic)
		return auth_static_challenge(mc, st, step);
	*step = AUTH_STEP_CHALLENGE; /* the authenticator is asked with the ticket */
	return WAMPD_OK;
}

enum wampd_err auth_secret_challenge(struct auth_pending *st, json_t **extra)
{
	(void)st;
	return (*extra = json_object()) ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

enum wampd_err auth_secret_check(struct auth_pending *st, const char *sig, size_t len,
                                 struct auth_identity *id)
{
	const char *secret = st->principal ? st->principal->cred : NULL;

	/* a decoy (an unknown authid, auth_static_challenge) has no principal */
	if (st->decoy || !secret || !auth_str_equal(sig, len, secret, strlen(secret)))
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_of(st, NULL, id);
}

static enum wampd_err ticket_authenticate(struct auth_pending *st, const char *sig, size_t len,
                                          const json_t *extra, enum auth_step *step,
                                          struct auth_identity *id)
{
	(void)extra;
	if (!st->principal && !st->decoy) {
		/* dynamic: the authenticator decides */
		*step = AUTH_STEP_DYNAMIC;
		return WAMPD_OK;
	}
	return auth_secret_check(st, sig, len, id);
}

bool auth_secret_configure(struct auth_principal *p, const json_t *o, const char *key,
                           char *err, size_t errlen)
{
	const char *secret = wamp_dict_str(o, key, NULL);
	char *copy = NULL;

	if (!secret)
		return auth_config_fail(err, errlen, "%s is required", key);
	if (!auth_config_dup(secret, &copy, err, errlen))
		return false;
	p->cred = copy;
	return true;
}

/* "ticket" (required). */
static bool ticket_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                       size_t errlen)
{
	return auth_secret_configure(p, o, "ticket", err, errlen);
}

void auth_secret_free(void *cred)
{
	sodium_memzero(cred, strlen(cred));
	free(cred);
}

const struct auth_method_ops auth_ticket_ops = {
	.name = "ticket",
	.principals = AUTH_PRINCIPALS_REQUIRED,
	.principals_key = "principals",
	.hello = ticket_hello,
	.answer = auth_answer_welcome,
	.challenge = auth_secret_challenge,
	.authenticate = ticket_authenticate,
	.configure_principal = ticket_configure_principal,
	.free_cred = auth_secret_free,
};
