/*
 * router.h - the process-wide router: configuration, realms, and counters shared by the
 * transports and the session state machine. One per process; single-threaded.
 */
#ifndef WAMPD_ROUTER_ROUTER_H
#define WAMPD_ROUTER_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "realm/realm.h"
#include "router/config/config.h"
#include "router/core/iplimit.h"
#include "serializers/codec.h"

struct router_stats {
	uint64_t sessions_opened;
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t slow_consumer_closes;
	uint64_t protocol_errors;
};

struct conn;
struct httpsvc;
struct route_table;
struct workers;

struct router {
	struct config cfg;
	struct realms realms;
	struct wamp_codec_limits codec_limits;
	uint32_t nconns;         /* transport connections carrying a session (conn_count) */
	struct conn *conns;      /* every live connection (router/core/conn.h's registry) */
	struct {
		struct httpsvc *services;    /* every HTTP service of every listener (httpsvc.c) */
		struct route_table *tables;  /* every listener's routes */
		bool abandoned;              /* the loop is going away: no more timers */
	} http;
	bool shutting_down;
	struct router_stats stats;
	struct iplimit ipl;      /* per-address connections and failed authentications */
	json_t *welcome_roles;   /* WELCOME.Details.roles, the same for every session (owned) */
	struct workers *workers; /* the supervised processes (router/workers/), or NULL;
	                            borrowed (main.c owns them), for the status page */
};

/*
 * Set up realms from cfg (taken over by the router: freed by router_destroy).
 * Returns false on allocation failure (cfg is then still owned by the caller).
 */
bool router_init(struct router *rt, struct config *cfg);

/* Free realms and configuration. Every session must be gone. */
void router_destroy(struct router *rt);

#endif
