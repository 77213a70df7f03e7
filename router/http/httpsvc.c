/*
 * httpsvc.c - construction and lifetime of the HTTP services, and the internal-session
 * helpers they share (see httpsvc.h).
 */
#include "router/http/httpsvc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "router/core/protocol.h"

struct route_table {
	struct http_routes routes;
	struct route_table *next;
};

/* The service types (enum http_service_type): their names and constructors. */
static const struct {
	const char *name;
	struct httpsvc *(*create)(struct router *rt, const struct http_service_config *cfg,
	                          struct http_route *route, char *err, size_t errlen);
	bool prefix;       /* the route serves every path below its own (long-poll's
	                      /<transport>/...) */
	bool rest_secret;  /* the rest of the path is a credential: never logged */
	bool message_body; /* the body is one WAMP message: limits.max_message_size bounds it */
} svc_types[] = {
	[HTTP_SVC_PUBLISHER] = {"publisher", bridge_service_new, false, false, false},
	[HTTP_SVC_CALLER] = {"caller", bridge_service_new, false, false, false},
	[HTTP_SVC_WEBHOOK] = {"webhook", bridge_service_new, false, false, false},
	[HTTP_SVC_SSE] = {"sse", sse_service_new, false, false, false},
	[HTTP_SVC_LONGPOLL] = {"longpoll", longpoll_service_new, true, true, true},
	/* as Crossbar's resources: static, redirect and nodeinfo answer every path below
	 * theirs, json only its own */
	[HTTP_SVC_STATIC] = {"static", static_service_new, true, false, false},
	[HTTP_SVC_REDIRECT] = {"redirect", redirect_service_new, true, false, false},
	[HTTP_SVC_JSON] = {"json", json_service_new, false, false, false},
	[HTTP_SVC_NODEINFO] = {"nodeinfo", nodeinfo_service_new, true, false, false},
	[HTTP_SVC_ARCHIVE] = {"archive", archive_service_new, true, false, false},
};

struct http_routes *httpsvc_listener_new(struct router *rt, const struct listener_config *lc,
                                         char *err, size_t errlen)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t || !(t->routes.v = calloc(lc->nhttp + 1, sizeof(*t->routes.v)))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->routes.rt = rt;
	t->next = rt->http.tables;
	rt->http.tables = t;
	for (size_t i = 0; i < lc->nhttp; i++) {
		const struct http_service_config *sc = &lc->http[i];
		struct http_route *route = &t->routes.v[t->routes.n];
		struct httpsvc *svc;

		route->path = sc->path;
		route->max_body = svc_types[sc->type].message_body ? rt->cfg.max_message_size
		                                                   : sc->max_body;
		route->origins = sc->allowed_origins ? sc->allowed_origins : lc->allowed_origins;
		route->prefix = svc_types[sc->type].prefix;
		route->rest_secret = svc_types[sc->type].rest_secret;
		svc = svc_types[sc->type].create(rt, sc, route, err, errlen);
		if (!svc)
			return NULL;
		svc->cfg = sc;
		svc->rt = rt;
		svc->auth = &lc->auth;
		svc->serializers = lc->serializers;
		svc->next = rt->http.services;
		rt->http.services = svc;
		route->ctx = svc;
		t->routes.n++;
		wlog_notice("router", "http service %s type=%s", sc->path, svc_types[sc->type].name);
	}
	return &t->routes;
}

void httpsvc_shutdown_all(struct router *rt)
{
	for (struct httpsvc *s = rt->http.services; s; s = s->next)
		if (s->shutdown)
			s->shutdown(s);
}

void httpsvc_abandon(struct router *rt)
{
	rt->http.abandoned = true;
}

void httpsvc_free_all(struct router *rt)
{
	while (rt->http.services) {
		struct httpsvc *s = rt->http.services;

		rt->http.services = s->next;
		s->destroy(s);
	}
	while (rt->http.tables) {
		struct route_table *t = rt->http.tables;

		rt->http.tables = t->next;
		free(t->routes.v);
		free(t);
	}
	rt->http.abandoned = false;
}

bool httpsvc_feed(struct router *rt, struct session *s, json_t *msg, char *err, size_t errlen)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	struct wamp_msg m;
	enum wampd_err code;

	err[0] = '\0';
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	code = wamp_decode(WAMP_SER_JSON, (const uint8_t *)text, strlen(text), &rt->codec_limits,
	                   &m, err, errlen);
	if (code == WAMPD_OK) {
		code = wamp_validate(&m, err, errlen);
		wamp_msg_clear(&m);
	}
	if (code != WAMPD_OK) {
		if (!err[0])
			snprintf(err, errlen, "%s", wampd_err_str(code));
		free(text);
		return false;
	}
	proto_receive(rt, s, (const uint8_t *)text, strlen(text));
	free(text);
	return true;
}

json_t *httpsvc_decode(const struct wamp_out *out)
{
	json_t *v = json_loadb((const char *)out->mem + WAMP_OUT_HEADROOM, out->len, JSON_DECODE_ANY,
	                       NULL);

	if (v && !json_is_array(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

struct realm_timer *httpsvc_timer(struct router *rt, uint32_t ms, void (*fn)(void *), void *arg)
{
	if (!rt->realms.timers.start || rt->http.abandoned)
		return NULL;
	return rt->realms.timers.start(rt->realms.timers.ctx, ms, fn, arg);
}

void httpsvc_timer_cancel(struct router *rt, struct realm_timer **t)
{
	if (*t && rt->realms.timers.cancel)
		rt->realms.timers.cancel(rt->realms.timers.ctx, *t);
	*t = NULL;
}
