/*
 * router.h - the router: configuration, realms, connections, and the state its event loop
 * mutates (counters, id generator, per-address limits) shared by the transports and the
 * session state machine. One per event loop (today one per process), single-threaded:
 * nothing it mutates is global, so a second loop would be a second router (see the
 * README's "One loop per core: what is ready").
 */
#ifndef WAMPD_ROUTER_ROUTER_H
#define WAMPD_ROUTER_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/ids.h"
#include "common/metrics.h"
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
	struct metrics metrics;  /* this loop's counters: realms and sessions point here; the
	                            admin exposition sums every loop's (metrics_add) */
	struct ids_gen ids;      /* this loop's id generator: realms and authentication draw
	                            from it */
	struct workers *workers; /* the supervised processes (router/workers/), or NULL;
	                            borrowed (main.c owns them), for the status page */
};

/* An event store backend beyond the memory store every realm starts with
 * (realms[].store.type): open makes realm r's, NULL (logged) on failure. */
struct store_type {
	const char *type;
	struct store *(*open)(struct router *rt, struct realm *r, const struct realm_config *rc);
};

/*
 * Set up realms from cfg (taken over by the router: freed by router_destroy), each with
 * its event store (realms[].store), the backends being `stores` (a table ended by a row
 * with type NULL; NULL: memory only, as in unit tests; wampd's is in main.c, so that the
 * core links no storage engine). Returns false on allocation failure or a store that
 * cannot be opened or is not in `stores` (logged; cfg is then still owned by the caller).
 */
bool router_init(struct router *rt, struct config *cfg, const struct store_type *stores);

/* Commit what the realms' stores hold back for the end of a loop iteration (lmdb), while
 * the event loop's timers still exist: before loop_free. */
void router_flush_stores(struct router *rt);

/* Free realms and configuration. Every session must be gone. */
void router_destroy(struct router *rt);

#endif
