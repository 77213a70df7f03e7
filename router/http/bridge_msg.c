/*
 * bridge_msg.c - an HTTP bridge request read into the WAMP message it asks for (see
 * bridge_msg.h).
 *
 * Publisher and caller: the body must be a JSON object (Content-Type application/json
 * required, UTF-8, no duplicate keys) with the URI ("topic" or "procedure") and optionally "args"
 * (a list), "kwargs" and "options" (objects); any other key is refused, so a typo is not
 * silently dropped. A publication is always acknowledged (the answer carries its id); a
 * call never asks for progressive results (one HTTP answer per call). Webhook: the body
 * (text, or base64 when it is not UTF-8) and the request's headers (the configured ones,
 * or all but credentials) become the one argument of an acknowledged PUBLISH to the
 * service's topic. Every refusal is a status, a wamp.error URI and a message, answered
 * by the caller through http_respond_error.
 */
#include "router/http/bridge_msg.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "router/http/httpreq.h"
#include "router/http/httpsig.h"

static bool refuse(struct bridge_msg *m, int status, const char *error, const char *why)
{
	m->status = status;
	m->error = error;
	snprintf(m->why, sizeof(m->why), "%s", why);
	return false;
}

/* The JSON body as an object into m->body; false: refused. */
static bool parse_body(const struct http_request *req, struct bridge_msg *m)
{
	size_t n = 0, csn = 0;
	const char *ct = http_header_get(req, "content-type", &n), *cs = NULL;
	json_error_t jerr;

	/* no Content-Type, or one an HTML form can send (text/plain, form-encoded): what a web
	 * page on any site can make a browser send without a CORS preflight (http_bridge.c) */
	if (!ct || !http_media_type(ct, n, wamp_ser_desc(WAMP_SER_JSON)->media_type, &cs, &csn))
		return refuse(m, 415, "wamp.error.invalid_argument",
		              "the body must be JSON: send Content-Type: application/json");
	if (cs && !(csn == 5 && !strncasecmp(cs, "utf-8", 5)) &&
	    !(csn == 4 && !strncasecmp(cs, "utf8", 4)))
		return refuse(m, 415, "wamp.error.invalid_argument", "the body must be UTF-8 JSON");
	if (!req->body_len)
		return refuse(m, 400, "wamp.error.invalid_argument", "the request needs a JSON body");
	m->body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m->body) {
		snprintf(m->why, sizeof(m->why),
		         "invalid JSON in the request body at line %d column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		m->status = 400;
		m->error = "wamp.error.invalid_argument";
		return false;
	}
	if (!json_is_object(m->body)) {
		json_decref(m->body);
		m->body = NULL;
		return refuse(m, 400, "wamp.error.invalid_argument",
		              "the request body must be a JSON object");
	}
	return true;
}

static bool is_array(const json_t *v) { return json_is_array(v); }
static bool is_object(const json_t *v) { return json_is_object(v); }

/* The optional members of a publisher's or caller's body, and what each must be. */
static const struct {
	const char *key;
	bool (*ok)(const json_t *);
	const char *what;
} fields[] = {
	{"args", is_array, "a list"},
	{"kwargs", is_object, "an object"},
	{"options", is_object, "an object"},
};

static bool publish_call(const struct http_service_config *cfg, const struct http_request *req,
                         struct bridge_msg *m)
{
	bool call = cfg->type == HTTP_SVC_CALLER;
	const char *key = call ? "procedure" : "topic", *k;
	json_t *uri, *v;

	if (!parse_body(req, m))
		return false;
	uri = json_object_get(m->body, key);
	if (!json_is_string(uri) || !json_string_length(uri)) {
		snprintf(m->why, sizeof(m->why), "the body needs \"%s\": a URI string", key);
		goto refused;
	}
	json_object_foreach(m->body, k, v) {
		size_t i = 0;

		if (!strcmp(k, key))
			continue;
		while (i < sizeof(fields) / sizeof(fields[0]) && strcmp(fields[i].key, k))
			i++;
		if (i == sizeof(fields) / sizeof(fields[0])) {
			snprintf(m->why, sizeof(m->why),
			         "unknown key \"%.64s\" in the body (%s, args, kwargs, options)", k, key);
			goto refused;
		}
		if (!json_is_null(v) && !fields[i].ok(v)) {
			snprintf(m->why, sizeof(m->why), "\"%s\" must be %s", k, fields[i].what);
			goto refused;
		}
	}
	m->type = call ? WAMP_CALL : WAMP_PUBLISH;
	m->uri = json_string_value(uri);
	m->args = json_incref(json_is_array(v = json_object_get(m->body, "args")) ? v : NULL);
	m->kwargs = json_incref(json_is_object(v = json_object_get(m->body, "kwargs")) ? v : NULL);
	m->options = json_is_object(v = json_object_get(m->body, "options")) ? json_deep_copy(v)
	                                                                     : json_object();
	if (m->options && call)
		json_object_del(m->options, "receive_progress"); /* one HTTP answer per call */
	else if (m->options)
		json_object_set_new(m->options, "acknowledge", json_true());
	if (!m->options) {
		bridge_msg_clear(m);
		return refuse(m, 500, "wamp.error.runtime_error", "out of memory");
	}
	return true;
refused:
	json_decref(m->body);
	m->body = NULL;
	m->status = 400;
	m->error = "wamp.error.invalid_argument";
	return false;
}

/*
 * The headers a webhook publishes: the configured ones, or all but credentials. What
 * counts as a credential: the standard ones and the shared secrets webhook senders put in
 * a header of their own (GitLab's X-Gitlab-Token, the API-key and token headers): every
 * subscriber of the topic would see them. A config that needs one lists it in `headers`.
 */
static json_t *webhook_headers(const struct http_service_config *cfg,
                               const struct http_request *req)
{
	static const char *const secret[] = {"authorization", "cookie", "proxy-authorization",
	                                     "x-gitlab-token", "x-api-key", "x-auth-token",
	                                     "x-access-token", "x-webhook-secret", "x-hook-secret",
	                                     NULL};
	json_t *h = json_object();

	for (size_t i = 0; h && i < req->nheaders; i++) {
		const struct http_header *hd = &req->headers[i];
		char name[128];
		bool keep = !cfg->headers;

		if (hd->name_len >= sizeof(name))
			continue;
		for (size_t k = 0; k < hd->name_len; k++)
			name[k] = (char)(hd->name[k] >= 'A' && hd->name[k] <= 'Z' ? hd->name[k] + 32
			                                                          : hd->name[k]);
		name[hd->name_len] = '\0';
		for (size_t k = 0; cfg->headers && k < cfg->nheaders; k++)
			if (!strcmp(cfg->headers[k], name))
				keep = true;
		for (size_t k = 0; !cfg->headers && secret[k]; k++)
			if (!strcmp(secret[k], name))
				keep = false;
		if (keep) {
			json_t *v = json_stringn(hd->value, hd->value_len);

			if (v)
				json_object_set_new(h, name, v);
		}
	}
	return h;
}

static bool webhook(const struct http_service_config *cfg, const struct http_request *req,
                    struct bridge_msg *m)
{
	json_t *event, *text;

	if (cfg->github_secret) {
		size_t n = 0;
		const char *sig = http_header_get(req, "x-hub-signature-256", &n);

		if (!httpsig_github_ok(cfg->github_secret, sig, n, req->body, req->body_len))
			return refuse(m, 401, "wamp.error.authentication_failed",
			              sig ? "X-Hub-Signature-256 does not match the body"
			                  : "X-Hub-Signature-256 is required");
	}
	event = json_pack("{s:o}", "headers", webhook_headers(cfg, req));
	text = json_stringn((const char *)(req->body ? req->body : (const uint8_t *)""),
	                    req->body_len);
	if (event && text) {
		json_object_set_new(event, "body", text);
	} else if (event) {
		/* not UTF-8: the body travels as base64 */
		size_t cap = sodium_base64_encoded_len(req->body_len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(cap);

		if (b64) {
			sodium_bin2base64(b64, cap, req->body, req->body_len, sodium_base64_VARIANT_ORIGINAL);
			json_object_set_new(event, "body_base64", json_string(b64));
			free(b64);
		}
	}
	m->type = WAMP_PUBLISH;
	m->uri = cfg->topic;
	m->args = json_pack("[o]", event);
	m->options = json_pack("{s:b}", "acknowledge", 1);
	if (!m->args || !m->options) {
		bridge_msg_clear(m);
		return refuse(m, 500, "wamp.error.runtime_error", "out of memory");
	}
	return true;
}

bool bridge_msg_parse(const struct http_service_config *cfg, const struct http_request *req,
                      struct bridge_msg *m)
{
	memset(m, 0, sizeof(*m));
	return cfg->type == HTTP_SVC_WEBHOOK ? webhook(cfg, req, m) : publish_call(cfg, req, m);
}

json_t *bridge_msg_wamp(const struct bridge_msg *m, uint64_t request_id)
{
	json_t *w = json_pack("[i, I, O, s]", m->type, (json_int_t)request_id, m->options, m->uri);

	if (w && (m->args || m->kwargs))
		json_array_append_new(w, m->args ? json_incref(m->args) : json_array());
	if (w && m->kwargs)
		json_array_append(w, m->kwargs);
	return w;
}

void bridge_msg_clear(struct bridge_msg *m)
{
	json_decref(m->args);
	json_decref(m->kwargs);
	json_decref(m->options);
	json_decref(m->body);
	m->args = m->kwargs = m->options = m->body = NULL;
	m->uri = NULL;
}
