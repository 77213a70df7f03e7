/*
 * tls.c - TLS client-certificate authentication: the certificate the TLS handshake verified
 * names the client.
 *
 * Usable only on a connection with a verified client certificate (the listener's
 * ca_certificates); then also chosen when the client offers no method. Who it is:
 * - a principal whose "certificate-sha1" (Crossbar's way: hex, colons allowed) is the
 *   certificate's SHA-1 fingerprint: its authid and role (compared in constant time, every
 *   such principal each time);
 * - else the principal named by the certificate's common name, unless that principal is
 *   one named by its fingerprint (then another certificate with its CN is not it);
 * - else the method's "role" with the common name as authid (none: refused).
 * No CHALLENGE. A dynamic method asks the authenticator (Crossbar's dynamic tls) with the
 * common name as authid and the certificate's facts in details.transport.client_cert (and
 * peer_cert: auth_dynamic_args; taken from the transport, never from HELLO); its answer (a
 * role, or {role, authid, extra}; authid by default the common name) completes it, an
 * error refuses it. A connection without a verified certificate never gets this far
 * (tls_usable): it is refused before anyone is asked.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "common/hex.h"
#include "serializers/wamp_msg.h"

#define TLS_SHA1_LEN 20

static bool tls_usable(const struct auth_transport *tr)
{
	return tr && tr->tls_cn;
}

/* The principal (of realm) whose fingerprint is sha1, or NULL. */
static const struct auth_principal *tls_by_fingerprint(const struct auth_method_config *mc,
                                                       const uint8_t *sha1, const char *realm)
{
	const struct auth_principal *p, *tmp, *found = NULL;

	if (!sha1)
		return NULL;
	/* every principal, whether an earlier one matched or not */
	HASH_ITER(hh, mc->principals, p, tmp)
		if (p->cred && !sodium_memcmp(p->cred, sha1, TLS_SHA1_LEN) &&
		    (!p->realm || !strcmp(p->realm, realm)) && !found)
			found = p;
	return found;
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
	/* the principal of that fingerprint, of that common name, or the default role */
	if (!(p = tls_by_fingerprint(mc, tr->cert_sha1, st->realm))) {
		p = auth_find_principal(mc, st->authid, st->realm);
		if (p && p->cred)
			p = NULL; /* named by its fingerprint only */
	}
	*step = AUTH_STEP_WELCOME;
	if (!p && !mc->role)
		return WAMPD_ERR_AUTH_FAILED;
	return auth_identity_set(id, p ? p->authid : st->authid, p ? p->role : mc->role,
	                         st->method_name, "static", p ? p->authextra : NULL);
}

/* "role" (static only; none: only principals are admitted). */
static bool tls_configure(struct auth_method_config *mc, const json_t *o, char *err,
                          size_t errlen)
{
	return mc->dynamic || auth_config_dup(wamp_dict_str(o, "role", NULL), &mc->role, err, errlen);
}

/* A principal's "certificate-sha1" (optional): 20 bytes of hex, colons between them or not,
 * any case, into p->cred. */
static bool tls_configure_principal(struct auth_principal *p, const json_t *o, char *err,
                                    size_t errlen)
{
	const char *hex = wamp_dict_str(o, "certificate-sha1", NULL);
	char digits[2 * TLS_SHA1_LEN];
	size_t n = 0, got = 0;

	if (!hex)
		return true;
	for (; *hex && n < sizeof(digits); hex++)
		if (*hex != ':')
			digits[n++] = *hex;
	if (!(p->cred = malloc(TLS_SHA1_LEN)))
		return auth_config_fail(err, errlen, "out of memory");
	if (*hex || !hex_decode(digits, n, p->cred, TLS_SHA1_LEN, &got) || got != TLS_SHA1_LEN)
		return auth_config_fail(err, errlen, "certificate-sha1 must be a SHA-1 fingerprint: "
		                        "20 bytes in hex (colons between them allowed)");
	return true;
}

const struct auth_method_ops auth_tls_ops = {
	.name = "tls",
	.principals = AUTH_PRINCIPALS_OPTIONAL,
	.principals_key = "principals",
	.usable = tls_usable,
	.hello = tls_hello,
	.answer = auth_answer_welcome,
	.configure = tls_configure,
	.configure_principal = tls_configure_principal,
	.free_cred = free,
};
