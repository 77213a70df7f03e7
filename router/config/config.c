/*
 * config.c - the embedded default configuration and the JSON loader (format in config.h).
 *
 * The loader walks the document once; every object's keys are checked against the keys
 * that object may have, so a typo is reported with its JSON path instead of being ignored.
 * Values are type- and range-checked where they are read.
 */
#include "router/config/config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wassert.h"
#include "router/config/config_internal.h"
#include "realm/replay.h"
#include "router/config/crossbar.h"
#include "serializers/codec.h"

#define DEFAULT_PORT 8080

bool cfg_fail(struct cfg_ctx *c, const char *path, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, what);
	return false;
}

bool cfg_check_keys(struct cfg_ctx *c, const char *path, json_t *obj,
                           const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a;
		char where[256];

		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			snprintf(where, sizeof(where), "%s%s%s", path, *path ? "." : "", key);
			return cfg_fail(c, where, "unknown key");
		}
	}
	return true;
}

bool cfg_uint(struct cfg_ctx *c, json_t *obj, const char *path, const char *key,
                     uint64_t min, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	char where[256];

	if (!v)
		return true;
	snprintf(where, sizeof(where), "%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return cfg_fail(c, where, "must be a non-negative integer");
	if ((uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return cfg_fail(c, where, "must be between %llu and %llu", (unsigned long long)min,
		                (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return true;
}

bool cfg_str(struct cfg_ctx *c, json_t *obj, const char *path, const char *key,
                    const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return true;
	if (!json_is_string(v)) {
		char where[256];

		snprintf(where, sizeof(where), "%s.%s", path, key);
		return cfg_fail(c, where, "must be a string");
	}
	*out = json_string_value(v);
	return true;
}

/*
 * The "limits" keys, one row each (redis' standardConfig): name, range and where the value
 * lives in struct config. The defaults are config_base's (one place too). Each value is an
 * unsigned integer of the width of its field.
 */
#define LIMIT_ROW(key, min, max, field)                                                     \
	{key, min, max, offsetof(struct config, field), sizeof(((struct config *)0)->field)}
static const struct limit_row {
	const char *key;
	uint64_t min, max;
	size_t offset, size;
} limit_rows[] = {
	LIMIT_ROW("max_message_size", 64, UINT64_C(1) << 30, max_message_size),
	LIMIT_ROW("max_nesting_depth", 2, 1000, max_depth),
	LIMIT_ROW("send_queue_bytes", 1024, UINT64_C(1) << 34, send_queue_bytes),
	LIMIT_ROW("max_sessions", 1, 10000000, max_sessions),
	LIMIT_ROW("max_subscriptions_per_session", 1, UINT32_MAX,
	          realm_limits.max_subscriptions_per_session),
	LIMIT_ROW("max_registrations_per_session", 1, UINT32_MAX,
	          realm_limits.max_registrations_per_session),
	LIMIT_ROW("max_pending_calls_per_session", 1, UINT32_MAX,
	          realm_limits.max_pending_calls_per_session),
	LIMIT_ROW("max_pending_calls_per_callee", 1, UINT32_MAX,
	          realm_limits.max_pending_calls_per_callee),
	LIMIT_ROW("max_testament_bytes_per_session", 0, UINT32_MAX,
	          realm_limits.max_testament_bytes_per_session),
	LIMIT_ROW("max_sessions_per_ip", 0, 10000000, max_sessions_per_ip),
	LIMIT_ROW("max_auth_failures_per_ip", 0, 1000000, max_auth_failures_per_ip),
	LIMIT_ROW("auth_failure_window", 1, 86400, auth_failure_window_s),
	LIMIT_ROW("hello_timeout", 1, 3600, hello_timeout_s),
	LIMIT_ROW("ping_interval", 0, 65535, ping_interval_s),
	LIMIT_ROW("ping_timeout", 0, 65535, ping_timeout_s),
};
#undef LIMIT_ROW

static uint64_t limit_get(const struct config *cfg, const struct limit_row *r)
{
	const char *p = (const char *)cfg + r->offset;

	WAMPD_ASSERT(r->size == sizeof(uint64_t) || r->size == sizeof(uint32_t));
	switch (r->size) {
	case sizeof(uint64_t): return *(const uint64_t *)(const void *)p;
	default: return *(const uint32_t *)(const void *)p;
	}
}

static void limit_set(struct config *cfg, const struct limit_row *r, uint64_t v)
{
	char *p = (char *)cfg + r->offset;

	if (r->size == sizeof(uint64_t))
		*(uint64_t *)(void *)p = v;
	else
		*(uint32_t *)(void *)p = (uint32_t)v;
}

static bool cfg_limits(struct cfg_ctx *c, json_t *lim, struct config *cfg)
{
	const char *key;
	json_t *val;

	if (!json_is_object(lim))
		return cfg_fail(c, "limits", "must be an object");
	json_object_foreach(lim, key, val) {
		const struct limit_row *r = NULL;
		uint64_t v;

		for (size_t i = 0; i < sizeof(limit_rows) / sizeof(limit_rows[0]) && !r; i++)
			if (!strcmp(limit_rows[i].key, key))
				r = &limit_rows[i];
		if (!r) {
			char path[300];

			snprintf(path, sizeof(path), "limits.%s", key);
			return cfg_fail(c, path, "unknown key");
		}
		v = limit_get(cfg, r);
		if (!cfg_uint(c, lim, "limits", key, r->min, r->max, &v))
			return false;
		limit_set(cfg, r, v);
	}
	return true;
}

/*
 * The listener types ("type"), one row each: what a listener of the type serves, and the
 * keys that do not apply to it (refused, naming why, rather than silently unused). An
 * "http" listener serves its HTTP services only: no WebSocket upgrade, no RawSocket (its
 * long-poll and SSE services are WAMP sessions over HTTP, with its auth and serializers).
 */
static const char *const http_type_refused[] = {"path", "ping_interval", "ping_timeout",
                                                "max_message_size", NULL};
static const struct listener_type {
	const char *name;
	bool websocket, rawsocket, http;
	const char *const *refused;  /* keys that do not apply, or NULL */
	const char *why;             /* ... and why */
} listener_types[] = {
	{"universal", true, true, true, NULL, NULL},
	{"websocket", true, false, true, NULL, NULL},
	{"rawsocket", false, true, false, NULL, NULL},
	{"http", false, false, true, http_type_refused,
	 "does not apply to an http listener (it serves HTTP services only: no WebSocket, no "
	 "RawSocket)"},
};

static const struct listener_type *listener_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(listener_types) / sizeof(listener_types[0]); i++)
		if (!strcmp(listener_types[i].name, name))
			return &listener_types[i];
	return NULL;
}

bool config_serves_wamp(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];

		if (lc->websocket || lc->rawsocket)
			return true;
		for (size_t k = 0; k < lc->nhttp; k++)
			if (lc->http[k].type == HTTP_SVC_LONGPOLL)
				return true;
	}
	return false;
}

static bool cfg_listener(struct cfg_ctx *c, json_t *l, const char *path,
                         const struct config *cfg, struct listener_config *out)
{
	const struct listener_type *lt;
	static const char *const keys[] = {"type", "host", "port", "path", "serializers", "auth",
	                                   "tls", "unix", "http", "reuse_port",
	                                   "allowed_origins", "max_message_size", "ping_interval",
	                                   "ping_timeout", NULL};
	static const char *const tls_keys[] = {"certificate", "key", "ca_certificates",
	                                       "require_client_cert", NULL};
	json_t *tls = json_object_get(l, "tls");
	const char *type = "universal", *host = "127.0.0.1", *wspath = "/ws", *unix_path = NULL;
	uint64_t port = DEFAULT_PORT, max_msg = cfg->max_message_size;
	uint64_t ping = cfg->ping_interval_s, ping_timeout = cfg->ping_timeout_s;
	json_t *sers = json_object_get(l, "serializers");

	if (!json_is_object(l))
		return cfg_fail(c, path, "must be an object");
	/* the same ranges as the limits of the same names */
	if (!cfg_check_keys(c, path, l, keys) || !cfg_str(c, l, path, "type", &type) ||
	    !cfg_str(c, l, path, "host", &host) || !cfg_str(c, l, path, "path", &wspath) ||
	    !cfg_uint(c, l, path, "port", 0, 65535, &port) ||
	    !cfg_str(c, l, path, "unix", &unix_path) ||
	    !cfg_uint(c, l, path, "max_message_size", 64, UINT64_C(1) << 30, &max_msg) ||
	    !cfg_uint(c, l, path, "ping_interval", 0, 65535, &ping) ||
	    !cfg_uint(c, l, path, "ping_timeout", 0, 65535, &ping_timeout))
		return false;
	out->max_message_size = (size_t)max_msg;
	out->ping_interval_s = (unsigned)ping;
	out->ping_timeout_s = (unsigned)ping_timeout;
	if (!(lt = listener_type_find(type)))
		return cfg_fail(c, path, "type \"%s\" is not supported (universal, websocket, "
		                "rawsocket, http)", type);
	for (const char *const *k = lt->refused; k && *k; k++)
		if (json_object_get(l, *k)) {
			char where[160];

			snprintf(where, sizeof(where), "%s.%s", path, *k);
			return cfg_fail(c, where, "%s", lt->why);
		}
	out->websocket = lt->websocket;
	out->rawsocket = lt->rawsocket;
	out->serves_http = lt->http;
	if (unix_path && !(out->unix_path = strdup(unix_path)))
		return cfg_fail(c, path, "out of memory");
	if (unix_path && tls)
		return cfg_fail(c, path, "tls on a Unix domain socket is not supported");
	if (wspath[0] != '/' && strcmp(wspath, "*"))
		return cfg_fail(c, path, "path must start with '/' (or be \"*\": any path)");
	out->serializers = wamp_ser_supported_set(); /* all: CBOR when built with libcbor */
	if (sers) {
		size_t i;
		json_t *s;

		if (!json_is_array(sers) || json_array_size(sers) == 0)
			return cfg_fail(c, path, "serializers must be a non-empty list");
		out->serializers = 0;
		json_array_foreach(sers, i, s) {
			const struct wamp_serializer_desc *d =
				json_is_string(s) ? wamp_ser_by_name(json_string_value(s)) : NULL;

			if (!d)
				return cfg_fail(c, path, "serializers[%zu]: unknown or unsupported "
				                "serializer", i);
			out->serializers |= 1u << d->ser;
		}
	}
	if (tls) {
		char where[128];
		const char *cert = NULL, *key = NULL, *ca = NULL;
		json_t *req = json_object_get(tls, "require_client_cert");
		json_t *cas = json_object_get(tls, "ca_certificates");

		snprintf(where, sizeof(where), "%s.tls", path);
		if (!json_is_object(tls))
			return cfg_fail(c, where, "must be an object");
		if (!cfg_check_keys(c, where, tls, tls_keys) ||
		    !cfg_str(c, tls, where, "certificate", &cert) || !cfg_str(c, tls, where, "key", &key) ||
		    (!json_is_array(cas) && !cfg_str(c, tls, where, "ca_certificates", &ca)))
			return false;
		if (json_is_array(cas)) {
			/* several CA files: the first is libwebsockets', the others loaded after it
			 * (router/net/tlspeer.c) */
			size_t i, n = json_array_size(cas);
			json_t *f;

			json_array_foreach(cas, i, f)
				if (!json_is_string(f) || !*json_string_value(f))
					return cfg_fail(c, where, "ca_certificates must be a file or a non-empty "
					                "list of files");
			if (!n)
				return cfg_fail(c, where, "ca_certificates must be a file or a non-empty "
				                "list of files");
			ca = json_string_value(json_array_get(cas, 0));
			if (n > 1 && !(out->tls_ca_more = calloc(n, sizeof(*out->tls_ca_more))))
				return cfg_fail(c, where, "out of memory");
			for (i = 1; i < n; i++)
				if (!(out->tls_ca_more[i - 1] = strdup(json_string_value(json_array_get(cas, i)))))
					return cfg_fail(c, where, "out of memory");
		}
		if (!cert || !key)
			return cfg_fail(c, where, "certificate and key are required");
		if (req && !json_is_boolean(req))
			return cfg_fail(c, where, "require_client_cert must be true or false");
		out->tls_require_client_cert = json_is_true(req);
		if (out->tls_require_client_cert && !ca)
			return cfg_fail(c, where, "require_client_cert needs ca_certificates");
		if (!(out->tls_cert = strdup(cert)) || !(out->tls_key = strdup(key)) ||
		    (ca && !(out->tls_ca = strdup(ca))))
			return cfg_fail(c, where, "out of memory");
	}
	if (json_object_get(l, "reuse_port")) {
		if (!json_is_boolean(json_object_get(l, "reuse_port")))
			return cfg_fail(c, path, "reuse_port must be true or false");
		out->reuse_port = json_is_true(json_object_get(l, "reuse_port"));
	}
	if (json_object_get(l, "allowed_origins")) {
		char where[128];

		snprintf(where, sizeof(where), "%s.allowed_origins", path);
		if (!out->serves_http)
			return cfg_fail(c, where, "applies to websocket, universal and http listeners "
			                "(the WebSocket handshake and the HTTP services)");
		if (!cfg_origins(c, json_object_get(l, "allowed_origins"), where,
		                 &out->allowed_origins))
			return false;
	}
	if (json_object_get(l, "auth")) {
		char where[128];

		snprintf(where, sizeof(where), "%s.auth", path);
		if (!cfg_auth(c, json_object_get(l, "auth"), where, &out->auth))
			return false;
	} else if (!cfg_auth_default(&out->auth)) {
		return cfg_fail(c, path, "out of memory");
	}
	{
		enum auth_method m;
		const char *setting = tls ? NULL : auth_config_tls_only(&out->auth, &m);
		char where[160];

		/* e.g. cryptosign's require_channel_binding (tls-unique exists only on a TLS
		 * connection): nobody could ever log in */
		if (setting) {
			snprintf(where, sizeof(where), "%s.auth.%s.%s", path, auth_method_name(m),
			         setting);
			return cfg_fail(c, where, "needs a TLS listener (tls)");
		}
	}
	if (json_object_get(l, "http")) {
		char where[128];

		snprintf(where, sizeof(where), "%s.http", path);
		if (!out->serves_http)
			return cfg_fail(c, where, "HTTP services need a websocket, universal or http "
			                "listener");
		if (!cfg_http(c, json_object_get(l, "http"), where, out))
			return false;
		for (size_t i = 0; tls && i < out->nhttp; i++)
			if (out->http[i].type == HTTP_SVC_SSE)
				/* see router/net/http.h: lws 4.1.6 busy-loops on a held GET with pipelined
				 * bytes behind it, and there is nothing to tell it by */
				return cfg_fail(c, where, "Server-Sent Events (%s) are not served on TLS "
				                "listeners yet: serve them on a plain listener, behind a "
				                "TLS-terminating proxy", out->http[i].path);
	}
	if (!out->websocket && !out->rawsocket && !out->nhttp)
		return cfg_fail(c, path, "an http listener serves its HTTP services only: give "
		                "them (http)");
	out->port = (int)port;
	out->host = (!strcmp(host, "*") || !*host) ? NULL : strdup(host);
	out->path = strdup(wspath);
	if ((host[0] && strcmp(host, "*") && !out->host) || !out->path)
		return cfg_fail(c, path, "out of memory");
	return true;
}

static bool cfg_same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Two NULL-terminated lists of strings (or NULL) are the same. */
static bool cfg_same_strs(char *const *a, char *const *b)
{
	while (a && b && *a && *b && !strcmp(*a, *b))
		a++, b++;
	return (!a || !*a) && (!b || !*b);
}

/*
 * Listeners on one port (see config.h): the later ones are served by the first one's socket
 * (port_owner), so they must agree with it on what belongs to the socket (tls, reuse_port)
 * and differ in what tells their connections apart: their WebSocket paths, the one of them
 * serving RawSocket, their HTTP service paths.
 *
 * A TLS listener may not share its port number with a listener on another address:
 * libwebsockets 4.1.6 picks the vhost of a TLS connection (SNI) and of each HTTP request
 * head by port and name only (lws_select_vhost), so the two would be served with one
 * listener's certificate, auth and services (issue #17, listener isolation).
 */
static bool cfg_ports(struct cfg_ctx *c, struct config *cfg)
{
	char path[300];

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct listener_config *b = &cfg->listeners[i];

		b->port_owner = i;
		for (size_t j = 0; j < i; j++) {
			const struct listener_config *a = &cfg->listeners[j];

			if (!a->port || a->port != b->port || a->unix_path || b->unix_path)
				continue;
			if (!cfg_same_str(a->host, b->host)) {
				if (!a->tls_cert && !b->tls_cert)
					continue; /* two sockets, on two addresses */
				snprintf(path, sizeof(path), "listeners[%zu].port", i);
				return cfg_fail(c, path, "%d is also the port of listeners[%zu]; a TLS "
				                "listener cannot share its port number with another "
				                "listener", b->port, j);
			}
			if (b->port_owner == i)
				b->port_owner = j; /* the first one on the port: its own owner */
			if (!cfg_same_str(a->tls_cert, b->tls_cert) ||
			    !cfg_same_str(a->tls_key, b->tls_key) || !cfg_same_str(a->tls_ca, b->tls_ca) ||
			    !cfg_same_strs(a->tls_ca_more, b->tls_ca_more) ||
			    a->tls_require_client_cert != b->tls_require_client_cert) {
				snprintf(path, sizeof(path), "listeners[%zu].tls", i);
				return cfg_fail(c, path, "listeners on one port share its TLS settings, and "
				                "listeners[%zu] has other ones on port %d", j, b->port);
			}
			if (a->tls_cert && a->websocket && b->websocket &&
			    a->serializers != b->serializers) {
				/* lws picks the subprotocol of a TLS upgrade before anything reads its
				 * path (router/net/listen.c) */
				snprintf(path, sizeof(path), "listeners[%zu].serializers", i);
				return cfg_fail(c, path, "WebSocket listeners on one TLS port serve the same "
				                "serializers, and listeners[%zu] has other ones on port %d", j,
				                b->port);
			}
			if (a->reuse_port != b->reuse_port) {
				snprintf(path, sizeof(path), "listeners[%zu].reuse_port", i);
				return cfg_fail(c, path, "listeners on one port share it, and listeners[%zu] "
				                "says otherwise on port %d", j, b->port);
			}
			if (a->rawsocket && b->rawsocket) {
				snprintf(path, sizeof(path), "listeners[%zu].type", i);
				return cfg_fail(c, path, "listeners[%zu] serves RawSocket on port %d already "
				                "(one listener of a port serves it)", j, b->port);
			}
			if (a->websocket && b->websocket && !strcmp(a->path, b->path)) {
				snprintf(path, sizeof(path), "listeners[%zu].path", i);
				return cfg_fail(c, path, "listeners[%zu] serves \"%s\" on port %d already", j,
				                b->path, b->port);
			}
			for (size_t k = 0; k < b->nhttp; k++)
				for (size_t m = 0; m < a->nhttp; m++)
					if (!strcmp(a->http[m].path, b->http[k].path)) {
						snprintf(path, sizeof(path), "listeners[%zu].http.%s", i,
						         b->http[k].path);
						return cfg_fail(c, path, "listeners[%zu] serves this path on port %d "
						                "already", j, b->port);
					}
		}
	}
	return true;
}

static bool cfg_history(struct cfg_ctx *c, json_t *list, const char *path,
                        struct realm_config *out)
{
	static const char *const keys[] = {"uri", "match", "limit", "max_age", NULL};
	json_t *h;
	size_t i;
	char where[128];

	if (!json_is_array(list))
		return cfg_fail(c, path, "event_history must be a list");
	out->history = calloc(json_array_size(list) + 1, sizeof(*out->history));
	if (!out->history)
		return cfg_fail(c, path, "out of memory");
	json_array_foreach(list, i, h) {
		const char *uri = NULL, *match = "exact";
		uint64_t limit = 100, max_age = 0;
		struct history_config *hc = &out->history[i];

		snprintf(where, sizeof(where), "%s.event_history[%zu]", path, i);
		if (!json_is_object(h))
			return cfg_fail(c, where, "must be an object");
		if (!cfg_check_keys(c, where, h, keys) || !cfg_str(c, h, where, "uri", &uri) ||
		    !cfg_str(c, h, where, "match", &match) ||
		    !cfg_uint(c, h, where, "limit", 1, 1000000, &limit) ||
		    !cfg_uint(c, h, where, "max_age", 0, UINT64_C(10) * 365 * 86400, &max_age))
			return false;
		if (!match_policy_parse(match, &hc->match))
			return cfg_fail(c, where, "match must be exact, prefix or wildcard");
		if (!uri || !uri_valid(uri, strlen(uri), URI_LOOSE,
		                       hc->match == MATCH_EXACT ? 0 : URI_ALLOW_EMPTY))
			return cfg_fail(c, where, "uri must be a valid URI (pattern)");
		if (!(hc->uri = strdup(uri)))
			return cfg_fail(c, where, "out of memory");
		hc->limit = (uint32_t)limit;
		hc->max_age_ms = (int64_t)max_age * 1000;
		out->nhistory = i + 1;
	}
	return true;
}

/* "resume": {"window_s": 30, "max_bytes": 1048576, "max_detached_bytes": 67108864}:
 * resumable sessions offered (docs/resumption.md); no "resume" key: not offered. The
 * budget of all detached logs holds at least one full log. */
static bool cfg_resume(struct cfg_ctx *c, json_t *v, const char *path, struct realm_config *out)
{
	static const char *const keys[] = {"window_s", "max_bytes", "max_detached_bytes", NULL};
	uint64_t window = 30, max_bytes = 1u << 20, budget = REPLAY_MAX_DETACHED_BYTES_DEFAULT;
	char where[128];

	snprintf(where, sizeof(where), "%s.resume", path);
	if (!json_is_object(v))
		return cfg_fail(c, where, "must be an object {\"window_s\", \"max_bytes\"}");
	if (!cfg_check_keys(c, where, v, keys) ||
	    !cfg_uint(c, v, where, "window_s", 1, 86400, &window) ||
	    !cfg_uint(c, v, where, "max_bytes", 1024, UINT64_C(1) << 34, &max_bytes))
		return false;
	if (budget < max_bytes)
		budget = max_bytes;
	if (!cfg_uint(c, v, where, "max_detached_bytes", max_bytes, UINT64_C(1) << 40, &budget))
		return false;
	out->resume_window_s = (uint32_t)window;
	out->resume_max_bytes = max_bytes;
	out->resume_max_detached_bytes = budget;
	return true;
}

/* "store": {"type": "memory" | "lmdb" | "redis", "path", "max_size", "durable"} */
static bool cfg_store(struct cfg_ctx *c, json_t *o, const char *realm_path,
                      struct store_config *out)
{
	static const char *const keys[] = {"type", "path", "max_size", "durable", NULL};
	static const char *const types[] = {"memory", "lmdb", "redis", NULL};
	const char *type = "memory", *spath = NULL;
	uint64_t max_size = STORE_DEFAULT_LMDB_MAX_SIZE;
	char path[128];
	json_t *d;
	bool known = false;

	snprintf(path, sizeof(path), "%s.store", realm_path);
	if (!json_is_object(o))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, o, keys) || !cfg_str(c, o, path, "type", &type) ||
	    !cfg_str(c, o, path, "path", &spath) ||
	    !cfg_uint(c, o, path, "max_size", UINT64_C(1) << 20, UINT64_C(1) << 44, &max_size))
		return false;
	for (const char *const *t = types; *t; t++)
		known = known || !strcmp(*t, type);
	if (!known)
		return cfg_fail(c, path, "type must be memory, lmdb or redis");
	if ((d = json_object_get(o, "durable")) && !json_is_boolean(d))
		return cfg_fail(c, path, "durable must be true or false");
	out->durable = json_is_true(d);
	if (!strcmp(type, "lmdb") && (!spath || !*spath))
		return cfg_fail(c, path, "path (a directory for the lmdb files) is required");
	if (strcmp(type, "lmdb") && spath)
		return cfg_fail(c, path, "path is for the lmdb store only");
	if (!strcmp(type, "memory") && out->durable)
		return cfg_fail(c, path, "durable needs a store that keeps events: lmdb or redis");
	out->max_size = max_size;
	if (!(out->type = strdup(type)) || (spath && !(out->path = strdup(spath))))
		return cfg_fail(c, path, "out of memory");
	return true;
}

static bool cfg_realm(struct cfg_ctx *c, json_t *r, const char *path, struct realm_config *out)
{
	static const char *const keys[] = {"name", "uri_check", "call_timeout", "max_retained",
	                                   "max_retained_bytes", "event_history",
	                                   "max_history_bytes", "roles", "authorizer_cache_ttl",
	                                   "store", "resume", NULL};
	const char *name = NULL, *check = "loose";
	uint64_t call_timeout = 0, max_retained = BROKER_DEFAULT_MAX_RETAINED, cache_ttl = 60000;
	uint64_t retained_bytes = BROKER_DEFAULT_MAX_RETAINED_BYTES;
	uint64_t history_bytes = BROKER_DEFAULT_MAX_HISTORY_BYTES;

	if (!json_is_object(r))
		return cfg_fail(c, path, "must be an object");
	if (!cfg_check_keys(c, path, r, keys) || !cfg_str(c, r, path, "name", &name) ||
	    !cfg_str(c, r, path, "uri_check", &check) ||
	    !cfg_uint(c, r, path, "call_timeout", 0, UINT32_MAX, &call_timeout) ||
	    !cfg_uint(c, r, path, "max_retained", 0, UINT32_MAX, &max_retained) ||
	    !cfg_uint(c, r, path, "max_retained_bytes", 0, UINT64_C(1) << 40, &retained_bytes) ||
	    !cfg_uint(c, r, path, "max_history_bytes", 0, UINT64_C(1) << 40, &history_bytes) ||
	    !cfg_uint(c, r, path, "authorizer_cache_ttl", 0, UINT32_MAX, &cache_ttl))
		return false;
	out->authz.cache_ttl_ms = (uint32_t)cache_ttl;
	if (json_object_get(r, "roles")) {
		char where[128];

		snprintf(where, sizeof(where), "%s.roles", path);
		if (!cfg_roles(c, json_object_get(r, "roles"), where, &out->authz))
			return false;
	}
	out->call_timeout_ms = (int64_t)call_timeout;
	out->max_retained = (uint32_t)max_retained;
	out->max_retained_bytes = retained_bytes;
	out->max_history_bytes = history_bytes;
	if (json_object_get(r, "event_history") &&
	    !cfg_history(c, json_object_get(r, "event_history"), path, out))
		return false;
	if (json_object_get(r, "resume") && !cfg_resume(c, json_object_get(r, "resume"), path, out))
		return false;
	if (json_object_get(r, "store") && !cfg_store(c, json_object_get(r, "store"), path,
	                                               &out->store))
		return false;
	if (!name || !uri_valid(name, strlen(name), URI_LOOSE, 0))
		return cfg_fail(c, path, "name must be a valid URI");
	if (!strcmp(check, "loose"))
		out->uri_rule = URI_LOOSE;
	else if (!strcmp(check, "strict"))
		out->uri_rule = URI_STRICT;
	else
		return cfg_fail(c, path, "uri_check must be \"loose\" or \"strict\"");
	if (!(out->name = strdup(name)))
		return cfg_fail(c, path, "out of memory");
	return true;
}

static void config_base(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_levels.def = WLOG_NOTICE;
	cfg->log_format = WLOG_TEXT;
	cfg->max_message_size = 16u << 20;
	cfg->max_depth = WAMP_DEFAULT_MAX_DEPTH;
	cfg->send_queue_bytes = 4u << 20;
	cfg->max_sessions = 100000;
	cfg->max_sessions_per_ip = 10000;
	cfg->max_auth_failures_per_ip = 20;
	cfg->auth_failure_window_s = 60;
	cfg->hello_timeout_s = 10;
	cfg->ping_interval_s = 30;
	cfg->ping_timeout_s = 60;
	cfg->realm_limits = REALM_LIMITS_DEFAULT;
	cfg->backplane.heartbeat_ttl_ms = 5000;
}

bool config_default(struct config *cfg)
{
	config_base(cfg);
	cfg->listeners = calloc(1, sizeof(*cfg->listeners));
	cfg->realms = calloc(1, sizeof(*cfg->realms));
	if (!cfg->listeners || !cfg->realms)
		goto fail;
	cfg->nlisteners = 1;
	cfg->listeners[0].host = strdup("127.0.0.1");
	cfg->listeners[0].port = DEFAULT_PORT;
	cfg->listeners[0].path = strdup("/ws");
	cfg->listeners[0].serializers = wamp_ser_supported_set();
	cfg->listeners[0].websocket = true;
	cfg->listeners[0].rawsocket = true;
	cfg->listeners[0].serves_http = true;
	cfg->listeners[0].max_message_size = cfg->max_message_size;
	cfg->listeners[0].ping_interval_s = cfg->ping_interval_s;
	cfg->listeners[0].ping_timeout_s = cfg->ping_timeout_s;
	if (!cfg_auth_default(&cfg->listeners[0].auth))
		goto fail;
	cfg->nrealms = 1;
	cfg->realms[0].name = strdup("realm1");
	cfg->realms[0].uri_rule = URI_LOOSE;
	cfg->realms[0].max_retained = BROKER_DEFAULT_MAX_RETAINED;
	cfg->realms[0].max_retained_bytes = BROKER_DEFAULT_MAX_RETAINED_BYTES;
	cfg->realms[0].max_history_bytes = BROKER_DEFAULT_MAX_HISTORY_BYTES;
	cfg->realms[0].authz.cache_ttl_ms = 60000; /* as for a realm read from a file */
	if (!cfg->listeners[0].host || !cfg->listeners[0].path || !cfg->realms[0].name)
		goto fail;
	return true;
fail:
	config_free(cfg);
	return false;
}

/* 127.0.0.0/8, ::1 or localhost (not "*" or "", which mean every interface) */
static bool cfg_host_is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost");
}

static bool cfg_admin(struct cfg_ctx *c, json_t *a, struct admin_config *out)
{
	static const char *const keys[] = {"enabled", "host", "port", "ticket", NULL};
	const char *host = "127.0.0.1", *ticket = NULL;
	uint64_t port = 8081;
	json_t *en = json_object_get(a, "enabled");

	if (!json_is_object(a))
		return cfg_fail(c, "admin", "must be an object");
	if (!cfg_check_keys(c, "admin", a, keys) || !cfg_str(c, a, "admin", "host", &host) ||
	    !cfg_uint(c, a, "admin", "port", 0, 65535, &port) ||
	    !cfg_str(c, a, "admin", "ticket", &ticket))
		return false;
	if (en && !json_is_boolean(en))
		return cfg_fail(c, "admin.enabled", "must be true or false");
	if (ticket && !*ticket)
		return cfg_fail(c, "admin.ticket", "must not be empty (omit it for no ticket)");
	/* the status pages list every session and the metrics every realm: never to other
	 * hosts without a ticket */
	if (!ticket && !cfg_host_is_loopback(host))
		return cfg_fail(c, "admin.ticket", "is required when admin.host (%s) is not a loopback "
		                "address", *host ? host : "*");
	out->enabled = !en || json_is_true(en);
	out->port = (int)port;
	out->host = (!strcmp(host, "*") || !*host) ? NULL : strdup(host);
	out->ticket = ticket ? strdup(ticket) : NULL;
	if ((host[0] && strcmp(host, "*") && !out->host) || (ticket && !out->ticket))
		return cfg_fail(c, "admin", "out of memory");
	return true;
}

/* [from, to) with %XX decoded, as a new string; NULL if malformed or out of memory */
static char *cfg_url_decode(const char *from, const char *to)
{
	char *out = malloc((size_t)(to - from) + 1), *o = out;

	if (!out)
		return NULL;
	while (from < to) {
		unsigned hi, lo;

		if (*from != '%') {
			*o++ = *from++;
			continue;
		}
		if (to - from < 3 || sscanf(from + 1, "%1x%1x", &hi, &lo) != 2 || !(hi | lo)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi << 4 | lo);
		from += 3;
	}
	*o = '\0';
	return out;
}

/* "redis://[[user]:password@]host[:port][/db]" (user and password %-encoded) */
static bool cfg_parse_redis_url(struct config *cfg, const char *url)
{
	const char *p = url + strlen("redis://"), *colon, *slash, *at;
	char *end;
	long v;

	if (strncmp(url, "redis://", 8))
		return false;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *sep = memchr(p, ':', (size_t)(at - p));

		if (!sep || sep + 1 == at) /* a password is required; the user is optional */
			return false;
		if ((sep > p && !(cfg->backplane.redis_user = cfg_url_decode(p, sep))) ||
		    !(cfg->backplane.redis_password = cfg_url_decode(sep + 1, at)))
			return false;
		p = at + 1;
	}
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	cfg->backplane.redis_port = 6379;
	cfg->backplane.redis_db = 0;
	if (!(cfg->backplane.redis_host = strndup(p, colon ? (size_t)(colon - p)
	                                  : slash ? (size_t)(slash - p) : strlen(p))) ||
	    !*cfg->backplane.redis_host)
		return false;
	if (colon) {
		v = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || v <= 0 || v > 65535 || (*end && *end != '/'))
			return false;
		cfg->backplane.redis_port = (int)v;
	}
	if (slash && slash[1]) {
		v = strtol(slash + 1, &end, 10);
		if (*end || v < 0 || v > 1000)
			return false;
		cfg->backplane.redis_db = (int)v;
	}
	return true;
}

/* "backplane": {"redis": URL, "node_id": ..., "heartbeat_ttl": ms} */
static bool cfg_backplane(struct cfg_ctx *c, json_t *bp, struct config *cfg)
{
	static const char *const keys[] = {"redis", "node_id", "heartbeat_ttl", NULL};
	const char *url = NULL, *node = NULL;
	uint64_t ttl = cfg->backplane.heartbeat_ttl_ms;

	if (!json_is_object(bp))
		return cfg_fail(c, "backplane", "must be an object");
	if (!cfg_check_keys(c, "backplane", bp, keys) || !cfg_str(c, bp, "backplane", "redis", &url) ||
	    !cfg_str(c, bp, "backplane", "node_id", &node) ||
	    !cfg_uint(c, bp, "backplane", "heartbeat_ttl", 500, 600000, &ttl))
		return false;
	if (!url)
		return cfg_fail(c, "backplane.redis", "is required (redis://host:port/db)");
	if (!cfg_parse_redis_url(cfg, url)) /* not shown: it may hold a password */
		return cfg_fail(c, "backplane.redis", "must be a "
		                "redis://[[user]:password@]host[:port][/db] URL (user and password "
		                "%%-encoded)");
	if (node && (!*node || strlen(node) > 64 || strpbrk(node, " :*?[]\\\n")))
		return cfg_fail(c, "backplane.node_id", "must be 1-64 characters without spaces, "
		                "':' or glob characters");
	cfg->backplane.heartbeat_ttl_ms = (uint32_t)ttl;
	if (!(cfg->backplane.redis = strdup(url)) ||
	    (node && !(cfg->backplane.node_id = strdup(node))))
		return cfg_fail(c, "backplane", "out of memory");
	return true;
}

static bool cfg_document(struct cfg_ctx *c, json_t *root, struct config *cfg)
{
	static const char *const keys[] = {"log_level", "log_format", "listeners", "realms",
	                                   "auto_create_realms", "limits", "admin", "backplane",
	                                   "processes", NULL};
	const char *level = NULL, *format = NULL;
	json_t *v;
	size_t i;
	char path[64], why[160];

	if (!json_is_object(root))
		return cfg_fail(c, "(top)", "the configuration must be a JSON object");
	if (!cfg_check_keys(c, "", root, keys) || !cfg_str(c, root, "", "log_level", &level) ||
	    !cfg_str(c, root, "", "log_format", &format))
		return false;
	if (level && !wlog_parse_spec(level, &cfg->log_levels, NULL, why, sizeof(why)))
		return cfg_fail(c, "log_level", "%s", why);
	if (format && !wlog_parse_format(format, &cfg->log_format))
		return cfg_fail(c, "log_format", "must be \"text\" or \"json\"");
	if ((v = json_object_get(root, "admin")) && !cfg_admin(c, v, &cfg->admin))
		return false;
	if ((v = json_object_get(root, "auto_create_realms"))) {
		if (!json_is_boolean(v))
			return cfg_fail(c, "auto_create_realms", "must be true or false");
		cfg->auto_create_realms = json_is_true(v);
	}
	if ((v = json_object_get(root, "limits")) && !cfg_limits(c, v, cfg))
		return false;
	if ((v = json_object_get(root, "backplane")) && !cfg_backplane(c, v, cfg))
		return false;

	v = json_object_get(root, "listeners");
	if (v && (!json_is_array(v) || json_array_size(v) == 0))
		return cfg_fail(c, "listeners", "must be a non-empty list");
	if (v) {
		json_t *l;

		cfg->listeners = calloc(json_array_size(v), sizeof(*cfg->listeners));
		if (!cfg->listeners)
			return cfg_fail(c, "listeners", "out of memory");
		if (json_array_size(v) > CONFIG_MAX_LISTENERS)
			return cfg_fail(c, "listeners", "more than %d listeners", CONFIG_MAX_LISTENERS);
		json_array_foreach(v, i, l) {
			snprintf(path, sizeof(path), "listeners[%zu]", i);
			cfg->nlisteners = i + 1;
			if (!cfg_listener(c, l, path, cfg, &cfg->listeners[i]))
				return false;
		}
		if (!cfg_ports(c, cfg))
			return false;
	}

	v = json_object_get(root, "realms");
	if (v && !json_is_array(v))
		return cfg_fail(c, "realms", "must be a list");
	if (v && json_array_size(v)) {
		json_t *r;

		cfg->realms = calloc(json_array_size(v), sizeof(*cfg->realms));
		if (!cfg->realms)
			return cfg_fail(c, "realms", "out of memory");
		json_array_foreach(v, i, r) {
			snprintf(path, sizeof(path), "realms[%zu]", i);
			cfg->nrealms = i + 1;
			if (!cfg_realm(c, r, path, &cfg->realms[i]))
				return false;
			for (size_t j = 0; j < i; j++) {
				if (!strcmp(cfg->realms[j].name, cfg->realms[i].name))
					return cfg_fail(c, path, "realm \"%s\" is defined twice",
					                cfg->realms[i].name);
				if (cfg->realms[i].store.path && cfg->realms[j].store.path &&
				    !strcmp(cfg->realms[i].store.path, cfg->realms[j].store.path))
					return cfg_fail(c, path, "store.path %s is also realms[%zu]'s: "
					                "each realm needs a directory of its own",
					                cfg->realms[i].store.path, j);
			}
			if (cfg->realms[i].store.type && !strcmp(cfg->realms[i].store.type, "redis") &&
			    !cfg->backplane.redis)
				return cfg_fail(c, path, "store type redis is the cluster backplane's Redis: "
				                "configure backplane.redis");
		}
	}
	if ((v = json_object_get(root, "processes")) && !cfg_processes(c, v, cfg))
		return false;
	return true;
}

bool cfg_load_document(const char *path, json_t *root, char *base_dir, struct config *cfg,
                       char *err, size_t errlen)
{
	struct cfg_ctx c = {.file = path, .err = err, .errlen = errlen};
	bool ok, realms_given;

	config_base(cfg);
	cfg->base_dir = base_dir; /* before the document: processes resolve against it */
	/* "${NAME}" values first, so both formats and every later check see the real ones */
	if (!cfg_env_resolve(&c, root)) {
		json_decref(root);
		config_free(cfg); /* base_dir */
		return false;
	}
	if (json_is_object(root) && json_is_array(json_object_get(root, "workers"))) {
		json_t *native;

		char why[512] = "out of memory";

		cfg->notes = json_array();
		native = cfg->notes ? crossbar_translate(root, cfg->notes, why, sizeof(why)) : NULL;
		json_decref(root);
		if (!native) {
			snprintf(err, errlen, "%s: %s", path, why);
			config_free(cfg);
			return false;
		}
		if (!json_array_size(json_object_get(native, "listeners"))) {
			snprintf(err, errlen, "%s: the Crossbar configuration has no transport wampd can "
			         "serve (WebSocket, RawSocket or web paths)", path);
			json_decref(native);
			config_free(cfg);
			return false;
		}
		root = native;
		c.file = path;
	}
	ok = cfg_document(&c, root, cfg);
	/* every key is optional: what is not given is the embedded default's (an empty file is
	 * the embedded default); an empty "realms" list is a choice, not an omission */
	realms_given = json_is_object(root) && json_object_get(root, "realms");
	json_decref(root);
	realms_given = realms_given || cfg->auto_create_realms;
	if (ok && (!cfg->nlisteners || (!cfg->nrealms && !realms_given))) {
		struct config def;

		if (!config_default(&def)) {
			snprintf(err, errlen, "%s: out of memory", path);
			ok = false;
		} else {
			if (!cfg->nlisteners) {
				cfg->listeners = def.listeners;
				cfg->nlisteners = def.nlisteners;
				/* with this file's limits */
				cfg->listeners[0].max_message_size = cfg->max_message_size;
				cfg->listeners[0].ping_interval_s = cfg->ping_interval_s;
				cfg->listeners[0].ping_timeout_s = cfg->ping_timeout_s;
				def.listeners = NULL;
				def.nlisteners = 0;
			}
			if (!cfg->nrealms && !realms_given) {
				free(cfg->realms);
				cfg->realms = def.realms;
				cfg->nrealms = def.nrealms;
				def.realms = NULL;
				def.nrealms = 0;
			}
			config_free(&def);
		}
	}
	/* without a WAMP endpoint no client joins a realm: a router serving web paths only
	 * (Crossbar starts one without realms) needs none; its bridge services name theirs */
	if (ok && !cfg->nrealms && !cfg->auto_create_realms && config_serves_wamp(cfg)) {
		snprintf(err, errlen, "%s: realms: no realm defined and auto_create_realms is false",
		         path);
		ok = false;
	}
	if (!ok)
		config_free(cfg);
	return ok;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		free(cfg->listeners[i].host);
		free(cfg->listeners[i].path);
		free(cfg->listeners[i].tls_cert);
		free(cfg->listeners[i].tls_key);
		free(cfg->listeners[i].tls_ca);
		for (char **f = cfg->listeners[i].tls_ca_more; f && *f; f++)
			free(*f);
		free(cfg->listeners[i].tls_ca_more);
		free(cfg->listeners[i].unix_path);
		cfg_http_free(&cfg->listeners[i]);
		auth_config_clear(&cfg->listeners[i].auth);
	}
	free(cfg->listeners);
	for (size_t i = 0; i < cfg->nrealms; i++) {
		free(cfg->realms[i].name);
		for (size_t j = 0; j < cfg->realms[i].nhistory; j++)
			free(cfg->realms[i].history[j].uri);
		free(cfg->realms[i].history);
		free(cfg->realms[i].store.type);
		free(cfg->realms[i].store.path);
		authz_config_clear(&cfg->realms[i].authz);
	}
	free(cfg->realms);
	free(cfg->admin.host);
	free(cfg->admin.ticket);
	if (cfg->backplane.redis_password)
		explicit_bzero(cfg->backplane.redis_password, strlen(cfg->backplane.redis_password));
	if (cfg->backplane.redis)
		explicit_bzero(cfg->backplane.redis, strlen(cfg->backplane.redis));
	free(cfg->backplane.redis);
	free(cfg->backplane.redis_host);
	free(cfg->backplane.redis_user);
	free(cfg->backplane.redis_password);
	free(cfg->backplane.node_id);
	json_decref(cfg->notes);
	cfg_processes_free(cfg);
	free(cfg->base_dir);
	memset(cfg, 0, sizeof(*cfg));
}
