/*
 * fuzz_longpoll.c - libFuzzer target for the long-poll transport's request router
 * (router/http/lpreq.c: the path after the service's own, /open's protocol negotiation, the
 * transport tokens) and the bodies its transports take (router/core/batched.c for the
 * batched protocols), as router/http/longpoll.c uses them.
 *
 * Input: [flags][path up to the first '\n'][body]
 *   flags & 3         the method: POST, GET, PUT, OPTIONS
 *   (flags >> 2) & 7  the serializers the listener allows (bit set, 0 read as all)
 *   flags & 0x20      the transport is batched (for /send)
 *   flags & 0x40      the serializer of the transport: JSON or MessagePack
 *   flags & 0x80      a path "/<token>/..." names the live transport's real token: the
 *                     target writes it over the first segment (so a found transport is
 *                     reached, not only "no such transport")
 *
 * A table of three live transports (fixed tokens of the shape /open makes, so runs are
 * reproducible) stands for longpoll.c's; a token is looked up by its key, as there.
 *
 * Invariants (abort otherwise): no crash, leak or UB; a request finds a transport only
 * with that transport's token, byte for byte (no other path opens it); the token of a
 * routed request lies within the path and has the token's length; an accepted /open
 * names a protocol "wamp.2.<serializer>[.batched]" the listener allows and libwampd
 * serves; the messages a batch splits into lie within the body, in order.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/core/batched.h"
#include "router/http/lpreq.h"

#define NLIVE 3

static const char *const methods[] = {"POST", "GET", "PUT", "OPTIONS"};
/* fixed (the run is reproducible), of the shape /open gives */
static const char live_token[NLIVE][LP_TOKEN_LEN + 1] = {
	"q2VhQ5kQ0Yx7bW-3f_Zt8nLrA1sD4eGh",
	"Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4",
	"_-_-_-_-0123456789abcdefABCDEFgh",
};
static uint8_t live_key[NLIVE][LP_KEY_LEN];

struct split {
	const uint8_t *body, *at;
	size_t len;
	unsigned n;
};

static bool on_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct split *sp = ctx;

	if (msg < sp->at || msg + len > sp->body + sp->len)
		abort(); /* outside the body, or out of order */
	sp->at = msg + len;
	return ++sp->n < 1000;
}

static void check_open(const uint8_t *body, size_t len, unsigned allowed)
{
	struct lp_protocol p;
	char want[64];

	if (lp_open_negotiate(body, len, allowed, &p) != LP_OPEN_OK)
		return;
	snprintf(want, sizeof(want), "wamp.2.%s%s", wamp_ser_name(p.ser),
	         p.batched ? ".batched" : "");
	if (!p.name || strcmp(p.name, want) ||
	    !(allowed & (1u << p.ser)) || !wamp_ser_supported(p.ser))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const char *path, *nl, *token;
	const uint8_t *body;
	size_t plen, blen, tl;
	unsigned allowed;
	char *copy;
	enum lp_action a;
	uint8_t key[LP_KEY_LEN];
	int found = -1;

	if (!ready) {
		if (sodium_init() < 0)
			abort();
		for (int i = 0; i < NLIVE; i++)
			lp_token_key(live_token[i], LP_TOKEN_LEN, live_key[i]);
		ready = true;
	}
	if (size < 1)
		return 0;
	path = (const char *)data + 1;
	nl = memchr(path, '\n', size - 1);
	plen = nl ? (size_t)(nl - path) : size - 1;
	body = nl ? (const uint8_t *)nl + 1 : (const uint8_t *)"";
	blen = nl ? size - 1 - plen - 1 : 0;
	allowed = (data[0] >> 2) & 7 ? (data[0] >> 2) & 7 : 7;
	/* a private copy of the path, so the real token can be written into it */
	if (!(copy = malloc(plen ? plen : 1)))
		return 0;
	memcpy(copy, path, plen);
	if ((data[0] & 0x80) && plen > LP_TOKEN_LEN && copy[0] == '/')
		memcpy(copy + 1, live_token[data[0] % NLIVE], LP_TOKEN_LEN);

	a = lp_route(methods[data[0] & 3], copy, plen, &token, &tl);
	switch (a) {
	case LP_OPEN:
		check_open(body, blen, allowed);
		break;
	case LP_SEND:
	case LP_RECEIVE:
	case LP_CLOSE:
		if (!token || tl != LP_TOKEN_LEN || token < copy || token + tl > copy + plen)
			abort();
		lp_token_key(token, tl, key);
		for (int i = 0; i < NLIVE; i++)
			if (!sodium_memcmp(key, live_key[i], LP_KEY_LEN))
				found = i;
		if (found >= 0 && memcmp(token, live_token[found], LP_TOKEN_LEN))
			abort(); /* a transport found with another token */
		if (a == LP_SEND && found >= 0 && (data[0] & 0x20)) {
			struct split sp = {body, body, blen, 0};
			enum wamp_ser ser = data[0] & 0x40 ? WAMP_SER_MSGPACK : WAMP_SER_JSON;

			batch_split(ser, BATCH_SEP_SPEC, body, blen, on_msg, &sp);
		}
		break;
	default:
		if (token || tl)
			abort();
		break;
	}
	free(copy);
	return 0;
}
