/*
 * anonymous.c - anonymous authentication: no proof, the listener's role.
 *
 * The authid is random, of the form XXXX-XXXX-XXXX (Crossbar's shape, from an alphabet
 * without look-alike characters); authprovider "static". A dynamic method asks the
 * authenticator, whose answer (a role, or {role, authid, extra}) completes it.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "common/ids.h"
#include "serializers/wamp_msg.h"

static void anonymous_authid(struct ids_gen *ids, char out[15])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	int o = 0;

	for (int i = 0; i < 12; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[ids_uniform(ids, sizeof(alphabet) - 1)];
	}
	out[o] = '\0';
}

static enum wampd_err anonymous_hello(const struct auth_method_config *mc,
                                      struct auth_pending *st, const json_t *details,
                                      const struct auth_transport *tr, enum auth_step *step,
                                      struct auth_identity *id)
{
	char authid[15];

	(void)details;
	(void)tr;
	if (mc->dynamic)
		return auth_ask_first(step);
	*step = AUTH_STEP_WELCOME;
	anonymous_authid(st->ids, authid);
	return auth_identity_set(id, authid, mc->role, st->method_name, "static", NULL);
}

/* "role" (static only: default "anonymous"). */
static bool anonymous_configure(struct auth_method_config *mc, const json_t *o, char *err,
                                size_t errlen)
{
	return mc->dynamic ||
	       auth_config_dup(wamp_dict_str(o, "role", "anonymous"), &mc->role, err, errlen);
}

const struct auth_method_ops auth_anonymous_ops = {
	.name = "anonymous",
	.principals = AUTH_PRINCIPALS_NONE,
	.hello = anonymous_hello,
	.answer = auth_answer_welcome,
	.configure = anonymous_configure,
};
