/*
 * loop.h - the event loop: the libwebsockets context with every listener on it
 * (router/net/listen.h), realm/'s timers, and the graceful shutdown. The only place that runs
 * lws_service().
 */
#ifndef WAMPD_ROUTER_LOOP_H
#define WAMPD_ROUTER_LOOP_H

#include <stdbool.h>

#include "router/core/router.h"

struct loop;
struct lws_context;

/*
 * Create the lws context and one set of vhosts per rt->cfg.listeners entry; realm/'s timers
 * run on it from now on. Prints one line per URL served to stdout once it listens (tests
 * read it). Returns NULL (after logging why) if any listener cannot be set up.
 */
struct loop *loop_new(struct router *rt);

/*
 * Serve until *stop becomes true (set from a signal handler), then shut down gracefully:
 * GOODBYE wamp.close.system_shutdown to every session, wait up to grace_ms for the
 * replies and flushes, then return. Returns 0, or -1 on an event loop error.
 */
int loop_run(struct loop *lp, volatile int *stop, int grace_ms);

/* The lws context (the admin listener and the backplane add their vhosts to it). Borrowed. */
struct lws_context *loop_context(struct loop *lp);

/* Destroy the context (closing any connection left) and free the loop. NULL: nothing. */
void loop_free(struct loop *lp);

/*
 * Watch descriptor fd (borrowed: the caller keeps and closes it, after loop_unwatch) for
 * input: fn(arg) runs when it is readable or hung up (fn reads it without blocking until
 * EAGAIN or end of file). For pipes from child processes and the SIGCHLD self-pipe
 * (router/workers/). Returns NULL (logged) on failure.
 */
struct loop_watch;
struct loop_watch *loop_watch_fd(struct loop *lp, int fd, void (*fn)(void *arg), void *arg);

/* Stop watching (fn is not called again) and free w. NULL: nothing. */
void loop_unwatch(struct loop_watch *w);

/*
 * Work to finish when the router stops (the worker processes): loop_run calls begin(arg)
 * once the router refuses new sessions, then serves until busy(arg) is false too (but
 * no longer than max_ms from then). One hook per loop; a second call replaces it.
 */
void loop_on_stop(struct loop *lp, void (*begin)(void *arg), bool (*busy)(void *arg),
                  void *arg, int max_ms);

#endif
