/*
 * ws.h - the WebSocket transport (libwebsockets 4.1): listeners, per-connection state,
 * reassembly, the bounded send queue, and the event loop that drives them.
 */
#ifndef WAMPD_ROUTER_WS_H
#define WAMPD_ROUTER_WS_H

#include <stdbool.h>
#include <stddef.h>

#include "router/router.h"

struct ws_server;
struct lws_context;

/*
 * Create the lws context and one listener per rt->cfg.listeners entry. Prints one line
 * "listening ws://HOST:PORT/PATH" per listener to stdout once it listens (tests read it).
 * Returns NULL (after logging why) if any listener cannot be set up.
 */
struct ws_server *ws_server_new(struct router *rt);

/*
 * Serve until *stop becomes true (set from a signal handler), then shut down gracefully:
 * GOODBYE wamp.close.system_shutdown to every session, wait up to grace_ms for the
 * replies and flushes, then close what is left. Returns 0, or -1 on an event loop error.
 */
int ws_server_run(struct ws_server *ws, volatile int *stop, int grace_ms);

/* The lws context (the admin listener adds its vhost to it). Borrowed. */
struct lws_context *ws_server_context(struct ws_server *ws);

/* Destroy the context (closing any connection left) and free the server. */
void ws_server_free(struct ws_server *ws);

#endif
