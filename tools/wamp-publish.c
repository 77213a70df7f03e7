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
	json_t *args, *kwargs;
	bool acknowledge, retain;
	uint64_t request;
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

static void pub_joined(struct cli *c)
{
	struct pub *p = cli_ud(c);
	struct wamp_msg m = {.type = WAMP_PUBLISH, .uri = p->topic, .uri_len = strlen(p->topic)};

	p->request = cli_request_id(c);
	m.id[0] = p->request;
	m.dict = json_object();
	if (p->acknowledge)
		json_object_set_new(m.dict, "acknowledge", json_true());
	if (p->retain)
		json_object_set_new(m.dict, "retain", json_true());
	cli_payload_values(&m, p->args, p->kwargs);
	cli_send(c, &m);
	json_decref(m.dict);
	if (p->acknowledge)
		cli_deadline(c, -1, "PUBLISHED");
	else
		cli_leave(c, CLI_EXIT_OK);
}

static void pub_message(struct cli *c, const struct wamp_msg *m)
{
	struct pub *p = cli_ud(c);

	if (m->type == WAMP_PUBLISHED && m->id[0] == p->request) {
		cli_note(c, "published to %s (publication %llu)", p->topic,
		         (unsigned long long)m->id[1]);
		cli_leave(c, CLI_EXIT_OK);
	} else if (m->type == WAMP_ERROR && m->id[0] == WAMP_PUBLISH && m->id[1] == p->request) {
		cli_error_reply(c, m);
	} else {
		cli_fail(c, CLI_EXIT_SESSION, "unexpected %s from the router", wamp_type_name(m->type));
	}
}

int main(int argc, char **argv)
{
	struct pub p = {.args = json_array(), .kwargs = json_object()};
	const struct cli_tool tool = {
		.name = "wamp-publish",
		.synopsis = "TOPIC [ARG...]",
		.description = "Publish one event to TOPIC with the given positional arguments "
		               "(each a JSON value: 42, '\"text\"', '{\"a\":1}') and keyword "
		               "arguments. With --acknowledge, wait until the router confirms it; "
		               "a refusal prints its URI on stderr and exits 1.",
		.options = pub_options,
		.min_args = 1,
		.option = pub_option,
		.args = pub_args,
		.joined = pub_joined,
		.message = pub_message,
		.ud = &p,
	};
	int rc;

	if (!p.args || !p.kwargs)
		return CLI_EXIT_SESSION;
	rc = cli_main(&tool, argc, argv);
	json_decref(p.args);
	json_decref(p.kwargs);
	return rc;
}
