/*
 * http_fixture.c - see http_fixture.h. The configuration text goes through a temporary
 * file because config_load_file is the loader wampd uses (its defaults and checks apply).
 */
#include "http_fixture.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "router/core/conn.h"
#include "router/core/protocol.h"

void hf_open(struct http_fixture *f, const char *config_json)
{
	char path[] = "/tmp/wampd-http-fixture-XXXXXX", err[512];
	struct config cfg;
	int fd = mkstemp(path);
	size_t n = strlen(config_json);
	bool ok;

	memset(f, 0, sizeof(*f));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, config_json, n), (ssize_t)n);
	close(fd);
	ok = config_load_file(path, &cfg, err, sizeof(err));
	unlink(path);
	if (!ok)
		fail_msg("configuration refused: %s", err);
	assert_true(cfg.nlisteners >= 1);
	assert_true(router_init(&f->rt, &cfg, NULL));
	/* as wampd does: the configuration's levels */
	wlog_config_set(&f->log, &f->rt.cfg.log_levels, f->rt.cfg.log_format, NULL);
	wlog_use(&f->log);
	fake_timers_install(&f->rt.realms);
	f->routes = httpsvc_listener_new(&f->rt, &f->rt.cfg.listeners[0], err, sizeof(err));
	if (!f->routes)
		fail_msg("services refused: %s", err);
}

void hf_close(struct http_fixture *f)
{
	conn_abandon_all(&f->rt);
	httpsvc_abandon(&f->rt);
	fake_http_drop_all();
	for (int i = 0; i < f->np; i++) {
		proto_transport_closed(&f->rt, f->p[i].s);
		fake_peer_destroy(&f->p[i]);
	}
	f->np = 0;
	httpsvc_free_all(&f->rt);
	assert_int_equal(fake_timers_pending(), 0);
	assert_null(f->rt.conns);
	assert_int_equal(f->rt.nconns, 0);
	router_destroy(&f->rt);
	wlog_use(NULL);
}

int hf_setup(void **state, const char *config_json)
{
	struct http_fixture *f = malloc(sizeof(*f));

	assert_non_null(f);
	hf_open(f, config_json);
	*state = f;
	return 0;
}

int hf_teardown(void **state)
{
	struct http_fixture *f = *state;

	hf_close(f);
	free(f);
	*state = NULL;
	return 0;
}

struct http_conn *hf_request(struct http_fixture *f, const char *method, const char *target,
                             const char *headers, const char *body)
{
	struct http_conn *c = fake_http_new(&f->rt, NULL);

	fake_http_request(c, f->routes, method, target, headers, body, body ? strlen(body) : 0);
	return c;
}

int hf_join(struct http_fixture *f, const char *realm)
{
	int who = f->np;
	struct wamp_msg m;

	assert_true(who < HF_PEERS_MAX);
	fake_peer_session(&f->p[who], WAMP_SER_JSON, &f->rt.metrics);
	f->np++;
	hf_send(f, who, "[1, \"%s\", {\"roles\": {\"publisher\": {}, \"subscriber\": {}, "
	                "\"caller\": {}, \"callee\": {\"features\": {\"call_canceling\": true}}}}]",
	        realm);
	hf_expect(f, who, WAMP_WELCOME, &m);
	wamp_msg_clear(&m);
	return who;
}

void hf_send(struct http_fixture *f, int who, const char *fmt, ...)
{
	char json[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(json));
	proto_receive(&f->rt, f->p[who].s, (const uint8_t *)json, (size_t)n);
}

void hf_expect(struct http_fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	if (!fake_peer_next(&f->p[who], m))
		fail_msg("client %d got nothing, expected %s", who, wamp_type_name(type));
	if (m->type != type)
		fail_msg("client %d got %s %s, expected %s", who, wamp_type_name(m->type),
		         m->uri ? m->uri : "", wamp_type_name(type));
}
