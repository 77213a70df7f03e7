/*
 * config_summary.c - the one-screen account of what a configuration serves where (wampd
 * check prints it; a normal start logs it after the "ignored: ..." lines), and the
 * preflight checks of what a start needs that the file's syntax does not show.
 *
 * The summary is a walk over the loaded struct config (never the file), so it says what
 * wampd will actually do, whichever format the file was in: one line per URL (a listener
 * serving WebSocket and RawSocket gives one of each; each HTTP service path one), each
 * with what it needs from a client, then one line per realm. Lines are built in a fixed
 * buffer (an over-long one ends in "..."): nothing is allocated. Secrets are never shown:
 * an authentication method is its name, its role, its number of principals or its
 * authenticator's URI. HTTP service types are named by a table indexed by the type.
 */
#include "router/config/config_summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "router/http/httpsvc.h"
#include "serializers/codec.h"

struct line {
	char buf[1024];
	size_t n;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (l->n >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(l->buf + l->n, sizeof(l->buf) - l->n, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	l->n += (size_t)w;
	if (l->n >= sizeof(l->buf) - 1) {
		l->n = sizeof(l->buf) - 1;
		memcpy(l->buf + l->n - 3, "...", 3);
	}
}

static void flush(struct line *l, config_emit emit, void *arg)
{
	emit(arg, l->buf);
	l->n = 0;
	l->buf[0] = '\0';
}

/* The name of each HTTP service type, as in the configuration (listeners[].http.*.type). */
static const char *const http_type_names[] = {
	[HTTP_SVC_PUBLISHER] = "publisher (HTTP bridge: POST publishes)",
	[HTTP_SVC_CALLER] = "caller (HTTP bridge: POST calls)",
	[HTTP_SVC_WEBHOOK] = "webhook (POST publishes the request)",
	[HTTP_SVC_SSE] = "sse (Server-Sent Events)",
	[HTTP_SVC_LONGPOLL] = "longpoll (WAMP long-poll transport)",
	[HTTP_SVC_STATIC] = "static (files of a directory)",
	[HTTP_SVC_REDIRECT] = "redirect",
	[HTTP_SVC_JSON] = "json (a fixed document)",
	[HTTP_SVC_NODEINFO] = "nodeinfo (this router's name and version)",
	[HTTP_SVC_ARCHIVE] = "archive (files inside a ZIP archive)",
};

static const char *http_type_name(enum http_service_type t)
{
	size_t i = (size_t)t;

	return i < sizeof(http_type_names) / sizeof(http_type_names[0]) && http_type_names[i]
	               ? http_type_names[i] : "HTTP service";
}

static const char *const http_auth_names[] = {
	[HTTP_AUTH_NONE] = "none",
	[HTTP_AUTH_TICKET] = "bearer ticket",
	[HTTP_AUTH_SIGNED] = "signed requests",
};

static void put_serializers(struct line *l, unsigned sers)
{
	const char *sep = "";

	for (int s = 0; s < WAMP_SER__COUNT; s++)
		if (sers & (1u << s)) {
			put(l, "%s%s", sep, wamp_ser_name((enum wamp_ser)s));
			sep = ",";
		}
}

static void put_auth(struct line *l, const struct auth_config *a)
{
	const char *sep = "";

	put(l, "; auth ");
	for (int m = 0; m < AUTH__COUNT; m++) {
		const struct auth_method_config *mc = &a->m[m];

		if (!mc->enabled)
			continue;
		put(l, "%s%s", sep, auth_method_name((enum auth_method)m));
		sep = ", ";
		if (mc->dynamic)
			put(l, " (dynamic: %s%s%s)", mc->authenticator ? mc->authenticator : "?",
			    mc->authenticator_realm ? " on realm " : "",
			    mc->authenticator_realm ? mc->authenticator_realm : "");
		else if (mc->principals)
			put(l, " (%u principal%s%s%s)", HASH_COUNT(mc->principals),
			    HASH_COUNT(mc->principals) == 1 ? "" : "s", mc->role ? ", else role " : "",
			    mc->role ? mc->role : "");
		else if (mc->role)
			put(l, " (role %s)", mc->role);
	}
	if (!*sep)
		put(l, "none (every login refused)");
}

static void summary_listener(const struct config *cfg, size_t i, config_emit emit, void *arg)
{
	const struct listener_config *lc = &cfg->listeners[i];
	const char *host = lc->host ? lc->host : "0.0.0.0", *s = lc->tls_cert ? "s" : "";
	char where[320];
	struct line l = {.n = 0};

	if (lc->unix_path)
		snprintf(where, sizeof(where), "unix:%s", lc->unix_path);
	else if (lc->port)
		snprintf(where, sizeof(where), "%s:%d", host, lc->port);
	else /* chosen at start: the "listening" lines say which */
		snprintf(where, sizeof(where), "%s:0(any free port)", host);
	if (lc->websocket) {
		if (lc->unix_path)
			put(&l, "  %s WebSocket", where);
		else
			put(&l, "  ws%s://%s%s WebSocket", s, where,
			    strcmp(lc->path, "*") ? lc->path : "/ (any path)");
		put(&l, " (");
		put_serializers(&l, lc->serializers);
		put(&l, ")");
		put_auth(&l, &lc->auth);
		flush(&l, emit, arg);
	}
	if (lc->rawsocket) {
		if (lc->unix_path)
			put(&l, "  %s RawSocket (", where);
		else
			put(&l, "  rs%s://%s RawSocket (", s, where);
		put_serializers(&l, lc->serializers);
		put(&l, ")");
		put_auth(&l, &lc->auth);
		flush(&l, emit, arg);
	}
	for (size_t k = 0; k < lc->nhttp; k++) {
		const struct http_service_config *h = &lc->http[k];

		put(&l, "  http%s://%s%s %s", s, where, h->path, http_type_name(h->type));
		if (h->realm)
			put(&l, "; realm %s, role %s", h->realm, h->role ? h->role : "anonymous");
		if (h->type != HTTP_SVC_LONGPOLL && h->type != HTTP_SVC_SSE && h->realm)
			put(&l, "; auth %s", (size_t)h->auth < sizeof(http_auth_names) /
			                     sizeof(http_auth_names[0]) ? http_auth_names[h->auth] : "?");
		if (h->type == HTTP_SVC_LONGPOLL) {
			/* the listener's: on a websocket listener the same as its WebSocket's */
			put(&l, "; sessions (");
			put_serializers(&l, lc->serializers);
			put(&l, ")");
			put_auth(&l, &lc->auth);
		}
		if (h->type == HTTP_SVC_ARCHIVE && access(h->archive, F_OK) && errno == ENOENT)
			put(&l, "; warning: %s does not exist (yet): 404 until it does (wampd downloads "
			    "nothing)", h->archive);
		flush(&l, emit, arg);
	}
}

void config_summary(const struct config *cfg, config_emit emit, void *arg)
{
	struct line l = {.n = 0};

	put(&l, "serving:");
	flush(&l, emit, arg);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		summary_listener(cfg, i, emit, arg);
	put(&l, "realms (on every WebSocket and RawSocket endpoint):");
	if (!cfg->nrealms)
		put(&l, " none configured");
	if (cfg->auto_create_realms)
		put(&l, " any realm a client names is created (auto_create_realms)");
	flush(&l, emit, arg);
	for (size_t i = 0; i < cfg->nrealms; i++) {
		const struct realm_config *r = &cfg->realms[i];
		const struct authz_role *role, *tmp;
		const char *sep = "";

		put(&l, "  %s: ", r->name);
		if (!r->authz.roles)
			put(&l, "every role may do everything (no roles configured)");
		else
			put(&l, "roles ");
		HASH_ITER(hh, r->authz.roles, role, tmp) {
			put(&l, "%s%s%s", sep, role->name, role->authorizer ? " (dynamic)" : "");
			sep = ", ";
		}
		flush(&l, emit, arg);
	}
}

/* A file the start will open for reading. */
static size_t preflight_file(const char *what, size_t i, const char *path, config_emit emit,
                             void *arg)
{
	struct line l = {.n = 0};

	if (!path || access(path, R_OK) == 0)
		return 0;
	put(&l, "listeners[%zu].%s: %s: %s", i, what, path, strerror(errno));
	flush(&l, emit, arg);
	return 1;
}

static size_t preflight_unix(size_t i, const char *path, config_emit emit, void *arg)
{
	struct sockaddr_un sa;
	struct line l = {.n = 0};
	const char *slash = strrchr(path, '/');
	char dir[sizeof(sa.sun_path) + 1];
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		put(&l, "listeners[%zu].unix: %s: longer than a Unix socket address holds (%zu "
		    "bytes)", i, path, sizeof(sa.sun_path) - 1);
		flush(&l, emit, arg);
		return 1;
	}
	if (!slash || slash == path)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	put(&l, "listeners[%zu].unix: %s: the directory does not exist", i, path);
	flush(&l, emit, arg);
	return 1;
}

/* The ZIP file of an archive service: when it is there, it must open as an archive (one
 * that is not there yet is the summary's warning: served once it appears, as a static
 * service's missing directory). */
static size_t preflight_archive(size_t i, const struct http_service_config *sc,
                                config_emit emit, void *arg)
{
	struct line l = {.n = 0};
	char err[512];

	if ((access(sc->archive, F_OK) && errno == ENOENT) ||
	    archive_check(sc->archive, err, sizeof(err)))
		return 0;
	put(&l, "listeners[%zu].http.%s.archive: %s", i, sc->path, err);
	flush(&l, emit, arg);
	return 1;
}

size_t config_preflight(const struct config *cfg, config_emit emit, void *arg)
{
	size_t problems = 0;

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];

		for (size_t j = 0; j < lc->nhttp; j++)
			if (lc->http[j].type == HTTP_SVC_ARCHIVE)
				problems += preflight_archive(i, &lc->http[j], emit, arg);

		problems += preflight_file("tls.certificate", i, lc->tls_cert, emit, arg);
		problems += preflight_file("tls.key", i, lc->tls_key, emit, arg);
		problems += preflight_file("tls.ca_certificates", i, lc->tls_ca, emit, arg);
		if (lc->unix_path)
			problems += preflight_unix(i, lc->unix_path, emit, arg);
	}
	return problems;
}
