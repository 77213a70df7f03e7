/*
 * wampcli.c - the session core of the command-line clients (see wampcli.h).
 *
 * One lws client connection, driven through these states:
 *
 *   CONNECTING --(ws: established / raw: connected, 4-octet hello sent)--> [RS_HANDSHAKE]
 *   --> HELLO (HELLO sent; CHALLENGE answered with the ticket) --WELCOME--> JOINED
 *   --cli_leave--> LEAVING (GOODBYE sent) --GOODBYE--> CLOSING --> closed
 *
 * cli_fail() jumps to CLOSING from anywhere. Outgoing messages wait in a FIFO of encoded
 * buffers and are written one per WRITEABLE callback; when CLOSING and the FIFO is empty
 * the next WRITEABLE callback closes the connection. The event loop runs until lws reports
 * the connection closed (or never opened).
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

#include "serializers/rawsocket.h"
#include "serializers/codec.h"

#define CLI_MAX_MESSAGE (16u << 20) /* longest message accepted from the router */
#define CLI_LEAVE_WAIT_S 2.0        /* how long GOODBYE waits for the router's */
#define CLI_TICK_US (100 * LWS_US_PER_MS)
#define CLI_MAX_QUEUED 1024          /* messages waiting to be written (PONGs included) */

_Static_assert(LWS_PRE <= WAMP_OUT_HEADROOM, "wamp_out headroom must cover LWS_PRE");

enum cli_transport { T_WS, T_WSS, T_RS, T_UNIX };

enum cli_state { ST_CONNECTING, ST_RS_HANDSHAKE, ST_HELLO, ST_JOINED, ST_LEAVING, ST_CLOSING };

struct cli {
	const struct cli_tool *tool;
	/* command line */
	const char *url, *realm, *authid, *ticket, *cafile;
	enum wamp_ser ser;
	double timeout_s;
	bool insecure, verbose;
	/* where */
	enum cli_transport transport;
	char host[256], path[1024];
	int port;
	/* connection */
	struct lws_context *ctx;
	struct lws *wsi;
	enum cli_state state;
	bool closed;       /* lws has let go of the connection (or never had one) */
	int exit_code;
	uint64_t next_id;
	/* outgoing FIFO */
	struct wamp_out **q;
	size_t qhead, qlen, qcap;
	/* incoming: WebSocket fragments, or the RawSocket handshake reply and frames */
	uint8_t *frag;
	size_t frag_len;
	uint8_t hs[4];
	size_t hs_have;
	struct rs_rx rx;
	/* timers */
	lws_sorted_usec_list_t deadline, tick;
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

bool cli_print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	bool ok;

	if (!s)
		return false;
	ok = puts(s) >= 0 && fflush(stdout) == 0;
	free(s);
	return ok;
}

/* ------------------------------------------------------------------------- arguments */

/* A command-line JSON value (any type), or NULL with a message naming `what`. */
static json_t *cli_json_arg(const char *tool, const char *what, const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	                       &e);

	if (!v)
		fprintf(stderr, "%s: %s is not JSON (%s): %s%s\n", tool, what, e.text, text,
		        isalpha((unsigned char)text[0]) ? " (a string needs its JSON quotes: "
		                                          "'\"text\"')" : "");
	return v;
}

bool cli_json_args(const char *tool, json_t *list, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char what[32];
		json_t *v;

		snprintf(what, sizeof(what), "argument %d", i + 1);
		if (!(v = cli_json_arg(tool, what, argv[i])) || json_array_append_new(list, v))
			return false;
	}
	return true;
}

bool cli_kw_arg(const char *tool, json_t *obj, const char *text)
{
	const char *eq = strchr(text, '=');
	char what[300];
	char *key;
	json_t *v;
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
		ok = json_object_set_new(obj, key, v) == 0;
	free(key);
	return ok;
}

/* ------------------------------------------------------------------------- the URL */

/* ws://HOST[:PORT][/PATH], wss://..., rs://HOST:PORT, unix:PATH (HOST may be [v6]). */
static bool cli_parse_url(struct cli *c)
{
	const char *u = c->url, *p, *end;
	size_t n;

	if (!strncmp(u, "unix:", 5)) {
		p = u + 5;
		while (p[0] == '/' && p[1] == '/')
			p++; /* unix:///run/x.sock */
		if (!*p || strlen(p) + 2 > sizeof(c->host))
			return false;
		c->transport = T_UNIX;
		snprintf(c->host, sizeof(c->host), "+%s", p); /* lws: "+" = Unix socket */
		return true;
	}
	if (!strncmp(u, "ws://", 5)) {
		c->transport = T_WS;
		c->port = 80;
		p = u + 5;
	} else if (!strncmp(u, "wss://", 6)) {
		c->transport = T_WSS;
		c->port = 443;
		p = u + 6;
	} else if (!strncmp(u, "rs://", 5)) {
		c->transport = T_RS;
		c->port = 0;
		p = u + 5;
	} else {
		return false;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return false;
		n = (size_t)(end - p - 1);
		p++;
		end++;
	} else {
		end = p + strcspn(p, ":/");
		n = (size_t)(end - p);
	}
	if (!n || n >= sizeof(c->host))
		return false;
	memcpy(c->host, p, n);
	c->host[n] = '\0';
	p = end;
	if (*p == ':') {
		char *e;
		long port = strtol(p + 1, &e, 10);

		if (e == p + 1 || port < 1 || port > 65535)
			return false;
		c->port = (int)port;
		p = e;
	}
	if (c->transport == T_RS) {
		if (*p && strcmp(p, "/"))
			return false; /* RawSocket has no path */
		return c->port != 0;
	}
	if (*p && *p != '/')
		return false;
	snprintf(c->path, sizeof(c->path), "%s", *p ? p : "/");
	return true;
}

/* ---------------------------------------------------------------------- the options */

static const struct cli_option cli_common[] = {
	{"url", 'u', true, "URL", "the router: ws://HOST:PORT/PATH, wss://..., rs://HOST:PORT "
	                          "(RawSocket) or unix:PATH (RawSocket on a Unix socket); "
	                          "default ws://127.0.0.1:8080/ws"},
	{"realm", 'r', true, "REALM", "the realm to join (default realm1)"},
	{"serializer", 's', true, "NAME", "json (default), msgpack or cbor"},
	{"authid", 'a', true, "ID", "the authid to authenticate as"},
	{"ticket", 't', true, "TICKET", "ticket authentication (default: $WAMP_TICKET)"},
	{"timeout", 'T', true, "SECONDS", "how long to wait for the router at each step "
	                                  "(default 10)"},
	{"cafile", 0, true, "FILE", "wss://: CA certificates to verify the router against"},
	{"insecure", 'k', false, NULL, "wss://: accept any certificate"},
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
		const struct wamp_serializer_desc *d = wamp_ser_by_name(v);

		if (!d) {
			fprintf(stderr, "%s: --serializer: json, msgpack or cbor, not %s\n",
			        c->tool->name, v);
			return false;
		}
		c->ser = d->ser;
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
	if (!cli_parse_url(c)) {
		fprintf(stderr, "%s: --url: not ws://HOST[:PORT]/PATH, wss://..., rs://HOST:PORT "
		        "or unix:PATH: %s\n", t->name, c->url);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/* -------------------------------------------------------------------- the session */

void *cli_ud(struct cli *c)
{
	return c->tool->ud;
}

uint64_t cli_request_id(struct cli *c)
{
	return ++c->next_id;
}

static void cli_on_close_deadline(lws_sorted_usec_list_t *sul)
{
	struct cli *c = lws_container_of(sul, struct cli, deadline);

	c->closed = true; /* the connection did not close in time: lws_context_destroy will */
}

/* Close after what is queued is written; a connection that is not open yet, or does not
 * close within CLI_LEAVE_WAIT_S, is left to lws_context_destroy. */
static void cli_close(struct cli *c)
{
	bool open = c->wsi && c->state != ST_CONNECTING;

	c->state = ST_CLOSING;
	if (!open) {
		c->closed = true;
		return;
	}
	lws_sul_schedule(c->ctx, 0, &c->deadline, cli_on_close_deadline,
	                 (lws_usec_t)(CLI_LEAVE_WAIT_S * LWS_US_PER_SEC));
	lws_callback_on_writable(c->wsi);
}

void cli_fail(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->state == ST_CLOSING)
		return;
	va_start(ap, fmt);
	cli_vmsg(c->tool, fmt, ap);
	va_end(ap);
	c->exit_code = code;
	cli_close(c);
}

static void cli_queue(struct cli *c, struct wamp_out *o)
{
	if (c->qlen == CLI_MAX_QUEUED) {
		wamp_out_unref(o);
		cli_fail(c, CLI_EXIT_SESSION, "the router does not read what is sent to it");
		return;
	}
	if (c->qlen == c->qcap) {
		size_t ncap = c->qcap ? c->qcap * 2 : 8;
		struct wamp_out **n = malloc(ncap * sizeof(*n));

		if (!n) {
			wamp_out_unref(o);
			cli_fail(c, CLI_EXIT_SESSION, "out of memory");
			return;
		}
		for (size_t i = 0; i < c->qlen; i++)
			n[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = n;
		c->qhead = 0;
		c->qcap = ncap;
	}
	c->q[(c->qhead + c->qlen++) % c->qcap] = o;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

void cli_send(struct cli *c, const struct wamp_msg *m)
{
	enum wampd_err err;
	struct wamp_out *o;

	if (c->state == ST_CLOSING)
		return;
	o = wamp_encode(c->ser, m, &err);
	if (!o) {
		cli_fail(c, err == WAMPD_ERR_NOMEM ? CLI_EXIT_SESSION : CLI_EXIT_USAGE,
		         "cannot encode %s in %s: %s", wamp_type_name(m->type), wamp_ser_name(c->ser),
		         wampd_err_str(err));
		return;
	}
	if (c->transport >= T_RS && o->len > RS_MAX_LEN) {
		wamp_out_unref(o);
		cli_fail(c, CLI_EXIT_USAGE, "%s too long for RawSocket", wamp_type_name(m->type));
		return;
	}
	cli_queue(c, o);
}

static void cli_on_deadline(lws_sorted_usec_list_t *sul)
{
	struct cli *c = lws_container_of(sul, struct cli, deadline);

	if (c->state == ST_LEAVING) {
		cli_close(c); /* the router did not answer GOODBYE: we are done all the same */
		return;
	}
	if (c->state == ST_JOINED && c->tool->expired && c->tool->expired(c))
		return;
	cli_fail(c, CLI_EXIT_TIMEOUT, "timeout: no %s within %g s", c->deadline_what,
	         c->deadline_s);
}

void cli_deadline(struct cli *c, double seconds, const char *what)
{
	if (seconds < 0)
		seconds = c->timeout_s;
	c->deadline_what = what;
	c->deadline_s = seconds;
	if (seconds == 0 || isinf(seconds))
		lws_sul_schedule(c->ctx, 0, &c->deadline, NULL, LWS_SET_TIMER_USEC_CANCEL);
	else
		lws_sul_schedule(c->ctx, 0, &c->deadline, cli_on_deadline,
		                 (lws_usec_t)(seconds * LWS_US_PER_SEC));
}

void cli_leave(struct cli *c, int code)
{
	struct wamp_msg bye = {.type = WAMP_GOODBYE, .uri = "wamp.close.close_realm",
	                       .uri_len = strlen("wamp.close.close_realm")};

	if (c->state != ST_JOINED) {
		if (c->state != ST_CLOSING) {
			c->exit_code = code;
			cli_close(c);
		}
		return;
	}
	c->exit_code = code;
	cli_send(c, &bye);
	if (c->state == ST_CLOSING)
		return;
	c->state = ST_LEAVING;
	cli_deadline(c, c->timeout_s < CLI_LEAVE_WAIT_S ? c->timeout_s : CLI_LEAVE_WAIT_S,
	             "GOODBYE");
}

void cli_payload_values(struct wamp_msg *m, json_t *args, json_t *kwargs)
{
	if (json_array_size(args) || json_object_size(kwargs))
		m->payload.args_v = args;
	if (json_object_size(kwargs))
		m->payload.kwargs_v = kwargs;
}

bool cli_payload(struct cli *c, const struct wamp_msg *m, json_t **args, json_t **kwargs)
{
	enum wampd_err e1 = WAMPD_OK, e2 = WAMPD_OK;

	*args = wamp_payload_args(&m->payload, &e1);
	*kwargs = wamp_payload_kwargs(&m->payload, &e2);
	if (e1 == WAMPD_OK && e2 == WAMPD_OK)
		return true;
	json_decref(*args);
	json_decref(*kwargs);
	*args = *kwargs = NULL;
	cli_fail(c, CLI_EXIT_SESSION, "cannot decode the payload of %s", wamp_type_name(m->type));
	return false;
}

void cli_error_reply(struct cli *c, const struct wamp_msg *m)
{
	json_t *args, *kwargs;
	char *a = NULL, *k = NULL;

	if (!cli_payload(c, m, &args, &kwargs))
		return;
	if (args && json_array_size(args))
		a = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
	if (kwargs && json_object_size(kwargs))
		k = json_dumps(kwargs, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fprintf(stderr, "%s: %.*s%s%s%s%s\n", c->tool->name, (int)m->uri_len, m->uri, a ? " " : "",
	        a ? a : "", k ? " " : "", k ? k : "");
	free(a);
	free(k);
	json_decref(args);
	json_decref(kwargs);
	cli_leave(c, CLI_EXIT_ERROR);
}

static void cli_send_hello(struct cli *c)
{
	char agent[64];
	struct wamp_msg hello = {.type = WAMP_HELLO, .uri = c->realm, .uri_len = strlen(c->realm)};

	snprintf(agent, sizeof(agent), "%s/%s", c->tool->name, WAMPD_VERSION);
	hello.dict = json_pack("{s:{s:{s:{s:b,s:b}},s:{s:{s:b}},s:{s:{s:b}}},s:s}",
	                       "roles",
	                       "caller", "features", "progressive_call_results", 1,
	                       "call_canceling", 1,
	                       "publisher", "features", "publisher_exclusion", 1,
	                       "subscriber", "features", "pattern_based_subscription", 1,
	                       "agent", agent);
	if (!hello.dict) {
		cli_fail(c, CLI_EXIT_SESSION, "out of memory");
		return;
	}
	if (c->ticket)
		json_object_set_new(hello.dict, "authmethods", json_pack("[s]", "ticket"));
	else if (c->authid)
		json_object_set_new(hello.dict, "authmethods", json_pack("[s]", "anonymous"));
	if (c->authid)
		json_object_set_new(hello.dict, "authid", json_string(c->authid));
	cli_send(c, &hello);
	json_decref(hello.dict);
	if (c->state != ST_CLOSING) {
		c->state = ST_HELLO;
		cli_deadline(c, -1, "WELCOME");
	}
}

/* ABORT: the session was refused or ended; its reason and message on stderr. */
static void cli_on_abort(struct cli *c, const struct wamp_msg *m, const char *what)
{
	const char *text = wamp_dict_str(m->dict, "message", NULL);

	cli_fail(c, CLI_EXIT_SESSION, "%s: %.*s%s%s", what, (int)m->uri_len, m->uri ? m->uri : "",
	         text ? ": " : "", text ? text : "");
}

static void cli_on_message(struct cli *c, const uint8_t *buf, size_t len)
{
	struct wamp_msg m;
	char why[160];

	if (c->state == ST_CLOSING)
		return;
	if (wamp_decode(c->ser, buf, len, NULL, &m, why, sizeof(why)) != WAMPD_OK) {
		cli_fail(c, CLI_EXIT_SESSION, "undecodable message from the router: %s", why);
		return;
	}
	switch (c->state) {
	case ST_HELLO:
		if (m.type == WAMP_WELCOME) {
			c->state = ST_JOINED;
			lws_sul_schedule(c->ctx, 0, &c->deadline, NULL, LWS_SET_TIMER_USEC_CANCEL);
			cli_note(c, "joined %s on %s as session %llu (authid %s, authrole %s)", c->realm,
			         c->url, (unsigned long long)m.id[0],
			         wamp_dict_str(m.dict, "authid", "?"), wamp_dict_str(m.dict, "authrole", "?"));
			c->tool->joined(c);
		} else if (m.type == WAMP_CHALLENGE && m.uri && !strcmp(m.uri, "ticket") && c->ticket) {
			struct wamp_msg auth = {.type = WAMP_AUTHENTICATE, .uri = c->ticket,
			                        .uri_len = strlen(c->ticket)};

			cli_send(c, &auth);
		} else if (m.type == WAMP_CHALLENGE) {
			cli_fail(c, CLI_EXIT_SESSION, "the router asks for %s authentication%s",
			         m.uri ? m.uri : "?",
			         m.uri && !strcmp(m.uri, "ticket") ? ": give --ticket" : ", which "
			         "this tool does not do (ticket only)");
		} else if (m.type == WAMP_ABORT) {
			cli_on_abort(c, &m, "the router refused the session");
		} else {
			cli_fail(c, CLI_EXIT_SESSION, "unexpected %s before WELCOME",
			         wamp_type_name(m.type));
		}
		break;
	case ST_JOINED:
		if (m.type == WAMP_GOODBYE) {
			struct wamp_msg bye = {.type = WAMP_GOODBYE, .uri = "wamp.close.goodbye_and_out",
			                       .uri_len = strlen("wamp.close.goodbye_and_out")};

			cli_send(c, &bye);
			cli_on_abort(c, &m, "the router ended the session");
		} else if (m.type == WAMP_ABORT) {
			cli_on_abort(c, &m, "the router aborted the session");
		} else {
			c->tool->message(c, &m);
		}
		break;
	case ST_LEAVING:
		if (m.type == WAMP_GOODBYE || m.type == WAMP_ABORT)
			cli_close(c);
		break; /* anything else arrived before our GOODBYE was read */
	default:
		cli_fail(c, CLI_EXIT_SESSION, "unexpected %s", wamp_type_name(m.type));
		break;
	}
	wamp_msg_clear(&m);
}

/* --------------------------------------------------------------------- RawSocket */

static bool cli_on_frame(void *ctx, enum rs_frame t, const uint8_t *data, uint32_t len)
{
	struct cli *c = ctx;

	if (t == RS_MSG) {
		cli_on_message(c, data, len);
	} else if (t == RS_PING) {
		struct wamp_out *o = wamp_out_new(len + 4);

		if (!o) {
			cli_fail(c, CLI_EXIT_SESSION, "out of memory");
			return false;
		}
		/* a PONG frame, written as it is (o->ser marks it) */
		rs_prefix(wamp_out_data(o), RS_PONG, len);
		memcpy(wamp_out_data(o) + 4, data, len);
		o->len = len + 4;
		o->ser = 0xff;
		cli_queue(c, o);
	}
	return c->state != ST_CLOSING;
}

static void cli_raw_rx(struct cli *c, const uint8_t *in, size_t n)
{
	enum rs_rx_result r;

	if (c->state == ST_RS_HANDSHAKE) {
		size_t k = 4 - c->hs_have < n ? 4 - c->hs_have : n;
		uint32_t peer_max;
		enum rs_error e;

		memcpy(c->hs + c->hs_have, in, k);
		c->hs_have += k;
		in += k;
		n -= k;
		if (c->hs_have < 4)
			return;
		e = rs_client_reply(c->hs, c->ser, &peer_max);
		if (e != RS_OK) {
			static const char *const why[] = {
				[RS_ERR_SERIALIZER] = "serializer not supported",
				[RS_ERR_MAX_LEN] = "maximum message length not acceptable",
				[RS_ERR_RESERVED] = "not a WAMP RawSocket reply",
				[RS_ERR_CONNECTIONS] = "too many connections",
			};

			cli_fail(c, CLI_EXIT_SESSION, "the router refused the RawSocket connection: %s",
			         e <= RS_ERR_CONNECTIONS ? why[e] : "unknown error code");
			return;
		}
		cli_send_hello(c);
	}
	r = rs_rx_feed(&c->rx, in, n, CLI_MAX_MESSAGE, cli_on_frame, c);
	if (r == RS_RX_BAD || r == RS_RX_TOO_BIG || r == RS_RX_NOMEM)
		cli_fail(c, CLI_EXIT_SESSION, "%s", r == RS_RX_BAD ? "malformed RawSocket frame" :
		         r == RS_RX_TOO_BIG ? "a message over 16 MiB" : "out of memory");
}

/* -------------------------------------------------------------------- lws glue */

static int cli_write(struct cli *c, struct lws *wsi)
{
	struct wamp_out *o;
	uint8_t *p;
	size_t n;
	int w;

	if (!c->qlen) {
		if (c->state != ST_CLOSING)
			return 0;
		if (c->transport <= T_WSS)
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	o = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	p = wamp_out_data(o);
	n = o->len;
	if (c->transport <= T_WSS) {
		w = lws_write(wsi, p, n, o->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	} else {
		if (o->ser != 0xff) { /* a WAMP message: its prefix goes into the headroom */
			p -= 4;
			rs_prefix(p, RS_MSG, (uint32_t)n);
			n += 4;
		}
		w = lws_write(wsi, p, n, LWS_WRITE_RAW);
	}
	wamp_out_unref(o);
	if (w < (int)n) {
		if (c->state != ST_CLOSING)
			cli_fail(c, CLI_EXIT_SESSION, "write to the router failed");
		return -1;
	}
	if (c->qlen || c->state == ST_CLOSING)
		lws_callback_on_writable(wsi);
	return 0;
}

static void cli_connected(struct cli *c)
{
	cli_note(c, "connected to %s", c->url);
	if (c->transport <= T_WSS) {
		cli_send_hello(c);
		return;
	}
	/* RawSocket: the 4-octet hello first, written as it is */
	{
		struct wamp_out *o = wamp_out_new(4);

		if (!o) {
			cli_fail(c, CLI_EXIT_SESSION, "out of memory");
			return;
		}
		rs_client_hello(wamp_out_data(o), c->ser, CLI_MAX_MESSAGE);
		o->len = 4;
		o->ser = 0xff;
		c->state = ST_RS_HANDSHAKE;
		cli_deadline(c, -1, "RawSocket handshake reply");
		cli_queue(c, o);
	}
}

static void cli_gone(struct cli *c, const char *why)
{
	c->wsi = NULL;
	c->closed = true;
	if (c->state == ST_CLOSING)
		return;
	if (c->state == ST_LEAVING) {
		c->state = ST_CLOSING; /* closed instead of answering GOODBYE: done all the same */
		return;
	}
	if (c->state == ST_CONNECTING)
		cli_fail(c, CLI_EXIT_SESSION, "cannot connect to %s: %s%s", c->url, why,
		         c->transport == T_WSS && strstr(why, "SSL") ?
		         " (a certificate not trusted? --cafile FILE names the CA, -k trusts any)" : "");
	else
		cli_fail(c, CLI_EXIT_SESSION, "the router closed the connection%s",
		         c->state == ST_HELLO ? " (no WELCOME)" : "");
}

static int cli_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
	struct cli *c = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
	case LWS_CALLBACK_RAW_CONNECTED:
		cli_connected(c);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		bool first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);

		if (first && final) {
			cli_on_message(c, in, len);
			return 0;
		}
		if (first)
			c->frag_len = 0;
		if (c->frag_len + len > CLI_MAX_MESSAGE) {
			cli_fail(c, CLI_EXIT_SESSION, "a message over 16 MiB");
			return 0;
		}
		{
			uint8_t *n = realloc(c->frag, c->frag_len + len);

			if (!n) {
				cli_fail(c, CLI_EXIT_SESSION, "out of memory");
				return 0;
			}
			c->frag = n;
		}
		memcpy(c->frag + c->frag_len, in, len);
		c->frag_len += len;
		if (final)
			cli_on_message(c, c->frag, c->frag_len);
		return 0;
	}
	case LWS_CALLBACK_RAW_RX:
		cli_raw_rx(c, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
	case LWS_CALLBACK_RAW_WRITEABLE:
		return cli_write(c, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c)
			cli_gone(c, in && len ? (const char *)in : "connection failed");
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_RAW_CLOSE:
		if (c)
			cli_gone(c, "closed");
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols cli_protocols[] = {
	{"wampcli", cli_callback, 0, 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void cli_on_tick(lws_sorted_usec_list_t *sul)
{
	struct cli *c = lws_container_of(sul, struct cli, tick);

	if (cli_signalled && !c->interrupt_handled) {
		c->interrupt_handled = true;
		if (c->state == ST_JOINED && c->tool->interrupted)
			c->tool->interrupted(c);
		else
			cli_leave(c, CLI_EXIT_INTERRUPTED);
	}
	lws_sul_schedule(c->ctx, 0, &c->tick, cli_on_tick, CLI_TICK_US);
}

static bool cli_connect(struct cli *c)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = c->ctx;
	i.address = c->host;
	i.port = c->port;
	i.host = c->host;
	i.origin = c->host;
	i.userdata = c;
	i.pwsi = &c->wsi;
	i.local_protocol_name = "wampcli";
	if (c->transport <= T_WSS) {
		i.path = c->path;
		i.protocol = wamp_ser_desc(c->ser)->subprotocol;
	} else {
		i.method = "RAW";
	}
	if (c->transport == T_WSS) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (c->insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
			                    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	cli_deadline(c, -1, "connection");
	return lws_client_connect_via_info(&i) != NULL || c->closed;
}

int cli_main(const struct cli_tool *tool, int argc, char **argv)
{
	struct cli c = {.tool = tool, .url = "ws://127.0.0.1:8080/ws", .realm = "realm1",
	                .ser = WAMP_SER_JSON, .timeout_s = 10};
	struct lws_context_creation_info info;
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

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal; /* no SA_RESTART: poll() returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(c.verbose ? LLL_ERR | LLL_WARN : 0, NULL);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = cli_protocols;
	if (c.transport == T_WSS) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = c.cafile;
	}
	c.ctx = lws_create_context(&info);
	if (!c.ctx) {
		fprintf(stderr, "%s: cannot create the libwebsockets context\n", tool->name);
		rc = CLI_EXIT_SESSION;
		goto out;
	}
	lws_sul_schedule(c.ctx, 0, &c.tick, cli_on_tick, CLI_TICK_US);
	if (!cli_connect(&c)) {
		fprintf(stderr, "%s: cannot connect to %s\n", tool->name, c.url);
		c.exit_code = CLI_EXIT_SESSION;
		c.closed = true;
	}
	while (!c.closed)
		if (lws_service(c.ctx, 0) < 0)
			break;
	lws_context_destroy(c.ctx);
	rc = c.exit_code;
out:
	while (c.qlen) {
		wamp_out_unref(c.q[c.qhead]);
		c.qhead = (c.qhead + 1) % c.qcap;
		c.qlen--;
	}
	free(c.q);
	free(c.frag);
	rs_rx_clear(&c.rx);
	free(args);
	return rc;
}
