/*
 * config_web.c - the keys of the web services of a listener's "http" object (the types
 * config_http.c hands over: static, redirect, json, nodeinfo):
 *
 *   "http": {
 *     "/":      {"type": "static", "directory": "../web", "directory_listing": false,
 *                "cache_timeout": 0, "default_file": "index.html",
 *                "mime_types": {".wasm": "application/wasm"}},
 *     "/old":   {"type": "redirect", "url": "https://example.com/new", "status": 302},
 *     "/conf":  {"type": "json", "value": {"any": ["json"]}, "prettify": false},
 *     "/info":  {"type": "nodeinfo"},
 *     "/app":   {"type": "archive", "archive": "../app.zip", "object_prefix": "dist",
 *                "default_object": "index.html", "default_file": "index.html",
 *                "cache_timeout": 0, "mime_types": {".wasm": "application/wasm"}}
 *   }
 *
 * A relative directory is taken from the configuration's base directory (as Crossbar
 * takes it from its node directory: --cbdir, or the file's directory), made absolute by
 * config_file.c with the file's other paths, so that nothing later depends on the working
 * directory; an archive's path likewise. Whether a directory exists is looked at when the
 * service starts (router/http/static_svc.c), as Crossbar does: a missing directory is
 * logged and answers 404 until it exists. Values that end up in response headers (a MIME
 * type, the redirect URL) are checked for characters a header may carry, so a
 * configuration can never split a response. Whether an archive opens as a ZIP is checked
 * before the start (config_preflight: `wampd check` says so) and again when its service
 * is created (router/http/archive_svc.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "router/config/config_internal.h"
#include "router/http/httpreq.h"

const char *const cfg_web_static_keys[] = {"type", "directory", "directory_listing",
                                           "cache_timeout", "default_file", "mime_types",
                                           "allowed_origins", NULL};
const char *const cfg_web_redirect_keys[] = {"type", "url", "status", "allowed_origins", NULL};
const char *const cfg_web_json_keys[] = {"type", "value", "prettify", "allowed_origins", NULL};
const char *const cfg_web_nodeinfo_keys[] = {"type", "allowed_origins", NULL};
const char *const cfg_web_archive_keys[] = {"type", "archive", "object_prefix",
                                            "default_object", "default_file",
                                            "cache_timeout", "mime_types",
                                            "allowed_origins", NULL};

#define REDIRECT_URL_MAX 2000

static bool cfg_bool(struct cfg_ctx *c, json_t *o, const char *path, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return true;
	if (!json_is_boolean(v))
		return cfg_fail(c, path, "%s must be true or false", key);
	*out = json_is_true(v);
	return true;
}

/* A header value from the configuration: non-empty, no control characters. */
static bool header_safe(const char *s)
{
	return *s && http_field_value_ok(s, strlen(s));
}

/* The service's "mime_types" (static, archive) into s->mime_types. */
static bool cfg_mime_types(struct cfg_ctx *c, json_t *o, const char *path,
                           struct http_service_config *s)
{
	json_t *types = json_object_get(o, "mime_types");

	if (types) {
		char where[320];
		const char *ext;
		json_t *v;
		size_t i = 0;

		snprintf(where, sizeof(where), "%s.mime_types", path);
		if (!json_is_object(types))
			return cfg_fail(c, where, "must be an object of \".ext\": \"type\"");
		if (!(s->mime_types = calloc(2 * json_object_size(types) + 1, sizeof(char *))))
			return cfg_fail(c, where, "out of memory");
		json_object_foreach(types, ext, v) {
			if (!*ext || strchr(ext, '/') || !json_is_string(v) ||
			    !header_safe(json_string_value(v)))
				return cfg_fail(c, where, "%s: an extension maps to a MIME type (a string "
				                "without control characters)", ext);
			if (!(s->mime_types[i++] = strdup(ext)) ||
			    !(s->mime_types[i++] = strdup(json_string_value(v))))
				return cfg_fail(c, where, "out of memory");
		}
	}
	return true;
}

bool cfg_web_static(struct cfg_ctx *c, json_t *o, const char *path,
                    struct http_service_config *s)
{
	const char *dir = NULL, *def = NULL;
	uint64_t cache = 0;

	if (!cfg_str(c, o, path, "directory", &dir) || !cfg_str(c, o, path, "default_file", &def) ||
	    !cfg_uint(c, o, path, "cache_timeout", 0, 10u * 366 * 86400, &cache) ||
	    !cfg_bool(c, o, path, "directory_listing", &s->directory_listing))
		return false;
	if (!dir || !*dir)
		return cfg_fail(c, path, "a static service needs a directory");
	if (def && (!*def || def[0] == '/'))
		return cfg_fail(c, path, "default_file must be a file name relative to the "
		                "directory");
	s->cache_timeout_s = (uint32_t)cache;
	if (!(s->directory = strdup(dir))) /* made absolute with the file's other paths */
		return cfg_fail(c, path, "out of memory");
	if (def && !(s->default_file = strdup(def)))
		return cfg_fail(c, path, "out of memory");
	return cfg_mime_types(c, o, path, s);
}

bool cfg_web_redirect(struct cfg_ctx *c, json_t *o, const char *path,
                      struct http_service_config *s)
{
	const char *url = NULL;
	uint64_t status = 302;

	if (!cfg_str(c, o, path, "url", &url) || !cfg_uint(c, o, path, "status", 301, 308, &status))
		return false;
	if (!url || !header_safe(url) || strchr(url, ' ') || strlen(url) > REDIRECT_URL_MAX)
		return cfg_fail(c, path, "a redirect needs a url (at most %d characters, no blanks "
		                "or control characters)", REDIRECT_URL_MAX);
	if (status > 303 && status < 307)
		return cfg_fail(c, path, "status must be 301, 302, 303, 307 or 308");
	s->redirect_status = (unsigned)status;
	if (!(s->url = strdup(url)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

bool cfg_web_json(struct cfg_ctx *c, json_t *o, const char *path,
                  struct http_service_config *s)
{
	json_t *v = json_object_get(o, "value");
	bool pretty = false;

	if (!cfg_bool(c, o, path, "prettify", &pretty))
		return false;
	if (!v)
		return cfg_fail(c, path, "a json service needs a value");
	s->json = json_dumps(v, JSON_ENCODE_ANY |
	                     (pretty ? JSON_INDENT(3) | JSON_SORT_KEYS : JSON_COMPACT));
	return s->json ? true : cfg_fail(c, path, "out of memory");
}

/* An entry name from the configuration (object_prefix, default_object): relative, no
 * "." or ".." segment, no '\\' or control character. Its leading and trailing '/' are
 * dropped (object_prefix "dist/" names the folder "dist"). */
static bool entry_name_ok(const char *v)
{
	const char *p = v;

	for (const char *q = v; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '\\')
			return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n + (p[n] == '/');
	}
	return true;
}

static char *entry_name_dup(const char *v)
{
	size_t n;

	while (*v == '/')
		v++;
	n = strlen(v);
	while (n && v[n - 1] == '/')
		n--;
	return strndup(v, n);
}

bool cfg_web_archive(struct cfg_ctx *c, json_t *o, const char *path,
                     struct http_service_config *s)
{
	const char *zip = NULL, *prefix = "", *defobj = "index.html", *def = NULL;
	uint64_t cache = 0;

	if (!cfg_str(c, o, path, "archive", &zip) || !cfg_str(c, o, path, "object_prefix", &prefix) ||
	    !cfg_str(c, o, path, "default_object", &defobj) ||
	    !cfg_str(c, o, path, "default_file", &def) ||
	    !cfg_uint(c, o, path, "cache_timeout", 0, 10u * 366 * 86400, &cache))
		return false;
	if (!zip || !*zip)
		return cfg_fail(c, path, "an archive service needs an archive (a ZIP file)");
	if (!prefix || !entry_name_ok(prefix))
		return cfg_fail(c, path, "object_prefix must be a folder inside the archive (no "
		                "'.' or '..' segments, no '\\')");
	if (!defobj || !*defobj || strchr(defobj, '/') || !entry_name_ok(defobj))
		return cfg_fail(c, path, "default_object must be a file name (no '/')");
	if (def && (!*def || def[0] == '/' || !entry_name_ok(def)))
		return cfg_fail(c, path, "default_file must be an entry name relative to "
		                "object_prefix");
	s->cache_timeout_s = (uint32_t)cache;
	if (!(s->archive = strdup(zip)) || /* made absolute with the file's other paths */
	    !(s->object_prefix = entry_name_dup(prefix)) ||
	    !(s->default_object = strdup(defobj)) || (def && !(s->default_file = strdup(def))))
		return cfg_fail(c, path, "out of memory");
	return cfg_mime_types(c, o, path, s);
}

void cfg_web_free(struct http_service_config *s)
{
	free(s->archive);
	free(s->object_prefix);
	free(s->default_object);
	free(s->directory);
	free(s->default_file);
	for (size_t i = 0; s->mime_types && s->mime_types[i]; i++)
		free(s->mime_types[i]);
	free(s->mime_types);
	free(s->url);
	free(s->json);
}
