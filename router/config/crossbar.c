/*
 * crossbar.c - reading a Crossbar.io node configuration (config.json, version 2).
 *
 * The Crossbar document is translated into wampd's own configuration document (the format
 * config.c reads), then parsed by the same code, so both formats end in the same checks.
 * What maps:
 *   workers[] of type "router"           -> realms and listeners (several are merged)
 *   realms[].name / roles[]              -> realms[] (roles have the same shape)
 *   realms[].store.event-history[]       -> realms[].event_history
 *   transports[] websocket / web / universal with a websocket path
 *                                        -> listeners[] (port, interface, path, serializers,
 *                                           auth, tls, options.max_message_size / auto_ping_*,
 *                                           options.allowed_origins -> the listener's
 *                                           allowed_origins, so the web transport's HTTP
 *                                           services on that port share it)
 *   web paths of type publisher, caller, webhook, longpoll
 *                                        -> that listener's http services (options key/secret
 *                                           -> signed auth, post_body_limit -> max_body,
 *                                           request_timeout/session_timeout -> poll/idle)
 *   transports[] universal with rawsocket -> the same listener, type universal
 *   transports[] rawsocket (tcp, with tls or not; unix)
 *                                        -> listeners[] of type rawsocket
 *   workers[] of type guest / container, a router worker's components
 *                                        -> processes[] (crossbar_workers.c)
 * "${NAME}" string values (Crossbar's secrets from the environment) are resolved before
 * the translation, on the Crossbar document, so errors name Crossbar's paths (config_env.c).
 * Everything else (other worker types, web paths that are not WebSocket,
 * TLS on a unix endpoint, unknown options) is listed as "ignored: <json path>: <reason>",
 * which the router logs once at start: never silently misread.
 */
#include "router/config/crossbar.h"
#include "router/config/crossbar_workers.h"

#include "serializers/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct xlate {
	json_t *out;      /* the native document being built */
	json_t *ignored;  /* list of strings */
};

static void ignore(struct xlate *x, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ignore(struct xlate *x, const char *reason, const char *fmt, ...)
{
	char path[256], line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "ignored: %s: %s", path, reason);
	json_array_append_new(x->ignored, json_string(line));
}

/* Report every key of obj that is not in `known`. */
static void ignore_unknown(struct xlate *x, json_t *obj, const char *const *known,
                           const char *reason, const char *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *k;

		for (k = known; *k; k++)
			if (!strcmp(*k, key))
				break;
		if (!*k)
			ignore(x, reason, "%s.%s", path, key);
	}
}

static json_t *realm_of(struct xlate *x, json_t *r, const char *path)
{
	static const char *const known[] = {"name", "roles", "store", NULL};
	json_t *out = json_object(), *store = json_object_get(r, "store");

	ignore_unknown(x, r, known, "not supported by wampd", path);
	json_object_set(out, "name", json_object_get(r, "name"));
	if (json_object_get(r, "roles")) {
		json_t *roles = json_deep_copy(json_object_get(r, "roles")), *role;
		size_t i;

		/* Crossbar roles may carry keys wampd does not use */
		json_array_foreach(roles, i, role) {
			static const char *const rknown[] = {"name", "permissions", "authorizer", NULL};
			json_t *perm;
			size_t k;
			char rp[224];

			snprintf(rp, sizeof(rp), "%s.roles[%zu]", path, i);
			ignore_unknown(x, role, rknown, "not supported by wampd", rp);
			json_array_foreach(json_object_get(role, "permissions"), k, perm) {
				static const char *const pknown[] = {"uri", "match", "allow", "disclose",
				                                     "cache", NULL};
				char pp[288];

				snprintf(pp, sizeof(pp), "%s.permissions[%zu]", rp, k);
				ignore_unknown(x, perm, pknown, "not supported by wampd", pp);
				json_object_del(perm, "cache"); /* static permissions need no cache */
			}
			{
				const char *key;
				json_t *v;
				void *tmp;

				json_object_foreach_safe(role, tmp, key, v)
					if (strcmp(key, "name") && strcmp(key, "permissions") &&
					    strcmp(key, "authorizer"))
						json_object_del(role, key);
			}
			json_array_foreach(json_object_get(role, "permissions"), k, perm) {
				const char *key;
				json_t *v;
				void *tmp;

				json_object_foreach_safe(perm, tmp, key, v)
					if (strcmp(key, "uri") && strcmp(key, "match") && strcmp(key, "allow") &&
					    strcmp(key, "disclose"))
						json_object_del(perm, key);
			}
		}
		json_object_set_new(out, "roles", roles);
	}
	if (json_is_object(store)) {
		json_t *hist = json_object_get(store, "event-history"), *h;
		size_t i;

		if (json_is_array(hist)) {
			json_t *list = json_array();

			json_array_foreach(hist, i, h)
				json_array_append_new(list, json_pack("{s:O, s:O*, s:O*}", "uri",
				                                      json_object_get(h, "uri"), "match",
				                                      json_object_get(h, "match"), "limit",
				                                      json_object_get(h, "limit")));
			json_object_set_new(out, "event_history", list);
		}
		if (strcmp(json_string_value(json_object_get(store, "type")) ?: "memory", "memory"))
			ignore(x, "only the in-memory store exists", "%s.store.type", path);
	}
	return out;
}

/* Auth blocks are shaped like wampd's; drop what wampd does not read. path: the
 * transport's (the block is its "auth"). */
static json_t *auth_of(struct xlate *x, json_t *auth, const char *path)
{
	json_t *out = json_object();
	const char *method;
	json_t *m;

	json_object_foreach(auth, method, m) {
		static const char *const mknown[] = {"type", "role", "principals", "users",
		                                     "authenticator", "authenticator-realm", NULL};
		char mp[192];
		json_t *copy;
		const char *key;
		json_t *v;
		void *tmp;

		snprintf(mp, sizeof(mp), "%s.auth.%s", path, method);
		if (!strcmp(method, "cookie")) {
			ignore(x, "cookie authentication is not supported", "%s", mp);
			continue;
		}
		if (!strcmp(method, "tls")) {
			ignore(x, "Crossbar keys TLS principals by certificate fingerprint; wampd by "
			          "common name: configure it natively", "%s", mp);
			continue;
		}
		copy = json_deep_copy(m);
		ignore_unknown(x, copy, mknown, "not supported by wampd", mp);
		json_object_foreach_safe(copy, tmp, key, v) {
			const char *const *k;

			for (k = mknown; *k; k++)
				if (!strcmp(*k, key))
					break;
			if (!*k)
				json_object_del(copy, key);
		}
		json_object_set_new(out, method, copy);
	}
	return out;
}

/* A transport's "serializers" list into listener l: the ones wampd serves; the others are
 * reported as ignored. Nothing is set when the transport has no list (wampd's default). */
static void serializers_of(struct xlate *x, json_t *t, json_t *l, const char *path)
{
	json_t *sers, *s;
	size_t i;

	if (!json_is_array(json_object_get(t, "serializers")))
		return;
	sers = json_array();
	json_array_foreach(json_object_get(t, "serializers"), i, s) {
		const char *name = json_string_value(s);

		if (name && wamp_ser_by_name(name))
			json_array_append(sers, s);
		else
			ignore(x, "serializer not supported", "%s.serializers[%zu]", path, i);
	}
	json_object_set_new(l, "serializers", sers);
}

/* A tcp endpoint's "tls": the listener's tls (key, certificate, the first CA). path: the
 * transport's (the block is its endpoint.tls). */
static void tls_of(struct xlate *x, json_t *tls, json_t *l, const char *path)
{
	static const char *const tknown[] = {"key", "certificate", "ca_certificates", "dhparam",
	                                     "ciphers", NULL};
	char tp[224];

	snprintf(tp, sizeof(tp), "%s.endpoint.tls", path);
	ignore_unknown(x, tls, tknown, "not supported by wampd", tp);
	json_object_set_new(l, "tls", json_pack("{s:O, s:O}", "key", json_object_get(tls, "key"),
	                                        "certificate", json_object_get(tls, "certificate")));
	if (json_is_array(json_object_get(tls, "ca_certificates")) &&
	    json_array_size(json_object_get(tls, "ca_certificates")))
		json_object_set(json_object_get(l, "tls"), "ca_certificates",
		                json_array_get(json_object_get(tls, "ca_certificates"), 0));
	if (json_object_get(tls, "dhparam"))
		ignore(x, "OpenSSL's defaults are used", "%s.dhparam", tp);
	if (json_object_get(tls, "ciphers"))
		ignore(x, "OpenSSL's defaults are used", "%s.ciphers", tp);
}

/* A WebSocket service (a websocket transport, or a websocket path of web/universal). */
static void listener_of(struct xlate *x, json_t *endpoint, json_t *ws, const char *ws_path,
                        const char *path)
{
	static const char *const wknown[] = {"type", "endpoint", "serializers", "auth", "options",
	                                     "url", "debug", NULL};
	json_t *l = json_object(), *opts = json_object_get(ws, "options");
	json_t *tls = json_object_get(endpoint, "tls");
	const char *etype = json_string_value(json_object_get(endpoint, "type"));
	json_t *limits = json_object_get(x->out, "limits");

	if (etype && strcmp(etype, "tcp")) {
		ignore(x, "only tcp endpoints serve WebSocket", "%s.endpoint.type", path);
		json_decref(l);
		return;
	}
	{
		json_t *other;
		size_t i;

		json_array_foreach(json_object_get(x->out, "listeners"), i, other) {
			if (json_equal(json_object_get(other, "port"), json_object_get(endpoint, "port"))) {
				ignore(x, "one WebSocket path per port is served", "%s", path);
				json_decref(l);
				return;
			}
		}
	}
	ignore_unknown(x, ws, wknown, "not supported by wampd", path);
	json_object_set_new(l, "type", json_string("websocket"));
	json_object_set(l, "port", json_object_get(endpoint, "port"));
	if (json_object_get(endpoint, "interface"))
		json_object_set(l, "host", json_object_get(endpoint, "interface"));
	else
		json_object_set_new(l, "host", json_string("*")); /* Crossbar's default */
	json_object_set_new(l, "path", json_string(ws_path));
	serializers_of(x, ws, l, path);
	if (json_object_get(ws, "auth"))
		json_object_set_new(l, "auth", auth_of(x, json_object_get(ws, "auth"), path));
	if (json_is_object(tls))
		tls_of(x, tls, l, path);
	if (json_is_object(opts)) {
		const char *key;
		json_t *v;

		json_object_foreach(opts, key, v) {
			if (!strcmp(key, "max_message_size") && json_is_integer(v))
				json_object_set(limits, "max_message_size", v);
			else if (!strcmp(key, "auto_ping_interval") && json_is_integer(v))
				json_object_set_new(limits, "ping_interval",
				                    json_integer((json_integer_value(v) + 999) / 1000));
			else if (!strcmp(key, "auto_ping_timeout") && json_is_integer(v))
				json_object_set_new(limits, "ping_timeout",
				                    json_integer((json_integer_value(v) + 999) / 1000));
			else if (!strcmp(key, "allowed_origins") && json_is_array(v))
				json_object_set(l, "allowed_origins", v); /* the listener's: WebSocket
				                                            * and its HTTP services */
			else
				ignore(x, "WebSocket option not supported", "%s.options.%s", path, key);
		}
	}
	json_array_append_new(json_object_get(x->out, "listeners"), l);
}

/* A RawSocket transport: a listener of type rawsocket on a TCP port or a Unix socket. */
static void rawlistener_of(struct xlate *x, json_t *t, const char *path)
{
	static const char *const known[] = {"type", "endpoint", "serializers", "auth", "options",
	                                    "debug", "id", NULL};
	json_t *endpoint = json_object_get(t, "endpoint"), *l;
	const char *etype = json_string_value(json_object_get(endpoint, "type"));
	json_t *opts = json_object_get(t, "options");

	ignore_unknown(x, t, known, "not supported by wampd", path);
	if (etype && !strcmp(etype, "unix")) {
		if (!json_is_string(json_object_get(endpoint, "path"))) {
			ignore(x, "a unix endpoint needs a path", "%s.endpoint", path);
			return;
		}
		l = json_pack("{s:s, s:O}", "type", "rawsocket", "unix",
		              json_object_get(endpoint, "path"));
		if (json_object_get(endpoint, "tls"))
			ignore(x, "TLS on a Unix domain socket is not served (the socket file's "
			       "permissions guard it)", "%s.endpoint.tls", path);
	} else if (!etype || !strcmp(etype, "tcp")) {
		l = json_pack("{s:s, s:O}", "type", "rawsocket", "port",
		              json_object_get(endpoint, "port"));
		if (json_object_get(endpoint, "interface"))
			json_object_set(l, "host", json_object_get(endpoint, "interface"));
		else
			json_object_set_new(l, "host", json_string("*")); /* Crossbar's default */
		if (json_is_object(json_object_get(endpoint, "tls")))
			tls_of(x, json_object_get(endpoint, "tls"), l, path);
	} else {
		ignore(x, "endpoint type not supported", "%s.endpoint.type", path);
		return;
	}
	serializers_of(x, t, l, path);
	if (json_object_get(t, "auth"))
		json_object_set_new(l, "auth", auth_of(x, json_object_get(t, "auth"), path));
	if (json_is_object(opts)) {
		const char *key;
		json_t *v;

		json_object_foreach(opts, key, v) {
			if (!strcmp(key, "max_message_size") && json_is_integer(v))
				json_object_set(json_object_get(x->out, "limits"), "max_message_size", v);
			else
				ignore(x, "RawSocket option not supported", "%s.options.%s", path, key);
		}
	}
	json_array_append_new(json_object_get(x->out, "listeners"), l);
}

/* A web path service wampd serves over HTTP (publisher, caller, webhook, longpoll) as a
 * native listeners[].http entry, or NULL (reported as ignored). */
static json_t *http_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", "realm", "role", "options", NULL};
	json_t *out = json_pack("{s:s}", "type", ptype), *opts = json_object_get(v, "options");
	const char *key;
	json_t *o;

	ignore_unknown(x, v, known, "not supported by wampd", path);
	if (strcmp(ptype, "longpoll")) {
		json_object_set(out, "realm", json_object_get(v, "realm"));
		if (json_is_string(json_object_get(v, "role")))
			json_object_set(out, "role", json_object_get(v, "role"));
	}
	json_object_foreach(opts, key, o) {
		bool bridge = strcmp(ptype, "longpoll") != 0;

		if (bridge && (!strcmp(key, "key") || !strcmp(key, "secret")))
			continue; /* below */
		if (bridge && !strcmp(key, "post_body_limit") && json_is_integer(o)) {
			if (json_integer_value(o) > 0)
				json_object_set(out, "max_body", o);
		} else if (bridge && !strcmp(key, "timestamp_delta_limit") && json_is_integer(o)) {
			/* below, with key/secret */
		} else if (!strcmp(ptype, "webhook") && !strcmp(key, "topic")) {
			json_object_set(out, "topic", o);
		} else if (!strcmp(ptype, "webhook") && !strcmp(key, "github_secret")) {
			json_object_set(out, "github_secret", o);
			ignore(x, "wampd checks X-Hub-Signature-256 (SHA-256), which GitHub sends "
			          "alongside the SHA-1 header", "%s.options.%s", path, key);
		} else if (!bridge && !strcmp(key, "request_timeout") && json_is_integer(o) &&
		           json_integer_value(o) > 0) {
			json_object_set(out, "poll_timeout", o);
		} else if (!bridge && !strcmp(key, "session_timeout") && json_is_integer(o) &&
		           json_integer_value(o) > 0) {
			json_object_set(out, "idle_timeout", o);
		} else if (strcmp(key, "debug")) {
			ignore(x, "option not supported", "%s.options.%s", path, key);
		}
	}
	if (json_is_string(json_object_get(opts, "key")) &&
	    json_is_string(json_object_get(opts, "secret"))) {
		json_t *auth = json_pack("{s:s, s:O, s:O}", "type", "signed", "key",
		                         json_object_get(opts, "key"), "secret",
		                         json_object_get(opts, "secret"));

		if (json_is_integer(json_object_get(opts, "timestamp_delta_limit")))
			json_object_set(auth, "timestamp_delta_limit",
			                json_object_get(opts, "timestamp_delta_limit"));
		json_object_set_new(out, "auth", auth);
	}
	return out;
}

static void transport_of(struct xlate *x, json_t *t, const char *path)
{
	const char *type = json_string_value(json_object_get(t, "type"));
	json_t *endpoint = json_object_get(t, "endpoint");
	char p[256];

	if (!type) {
		ignore(x, "transport without a type", "%s", path);
		return;
	}
	if (!strcmp(type, "websocket")) {
		listener_of(x, endpoint, t, "*", path);
		return;
	}
	if (!strcmp(type, "web") || !strcmp(type, "universal")) {
		json_t *paths = !strcmp(type, "web") ? json_object_get(t, "paths")
		                                     : json_object_get(t, "websocket");
		const char *name;
		json_t *v, *http = json_object();

		json_object_foreach(paths, name, v) {
			const char *ptype = json_string_value(json_object_get(v, "type"));
			char wspath[128];

			snprintf(p, sizeof(p), "%s.%s.%s", path, !strcmp(type, "web") ? "paths" : "websocket",
			         name);
			snprintf(wspath, sizeof(wspath), "%s%s", name[0] == '/' ? "" : "/", name);
			if (!strcmp(type, "universal") || (ptype && !strcmp(ptype, "websocket"))) {
				listener_of(x, endpoint, v, wspath, p);
			} else if (ptype && (!strcmp(ptype, "publisher") || !strcmp(ptype, "caller") ||
			                     !strcmp(ptype, "webhook") || !strcmp(ptype, "longpoll"))) {
				json_object_set_new(http, wspath, http_of(x, v, ptype, p));
			} else {
				ignore(x, "web services other than WebSocket and the HTTP bridge / "
				          "long-poll are not served", "%s", p);
			}
		}
		if (json_object_size(http)) {
			json_t *l;
			size_t i;
			bool placed = false;

			json_array_foreach(json_object_get(x->out, "listeners"), i, l)
				if (!placed && json_equal(json_object_get(l, "port"),
				                          json_object_get(endpoint, "port"))) {
					json_object_set(l, "http", http);
					placed = true;
				}
			if (!placed)
				ignore(x, "HTTP services need a WebSocket path on the same transport",
				       "%s.paths", path);
		}
		json_decref(http);
		if (!strcmp(type, "universal")) {
			if (json_object_get(t, "rawsocket")) {
				/* RawSocket on the same port: the listener made above serves both */
				json_t *l;
				size_t i;

				json_array_foreach(json_object_get(x->out, "listeners"), i, l)
					if (json_equal(json_object_get(l, "port"),
					               json_object_get(endpoint, "port")))
						json_object_set_new(l, "type", json_string("universal"));
				if (json_object_get(json_object_get(t, "rawsocket"), "serializers"))
					ignore(x, "the port's WebSocket serializers apply to RawSocket too",
					       "%s.rawsocket.serializers", path);
			}
			if (json_object_get(t, "web"))
				ignore(x, "web services other than WebSocket are not served", "%s.web", path);
		}
		return;
	}
	if (!strcmp(type, "rawsocket")) {
		rawlistener_of(x, t, path);
		return;
	}
	ignore(x, "unknown transport type", "%s", path);
}

json_t *crossbar_translate(json_t *root, json_t *ignored)
{
	struct xlate x = {.ignored = ignored};
	json_t *workers = json_object_get(root, "workers"), *w;
	size_t i;

	x.out = json_pack("{s:[], s:[], s:{}}", "listeners", "realms", "limits");
	if (!x.out)
		return NULL;
	if (json_object_get(root, "controller"))
		ignore(&x, "wampd has no controller", "controller");
	json_array_foreach(workers, i, w) {
		const char *type = json_string_value(json_object_get(w, "type"));
		json_t *realms = json_object_get(w, "realms"), *r, *transports, *t;
		size_t k;
		char path[64];

		snprintf(path, sizeof(path), "workers[%zu]", i);
		if (!type || strcmp(type, "router")) {
			/* guest and container: processes wampd starts (crossbar_workers.c) */
			if (!crossbar_worker(w, type, path, i, x.out, x.ignored))
				ignore(&x, "skipped: wampd runs no worker processes of this type",
				       "%s (type %s)", path, type ? type : "?");
			continue;
		}
		{
			static const char *const known[] = {"type", "id", "realms", "transports",
			                                    "components", "options", NULL};

			ignore_unknown(&x, w, known, "not supported by wampd", path);
		}
		if (json_object_get(w, "components") || json_object_get(w, "options"))
			crossbar_router_components(w, path, i, x.out, x.ignored);
		json_array_foreach(realms, k, r) {
			char rp[160];

			snprintf(rp, sizeof(rp), "%s.realms[%zu]", path, k);
			json_array_append_new(json_object_get(x.out, "realms"), realm_of(&x, r, rp));
		}
		transports = json_object_get(w, "transports");
		json_array_foreach(transports, k, t) {
			char tp[160];

			snprintf(tp, sizeof(tp), "%s.transports[%zu]", path, k);
			transport_of(&x, t, tp);
		}
	}
	if (!json_object_size(json_object_get(x.out, "limits")))
		json_object_del(x.out, "limits");
	return x.out;
}
