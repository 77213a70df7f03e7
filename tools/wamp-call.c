/*
 * wamp-call.c - call a WAMP procedure from the command line and print its result.
 *
 *   wamp-call [options] PROCEDURE [ARG...]      each ARG a JSON value; --kw KEY=JSON
 *
 * The result goes to stdout as one line of JSON: nothing positional and no keywords ->
 * null; one positional result -> that value; several -> their list; with keyword results
 * (or --full) -> {"args": [...], "kwargs": {...}}. --progress asks for progressive results
 * and prints each as its own line. An ERROR prints its URI (and arguments) on stderr and
 * exits 1; see wampcli.h for the other exit codes.
 */
#include <stdio.h>
#include <string.h>

#include "tools/wampcli.h"

struct call {
	const char *procedure;
	wampc_value *args, *kwargs;
	bool full, progress;
};

enum { OPT_KW, OPT_FULL, OPT_PROGRESS };

static const struct cli_option call_options[] = {
	{"kw", 0, true, "KEY=JSON", "a keyword argument (repeatable)"},
	{"full", 0, false, NULL, "print {\"args\": [...], \"kwargs\": {...}} whatever the result"},
	{"progress", 0, false, NULL, "receive progressive results, one line each"},
	{NULL, 0, false, NULL, NULL},
};

static bool call_option(void *ud, int index, const char *arg)
{
	struct call *k = ud;

	switch (index) {
	case OPT_KW:
		return cli_kw_arg("wamp-call", k->kwargs, arg);
	case OPT_FULL:
		k->full = true;
		return true;
	case OPT_PROGRESS:
		k->progress = true;
		return true;
	}
	return false;
}

static bool call_args(void *ud, int argc, char **argv)
{
	struct call *k = ud;

	k->procedure = argv[0];
	return cli_json_args("wamp-call", k->args, argc - 1, argv + 1);
}

/* A value of the result to print, copied (NULL: none, or no memory). */
static wampc_value *or_empty(const wampc_value *v, wampc_value *(*empty)(void))
{
	return v ? wampc_value_copy(v) : empty();
}

/* The result as wamp-call prints it (see the top of this file). New value. */
static wampc_value *call_output(const struct call *k, const wampc_value *args,
                                const wampc_value *kwargs)
{
	if (k->full || wampc_map_size(kwargs)) {
		wampc_value *m = wampc_map();

		if (wampc_map_set(m, "args", or_empty(args, wampc_array)) != WAMPD_OK ||
		    wampc_map_set(m, "kwargs", or_empty(kwargs, wampc_map)) != WAMPD_OK) {
			wampc_value_free(m);
			return NULL;
		}
		return m;
	}
	if (!wampc_array_size(args))
		return wampc_null();
	if (wampc_array_size(args) == 1)
		return wampc_value_copy(wampc_array_get(args, 0));
	return wampc_value_copy(args);
}

static void call_reply(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct cli *c = ud;
	struct call *k = cli_ud(c);
	wampc_value *args, *kwargs, *out;
	bool printed;

	if (r->error) {
		cli_error_reply(c, r);
		return;
	}
	if (!cli_payload(c, r->payload, &args, &kwargs))
		return;
	out = call_output(k, args, kwargs);
	printed = out && cli_print_json(out);
	wampc_value_free(out);
	wampc_value_free(args);
	wampc_value_free(kwargs);
	if (!printed)
		cli_leave(c, CLI_EXIT_SESSION);
	else if (!r->progress)
		cli_leave(c, CLI_EXIT_OK);
	else
		cli_deadline(c, -1, "RESULT"); /* each progressive result restarts the clock */
}

static void call_joined(struct cli *c)
{
	struct call *k = cli_ud(c);
	struct wampc_call_opts o = {.receive_progress = k->progress};
	struct wampc_payload p;
	enum wampd_err err;

	/* no timeout option: the wait is the tool's (--timeout), the router is not asked to
	 * cancel the call */
	err = wampc_call(cli_client(c), k->procedure, &o, cli_payload_values(&p, k->args, k->kwargs),
	                 call_reply, c, NULL);
	if (err != WAMPD_OK)
		cli_request_failed(c, "CALL", err);
	else
		cli_deadline(c, -1, "RESULT");
}

int main(int argc, char **argv)
{
	struct call k = {.args = wampc_array(), .kwargs = wampc_map()};
	const struct cli_tool tool = {
		.name = "wamp-call",
		.synopsis = "PROCEDURE [ARG...]",
		.description = "Call PROCEDURE with the given positional arguments (each a JSON "
		               "value: 42, '\"text\"', '[1,2]') and keyword arguments, and print "
		               "the result as one line of JSON: null, the one value, the list of "
		               "values, or {\"args\": [...], \"kwargs\": {...}} when there are "
		               "keyword results. An ERROR prints its URI on stderr and exits 1.",
		.options = call_options,
		.min_args = 1,
		.roles = WAMPC_ROLE_CALLER,
		.option = call_option,
		.args = call_args,
		.joined = call_joined,
		.ud = &k,
	};
	int rc;

	if (!k.args || !k.kwargs)
		return CLI_EXIT_SESSION;
	rc = cli_main(&tool, argc, argv);
	wampc_value_free(k.args);
	wampc_value_free(k.kwargs);
	return rc;
}
