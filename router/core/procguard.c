/*
 * procguard.c - who may register the procedures the router itself calls (procguard.h).
 *
 * The router calls a listener's dynamic authenticator (listeners[].auth.<method>.
 * authenticator, in authenticator-realm or else the realm being joined) and a realm's
 * dynamic roles' authorizers (realms[].roles[].authorizer). Whoever registers one of those
 * decides who logs in as whom (and sees every ticket) or what every session of the role may
 * do; while the real service is down, any session allowed to REGISTER the URI could take its
 * place. So a REGISTER whose procedure - or pattern: a prefix or wildcard registration
 * would receive the router's calls too when no exact one exists - covers such a URI needs:
 *
 *   - with a pinned role ("authenticator_role" next to "authenticator", "authorizer_role"
 *     next to "authorizer"): the session's authrole is that role;
 *   - with none pinned: an explicit grant, i.e. the realm has roles and the session's role
 *     is a static one whose permissions allow "register" on that URI. A realm without roles
 *     (everything allowed to everyone) or a dynamic role is not enough: an open realm's
 *     anonymous client must not become the authenticator.
 *
 * The dealer's usual authorization runs afterwards either way. The check walks the
 * listeners' methods and the realm's roles: a handful of entries, on REGISTER only.
 */
#include "router/core/procguard.h"

#include <string.h>

#include "auth/authz.h"
#include "common/log.h"
#include "realm/match.h"
#include "realm/realm.h"

/* May s register `pattern` (which covers the router's procedure `uri`, pinned to `pin` or
 * NULL)? */
static bool procguard_allowed(const struct session *s, const struct realm *r,
                              const struct wamp_msg *msg, enum match_policy policy,
                              const char *pin)
{
	const struct authz_role *role = NULL, *ask = NULL;
	struct authz_decision d;
	/* the whole pattern must be covered (authz_role_decide), as for any REGISTER */
	const struct authz_request rq = {.uri = msg->uri, .uri_len = msg->uri_len,
	                                 .match = (enum authz_match)policy,
	                                 .action = AUTHZ_REGISTER};

	if (!s->authrole)
		return false;
	if (pin)
		return !strcmp(s->authrole, pin);
	if (!r->authz.roles)
		return false;
	HASH_FIND_STR(r->authz.roles, s->authrole, role);
	return role && !role->authorizer &&
	       authz_check(&r->authz, s->authrole, &rq, &d, &ask) == AUTHZ_ALLOW && d.allow;
}

static enum wampd_err procguard_refuse(const struct session *s, const struct realm *r,
                                       const char *what, const char *uri, const char *pin)
{
	wlog_notice("auth", "REGISTER refused session=%llu realm=%s authid=%s authrole=%s: it "
	            "covers %s %s, which only %s%s may register", (unsigned long long)s->id,
	            r->name, s->authid ? s->authid : "", s->authrole ? s->authrole : "", what, uri,
	            pin ? "authrole " : "a role with an explicit register permission",
	            pin ? pin : " (or the one pinned by authenticator_role/authorizer_role)");
	return WAMPD_ERR_NOT_AUTHORIZED;
}

enum wampd_err procguard_register(const struct router *rt, const struct session *s,
                                  const struct wamp_msg *msg)
{
	const struct realm *r = s->realm;
	struct match_item pattern = {.uri = (char *)msg->uri, .uri_len = msg->uri_len};
	const struct authz_role *role, *tmp;

	if (!r || !msg->uri ||
	    !match_policy_parse(wamp_dict_str(msg->dict, "match", NULL), &pattern.policy))
		return WAMPD_OK; /* the dealer refuses it */
	for (size_t i = 0; i < rt->cfg.nlisteners; i++) {
		for (int m = 0; m < AUTH__COUNT; m++) {
			const struct auth_method_config *mc = &rt->cfg.listeners[i].auth.m[m];

			if (!mc->dynamic || !mc->authenticator ||
			    (mc->authenticator_realm && strcmp(mc->authenticator_realm, r->name)) ||
			    !match_item_matches(&pattern, mc->authenticator, strlen(mc->authenticator)))
				continue;
			if (!procguard_allowed(s, r, msg, pattern.policy, mc->authenticator_role))
				return procguard_refuse(s, r, "the authenticator", mc->authenticator,
				                        mc->authenticator_role);
		}
	}
	HASH_ITER(hh, r->authz.roles, role, tmp) {
		if (!role->authorizer ||
		    !match_item_matches(&pattern, role->authorizer, strlen(role->authorizer)))
			continue;
		if (!procguard_allowed(s, r, msg, pattern.policy, role->authorizer_role))
			return procguard_refuse(s, r, "the authorizer", role->authorizer,
			                        role->authorizer_role);
	}
	return WAMPD_OK;
}
