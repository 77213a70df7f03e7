/*
 * tls.c - TLS client-certificate authentication: the certificate the TLS handshake verified
 * names the client.
 *
 * Usable only on a connection with a verified client certificate (the listener's
 * ca_certificates); then also chosen when the client offers no method. The authid is the
 * certificate's common name; the role that of the principal of that name, or else the
 * method's "role" (none: refused). No CHALLENGE. A dynamic method asks the authenticator,
 * but no answer completes it (refused, as before the method table).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "serializers/wamp_msg.h"

static bool tls_usable(const struct auth_transport *tr)
{
	return tr && tr->tls_cn;
}

static enum wampd_err tls_hello(const struct auth_method_config *mc, struct auth_pending *st,
                                const json_t *details, const struct auth_transport *tr,
                                enum auth_step *step, struct auth_identity *id)
{
	const struct auth_principal *p;

	(void)details;
	/* the certificate names the client, whatever HELLO.authid says */
	free(st->authid);
	if (!(st->authid = strdup(tr->tls_cn)))
		return WAMPD_ERR_NOMEM;
	if (mc->dynamic)
		return auth_ask_first(step);
	/* a principal of that common name, or the method's default role */
	p = auth_find_principal(mc, st->authid, st->realm);
	*step = AUTH_STEP_WELCOME;
	if (!p && !mc->role)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_set(id, st->authid, p ? p->role : mc->role, st->method_name, "static",
	                         p ? p->authextra : NULL);
}

/* "role" (static only; none: only principals are admitted). */
static bool tls_configure(struct auth_method_config *mc, const json_t *o, char *err,
                          size_t errlen)
{
	return mc->dynamic || auth_config_dup(wamp_dict_str(o, "role", NULL), &mc->role, err, errlen);
}

const struct auth_method_ops auth_tls_ops = {
	.name = "tls",
	.principals = AUTH_PRINCIPALS_OPTIONAL,
	.principals_key = "principals",
	.usable = tls_usable,
	.hello = tls_hello,
	.configure = tls_configure,
};
