/*
 * config_processes.c - the "processes" list: programs and Python components that wampd
 * starts, supervises and stops with itself (router/workers/ runs them).
 *
 *   "processes": [
 *     {"id": "backend", "type": "guest", "executable": "node", "arguments": ["backend.js"],
 *      "workdir": "node", "env": {"inherit": true, "vars": {"DEBUG": "1"}},
 *      "stdout": "log", "stderr": "log",
 *      "restart": "on-failure", "restart_delay": 1000, "restart_delay_max": 60000,
 *      "min_uptime": 10000, "give_up_after": 5, "stop_timeout": 5000},
 *     {"id": "app", "type": "python", "python": "/usr/bin/python3", "pythonpath": [".."],
 *      "components": [
 *        {"id": "c1", "classname": "app.Backend", "realm": "realm1", "extra": {"n": 1},
 *         "transport": {"type": "websocket", "url": "ws://127.0.0.1:8080/ws"}},
 *        {"id": "c2", "classname": "app.Auditor", "realm": "realm1", "role": "auditor"}]}
 *   ]
 *
 * The shapes are Crossbar's guest and container workers' (crossbar.c's translation writes
 * them), flattened: what Crossbar keeps under "options" is at the top here. A component
 * without "transport" is a router component: it connects into wampd itself, over a Unix
 * socket in a private directory, as `role` (default "anonymous") with authmethod "trusted"
 * and a random UUID as authid (router/workers/workers.c, auth/trusted.c).
 * Relative paths (workdir, pythonpath, an executable with a '/') are relative to the
 * configuration file's directory (cfg->base_dir; the executable to workdir, as a program
 * started there sees it). Each type is one row of a table (its keys and its own reader).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/config/config_internal.h"

#define DEFAULT_PYTHON "/usr/bin/python3"

static bool cp_dup(struct cfg_ctx *c, const char *path, const char *s, char **out)
{
	if (!(*out = strdup(s)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

/* base + "/" + rel, unless rel is absolute; base NULL: rel as it is (the working
 * directory's) */
static bool cp_path(struct cfg_ctx *c, const char *path, const char *base, const char *rel,
                    char **out)
{
	size_t n;

	if (rel[0] == '/' || !base)
		return cp_dup(c, path, rel, out);
	if (!strcmp(rel, ".") || !*rel)
		return cp_dup(c, path, base, out);
	n = strlen(base) + strlen(rel) + 2;
	if (!(*out = malloc(n)))
		return cfg_fail(c, path, "out of memory");
	snprintf(*out, n, "%s/%s", base, rel);
	return true;
}

static void cp_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A list of strings into a NULL-terminated vector (each through base when base_rel). */
static bool cp_strv(struct cfg_ctx *c, json_t *list, const char *path, const char *base,
                    bool base_rel, char ***out)
{
	size_t i;
	json_t *s;

	if (!json_is_array(list))
		return cfg_fail(c, path, "must be a list of strings");
	if (!(*out = calloc(json_array_size(list) + 1, sizeof(char *))))
		return cfg_fail(c, path, "out of memory");
	json_array_foreach(list, i, s) {
		char where[320];

		snprintf(where, sizeof(where), "%s[%zu]", path, i);
		if (!json_is_string(s))
			return cfg_fail(c, where, "must be a string");
		if (base_rel ? !cp_path(c, where, base, json_string_value(s), &(*out)[i])
		             : !cp_dup(c, where, json_string_value(s), &(*out)[i]))
			return false;
	}
	return true;
}

static bool cp_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* "env": {"inherit": true | false | ["NAME", ...], "vars": {"NAME": "value"}} */
static bool cp_env(struct cfg_ctx *c, json_t *env, const char *path, struct process_config *p)
{
	static const char *const keys[] = {"inherit", "vars", NULL};
	json_t *inherit = json_object_get(env, "inherit"), *vars = json_object_get(env, "vars"), *v;
	char where[320];
	const char *name;
	size_t i = 0;

	if (!json_is_object(env))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, env, keys))
		return false;
	snprintf(where, sizeof(where), "%s.inherit", path);
	if (json_is_array(inherit)) {
		p->env_inherit = false;
		if (!cp_strv(c, inherit, where, NULL, false, &p->env_keep))
			return false;
	} else if (inherit && !json_is_boolean(inherit)) {
		return cfg_fail(c, where, "must be true, false or a list of variable names");
	} else if (inherit) {
		p->env_inherit = json_is_true(inherit);
	}
	if (!vars)
		return true;
	snprintf(where, sizeof(where), "%s.vars", path);
	if (!json_is_object(vars))
		return cfg_fail(c, where, "must be an object of strings");
	if (!(p->env_vars = calloc(json_object_size(vars) + 1, sizeof(char *))))
		return cfg_fail(c, where, "out of memory");
	json_object_foreach(vars, name, v) {
		size_t n;

		snprintf(where, sizeof(where), "%s.vars.%s", path, name);
		if (!*name || strchr(name, '='))
			return cfg_fail(c, where, "not a variable name");
		if (!json_is_string(v))
			return cfg_fail(c, where, "must be a string");
		n = strlen(name) + json_string_length(v) + 2;
		if (!(p->env_vars[i] = malloc(n)))
			return cfg_fail(c, where, "out of memory");
		snprintf(p->env_vars[i++], n, "%s=%s", name, json_string_value(v));
	}
	return true;
}

/* ---- the types' own keys ---- */

static bool cp_guest(struct cfg_ctx *c, json_t *o, const char *path, const char *base,
                     struct process_config *p, const struct config *cfg)
{
	const char *exe = NULL;
	json_t *args = json_object_get(o, "arguments");
	char where[192];

	(void)base, (void)cfg;
	if (!cfg_str(c, o, path, "executable", &exe))
		return false;
	if (!exe || !*exe)
		return cfg_fail(c, path, "a guest needs an executable");
	if (!cp_dup(c, path, exe, &p->executable))
		return false;
	snprintf(where, sizeof(where), "%s.arguments", path);
	if (args)
		return cp_strv(c, args, where, NULL, false, &p->arguments);
	if (!(p->arguments = calloc(1, sizeof(char *))))
		return cfg_fail(c, path, "out of memory");
	return true;
}

static bool cp_component(struct cfg_ctx *c, const struct config *cfg, json_t *o,
                         const char *path, const struct process_config *p, size_t index,
                         struct component_config *out)
{
	static const char *const keys[] = {"id", "classname", "realm", "role", "extra",
	                                   "transport", NULL};
	const char *id = NULL, *classname = NULL, *realm = NULL, *role = NULL;
	json_t *transport = json_object_get(o, "transport"), *extra = json_object_get(o, "extra");
	char defid[96];

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "id", &id) ||
	    !cfg_str(c, o, path, "classname", &classname) || !cfg_str(c, o, path, "realm", &realm) ||
	    !cfg_str(c, o, path, "role", &role))
		return false;
	if (!id) {
		snprintf(defid, sizeof(defid), "%s.%zu", p->id, index + 1);
		id = defid;
	}
	if (!cp_name_ok(id))
		return cfg_fail(c, path, "id \"%s\": 1 to 64 of A-Z a-z 0-9 _ . -", id);
	if (!classname || !strchr(classname, '.') || classname[0] == '.' ||
	    classname[strlen(classname) - 1] == '.')
		return cfg_fail(c, path, "classname must name a class in a module: "
		                "\"module.Class\"");
	if (!realm || !*realm)
		return cfg_fail(c, path, "a component needs a realm");
	if (transport) {
		const char *type = "websocket";
		json_t *t = json_object_get(transport, "type");

		if (!json_is_object(transport))
			return cfg_fail(c, path, "transport must be an object");
		if (t && !json_is_string(t))
			return cfg_fail(c, path, "transport.type must be a string");
		if (t)
			type = json_string_value(t);
		if (strcmp(type, "websocket") && strcmp(type, "rawsocket"))
			return cfg_fail(c, path, "transport.type must be \"websocket\" or \"rawsocket\"");
		if (!json_is_string(json_object_get(transport, "url")) &&
		    !json_is_object(json_object_get(transport, "endpoint")))
			return cfg_fail(c, path, "transport needs a url or an endpoint");
		if (!strcmp(type, "websocket") && !json_is_string(json_object_get(transport, "url")))
			return cfg_fail(c, path, "a websocket transport needs a url");
		if (role)
			return cfg_fail(c, path, "role applies to router components (no transport): a "
			                "component that connects over a transport authenticates there");
	} else {
		/* no realms yet: the default's realm1 comes after the document is read */
		bool known = cfg->auto_create_realms || !cfg->nrealms;

		for (size_t i = 0; i < cfg->nrealms && !known; i++)
			known = !strcmp(cfg->realms[i].name, realm);
		if (!known)
			return cfg_fail(c, path, "realm \"%s\" is not defined (a component without a "
			                "transport joins a realm of this router)", realm);
	}
	if (!cp_dup(c, path, id, &out->id) || !cp_dup(c, path, classname, &out->classname) ||
	    !cp_dup(c, path, realm, &out->realm) ||
	    (!transport && !cp_dup(c, path, role ? role : "anonymous", &out->role)))
		return false;
	if (extra && !(out->extra = json_deep_copy(extra)))
		return cfg_fail(c, path, "out of memory");
	if (transport && !(out->transport = json_deep_copy(transport)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

static bool cp_python(struct cfg_ctx *c, json_t *o, const char *path, const char *base,
                      struct process_config *p, const struct config *cfg)
{
	const char *python = DEFAULT_PYTHON;
	json_t *list = json_object_get(o, "components"), *pp = json_object_get(o, "pythonpath");
	json_t *comp;
	size_t i;
	char where[192];

	if (!cfg_str(c, o, path, "python", &python))
		return false;
	if (!cp_dup(c, path, python, &p->executable)) /* like a guest's executable */
		return false;
	snprintf(where, sizeof(where), "%s.pythonpath", path);
	if (pp && !cp_strv(c, pp, where, base, true, &p->pythonpath))
		return false;
	snprintf(where, sizeof(where), "%s.components", path);
	if (!json_is_array(list) || !json_array_size(list))
		return cfg_fail(c, where, "must be a non-empty list");
	if (!(p->components = calloc(json_array_size(list), sizeof(*p->components))))
		return cfg_fail(c, where, "out of memory");
	json_array_foreach(list, i, comp) {
		snprintf(where, sizeof(where), "%s.components[%zu]", path, i);
		p->ncomponents = i + 1;
		if (!cp_component(c, cfg, comp, where, p, i, &p->components[i]))
			return false;
	}
	return true;
}

static const struct process_type_row {
	const char *name;
	const char *const *keys; /* besides the keys every type has */
	bool (*read)(struct cfg_ctx *c, json_t *o, const char *path, const char *base,
	             struct process_config *p, const struct config *cfg);
} process_types[] = {
	[PROCESS_GUEST] = {"guest", (const char *const[]){"executable", "arguments", NULL},
	                   cp_guest},
	[PROCESS_PYTHON] = {"python", (const char *const[]){"python", "pythonpath", "components",
	                                                   NULL},
	                    cp_python},
};

static bool cp_process(struct cfg_ctx *c, const struct config *cfg, json_t *o, const char *path,
                       size_t index, struct process_config *p)
{
	static const char *const common[] = {"id", "type", "workdir", "env", "stdout", "stderr",
	                                     "restart", "restart_delay", "restart_delay_max",
	                                     "min_uptime", "give_up_after", "stop_timeout"};
	static const char *const restarts[] = {[RESTART_ON_FAILURE] = "on-failure",
	                                       [RESTART_ALWAYS] = "always",
	                                       [RESTART_NEVER] = "never"};
	const char *keys[sizeof(common) / sizeof(common[0]) + 8];
	const char *id = NULL, *type = NULL, *workdir = NULL, *restart = "on-failure";
	const char *streams[2] = {"log", "log"};
	const struct process_type_row *row = NULL;
	size_t nk = 0, t;
	uint64_t u;
	char defid[32], where[192];

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_str(c, o, path, "type", &type))
		return false;
	for (t = 0; type && t < sizeof(process_types) / sizeof(process_types[0]); t++)
		if (!strcmp(process_types[t].name, type))
			row = &process_types[t];
	if (!row)
		return cfg_fail(c, path, "type must be \"guest\" or \"python\"");
	p->type = (enum process_type)(row - process_types);
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		keys[nk++] = common[k];
	for (const char *const *k = row->keys; *k; k++)
		keys[nk++] = *k;
	keys[nk] = NULL;
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "id", &id) ||
	    !cfg_str(c, o, path, "workdir", &workdir) || !cfg_str(c, o, path, "restart", &restart) ||
	    !cfg_str(c, o, path, "stdout", &streams[0]) || !cfg_str(c, o, path, "stderr", &streams[1]))
		return false;
	if (!id) {
		snprintf(defid, sizeof(defid), "process%zu", index + 1);
		id = defid;
	}
	if (!cp_name_ok(id))
		return cfg_fail(c, path, "id \"%s\": 1 to 64 of A-Z a-z 0-9 _ . -", id);
	if (!cp_dup(c, path, id, &p->id))
		return false;
	/* Crossbar's stdout/stderr values: "log", and "drop" or "close" (both: /dev/null) */
	for (int s = 0; s < 2; s++) {
		if (strcmp(streams[s], "log") && strcmp(streams[s], "drop") &&
		    strcmp(streams[s], "close"))
			return cfg_fail(c, path, "%s must be \"log\", \"drop\" or \"close\"",
			                s ? "stderr" : "stdout");
	}
	p->log_stdout = !strcmp(streams[0], "log");
	p->log_stderr = !strcmp(streams[1], "log");
	p->restart = RESTART_NEVER + 1;
	for (size_t r = 0; r < sizeof(restarts) / sizeof(restarts[0]); r++)
		if (!strcmp(restarts[r], restart))
			p->restart = (enum process_restart)r;
	if (p->restart > RESTART_NEVER)
		return cfg_fail(c, path, "restart must be \"on-failure\", \"always\" or \"never\"");
	p->restart_delay_ms = 1000;
	p->restart_delay_max_ms = 60000;
	p->min_uptime_ms = 10000;
	p->give_up_after = 5;
	p->stop_timeout_ms = 5000;
	{
		static const struct {
			const char *key;
			uint64_t min, max;
			size_t off;
		} nums[] = {
			{"restart_delay", 0, 3600000, offsetof(struct process_config, restart_delay_ms)},
			{"restart_delay_max", 0, 3600000,
			 offsetof(struct process_config, restart_delay_max_ms)},
			{"min_uptime", 0, 86400000, offsetof(struct process_config, min_uptime_ms)},
			{"give_up_after", 0, 1000, offsetof(struct process_config, give_up_after)},
			{"stop_timeout", 1, 3600000, offsetof(struct process_config, stop_timeout_ms)},
		};

		for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
			u = *(uint32_t *)((char *)p + nums[k].off);
			if (!cfg_uint(c, o, path, nums[k].key, nums[k].min, nums[k].max, &u))
				return false;
			*(uint32_t *)((char *)p + nums[k].off) = (uint32_t)u;
		}
	}
	if (p->restart_delay_max_ms < p->restart_delay_ms)
		p->restart_delay_max_ms = p->restart_delay_ms;
	if (!cp_path(c, path, cfg->base_dir, workdir ? workdir : ".", &p->workdir))
		return false;
	p->env_inherit = true;
	snprintf(where, sizeof(where), "%s.env", path);
	if (json_object_get(o, "env") && !cp_env(c, json_object_get(o, "env"), where, p))
		return false;
	return row->read(c, o, path, cfg->base_dir, p, cfg);
}

bool cfg_processes(struct cfg_ctx *c, json_t *list, struct config *cfg)
{
	json_t *o;
	size_t i;
	char path[96];

	if (!json_is_array(list))
		return cfg_fail(c, "processes", "must be a list");
	if (!json_array_size(list))
		return true;
	if (!(cfg->processes = calloc(json_array_size(list), sizeof(*cfg->processes))))
		return cfg_fail(c, "processes", "out of memory");
	json_array_foreach(list, i, o) {
		snprintf(path, sizeof(path), "processes[%zu]", i);
		cfg->nprocesses = i + 1;
		if (!cp_process(c, cfg, o, path, i, &cfg->processes[i]))
			return false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->processes[j].id, cfg->processes[i].id))
				return cfg_fail(c, path, "id \"%s\" is used twice", cfg->processes[i].id);
	}
	/* a router component's id is its authid on the internal listener: one each */
	for (size_t a = 0; a < cfg->nprocesses; a++)
		for (size_t ca = 0; ca < cfg->processes[a].ncomponents; ca++)
			for (size_t b = a; b < cfg->nprocesses; b++)
				for (size_t cb = (b == a ? ca + 1 : 0); cb < cfg->processes[b].ncomponents;
				     cb++) {
					const struct component_config *x = &cfg->processes[a].components[ca];
					const struct component_config *y = &cfg->processes[b].components[cb];

					if (x->transport || y->transport || strcmp(x->id, y->id))
						continue;
					snprintf(path, sizeof(path), "processes[%zu].components[%zu]", b, cb);
					return cfg_fail(c, path, "id \"%s\" is used twice (a router component's "
					                "id is its authid)", y->id);
				}
	return true;
}

void cfg_processes_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nprocesses; i++) {
		struct process_config *p = &cfg->processes[i];

		free(p->id);
		free(p->executable);
		cp_strv_free(p->arguments);
		free(p->workdir);
		cp_strv_free(p->env_keep);
		cp_strv_free(p->env_vars);
		cp_strv_free(p->pythonpath);
		for (size_t k = 0; k < p->ncomponents; k++) {
			free(p->components[k].id);
			free(p->components[k].classname);
			free(p->components[k].realm);
			free(p->components[k].role);
			json_decref(p->components[k].extra);
			json_decref(p->components[k].transport);
		}
		free(p->components);
	}
	free(cfg->processes);
	cfg->processes = NULL;
	cfg->nprocesses = 0;
}
