/*
 * bridge_msg.h - what an HTTP bridge request (publisher, caller, webhook; see
 * router/http/http_bridge.c) asks the router for, without the connection or the bridge's
 * session: the request's method, path, headers and body in, the WAMP message (PUBLISH or
 * CALL with its options, args and kwargs) or the HTTP answer refusing it out. Pure (no
 * I/O, no libwebsockets), so tests/fuzz/fuzz_bridge.c drives it directly.
 *
 * The service's authentication (tickets, signed requests) is the bridge's, done before;
 * a webhook's GitHub signature is checked here, as it belongs to its body.
 */
#ifndef WAMPD_ROUTER_BRIDGE_MSG_H
#define WAMPD_ROUTER_BRIDGE_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "router/config/config.h"
#include "router/http/httpreq.h"
#include "serializers/wamp_msg.h"

struct bridge_msg {
	/* accepted */
	enum wamp_type type;      /* WAMP_PUBLISH or WAMP_CALL */
	const char *uri;          /* topic or procedure: in body, or the service's topic */
	json_t *args, *kwargs;    /* NULL when absent */
	json_t *options;
	json_t *body;             /* the parsed JSON body (publisher, caller), or NULL */
	/* refused */
	int status;               /* the HTTP status (4xx, 500 when out of memory) */
	const char *error;        /* its WAMP error URI (static) */
	char why[300];            /* and the message */
};

/*
 * Read the request req (borrowed, with its body) to service cfg (borrowed). true: *m holds
 * the message to send (its parts owned by m: bridge_msg_clear). false: *m holds the
 * refusal (status, error, why) and nothing to free.
 */
bool bridge_msg_parse(const struct http_service_config *cfg, const struct http_request *req,
                      struct bridge_msg *m);

/* The message as WAMP [type, request_id, options, uri, args?, kwargs?] (a new reference),
 * or NULL when out of memory. m keeps its parts. */
json_t *bridge_msg_wamp(const struct bridge_msg *m, uint64_t request_id);

/* Free what an accepted m holds. */
void bridge_msg_clear(struct bridge_msg *m);

#endif
