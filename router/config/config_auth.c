/*
 * config_auth.c - the "auth" object of a listener and the "roles" of a realm.
 *
 * The shapes follow Crossbar's node configuration, so its config.json blocks can be used
 * as they are:
 *
 *   "auth": {
 *     "anonymous":  {"type": "static", "role": "public"},
 *     "ticket":     {"type": "static", "principals": {"joe": {"ticket": "s", "role": "user"}}},
 *     "wampcra":    {"type": "static", "users": {"peter": {"secret": "s", "role": "user",
 *                    "salt": "salt123", "iterations": 100, "keylen": 16}}},
 *     "cryptosign": {"type": "static", "principals": {"alice": {"authorized_keys": ["hex"],
 *                    "role": "user"}}},
 *     "scram":      {"type": "static", "principals": {"bob": {"kdf": "argon2id13",
 *                    "iterations": 4096, "memory": 512, "salt": "<b64>", "password": "p",
 *                    "role": "user"}}},
 *     "tls":        {"type": "static", "role": "device", "principals": {"client_0":
 *                    {"certificate-sha1": "E0:01:DC:...", "role": "backend"}}},
 *     "<method>":   {"type": "dynamic", "authenticator": "com.example.authenticate",
 *                    "authenticator-realm": "auth", "authenticator_role": "authenticator"},
 *     "<method>":   {"type": "refused", "message": "use cryptosign"}
 *   }
 *
 * wampd's additions: "authenticator_role" (who may register the authenticator, see
 * router/core/procguard.c), for cryptosign "require_channel_binding": true (a HELLO
 * without authextra.channel_binding "tls-unique" is refused; TLS listeners only), and the
 * type "refused": a client that picks the method gets ABORT wamp.error.not_authorized with
 * the "message" (what a Crossbar "function" authenticator, Python code, becomes:
 * crossbar.c), while the listener's other methods keep serving. "trusted" is refused on
 * every listener: only wampd enables it, for its router components (auth/trusted.c).
 *
 *   "roles": [ {"name": "user", "permissions": [{"uri": "com.example.", "match": "prefix",
 *                "allow": {"call": true, "register": false, "publish": true,
 *                          "subscribe": true},
 *                "disclose": {"caller": false, "publisher": false}, "cache": true}]},
 *              {"name": "dynamic", "authorizer": "com.example.authorize",
 *               "authorizer_role": "authorizer"} ]
 *
 * A wampcra user's "secret" is the HMAC key (for salted users: the derived key, as Crossbar
 * stores it); "password" instead derives the key. A scram principal gives either
 * "stored-key"/"server-key" (hex) or a "password" to derive them from.
 *
 * This file reads the shapes: the keys every method shares, the types and ranges of all
 * known keys, the paths in the error messages. What a method's own keys mean (the
 * credentials above, cryptosign's require_channel_binding, the role of anonymous and tls)
 * is the method's, in auth/ (auth_method_configure, auth_principal_configure): no method
 * is named here but the default listener's anonymous.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/config/config_internal.h"

bool cfg_auth_default(struct auth_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->m[AUTH_ANONYMOUS].enabled = true;
	return (cfg->m[AUTH_ANONYMOUS].role = strdup("anonymous")) != NULL;
}

static bool cfg_dupstr(struct cfg_ctx *c, const char *path, const char *v, char **out)
{
	if (v && !(*out = strdup(v)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

/* One principal/user of a static method: the keys every method shares here, the types of
 * all known keys, then the method's credentials (auth_principal_configure). */
static bool cfg_principal(struct cfg_ctx *c, enum auth_method m, const char *authid, json_t *o,
                          const char *path, struct auth_principal *p)
{
	static const char *const keys[] = {"ticket", "secret", "password", "salt", "iterations",
	                                   "keylen", "authorized_keys", "pubkey", "role", "realm",
	                                   "authid", "extra", "kdf", "memory", "stored-key",
	                                   "server-key", "certificate-sha1", NULL};
	static const char *const strings[] = {"ticket", "secret", "password", "salt", "kdf",
	                                      "stored-key", "server-key", "pubkey",
	                                      "certificate-sha1", NULL};
	const char *role = NULL, *realm = NULL, *s;
	uint64_t u;
	json_t *extra = json_object_get(o, "extra");
	char err[256];

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "role", &role) ||
	    !cfg_str(c, o, path, "realm", &realm))
		return false;
	for (const char *const *k = strings; *k; k++)
		if (!cfg_str(c, o, path, *k, &s))
			return false;
	if (!cfg_uint(c, o, path, "iterations", 1, 100000000, &u) ||
	    !cfg_uint(c, o, path, "keylen", 1, 256, &u) ||
	    !cfg_uint(c, o, path, "memory", 8, 4u << 20, &u))
		return false;
	if (!role)
		return cfg_fail(c, path, "role is required");
	if (!cfg_dupstr(c, path, authid, &p->authid) || !cfg_dupstr(c, path, role, &p->role) ||
	    !cfg_dupstr(c, path, realm, &p->realm))
		return false;
	if (json_is_object(extra))
		p->authextra = json_deep_copy(extra);
	if (!auth_principal_configure(m, p, o, err, sizeof(err)))
		return cfg_fail(c, path, "%s", err);
	return true;
}

static bool cfg_method(struct cfg_ctx *c, enum auth_method m, json_t *o, const char *path,
                       struct auth_method_config *mc)
{
	static const char *const keys[] = {"type", "role", "principals", "users", "authenticator",
	                                   "authenticator-realm", "authenticator_role", "authid",
	                                   "require_channel_binding", "message", NULL};
	static const char *const refused_keys[] = {"type", "message", NULL};
	const char *type = "static", *role = NULL, *authenticator = NULL, *arealm = NULL;
	const char *message = NULL;
	const char *arole = NULL, *pkey;
	enum auth_principals has = auth_method_principals(m, &pkey);
	json_t *principals = json_object_get(o, pkey ? pkey : "principals");
	const char *authid;
	json_t *v;
	char where[256], err[256];

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!json_object_get(o, "principals") && json_object_get(o, "users"))
		principals = json_object_get(o, "users");
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "type", &type) ||
	    !cfg_str(c, o, path, "role", &role) ||
	    !cfg_str(c, o, path, "authenticator", &authenticator) ||
	    !cfg_str(c, o, path, "authenticator-realm", &arealm) ||
	    !cfg_str(c, o, path, "authenticator_role", &arole))
		return false;
	mc->enabled = true;
	if (!strcmp(type, "refused")) {
		if (!cfg_check_keys(c, path, o, refused_keys) ||
		    !cfg_str(c, o, path, "message", &message))
			return false;
		return cfg_dupstr(c, path, message ? message : "this authentication method is not "
		                  "available here", &mc->refusal);
	}
	if (json_object_get(o, "message"))
		return cfg_fail(c, path, "message applies to type \"refused\" only");
	mc->dynamic = !strcmp(type, "dynamic");
	/* the method's own settings (and another method's, refused) */
	if (!auth_method_configure(m, mc, o, err, sizeof(err)))
		return cfg_fail(c, path, "%s", err);
	if (mc->dynamic) {
		if (!authenticator || !uri_valid(authenticator, strlen(authenticator), URI_LOOSE, 0))
			return cfg_fail(c, path, "a dynamic method needs an authenticator procedure URI");
		if (arole && !*arole)
			return cfg_fail(c, path, "authenticator_role must name a role");
		return cfg_dupstr(c, path, authenticator, &mc->authenticator) &&
		       cfg_dupstr(c, path, arealm, &mc->authenticator_realm) &&
		       cfg_dupstr(c, path, arole, &mc->authenticator_role);
	}
	if (arole)
		return cfg_fail(c, path, "authenticator_role applies to dynamic methods only");
	if (strcmp(type, "static"))
		return cfg_fail(c, path, "type must be \"static\", \"dynamic\" or \"refused\"");
	if (has == AUTH_PRINCIPALS_NONE || (has == AUTH_PRINCIPALS_OPTIONAL && !principals))
		return true;
	if (!json_is_object(principals))
		return cfg_fail(c, path, "%s must be an object of principals", pkey);
	json_object_foreach(principals, authid, v) {
		struct auth_principal *p = calloc(1, sizeof(*p));

		snprintf(where, sizeof(where), "%s.%s", path, authid);
		if (!p)
			return cfg_fail(c, where, "out of memory");
		if (!cfg_principal(c, m, authid, v, where, p)) {
			auth_principal_free(p);
			return false;
		}
		HASH_ADD_KEYPTR(hh, mc->principals, p->authid, strlen(p->authid), p);
	}
	return true;
}

bool cfg_auth(struct cfg_ctx *c, json_t *auth, const char *path, struct auth_config *cfg)
{
	const char *name;
	json_t *v;
	char where[128];

	memset(cfg, 0, sizeof(*cfg));
	if (!json_is_object(auth) || !json_object_size(auth))
		return cfg_fail(c, path, "auth must be a non-empty object of methods");
	json_object_foreach(auth, name, v) {
		int m = auth_method_from_name(name);

		snprintf(where, sizeof(where), "%s.%s", path, name);
		if (m < 0)
			return cfg_fail(c, where, "unknown authentication method");
		if (!auth_method_configurable((enum auth_method)m))
			return cfg_fail(c, where, "is wampd's own method for its router components "
			                "(processes); no listener may enable it");
		if (!cfg_method(c, (enum auth_method)m, v, where, &cfg->m[m]))
			return false;
	}
	return true;
}

static bool cfg_permission(struct cfg_ctx *c, json_t *o, const char *path,
                           struct authz_permission *p)
{
	static const char *const keys[] = {"uri", "match", "allow", "disclose", "cache",
	                                   "trustlevel", NULL};
	json_t *tl = json_object_get(o, "trustlevel");
	const char *uri = NULL, *match = NULL;
	json_t *allow = json_object_get(o, "allow"), *disclose = json_object_get(o, "disclose");
	size_t len;

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "uri", &uri) ||
	    !cfg_str(c, o, path, "match", &match))
		return false;
	if (!uri)
		return cfg_fail(c, path, "uri is required");
	len = strlen(uri);
	/* Crossbar's older shorthand: "com.example.*" is a prefix, "" or "*" everything */
	if (!match) {
		if (len && uri[len - 1] == '*') {
			len--;
			match = "prefix";
		} else {
			match = "exact";
		}
	}
	if (!strcmp(match, "exact"))
		p->match = AUTHZ_EXACT;
	else if (!strcmp(match, "prefix"))
		p->match = AUTHZ_PREFIX;
	else if (!strcmp(match, "wildcard"))
		p->match = AUTHZ_WILDCARD;
	else
		return cfg_fail(c, path, "match must be exact, prefix or wildcard");
	if (!(p->uri = strndup(uri, len)))
		return cfg_fail(c, path, "out of memory");
	p->uri_len = len;
	if (allow && !json_is_object(allow))
		return cfg_fail(c, path, "allow must be an object");
	for (int a = 0; a < AUTHZ__COUNT; a++)
		p->allow[a] = json_is_true(json_object_get(allow, authz_action_name((enum authz_action)a)));
	p->disclose_caller = json_is_true(json_object_get(disclose, "caller"));
	p->disclose_publisher = json_is_true(json_object_get(disclose, "publisher"));
	if (tl) {
		if (!json_is_integer(tl) || json_integer_value(tl) < 0 ||
		    json_integer_value(tl) > INT32_MAX)
			return cfg_fail(c, path, "trustlevel must be an integer >= 0");
		p->has_trustlevel = true;
		p->trustlevel = (uint32_t)json_integer_value(tl);
	}
	return true;
}

bool cfg_roles(struct cfg_ctx *c, json_t *roles, const char *path, struct authz_config *cfg)
{
	static const char *const keys[] = {"name", "permissions", "authorizer", "authorizer_role",
	                                   NULL};
	json_t *r;
	size_t i;
	char where[128];

	if (!json_is_array(roles))
		return cfg_fail(c, path, "roles must be a list");
	json_array_foreach(roles, i, r) {
		const char *name = NULL, *authorizer = NULL, *arole = NULL;
		json_t *perms = json_object_get(r, "permissions"), *p;
		struct authz_role *role, *dup = NULL;
		size_t k;

		snprintf(where, sizeof(where), "%s[%zu]", path, i);
		if (!json_is_object(r))
			return cfg_fail(c, where, "must be an object");
		if (!cfg_check_keys(c, where, r, keys) || !cfg_str(c, r, where, "name", &name) ||
		    !cfg_str(c, r, where, "authorizer", &authorizer) ||
		    !cfg_str(c, r, where, "authorizer_role", &arole))
			return false;
		if (arole && (!authorizer || !*arole))
			return cfg_fail(c, where, "authorizer_role needs an authorizer and a role name");
		if (!name)
			return cfg_fail(c, where, "name is required");
		HASH_FIND_STR(cfg->roles, name, dup);
		if (dup)
			return cfg_fail(c, where, "role \"%s\" is defined twice", name);
		if (!(role = calloc(1, sizeof(*role))) || !(role->name = strdup(name))) {
			free(role);
			return cfg_fail(c, where, "out of memory");
		}
		HASH_ADD_KEYPTR(hh, cfg->roles, role->name, strlen(role->name), role);
		if (authorizer) {
			if (!uri_valid(authorizer, strlen(authorizer), URI_LOOSE, 0))
				return cfg_fail(c, where, "authorizer must be a procedure URI");
			if (!(role->authorizer = strdup(authorizer)) ||
			    (arole && !(role->authorizer_role = strdup(arole))))
				return cfg_fail(c, where, "out of memory");
			continue;
		}
		if (perms && !json_is_array(perms))
			return cfg_fail(c, where, "permissions must be a list");
		role->perms = calloc(json_array_size(perms) + 1, sizeof(*role->perms));
		if (!role->perms)
			return cfg_fail(c, where, "out of memory");
		json_array_foreach(perms, k, p) {
			char pw[320];

			snprintf(pw, sizeof(pw), "%s.permissions[%zu]", where, k);
			role->nperms = k + 1; /* counted first: a half-read one is freed too */
			if (!cfg_permission(c, p, pw, &role->perms[k]))
				return false;
		}
	}
	return true;
}
