/*
 * realm_fixture.c - see realm_fixture.h.
 */
#include "realm_fixture.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/lib/fake_timers.h"

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

void rf_open(struct realm_fixture *f, const struct rf_spec *spec)
{
	assert_true(spec->npeers >= 0 && spec->npeers <= RF_PEERS_MAX);
	memset(f, 0, sizeof(*f));
	realms_init(&f->realms, &spec->limits, &f->metrics, &f->ids);
	f->timers = spec->timers;
	if (spec->timers)
		fake_timers_install(&f->realms);
	if (spec->attach)
		spec->attach(f, spec->attach_arg);
	f->r = realms_add(&f->realms, "realm1", URI_LOOSE);
	assert_non_null(f->r);
	for (int i = 0; i < spec->npeers; i++) {
		const struct rf_peer *want = &spec->peers[i];
		struct session *s = fake_peer_session(&f->p[i], want->ser, &f->metrics);

		s->authid = dup_or_null(want->authid);
		s->authrole = dup_or_null(want->authrole);
		s->authmethod = dup_or_null(want->authmethod);
		s->authprovider = dup_or_null(want->authprovider);
		s->features = want->features;
		assert_int_equal(realm_join(f->r, s), WAMPD_OK);
		f->n = i + 1;
	}
}

void rf_leave_all(struct realm_fixture *f)
{
	for (int i = 0; i < f->n; i++)
		realm_leave(f->p[i].s);
}

void rf_close(struct realm_fixture *f)
{
	for (int i = 0; i < f->n; i++)
		fake_peer_destroy(&f->p[i]);
	f->n = 0;
	realms_destroy(&f->realms);
}

int rf_setup(void **state, const struct rf_spec *spec)
{
	struct realm_fixture *f = malloc(sizeof(*f));

	assert_non_null(f);
	rf_open(f, spec);
	*state = f;
	return 0;
}

int rf_teardown(void **state)
{
	struct realm_fixture *f = *state;
	bool timers = f->timers;

	rf_leave_all(f);
	rf_close(f);
	free(f);
	*state = NULL;
	if (timers)
		assert_int_equal(fake_timers_pending(), 0);
	return 0;
}

enum wampd_err rf_vfeed(struct realm_fixture *f, int who, struct rf_handler h, const char *fmt,
                        va_list ap)
{
	char json[1024];
	struct wamp_msg m;
	enum wampd_err err;
	int n = vsnprintf(json, sizeof(json), fmt, ap);

	assert_true(n >= 0 && (size_t)n < sizeof(json));
	assert_true(!h.broker != !h.dealer);
	fake_msg(json, &m);
	err = h.broker ? h.broker(&f->r->broker, f->p[who].s, &m)
	               : h.dealer(&f->r->dealer, f->p[who].s, &m);
	wamp_msg_clear(&m);
	return err;
}

enum wampd_err rf_feed(struct realm_fixture *f, int who, struct rf_handler h, const char *fmt, ...)
{
	va_list ap;
	enum wampd_err err;

	va_start(ap, fmt);
	err = rf_vfeed(f, who, h, fmt, ap);
	va_end(ap);
	return err;
}

void rf_expect(struct realm_fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	if (!fake_peer_next(&f->p[who], m))
		fail_msg("peer %d got nothing, expected %s", who, wamp_type_name(type));
	if (m->type != type)
		fail_msg("peer %d got %s %s, expected %s", who, wamp_type_name(m->type),
		         m->uri ? m->uri : "", wamp_type_name(type));
}

/* A SUBSCRIBE or REGISTER (type) as p[who], which must be answered by `reply` at once; the
 * id it answers with. */
static uint64_t make(struct realm_fixture *f, int who, struct rf_handler h, enum wamp_type type,
                     enum wamp_type reply, const char *options, const char *uri)
{
	struct wamp_msg m;
	uint64_t id;

	assert_int_equal(rf_feed(f, who, h, "[%d, 7, %s, \"%s\"]", (int)type, options, uri),
	                 WAMPD_OK);
	rf_expect(f, who, reply, &m);
	assert_int_equal(m.id[0], 7);
	id = m.id[1];
	wamp_msg_clear(&m);
	return id;
}

uint64_t rf_subscribe(struct realm_fixture *f, int who, const char *options, const char *topic)
{
	return make(f, who, (struct rf_handler){.broker = broker_subscribe}, WAMP_SUBSCRIBE,
	            WAMP_SUBSCRIBED, options, topic);
}

uint64_t rf_register(struct realm_fixture *f, int who, const char *options, const char *proc)
{
	return make(f, who, (struct rf_handler){.dealer = dealer_register}, WAMP_REGISTER,
	            WAMP_REGISTERED, options, proc);
}

void rf_drain(struct realm_fixture *f)
{
	for (int i = 0; i < f->n; i++)
		f->p[i].taken = f->p[i].nsent;
}

void rf_allow(struct realm_fixture *f, const char *role, const char *uri, enum authz_match m,
              const char *actions)
{
	static const char letters[AUTHZ__COUNT] = {[AUTHZ_CALL] = 'c', [AUTHZ_REGISTER] = 'r',
	                                           [AUTHZ_PUBLISH] = 'p', [AUTHZ_SUBSCRIBE] = 's'};
	struct authz_config *cfg = &f->r->authz;
	struct authz_role *r = NULL;
	struct authz_permission *p;

	HASH_FIND_STR(cfg->roles, role, r);
	if (!r) {
		r = calloc(1, sizeof(*r));
		assert_non_null(r);
		r->name = dup_or_null(role);
		HASH_ADD_KEYPTR(hh, cfg->roles, r->name, strlen(r->name), r);
	}
	r->perms = realloc(r->perms, (r->nperms + 1) * sizeof(*r->perms));
	assert_non_null(r->perms);
	p = &r->perms[r->nperms++];
	memset(p, 0, sizeof(*p));
	p->uri = dup_or_null(uri);
	p->uri_len = strlen(uri);
	p->match = m;
	for (int a = 0; a < AUTHZ__COUNT; a++)
		p->allow[a] = strchr(actions, letters[a]) != NULL;
}

void rf_set_role(struct realm_fixture *f, int who, const char *role)
{
	struct session *s = f->p[who].s;

	free(s->authrole);
	s->authrole = dup_or_null(role);
}
