/*
 * lpreq.h - the long-poll transport's requests without the connection (router/http/longpoll.c
 * serves them): routing of the path after the service's own, protocol negotiation of
 * /open, and the transport secrets. Pure functions (no I/O, no libwebsockets), so unit
 * tests and tests/fuzz/fuzz_longpoll.c drive them directly.
 *
 * A transport's secret is the only credential of its session: whoever presents it may
 * send, receive and close as that session. It is LP_TOKEN_BYTES random bytes (libsodium)
 * in URL-safe base64 without padding, given to the client once (the "transport" of the
 * /open answer, which Autobahn|JS puts into its URLs) and never shown anywhere else: the
 * router keeps only its BLAKE2b hash and finds transports by that hash, so the lookup's
 * timing depends on a digest an attacker cannot steer, not on how much of a guess was
 * right. What session details, logs and the status page show is a separate public id.
 */
#ifndef WAMPD_ROUTER_LPREQ_H
#define WAMPD_ROUTER_LPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serializers/codec.h"

#define LP_TOKEN_BYTES 24 /* 192 random bits */
#define LP_TOKEN_LEN 32   /* their URL-safe base64, no padding */
#define LP_KEY_LEN 32     /* BLAKE2b-256 of the token: what the router keeps */

/* What a request asks for. */
enum lp_action {
	LP_OPEN = 0,          /* POST <base>/open */
	LP_SEND,              /* POST <base>/<token>/send */
	LP_RECEIVE,           /* POST <base>/<token>/receive */
	LP_CLOSE,             /* POST <base>/<token>/close */
	LP_BAD_METHOD,        /* anything but POST: 405 */
	LP_NO_TRANSPORT,      /* "/x/send" etc. where x cannot be a token: 404 */
	LP_NOT_FOUND,         /* any other path: 404 */
};

/*
 * Route a request: method (NUL-terminated) and rest[0..rest_len), the path after the
 * service's own. For LP_SEND, LP_RECEIVE and LP_CLOSE, *token and *token_len are the transport's token
 * (pointing into rest, LP_TOKEN_LEN bytes); the caller still has to find it.
 */
enum lp_action lp_route(const char *method, const char *rest, size_t rest_len,
                        const char **token, size_t *token_len);

/* The key a token is found by (BLAKE2b-256 of its bytes, any length). */
void lp_token_key(const char *token, size_t len, uint8_t key[LP_KEY_LEN]);

/* A new random token (NUL-terminated) and its key. The caller gives the token to its
 * client once and should wipe it (sodium_memzero) afterwards. */
void lp_token_new(char token[LP_TOKEN_LEN + 1], uint8_t key[LP_KEY_LEN]);

/* Protocol negotiation of /open. */
enum lp_open_result {
	LP_OPEN_OK = 0,
	LP_OPEN_BAD_BODY,     /* not {"protocols": [...]} */
	LP_OPEN_NO_PROTOCOL,  /* none offered is served here */
};

struct lp_protocol {
	enum wamp_ser ser;
	bool batched;         /* wamp.2.<ser>.batched */
	const char *name;     /* the protocol chosen (static: the serializer table's) */
};

/*
 * The first protocol of body[0..len) ({"protocols": ["wamp.2.json", ...]}) whose
 * serializer is in the bit mask allowed (1 << enum wamp_ser) and built in, into *out.
 * Nothing is kept of body.
 */
enum lp_open_result lp_open_negotiate(const uint8_t *body, size_t len, unsigned allowed,
                                      struct lp_protocol *out);

#endif
