/*
 * store_redis.h - the redis event store (realm/store.h): Redis Streams and keys on the
 * cluster backplane's Redis, one store every node shares. (No hiredis here: router/core
 * creates the stores; the commands go through a struct store_redis_link.)
 */
#ifndef WAMPD_ROUTER_STORE_REDIS_H
#define WAMPD_ROUTER_STORE_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "realm/store.h"

/*
 * How the store reaches Redis: the backplane's command connection (backplane_redis.c), or
 * a test's. command() sends one command (argv/lens borrowed) and later calls
 * reply(reply_arg, r) (store_redis_on_reply) with the hiredis reply (a redisReply *, NULL
 * when the connection went away), once; false: not sent (offline, or Redis too slow),
 * reply() is not called.
 * prefix: the backplane's key prefix ("wampd:<db>:").
 */
struct store_redis_link {
	bool (*command)(void *ctx, void (*reply)(void *reply_arg, void *r), void *reply_arg,
	                int argc, const char **argv, const size_t *lens);
	void *ctx;
	const char *prefix;
};

/* A redis store for realm `realm` (borrowed name) with limits, not yet linked: until
 * store_redis_link() every write fails (WAMPD_ERR_STORE) and every read answers an error.
 * NULL on allocation failure. */
struct store *store_redis_new(const char *realm, bool durable, const struct store_limits *limits);

/* The link's answer to a command sent with reply_arg (its redisReply *, or NULL). */
void store_redis_on_reply(void *reply_arg, void *reply);

/* Link st (a redis store; anything else is ignored) to Redis through link (copied;
 * NULL: unlinked again, as when the backplane goes away). */
void store_redis_link(struct store *st, const struct store_redis_link *link);

#endif
