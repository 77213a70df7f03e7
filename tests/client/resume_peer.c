/*
 * resume_peer.c - a libwampc program for the resumption tests (test_client_resume.py): one
 * role per process, numbered messages, and a line on stdout for everything the test waits
 * for or checks.
 *
 *   resume_peer --url URL --role sub|pub|callee|caller [--serializer S] [--realm R]
 *               [--topic T] [--count N] [--from F] [--window W] [--size BYTES] [--resumable]
 *               [--retry-ms MS] [--lws] [--ca-file F]
 *
 *   sub     subscribes T; each event carries [seq] (seq 1..N): an event with seq below the
 *           next expected one is a duplicate, above it a gap (lost events). "ready" once
 *           subscribed; "done events=E dups=D gaps=G resumes=R joins=J msgs_out=M bytes_out=B" at
 *           seq N (M and B: the library's counts, ACKs included), then it leaves.
 *   pub     publishes seq 1..N (--from F..N) to T as fast as its send queue takes them, or at most
 *           --rate R a second (padded to BYTES with a string), then leaves:
 *           "done published=N".
 *   callee  registers com.r.echo, which returns its arguments: "ready"; on SIGTERM it
 *           leaves: "done invocations=N joins=J".
 *   caller  calls com.r.echo([i]) for i in 1..N, W at a time: every call must be answered
 *           exactly once, with [i]: "done calls=N answered=A dups=D wrong=X errors=E
 *           joins=J" (errors: calls that ended with an error, e.g. transport_lost).
 * joins: the sessions it joined (WELCOME of a new session; 1 when every lost link was
 * resumed: a resume is a WELCOME with resumed true and the same session id, counted in
 * resumes).
 * Always: "joined ID", "suspended ID", "resumed ID", "left REASON" as the session events
 * come; every role reconnects (backoff from --retry-ms, jitter 10%). Exit 0 after "done".
 * A ws:// URL runs on the libwebsockets adapter (libwampc-ws, its own context:
 * wampc_lws_run), and so does any other with --lws (RawSocket in an lws loop); else the
 * POSIX adapter (wampc_run).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/wampc.h"
#ifdef RESUME_WITH_LWS
#include "client/wampc_lws.h"
#endif

static const char *role = "sub", *topic = "com.r.t";
static int64_t count = 1000, window = 1, size, rate, from = 1;
static char *pad;

/* sub */
static int64_t expected = 1, events, dups, gaps, resumes, joins;
/* pub */
static int64_t published;
/* caller */
static int64_t next_call = 1, in_flight, answered, wrong, errors;
static unsigned char *answers; /* per call: how many answers came */
static bool done;

static bool use_lws;
static volatile sig_atomic_t term;
static int64_t invocations;

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void finish(wampc *c)
{
	done = true;
	wampc_leave(c, NULL);
}

static void on_event(wampc *c, const struct wampc_event *e, void *ud)
{
	wampc_value *a = wampc_payload_args(e->payload, NULL);
	int64_t seq = wampc_value_int(wampc_array_get(a, 0), -1);

	(void)ud;
	wampc_value_free(a);
	events++;
	if (seq < expected) {
		dups++;
		return;
	}
	if (seq > expected)
		gaps += seq - expected;
	expected = seq + 1;
	if (seq >= count && !done) {
		struct wampc_stats st;

		wampc_get_stats(c, &st);
		say("done events=%lld dups=%lld gaps=%lld resumes=%lld joins=%lld msgs_out=%llu "
		    "bytes_out=%llu", (long long)events, (long long)dups, (long long)gaps,
		    (long long)resumes, (long long)joins, (unsigned long long)st.msgs_out,
		    (unsigned long long)st.bytes_out);
		finish(c);
	}
}

static void on_subscribed(wampc *c, const struct wampc_reply *r, void *ud)
{
	(void)c, (void)ud;
	say(r->error ? "failed %s" : "ready", r->error);
}

static void on_invoke(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	(void)ud;
	invocations++;
	wampc_yield(c, inv->request, false, inv->payload);
}

static void call_more(wampc *c);

static void on_result(wampc *c, const struct wampc_reply *r, void *ud)
{
	int64_t i = (int64_t)(intptr_t)ud;
	wampc_value *a = wampc_payload_args(r->payload, NULL);

	if (answers[i]++)
		fprintf(stderr, "resume_peer: call %lld answered again\n", (long long)i);
	if (r->error) {
		errors++;
		fprintf(stderr, "resume_peer: call %lld: %s\n", (long long)i, r->error);
	} else if (wampc_value_int(wampc_array_get(a, 0), -1) != i) {
		wrong++;
	}
	wampc_value_free(a);
	answered++;
	in_flight--;
	call_more(c);
}

static void call_more(wampc *c)
{
	while (!done && in_flight < window && next_call <= count) {
		wampc_value *a = wampc_array();
		enum wampd_err err;

		wampc_array_append(a, wampc_int(next_call));
		err = wampc_call(c, "com.r.echo", NULL, WAMPC_ARGS(a, NULL), on_result,
		                 (void *)(intptr_t)next_call, NULL);
		wampc_value_free(a);
		if (err != WAMPD_OK)
			return; /* no session, or the queue is full: again on the next event */
		next_call++;
		in_flight++;
	}
	if (!done && answered == count) {
		int64_t dup = 0;

		for (int64_t i = 1; i <= count; i++)
			dup += answers[i] > 1 ? answers[i] - 1 : 0;
		say("done calls=%lld answered=%lld dups=%lld wrong=%lld errors=%lld joins=%lld",
		    (long long)count, (long long)answered, (long long)dup, (long long)wrong,
		    (long long)errors, (long long)joins);
		finish(c);
	}
}

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	(void)ud;
	switch (info->event) {
	case WAMPC_JOINED:
		joins++;
		say("joined %llu", (unsigned long long)info->session);
		if (!strcmp(role, "caller"))
			call_more(c);
		break;
	case WAMPC_SUSPENDED:
		say("suspended %llu", (unsigned long long)info->session);
		break;
	case WAMPC_RESUMED:
		resumes++;
		say("resumed %llu", (unsigned long long)info->session);
		if (!strcmp(role, "caller"))
			call_more(c);
		break;
	case WAMPC_LEFT:
		say("left %s", info->reason ? info->reason : "");
		break;
	default:
		break;
	}
}

/* One turn of the chosen adapter's own loop, for at most ms. */
static enum wampd_err run(wampc *c, int ms)
{
#ifdef RESUME_WITH_LWS
	if (use_lws)
		return wampc_lws_run(c, ms);
#endif
	return wampc_run(c, ms);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool publish_one(wampc *c)
{
	wampc_value *a = wampc_array();
	enum wampd_err err;

	wampc_array_append(a, wampc_int(published + 1));
	if (pad)
		wampc_array_append(a, wampc_string(pad));
	err = wampc_publish(c, topic, NULL, WAMPC_ARGS(a, NULL), NULL, NULL, NULL);
	wampc_value_free(a);
	if (err != WAMPD_OK)
		return false;
	published++;
	return true;
}

int main(int argc, char **argv)
{
	struct wampc_config cfg = {.realm = "realm1", .serializer = WAMPC_JSON, .reconnect = true,
	                           .retry_initial = 50, .retry_max = 1000, .retry_jitter = 10,
	                           .on_session = on_session};
	enum wampd_err err;
	wampc *c;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "--url"))
			cfg.url = v, i++;
		else if (!strcmp(argv[i], "--role"))
			role = v, i++;
		else if (!strcmp(argv[i], "--serializer"))
			cfg.serializer = !strcmp(v, "cbor") ? WAMPC_CBOR
			                 : !strcmp(v, "msgpack") ? WAMPC_MSGPACK : WAMPC_JSON, i++;
		else if (!strcmp(argv[i], "--realm"))
			cfg.realm = v, i++;
		else if (!strcmp(argv[i], "--topic"))
			topic = v, i++;
		else if (!strcmp(argv[i], "--count"))
			count = atoll(v), i++;
		else if (!strcmp(argv[i], "--from"))
			from = atoll(v), i++;
		else if (!strcmp(argv[i], "--window"))
			window = atoll(v), i++;
		else if (!strcmp(argv[i], "--size"))
			size = atoll(v), i++;
		else if (!strcmp(argv[i], "--rate"))
			rate = atoll(v), i++;
		else if (!strcmp(argv[i], "--retry-ms"))
			cfg.retry_initial = (uint32_t)atoi(v), i++;
		else if (!strcmp(argv[i], "--resumable"))
			cfg.resumable = true;
		else if (!strcmp(argv[i], "--lws"))
			use_lws = true;
		else if (!strcmp(argv[i], "--ca-file"))
			cfg.tls.ca_file = v, i++;
		else {
			fprintf(stderr, "resume_peer: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	use_lws = use_lws || (cfg.url && !strncmp(cfg.url, "ws", 2));
#ifndef RESUME_WITH_LWS
	if (use_lws) {
		fprintf(stderr, "resume_peer: built without libwampc-ws\n");
		return 2;
	}
#else
	lws_set_log_level(0, NULL);
#endif
	if (size > 0) {
		pad = malloc((size_t)size + 1);
		memset(pad, 'x', (size_t)size);
		pad[size] = '\0';
	}
	answers = calloc((size_t)count + 1, 1);
	if (!(c = wampc_new(&cfg, &err))) {
		fprintf(stderr, "resume_peer: %s\n", wampd_err_str(err));
		return 2;
	}
	if (!strcmp(role, "sub")) {
		wampc_subscribe(c, topic, NULL, on_event, NULL, on_subscribed, NULL, NULL);
	} else if (!strcmp(role, "callee")) {
		wampc_register(c, "com.r.echo", NULL, on_invoke, NULL, on_subscribed, NULL, NULL);
	} else if (!strcmp(role, "pub")) {
		int64_t start = now_ms();

		wampc_start(c);
		published = from - 1;
		while (published < count) {
			int64_t allowed = rate ? from - 1 + rate * (now_ms() - start) / 1000 : count;

			while (published < count && published < allowed && wampc_joined(c) &&
			       publish_one(c))
				;
			if (run(c, 1) != WAMPD_OK || wampc_stopped(c))
				break;
		}
		say("done published=%lld", (long long)published);
		finish(c);
	} else if (strcmp(role, "caller")) {
		fprintf(stderr, "resume_peer: unknown role %s\n", role);
		return 2;
	}
	signal(SIGTERM, on_term);
	wampc_start(c);
	err = WAMPD_OK;
	while (err == WAMPD_OK && !wampc_stopped(c) && !term)
		err = run(c, 100);
	if (term && !done) {
		say("done invocations=%lld joins=%lld", (long long)invocations, (long long)joins);
		finish(c);
		err = run(c, 3000);
	}
	wampc_free(c);
	free(pad);
	free(answers);
	return err == WAMPD_OK && done ? 0 : 1;
}
