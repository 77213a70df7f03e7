/*
 * main.c - wampd's command line, signals and lifetime.
 *
 *   wampd [--config FILE | --cbdir DIR] [--host ADDR] [--port N] [--log-level SPEC]
 *         [--log-format FMT]
 *   wampd check [--config FILE | --cbdir DIR] [--host ADDR] [--port N]
 *   wampd --help | --version
 *
 * --config FILE: wampd's JSON, or a Crossbar node configuration in JSON or YAML (.yaml,
 * .yml); --cbdir DIR: a Crossbar node directory's config.json or config.yaml (with
 * --config, that file relative to DIR). Relative paths in the file are relative to its
 * directory (to DIR with --cbdir). --host/--port override the first listener (port 0 picks
 * a free port; the chosen one is printed as "listening ws://HOST:PORT/PATH" on stdout).
 *
 * A start logs what the configuration does not carry over ("ignored: ..."), then what is
 * served where (config_summary.c), and refuses to start when a file it needs cannot be
 * read (config_preflight). `wampd check` does exactly that much, on stdout, without
 * opening a socket, and exits 0 when wampd would start with it, 1 otherwise (Crossbar's
 * `crossbar check`). SIGINT/SIGTERM: every session gets GOODBYE wamp.close.system_shutdown,
 * then the process exits 0.
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
#include "router/config/config_summary.h"
#include "router/core/router.h"
#include "router/net/loop.h"
#include "router/cluster/store_redis.h"
#include "router/store/store_lmdb.h"
#include "router/workers/workers.h"

#define SHUTDOWN_GRACE_MS 3000

/* Set by the signal handler: a signal handler can reach nothing but a static. The stop is
 * the process's (every loop stops on it), so it is not a loop's state. */
static volatile int stop_requested;

/* The event stores wampd links beyond memory (realms[].store.type). */
static struct store *open_lmdb(struct router *rt, struct realm *r, const struct realm_config *rc)
{
	char err[300];
	struct store *st = store_lmdb_open(rc->store.path, r->name, rc->store.max_size,
	                                   rc->store.durable, &r->broker.store->limits,
	                                   &rt->realms, err, sizeof(err));

	if (!st)
		wlog_error("store", "realm=%s: %s", r->name, err);
	return st;
}

/* redis: linked to the backplane's connection once it exists (backplane_redis_new) */
static struct store *open_redis(struct router *rt, struct realm *r, const struct realm_config *rc)
{
	(void)rt;
	return store_redis_new(r->name, rc->store.durable, &r->broker.store->limits);
}

static const struct store_type store_types[] = {
	{"lmdb", open_lmdb},
	{"redis", open_redis},
	{NULL, NULL},
};

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: wampd [options]\n"
	        "       wampd check [--config FILE | --cbdir DIR] [--host ADDR] [--port N]\n"
	        "                         validate, print what would be served and what is\n"
	        "                         ignored, exit 0 if wampd would start (no sockets)\n"
	        "  -c, --config FILE      configuration file: wampd's JSON, or a Crossbar\n"
	        "                         config.json / config.yaml; default: built in\n"
	        "                         (ws://127.0.0.1:8080/ws, realm realm1, anonymous,\n"
	        "                         JSON + MessagePack)\n"
	        "  -d, --cbdir DIR        a Crossbar node directory: DIR/config.json or\n"
	        "                         DIR/config.yaml; relative paths are relative to DIR\n"
	        "  -H, --host ADDR        listen address of the first listener\n"
	        "  -p, --port N           port of the first listener (0: any free port)\n"
	        "  -l, --log-level SPEC   error, warn, notice (default), info, debug; per module\n"
	        "                         too: info,router=debug,auth=warn (replaces the\n"
	        "                         configuration's log_level)\n"
	        "  -L, --log-format FMT   text (default) or json (one JSON object a line)\n"
	        "  -h, --help             this text\n"
	        "  -V, --version          print the version\n");
}

static void emit_stdout(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

static void emit_log(void *arg, const char *line)
{
	(void)arg;
	wlog_notice("config", "%s", line);
}

static void emit_preflight(void *arg, const char *line)
{
	(void)arg;
	wlog_error("config", "cannot start: %s", line);
}

/* said once (wampd check, and the log at start) of a configuration serving HTTP only */
#define NO_WAMP_WARNING                                                                     \
	"no listener serves a WAMP transport (WebSocket, RawSocket or HTTP long-poll): only "   \
	"the HTTP services are served, and no WAMP client can connect"

/* wampd check: the configuration's report on stdout; 0 when wampd would start with it. */
static int check(const struct config *cfg, const char *source)
{
	size_t i, problems;
	json_t *note;
	char *plan;

	printf("configuration: %s\n", source);
	json_array_foreach(cfg->notes, i, note)
		printf("%s\n", json_string_value(note));
	config_summary(cfg, emit_stdout, NULL);
	if (!config_serves_wamp(cfg))
		printf("warning: %s\n", NO_WAMP_WARNING);
	plan = workers_plan_text(cfg); /* the processes that would be started */
	if (plan && *plan)
		printf("processes:\n%s%s", plan, plan[strlen(plan) - 1] == '\n' ? "" : "\n");
	free(plan);
	problems = config_preflight(cfg, emit_stdout, NULL);
	if (problems)
		printf("not ok: wampd would not start (%zu problem%s above)\n", problems,
		       problems == 1 ? "" : "s");
	else
		printf("ok: wampd would start with this configuration\n");
	return problems ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"cbdir", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},   {"log-level", required_argument, NULL, 'l'},
		{"log-format", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	const char *config_path = NULL, *cbdir = NULL, *host = NULL, *level = NULL,
	           *format = NULL, *source;
	struct admin *admin = NULL;
	long port = -1;
	struct config cfg;
	struct wlog_config log; /* the process's logging, installed for every log call */
	struct router rt;
	struct loop *loop;
	struct bp_redis *bp = NULL;
	struct workers *workers = NULL;
	char err[512];
	int opt, rc = 0;
	bool check_only = argc > 1 && !strcmp(argv[1], "check");

	if (check_only) { /* the subcommand: the options follow it */
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	while ((opt = getopt_long(argc, argv, "c:d:H:p:l:L:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			cbdir = optarg;
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

	source = cbdir ? cbdir : config_path ? config_path : "(built in)";
	if (cbdir ? !config_load_cbdir(cbdir, config_path, &cfg, err, sizeof(err))
	          : config_path ? !config_load_file(config_path, &cfg, err, sizeof(err))
	                        : !config_default(&cfg)) {
		if (check_only) {
			printf("configuration: %s\nnot ok: %s\n", source,
			       cbdir || config_path ? err : "out of memory");
			return 1;
		}
		fprintf(stderr, "wampd: %s\n", cbdir || config_path ? err : "out of memory");
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
	if (check_only) {
		rc = check(&cfg, source);
		config_free(&cfg);
		return rc;
	}
	wlog_config_set(&log, &cfg.log_levels, cfg.log_format, NULL);
	wlog_use(&log);
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

		wlog_notice("config", "read a Crossbar configuration: %s", source);
		json_array_foreach(cfg.notes, i, note)
			wlog_warn("config", "%s", json_string_value(note));
	}
	config_summary(&cfg, emit_log, NULL);
	if (!config_serves_wamp(&cfg))
		wlog_warn("config", "%s", NO_WAMP_WARNING);
	if (config_preflight(&cfg, emit_preflight, NULL)) {
		fprintf(stderr, "wampd: %s: cannot start (see the errors above)\n", source);
		config_free(&cfg);
		return 1;
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
	if (!router_init(&rt, &cfg, store_types)) {
		fprintf(stderr, "wampd: cannot set the realms up (out of memory, or an event store "
		        "that cannot be opened: see the log)\n");
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
	router_flush_stores(&rt); /* the last loop iteration's writes (lmdb) */
	backplane_redis_free(bp); /* leave the cluster before the last sessions go */
	workers_free(workers);    /* what did not stop in time is killed and reaped */
	loop_free(loop);
	admin_free(admin); /* after the lws context, which owned its connections */
	router_destroy(&rt);
	wlog_notice("router", "stopped");
	wlog_use(NULL); /* log is main's: nothing logs with it after this frame */
	return rc;
}
