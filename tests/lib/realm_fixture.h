/*
 * realm_fixture.h - one way for unit tests of realm/ to build a realm set with sessions.
 *
 * A fixture is a realm set (struct realms) holding one realm, "realm1", and up to
 * RF_PEERS_MAX sessions joined to it, each on a fake transport (fake_peer.h). What differs
 * from one test file to the next is data, written as a struct rf_spec: the realm limits,
 * whether the fake clock (fake_timers.h) drives the realm's timers, and per session its
 * serializer, identity and announced features. The helpers below feed JSON literals to
 * the broker and the dealer as a given session, check what a session received, and give
 * roles static permissions; they fail the running cmocka test on anything unexpected.
 *
 * A test file that needs nothing else uses rf_setup/rf_teardown as its cmocka setup and
 * teardown; a test with several realm sets (the backplane's in-process cluster) calls
 * rf_open/rf_leave_all/rf_close itself, with spec.attach to hook each set up before its
 * realm exists.
 */
#ifndef WAMPD_TESTS_REALM_FIXTURE_H
#define WAMPD_TESTS_REALM_FIXTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/ids.h"
#include "common/metrics.h"
#include "realm/realm.h"
#include "tests/lib/fake_peer.h"

#define RF_PEERS_MAX 8

struct realm_fixture;

/* One session of the fixture. Strings are copied; NULL leaves the field unset. */
struct rf_peer {
	enum wamp_ser ser;  /* 0: JSON */
	const char *authid, *authrole, *authmethod, *authprovider;
	uint32_t features;  /* enum session_feature bits */
};

struct rf_spec {
	struct realm_limits limits;          /* RF_SPEC() starts from REALM_LIMITS_DEFAULT */
	bool timers;                         /* fake timers; rf_teardown checks none is left */
	int npeers;                          /* sessions p[0..npeers-1], joined in that order */
	struct rf_peer peers[RF_PEERS_MAX];
	/* called after the realm set is initialised and before realm1 is added (and any
	 * session joins), e.g. to attach a backplane; NULL: nothing */
	void (*attach)(struct realm_fixture *f, void *arg);
	void *attach_arg;
};

/* A spec with the default limits, no timers and n JSON sessions without identity. */
#define RF_SPEC(n) ((struct rf_spec){.limits = REALM_LIMITS_DEFAULT, .npeers = (n)})

struct realm_fixture {
	struct realms realms;
	struct realm *r;                     /* "realm1" */
	struct fake_peer p[RF_PEERS_MAX];
	int n;                               /* sessions in p */
	bool timers;
	struct metrics metrics;              /* the registry's and the sessions' counters */
	struct ids_gen ids;                  /* the registry's id generator */
};

/* Build the fixture in *f (overwritten) as spec says; fails the test if anything is
 * refused. The spec is not kept. */
void rf_open(struct realm_fixture *f, const struct rf_spec *spec);

/* Every session of f that is still in a realm leaves it (meta events, testaments, calls
 * canceled: as when its transport closes). */
void rf_leave_all(struct realm_fixture *f);

/* Free the sessions (which must have left) and the realm set. */
void rf_close(struct realm_fixture *f);

/* cmocka setup: *state becomes a new fixture built from spec (freed by rf_teardown). */
int rf_setup(void **state, const struct rf_spec *spec);

/* cmocka teardown of rf_setup: leave, close, check that no fake timer is left, free. */
int rf_teardown(void **state);

typedef enum wampd_err (*rf_broker_fn)(struct broker *, struct session *, const struct wamp_msg *);
typedef enum wampd_err (*rf_dealer_fn)(struct dealer *, struct session *, const struct wamp_msg *);

/* A handler of realm1's broker or of its dealer (exactly one is set). */
struct rf_handler {
	rf_broker_fn broker;
	rf_dealer_fn dealer;
};

/* Feed the message written as JSON (a printf format, at most 1 KiB once formatted) to the
 * handler h as session p[who]; returns what the handler returns. The message is the
 * handler's only for the call. Use it as rf_broker(f, who, broker_publish, fmt, ...) or
 * rf_dealer(f, who, dealer_call, fmt, ...). */
enum wampd_err rf_feed(struct realm_fixture *f, int who, struct rf_handler h, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
enum wampd_err rf_vfeed(struct realm_fixture *f, int who, struct rf_handler h, const char *fmt,
                        va_list ap) __attribute__((format(printf, 4, 0)));

#define rf_broker(f, who, h, ...) rf_feed(f, who, (struct rf_handler){.broker = (h)}, __VA_ARGS__)
#define rf_dealer(f, who, h, ...) rf_feed(f, who, (struct rf_handler){.dealer = (h)}, __VA_ARGS__)

/* The next message p[who] received must be of type `type`; it is decoded into *m (the
 * caller clears it). Fails the test, naming what came instead, otherwise. */
void rf_expect(struct realm_fixture *f, int who, enum wamp_type type, struct wamp_msg *m);

/* SUBSCRIBE (options: a JSON object literal) as p[who], which must be answered by
 * SUBSCRIBED at once; returns the subscription id. */
uint64_t rf_subscribe(struct realm_fixture *f, int who, const char *options, const char *topic);

/* REGISTER alike; returns the registration id. */
uint64_t rf_register(struct realm_fixture *f, int who, const char *options, const char *proc);

/* Mark everything every session received as seen. */
void rf_drain(struct realm_fixture *f);

/* Give role `role` of realm1 (created if missing) one more static permission on (uri, m)
 * allowing the actions named by the letters of `actions`: c(all), r(egister), p(ublish),
 * s(ubscribe); "" allows nothing (a deny). Permissions keep the order they are added in. */
void rf_allow(struct realm_fixture *f, const char *role, const char *uri, enum authz_match m,
              const char *actions);

/* Session p[who] now has the role `role` (copied). */
void rf_set_role(struct realm_fixture *f, int who, const char *role);

#endif
