/*
 * crossbar_workers.c - Crossbar's worker processes as wampd's "processes" (see
 * crossbar_workers.h; the native shape is config_processes.c's).
 *
 *   guest {executable, arguments, options: {workdir, env, stdout, stderr}}
 *                            -> {"type": "guest", ...} (the options at the top)
 *   container {options: {pythonpath, env}, components: [{type: "class", classname,
 *              realm, extra, transport}]}
 *                            -> {"type": "python", ...}: one process, every component in it
 *   router {components: [{type: "class", classname, realm, role, extra}],
 *           options: {pythonpath, env}}
 *                            -> {"type": "python", ...} whose components have no transport:
 *                               they join wampd itself with their role
 *
 * A worker keeps its "id" (default "worker001", "worker002", ... by its place in
 * workers[], as Crossbar numbers them); a component too (default "component001", ...
 * counted over the whole configuration: one each).
 * What the native format cannot hold is reported, never dropped silently: options.watch
 * (restart on file changes), stdin other than "close", a container's shutdown policy,
 * component types other than "class". Values of the wrong type are reported and left out
 * here, so that the native reader's errors never name paths the Crossbar file does not
 * have.
 */
#include "router/config/crossbar_workers.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void cw_ignore(json_t *ignored, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cw_ignore(json_t *ignored, const char *reason, const char *fmt, ...)
{
	char path[256], line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "ignored: %s: %s", path, reason);
	json_array_append_new(ignored, json_string(line));
}

static bool cw_known(const char *key, const char *const *known)
{
	for (; *known; known++)
		if (!strcmp(*known, key))
			return true;
	return false;
}

static void cw_unknown(json_t *ignored, json_t *obj, const char *const *known, const char *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
		if (!cw_known(key, known))
			cw_ignore(ignored, "not supported by wampd", "%s.%s", path, key);
}

static bool cw_strings(json_t *v)
{
	size_t i;
	json_t *s;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, s)
		if (!json_is_string(s))
			return false;
	return true;
}

static json_t *cw_processes(json_t *out)
{
	json_t *list = json_object_get(out, "processes");

	if (!list) {
		list = json_array();
		json_object_set_new(out, "processes", list);
	}
	return list;
}

static void cw_id(json_t *w, json_t *p, const char *prefix, size_t index)
{
	char def[32];

	if (json_is_string(json_object_get(w, "id"))) {
		json_object_set(p, "id", json_object_get(w, "id"));
	} else {
		snprintf(def, sizeof(def), "%s%03zu", prefix, index + 1);
		json_object_set_new(p, "id", json_string(def));
	}
}

/* The options every process type shares: workdir, env, stdout, stderr (and the ones that
 * do not map, reported). `allowed` lists the options this worker type may carry. */
static void cw_options(json_t *opts, json_t *p, const char *path, const char *const *allowed,
                       json_t *ignored)
{
	const char *key;
	json_t *v;

	json_object_foreach(opts, key, v) {
		if (!cw_known(key, allowed)) {
			cw_ignore(ignored, "worker process option not supported by wampd",
			          "%s.options.%s", path, key);
		} else if (!strcmp(key, "watch")) {
			cw_ignore(ignored, "restarting on file changes is not supported (a process "
			          "that exits is restarted by its restart policy)", "%s.options.%s",
			          path, key);
		} else if (!strcmp(key, "stdin")) {
			if (!json_is_string(v) || strcmp(json_string_value(v), "close"))
				cw_ignore(ignored, "stdin is /dev/null", "%s.options.%s", path, key);
		} else if (!strcmp(key, "workdir")) {
			if (json_is_string(v))
				json_object_set(p, "workdir", v);
			else
				cw_ignore(ignored, "must be a string", "%s.options.%s", path, key);
		} else if (!strcmp(key, "stdout") || !strcmp(key, "stderr")) {
			const char *s = json_string_value(v);

			if (s && (!strcmp(s, "log") || !strcmp(s, "drop") || !strcmp(s, "close")))
				json_object_set(p, key, v);
			else
				cw_ignore(ignored, "must be \"log\", \"drop\" or \"close\"",
				          "%s.options.%s", path, key);
		} else if (!strcmp(key, "pythonpath")) {
			if (cw_strings(v))
				json_object_set(p, "pythonpath", v);
			else
				cw_ignore(ignored, "must be a list of strings", "%s.options.%s", path, key);
		} else if (!strcmp(key, "env")) {
			json_t *env = json_object(), *inh = json_object_get(v, "inherit");
			json_t *vars = json_object_get(v, "vars"), *val;
			const char *name;
			bool vars_ok = json_is_object(vars);

			json_object_foreach(vars, name, val)
				vars_ok = vars_ok && json_is_string(val) && *name && !strchr(name, '=');
			if (json_is_boolean(inh) || cw_strings(inh))
				json_object_set(env, "inherit", inh);
			else if (inh)
				cw_ignore(ignored, "must be true, false or a list of names",
				          "%s.options.env.inherit", path);
			if (vars_ok)
				json_object_set(env, "vars", vars);
			else if (vars)
				cw_ignore(ignored, "must be an object of strings", "%s.options.env.vars",
				          path);
			json_object_foreach(v, name, val)
				if (strcmp(name, "inherit") && strcmp(name, "vars"))
					cw_ignore(ignored, "not supported by wampd", "%s.options.env.%s", path,
					          name);
			json_object_set_new(p, "env", env);
		}
	}
}

/* The component's common part: classname, realm, extra, id; NULL (reported) when it cannot
 * run. */
static json_t *cw_component(json_t *c, const char *path, json_t *ignored)
{
	const char *type = json_string_value(json_object_get(c, "type"));
	json_t *classname = json_object_get(c, "classname"), *realm = json_object_get(c, "realm");
	json_t *out;

	if (!json_is_object(c)) {
		cw_ignore(ignored, "not a component object", "%s", path);
		return NULL;
	}
	if (type && strcmp(type, "class")) {
		cw_ignore(ignored, "only components of type \"class\" are run", "%s", path);
		return NULL;
	}
	if (!json_is_string(classname) || !strchr(json_string_value(classname), '.') ||
	    !json_is_string(realm)) {
		cw_ignore(ignored, "a component needs a classname (\"module.Class\") and a realm",
		          "%s", path);
		return NULL;
	}
	out = json_pack("{s:O, s:O}", "classname", classname, "realm", realm);
	if (json_object_get(c, "extra"))
		json_object_set(out, "extra", json_object_get(c, "extra"));
	return out;
}

/* Every component id a process of out already uses (a default id must be new). */
static bool cw_id_used(json_t *out, const char *id)
{
	json_t *p, *c;
	size_t i, k;

	json_array_foreach(json_object_get(out, "processes"), i, p)
		json_array_foreach(json_object_get(p, "components"), k, c)
			if (!strcmp(json_string_value(json_object_get(c, "id")) ?: "", id))
				return true;
	return false;
}

static void cw_component_id(json_t *c, json_t *comp, json_t *out, json_t *siblings)
{
	char def[32];
	unsigned n = 0;
	json_t *s;
	size_t i;
	bool used;

	if (json_is_string(json_object_get(c, "id"))) {
		json_object_set(comp, "id", json_object_get(c, "id"));
		return;
	}
	do {
		snprintf(def, sizeof(def), "component%03u", ++n);
		used = cw_id_used(out, def);
		json_array_foreach(siblings, i, s)
			used = used || !strcmp(json_string_value(json_object_get(s, "id")) ?: "", def);
	} while (used);
	json_object_set_new(comp, "id", json_string(def));
}

static bool cw_guest(json_t *w, const char *path, size_t index, json_t *out, json_t *ignored)
{
	static const char *const known[] = {"type", "id", "executable", "arguments", "options",
	                                    NULL};
	static const char *const options[] = {"workdir", "env", "stdout", "stderr", "stdin",
	                                      "watch", NULL};
	json_t *exe = json_object_get(w, "executable"), *args = json_object_get(w, "arguments");
	json_t *p;

	if (!json_is_string(exe) || !json_string_length(exe)) {
		cw_ignore(ignored, "a guest needs an executable: not started", "%s (type guest)", path);
		return true;
	}
	if (args && !cw_strings(args)) {
		cw_ignore(ignored, "arguments must be a list of strings: not started",
		          "%s.arguments", path);
		return true;
	}
	cw_unknown(ignored, w, known, path);
	p = json_pack("{s:s, s:O}", "type", "guest", "executable", exe);
	cw_id(w, p, "worker", index);
	if (args)
		json_object_set(p, "arguments", args);
	if (json_is_object(json_object_get(w, "options")))
		cw_options(json_object_get(w, "options"), p, path, options, ignored);
	json_array_append_new(cw_processes(out), p);
	return true;
}

static bool cw_container(json_t *w, const char *path, size_t index, json_t *out,
                         json_t *ignored)
{
	static const char *const known[] = {"type", "id", "options", "components", NULL};
	static const char *const options[] = {"pythonpath", "env", "workdir", "stdout", "stderr",
	                                      NULL};
	static const char *const cknown[] = {"type", "id", "classname", "realm", "extra",
	                                     "transport", NULL};
	json_t *p, *list = json_array(), *c;
	size_t k;

	cw_unknown(ignored, w, known, path);
	json_array_foreach(json_object_get(w, "components"), k, c) {
		char cp[192];
		json_t *comp, *t = json_object_get(c, "transport");

		snprintf(cp, sizeof(cp), "%s.components[%zu]", path, k);
		if (!(comp = cw_component(c, cp, ignored)))
			continue;
		if (!json_is_object(t) ||
		    (!json_is_string(json_object_get(t, "url")) &&
		     !json_is_object(json_object_get(t, "endpoint")))) {
			cw_ignore(ignored, "a container component needs a transport (url or endpoint)",
			          "%s", cp);
			json_decref(comp);
			continue;
		}
		cw_unknown(ignored, c, cknown, cp);
		json_object_set(comp, "transport", t);
		cw_component_id(c, comp, out, list);
		json_array_append_new(list, comp);
	}
	if (!json_array_size(list)) {
		cw_ignore(ignored, "no component to run: not started", "%s (type container)", path);
		json_decref(list);
		return true;
	}
	p = json_pack("{s:s, s:o}", "type", "python", "components", list);
	cw_id(w, p, "worker", index);
	if (json_is_object(json_object_get(w, "options")))
		cw_options(json_object_get(w, "options"), p, path, options, ignored);
	json_array_append_new(cw_processes(out), p);
	return true;
}

bool crossbar_worker(json_t *w, const char *type, const char *path, size_t index, json_t *out,
                     json_t *ignored)
{
	static const struct {
		const char *type;
		bool (*xlate)(json_t *w, const char *path, size_t index, json_t *out,
		              json_t *ignored);
	} types[] = {{"guest", cw_guest}, {"container", cw_container}};

	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].type, type))
			return types[i].xlate(w, path, index, out, ignored);
	return false;
}

void crossbar_router_components(json_t *w, const char *path, size_t index, json_t *out,
                                json_t *ignored)
{
	static const char *const cknown[] = {"type", "id", "classname", "realm", "role", "extra",
	                                     NULL};
	static const char *const options[] = {"pythonpath", "env", NULL};
	json_t *list = json_array(), *c, *p, *opts = json_object_get(w, "options");
	size_t k;

	json_array_foreach(json_object_get(w, "components"), k, c) {
		char cp[192];
		json_t *comp;

		snprintf(cp, sizeof(cp), "%s.components[%zu]", path, k);
		if (!(comp = cw_component(c, cp, ignored)))
			continue;
		cw_unknown(ignored, c, cknown, cp);
		if (json_is_string(json_object_get(c, "role")))
			json_object_set(comp, "role", json_object_get(c, "role"));
		cw_component_id(c, comp, out, list);
		json_array_append_new(list, comp);
	}
	if (!json_array_size(list)) {
		json_decref(list);
		if (opts)
			cw_ignore(ignored, "worker process options do not apply", "%s.options", path);
		return;
	}
	p = json_pack("{s:s, s:o}", "type", "python", "components", list);
	cw_id(w, p, "worker", index);
	if (json_is_object(opts))
		cw_options(opts, p, path, options, ignored);
	json_array_append_new(cw_processes(out), p);
}
