/*
 * anonymous.c - the anonymous authenticator. The authid is 12 random characters from an
 * unambiguous alphabet (no 0/O, 1/I), grouped by four, drawn with libsodium.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

void auth_identity_clear(struct auth_identity *id)
{
	free(id->authid);
	free(id->authrole);
	free(id->authmethod);
	free(id->authprovider);
	json_decref(id->authextra);
	memset(id, 0, sizeof(*id));
}

static void auth_random_authid(char out[15])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	int o = 0;

	for (int i = 0; i < 12; i++) {
		if (i && i % 4 == 0)
			out[o++] = '-';
		out[o++] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	}
	out[o] = '\0';
}

enum wampd_err auth_anonymous(const json_t *hello_details, const char *role,
                              struct auth_identity *id)
{
	char authid[15];

	(void)hello_details;
	memset(id, 0, sizeof(*id));
	auth_random_authid(authid);
	id->authid = strdup(authid);
	id->authrole = strdup(role ? role : "anonymous");
	id->authmethod = strdup("anonymous");
	id->authprovider = strdup("static");
	if (!id->authid || !id->authrole || !id->authmethod || !id->authprovider) {
		auth_identity_clear(id);
		return WAMPD_ERR_NOMEM;
	}
	return WAMPD_OK;
}
