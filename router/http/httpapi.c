/*
 * httpapi.c - the part of the handlers' API (httpapi.h) that needs no connection: routing a
 * request path to a route (http_route_find) and the JSON answers (http_respond_json,
 * http_respond_error: Crossbar's error shape), built on the connection's http_respond.
 *
 * The connection's primitives (http_respond, http_hold, the stream, the close, the
 * connection's facts) are router/net/http.c's in wampd and tests/lib/fake_http.c's in the
 * services' unit tests; keeping these here means both run the same routing and the same
 * answer bodies, and the tests check the real ones.
 *
 * Routing is a linear scan of a listener's routes (a handful per listener): an exact path
 * wins at once, otherwise the longest prefix route whose path ends at a '/' of the request's.
 */
#include "router/http/httpapi.h"

#include "serializers/serializer.h"

#include <stdlib.h>
#include <string.h>

const struct http_route *http_route_find(const struct http_routes *rs, const char *path,
                                         size_t len, const char **rest, size_t *rest_len)
{
	const struct http_route *best = NULL;
	size_t best_len = 0;

	if (!rs)
		return NULL;
	for (size_t i = 0; i < rs->n; i++) {
		const struct http_route *r = &rs->v[i];
		size_t k = strlen(r->path);

		if (k == len && !memcmp(r->path, path, len)) {
			best = r;
			best_len = k;
			break;
		}
		if (r->prefix && k < len && !memcmp(r->path, path, k) &&
		    (path[k] == '/' || r->path[k - 1] == '/') && k > best_len) {
			best = r;
			best_len = k;
		}
	}
	if (best) {
		*rest = path + best_len;
		*rest_len = len - best_len;
	}
	return best;
}

void http_respond_json_text(struct http_conn *c, int status, const char *body, size_t len,
                            const char *extra_headers)
{
	http_respond(c, status, wamp_ser_desc(WAMP_SER_JSON)->content_type, body, len,
	             extra_headers);
}

void http_respond_json(struct http_conn *c, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (!text) {
		http_respond(c, 500, "text/plain", "out of memory\n", 14, NULL);
		return;
	}
	http_respond_json_text(c, status, text, strlen(text), NULL);
	free(text);
}

void http_respond_error(struct http_conn *c, int status, const char *uri, const char *message)
{
	http_respond_json(c, status, json_pack("{s:s, s:[s], s:{}}", "error", uri, "args",
	                                       message ? message : "", "kwargs"));
}
