/*
 * interop_peer.c - a WAMP client built on libwampc, remote-controlled over WAMP itself, for
 * tests/client/test_client_interop.py: the test (an Autobahn|Python session on the same
 * router) publishes commands to com.c.cmd and reads what this peer reports on com.c.*.
 *
 *   interop_peer --url URL --serializer json|msgpack|cbor [--realm R] [--authid ID]
 *                [--ticket T] [--secret S] [--seed HEX] [--authmethods m1,m2]
 *                [--reconnect] [--offline] [--exit-on-join] [--own-loop]
 *                [--ca-file F] [--ca-path D] [--cert F] [--key F] [--server-name N]
 *                [--insecure] [--channel-binding] [--max-retries N] [--lws]
 *
 * Commands: com.c.cmd [cmd, tag, ...] with options in kwargs:
 *   call        [tag, procedure, args, kwargs] {timeout, receive_progress}
 *               -> each reply on com.c.reply [tag, error|null, progress, args, kwargs]
 *   cancel      [tag, mode]               the call of that tag
 *   publish     [tag, topic, args, kwargs] {acknowledge, include_me, retain, exclude,
 *               eligible} -> with acknowledge: com.c.reply [tag, error|null, publication]
 *   subscribe   [tag, topic] {match, get_retained}   -> com.c.ack [tag, error|null, id];
 *               events -> com.c.event [tag, topic, retained, publisher, args, kwargs], and
 *               the event's payload forwarded as it is (its bytes) to com.c.raw
 *   unsubscribe [tag]                      -> com.c.ack [tag, error|null, 0]
 *   register    [tag, procedure, mode] {match, invoke} -> com.c.ack; modes:
 *               echo (the invocation's payload yielded back as its bytes), progress
 *               (args[0] progressive results [i], then ["done"]), fail (ERROR
 *               com.c.error.nope ["no"]), hang (no answer; an INTERRUPT is reported on
 *               com.c.interrupted [tag, mode]), proc (yields [procedure, caller])
 *   unregister  [tag]                      -> com.c.ack
 *   leave       []                         GOODBYE, then exit 0
 * On every WELCOME it publishes com.c.hello [session, authid, authrole, authmethod] (after
 * the restore of its subscriptions, so a command published after it is received); with
 * --offline, every lost session makes it publish com.c.offline [1], [2], [3] at once
 * (queued offline, sent after the next WELCOME). stdout: "joined SESSION AUTHID AUTHROLE
 * AUTHMETHOD", "left REASON reconnecting|stopped" (before it, "transport-error TEXT" when
 * the adapter said why, and "never-connected" when the attempt failed before its
 * connection opened), "exit". --exit-on-join leaves after the
 * first WELCOME. A ws:// or wss:// URL runs on the libwebsockets adapter (libwampc-ws),
 * and so does any other with --lws (rs://, rss://, unix: in an lws loop); else the POSIX
 * adapter. --own-loop drives the client from this program's own loop instead of
 * wampc_run / wampc_lws_run: its poll loop (wampc_socket/wampc_loop_*), or, on the
 * libwebsockets adapter, its own libwebsockets context (wampc_lws_attach, lws_service).
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/wampc.h"
#ifdef INTEROP_WITH_LWS
#include "client/wampc_lws.h"
#endif

#define MAX_TAGS 64

struct tag {
	char name[32];
	wampc_sub *sub;
	wampc_reg *reg;
	uint64_t call;
	char mode[16];
};

static struct tag tags[MAX_TAGS];
static bool exit_on_join, offline;

static struct tag *tag_get(const char *name, bool create)
{
	for (int i = 0; i < MAX_TAGS; i++)
		if (tags[i].name[0] && !strcmp(tags[i].name, name))
			return &tags[i];
	if (!create)
		return NULL;
	for (int i = 0; i < MAX_TAGS; i++)
		if (!tags[i].name[0]) {
			snprintf(tags[i].name, sizeof(tags[i].name), "%s", name);
			return &tags[i];
		}
	return NULL;
}

static wampc_value *str_or_null(const char *s)
{
	return s ? wampc_string(s) : wampc_null();
}

static wampc_value *or_null(wampc_value *v)
{
	return v ? v : wampc_null();
}

static void report(wampc *c, const char *topic, wampc_value *args)
{
	enum wampd_err err = wampc_publish(c, topic, NULL, WAMPC_ARGS(args, NULL), NULL, NULL, NULL);

	if (err != WAMPD_OK)
		fprintf(stderr, "interop_peer: report on %s: %s\n", topic, wampd_err_str(err));
	wampc_value_free(args);
}

static wampc_value *list(int n, ...)
{
	wampc_value *a = wampc_array();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		wampc_array_append(a, va_arg(ap, wampc_value *));
	va_end(ap);
	return a;
}

/* --------------------------------------------------------------------- replies */

static void on_call_reply(wampc *c, const struct wampc_reply *r, void *ud)
{
	struct tag *t = ud;

	report(c, "com.c.reply",
	       list(5, wampc_string(t->name), str_or_null(r->error), wampc_bool(r->progress),
	            or_null(wampc_payload_args(r->payload, NULL)),
	            or_null(wampc_payload_kwargs(r->payload, NULL))));
}

static void on_publish_reply(wampc *c, const struct wampc_reply *r, void *ud)
{
	struct tag *t = ud;

	report(c, "com.c.reply", list(3, wampc_string(t->name), str_or_null(r->error),
	                              wampc_int((int64_t)r->id)));
}

static void on_ack(wampc *c, const struct wampc_reply *r, void *ud)
{
	struct tag *t = ud;

	report(c, "com.c.ack", list(3, wampc_string(t->name), str_or_null(r->error),
	                            wampc_int((int64_t)r->id)));
}

static void on_event(wampc *c, const struct wampc_event *e, void *ud)
{
	struct tag *t = ud;

	report(c, "com.c.event",
	       list(6, wampc_string(t->name), wampc_string(e->topic), wampc_bool(e->retained),
	            wampc_int((int64_t)e->publisher), or_null(wampc_payload_args(e->payload, NULL)),
	            or_null(wampc_payload_kwargs(e->payload, NULL))));
	/* the payload's bytes, forwarded without decoding */
	wampc_publish(c, "com.c.raw", NULL, e->payload, NULL, NULL, NULL);
}

static void on_invoke(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	struct tag *t = ud;

	if (!strcmp(t->mode, "echo")) {
		wampc_yield(c, inv->request, false, inv->payload);
	} else if (!strcmp(t->mode, "progress")) {
		wampc_value *a = wampc_payload_args(inv->payload, NULL);
		int64_t n = wampc_value_int(wampc_array_get(a, 0), 0);

		for (int64_t i = 1; i <= n && inv->receive_progress; i++) {
			wampc_value *p = list(1, wampc_int(i));

			wampc_yield(c, inv->request, true, WAMPC_ARGS(p, NULL));
			wampc_value_free(p);
		}
		wampc_value_free(a);
		a = list(1, wampc_string("done"));
		wampc_yield(c, inv->request, false, WAMPC_ARGS(a, NULL));
		wampc_value_free(a);
	} else if (!strcmp(t->mode, "fail")) {
		wampc_value *a = list(1, wampc_string("no"));

		wampc_invocation_error(c, inv->request, "com.c.error.nope", WAMPC_ARGS(a, NULL));
		wampc_value_free(a);
	} else if (!strcmp(t->mode, "proc")) {
		wampc_value *a = list(2, wampc_string(inv->procedure), wampc_int((int64_t)inv->caller));

		wampc_yield(c, inv->request, false, WAMPC_ARGS(a, NULL));
		wampc_value_free(a);
	} /* hang: no answer */
}

static void on_interrupt(wampc *c, uint64_t request, const char *mode, void *ud)
{
	struct tag *t = ud;

	report(c, "com.c.interrupted", list(2, wampc_string(t->name), wampc_string(mode)));
}

/* --------------------------------------------------------------------- commands */

static const char *arg_str(const wampc_value *a, size_t i)
{
	const char *s = wampc_value_string(wampc_array_get(a, i), NULL);

	return s ? s : "";
}

static enum wampc_match match_of(const wampc_value *kw)
{
	const char *m = wampc_value_string(wampc_map_get(kw, "match"), NULL);

	return !m ? WAMPC_MATCH_EXACT : !strcmp(m, "prefix") ? WAMPC_MATCH_PREFIX
	                               : !strcmp(m, "wildcard") ? WAMPC_MATCH_WILDCARD
	                                                        : WAMPC_MATCH_EXACT;
}

static size_t ids(const wampc_value *v, uint64_t *out, size_t cap)
{
	size_t n = wampc_array_size(v);

	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = (uint64_t)wampc_value_int(wampc_array_get(v, i), 0);
	return n < cap ? n : cap;
}

static void on_cmd(wampc *c, const struct wampc_event *e, void *ud)
{
	wampc_value *a = wampc_payload_args(e->payload, NULL);
	wampc_value *kw = wampc_payload_kwargs(e->payload, NULL);
	const char *cmd = arg_str(a, 0);
	struct tag *t = tag_get(arg_str(a, 1), true);
	enum wampd_err err = WAMPD_OK;

	if (!t) {
		fprintf(stderr, "interop_peer: too many tags\n");
	} else if (!strcmp(cmd, "call")) {
		struct wampc_call_opts o = {
			.timeout = (uint32_t)wampc_value_int(wampc_map_get(kw, "timeout"), 0),
			.receive_progress = wampc_value_bool(wampc_map_get(kw, "receive_progress"), false)};

		err = wampc_call(c, arg_str(a, 2), &o,
		                 WAMPC_ARGS(wampc_array_get(a, 3), wampc_array_get(a, 4)), on_call_reply,
		                 t, &t->call);
	} else if (!strcmp(cmd, "cancel")) {
		const char *m = arg_str(a, 2);

		err = wampc_cancel(c, t->call, !strcmp(m, "skip") ? WAMPC_CANCEL_SKIP
		                               : !strcmp(m, "killnowait") ? WAMPC_CANCEL_KILLNOWAIT
		                                                          : WAMPC_CANCEL_KILL);
	} else if (!strcmp(cmd, "publish")) {
		uint64_t ex[8], el[8];
		struct wampc_publish_opts o = {
			.acknowledge = wampc_value_bool(wampc_map_get(kw, "acknowledge"), false),
			.include_me = wampc_value_bool(wampc_map_get(kw, "include_me"), false),
			.retain = wampc_value_bool(wampc_map_get(kw, "retain"), false),
			.exclude = ex, .eligible = el};

		o.n_exclude = ids(wampc_map_get(kw, "exclude"), ex, 8);
		o.n_eligible = ids(wampc_map_get(kw, "eligible"), el, 8);
		err = wampc_publish(c, arg_str(a, 2), &o,
		                    WAMPC_ARGS(wampc_array_get(a, 3), wampc_array_get(a, 4)),
		                    on_publish_reply, t, NULL);
	} else if (!strcmp(cmd, "subscribe")) {
		struct wampc_subscribe_opts o = {
			.match = match_of(kw),
			.get_retained = wampc_value_bool(wampc_map_get(kw, "get_retained"), false)};

		err = wampc_subscribe(c, arg_str(a, 2), &o, on_event, t, on_ack, t, &t->sub);
	} else if (!strcmp(cmd, "unsubscribe")) {
		err = wampc_unsubscribe(c, t->sub, on_ack, t);
	} else if (!strcmp(cmd, "register")) {
		const char *inv = wampc_value_string(wampc_map_get(kw, "invoke"), NULL);
		struct wampc_register_opts o = {
			.match = match_of(kw), .disclose_caller = true, .on_interrupt = on_interrupt,
			.invoke = !inv ? WAMPC_INVOKE_SINGLE : !strcmp(inv, "roundrobin")
			                                           ? WAMPC_INVOKE_ROUNDROBIN
			                                           : WAMPC_INVOKE_SINGLE};

		snprintf(t->mode, sizeof(t->mode), "%s", arg_str(a, 3));
		err = wampc_register(c, arg_str(a, 2), &o, on_invoke, t, on_ack, t, &t->reg);
	} else if (!strcmp(cmd, "unregister")) {
		err = wampc_unregister(c, t->reg, on_ack, t);
	} else if (!strcmp(cmd, "leave")) {
		err = wampc_leave(c, NULL);
	}
	if (err != WAMPD_OK)
		fprintf(stderr, "interop_peer: %s %s: %s\n", cmd, t ? t->name : "",
		        wampd_err_str(err));
	wampc_value_free(a);
	wampc_value_free(kw);
}

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	if (info->event == WAMPC_JOINED) {
		printf("joined %llu %s %s %s\n", (unsigned long long)info->session,
		       info->authid ? info->authid : "-", info->authrole ? info->authrole : "-",
		       info->authmethod ? info->authmethod : "-");
		report(c, "com.c.hello",
		       list(4, wampc_int((int64_t)info->session), str_or_null(info->authid),
		            str_or_null(info->authrole), str_or_null(info->authmethod)));
		if (exit_on_join)
			wampc_leave(c, NULL);
	} else if (info->event == WAMPC_LEFT) {
		if (info->transport_error)
			printf("transport-error %s\n", info->transport_error);
		if (!info->connected)
			printf("never-connected\n");
		printf("left %s %s\n", info->reason ? info->reason : "-",
		       info->reconnecting ? "reconnecting" : "stopped");
		for (int i = 1; offline && info->reconnecting && i <= 3; i++)
			report(c, "com.c.offline", list(1, wampc_int(i)));
	} else {
		printf("%s %s %s\n", info->event == WAMPC_REVOKED ? "revoked" : "restore-failed",
		       info->uri, info->reason ? info->reason : "-");
	}
	fflush(stdout);
}

/* The application's own loop (wampc_socket / wampc_loop_*), until the client stops. */
static void own_loop(wampc *c)
{
	wampc_start(c);
	while (!wampc_stopped(c)) {
		struct pollfd p = {.fd = wampc_socket(c)};
		unsigned ev = wampc_loop_events(c);

		p.events = (short)((ev & WAMPC_POLLIN ? POLLIN : 0) | (ev & WAMPC_POLLOUT ? POLLOUT : 0));
		if (poll(&p, p.fd >= 0 ? 1 : 0, wampc_loop_timeout(c)) < 0)
			break;
		if (p.revents & (POLLOUT | POLLERR))
			wampc_loop_write(c);
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			wampc_loop_read(c);
		wampc_loop_misc(c);
	}
}

#ifdef INTEROP_WITH_LWS
/* The application's own libwebsockets context and loop (wampc_lws_attach). */
static void own_lws_loop(wampc *c)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (!(ctx = lws_create_context(&info)) || wampc_lws_attach(c, ctx) != WAMPD_OK) {
		fprintf(stderr, "interop_peer: cannot attach to an lws context\n");
		if (ctx)
			lws_context_destroy(ctx);
		return;
	}
	wampc_start(c);
	while (!wampc_stopped(c) && lws_service(ctx, 0) >= 0)
		;
	wampc_free(c); /* before its context */
	lws_context_destroy(ctx);
}
#endif

int main(int argc, char **argv)
{
	struct wampc_config cfg = {.realm = "realm1", .on_session = on_session,
	                           .retry_initial = 50, .retry_max = 500,
	                           .offline_queue_bytes = 65536};
	uint8_t seed[32];
	bool own = false, websocket, lws = false;
	enum wampd_err err;
	wampc *c;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "--url"))
			cfg.url = v, i++;
		else if (!strcmp(argv[i], "--serializer"))
			cfg.serializer = !strcmp(v, "msgpack") ? WAMPC_MSGPACK
			                 : !strcmp(v, "cbor")  ? WAMPC_CBOR
			                                       : WAMPC_JSON, i++;
		else if (!strcmp(argv[i], "--realm"))
			cfg.realm = v, i++;
		else if (!strcmp(argv[i], "--authid"))
			cfg.authid = v, i++;
		else if (!strcmp(argv[i], "--ticket"))
			cfg.ticket = v, i++;
		else if (!strcmp(argv[i], "--secret"))
			cfg.secret = v, i++;
		else if (!strcmp(argv[i], "--seed")) {
			size_t n = 0;

			if (sodium_hex2bin(seed, 32, v, strlen(v), NULL, &n, NULL) != 0 || n != 32)
				return 2;
			cfg.cryptosign_seed = seed;
			i++;
		} else if (!strcmp(argv[i], "--authmethods")) {
			cfg.authmethods |= strstr(v, "ticket") ? WAMPC_AUTH_TICKET : 0;
			cfg.authmethods |= strstr(v, "wampcra") ? WAMPC_AUTH_WAMPCRA : 0;
			cfg.authmethods |= strstr(v, "cryptosign") ? WAMPC_AUTH_CRYPTOSIGN : 0;
			cfg.authmethods |= strstr(v, "anonymous") ? WAMPC_AUTH_ANONYMOUS : 0;
			cfg.authmethods |= strstr(v, "tls") ? WAMPC_AUTH_TLS : 0;
			i++;
		} else if (!strcmp(argv[i], "--ca-file"))
			cfg.tls.ca_file = v, i++;
		else if (!strcmp(argv[i], "--ca-path"))
			cfg.tls.ca_path = v, i++;
		else if (!strcmp(argv[i], "--cert"))
			cfg.tls.cert_file = v, i++;
		else if (!strcmp(argv[i], "--key"))
			cfg.tls.key_file = v, i++;
		else if (!strcmp(argv[i], "--server-name"))
			cfg.tls.server_name = v, i++;
		else if (!strcmp(argv[i], "--insecure"))
			cfg.tls.insecure = true;
		else if (!strcmp(argv[i], "--channel-binding"))
			cfg.tls.channel_binding = true;
		else if (!strcmp(argv[i], "--max-retries")) {
			cfg.max_retries = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(argv[i], "--reconnect"))
			cfg.reconnect = true;
		else if (!strcmp(argv[i], "--offline"))
			offline = true;
		else if (!strcmp(argv[i], "--exit-on-join"))
			exit_on_join = true;
		else if (!strcmp(argv[i], "--own-loop"))
			own = true;
		else if (!strcmp(argv[i], "--lws"))
			lws = true;
		else
			return 2;
	}
	if (!(c = wampc_new(&cfg, &err))) {
		fprintf(stderr, "interop_peer: %s\n", wampd_err_str(err));
		return 2;
	}
	if (!exit_on_join &&
	    wampc_subscribe(c, "com.c.cmd", NULL, on_cmd, NULL, NULL, NULL, NULL) != WAMPD_OK)
		return 2;
	websocket = cfg.url && !strncmp(cfg.url, "ws", 2);
	lws = lws || websocket;
#ifdef INTEROP_WITH_LWS
	lws_set_log_level(0, NULL);
	if (own && lws) {
		own_lws_loop(c);
		c = NULL;
	} else if (lws) {
		if ((err = wampc_lws_run(c, -1)) != WAMPD_OK)
			fprintf(stderr, "interop_peer: run: %s\n", wampd_err_str(err));
	} else
#endif
	if (own) {
		own_loop(c);
	} else if ((err = wampc_run(c, -1)) != WAMPD_OK) {
		fprintf(stderr, "interop_peer: run: %s%s\n", wampd_err_str(err),
		        lws ? " (built without libwampc-ws)" : "");
	}
	printf("exit\n");
	fflush(stdout);
	wampc_free(c);
	return 0;
}
