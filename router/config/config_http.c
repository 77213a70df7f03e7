/*
 * config_http.c - a listener's "http" object: the HTTP services served on its port,
 * keyed by path (the shape of Crossbar's web transport "paths"):
 *
 *   "http": {
 *     "/publish": {"type": "publisher", "realm": "realm1", "role": "publisher",
 *                  "auth": {"type": "signed", "key": "k", "secret": "s",
 *                           "timestamp_delta_limit": 300}, "max_body": 1048576},
 *     "/call":    {"type": "caller", "realm": "realm1", "role": "caller",
 *                  "auth": {"type": "ticket", "tickets": ["s3cret"]},
 *                  "call_timeout": 30000, "max_pending": 1000},
 *     "/webhook/github": {"type": "webhook", "realm": "realm1", "role": "hooks",
 *                  "topic": "com.example.github", "github_secret": "s",
 *                  "headers": ["x-github-event", "content-type"]},
 *     "/sse":     {"type": "sse", "realm": "realm1", "match": "prefix", "heartbeat": 15,
 *                  "max_topics": 16},
 *     "/lp":      {"type": "longpoll", "poll_timeout": 10, "idle_timeout": 30,
 *                  "max_transports": 1000, "allowed_origins": ["https://app.example.com"]}
 *   }
 *
 * allowed_origins (any service; default: the listener's allowed_origins, else none) are
 * the Origin patterns whose web pages may read the service's responses (CORS).
 * The web services (static, redirect, json, nodeinfo) have their keys in config_web.c.
 *
 * Every key is checked; a misspelt one is an error naming its path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/config/config_internal.h"
#include "router/http/httpreq.h"

static bool dup_into(struct cfg_ctx *c, const char *path, const char *v, char **out)
{
	if (v && !(*out = strdup(v)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

/* A list of strings into a NULL-terminated owned array. */
static bool str_list(struct cfg_ctx *c, json_t *list, const char *path, char ***out, size_t *n,
                     bool lower)
{
	json_t *v;
	size_t i;

	if (!json_is_array(list))
		return cfg_fail(c, path, "must be a list of strings");
	if (!(*out = calloc(json_array_size(list) + 1, sizeof(**out))))
		return cfg_fail(c, path, "out of memory");
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || !json_string_length(v))
			return cfg_fail(c, path, "[%zu] must be a non-empty string", i);
		if (!((*out)[i] = strdup(json_string_value(v))))
			return cfg_fail(c, path, "out of memory");
		if (lower)
			for (char *p = (*out)[i]; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		*n = i + 1;
	}
	return true;
}

bool cfg_origins(struct cfg_ctx *c, json_t *list, const char *path, char ***out)
{
	size_t n = 0;

	if (!str_list(c, list, path, out, &n, false))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!http_origin_pattern_ok((*out)[i]))
			return cfg_fail(c, path, "[%zu] \"%s\" is not an origin pattern: "
			                "scheme://host[:port] (no path), '*' matching any characters, "
			                "e.g. \"https://*.example.com\"", i, (*out)[i]);
	return true;
}

static bool cfg_http_auth(struct cfg_ctx *c, json_t *a, const char *path,
                          struct http_service_config *s)
{
	static const char *const keys[] = {"type", "tickets", "key", "secret",
	                                   "timestamp_delta_limit", NULL};
	const char *type = NULL, *key = NULL, *secret = NULL;
	uint64_t delta = 300;
	char where[400];

	if (!json_is_object(a))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, a, keys) || !cfg_str(c, a, path, "type", &type) ||
	    !cfg_str(c, a, path, "key", &key) || !cfg_str(c, a, path, "secret", &secret) ||
	    !cfg_uint(c, a, path, "timestamp_delta_limit", 0, 86400, &delta))
		return false;
	if (!type)
		return cfg_fail(c, path, "type is required (none, ticket or signed)");
	if (!strcmp(type, "none")) {
		s->auth = HTTP_AUTH_NONE;
	} else if (!strcmp(type, "ticket")) {
		s->auth = HTTP_AUTH_TICKET;
		snprintf(where, sizeof(where), "%s.tickets", path);
		if (!json_object_get(a, "tickets"))
			return cfg_fail(c, path, "ticket authentication needs a list of tickets");
		if (!str_list(c, json_object_get(a, "tickets"), where, &s->tickets, &s->ntickets,
		              false))
			return false;
		if (!s->ntickets)
			return cfg_fail(c, where, "must not be empty");
	} else if (!strcmp(type, "signed")) {
		s->auth = HTTP_AUTH_SIGNED;
		if (!key || !secret || !*key || !*secret)
			return cfg_fail(c, path, "signed requests need a key and a secret");
		if (!dup_into(c, path, key, &s->key) || !dup_into(c, path, secret, &s->secret))
			return false;
		s->timestamp_delta_s = (unsigned)delta;
	} else {
		return cfg_fail(c, path, "type must be none, ticket or signed");
	}
	if (s->auth != HTTP_AUTH_TICKET && json_object_get(a, "tickets"))
		return cfg_fail(c, path, "tickets only apply to type ticket");
	if (s->auth != HTTP_AUTH_SIGNED && (key || secret))
		return cfg_fail(c, path, "key and secret only apply to type signed");
	return true;
}

static const char *const bridge_keys[] = {"type", "realm", "role", "auth", "max_body",
                                          "call_timeout", "max_pending", "topic",
                                          "github_secret", "headers", "allowed_origins", NULL};
static const char *const sse_keys[] = {"type", "realm", "match", "heartbeat", "max_topics",
                                       "allowed_origins", NULL};
static const char *const lp_keys[] = {"type", "poll_timeout", "idle_timeout",
                                      "max_transports", "allowed_origins", NULL};

/* The service types (enum http_service_type): their names, their keys, whether they need
 * a realm, and what reads their own keys (the web services': config_web.c). */
static const struct {
	const char *name;
	const char *const *keys;
	bool realm;
	bool (*parse)(struct cfg_ctx *c, json_t *o, const char *path,
	              struct http_service_config *s);
} svc_kinds[] = {
	[HTTP_SVC_PUBLISHER] = {"publisher", bridge_keys, true, NULL},
	[HTTP_SVC_CALLER] = {"caller", bridge_keys, true, NULL},
	[HTTP_SVC_WEBHOOK] = {"webhook", bridge_keys, true, NULL},
	[HTTP_SVC_SSE] = {"sse", sse_keys, true, NULL},
	[HTTP_SVC_LONGPOLL] = {"longpoll", lp_keys, false, NULL},
	[HTTP_SVC_STATIC] = {"static", cfg_web_static_keys, false, cfg_web_static},
	[HTTP_SVC_REDIRECT] = {"redirect", cfg_web_redirect_keys, false, cfg_web_redirect},
	[HTTP_SVC_JSON] = {"json", cfg_web_json_keys, false, cfg_web_json},
	[HTTP_SVC_NODEINFO] = {"nodeinfo", cfg_web_nodeinfo_keys, false, NULL},
	[HTTP_SVC_ARCHIVE] = {"archive", cfg_web_archive_keys, false, cfg_web_archive},
};

#define SVC_KIND_LIST "publisher, caller, webhook, sse, longpoll, static, redirect, json, " \
                      "nodeinfo, archive"

static bool cfg_http_service(struct cfg_ctx *c, const char *name, json_t *o, const char *path,
                             struct http_service_config *s)
{
	const char *type = NULL, *realm = NULL, *role = "anonymous", *topic = NULL,
	           *gh = NULL, *match = "exact";
	uint64_t max_body = 1u << 20, call_timeout = 30000, max_pending = 1000, heartbeat = 15,
	         max_topics = 16, poll = 10, idle = 30, max_transports = 1000;
	size_t t;

	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (name[0] != '/' || strchr(name, '?') || strchr(name, ' ') || strlen(name) > 120)
		return cfg_fail(c, path, "the path must start with '/' (no query, no blanks)");
	if (!cfg_str(c, o, path, "type", &type))
		return false;
	if (!type)
		return cfg_fail(c, path, "type is required (" SVC_KIND_LIST ")");
	for (t = 0; t < sizeof(svc_kinds) / sizeof(svc_kinds[0]); t++)
		if (!strcmp(svc_kinds[t].name, type))
			break;
	if (t == sizeof(svc_kinds) / sizeof(svc_kinds[0]))
		return cfg_fail(c, path, "type \"%s\" is not an HTTP service (" SVC_KIND_LIST ")",
		                type);
	s->type = (enum http_service_type)t;
	if (!cfg_check_keys(c, path, o, svc_kinds[t].keys))
		return false;
	if (!cfg_str(c, o, path, "realm", &realm) || !cfg_str(c, o, path, "role", &role) ||
	    !cfg_str(c, o, path, "topic", &topic) || !cfg_str(c, o, path, "github_secret", &gh) ||
	    !cfg_str(c, o, path, "match", &match) ||
	    !cfg_uint(c, o, path, "max_body", 0, UINT64_C(1) << 30, &max_body) ||
	    !cfg_uint(c, o, path, "call_timeout", 1, 3600000, &call_timeout) ||
	    !cfg_uint(c, o, path, "max_pending", 1, 1000000, &max_pending) ||
	    !cfg_uint(c, o, path, "heartbeat", 0, 3600, &heartbeat) ||
	    !cfg_uint(c, o, path, "max_topics", 1, 1000, &max_topics) ||
	    !cfg_uint(c, o, path, "poll_timeout", 1, 300, &poll) ||
	    !cfg_uint(c, o, path, "idle_timeout", 1, 3600, &idle) ||
	    !cfg_uint(c, o, path, "max_transports", 1, 1000000, &max_transports))
		return false;
	if (s->type != HTTP_SVC_CALLER &&
	    (json_object_get(o, "call_timeout") || json_object_get(o, "max_pending")))
		return cfg_fail(c, path, "call_timeout and max_pending apply to callers only");
	if (s->type != HTTP_SVC_WEBHOOK && (topic || gh || json_object_get(o, "headers")))
		return cfg_fail(c, path, "topic, github_secret and headers apply to webhooks only");
	if (svc_kinds[t].realm && !realm)
		return cfg_fail(c, path, "realm is required");
	if (svc_kinds[t].parse && !svc_kinds[t].parse(c, o, path, s))
		return false;
	if (realm && !uri_valid(realm, strlen(realm), URI_LOOSE, 0))
		return cfg_fail(c, path, "realm must be a valid URI");
	if (s->type == HTTP_SVC_WEBHOOK &&
	    (!topic || !uri_valid(topic, strlen(topic), URI_LOOSE, 0)))
		return cfg_fail(c, path, "a webhook needs a topic (a valid URI)");
	if (!match_policy_parse(match, &s->match))
		return cfg_fail(c, path, "match must be exact, prefix or wildcard");
	if (json_object_get(o, "auth")) {
		char where[320];

		snprintf(where, sizeof(where), "%s.auth", path);
		if (!cfg_http_auth(c, json_object_get(o, "auth"), where, s))
			return false;
	}
	if (json_object_get(o, "headers")) {
		char where[320];

		snprintf(where, sizeof(where), "%s.headers", path);
		if (!str_list(c, json_object_get(o, "headers"), where, &s->headers, &s->nheaders, true))
			return false;
	}
	if (json_object_get(o, "allowed_origins")) {
		char where[320];

		snprintf(where, sizeof(where), "%s.allowed_origins", path);
		if (!cfg_origins(c, json_object_get(o, "allowed_origins"), where, &s->allowed_origins))
			return false;
	}
	if (!dup_into(c, path, name, &s->path) || !dup_into(c, path, realm, &s->realm) ||
	    !dup_into(c, path, role, &s->role) || !dup_into(c, path, topic, &s->topic) ||
	    !dup_into(c, path, gh, &s->github_secret))
		return false;
	s->max_body = (size_t)max_body;
	s->call_timeout_ms = (uint32_t)call_timeout;
	s->max_pending = (uint32_t)max_pending;
	s->heartbeat_s = (unsigned)heartbeat;
	s->max_topics = (uint32_t)max_topics;
	s->poll_timeout_s = (unsigned)poll;
	s->idle_timeout_s = (unsigned)idle;
	s->max_transports = (uint32_t)max_transports;
	return true;
}

bool cfg_http(struct cfg_ctx *c, json_t *http, const char *path, struct listener_config *out)
{
	const char *name;
	json_t *v;
	size_t i = 0;

	if (!json_is_object(http))
		return cfg_fail(c, path, "must be an object of services by path");
	if (!(out->http = calloc(json_object_size(http) + 1, sizeof(*out->http))))
		return cfg_fail(c, path, "out of memory");
	json_object_foreach(http, name, v) {
		char where[192];

		snprintf(where, sizeof(where), "%s.%s", path, name);
		out->nhttp = i + 1;
		if (!cfg_http_service(c, name, v, where, &out->http[i]))
			return false;
		i++;
	}
	return true;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void cfg_http_free(struct listener_config *l)
{
	for (size_t i = 0; i < l->nhttp; i++) {
		struct http_service_config *s = &l->http[i];

		free(s->path);
		free(s->realm);
		free(s->role);
		free_list(s->tickets);
		free(s->key);
		if (s->secret)
			memset(s->secret, 0, strlen(s->secret));
		free(s->secret);
		free(s->topic);
		free(s->github_secret);
		free_list(s->headers);
		free_list(s->allowed_origins);
		cfg_web_free(s);
	}
	free_list(l->allowed_origins);
	l->allowed_origins = NULL;
	free(l->http);
	l->http = NULL;
	l->nhttp = 0;
}
