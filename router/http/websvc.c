/*
 * websvc.c - the small fixed web services (Crossbar's "redirect", "json" and "nodeinfo"):
 *
 *   redirect  any GET/HEAD at or below its path -> the configured status (302 by default,
 *             as Crossbar's) with Location: url and a short HTML body linking to it;
 *   json      GET/HEAD at its path -> the configured value, rendered once at start;
 *   nodeinfo  GET/HEAD at or below its path -> what this router is: name, version, node
 *             id (when clustered), start time, uptime, process id and the client's own
 *             address, as an HTML page, or as JSON for ?format=json or an Accept header
 *             that asks for application/json and not text/html. Nothing else: no realms,
 *             sessions, configuration or credentials (the admin listener has those, behind
 *             its ticket).
 * Any other method is answered 405 with Allow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "router/http/httpsvc.h"
#include "router/http/webfile.h"

struct web_svc {
	struct httpsvc svc;
	int64_t started_ms; /* nodeinfo: wall clock at start */
};

static bool get_or_head(struct http_conn *c, const struct http_request *req)
{
	static const char text[] = "method not allowed\n";

	if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))
		return true;
	http_respond(c, 405, "text/plain; charset=utf-8", text, sizeof(text) - 1,
	             "Allow: GET, HEAD, OPTIONS\r\n");
	return false;
}

static void web_destroy(struct httpsvc *svc)
{
	free(svc);
}

/* ---- redirect ----------------------------------------------------------------------- */

static void redirect_handle(const struct http_route *route, struct http_conn *c,
                            const struct http_request *req, const char *rest, size_t rest_len)
{
	const struct http_service_config *cfg = ((struct httpsvc *)route->ctx)->cfg;
	size_t ul = strlen(cfg->url), cap = 6 * ul + 128, n;
	char *hdr = malloc(ul + 16), *body = malloc(cap);

	(void)rest, (void)rest_len;
	if (get_or_head(c, req)) {
		if (!hdr || !body) {
			http_respond(c, 500, "text/plain", "out of memory\n", 14, NULL);
		} else {
			/* the URL is the configuration's, checked there for header-safe bytes */
			snprintf(hdr, ul + 16, "Location: %s\r\n", cfg->url);
			n = (size_t)snprintf(body, cap, "<!DOCTYPE html>\n<html><body><a href=\"");
			n += webfile_html_escape(cfg->url, body + n, cap - n);
			n += (size_t)snprintf(body + n, cap - n, "\">moved here</a></body></html>\n");
			http_respond(c, (int)cfg->redirect_status, "text/html; charset=utf-8", body, n,
			             hdr);
		}
	}
	free(hdr);
	free(body);
}

/* ---- json --------------------------------------------------------------------------- */

static void json_handle(const struct http_route *route, struct http_conn *c,
                        const struct http_request *req, const char *rest, size_t rest_len)
{
	const struct http_service_config *cfg = ((struct httpsvc *)route->ctx)->cfg;

	(void)rest, (void)rest_len;
	if (get_or_head(c, req))
		http_respond(c, 200, "application/json; charset=utf-8", cfg->json, strlen(cfg->json),
		             NULL);
}

/* ---- nodeinfo ----------------------------------------------------------------------- */

/* Whether the request asks for JSON: ?format=json, or Accept naming application/json and
 * not text/html (a browser names text/html). */
static bool wants_json(const struct http_request *req)
{
	char v[16];
	const char *a;
	size_t n;

	if (http_query_get(req->query, req->query_len, "format", v, sizeof(v)))
		return !strcmp(v, "json");
	if (!(a = http_header_get(req, "accept", &n)))
		return false;
	return memmem(a, n, "application/json", 16) && !memmem(a, n, "text/html", 9);
}

static void nodeinfo_handle(const struct http_route *route, struct http_conn *c,
                            const struct http_request *req, const char *rest, size_t rest_len)
{
	struct web_svc *s = route->ctx;
	struct router *rt = http_conn_router(c);
	const char *node = rt->cfg.backplane.node_id;
	char started[WEBFILE_DATE_MAX], peer[6 * 64 + 1], esc_node[6 * 64 + 1] = "";
	int64_t uptime = (clock_wall_ms() - s->started_ms) / 1000;
	char *body;
	int n;

	(void)rest, (void)rest_len;
	if (!get_or_head(c, req))
		return;
	webfile_http_date(s->started_ms / 1000, started);
	if (wants_json(req)) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "server", "wampd", "version",
		                        WAMPD_VERSION, "started", started, "uptime_s",
		                        (json_int_t)uptime, "pid", (json_int_t)getpid(), "peer",
		                        http_conn_address(c));

		if (doc && node)
			json_object_set_new(doc, "node", json_string(node));
		http_respond_json(c, 200, doc);
		return;
	}
	if (webfile_html_escape(http_conn_address(c), peer, sizeof(peer)) == (size_t)-1)
		peer[0] = '\0';
	if (node && webfile_html_escape(node, esc_node, sizeof(esc_node)) == (size_t)-1)
		esc_node[0] = '\0';
	n = asprintf(&body,
	             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>wampd node info"
	             "</title></head>\n<body><h1>wampd</h1>\n<table>\n"
	             "<tr><td>Release</td><td>wampd %s</td></tr>\n"
	             "%s%s%s"
	             "<tr><td>Started</td><td>%s</td></tr>\n"
	             "<tr><td>Uptime</td><td>%lld s</td></tr>\n"
	             "<tr><td>Process</td><td>%d</td></tr>\n"
	             "<tr><td>Your address</td><td>%s</td></tr>\n"
	             "</table></body></html>\n",
	             WAMPD_VERSION, node ? "<tr><td>Node</td><td>" : "", esc_node,
	             node ? "</td></tr>\n" : "", started, (long long)uptime, (int)getpid(), peer);
	if (n < 0) {
		http_respond(c, 500, "text/plain", "out of memory\n", 14, NULL);
		return;
	}
	http_respond(c, 200, "text/html; charset=utf-8", body, (size_t)n, NULL);
	free(body);
}

/* ---- construction ------------------------------------------------------------------- */

static struct httpsvc *web_new(struct http_route *route, http_handler_fn handle, char *err,
                               size_t errlen)
{
	struct web_svc *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->started_ms = clock_wall_ms();
	s->svc.destroy = web_destroy;
	route->handle = handle;
	route->max_body = 0; /* GET and HEAD: no request body */
	return &s->svc;
}

struct httpsvc *redirect_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen)
{
	(void)rt, (void)cfg;
	return web_new(route, redirect_handle, err, errlen);
}

struct httpsvc *json_service_new(struct router *rt, const struct http_service_config *cfg,
                                 struct http_route *route, char *err, size_t errlen)
{
	(void)rt, (void)cfg;
	return web_new(route, json_handle, err, errlen);
}

struct httpsvc *nodeinfo_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen)
{
	(void)rt, (void)cfg;
	return web_new(route, nodeinfo_handle, err, errlen);
}
