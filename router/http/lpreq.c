/*
 * lpreq.c - the long-poll transport's requests without the connection (see lpreq.h).
 *
 * Routing: "/open", or "/<token>/<op>" with op looked up in a table; a first segment
 * that is not LP_TOKEN_LEN bytes long cannot be a token and is refused before any lookup
 * (its length is no secret). Tokens: randombytes_buf, sodium_bin2base64 (URL-safe, no
 * padding), crypto_generichash for the key. Negotiation: jansson over the /open body.
 */
#include "router/http/lpreq.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

static const struct {
	const char *name;
	size_t len;
	enum lp_action action;
} lp_ops[] = {
	{"/send", 5, LP_SEND},
	{"/receive", 8, LP_RECEIVE},
	{"/close", 6, LP_CLOSE},
};

enum lp_action lp_route(const char *method, const char *rest, size_t rest_len,
                        const char **token, size_t *token_len)
{
	const char *slash;
	size_t tl, ol;

	*token = NULL;
	*token_len = 0;
	if (strcmp(method, "POST"))
		return LP_BAD_METHOD;
	if (rest_len == 5 && !memcmp(rest, "/open", 5))
		return LP_OPEN;
	if (rest_len < 2 || rest[0] != '/' || !(slash = memchr(rest + 1, '/', rest_len - 1)))
		return LP_NOT_FOUND;
	tl = (size_t)(slash - rest - 1);
	ol = rest_len - tl - 1;
	for (size_t i = 0; i < sizeof(lp_ops) / sizeof(lp_ops[0]); i++) {
		if (ol != lp_ops[i].len || memcmp(slash, lp_ops[i].name, ol))
			continue;
		if (tl != LP_TOKEN_LEN)
			return LP_NO_TRANSPORT;
		*token = rest + 1;
		*token_len = tl;
		return lp_ops[i].action;
	}
	return LP_NOT_FOUND;
}

void lp_token_key(const char *token, size_t len, uint8_t key[LP_KEY_LEN])
{
	crypto_generichash(key, LP_KEY_LEN, (const unsigned char *)token, len, NULL, 0);
}

void lp_token_new(char token[LP_TOKEN_LEN + 1], uint8_t key[LP_KEY_LEN])
{
	uint8_t rnd[LP_TOKEN_BYTES];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(token, LP_TOKEN_LEN + 1, rnd, sizeof(rnd),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(rnd, sizeof(rnd));
	lp_token_key(token, LP_TOKEN_LEN, key);
}

enum lp_open_result lp_open_negotiate(const uint8_t *body, size_t len, unsigned allowed,
                                      struct lp_protocol *out)
{
	json_t *doc = json_loadb((const char *)body, len, 0, NULL), *list, *p;
	enum lp_open_result r = LP_OPEN_NO_PROTOCOL;
	size_t i;

	list = json_object_get(doc, "protocols");
	if (!json_is_object(doc) || !json_is_array(list)) {
		json_decref(doc);
		return LP_OPEN_BAD_BODY;
	}
	json_array_foreach(list, i, p) {
		const char *name = json_string_value(p);
		const struct wamp_serializer_desc *d;
		bool batched;

		/* "wamp.2." + serializer [+ ".batched"], exactly (a NUL inside does not match) */
		if (!name || !(d = wamp_ser_by_subprotocol(name, json_string_length(p), &batched)) ||
		    !(allowed & (1u << d->ser)))
			continue;
		out->ser = d->ser;
		out->batched = batched;
		out->name = batched ? d->subprotocol_batched : d->subprotocol;
		r = LP_OPEN_OK;
		break;
	}
	json_decref(doc);
	return r;
}
