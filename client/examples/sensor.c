/*
 * sensor.c - a device built on libwampc: it publishes a reading to PREFIX.reading every
 * interval and answers PREFIX.get_config, over RawSocket + CBOR with ticket authentication,
 * reconnecting forever (exponential backoff with jitter, capped); readings taken while the
 * router is away wait in the offline queue (16 KiB, oldest dropped first) and go out after
 * the next WELCOME, and get_config is registered again by the library on every new session.
 *
 *   wampc_sensor --url rs://HOST:PORT|unix:PATH --realm R --authid ID [--ticket T]
 *                [--prefix com.example.sensor] [--interval MS] [--readings N]
 *
 * The ticket may also come from $WAMP_TICKET (unseen by ps). --readings N: after N readings
 * (and once the offline queue has been sent) leave (GOODBYE) and exit 0; 0 (the default)
 * runs until SIGTERM or SIGINT, which end it the same way. Session events are printed on
 * stdout ("joined SESSION", "left REASON"), one line each.
 *
 * The loop: wampc_run(c, time until the next reading) lets the library connect, read,
 * write, answer calls and run its timers; then a reading is published whether or not
 * there is a session (the library queues it).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/wampc.h"

struct sensor {
	const char *prefix;
	unsigned interval;
	unsigned long published;
	char topic[256];
	char proc[256];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	if (info->event == WAMPC_JOINED)
		printf("joined %llu\n", (unsigned long long)info->session);
	else if (info->event == WAMPC_LEFT)
		printf("left %s%s\n", info->reason ? info->reason : "",
		       info->reconnecting ? " (reconnecting)" : "");
	else
		printf("%s %s\n", info->event == WAMPC_REVOKED ? "revoked" : "restore-failed",
		       info->uri ? info->uri : "");
	fflush(stdout);
}

/* get_config: kwargs {interval, unit, published, prefix} */
static void get_config(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	struct sensor *s = ud;
	wampc_value *kw = wampc_map();

	wampc_map_set(kw, "interval", wampc_int(s->interval));
	wampc_map_set(kw, "unit", wampc_string("C"));
	wampc_map_set(kw, "published", wampc_int((int64_t)s->published));
	wampc_map_set(kw, "prefix", wampc_string(s->prefix));
	if (!kw || wampc_yield(c, inv->request, false, WAMPC_ARGS(NULL, kw)) != WAMPD_OK)
		wampc_invocation_error(c, inv->request, "wamp.error.internal_error", NULL);
	wampc_value_free(kw);
}

/* One reading: [seq, celsius], {unit} */
static void publish_reading(wampc *c, struct sensor *s)
{
	wampc_value *args = wampc_array(), *kw = wampc_map();
	enum wampd_err err;

	wampc_array_append(args, wampc_int((int64_t)s->published + 1));
	wampc_array_append(args, wampc_float(20.0 + (double)(s->published % 10) / 2));
	wampc_map_set(kw, "unit", wampc_string("C"));
	err = wampc_publish(c, s->topic, NULL, WAMPC_ARGS(args, kw), NULL, NULL, NULL);
	if (err == WAMPD_OK)
		s->published++;
	else
		fprintf(stderr, "reading not published: %s\n", wampd_err_str(err));
	wampc_value_free(args);
	wampc_value_free(kw);
}

int main(int argc, char **argv)
{
	struct sensor s = {.prefix = "com.example.sensor", .interval = 1000};
	struct wampc_config cfg = {
		.realm = "realm1", .serializer = WAMPC_CBOR, .authmethods = WAMPC_AUTH_TICKET,
		.ticket = getenv("WAMP_TICKET"), .reconnect = true, .retry_initial = 200,
		.retry_max = 10000, .offline_queue_bytes = 16384, .offline_drop = WAMPC_DROP_OLDEST,
		.roles = WAMPC_ROLE_PUBLISHER | WAMPC_ROLE_CALLEE, /* all it does: a smaller HELLO */
		.on_session = on_session, .ud = &s};
	unsigned long readings = 0;
	enum wampd_err err;
	int64_t next;
	wampc *c;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--url"))
			cfg.url = argv[i + 1];
		else if (!strcmp(argv[i], "--realm"))
			cfg.realm = argv[i + 1];
		else if (!strcmp(argv[i], "--authid"))
			cfg.authid = argv[i + 1];
		else if (!strcmp(argv[i], "--ticket"))
			cfg.ticket = argv[i + 1];
		else if (!strcmp(argv[i], "--prefix"))
			s.prefix = argv[i + 1];
		else if (!strcmp(argv[i], "--interval"))
			s.interval = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--readings"))
			readings = strtoul(argv[i + 1], NULL, 10);
		else
			goto usage;
	}
	if (!cfg.url || !cfg.ticket || !s.interval)
		goto usage;
	snprintf(s.topic, sizeof(s.topic), "%s.reading", s.prefix);
	snprintf(s.proc, sizeof(s.proc), "%s.get_config", s.prefix);
	if (!(c = wampc_new(&cfg, &err))) {
		fprintf(stderr, "wampc_sensor: %s\n", wampd_err_str(err));
		return 2;
	}
	if ((err = wampc_register(c, s.proc, NULL, get_config, &s, NULL, NULL, NULL)) != WAMPD_OK) {
		fprintf(stderr, "wampc_sensor: register: %s\n", wampd_err_str(err));
		wampc_free(c);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	next = now_ms() + s.interval;
	while ((!readings || s.published < readings) && !stopping) {
		int64_t wait = next - now_ms();

		if (wait > 0 && wampc_run(c, (int)wait) != WAMPD_OK)
			break;
		publish_reading(c, &s);
		next += s.interval;
	}
	/* readings still in the offline queue go out first (up to a minute), then GOODBYE */
	for (int i = 0; i < 600 && !stopping; i++) {
		struct wampc_stats st;

		wampc_get_stats(c, &st);
		if (wampc_joined(c) && !st.offline_bytes)
			break;
		wampc_run(c, 100);
	}
	wampc_leave(c, NULL); /* GOODBYE after what is queued, then stop */
	wampc_run(c, 5000);
	wampc_free(c);
	return 0;
usage:
	fprintf(stderr, "usage: wampc_sensor --url rs://HOST:PORT|unix:PATH --realm R --authid ID "
	                "[--ticket T] [--prefix P] [--interval MS] [--readings N]\n");
	return 2;
}
