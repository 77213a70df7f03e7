/*
 * realm.c - the realm registry and session membership (see realm.h).
 *
 * Realms are few and looked up once per HELLO: a uthash table by name. Sessions of a realm
 * are in a uthash table keyed by their global-scope id; ids are random in [1, 2^53] and a
 * new id is redrawn while it collides with a live session of any realm.
 */
#include "realm/realm.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "realm/meta.h"

void realms_init(struct realms *rs, const struct realm_limits *limits)
{
	memset(rs, 0, sizeof(*rs));
	rs->limits = *limits;
}

static void realm_free(struct realm *r)
{
	broker_destroy(&r->broker);
	dealer_destroy(&r->dealer);
	free(r->name);
	free(r);
}

void realms_destroy(struct realms *rs)
{
	struct realm *r, *tmp;

	HASH_ITER(hh, rs->by_name, r, tmp) {
		HASH_DEL(rs->by_name, r);
		realm_free(r);
	}
}

struct realm *realms_find(struct realms *rs, const char *name)
{
	struct realm *r = NULL;

	HASH_FIND_STR(rs->by_name, name, r);
	return r;
}

struct realm *realms_add(struct realms *rs, const char *name, enum uri_rule rule)
{
	struct realm *r = realms_find(rs, name);

	if (r)
		return r;
	if (!(r = calloc(1, sizeof(*r))) || !(r->name = strdup(name))) {
		free(r);
		return NULL;
	}
	r->uri_rule = rule;
	r->owner = rs;
	broker_init(&r->broker, r);
	dealer_init(&r->dealer, r);
	if (meta_init(r) != WAMPD_OK) {
		realm_free(r);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, rs->by_name, r->name, strlen(r->name), r);
	return r;
}

uint64_t realms_next_id(struct realms *rs)
{
	return ids_next(&rs->last_router_id);
}

struct session *realm_session(struct realm *r, uint64_t id)
{
	struct session *s = NULL;

	HASH_FIND(hh, r->sessions, &id, sizeof(id), s);
	return s;
}

static bool realms_session_id_live(struct realms *rs, uint64_t id)
{
	struct realm *r, *tmp;

	HASH_ITER(hh, rs->by_name, r, tmp)
		if (realm_session(r, id))
			return true;
	return false;
}

enum wampd_err realm_join(struct realm *r, struct session *s)
{
	uint64_t id;

	if (r->nsessions >= r->owner->limits.max_sessions_per_realm)
		return WAMPD_ERR_SESSION_LIMIT;
	do
		id = ids_global();
	while (realms_session_id_live(r->owner, id));

	s->id = id;
	s->realm = r;
	s->state = SESSION_ESTABLISHED;
	s->joined_at_ms = clock_wall_ms();
	HASH_ADD(hh, r->sessions, id, sizeof(s->id), s);
	r->nsessions++;
	meta_session_join(r, s);
	wlog_info("realm", "join session=%llu realm=%s authid=%s authrole=%s peer=%s",
	          (unsigned long long)s->id, r->name, s->authid ? s->authid : "",
	          s->authrole ? s->authrole : "", s->ops->address(s->peer));
	return WAMPD_OK;
}

void realm_leave(struct session *s)
{
	struct realm *r = s->realm;

	if (!r)
		return;
	broker_detach(&r->broker, s);
	dealer_detach(&r->dealer, s);
	meta_session_testaments(r, s); /* after detaching: s does not receive its own */
	HASH_DEL(r->sessions, s);
	r->nsessions--;
	s->realm = NULL;
	if (s->state == SESSION_ESTABLISHED || s->state == SESSION_SHUTTING_DOWN)
		s->state = SESSION_OPEN;
	meta_session_leave(r, s);
	wlog_info("realm", "leave session=%llu realm=%s peer=%s", (unsigned long long)s->id,
	          r->name, s->ops->address(s->peer));
}
