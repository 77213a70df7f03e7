/*
 * ticket.c - ticket authentication (advanced/authentication_ticket.md): the client sends a
 * shared secret in AUTHENTICATE.
 *
 * The CHALLENGE carries nothing (Extra {}). A static principal's ticket is compared in
 * constant time (auth_str_equal). A dynamic method asks the authenticator only once it has
 * the ticket (in the call's details), so its CHALLENGE comes first and its answer (a role,
 * or {role, authid, extra}) completes authentication.
 *
 * The credential (p->cred) is the ticket itself, a string wiped when freed.
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

static enum wampd_err ticket_challenge(struct auth_pending *st, json_t **extra)
{
	(void)st;
	return (*extra = json_object()) ? WAMPD_OK : WAMPD_ERR_NOMEM;
}

static enum wampd_err ticket_authenticate(struct auth_pending *st, const char *sig, size_t len,
                                          const json_t *extra, enum auth_step *step,
                                          struct auth_identity *id)
{
	const char *ticket;

	(void)extra;
	if (st->decoy)
		return WAMPD_ERR_AUTH_FAILED; /* an unknown authid (auth_static_challenge) */
	if (!st->principal) {
		/* dynamic: the authenticator decides */
		*step = AUTH_STEP_DYNAMIC;
		return WAMPD_OK;
	}
	ticket = st->principal->cred;
	if (!ticket || !auth_str_equal(sig, len, ticket, strlen(ticket)))
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_of(st, NULL, id);
}

/* "ticket" (required). */
static bool ticket_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                       size_t errlen)
{
	const char *ticket = wamp_dict_str(o, "ticket", NULL);
	char *copy = NULL;

	if (!ticket)
		return auth_config_fail(err, errlen, "ticket is required");
	if (!auth_config_dup(ticket, &copy, err, errlen))
		return false;
	p->cred = copy;
	return true;
}

static void ticket_free_cred(void *cred)
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
	.challenge = ticket_challenge,
	.authenticate = ticket_authenticate,
	.configure_principal = ticket_configure_principal,
	.free_cred = ticket_free_cred,
};
