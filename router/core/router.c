/*
 * router.c - router setup and teardown (configuration -> realms).
 */
#include "router/core/router.h"

#include <string.h>

#include "common/log.h"
#include "realm/replay.h"
#include "router/core/protocol.h"

static bool router_realm_store(struct router *rt, struct realm *r, const struct realm_config *rc,
                               const struct store_type *types)
{
	if (!rc->store.type || !strcmp(rc->store.type, "memory"))
		return true; /* the one the realm has */
	for (; types && types->type; types++)
		if (!strcmp(types->type, rc->store.type)) {
			struct store *st = types->open(rt, r, rc);

			if (!st)
				return false;
			broker_set_store(&r->broker, st);
			return true;
		}
	wlog_error("store", "realm=%s: store type %s is not linked into this program", r->name,
	           rc->store.type);
	return false;
}

bool router_init(struct router *rt, struct config *cfg, const struct store_type *stores)
{
	memset(rt, 0, sizeof(*rt));
	ids_gen_init(&rt->ids);
	realms_init(&rt->realms, &cfg->realm_limits, &rt->metrics, &rt->ids);
	rt->realms.auto_create = cfg->auto_create_realms;
	for (size_t i = 0; i < cfg->nrealms; i++) {
		const struct realm_config *rc = &cfg->realms[i];
		struct realm *r = realms_add(&rt->realms, rc->name, rc->uri_rule);

		if (!r)
			goto fail;
		r->call_timeout_ms = rc->call_timeout_ms;
		r->resume.window_s = rc->resume_window_s;
		r->resume.max_bytes = (size_t)rc->resume_max_bytes;
		r->resume.max_detached_bytes = rc->resume_max_detached_bytes
		                                   ? (size_t)rc->resume_max_detached_bytes
		                                   : REPLAY_MAX_DETACHED_BYTES_DEFAULT;
		r->broker.store->limits = (struct store_limits){rc->max_retained,
		                                                rc->max_retained_bytes,
		                                                rc->max_history_bytes};
		if (!router_realm_store(rt, r, rc, stores))
			goto fail;
		/* the realm takes the roles over */
		r->authz = cfg->realms[i].authz;
		memset(&cfg->realms[i].authz, 0, sizeof(cfg->realms[i].authz));
		for (size_t j = 0; j < rc->nhistory; j++)
			if (broker_add_history_config(&r->broker, &rc->history[j]) != WAMPD_OK)
				goto fail;
	}
	rt->codec_limits.max_depth = cfg->max_depth;
	iplimit_init(&rt->ipl, cfg->max_sessions_per_ip, cfg->max_auth_failures_per_ip,
	             cfg->auth_failure_window_s * 1000u);
	if (!proto_init(rt))
		goto fail;
	rt->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	return true;
fail:
	realms_destroy(&rt->realms);
	iplimit_destroy(&rt->ipl);
	json_decref(rt->welcome_roles);
	rt->welcome_roles = NULL;
	return false;
}

void router_flush_stores(struct router *rt)
{
	struct realm *r, *tmp;

	HASH_ITER(hh, rt->realms.by_name, r, tmp)
		if (r->broker.store->ops->flush)
			r->broker.store->ops->flush(r->broker.store);
}

void router_destroy(struct router *rt)
{
	realms_destroy(&rt->realms);
	iplimit_destroy(&rt->ipl);
	json_decref(rt->welcome_roles);
	config_free(&rt->cfg);
}
