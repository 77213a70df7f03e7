/*
 * fuzz_bridge.c - libFuzzer target for the HTTP bridge's request handling
 * (router/http/bridge_msg.c: Content-Type and the JSON body into a PUBLISH or CALL with args,
 * kwargs and options; a webhook's headers, body and GitHub signature into its event),
 * fed whole requests parsed by the front door's parser (router/http/httpreq.c), then the
 * message through the decoder and validator the bridge's session feeds it to
 * (httpsvc_feed: wamp_decode, wamp_validate).
 *
 * Input: [service][request: head and body, as a client sends it]
 *   service % 5   0 publisher, 1 caller, 2 webhook publishing every header but
 *                 credentials, 3 webhook publishing the configured headers, 4 webhook
 *                 with a GitHub secret
 * The body is everything after the head (the front door hands the bridge exactly
 * Content-Length bytes; their count does not matter here).
 *
 * Invariants (abort otherwise): no crash, leak or UB; a refusal is a 4xx (500 only when
 * out of memory) with a wamp.error URI and a message; an accepted request is a PUBLISH
 * (publisher, webhook: acknowledged) or a CALL (caller: without receive_progress) with a
 * non-empty URI, args a list and kwargs an object when present, and encodes as WAMP; a
 * webhook's event never carries Authorization, Cookie or Proxy-Authorization, and with
 * configured headers only those.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router/http/bridge_msg.h"
#include "serializers/codec.h"

static char *hook_headers[] = {"x-github-event", "content-type", "x-request-id", NULL};

static const struct http_service_config services[] = {
	{.type = HTTP_SVC_PUBLISHER, .path = "/publish", .realm = "realm1"},
	{.type = HTTP_SVC_CALLER, .path = "/call", .realm = "realm1"},
	{.type = HTTP_SVC_WEBHOOK, .path = "/hook", .realm = "realm1", .topic = "com.hook"},
	{.type = HTTP_SVC_WEBHOOK, .path = "/hook2", .realm = "realm1", .topic = "com.hook2",
	 .headers = hook_headers, .nheaders = 3},
	{.type = HTTP_SVC_WEBHOOK, .path = "/gh", .realm = "realm1", .topic = "com.gh",
	 .github_secret = "fuzz-secret"},
};

static void check_event(const struct http_service_config *cfg, const struct bridge_msg *m)
{
	json_t *headers = json_object_get(json_array_get(m->args, 0), "headers");
	const char *k;
	json_t *v;

	if (json_array_size(m->args) != 1 || !json_is_object(headers) ||
	    strcmp(m->uri, cfg->topic))
		abort();
	json_object_foreach(headers, k, v) {
		/* by default all but credentials; configured: those named */
		bool listed = !cfg->headers && strcmp(k, "authorization") && strcmp(k, "cookie") &&
		              strcmp(k, "proxy-authorization");

		for (size_t i = 0; cfg->headers && i < cfg->nheaders; i++)
			if (!strcmp(k, cfg->headers[i]))
				listed = true;
		if (!listed || !json_is_string(v))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct http_service_config *cfg;
	struct http_request req;
	struct bridge_msg m;
	size_t hl = 0;
	json_t *w;
	char *text, why[256];

	if (size < 1)
		return 0;
	cfg = &services[data[0] % 5];
	if (http_parse_head((const char *)data + 1, size - 1, &req, &hl) != HTTP_PARSE_OK)
		return 0;
	req.body = data + 1 + hl;
	req.body_len = size - 1 - hl;
	if (!bridge_msg_parse(cfg, &req, &m)) {
		if (m.status < 400 || m.status > 500 || (m.status >= 416 && m.status < 500) ||
		    !m.error || strncmp(m.error, "wamp.error.", 11) || !m.why[0] ||
		    !memchr(m.why, '\0', sizeof(m.why)) || m.args || m.kwargs || m.options || m.body)
			abort();
		return 0;
	}
	if (!m.uri || !m.uri[0] || !json_is_object(m.options) ||
	    (m.args && !json_is_array(m.args)) || (m.kwargs && !json_is_object(m.kwargs)))
		abort();
	if (cfg->type == HTTP_SVC_CALLER ? m.type != WAMP_CALL ||
	                                       json_object_get(m.options, "receive_progress")
	                                 : m.type != WAMP_PUBLISH ||
	                                       !json_is_true(json_object_get(m.options, "acknowledge")))
		abort();
	if (cfg->type == HTTP_SVC_WEBHOOK)
		check_event(cfg, &m);
	/* what the bridge's session is fed */
	if (!(w = bridge_msg_wamp(&m, 1)) || !json_is_array(w))
		abort();
	if ((text = json_dumps(w, JSON_COMPACT))) {
		struct wamp_msg wm;

		if (wamp_decode(WAMP_SER_JSON, (const uint8_t *)text, strlen(text), NULL, &wm, why,
		                sizeof(why)) == WAMPD_OK) {
			(void)wamp_validate(&wm, why, sizeof(why));
			wamp_msg_clear(&wm);
		}
		free(text);
	}
	json_decref(w);
	bridge_msg_clear(&m);
	return 0;
}
