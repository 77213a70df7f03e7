/*
 * http_fixture.h - a router with the HTTP services of one listener, for unit tests of the
 * services (router/http/: bridge, SSE, long-poll) on fake connections (fake_http.h).
 *
 * The fixture is built from a configuration written as JSON text (wampd's own format, read
 * by the real loader, so the services get the configuration wampd would give them): a
 * router with its realms, the fake clock (fake_timers.h) as its loop's timers, and the
 * routes of listeners[0] (httpsvc_listener_new). WAMP clients of the router (a publisher
 * for an SSE stream, a callee for the bridge) are fake_peer sessions joined through the
 * state machine with HELLO (hf_join), as a WebSocket client's would be.
 *
 * The teardown runs in loop_free's order: every connection abandoned, the fake HTTP
 * connections dropped (their `gone` runs), the clients' transports closed, the services
 * freed; then no fake timer may be left (a service that forgets one fails the test).
 */
#ifndef WAMPD_TESTS_HTTP_FIXTURE_H
#define WAMPD_TESTS_HTTP_FIXTURE_H

#include <stdarg.h>

#include "common/log.h"
#include "router/core/router.h"
#include "router/http/httpsvc.h"
#include "tests/lib/fake_http.h"
#include "tests/lib/fake_peer.h"
#include "tests/lib/fake_timers.h"

#define HF_PEERS_MAX 4

struct http_fixture {
	struct router rt;
	struct http_routes *routes;        /* listeners[0]'s */
	struct fake_peer p[HF_PEERS_MAX];  /* WAMP clients (hf_join) */
	int np;
	struct wlog_config log;            /* the configuration's, installed while open */
};

/* Build *f from the configuration text config_json; fails the test if it is refused. */
void hf_open(struct http_fixture *f, const char *config_json);

/* Tear *f down (see above); fails the test if a fake timer is left. */
void hf_close(struct http_fixture *f);

/* cmocka setup/teardown around hf_open/hf_close (*state: a malloc'd fixture). */
int hf_setup(void **state, const char *config_json);
int hf_teardown(void **state);

/* A request on a new fake connection (body: a string, NULL for none); returns it after
 * the handler ran. */
struct http_conn *hf_request(struct http_fixture *f, const char *method, const char *target,
                             const char *headers, const char *body);

/* A new JSON client joined to realm (HELLO with every role, anonymous): its index in f->p.
 * Fails the test unless WELCOME comes. */
int hf_join(struct http_fixture *f, const char *realm);

/* The message written as JSON (a printf format; at most 2 KiB formatted) from client who,
 * through the state machine. */
void hf_send(struct http_fixture *f, int who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The next message client who received must be of type `type` (decoded into *m; the
 * caller clears it). */
void hf_expect(struct http_fixture *f, int who, enum wamp_type type, struct wamp_msg *m);

#endif
