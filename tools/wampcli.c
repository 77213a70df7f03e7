/*
 * wampcli.c - the session of the command-line clients (see wampcli.h), on libwampc.
 *
 * One libwampc client, without reconnect: its URL's adapter (libwampc-ws for ws:// and
 * wss://, the POSIX one for rs://, rss:// and unix:) runs it in slices of CLI_TICK_MS, and
 * between slices the tool's deadline and the signals are looked at (SIGINT/SIGTERM, which
 * also cut a slice short). The library's session events are what the tool's user sees:
 *   JOINED   -> tool->joined
 *   LEFT     -> the exit: the code a cli_leave/cli_fail chose, else from how it ended:
 *               no connection (3, "cannot connect", with the adapter's reason), the join
 *               timeout (4), an ABORT before WELCOME (3, "refused the session"), the router
 *               ending the session (3) or the connection (3)
 *   REVOKED  -> the subscription the tool made is gone (3)
 * cli_fail drops the client at once (wampc_free: no GOODBYE); cli_leave sends GOODBYE and
 * waits for the router's within min(--timeout, 2 s) (the library's goodbye timeout).
 */
#include "tools/wampcli.h"

#include <ctype.h>
#include <libwebsockets.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/wampc_lws.h"

#define CLI_MAX_MESSAGE (16u << 20) /* longest message accepted from the router */
#define CLI_LEAVE_WAIT_S 2.0        /* how long GOODBYE waits for the router's */
#define CLI_TICK_MS 100


struct cli {
	const struct cli_tool *tool;
	/* command line */
	const char *url, *realm, *authid, *ticket, *cafile;
	enum wampc_ser ser;
	double timeout_s;
	bool insecure, verbose;
	struct wampc_url where;
	/* the session */
	wampc *wc;
	bool joined;       /* a WELCOME came */
	bool ended;        /* the exit code is decided */
	bool leaving;      /* ... and our GOODBYE is out: run until the session is over */
	int exit_code;
	/* the tool's deadline (monotonic ms; 0: none) */
	int64_t deadline;
	const char *deadline_what;
	double deadline_s;
	bool interrupt_handled;
};

static volatile sig_atomic_t cli_signalled;

static void cli_on_signal(int sig)
{
	(void)sig;
	cli_signalled = 1;
}

static int64_t cli_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------------ output */

static void cli_vmsg(const struct cli_tool *t, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", t->name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_note(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->verbose)
		return;
	va_start(ap, fmt);
	cli_vmsg(c->tool, fmt, ap);
	va_end(ap);
}

bool cli_print_json(const wampc_value *v)
{
	char *s = wampc_value_to_json(v);
	bool ok;

	if (!s)
		return false;
	ok = puts(s) >= 0 && fflush(stdout) == 0;
	free(s);
	return ok;
}

/* ------------------------------------------------------------------------- arguments */

/* A command-line JSON value (any type), or NULL with a message naming `what`. */
static wampc_value *cli_json_arg(const char *tool, const char *what, const char *text)
{
	char why[160];
	wampc_value *v = wampc_value_parse(text, why, sizeof(why));

	if (!v)
		fprintf(stderr, "%s: %s is not JSON (%s): %s%s\n", tool, what, why, text,
		        isalpha((unsigned char)text[0]) ? " (a string needs its JSON quotes: "
		                                          "'\"text\"')" : "");
	return v;
}

bool cli_json_args(const char *tool, wampc_value *list, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char what[32];
		wampc_value *v;

		snprintf(what, sizeof(what), "argument %d", i + 1);
		if (!(v = cli_json_arg(tool, what, argv[i])) || wampc_array_append(list, v))
			return false;
	}
	return true;
}

bool cli_kw_arg(const char *tool, wampc_value *obj, const char *text)
{
	const char *eq = strchr(text, '=');
	char what[300];
	char *key;
	wampc_value *v;
	bool ok = false;

	if (!eq || eq == text) {
		fprintf(stderr, "%s: --kw wants KEY=JSON, not: %s\n", tool, text);
		return false;
	}
	key = strndup(text, (size_t)(eq - text));
	if (!key)
		return false;
	snprintf(what, sizeof(what), "--kw %s", key);
	v = cli_json_arg(tool, what, eq + 1);
	if (v)
		ok = wampc_map_set(obj, key, v) == WAMPD_OK;
	free(key);
	return ok;
}

/* ---------------------------------------------------------------------- the options */

static const struct cli_option cli_common[] = {
	{"url", 'u', true, "URL", "the router: ws://HOST:PORT/PATH, wss://..., rs://HOST:PORT "
	                          "(RawSocket), rss://HOST:PORT (RawSocket over TLS) or unix:PATH "
	                          "(RawSocket on a Unix socket); default ws://127.0.0.1:8080/ws"},
	{"realm", 'r', true, "REALM", "the realm to join (default realm1)"},
	{"serializer", 's', true, "NAME", "json (default), msgpack or cbor"},
	{"authid", 'a', true, "ID", "the authid to authenticate as"},
	{"ticket", 't', true, "TICKET", "ticket authentication (default: $WAMP_TICKET)"},
	{"timeout", 'T', true, "SECONDS", "how long to wait for the router at each step "
	                                  "(default 10)"},
	{"cafile", 0, true, "FILE", "wss://, rss://: CA certificates to verify the router "
	                            "against (default: the system's)"},
	{"insecure", 'k', false, NULL, "wss://, rss://: accept any certificate"},
	{"verbose", 'v', false, NULL, "report progress on stderr"},
	{"help", 'h', false, NULL, "this text"},
	{"version", 'V', false, NULL, "print the version"},
	{NULL, 0, false, NULL, NULL},
};

enum { OPT_URL, OPT_REALM, OPT_SER, OPT_AUTHID, OPT_TICKET, OPT_TIMEOUT, OPT_CAFILE,
       OPT_INSECURE, OPT_VERBOSE, OPT_HELP, OPT_VERSION };

/* Print text from column col, wrapped at 80 columns, continuation lines at column indent. */
static void cli_wrap(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;

	while (*p) {
		int w = (int)strcspn(p, " ");

		if (col > indent && col + 1 + w > 79) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)w, f);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void cli_usage_options(FILE *f, const struct cli_option *o)
{
	for (; o && o->name; o++) {
		char left[64];

		snprintf(left, sizeof(left), "%c%c%s --%s%s%s", o->short_name ? '-' : ' ',
		         o->short_name ? o->short_name : ' ', o->short_name ? "," : " ", o->name,
		         o->has_arg ? " " : "", o->has_arg ? o->arg_name : "");
		fprintf(f, "  %-24s ", left);
		cli_wrap(f, o->help, 27, 27);
	}
}

static void cli_usage(const struct cli_tool *t, FILE *f)
{
	fprintf(f, "usage: %s [options] %s\n\n", t->name, t->synopsis);
	cli_wrap(f, t->description, 0, 0);
	if (t->options && t->options->name) {
		fprintf(f, "\noptions:\n");
		cli_usage_options(f, t->options);
	}
	fprintf(f, "\ncommon options:\n");
	cli_usage_options(f, cli_common);
	fputc('\n', f);
	cli_wrap(f, "Exit status: 0 done, 1 the router answered with an ERROR, 2 bad command "
	            "line, 3 no connection or no session (ABORT), 4 timeout.", 0, 0);
	fprintf(f, "See %s(1).\n", t->name);
}

/* The option --name (n bytes of it) or -x (n == 0: short_name x) in the common table or
 * the tool's: its table and index. */
static bool cli_find_option(const struct cli_tool *t, const char *name, size_t n, char x,
                            const struct cli_option **tab, int *idx)
{
	const struct cli_option *tabs[2] = {cli_common, t->options};

	for (int k = 0; k < 2; k++) {
		for (int i = 0; tabs[k] && tabs[k][i].name; i++) {
			const struct cli_option *o = &tabs[k][i];

			if (n ? strlen(o->name) == n && !strncmp(o->name, name, n)
			      : o->short_name && o->short_name == x) {
				*tab = tabs[k];
				*idx = i;
				return true;
			}
		}
	}
	return false;
}

static bool cli_common_option(struct cli *c, int idx, const char *v)
{
	char *end;

	switch (idx) {
	case OPT_URL:
		c->url = v;
		return true;
	case OPT_REALM:
		c->realm = v;
		return true;
	case OPT_SER: {
		int ser = wampc_ser_from_name(v);

		if (ser < 0) {
			fprintf(stderr, "%s: --serializer: json, msgpack or cbor, not %s\n",
			        c->tool->name, v);
			return false;
		}
		c->ser = (enum wampc_ser)ser;
		return true;
	}
	case OPT_AUTHID:
		c->authid = v;
		return true;
	case OPT_TICKET:
		c->ticket = v;
		return true;
	case OPT_TIMEOUT:
		c->timeout_s = strtod(v, &end);
		if (*end || !(c->timeout_s > 0) || c->timeout_s > 86400 * 365) {
			fprintf(stderr, "%s: --timeout: a number of seconds > 0, not %s\n",
			        c->tool->name, v);
			return false;
		}
		return true;
	case OPT_CAFILE:
		c->cafile = v;
		return true;
	case OPT_INSECURE:
		c->insecure = true;
		return true;
	case OPT_VERBOSE:
		c->verbose = true;
		return true;
	default:
		return false;
	}
}

/* Apply one option with its value (NULL without). Returns -1 to go on, or an exit code. */
static int cli_apply(struct cli *c, const struct cli_option *tab, int idx, const char *v)
{
	const struct cli_tool *t = c->tool;

	if (tab == cli_common && idx == OPT_HELP) {
		cli_usage(t, stdout);
		return CLI_EXIT_OK;
	}
	if (tab == cli_common && idx == OPT_VERSION) {
		printf("%s (wampd) %s\n", t->name, WAMPD_VERSION);
		return CLI_EXIT_OK;
	}
	if (tab == cli_common ? !cli_common_option(c, idx, v) : !t->option(t->ud, idx, v))
		return CLI_EXIT_USAGE;
	return -1;
}

/*
 * Options anywhere on the line: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, -xy (flags);
 * "--" ends them; "-5" or "-" are arguments (negative numbers need no "--"). Fills args
 * with the rest. Returns -1 to go on, or an exit code (help, version, errors).
 */
static int cli_parse(struct cli *c, int argc, char **argv, int *nargs, char **args)
{
	const struct cli_tool *t = c->tool;
	const struct cli_option *tab;
	bool only_args = false;
	int idx, rc;

	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1] ||
		    (a[1] != '-' && !isalpha((unsigned char)a[1]))) {
			args[(*nargs)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '='), *v = eq ? eq + 1 : NULL;

			if (!cli_find_option(t, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0, &tab,
			                     &idx)) {
				fprintf(stderr, "%s: unknown option %s (see --help)\n", t->name, a);
				return CLI_EXIT_USAGE;
			}
			if (tab[idx].has_arg && !v && i + 1 < argc)
				v = argv[++i];
			if (tab[idx].has_arg != !!v) {
				fprintf(stderr, "%s: --%s %s\n", t->name, tab[idx].name,
				        v ? "takes no value" : "needs a value");
				return CLI_EXIT_USAGE;
			}
			if ((rc = cli_apply(c, tab, idx, v)) >= 0)
				return rc;
			continue;
		}
		for (int j = 1; a[j]; j++) {
			const char *v = NULL;

			if (!cli_find_option(t, NULL, 0, a[j], &tab, &idx)) {
				fprintf(stderr, "%s: unknown option -%c (see --help)\n", t->name, a[j]);
				return CLI_EXIT_USAGE;
			}
			if (tab[idx].has_arg) {
				v = a[j + 1] ? a + j + 1 : i + 1 < argc ? argv[++i] : NULL;
				if (!v) {
					fprintf(stderr, "%s: -%c needs a value\n", t->name, a[j]);
					return CLI_EXIT_USAGE;
				}
			}
			if ((rc = cli_apply(c, tab, idx, v)) >= 0)
				return rc;
			if (v)
				break;
		}
	}
	if ((unsigned)*nargs < t->min_args) {
		fprintf(stderr, "usage: %s [options] %s (see --help)\n", t->name, t->synopsis);
		return CLI_EXIT_USAGE;
	}
	if (!wampc_url_parse(c->url, &c->where)) {
		fprintf(stderr, "%s: --url: not ws://HOST[:PORT]/PATH, wss://..., rs://HOST:PORT, "
		        "rss://HOST:PORT or unix:PATH: %s\n", t->name, c->url);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/* -------------------------------------------------------------------- the session */

void *cli_ud(struct cli *c)
{
	return c->tool->ud;
}

wampc *cli_client(struct cli *c)
{
	return c->wc;
}

/* The exit code is decided: the run loop ends after the current slice. */
static void cli_end(struct cli *c, int code)
{
	c->ended = true;
	c->exit_code = code;
	wampc_stop(c->wc);
}

void cli_fail(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->ended)
		return;
	va_start(ap, fmt);
	cli_vmsg(c->tool, fmt, ap);
	va_end(ap);
	cli_end(c, code);
}

void cli_leave(struct cli *c, int code)
{
	if (c->ended)
		return;
	if (!wampc_joined(c->wc)) {
		cli_end(c, code);
		return;
	}
	/* the code is decided; the run goes on until the router's GOODBYE (or the library's
	 * goodbye timeout) ends the session */
	c->exit_code = code;
	c->ended = c->leaving = true;
	c->deadline = 0;
	wampc_leave(c->wc, NULL);
}

void cli_request_failed(struct cli *c, const char *what, enum wampd_err err)
{
	cli_fail(c, err == WAMPD_ERR_SERIALIZATION ? CLI_EXIT_USAGE : CLI_EXIT_SESSION,
	         "cannot send %s: %s", what, wampd_err_str(err));
}

void cli_deadline(struct cli *c, double seconds, const char *what)
{
	if (seconds < 0)
		seconds = c->timeout_s;
	c->deadline_what = what;
	c->deadline_s = seconds;
	c->deadline = seconds == 0 || isinf(seconds) ? 0 : cli_now_ms() + (int64_t)(seconds * 1000);
}

const struct wampc_payload *cli_payload_values(struct wampc_payload *p, const wampc_value *args,
                                               const wampc_value *kwargs)
{
	memset(p, 0, sizeof(*p));
	if (wampc_array_size(args) || wampc_map_size(kwargs))
		p->args_v = args;
	if (wampc_map_size(kwargs))
		p->kwargs_v = kwargs;
	return p;
}

bool cli_payload(struct cli *c, const struct wampc_payload *p, wampc_value **args,
                 wampc_value **kwargs)
{
	enum wampd_err e1 = WAMPD_OK, e2 = WAMPD_OK;

	*args = wampc_payload_args(p, &e1);
	*kwargs = wampc_payload_kwargs(p, &e2);
	if (e1 == WAMPD_OK && e2 == WAMPD_OK)
		return true;
	wampc_value_free(*args);
	wampc_value_free(*kwargs);
	*args = *kwargs = NULL;
	cli_fail(c, CLI_EXIT_SESSION, "cannot decode the payload of the router's answer");
	return false;
}

void cli_error_reply(struct cli *c, const struct wampc_reply *r)
{
	wampc_value *args, *kwargs;
	char *a = NULL, *k = NULL;

	if (!cli_payload(c, r->payload, &args, &kwargs))
		return;
	if (wampc_array_size(args))
		a = wampc_value_to_json(args);
	if (wampc_map_size(kwargs))
		k = wampc_value_to_json(kwargs);
	fprintf(stderr, "%s: %s%s%s%s%s\n", c->tool->name, r->error, a ? " " : "", a ? a : "",
	        k ? " " : "", k ? k : "");
	free(a);
	free(k);
	wampc_value_free(args);
	wampc_value_free(kwargs);
	cli_leave(c, CLI_EXIT_ERROR);
}

/* How the session ended, as the user is told it (when no tool decided it). */
static void cli_left(struct cli *c, const struct wampc_session_info *info)
{
	const char *msg = wampc_value_string(wampc_map_get(info->details, "message"), NULL);
	const char *reason = info->reason ? info->reason : "?";
	bool lost = !strcmp(reason, wampd_err_uri(WAMPD_ERR_TRANSPORT_LOST));

	if (c->ended) {
		wampc_stop(c->wc); /* our GOODBYE was answered (or timed out) */
		return;
	}
	if (!strcmp(reason, wampd_err_uri(WAMPD_ERR_TIMEOUT)) && !c->joined) {
		cli_fail(c, CLI_EXIT_TIMEOUT, "timeout: no session within %g s", c->timeout_s);
	} else if (!info->connected && !c->joined) {
		const char *why = info->transport_error ? info->transport_error : "connection failed";

		cli_fail(c, CLI_EXIT_SESSION, "cannot connect to %s: %s%s", c->url, why,
		         c->where.tls && strstr(why, "certificate") ?
		         " (a certificate not trusted? --cafile FILE names the CA, -k trusts any)" : "");
	} else if (lost) {
		cli_fail(c, CLI_EXIT_SESSION, "the router closed the connection%s%s%s",
		         c->joined ? "" : " (no WELCOME)", info->transport_error ? ": " : "",
		         info->transport_error ? info->transport_error : "");
	} else {
		cli_fail(c, CLI_EXIT_SESSION, "the router %s: %s%s%s",
		         c->joined ? "ended the session" : "refused the session", reason,
		         msg ? ": " : "", msg ? msg : "");
	}
}

static void cli_on_session(wampc *wc, const struct wampc_session_info *info, void *ud)
{
	struct cli *c = ud;

	switch (info->event) {
	case WAMPC_JOINED:
		c->joined = true;
		cli_note(c, "joined %s on %s as session %llu (authid %s, authrole %s)", c->realm,
		         c->url, (unsigned long long)info->session,
		         info->authid ? info->authid : "?", info->authrole ? info->authrole : "?");
		c->tool->joined(c);
		break;
	case WAMPC_LEFT:
		cli_left(c, info);
		break;
	case WAMPC_REVOKED:
		cli_fail(c, CLI_EXIT_SESSION, "the router revoked the subscription%s%s",
		         info->reason ? ": " : "", info->reason ? info->reason : "");
		break;
	case WAMPC_RESTORE_FAILED:
		break; /* no reconnect: no restore */
	case WAMPC_SUSPENDED:
	case WAMPC_RESUMED:
		break; /* not resumable (wampc_config.resumable unset): never */
	}
}

static void cli_on_deadline(struct cli *c)
{
	c->deadline = 0;
	if (c->ended)
		return;
	if (c->joined && c->tool->expired && c->tool->expired(c))
		return;
	cli_fail(c, CLI_EXIT_TIMEOUT, "timeout: no %s within %g s", c->deadline_what,
	         c->deadline_s);
}

/* The client of the command line. NULL with a message (exit 2) when it cannot be made. */
static wampc *cli_client_new(struct cli *c)
{
	double bye = c->timeout_s < CLI_LEAVE_WAIT_S ? c->timeout_s : CLI_LEAVE_WAIT_S;
	struct wampc_config cfg = {
		.url = c->url, .realm = c->realm, .serializer = c->ser, .authid = c->authid,
		.roles = c->tool->roles,
		.authmethods = c->ticket ? WAMPC_AUTH_TICKET : WAMPC_AUTH_ANONYMOUS,
		.ticket = c->ticket, .max_message = CLI_MAX_MESSAGE,
		.join_timeout = (uint32_t)(c->timeout_s * 1000),
		.goodbye_timeout = (uint32_t)(bye * 1000) ? (uint32_t)(bye * 1000) : 1,
		.tls = {.ca_file = c->cafile, .insecure = c->insecure},
		.on_session = cli_on_session, .ud = c};
	enum wampd_err err;
	wampc *wc = wampc_new(&cfg, &err);

	if (!wc)
		fprintf(stderr, "%s: %s\n", c->tool->name,
		        err == WAMPD_ERR_INVALID_ARGUMENT ? "--serializer: not built in" :
		        wampd_err_str(err));
	return wc;
}

/* Run the session in slices until its exit code is known: at once after cli_fail, when
 * the session is over after cli_leave. */
static void cli_run(struct cli *c)
{
	enum wampd_err (*run)(wampc *, int) = c->where.websocket ? wampc_lws_run : wampc_run;

	wampc_start(c->wc);
	while (!(c->ended && !c->leaving) && !(c->leaving && wampc_stopped(c->wc))) {
		int64_t now = cli_now_ms();
		int slice = CLI_TICK_MS;
		enum wampd_err err;

		if (c->deadline && c->deadline - now < slice)
			slice = c->deadline - now > 0 ? (int)(c->deadline - now) : 0;
		if ((err = run(c->wc, slice)) != WAMPD_OK) {
			cli_fail(c, CLI_EXIT_SESSION, "cannot run the session on %s: %s", c->url,
			         wampd_err_str(err));
			break;
		}
		if (cli_signalled && !c->interrupt_handled) {
			c->interrupt_handled = true;
			if (c->joined && !c->ended && c->tool->interrupted)
				c->tool->interrupted(c);
			else
				cli_leave(c, CLI_EXIT_INTERRUPTED);
		}
		if (c->deadline && cli_now_ms() >= c->deadline)
			cli_on_deadline(c);
		if (!c->ended && wampc_stopped(c->wc))
			cli_fail(c, CLI_EXIT_SESSION, "the session ended");
	}
}

int cli_main(const struct cli_tool *tool, int argc, char **argv)
{
	struct cli c = {.tool = tool, .url = "ws://127.0.0.1:8080/ws", .realm = "realm1",
	                .ser = WAMPC_JSON, .timeout_s = 10};
	struct sigaction sa;
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs, rc;

	if (!args)
		return CLI_EXIT_SESSION;
	rc = cli_parse(&c, argc, argv, &nargs, args);
	if (rc >= 0)
		goto out;
	if (!c.ticket)
		c.ticket = getenv("WAMP_TICKET");
	if (c.ticket && !*c.ticket)
		c.ticket = NULL;
	if (!tool->args(tool->ud, nargs, args)) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (!(c.wc = cli_client_new(&c))) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal; /* no SA_RESTART: poll() returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(c.verbose ? LLL_ERR | LLL_WARN : 0, NULL);
	cli_run(&c);
	rc = c.exit_code;
	wampc_free(c.wc);
out:
	free(args);
	return rc;
}
