/*
 * listen.h - the listeners: for each configured listener (router/config/config.h) the
 * libwebsockets vhosts that accept its connections (listen.c explains which), each
 * carrying its struct listener as the vhost's user, so that every connection is served
 * with exactly its own listener's path, serializers, authentication, TLS and services.
 */
#ifndef WAMPD_ROUTER_LISTEN_H
#define WAMPD_ROUTER_LISTEN_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

#include "router/net/front.h"
#include "router/core/router.h"

struct listener {
	struct front_target front;       /* the front vhost's user: must stay first */
	struct router *rt;
	const struct listener_config *cfg;
	struct listener *owner;          /* the first listener on this one's port (config's
	                                    port_owner): its socket serves this one; itself
	                                    when it is the first */
	struct lws_protocols *protocols; /* WebSocket vhost's, terminated array, owned */
	struct lws_protocols front_protocols[2];
	struct lws_vhost *vhost;         /* WebSocket vhost: its own (no listener of its own),
	                                    or over TLS its port's (the owner's) */
	struct lws_vhost *front_vhost;   /* the listening socket (front.c), owners only */
	struct reuseport *reuseport;     /* its listener when shared (SO_REUSEPORT), or NULL */
	lws_retry_bo_t retry;            /* its WebSocket pings (lws keeps the pointer) */
	int listen_port;                 /* the port its connections arrive on, once listening */
	char front_name[FRONT_VHOST_NAME_MAX]; /* the listening vhost's name when it is not the
	                                          WebSocket vhost (lws keeps the pointer) */
};

struct listeners {
	struct listener *l; /* one per rt->cfg.listeners entry (owned) */
	size_t n;
};

/*
 * Create every listener's vhosts on ctx. Prints one line per URL served ("listening
 * ws://HOST:PORT/PATH", rs://, wss://, rss://, unix:) to stdout once it listens (tests read
 * them). false (logged why) if any listener cannot be set up; ls must then still be closed
 * (listeners_close), after the context is destroyed.
 */
bool listeners_open(struct listeners *ls, struct router *rt, struct lws_context *ctx);

/* Free what listeners_open made (after the lws context is gone); Unix socket files are
 * removed. */
void listeners_close(struct listeners *ls);

/*
 * The listener that serves a WebSocket upgrade (wsi, its request head parsed) arriving on
 * the WebSocket vhost whose user is l: by the request's path (lws' URI), among the
 * listeners of l's port when the vhost is the port's own (TLS: it listens itself), else
 * (the front door chose l) l when its path is the request's. NULL: no listener serves it.
 */
struct listener *listener_for_upgrade(struct listener *l, struct lws *wsi);

#endif
