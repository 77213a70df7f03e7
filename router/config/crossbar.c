/*
 * crossbar.c - reading a Crossbar.io node configuration (config.json, version 2).
 *
 * The Crossbar document is translated into wampd's own configuration document (the format
 * config.c reads), then parsed by the same code, so both formats end in the same checks.
 * What maps:
 *   workers[] of type "router"           -> realms and listeners (several are merged: a
 *                                           realm or transport defined the same way by
 *                                           several workers is served once; two different
 *                                           definitions of one realm, or of one WebSocket
 *                                           path of a port, are an error naming both)
 *   realms[].name / roles[]              -> realms[] (roles have the same shape)
 *   realms[].options.uri_check           -> realms[].uri_check
 *   realms[].store of type cfxdb (path, maxsize) -> realms[].store of type lmdb
 *   realms[].store.event-history[] (and the store's "limit", their default)
 *                                        -> realms[].event_history
 *   transports[] websocket (any path), web and universal (each WebSocket path, nested
 *   "path" services too: /app/ws2)       -> one listener per WebSocket path, all sharing
 *                                           their transport's port (config.h), each with
 *                                           its own serializers, auth and options
 *                                           (max_message_size, auto_ping_* -> the
 *                                           listener's; allowed_origins -> its
 *                                           allowed_origins, also its HTTP services')
 *   auth.<method> of type "dynamic" (tls too: the authenticator is shown the client
 *   certificate, details.transport.client_cert)
 *                                        -> the same (config_auth.c)
 *   auth.<method> of type "function" (Python code)
 *                                        -> type "refused": that method's logins get ABORT
 *                                           wamp.error.not_authorized with why, the others
 *                                           are served
 *   auth.tls principals' certificate-sha1 -> the same (config_auth.c)
 *   web paths of type publisher, caller, webhook, longpoll
 *                                        -> the transport's first WebSocket listener's http
 *                                           services (a transport without WebSocket paths:
 *                                           an http listener's, HTTP services only;
 *                                           its long-poll sessions: anonymous, the
 *                                           listener's default auth)
 *                                           (options key/secret -> signed auth,
 *                                           post_body_limit -> max_body,
 *                                           request_timeout/session_timeout -> poll/idle)
 *   web paths of type static, redirect, json, nodeinfo, archive
 *                                        -> that listener's web services (static: directory,
 *                                           options.enable_directory_listing,
 *                                           cache_timeout (default 43200 as Crossbar),
 *                                           default_file, mime_types; json: value,
 *                                           options.prettify; redirect: url; archive:
 *                                           archive, object_prefix, default_object,
 *                                           mime_types, options.default_file, cache ->
 *                                           cache_timeout 43200 (else 0); origin,
 *                                           download and hashes reported)
 *   universal rawsocket, transports[] rawsocket (tcp, with tls or not; unix)
 *                                        -> listeners[] of type rawsocket (a universal's on
 *                                           its port, with its own serializers and auth)
 *   workers[] of type guest / container, a router worker's components
 *                                        -> processes[] (crossbar_workers.c)
 * "${NAME}" string values (Crossbar's secrets from the environment) are resolved before
 * the translation, on the Crossbar document, so errors name Crossbar's paths (config_env.c).
 * Everything else (other worker types, components, the web path types wampd does not
 * serve (wsgi, resource, cgi, reverseproxy, upload, wap, schemadoc: table
 * web_services, each with why), TLS on a unix endpoint, options and keys wampd does not
 * have) is listed as "ignored: <json path>: <reason>", one line each, which the router logs
 * once at start: never silently misread. Options that only confirm what wampd does anyway
 * (require_websocket_subprotocol: true, enable_meta_api: true, ...) are not listed.
 */
#include "router/config/crossbar.h"
#include "router/config/crossbar_workers.h"

#include "serializers/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define XPATH_MAX 512 /* a Crossbar JSON path in a note */

struct xlate {
	json_t *out;            /* the native document being built */
	json_t *ignored;        /* where notes go: a list of strings */
	json_t *origins;        /* the Crossbar path of each of out.listeners, in order */
	json_t *realm_origins;  /* ... and of each of out.realms */
	json_t *transports;     /* the router transports translated so far: [[t, path], ...] */
	char *err;              /* why the translation failed */
	size_t errlen;
	bool failed;
};

static void ignore(struct xlate *x, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ignore(struct xlate *x, const char *reason, const char *fmt, ...)
{
	char path[XPATH_MAX], line[XPATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "ignored: %s: %s", path, reason);
	json_array_append_new(x->ignored, json_string(line));
}

static void fail(struct xlate *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The translation cannot go on: the first reason is kept. */
static void fail(struct xlate *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failed)
		return;
	x->failed = true;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
}

static bool known_key(const char *const *known, const char *key)
{
	for (const char *const *k = known; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/* Report every key of obj that is not in `known`. */
static void ignore_unknown(struct xlate *x, json_t *obj, const char *const *known,
                           const char *reason, const char *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
		if (!known_key(known, key))
			ignore(x, reason, "%s.%s", path, key);
}

/* ------------------------------------------------------------------------------------ */
/* realms                                                                                 */

/* realms[].options: the ones that map, and why the others are not served */
static void realm_options_of(struct xlate *x, json_t *opts, json_t *out, const char *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(opts, key, v) {
		if (!strcmp(key, "uri_check") && json_is_string(v) &&
		    (!strcmp(json_string_value(v), "strict") || !strcmp(json_string_value(v), "loose")))
			json_object_set(out, "uri_check", v);
		else if (!strcmp(key, "enable_meta_api") && json_is_true(v))
			; /* what wampd does */
		else if (!strcmp(key, "enable_meta_api"))
			ignore(x, "wampd always serves the meta API (wamp.*): deny it in the roles",
			       "%s.options.%s", path, key);
		else if (!strcmp(key, "bridge_meta_api"))
			ignore(x, "router-to-router links are not supported", "%s.options.%s", path, key);
		else if (!strcmp(key, "event_dispatching_chunk_size"))
			ignore(x, "wampd queues an event to all its subscribers at once (encoded once "
			       "per serializer)", "%s.options.%s", path, key);
		else
			ignore(x, "realm option not supported", "%s.options.%s", path, key);
	}
}

/* realms[].store: the event history (Crossbar's "limit" is its entries' default limit) */
static void store_of(struct xlate *x, json_t *store, json_t *out, const char *path)
{
	static const char *const known[] = {"type", "event-history", "limit", "call-queue",
	                                    "path", "maxsize", "buffer-flush", NULL};
	static const char *const hknown[] = {"uri", "match", "limit", NULL};
	json_t *hist = json_object_get(store, "event-history"), *h;
	json_t *limit = json_object_get(store, "limit");
	const char *type = json_string_value(json_object_get(store, "type")) ?: "memory";
	size_t i;

	if (!strcmp(type, "cfxdb")) {
		/* Crossbar's persistent (LMDB) store: wampd's lmdb store, the path relative to
		 * the node directory as Crossbar takes it (config_file.c resolves it) */
		json_t *st = json_pack("{s:s, s:O*}", "type", "lmdb", "path",
		                       json_object_get(store, "path"));

		if (json_is_integer(json_object_get(store, "maxsize")))
			json_object_set(st, "max_size", json_object_get(store, "maxsize"));
		if (json_object_get(store, "buffer-flush"))
			ignore(x, "wampd commits once per event loop iteration (durable: false)",
			       "%s.store.buffer-flush", path);
		json_object_set_new(out, "store", st);
	} else if (strcmp(type, "memory")) {
		ignore(x, "store type not supported (memory and cfxdb are)", "%s.store.type", path);
	}
	if (strcmp(type, "cfxdb"))
		for (const char *const *k = (const char *const[]){"path", "maxsize", "buffer-flush",
		                                                  NULL}; *k; k++)
			if (json_object_get(store, *k))
				ignore(x, "only for a cfxdb store", "%s.store.%s", path, *k);
	if (json_object_get(store, "call-queue"))
		ignore(x, "queued calls are not supported", "%s.store.call-queue", path);
	{
		char sp[XPATH_MAX + 8];

		snprintf(sp, sizeof(sp), "%s.store", path);
		ignore_unknown(x, store, known, "store option not supported", sp);
	}
	if (!json_is_array(hist))
		return;
	{
		json_t *list = json_array();

		json_array_foreach(hist, i, h) {
			char hp[XPATH_MAX + 64];
			json_t *hl = json_object_get(h, "limit");

			snprintf(hp, sizeof(hp), "%s.store.event-history[%zu]", path, i);
			ignore_unknown(x, h, hknown, "not supported by wampd", hp);
			json_array_append_new(list, json_pack("{s:O, s:O*, s:O*}", "uri",
			                                      json_object_get(h, "uri"), "match",
			                                      json_object_get(h, "match"), "limit",
			                                      hl ? hl : json_is_integer(limit) ? limit
			                                                                       : NULL));
		}
		json_object_set_new(out, "event_history", list);
	}
}

static json_t *realm_of(struct xlate *x, json_t *r, const char *path)
{
	static const char *const known[] = {"name", "roles", "store", "options", "rlinks", NULL};
	json_t *out = json_object(), *store = json_object_get(r, "store");

	ignore_unknown(x, r, known, "not supported by wampd", path);
	json_object_set(out, "name", json_object_get(r, "name"));
	if (json_object_get(r, "rlinks"))
		ignore(x, "router-to-router links are not supported (one wampd process is one "
		       "router: its router workers are merged)", "%s.rlinks", path);
	if (json_is_object(json_object_get(r, "options")))
		realm_options_of(x, json_object_get(r, "options"), out, path);
	if (json_object_get(r, "roles")) {
		json_t *roles = json_deep_copy(json_object_get(r, "roles")), *role;
		size_t i;

		/* Crossbar roles may carry keys wampd does not use */
		json_array_foreach(roles, i, role) {
			static const char *const rknown[] = {"name", "permissions", "authorizer", NULL};
			json_t *perm;
			size_t k;
			char rp[XPATH_MAX];

			snprintf(rp, sizeof(rp), "%s.roles[%zu]", path, i);
			ignore_unknown(x, role, rknown, "not supported by wampd", rp);
			json_array_foreach(json_object_get(role, "permissions"), k, perm) {
				static const char *const pknown[] = {"uri", "match", "allow", "disclose",
				                                     "cache", NULL};
				char pp[XPATH_MAX + 64];

				snprintf(pp, sizeof(pp), "%s.permissions[%zu]", rp, k);
				ignore_unknown(x, perm, pknown, "not supported by wampd", pp);
				json_object_del(perm, "cache"); /* static permissions need no cache */
			}
			{
				const char *key;
				json_t *v;
				void *tmp;

				json_object_foreach_safe(role, tmp, key, v)
					if (!known_key(rknown, key))
						json_object_del(role, key);
			}
			json_array_foreach(json_object_get(role, "permissions"), k, perm) {
				static const char *const keep[] = {"uri", "match", "allow", "disclose", NULL};
				const char *key;
				json_t *v;
				void *tmp;

				json_object_foreach_safe(perm, tmp, key, v)
					if (!known_key(keep, key))
						json_object_del(perm, key);
			}
		}
		json_object_set_new(out, "roles", roles);
	}
	if (json_is_object(store))
		store_of(x, store, out, path);
	return out;
}

/* A realm of a router worker: translated; one of the same name from another worker is
 * served once when it translates the same (its notes are the first one's), else the
 * configuration cannot be served as Crossbar would. */
static void add_realm(struct xlate *x, json_t *r, const char *path)
{
	json_t *notes = x->ignored, *own = json_array(), *native, *other;
	size_t i;

	x->ignored = own;
	native = realm_of(x, r, path);
	x->ignored = notes;
	json_array_foreach(json_object_get(x->out, "realms"), i, other) {
		const char *where = json_string_value(json_array_get(x->realm_origins, i));

		if (!json_is_string(json_object_get(native, "name")) ||
		    !json_equal(json_object_get(native, "name"), json_object_get(other, "name")))
			continue;
		if (json_equal(native, other))
			ignore(x, "merged: the same realm as that of the first router worker defining "
			       "it, served once", "%s (realm \"%s\", as %s)", path,
			       json_string_value(json_object_get(native, "name")), where);
		else
			fail(x, "%s: realm \"%s\" is also defined by %s, differently (wampd serves one "
			     "definition of a realm: make them the same)", path,
			     json_string_value(json_object_get(native, "name")), where);
		json_decref(native);
		json_decref(own);
		return;
	}
	json_array_extend(x->ignored, own);
	json_decref(own);
	json_array_append_new(json_object_get(x->out, "realms"), native);
	json_array_append_new(x->realm_origins, json_string(path));
}

/* ------------------------------------------------------------------------------------ */
/* transports: auth, serializers, endpoints, options                                       */

/* Auth blocks are shaped like wampd's (a dynamic method, tls too, asks its authenticator
 * as Crossbar does); drop what wampd does not read. A method wampd cannot serve as
 * configured (a "function" authenticator: Python code) is "refused": its logins get an
 * ABORT saying why, the others are served. path: the transport's or web path's (the block
 * is its "auth"). */
static json_t *auth_of(struct xlate *x, json_t *auth, const char *path)
{
	json_t *out = json_object();
	const char *method;
	json_t *m;

	json_object_foreach(auth, method, m) {
		static const char *const mknown[] = {"type", "role", "principals", "users",
		                                     "authenticator", "authenticator-realm", NULL};
		const char *type = json_string_value(json_object_get(m, "type"));
		char mp[XPATH_MAX + 64], why[XPATH_MAX + 256];
		json_t *copy;
		const char *key;
		json_t *v;
		void *tmp;

		snprintf(mp, sizeof(mp), "%s.auth.%s", path, method);
		if (!strcmp(method, "cookie")) {
			ignore(x, "cookie authentication is not supported", "%s", mp);
			continue;
		}
		if (type && !strcmp(type, "function")) {
			snprintf(why, sizeof(why), "%s logins are not supported here: wampd cannot run "
			         "a Crossbar function authenticator, Python code (%s)", method, mp);
			json_object_set_new(out, method, json_pack("{s:s, s:s}", "type", "refused",
			                                           "message", why));
			ignore(x, "function authenticators (Python code) are not supported: this "
			       "method's logins are refused (ABORT wamp.error.not_authorized), the other "
			       "methods are served", "%s", mp);
			continue;
		}
		copy = json_deep_copy(m);
		ignore_unknown(x, copy, mknown, "not supported by wampd", mp);
		json_object_foreach_safe(copy, tmp, key, v)
			if (!known_key(mknown, key))
				json_object_del(copy, key);
		json_object_set_new(out, method, copy);
	}
	return out;
}

/* A transport's "serializers" list into listener l: the ones wampd serves; the others are
 * reported as ignored. Nothing is set when the transport has no list (wampd's default).
 * A RawSocket transport's older "serializer" (one name) counts as a list of one. */
static void serializers_of(struct xlate *x, json_t *t, json_t *l, const char *path)
{
	json_t *list = json_object_get(t, "serializers"), *sers, *s;
	const char *one = json_string_value(json_object_get(t, "serializer"));
	size_t i;

	if (!json_is_array(list) && one) {
		if (wamp_ser_by_name(one))
			json_object_set_new(l, "serializers", json_pack("[s]", one));
		else
			ignore(x, "serializer not supported", "%s.serializer", path);
		return;
	}
	if (!json_is_array(list))
		return;
	sers = json_array();
	json_array_foreach(list, i, s) {
		const char *name = json_string_value(s);

		if (name && wamp_ser_by_name(name))
			json_array_append(sers, s);
		else
			ignore(x, "serializer not supported", "%s.serializers[%zu]", path, i);
	}
	json_object_set_new(l, "serializers", sers);
}

/* A tcp endpoint's "tls": the listener's tls (key, certificate, the CA files). path: the
 * transport's (the block is its endpoint.tls). */
static void tls_of(struct xlate *x, json_t *tls, json_t *l, const char *path)
{
	static const char *const tknown[] = {"key", "certificate", "ca_certificates", "dhparam",
	                                     "ciphers", NULL};
	char tp[XPATH_MAX];

	snprintf(tp, sizeof(tp), "%s.endpoint.tls", path);
	ignore_unknown(x, tls, tknown, "not supported by wampd", tp);
	json_object_set_new(l, "tls", json_pack("{s:O, s:O}", "key", json_object_get(tls, "key"),
	                                        "certificate", json_object_get(tls, "certificate")));
	if (json_is_array(json_object_get(tls, "ca_certificates")) &&
	    json_array_size(json_object_get(tls, "ca_certificates")))
		json_object_set(json_object_get(l, "tls"), "ca_certificates",
		                json_object_get(tls, "ca_certificates"));
	if (json_object_get(tls, "dhparam"))
		ignore(x, "OpenSSL's defaults are used", "%s.dhparam", tp);
	if (json_object_get(tls, "ciphers"))
		ignore(x, "OpenSSL's defaults are used", "%s.ciphers", tp);
}

/*
 * A listening endpoint, once per transport: what its listeners share (port and interface,
 * or a Unix socket path; tls), as a new object, or NULL when it cannot serve them
 * (reported). websocket: the transport serves WebSocket (tcp only). path: the transport's.
 */
static json_t *endpoint_of(struct xlate *x, json_t *e, bool websocket, const char *path)
{
	static const char *const known[] = {"type", "port", "interface", "tls", "backlog",
	                                    "shared", "version", "path", NULL};
	const char *etype = json_string_value(json_object_get(e, "type"));
	char ep[XPATH_MAX];
	json_t *l;

	snprintf(ep, sizeof(ep), "%s.endpoint", path);
	if (etype && !strcmp(etype, "unix")) {
		if (websocket) {
			ignore(x, "only tcp endpoints serve WebSocket", "%s.type", ep);
			return NULL;
		}
		if (!json_is_string(json_object_get(e, "path"))) {
			ignore(x, "a unix endpoint needs a path", "%s", ep);
			return NULL;
		}
		l = json_pack("{s:O}", "unix", json_object_get(e, "path"));
		if (json_object_get(e, "tls"))
			ignore(x, "TLS on a Unix domain socket is not served (the socket file's "
			       "permissions guard it)", "%s.tls", ep);
	} else if (!etype || !strcmp(etype, "tcp")) {
		l = json_pack("{s:O}", "port", json_object_get(e, "port"));
		if (json_object_get(e, "interface"))
			json_object_set(l, "host", json_object_get(e, "interface"));
		else
			json_object_set_new(l, "host", json_string("*")); /* Crossbar's default */
		if (json_is_object(json_object_get(e, "tls")))
			tls_of(x, json_object_get(e, "tls"), l, path);
		if (json_is_integer(json_object_get(e, "version")) &&
		    json_integer_value(json_object_get(e, "version")) == 6)
			ignore(x, "wampd listens on IPv4", "%s.version", ep);
	} else {
		ignore(x, "endpoint type not supported", "%s.type", ep);
		return NULL;
	}
	ignore_unknown(x, e, known, "endpoint option not supported", ep);
	if (json_object_get(e, "backlog"))
		ignore(x, "the system's listen backlog is used", "%s.backlog", ep);
	/* "shared" (several router workers on one port): wampd is one process, serving what
	 * they define once (transport_of, add_listener) */
	return l;
}

/* WebSocket options wampd maps into the listener l (false: the value does not map) */
static bool opt_max_message_size(json_t *l, json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 64 ||
	    json_integer_value(v) > (json_int_t)1 << 30)
		return false;
	json_object_set(l, "max_message_size", v);
	return true;
}

/* auto_ping_interval / auto_ping_timeout: ms (0: off), rounded up to wampd's seconds */
static bool opt_seconds(json_t *l, const char *key, json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 65535 * (json_int_t)1000)
		return false;
	json_object_set_new(l, key, json_integer((json_integer_value(v) + 999) / 1000));
	return true;
}

static bool opt_ping_interval(json_t *l, json_t *v)
{
	return opt_seconds(l, "ping_interval", v);
}

static bool opt_ping_timeout(json_t *l, json_t *v)
{
	return opt_seconds(l, "ping_timeout", v);
}

static bool opt_allowed_origins(json_t *l, json_t *v)
{
	if (!json_is_array(v))
		return false;
	/* the listener's: its WebSocket handshakes and its HTTP services */
	json_object_set_new(l, "allowed_origins", json_deep_copy(v));
	return true;
}

/* Crossbar's default is true; wampd never requires less */
static bool opt_true_is_ours(json_t *l, json_t *v)
{
	(void)l;
	return json_is_true(v);
}

/* The WebSocket options (Crossbar's checkconfig knows these): mapped by `map`, or listed
 * with `why` (also when map says the value does not map). */
static const struct ws_option {
	const char *key;
	bool (*map)(json_t *l, json_t *v);
	const char *why;
} ws_options[] = {
	{"max_message_size", opt_max_message_size, "must be 64 bytes to 1 GiB in wampd"},
	{"auto_ping_interval", opt_ping_interval, "must be 0 to 65535000 ms"},
	{"auto_ping_timeout", opt_ping_timeout, "must be 0 to 65535000 ms"},
	{"allowed_origins", opt_allowed_origins, "must be a list of origins"},
	{"require_websocket_subprotocol", opt_true_is_ours,
	 "wampd requires a WAMP subprotocol (a client offering none is refused)"},
	{"validate_utf8", opt_true_is_ours, "wampd always validates UTF-8"},
	{"compression", NULL, "permessage-deflate is not offered (libwebsockets 4.1.6's can be "
	 "crashed by one crafted frame: SECURITY.md): messages go uncompressed (clients fall "
	 "back to that)"},
	{"open_handshake_timeout", NULL, "the opening handshake (and HELLO) must come within "
	 "limits.hello_timeout"},
	{"close_handshake_timeout", NULL, "wampd waits up to 5 s for a closing handshake"},
	{"auto_ping_size", NULL, "wampd's pings carry no payload"},
	{"fail_by_drop", NULL, "wampd closes with a close frame (a violation: 1002)"},
	{"max_frame_size", NULL, "frames are bounded by max_message_size"},
	{"auto_fragment_size", NULL, "messages go out unfragmented"},
	{NULL, NULL, "WebSocket option not supported"},
};

/* A WebSocket path's "options" into its listener l. */
static void ws_options_of(struct xlate *x, json_t *opts, json_t *l, const char *path)
{
	json_t *null_origin = json_object_get(opts, "allow_null_origin"), *list, *v;
	const char *key;
	size_t i;
	bool star = false;

	json_object_foreach(opts, key, v) {
		const struct ws_option *o = ws_options;

		if (!strcmp(key, "allow_null_origin"))
			continue; /* below, with allowed_origins known */
		while (o->key && strcmp(o->key, key))
			o++;
		if (!o->map || !o->map(l, v))
			ignore(x, o->why, "%s.options.%s", path, key);
	}
	/* Crossbar's auto_ping_timeout is how long a ping waits for its pong; wampd's
	 * ping_timeout is how long a silent peer is kept (libwebsockets' hang-up counts from
	 * the last valid traffic): the interval plus that wait. Without pings (no interval, 0)
	 * Crossbar times nothing, and neither does the listener then. */
	if ((v = json_object_get(l, "ping_timeout"))) {
		json_int_t iv = json_integer_value(json_object_get(l, "ping_interval"));

		if (iv > 0)
			json_object_set_new(l, "ping_timeout", json_integer(iv + json_integer_value(v)));
		else
			json_object_del(l, "ping_timeout");
	}
	/* Origin "null" (a sandboxed page, a file): wampd matches it like any origin */
	if (!null_origin)
		return;
	list = json_object_get(l, "allowed_origins");
	json_array_foreach(list, i, v)
		star = star || !strcmp(json_string_value(v) ?: "", "*");
	if (json_is_true(null_origin) && list && !star)
		json_array_append_new(list, json_string("null"));
	else if (!json_is_true(null_origin) && (!list || star))
		ignore(x, "an Origin \"null\" is allowed where every origin is (list the origins in "
		       "allowed_origins)", "%s.options.allow_null_origin", path);
}

/* ------------------------------------------------------------------------------------ */
/* listeners                                                                              */

static bool same_port(json_t *a, json_t *b)
{
	return json_is_integer(json_object_get(a, "port")) &&
	       json_integer_value(json_object_get(a, "port")) &&
	       json_equal(json_object_get(a, "port"), json_object_get(b, "port")) &&
	       json_equal(json_object_get(a, "host"), json_object_get(b, "host"));
}

/* A translated listener's "type": websocket, rawsocket or http (web paths only). */
static bool is_type(json_t *l, const char *type)
{
	const char *t = json_string_value(json_object_get(l, "type"));

	return t && !strcmp(t, type);
}

static bool is_websocket(json_t *l)
{
	return is_type(l, "websocket");
}

/*
 * Add listener l (taken) made from the Crossbar item at origin. A listener that serves
 * what an earlier one serves (the same WebSocket path of the same port, RawSocket on the
 * same port, the web paths of a port without WebSocket, the same Unix socket) is that one
 * when it is the same (several workers defining one transport: reported, served once),
 * else the translation fails naming both. Returns its index in out.listeners, or -1
 * (failed).
 */
static int add_listener(struct xlate *x, json_t *l, const char *origin)
{
	json_t *listeners = json_object_get(x->out, "listeners"), *other;
	size_t i;

	json_array_foreach(listeners, i, other) {
		const char *where = json_string_value(json_array_get(x->origins, i));
		bool clash;

		if (json_object_get(l, "unix"))
			clash = json_equal(json_object_get(l, "unix"), json_object_get(other, "unix"));
		else if (!same_port(l, other))
			clash = false;
		else if (is_websocket(l) && is_websocket(other))
			clash = json_equal(json_object_get(l, "path"), json_object_get(other, "path"));
		else /* rawsocket and rawsocket, http and http */
			clash = json_equal(json_object_get(l, "type"), json_object_get(other, "type"));
		if (!clash)
			continue;
		if (json_equal(l, other)) {
			ignore(x, "the same as an earlier transport's, served once", "%s (as %s)", origin,
			       where);
		} else {
			fail(x, "%s: %s also served by %s, with other settings", origin,
			     json_object_get(l, "unix") ? "this Unix socket is"
			     : is_websocket(l)     ? "this WebSocket path of this port is"
			     : is_type(l, "http")  ? "the web paths of this port are"
			                           : "RawSocket on this port is", where);
			json_decref(l);
			return -1;
		}
		json_decref(l);
		return (int)i;
	}
	json_array_append_new(listeners, l);
	json_array_append_new(x->origins, json_string(origin));
	return (int)json_array_size(listeners) - 1;
}

/* A WebSocket service at wspath (a websocket transport: "*"; or a WebSocket path of a web
 * or universal transport) on the transport's endpoint `base`: its listener's index, or -1
 * (failed). path: the service's JSON path. */
static int ws_listener_of(struct xlate *x, json_t *base, json_t *ws, const char *wspath,
                          const char *path)
{
	static const char *const known[] = {"type", "endpoint", "serializers", "auth", "options",
	                                    "url", "debug", "id", "cookie", NULL};
	json_t *l = json_deep_copy(base), *opts = json_object_get(ws, "options");

	ignore_unknown(x, ws, known, "not supported by wampd", path);
	json_object_set_new(l, "type", json_string("websocket"));
	json_object_set_new(l, "path", json_string(wspath));
	serializers_of(x, ws, l, path);
	if (json_object_get(ws, "auth"))
		json_object_set_new(l, "auth", auth_of(x, json_object_get(ws, "auth"), path));
	if (json_object_get(ws, "cookie"))
		ignore(x, "cookie tracking is not supported (nor cookie authentication)", "%s.cookie",
		       path);
	if (json_is_object(opts))
		ws_options_of(x, opts, l, path);
	return add_listener(x, l, path);
}

/* A RawSocket service (a rawsocket transport, or a universal transport's "rawsocket") on
 * the transport's endpoint `base`, with its own serializers, auth and options. */
static void raw_listener_of(struct xlate *x, json_t *base, json_t *r, const char *path)
{
	static const char *const known[] = {"type", "endpoint", "serializers", "serializer",
	                                    "auth", "options", "debug", "id", NULL};
	json_t *l = json_deep_copy(base), *opts = json_object_get(r, "options");
	const char *key;
	json_t *v;

	ignore_unknown(x, r, known, "not supported by wampd", path);
	json_object_set_new(l, "type", json_string("rawsocket"));
	serializers_of(x, r, l, path);
	if (json_object_get(r, "auth"))
		json_object_set_new(l, "auth", auth_of(x, json_object_get(r, "auth"), path));
	json_object_foreach(opts, key, v) {
		if (!strcmp(key, "max_message_size") && opt_max_message_size(l, v))
			continue;
		ignore(x, "RawSocket option not supported", "%s.options.%s", path, key);
	}
	add_listener(x, l, path);
}

/* The HTTP bridge and long-poll (publisher, caller, webhook, longpoll) as a native
 * listeners[].http entry. */
static json_t *bridge_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
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

/* A web service's option that does not map: reported with why. */
static void web_option_ignored(struct xlate *x, const char *key, const char *path)
{
	if (!strcmp(key, "allow_cross_origin"))
		ignore(x, "CORS headers are sent to the listener's allowed_origins only",
		       "%s.options.%s", path, key);
	else
		ignore(x, "option not supported", "%s.options.%s", path, key);
}

/* Crossbar's default cache_timeout of static files (12 hours) */
#define CROSSBAR_CACHE_TIMEOUT 43200

/* static: a directory (relative to the node directory, where config.json is: the native
 * loader takes it from the configuration file's directory), and its options. */
static json_t *static_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", "directory", "options", NULL};
	json_t *dir = json_object_get(v, "directory"), *opts = json_object_get(v, "options"), *out;
	const char *key;
	json_t *o;

	if (!json_is_string(dir)) {
		if (json_object_get(v, "package") || json_object_get(v, "resource"))
			ignore(x, "static files from a Python package (package/resource) are not "
			          "applicable to wampd: give a directory", "%s", path);
		else
			ignore(x, "a static path needs a directory", "%s", path);
		return NULL;
	}
	ignore_unknown(x, v, known, "not supported by wampd", path);
	out = json_pack("{s:s, s:O, s:i}", "type", ptype, "directory", dir, "cache_timeout",
	                CROSSBAR_CACHE_TIMEOUT);
	json_object_foreach(opts, key, o) {
		if (!strcmp(key, "enable_directory_listing") && json_is_boolean(o))
			json_object_set(out, "directory_listing", o);
		else if (!strcmp(key, "cache_timeout") && json_is_integer(o) &&
		         json_integer_value(o) >= 0)
			json_object_set(out, "cache_timeout", o);
		else if (!strcmp(key, "cache_timeout") && json_is_null(o))
			json_object_set_new(out, "cache_timeout", json_integer(0));
		else if ((!strcmp(key, "default_file") && json_is_string(o)) ||
		         (!strcmp(key, "mime_types") && json_is_object(o)))
			json_object_set(out, key, o);
		else
			web_option_ignored(x, key, path);
	}
	return out;
}

/* archive: the files inside a ZIP (relative to the node directory, as static's directory).
 * Crossbar's cache (the entries' bytes kept in memory) becomes Cache-Control: wampd
 * streams every answer from the archive, so what can be cached is the client's copy. */
static json_t *archive_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", "archive", "object_prefix", "default_object",
	                                    "mime_types", "cache", "origin", "download",
	                                    "hashes", "options", NULL};
	json_t *zip = json_object_get(v, "archive"), *out, *o;
	const char *key;

	if (!json_is_string(zip)) {
		ignore(x, "an archive path needs an archive (the ZIP file)", "%s", path);
		return NULL;
	}
	ignore_unknown(x, v, known, "not supported by wampd", path);
	out = json_pack("{s:s, s:O, s:i}", "type", ptype, "archive", zip, "cache_timeout",
	                json_is_true(json_object_get(v, "cache")) ? CROSSBAR_CACHE_TIMEOUT : 0);
	if (json_object_get(v, "origin") || json_object_get(v, "download"))
		ignore(x, "wampd downloads nothing: put the archive at its path (404 until it is "
		          "there)", "%s.origin", path);
	if (json_object_get(v, "hashes"))
		ignore(x, "the archive's SHA-256 fingerprint is not verified by wampd", "%s.hashes",
		       path);
	if (json_is_string(json_object_get(v, "object_prefix")))
		json_object_set(out, "object_prefix", json_object_get(v, "object_prefix"));
	if (json_is_string(json_object_get(v, "default_object")))
		json_object_set(out, "default_object", json_object_get(v, "default_object"));
	if (json_is_object(json_object_get(v, "mime_types")))
		json_object_set(out, "mime_types", json_object_get(v, "mime_types"));
	json_object_foreach(json_object_get(v, "options"), key, o) {
		if (!strcmp(key, "default_file") && json_is_string(o))
			json_object_set(out, key, o);
		else
			web_option_ignored(x, key, path);
	}
	return out;
}

/* redirect: to url, 302 (Crossbar's) */
static json_t *redirect_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", "url", NULL};

	if (!json_is_string(json_object_get(v, "url"))) {
		ignore(x, "a redirect needs a url", "%s", path);
		return NULL;
	}
	ignore_unknown(x, v, known, "not supported by wampd", path);
	return json_pack("{s:s, s:O}", "type", ptype, "url", json_object_get(v, "url"));
}

/* json: a fixed value */
static json_t *json_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", "value", "options", NULL};
	json_t *out, *o;
	const char *key;

	if (!json_object_get(v, "value")) {
		ignore(x, "a json path needs a value", "%s", path);
		return NULL;
	}
	ignore_unknown(x, v, known, "not supported by wampd", path);
	out = json_pack("{s:s, s:O}", "type", ptype, "value", json_object_get(v, "value"));
	json_object_foreach(json_object_get(v, "options"), key, o) {
		if (!strcmp(key, "prettify") && json_is_boolean(o))
			json_object_set(out, "prettify", o);
		else if (!strcmp(key, "discourage_caching"))
			continue; /* wampd's HTTP answers are never cached (Cache-Control: no-store) */
		else
			web_option_ignored(x, key, path);
	}
	return out;
}

static json_t *nodeinfo_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	static const char *const known[] = {"type", NULL};

	ignore_unknown(x, v, known, "not supported by wampd", path);
	return json_pack("{s:s}", "type", ptype);
}

/* Crossbar's web path services besides WebSocket: what becomes a native listeners[].http
 * entry (of), and why the others are not served. */
static const struct {
	const char *type;
	json_t *(*of)(struct xlate *x, json_t *v, const char *ptype, const char *path);
	const char *why;
} web_services[] = {
	{"publisher", bridge_of, NULL},
	{"caller", bridge_of, NULL},
	{"webhook", bridge_of, NULL},
	{"longpoll", bridge_of, NULL},
	{"static", static_of, NULL},
	{"redirect", redirect_of, NULL},
	{"json", json_of, NULL},
	{"nodeinfo", nodeinfo_of, NULL},
	{"archive", archive_of, NULL},
	{"wsgi", NULL, "WSGI applications are Python: wampd runs none (serve it behind a proxy)"},
	{"resource", NULL, "Twisted Web resources are Python: wampd runs none"},
	{"cgi", NULL, "CGI scripts are not run by wampd"},
	{"reverseproxy", NULL, "reverse proxying is not done by wampd (put a proxy in front)"},
	{"upload", NULL, "file uploads are not served by wampd"},
	{"wap", NULL, "WAMP application pages (templates rendered by procedures) are not served"},
	{"schemadoc", NULL, "schema documentation pages are not served"},
};

/* A web path (not WebSocket) as a native listeners[].http entry, or NULL (reported once
 * with its JSON path and why). */
static json_t *http_of(struct xlate *x, json_t *v, const char *ptype, const char *path)
{
	if (!ptype) {
		ignore(x, "web path without a type", "%s", path);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(web_services) / sizeof(web_services[0]); i++) {
		if (strcmp(web_services[i].type, ptype))
			continue;
		if (!web_services[i].of) {
			ignore(x, web_services[i].why, "%s (type %s)", path, ptype);
			return NULL;
		}
		return web_services[i].of(x, v, ptype, path);
	}
	ignore(x, "web service type not served by wampd", "%s (type %s)", path, ptype);
	return NULL;
}

/* A web path service that is neither WebSocket nor a nested path map: an HTTP service of
 * the transport (into `http`, keyed by its path) or reported (http_of). */
static void web_service_of(struct xlate *x, json_t *v, const char *ptype, const char *full,
                           const char *path, json_t *http)
{
	json_t *svc = http_of(x, v, ptype, path);

	if (svc)
		json_object_set_new(http, full, svc);
}

/* prefix + "/" + name as a URL path: "/" alone is the prefix itself ("/" at the top). */
static void join_path(char *out, size_t n, const char *prefix, const char *name)
{
	while (*name == '/')
		name++;
	if (!*name)
		snprintf(out, n, "%s", *prefix ? prefix : "/");
	else
		snprintf(out, n, "%s/%s", prefix, name);
}

/*
 * A web transport's "paths" (or a nested "path" service's), under the URL path `prefix`
 * ("" at the top): WebSocket paths become listeners on the transport's endpoint `base`
 * (the first one's index into *first), nested path maps are walked, the others are the
 * transport's HTTP services (into `http`). path: the map's JSON path.
 */
static void web_paths_of(struct xlate *x, json_t *base, json_t *paths, const char *prefix,
                         const char *path, json_t *http, int *first)
{
	const char *name;
	json_t *v;

	json_object_foreach(paths, name, v) {
		const char *ptype = json_string_value(json_object_get(v, "type"));
		char p[XPATH_MAX], full[XPATH_MAX];

		snprintf(p, sizeof(p), "%s.%s", path, name);
		join_path(full, sizeof(full), prefix, name);
		if (!json_is_object(v)) {
			ignore(x, "a web path service must be an object", "%s", p);
		} else if (ptype && !strcmp(ptype, "websocket")) {
			int i = ws_listener_of(x, base, v, full, p);

			if (*first < 0)
				*first = i;
		} else if (ptype && !strcmp(ptype, "path")) {
			static const char *const known[] = {"type", "paths", NULL};
			char np[XPATH_MAX + 8];

			ignore_unknown(x, v, known, "not supported by wampd", p);
			snprintf(np, sizeof(np), "%s.paths", p);
			web_paths_of(x, base, json_object_get(v, "paths"), full, np, http, first);
		} else {
			web_service_of(x, v, ptype, full, p, http);
		}
	}
}

/* A web transport's (or a universal transport's "web") "options" */
static void web_options_of(struct xlate *x, json_t *opts, const char *path)
{
	const char *key;
	json_t *v;

	json_object_foreach(opts, key, v)
		ignore(x, "web transport option not supported", "%s.options.%s", path, key);
}

/* The HTTP services of a transport go to its first WebSocket listener (first: its index),
 * or, on a transport without WebSocket paths, to an http listener of their own on the
 * transport's endpoint `base` (HTTP services only, as Crossbar serves such a web
 * transport: an upgrade there finds no WebSocket). path: the paths' JSON path. */
static void place_http(struct xlate *x, json_t *base, json_t *http, int first,
                       const char *path)
{
	json_t *l;

	if (!json_object_size(http))
		return;
	if (first < 0) {
		l = json_deep_copy(base);
		json_object_set_new(l, "type", json_string("http"));
		json_object_set(l, "http", http);
		add_listener(x, l, path);
		return;
	}
	l = json_array_get(json_object_get(x->out, "listeners"), (size_t)first);
	if (!json_object_get(l, "http"))
		json_object_set_new(l, "http", json_object());
	json_object_update(json_object_get(l, "http"), http);
}

static void transport_of(struct xlate *x, json_t *t, const char *path)
{
	const char *type = json_string_value(json_object_get(t, "type"));
	json_t *base, *http, *seen;
	char p[XPATH_MAX];
	int first = -1;
	size_t i;

	if (!type) {
		ignore(x, "transport without a type", "%s", path);
		return;
	}
	/* several router workers defining one transport (a port they share): served once */
	json_array_foreach(x->transports, i, seen)
		if (json_equal(json_array_get(seen, 0), t)) {
			ignore(x, "the same as an earlier router worker's transport, served once",
			       "%s (as %s)", path, json_string_value(json_array_get(seen, 1)));
			return;
		}
	json_array_append_new(x->transports, json_pack("[O, s]", t, path));
	if (!strcmp(type, "rawsocket")) {
		if ((base = endpoint_of(x, json_object_get(t, "endpoint"), false, path)))
			raw_listener_of(x, base, t, path);
		json_decref(base);
		return;
	}
	if (strcmp(type, "websocket") && strcmp(type, "web") && strcmp(type, "universal")) {
		ignore(x, "unknown transport type", "%s", path);
		return;
	}
	if (!(base = endpoint_of(x, json_object_get(t, "endpoint"), true, path)))
		return;
	if (!strcmp(type, "websocket")) {
		/* Crossbar serves it whatever the path ("/" included) */
		ws_listener_of(x, base, t, "*", path);
		json_decref(base);
		return;
	}
	http = json_object();
	if (!strcmp(type, "web")) {
		static const char *const known[] = {"id", "type", "endpoint", "paths", "options",
		                                    NULL};

		ignore_unknown(x, t, known, "not supported by wampd", path);
		snprintf(p, sizeof(p), "%s.paths", path);
		web_paths_of(x, base, json_object_get(t, "paths"), "", p, http, &first);
		web_options_of(x, json_object_get(t, "options"), path);
		place_http(x, base, http, first, p);
	} else {
		static const char *const known[] = {"id", "type", "endpoint", "rawsocket", "websocket",
		                                    "mqtt", "web", NULL};
		static const char *const wknown[] = {"paths", "options", NULL};
		json_t *web = json_object_get(t, "web");
		const char *name;
		json_t *v;

		ignore_unknown(x, t, known, "not supported by wampd", path);
		json_object_foreach(json_object_get(t, "websocket"), name, v) {
			char full[XPATH_MAX];
			int k;

			snprintf(p, sizeof(p), "%s.websocket.%s", path, name);
			join_path(full, sizeof(full), "", name);
			if ((k = ws_listener_of(x, base, v, full, p)) >= 0 && first < 0)
				first = k;
		}
		if (json_is_object(web)) {
			snprintf(p, sizeof(p), "%s.web", path);
			ignore_unknown(x, web, wknown, "not supported by wampd", p);
			snprintf(p, sizeof(p), "%s.web.paths", path);
			web_paths_of(x, base, json_object_get(web, "paths"), "", p, http, &first);
			snprintf(p, sizeof(p), "%s.web", path);
			web_options_of(x, json_object_get(web, "options"), p);
			snprintf(p, sizeof(p), "%s.web.paths", path);
			place_http(x, base, http, first, p);
		}
		if (json_is_object(json_object_get(t, "rawsocket"))) {
			snprintf(p, sizeof(p), "%s.rawsocket", path);
			raw_listener_of(x, base, json_object_get(t, "rawsocket"), p);
		}
		if (json_object_get(t, "mqtt"))
			ignore(x, "MQTT is not served", "%s.mqtt", path);
	}
	json_decref(http);
	json_decref(base);
}

/*
 * On a TLS port libwebsockets picks a WebSocket subprotocol before the path is read, so
 * wampd's listeners there serve one list of serializers (config.c): where the WebSocket
 * paths of a TLS port list different ones, each serves them all (reported).
 */
static void tls_ports_of(struct xlate *x)
{
	json_t *ls = json_object_get(x->out, "listeners"), *a, *b;
	size_t i, j;

	json_array_foreach(ls, i, a) {
		json_t *all;

		if (!json_object_get(a, "tls") || !is_websocket(a))
			continue;
		all = json_array();
		json_array_foreach(ls, j, b)
			if (is_websocket(b) && same_port(a, b)) {
				json_t *s = json_object_get(b, "serializers"), *v;
				size_t k;

				if (!s) { /* wampd's default: all of them */
					json_decref(all);
					all = NULL;
					break;
				}
				json_array_foreach(s, k, v) {
					json_t *w;
					size_t m;
					bool have = false;

					json_array_foreach(all, m, w)
						have = have || json_equal(v, w);
					if (!have)
						json_array_append(all, v);
				}
			}
		json_array_foreach(ls, j, b)
			if (is_websocket(b) && same_port(a, b) && j >= i &&
			    (!all ? json_object_get(b, "serializers") != NULL
			          : json_array_size(json_object_get(b, "serializers")) !=
			                json_array_size(all))) {
				ignore(x, "on a TLS port every WebSocket path serves the serializers of all "
				       "of them", "%s.serializers",
				       json_string_value(json_array_get(x->origins, j)));
				if (all)
					json_object_set(b, "serializers", all);
				else
					json_object_del(b, "serializers");
			}
		json_decref(all);
	}
}

json_t *crossbar_translate(json_t *root, json_t *ignored, char *err, size_t errlen)
{
	struct xlate x = {.ignored = ignored, .err = err, .errlen = errlen};
	json_t *workers = json_object_get(root, "workers"), *w;
	size_t i;

	snprintf(err, errlen, "out of memory");
	x.out = json_pack("{s:[], s:[]}", "listeners", "realms");
	x.origins = json_array();
	x.realm_origins = json_array();
	x.transports = json_array();
	if (!x.out || !x.origins || !x.realm_origins || !x.transports)
		goto fail;
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
			add_realm(&x, r, rp);
		}
		transports = json_object_get(w, "transports");
		json_array_foreach(transports, k, t) {
			char tp[160];

			snprintf(tp, sizeof(tp), "%s.transports[%zu]", path, k);
			transport_of(&x, t, tp);
		}
	}
	tls_ports_of(&x);
	if (x.failed)
		goto fail;
	json_decref(x.origins);
	json_decref(x.realm_origins);
	json_decref(x.transports);
	return x.out;
fail:
	json_decref(x.out);
	json_decref(x.origins);
	json_decref(x.realm_origins);
	json_decref(x.transports);
	return NULL;
}
