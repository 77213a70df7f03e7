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
	json_t *args, *kwargs;
	bool full, progress;
	uint64_t request;
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

static void call_joined(struct cli *c)
{
	struct call *k = cli_ud(c);
	struct wamp_msg m = {.type = WAMP_CALL, .uri = k->procedure, .uri_len = strlen(k->procedure)};

	k->request = cli_request_id(c);
	m.id[0] = k->request;
	if (k->progress)
		m.dict = json_pack("{s:b}", "receive_progress", 1);
	cli_payload_values(&m, k->args, k->kwargs);
	cli_send(c, &m);
	json_decref(m.dict);
	cli_deadline(c, -1, "RESULT");
}

/* The result as wamp-call prints it (see the top of this file). New reference. */
static json_t *call_output(const struct call *k, json_t *args, json_t *kwargs)
{
	if (k->full || json_object_size(kwargs))
		return json_pack("{s:o,s:o}", "args", args ? json_incref(args) : json_array(),
		                 "kwargs", kwargs ? json_incref(kwargs) : json_object());
	if (!json_array_size(args))
		return json_null();
	if (json_array_size(args) == 1)
		return json_incref(json_array_get(args, 0));
	return json_incref(args);
}

static void call_message(struct cli *c, const struct wamp_msg *m)
{
	struct call *k = cli_ud(c);
	json_t *args, *kwargs, *out;
	bool progress, printed;

	if (m->type == WAMP_ERROR && m->id[0] == WAMP_CALL && m->id[1] == k->request) {
		cli_error_reply(c, m);
		return;
	}
	if (m->type != WAMP_RESULT || m->id[0] != k->request) {
		cli_fail(c, CLI_EXIT_SESSION, "unexpected %s from the router", wamp_type_name(m->type));
		return;
	}
	if (!cli_payload(c, m, &args, &kwargs))
		return;
	progress = wamp_dict_bool(m->dict, "progress", false);
	out = call_output(k, args, kwargs);
	printed = out && cli_print_json(out);
	json_decref(out);
	json_decref(args);
	json_decref(kwargs);
	if (!printed)
		cli_leave(c, CLI_EXIT_SESSION);
	else if (!progress)
		cli_leave(c, CLI_EXIT_OK);
	else
		cli_deadline(c, -1, "RESULT"); /* each progressive result restarts the clock */
}

int main(int argc, char **argv)
{
	struct call k = {.args = json_array(), .kwargs = json_object()};
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
		.option = call_option,
		.args = call_args,
		.joined = call_joined,
		.message = call_message,
		.ud = &k,
	};
	int rc;

	if (!k.args || !k.kwargs)
		return CLI_EXIT_SESSION;
	rc = cli_main(&tool, argc, argv);
	json_decref(k.args);
	json_decref(k.kwargs);
	return rc;
}
