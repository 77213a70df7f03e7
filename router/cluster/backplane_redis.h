/*
 * backplane_redis.h - the cluster backplane on Redis (struct realm_backplane_ops), on the
 * router's libwebsockets event loop through hiredis' async API.
 */
#ifndef WAMPD_ROUTER_BACKPLANE_REDIS_H
#define WAMPD_ROUTER_BACKPLANE_REDIS_H

#include <stdbool.h>

#include "router/core/router.h"

struct lws_context;
struct bp_redis;

/*
 * Attach a Redis backplane to rt's realms, per rt->cfg.backplane (redis URL, node id, TTL),
 * and start connecting on ctx's event loop (it retries with backoff until Redis answers;
 * local traffic is served meanwhile). Returns NULL (after logging why) on a bad URL or
 * allocation failure.
 */
struct bp_redis *backplane_redis_new(struct router *rt, struct lws_context *ctx);

/*
 * Leave the cluster: this node's registrations and heartbeat are removed from Redis and the
 * other nodes told at once (bounded wait of about a second on the event loop), then the
 * connections are closed and the realms detached from the backplane. NULL is ignored.
 */
void backplane_redis_free(struct bp_redis *bp);

#endif
