/*
 * wamp-publish.c - publish one WAMP event from the command line.
 *
 *   wamp-publish [options] TOPIC [ARG...]       each ARG a JSON value; --kw KEY=JSON
 *
 * Without --acknowledge the event is sent and the session left at once (the router handles
 * the PUBLISH before the GOODBYE that follows it). With --acknowledge wamp-publish waits
 * for PUBLISHED (exit 0) or ERROR (its URI on stderr, exit 1).
 */
#include <stdio.h>
#include <string.h>

#include "tools/wampcli.h"

struct pub {
	const char *topic;
	wampc_value *args, *kwargs;
	bool acknowledge, retain;
};

enum { OPT_KW, OPT_ACK, OPT_RETAIN };

static const struct cli_option pub_options[] = {
	{"kw", 0, true, "KEY=JSON", "a keyword argument (repeatable)"},
	{"acknowledge", 0, false, NULL, "wait for the router to confirm (or refuse) the event"},
	{"retain", 0, false, NULL, "ask the router to keep the event for later subscribers"},
	{NULL, 0, false, NULL, NULL},
};

static bool pub_option(void *ud, int index, const char *arg)
{
	struct pub *p = ud;

	switch (index) {
	case OPT_KW:
		return cli_kw_arg("wamp-publish", p->kwargs, arg);
	case OPT_ACK:
		p->acknowledge = true;
		return true;
	case OPT_RETAIN:
		p->retain = true;
		return true;
	}
	return false;
}

static bool pub_args(void *ud, int argc, char **argv)
{
	struct pub *p = ud;

	p->topic = argv[0];
	return cli_json_args("wamp-publish", p->args, argc - 1, argv + 1);
}

static void pub_reply(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct cli *c = ud;
	struct pub *p = cli_ud(c);

	if (r->error) {
		cli_error_reply(c, r);
		return;
	}
	cli_note(c, "published to %s (publication %llu)", p->topic, (unsigned long long)r->id);
	cli_leave(c, CLI_EXIT_OK);
}

static void pub_joined(struct cli *c)
{
	struct pub *p = cli_ud(c);
	struct wampc_publish_opts o = {.acknowledge = p->acknowledge, .retain = p->retain};
	struct wampc_payload pl;
	enum wampd_err err;

	err = wampc_publish(cli_client(c), p->topic, &o, cli_payload_values(&pl, p->args, p->kwargs),
	                    p->acknowledge ? pub_reply : NULL, c, NULL);
	if (err != WAMPD_OK)
		cli_request_failed(c, "PUBLISH", err);
	else if (p->acknowledge)
		cli_deadline(c, -1, "PUBLISHED");
	else
		cli_leave(c, CLI_EXIT_OK); /* the GOODBYE follows the PUBLISH */
}

int main(int argc, char **argv)
{
	struct pub p = {.args = wampc_array(), .kwargs = wampc_map()};
	const struct cli_tool tool = {
		.name = "wamp-publish",
		.synopsis = "TOPIC [ARG...]",
		.description = "Publish one event to TOPIC with the given positional arguments "
		               "(each a JSON value: 42, '\"text\"', '{\"a\":1}') and keyword "
		               "arguments. With --acknowledge, wait until the router confirms it; "
		               "a refusal prints its URI on stderr and exits 1.",
		.options = pub_options,
		.min_args = 1,
		.roles = WAMPC_ROLE_PUBLISHER,
		.option = pub_option,
		.args = pub_args,
		.joined = pub_joined,
		.ud = &p,
	};
	int rc;

	if (!p.args || !p.kwargs)
		return CLI_EXIT_SESSION;
	rc = cli_main(&tool, argc, argv);
	wampc_value_free(p.args);
	wampc_value_free(p.kwargs);
	return rc;
}
