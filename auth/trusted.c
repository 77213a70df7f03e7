/*
 * trusted.c - the method of wampd's own router components (router/workers/workers.c):
 * sessions that Crossbar would run inside its router worker, and that wampd runs in a child
 * process joining over an internal RawSocket listener. Their sessions say authmethod
 * "trusted", as Crossbar's router-embedded sessions are called (its RouterApplicationSession
 * keeps "trusted" authentication information: a fixed authid and role, no handshake).
 *
 * Trusted is not taken on faith here: a component proves the random secret wampd made for
 * it at start and handed to its launcher alone (on a memfd stdin). The exchange is ticket's:
 * HELLO names the authid, the CHALLENGE carries nothing (Extra {}), AUTHENTICATE carries the
 * secret, compared in constant time (auth_str_equal); an unknown authid is challenged as a
 * decoy and fails like a wrong secret. The principal's realm and role are the component's.
 *
 * Nobody else can pick the method: the row is wampd_only (auth_method_configurable() is
 * false, so the configuration reader refuses "trusted" on any listener, and no authenticator
 * can answer for it: it is never dynamic), and only the internal listener, which wampd makes
 * itself, enables it. A HELLO offering "trusted" anywhere else finds no method
 * (wamp.error.no_matching_auth_method).
 *
 * The credential (p->cred) is the secret itself, a string wiped when freed: the challenge,
 * the check and the credential are ticket.c's (auth_secret_*); only HELLO differs.
 */
#include "auth/auth_internal.h"

static enum wampd_err trusted_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                    const json_t *details, const struct auth_transport *tr,
                                    enum auth_step *step, struct auth_identity *id)
{
	(void)details;
	(void)tr;
	(void)id;
	if (mc->dynamic)
		return WAMPD_ERR_AUTH_FAILED; /* never: no authenticator speaks for a component */
	return auth_static_challenge(mc, st, step);
}

static enum wampd_err trusted_authenticate(struct auth_pending *st, const char *sig, size_t len,
                                           const json_t *extra, enum auth_step *step,
                                           struct auth_identity *id)
{
	(void)extra;
	(void)step;
	return auth_secret_check(st, sig, len, id);
}

/* "secret" (required): wampd's random secret for the component. */
static bool trusted_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                        size_t errlen)
{
	return auth_secret_configure(p, o, "secret", err, errlen);
}

const struct auth_method_ops auth_trusted_ops = {
	.name = "trusted",
	.wampd_only = true,
	.principals = AUTH_PRINCIPALS_REQUIRED,
	.principals_key = "principals",
	.hello = trusted_hello,
	.challenge = auth_secret_challenge,
	.authenticate = trusted_authenticate,
	.configure_principal = trusted_configure_principal,
	.free_cred = auth_secret_free,
};
