/*
 * config_internal.h - the helpers config.c shares with config_auth.c (and the Crossbar
 * translation): error reporting with the JSON path, key checks, typed getters.
 */
#ifndef WAMPD_ROUTER_CONFIG_INTERNAL_H
#define WAMPD_ROUTER_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "router/config/config.h"

struct cfg_ctx {
	const char *file;
	char *err;
	size_t errlen;
};

/* Write "<file>: <path>: <what>" into the context's error buffer; returns false. */
bool cfg_fail(struct cfg_ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fail on any key of obj not in the NULL-terminated list `allowed`. */
bool cfg_check_keys(struct cfg_ctx *c, const char *path, json_t *obj, const char *const *allowed);

/* obj[key] as an integer in [min, max] into *out (left alone if absent). */
bool cfg_uint(struct cfg_ctx *c, json_t *obj, const char *path, const char *key, uint64_t min,
              uint64_t max, uint64_t *out);

/* obj[key] as a string into *out (borrowed; left alone if absent). */
bool cfg_str(struct cfg_ctx *c, json_t *obj, const char *path, const char *key,
             const char **out);

/* Replace every string value of the document that is exactly "${NAME}" by the
 * environment variable NAME (config_env.c). false (the error names the JSON path and the
 * variable, never a value) if one is not set, is empty or is not a valid name. */
bool cfg_env_resolve(struct cfg_ctx *c, json_t *root);

/* A listener's "auth" object into cfg (config_auth.c). */
bool cfg_auth(struct cfg_ctx *c, json_t *auth, const char *path, struct auth_config *cfg);

/* A realm's "roles" list into cfg (config_auth.c). */
bool cfg_roles(struct cfg_ctx *c, json_t *roles, const char *path, struct authz_config *cfg);

/* A listener's "http" object of services into out (config_http.c). */
bool cfg_http(struct cfg_ctx *c, json_t *http, const char *path, struct listener_config *out);

/* The keys of the web services (config_web.c), checked by config_http.c before
 * the functions below read them. */
extern const char *const cfg_web_static_keys[];
extern const char *const cfg_web_redirect_keys[];
extern const char *const cfg_web_json_keys[];
extern const char *const cfg_web_nodeinfo_keys[];
extern const char *const cfg_web_archive_keys[];

/* The keys of a web service (config_web.c) from o into s: static, redirect, json (s->type
 * is set; nodeinfo has none). A relative static directory (or archive) is taken from the directory of
 * the configuration file (c->file). false with the error set; what was set is freed by
 * cfg_web_free. */
bool cfg_web_static(struct cfg_ctx *c, json_t *o, const char *path,
                    struct http_service_config *s);
bool cfg_web_redirect(struct cfg_ctx *c, json_t *o, const char *path,
                      struct http_service_config *s);
bool cfg_web_json(struct cfg_ctx *c, json_t *o, const char *path,
                  struct http_service_config *s);
bool cfg_web_archive(struct cfg_ctx *c, json_t *o, const char *path,
                     struct http_service_config *s);

/* Free what cfg_web_static/redirect/json/archive set in s. */
void cfg_web_free(struct http_service_config *s);

/* Free what the listener's HTTP services own, and its allowed_origins (config_http.c). */
void cfg_http_free(struct listener_config *l);

/* A list of Origin patterns (allowed_origins) into *out (owned, NULL-terminated; set even
 * when it fails half-way, for the caller's cleanup). Each must pass
 * http_origin_pattern_ok (config_http.c). */
bool cfg_origins(struct cfg_ctx *c, json_t *list, const char *path, char ***out);

/* A parsed configuration document (root: taken, freed in every case) of the file `path`
 * (named in errors), either format, into cfg: what config_load_file does once the file is
 * read (config_file.c reads it: JSON or YAML). base_dir (absolute, or NULL) becomes
 * cfg->base_dir (taken: freed with cfg, also on failure); the processes' paths are resolved
 * against it while parsing, the listeners' afterwards (config_file.c). */
bool cfg_load_document(const char *path, json_t *root, char *base_dir, struct config *cfg,
                       char *err, size_t errlen);

/* The "processes" list into cfg->processes (config_processes.c); the realms must be read
 * first (a router component's realm is checked against them). */
bool cfg_processes(struct cfg_ctx *c, json_t *list, struct config *cfg);

/* Free cfg->processes (config_processes.c). */
void cfg_processes_free(struct config *cfg);

/* The default authentication of a listener: anonymous, role "anonymous". */
bool cfg_auth_default(struct auth_config *cfg);

#endif
