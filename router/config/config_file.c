/*
 * config_file.c - finding and reading the configuration file: --config FILE, or a Crossbar
 * node directory (--cbdir DIR, holding config.json or config.yaml); JSON or YAML by the
 * file's name; relative paths made absolute against the file's directory (or DIR).
 *
 * The readers are a table by file name suffix (JSON: jansson, duplicate keys refused; YAML:
 * config_yaml.c), both giving a JSON document, which config.c's cfg_load_document turns
 * into the configuration whatever the format: a YAML file is checked exactly like the
 * same JSON one.
 *
 * Relative paths: Crossbar resolves a configuration's relative file names against its node
 * directory (cbdir); wampd against the directory of the file it read, which is cbdir for
 * .crossbar/config.json, so a node directory moves over unchanged, and a configuration
 * never depends on the directory wampd happens to be started from (a service manager's is
 * "/"). config_resolve_paths is the one place that applies it to the paths the
 * configuration holds.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "router/config/config.h"
#include "router/config/config_internal.h"
#include "router/config/config_yaml.h"

/* A reader: the file's document (new reference) or NULL with err set ("path:...: what"). */
typedef json_t *(*doc_reader)(const char *path, char *err, size_t errlen);

static json_t *read_json(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (!root)
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	return root;
}

static json_t *read_yaml(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, what[400];
	size_t len = 0, cap = 0;
	json_t *root = NULL;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) { /* whole file, at most CONFIG_YAML_MAX_BYTES (+1 to see it is larger) */
		size_t n;

		if (len == cap) {
			char *nb;

			if (cap > CONFIG_YAML_MAX_BYTES) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
				         CONFIG_YAML_MAX_BYTES);
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if (!(nb = realloc(buf, cap))) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (!(root = config_yaml_parse(buf ? buf : "", len, what, sizeof(what))))
		snprintf(err, errlen, "%s:%s", path, what);
out:
	free(buf);
	fclose(f);
	return root;
}

static const struct {
	const char *suffix;
	doc_reader read;
} readers[] = {
	{".yaml", read_yaml},
	{".yml", read_yaml},
	{".json", read_json},
};

static doc_reader reader_of(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		size_t k = strlen(readers[i].suffix);

		if (n > k && !strcmp(path + n - k, readers[i].suffix))
			return readers[i].read;
	}
	return read_json; /* wampd's own files have always been JSON, whatever their name */
}

char *config_resolve_path(const struct config *cfg, const char *path)
{
	char *out;

	if (path[0] == '/' || !cfg->base_dir)
		return strdup(path);
	if (asprintf(&out, "%s/%s", cfg->base_dir, path) < 0)
		return NULL;
	return out;
}

/* Make *p absolute (replaced in place; NULL stays NULL). */
static bool resolve_in_place(const struct config *cfg, char **p)
{
	char *abs;

	if (!*p || (*p)[0] == '/')
		return true;
	if (!(abs = config_resolve_path(cfg, *p)))
		return false;
	free(*p);
	*p = abs;
	return true;
}

/* Every file name the configuration holds, made absolute against cfg->base_dir. */
static bool config_resolve_paths(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nrealms; i++) /* lmdb stores' directories */
		if (!resolve_in_place(cfg, &cfg->realms[i].store.path))
			return false;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct listener_config *l = &cfg->listeners[i];

		if (!resolve_in_place(cfg, &l->tls_cert) || !resolve_in_place(cfg, &l->tls_key) ||
		    !resolve_in_place(cfg, &l->tls_ca) || !resolve_in_place(cfg, &l->unix_path))
			return false;
		for (size_t j = 0; l->tls_ca_more && l->tls_ca_more[j]; j++)
			if (!resolve_in_place(cfg, &l->tls_ca_more[j]))
				return false;
		for (size_t j = 0; j < l->nhttp; j++)
			if (!resolve_in_place(cfg, &l->http[j].directory) || /* static services */
			    !resolve_in_place(cfg, &l->http[j].archive))      /* archive services */
				return false;
	}
	return true;
}

/* Read `path`, the base directory `base` (relative or absolute, existing), into cfg. */
static bool load(const char *path, const char *base, struct config *cfg, char *err,
                 size_t errlen)
{
	json_t *root = reader_of(path)(path, err, errlen);
	char *abs;

	if (!root) {
		memset(cfg, 0, sizeof(*cfg));
		return false;
	}
	if (!(abs = realpath(base, NULL))) {
		snprintf(err, errlen, "%s: %s", base, strerror(errno));
		json_decref(root);
		memset(cfg, 0, sizeof(*cfg));
		return false;
	}
	if (!cfg_load_document(path, root, abs, cfg, err, errlen))
		return false;
	if (!config_resolve_paths(cfg)) {
		snprintf(err, errlen, "%s: out of memory", path);
		config_free(cfg);
		return false;
	}
	return true;
}

bool config_load_file(const char *path, struct config *cfg, char *err, size_t errlen)
{
	char *dir = strdup(path), *slash;
	bool ok;

	if (!dir) {
		snprintf(err, errlen, "%s: out of memory", path);
		memset(cfg, 0, sizeof(*cfg));
		return false;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	ok = load(path, dir, cfg, err, errlen);
	free(dir);
	return ok;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

bool config_load_cbdir(const char *dir, const char *file, struct config *cfg, char *err,
                       size_t errlen)
{
	static const char *const names[] = {"config.json", "config.yaml"};
	char *path = NULL, *found[2] = {NULL, NULL};
	const char *pick = NULL;
	struct stat st;
	bool ok = false;
	size_t n = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return false;
	}
	if (file) {
		if (asprintf(&path, "%s%s%s", file[0] == '/' ? "" : dir, file[0] == '/' ? "" : "/",
		             file) < 0)
			path = NULL;
	} else {
		for (size_t i = 0; i < 2; i++)
			if (asprintf(&found[i], "%s/%s", dir, names[i]) < 0)
				found[i] = NULL;
		if (!found[0] || !found[1])
			goto oom;
		for (size_t i = 0; i < 2; i++)
			if (is_file(found[i]))
				pick = found[i], n++;
		if (n != 1) {
			snprintf(err, errlen, "%s: %s", dir, n ? "holds both config.json and config.yaml: "
			         "remove one, or name it with --config" : "holds no config.json or "
			         "config.yaml");
			goto out;
		}
		path = strdup(pick);
	}
	if (!path)
		goto oom;
	ok = load(path, dir, cfg, err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", dir);
out:
	free(path);
	free(found[0]);
	free(found[1]);
	return ok;
}
