/*
 * main.c - wampd's command line, signals and lifetime.
 *
 *   wampd [--config FILE] [--host ADDR] [--port N] [--log-level SPEC] [--log-format FMT]
 *   wampd --help | --version
 *
 * --host/--port override the first listener (port 0 picks a free port; the chosen one is
 * printed as "listening ws://HOST:PORT/PATH" on stdout). SIGINT/SIGTERM: every session gets
 * GOODBYE wamp.close.system_shutdown, then the process exits 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"
#include "router/admin/admin.h"
#include "router/cluster/backplane_redis.h"
#include "router/config/config.h"
#include "router/core/router.h"
#include "router/net/loop.h"
#include "router/workers/workers.h"

#define SHUTDOWN_GRACE_MS 3000

static volatile int stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: wampd [options]\n"
	        "  -c, --config FILE      configuration file (JSON); default: built in\n"
	        "                         (ws://127.0.0.1:8080/ws, realm realm1, anonymous,\n"
	        "                         JSON + MessagePack)\n"
	        "  -H, --host ADDR        listen address of the first listener\n"
	        "  -p, --port N           port of the first listener (0: any free port)\n"
	        "  -l, --log-level SPEC   error, warn, notice (default), info, debug; per module\n"
	        "                         too: info,router=debug,auth=warn (replaces the\n"
	        "                         configuration's log_level)\n"
	        "  -L, --log-format FMT   text (default) or json (one JSON object a line)\n"
	        "  -h, --help             this text\n"
	        "  -V, --version          print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},   {"log-level", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	const char *config_path = NULL, *host = NULL, *level = NULL, *format = NULL;
	struct admin *admin = NULL;
	long port = -1;
	struct config cfg;
	struct router rt;
	struct loop *loop;
	struct bp_redis *bp = NULL;
	struct workers *workers = NULL;
	char err[512];
	int opt, rc = 0;

	while ((opt = getopt_long(argc, argv, "c:H:p:l:L:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p': {
			char *end;

			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535) {
				fprintf(stderr, "wampd: --port: not a port number: %s\n", optarg);
				return 2;
			}
			break;
		}
		case 'l':
			level = optarg;
			break;
		case 'L':
			format = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("wampd %s\n", WAMPD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wampd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (config_path ? !config_load_file(config_path, &cfg, err, sizeof(err))
	                : !config_default(&cfg)) {
		fprintf(stderr, "wampd: %s\n", config_path ? err : "out of memory");
		return 1;
	}
	if (level && !wlog_parse_spec(level, &cfg.log_levels, NULL, err, sizeof(err))) {
		fprintf(stderr, "wampd: --log-level: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (format && !wlog_parse_format(format, &cfg.log_format)) {
		fprintf(stderr, "wampd: --log-format: %s: must be text or json\n", format);
		config_free(&cfg);
		return 2;
	}
	if (host) {
		free(cfg.listeners[0].host);
		cfg.listeners[0].host = strcmp(host, "*") ? strdup(host) : NULL;
	}
	if (port >= 0)
		cfg.listeners[0].port = (int)port;
	wlog_set_levels(&cfg.log_levels);
	wlog_set_format(cfg.log_format);
	for (unsigned i = 0; i < cfg.log_levels.n; i++) {
		bool known = false;

		for (const char *const *m = wlog_modules; *m; m++)
			known = known || !strcmp(*m, cfg.log_levels.mod[i].name);
		if (!known)
			wlog_warn("config", "log level for module=%s: wampd logs nothing under that "
			          "name", cfg.log_levels.mod[i].name);
	}
	if (cfg.notes) {
		size_t i;
		json_t *note;

		wlog_notice("config", "read a Crossbar configuration: %s", config_path);
		json_array_foreach(cfg.notes, i, note)
			wlog_warn("config", "%s", json_string_value(note));
	}

	if (!ids_init()) {
		fprintf(stderr, "wampd: cannot initialise libsodium\n");
		config_free(&cfg);
		return 1;
	}
	/* the processes' internal listener joins cfg's listeners before they are opened */
	if (!workers_prepare(&cfg, &workers)) {
		config_free(&cfg);
		return 1;
	}
	if (!router_init(&rt, &cfg)) {
		fprintf(stderr, "wampd: out of memory\n");
		workers_free(workers);
		config_free(&cfg);
		return 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	loop = loop_new(&rt);
	if (!loop) {
		workers_free(workers);
		router_destroy(&rt);
		return 1;
	}
	if (rt.cfg.backplane.redis && !(bp = backplane_redis_new(&rt, loop_context(loop)))) {
		workers_free(workers);
		loop_free(loop);
		router_destroy(&rt);
		return 1;
	}
	if (!admin_start(&rt, loop, &admin)) {
		backplane_redis_free(bp);
		workers_free(workers);
		loop_free(loop);
		router_destroy(&rt);
		return 1;
	}
	wlog_notice("router", "wampd %s ready", WAMPD_VERSION);
	/* the supervised processes: started once the listeners listen, stopped by loop_run
	 * once no new session is admitted */
	if (!workers_start(workers, &rt, loop)) {
		stop_requested = 1;
		rc = 1;
	}
	if (loop_run(loop, &stop_requested, SHUTDOWN_GRACE_MS) < 0)
		rc = 1;
	backplane_redis_free(bp); /* leave the cluster before the last sessions go */
	workers_free(workers);    /* what did not stop in time is killed and reaped */
	loop_free(loop);
	admin_free(admin); /* after the lws context, which owned its connections */
	router_destroy(&rt);
	wlog_notice("router", "stopped");
	return rc;
}
