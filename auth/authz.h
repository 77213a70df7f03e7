/*
 * authz.h - the authorizer: may a session of role R do action A on URI U?
 *
 * Roles are configured per realm. A static role lists permissions (a URI with a match
 * policy and the actions it allows, plus disclosure rules); the best matching permission
 * decides (exact, then longest prefix, then wildcard, as WAMP matches registrations), and
 * no matching permission means deny. A dynamic role names an authorizer procedure that the
 * router calls; its answers can be cached per session, URI and action (struct authz_cache)
 * for a configurable time, and the cache of a session dies with it. A realm without any
 * role configured allows everything to everyone (the embedded default).
 */
#ifndef WAMPD_AUTH_AUTHZ_H
#define WAMPD_AUTH_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

enum authz_action { AUTHZ_CALL = 0, AUTHZ_REGISTER, AUTHZ_PUBLISH, AUTHZ_SUBSCRIBE, AUTHZ__COUNT };

enum authz_match { AUTHZ_EXACT = 0, AUTHZ_PREFIX, AUTHZ_WILDCARD };

struct authz_permission {
	char *uri;
	size_t uri_len;
	enum authz_match match;
	bool allow[AUTHZ__COUNT];
	bool disclose_caller;
	bool disclose_publisher;
	bool has_trustlevel;       /* call_trustlevels: calls it allows get this trust level */
	uint32_t trustlevel;
};

struct authz_role {
	char *name;
	struct authz_permission *perms;
	size_t nperms;
	char *authorizer;          /* dynamic: procedure URI (NULL: static role) */
	char *authorizer_role;     /* only sessions of this authrole may register the authorizer
	                              (NULL: see router/procguard.c) */
	UT_hash_handle hh;
};

struct authz_config {
	struct authz_role *roles;  /* by name; NULL: no roles configured (allow all) */
	uint32_t cache_ttl_ms;     /* dynamic answers are cached this long (0: no cache) */
};

enum authz_result { AUTHZ_ALLOW, AUTHZ_DENY, AUTHZ_ASK };

struct authz_decision {
	bool allow;
	bool disclose;             /* disclose the caller/publisher to the other side */
	int64_t trustlevel;        /* calls: INVOCATION.Details.trustlevel (< 0: none) */
};

/* "call", "register", "publish", "subscribe"; and back (-1 unknown). */
const char *authz_action_name(enum authz_action a);
int authz_action_from_name(const char *name);

/*
 * Decide for a session of role `authrole`. Static roles (and realms without roles) answer
 * AUTHZ_ALLOW/AUTHZ_DENY with *out filled; a dynamic role answers AUTHZ_ASK and the caller
 * asks the role's authorizer (then feeds the answer to authz_parse_answer). An unknown role
 * is denied.
 */
enum authz_result authz_check(const struct authz_config *cfg, const char *authrole,
                              const char *uri, size_t uri_len, enum authz_action action,
                              struct authz_decision *out, const struct authz_role **ask);

/* Interpret a dynamic authorizer's answer: true/false, or {"allow": bool, "disclose": bool,
 * "cache": bool, "trustlevel": int >= 0}. *cacheable says whether it may be cached. */
void authz_parse_answer(const json_t *answer, struct authz_decision *out, bool *cacheable);

/* Release a config's roles. */
void authz_config_clear(struct authz_config *cfg);

/* ---- cache of dynamic answers, one per session ---- */

struct authz_cache_entry;

struct authz_cache {
	struct authz_cache_entry *by_key;  /* hash by (action, uri) */
	struct authz_cache_entry *oldest;  /* insertion order, for eviction */
	struct authz_cache_entry *newest;
	uint32_t count;
};

#define AUTHZ_CACHE_MAX 1024 /* entries per session; the oldest goes first */

/* A cached decision that has not expired at now_ms, or false. */
bool authz_cache_get(struct authz_cache *c, const char *uri, size_t uri_len,
                     enum authz_action action, int64_t now_ms, struct authz_decision *out);

/* Remember a decision until now_ms + ttl_ms. Silently does nothing on NOMEM. */
void authz_cache_put(struct authz_cache *c, const char *uri, size_t uri_len,
                     enum authz_action action, int64_t expires_ms,
                     const struct authz_decision *d);

/* Forget everything (session leaving). */
void authz_cache_clear(struct authz_cache *c);

#endif
