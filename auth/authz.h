/*
 * authz.h - the authorizer: may a session of role R do action A on URI U?
 *
 * Roles are configured per realm. A static role lists permissions (a URI with a match
 * policy and the actions it allows, plus disclosure rules); the best matching permission
 * decides (exact, then longest prefix, then wildcard, as WAMP matches registrations), and
 * no matching permission means deny. A dynamic role names an authorizer procedure that the
 * router calls; its answers can be cached per session, action, match policy and URI
 * (struct authz_cache) for a configurable time, and the cache of a session dies with it. A
 * realm without any role configured allows everything to everyone (the embedded default).
 *
 * What is authorized is a request (struct authz_request): an action on a URI *with the
 * request's match policy*. A pattern request (SUBSCRIBE/REGISTER with match prefix or
 * wildcard) reaches every URI its pattern matches, so it is allowed only if every one of
 * them would be allowed on its own: a permission must cover the whole pattern, and no more
 * specific permission that denies the action may match any URI inside it (see
 * authz_role_decide). Example: a role whose only permission is exact `com.pub.news` may
 * subscribe to `com.pub.news` but not to prefix `com.pub.news` (that reaches
 * `com.pub.news.internal` and `com.pub.newsroom.salaries`).
 */
#ifndef WAMPD_AUTH_AUTHZ_H
#define WAMPD_AUTH_AUTHZ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

enum authz_action { AUTHZ_CALL = 0, AUTHZ_REGISTER, AUTHZ_PUBLISH, AUTHZ_SUBSCRIBE, AUTHZ__COUNT };

/* the same values as realm/match.h's enum match_policy (realm.c asserts it) */
enum authz_match { AUTHZ_EXACT = 0, AUTHZ_PREFIX, AUTHZ_WILDCARD, AUTHZ_MATCH__COUNT };

/* What is asked: `action` on the URI pattern (uri, uri_len, match); CALL and PUBLISH are
 * always AUTHZ_EXACT. The strings are borrowed for the duration of a call. */
struct authz_request {
	const char *uri;
	size_t uri_len;
	enum authz_match match;
	enum authz_action action;
};

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
	                              (NULL: see router/core/procguard.c) */
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

/* "exact", "prefix", "wildcard" (what an authorizer sees as options.match). */
const char *authz_match_name(enum authz_match m);

/*
 * URI pattern algebra (pure). A pattern is (uri, len, match); an exact pattern matches
 * itself, a prefix pattern every URI starting with its string (prefixes are on the string,
 * as in realm/match.h: `com.a` matches `com.ab`), a wildcard pattern every URI with as many
 * components whose non-empty components are equal (an empty one matches any component).
 *
 * authz_pattern_matches: does the pattern match the concrete uri?
 * authz_pattern_covers: is every URI that `inner` matches also matched by `outer`? Exact
 *   (never claims a cover that does not hold): a prefix pattern is covered only by a prefix
 *   of its string; a wildcard pattern by a prefix of its literal part before its first
 *   empty component, or by a wildcard as wide or wider in every component.
 * authz_pattern_intersects: may some URI be matched by both? Conservative: it may answer
 *   true for patterns whose only common matches are not valid URIs (say, with an empty
 *   component), never false for patterns that share a valid URI.
 */
bool authz_pattern_matches(const char *pat, size_t plen, enum authz_match m, const char *uri,
                           size_t ulen);
bool authz_pattern_covers(const char *outer, size_t olen, enum authz_match om,
                          const char *inner, size_t ilen, enum authz_match im);
bool authz_pattern_intersects(const char *a, size_t alen, enum authz_match am, const char *b,
                              size_t blen, enum authz_match bm);

/*
 * The decision of static role `role` on request `rq` (pure; the role is only read). A
 * request is allowed exactly when
 *   1. some permission covers the request's pattern (authz_pattern_covers); the best of
 *      them by precedence (exact, then longest prefix, then configuration order, as for a
 *      single URI) is the request's permission C, and C allows the action; and
 *   2. no permission that denies the action matches a URI inside the pattern while taking
 *      precedence over C there (an exact one, a longer prefix, a wildcard listed before a
 *      wildcard C): such a URI would be refused on its own, so the pattern that reaches it
 *      is refused too.
 * For an exact request this is the best matching permission's answer. It is conservative
 * where permissions only together cover a pattern (refused: no single one covers it), and
 * where a denying permission is itself overridden inside the pattern by a third one
 * (refused). *out gets C's disclosure and trust level for the action.
 */
bool authz_role_decide(const struct authz_role *role, const struct authz_request *rq,
                       struct authz_decision *out);

/*
 * Decide for a session of role `authrole`. Static roles (and realms without roles) answer
 * AUTHZ_ALLOW/AUTHZ_DENY with *out filled (authz_role_decide); a dynamic role answers
 * AUTHZ_ASK and the caller asks the role's authorizer (then feeds the answer to
 * authz_parse_answer). An unknown role is denied.
 */
enum authz_result authz_check(const struct authz_config *cfg, const char *authrole,
                              const struct authz_request *rq, struct authz_decision *out,
                              const struct authz_role **ask);

/* Interpret a dynamic authorizer's answer: true/false, or {"allow": bool, "disclose": bool,
 * "cache": bool, "trustlevel": int >= 0}. *cacheable says whether it may be cached. */
void authz_parse_answer(const json_t *answer, struct authz_decision *out, bool *cacheable);

/* Release a config's roles. */
void authz_config_clear(struct authz_config *cfg);

/* ---- cache of dynamic answers, one per session ---- */

struct authz_cache_entry;

struct authz_cache {
	struct authz_cache_entry *by_key;  /* hash by (action, match, uri) */
	struct authz_cache_entry *oldest;  /* insertion order, for eviction */
	struct authz_cache_entry *newest;
	uint32_t count;
};

#define AUTHZ_CACHE_MAX 1024 /* entries per session; the oldest goes first */

/* The cached decision on exactly this request (action, match policy and URI) that has
 * not expired at now_ms, or false. An answer for an exact request never serves a pattern
 * request on the same URI, nor the other way round. */
bool authz_cache_get(struct authz_cache *c, const struct authz_request *rq, int64_t now_ms,
                     struct authz_decision *out);

/* Remember a decision on request rq until expires_ms. Silently does nothing on NOMEM. */
void authz_cache_put(struct authz_cache *c, const struct authz_request *rq, int64_t expires_ms,
                     const struct authz_decision *d);

/* Forget everything (session leaving). */
void authz_cache_clear(struct authz_cache *c);

#endif
