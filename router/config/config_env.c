/*
 * config_env.c - "${NAME}" values of a configuration document read from the environment.
 *
 * Crossbar.io lets a secret be written as "${MYTICKET}" (the whole string: an environment
 * variable's name in ${}) and reads it from the environment when the node starts, so the
 * secret need not be in the file. wampd does the same for every string value of the
 * document (object members and list elements; never object keys), in its own format and in
 * a Crossbar one, before anything else reads the document: a literal "${MYTICKET}" can
 * then never become a ticket anyone who reads the file could log in with.
 *
 * Algorithm: one depth-first walk over the parsed document, keeping the JSON path of the
 * value at hand ("workers[0].transports[0].auth.ticket.principals.joe.ticket"); a string
 * that is exactly "${NAME}" is replaced in place by the value of NAME. It fails, naming the
 * path and the variable (never a value), when NAME is not a valid variable name
 * ([A-Za-z_][A-Za-z0-9_]*), when the variable is not set, when it is empty (an empty
 * secret is almost always a deployment mistake, e.g. "MYTICKET= wampd"; refusing it is
 * the safe reading), or when it is not UTF-8 (JSON strings are). Values are never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/config/config_internal.h"

#define ENV_PATH_MAX 512

static bool env_name_char(char ch, bool first)
{
	return ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (!first && ch >= '0' && ch <= '9');
}

/* The variable name of a "${NAME}" string (copied into name), or false if s is not one.
 * *valid tells whether the name inside ${} is a valid variable name. */
static bool env_reference(const char *s, size_t len, char *name, size_t cap, bool *valid)
{
	size_t n;

	if (len < 3 || s[0] != '$' || s[1] != '{' || s[len - 1] != '}')
		return false;
	n = len - 3;
	*valid = n > 0 && n < cap;
	for (size_t i = 0; *valid && i < n; i++)
		*valid = env_name_char(s[2 + i], i == 0);
	if (*valid) {
		memcpy(name, s + 2, n);
		name[n] = '\0';
	}
	return true;
}

/* Replace the string v (at path) when it is a reference. */
static bool env_string(struct cfg_ctx *c, json_t *v, const char *path)
{
	char name[256];
	const char *value;
	bool valid;

	if (!env_reference(json_string_value(v), json_string_length(v), name, sizeof(name), &valid))
		return true;
	if (!valid)
		return cfg_fail(c, path, "\"${...}\" must name an environment variable "
		                "([A-Za-z_][A-Za-z0-9_]*)");
	if (!(value = getenv(name)))
		return cfg_fail(c, path, "environment variable %s is not set", name);
	if (!*value)
		return cfg_fail(c, path, "environment variable %s is empty", name);
	if (json_string_set(v, value) != 0)
		return cfg_fail(c, path, "environment variable %s is not valid UTF-8", name);
	return true;
}

static bool env_walk(struct cfg_ctx *c, json_t *v, char *path, size_t len)
{
	if (json_is_string(v))
		return env_string(c, v, len ? path : "(top)");
	if (json_is_object(v)) {
		const char *key;
		json_t *member;

		json_object_foreach(v, key, member) {
			snprintf(path + len, ENV_PATH_MAX - len, "%s%s", len ? "." : "", key);
			if (!env_walk(c, member, path, strlen(path)))
				return false;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *item;

		json_array_foreach(v, i, item) {
			snprintf(path + len, ENV_PATH_MAX - len, "[%zu]", i);
			if (!env_walk(c, item, path, strlen(path)))
				return false;
		}
	}
	path[len] = '\0';
	return true;
}

bool cfg_env_resolve(struct cfg_ctx *c, json_t *root)
{
	char path[ENV_PATH_MAX] = "";

	return env_walk(c, root, path, 0);
}
