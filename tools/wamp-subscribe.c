/*
 * wamp-subscribe.c - subscribe to a WAMP topic and print every event as a JSON line.
 *
 *   wamp-subscribe [options] TOPIC              --match prefix|wildcard, --count N
 *
 * Each EVENT becomes one line on stdout, flushed at once:
 *   {"topic": "com.example.news", "args": [...], "kwargs": {...}}
 * (args/kwargs only when the event has them; --details adds the event's Details). It runs
 * until SIGINT/SIGTERM (exit 0), --count events, or --wait seconds; -v reports the
 * subscription on stderr, so a script can tell when events will be received.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/wampcli.h"

struct sub {
	const char *topic, *match;
	unsigned long count, received;
	double wait_s;
	bool details, retained, subscribed;
};

enum { OPT_MATCH, OPT_COUNT, OPT_WAIT, OPT_DETAILS, OPT_RETAINED };

static const struct cli_option sub_options[] = {
	{"match", 'm', true, "POLICY", "exact (default), prefix or wildcard"},
	{"count", 'n', true, "N", "exit after N events"},
	{"wait", 'W', true, "SECONDS", "exit after this long (with --count unmet: exit 4)"},
	{"details", 0, false, NULL, "add each event's Details (publisher, topic, ...)"},
	{"retained", 0, false, NULL, "ask for the topic's retained event first"},
	{NULL, 0, false, NULL, NULL},
};

static bool sub_option(void *ud, int index, const char *arg)
{
	struct sub *s = ud;
	char *end;

	switch (index) {
	case OPT_MATCH:
		if (strcmp(arg, "exact") && strcmp(arg, "prefix") && strcmp(arg, "wildcard")) {
			fprintf(stderr, "wamp-subscribe: --match: exact, prefix or wildcard, not %s\n",
			        arg);
			return false;
		}
		s->match = strcmp(arg, "exact") ? arg : NULL;
		return true;
	case OPT_COUNT:
		s->count = strtoul(arg, &end, 10);
		if (*end || !s->count || arg[0] == '-') {
			fprintf(stderr, "wamp-subscribe: --count: a number > 0, not %s\n", arg);
			return false;
		}
		return true;
	case OPT_WAIT:
		s->wait_s = strtod(arg, &end);
		if (*end || !(s->wait_s > 0) || isinf(s->wait_s)) {
			fprintf(stderr, "wamp-subscribe: --wait: a number of seconds > 0, not %s\n", arg);
			return false;
		}
		return true;
	case OPT_DETAILS:
		s->details = true;
		return true;
	case OPT_RETAINED:
		s->retained = true;
		return true;
	}
	return false;
}

static bool sub_args(void *ud, int argc, char **argv)
{
	struct sub *s = ud;

	if (argc != 1) {
		fprintf(stderr, "wamp-subscribe: one TOPIC only (got %d arguments)\n", argc);
		return false;
	}
	s->topic = argv[0];
	return true;
}

/* {"topic": ..., "args": ..., "kwargs": ..., "details": ...} for one EVENT. */
static void sub_event(wampc *wc, const struct wampc_event *e, void *ud)
{
	struct cli *c = ud;
	struct sub *s = cli_ud(c);
	wampc_value *args, *kwargs, *line;
	bool ok;

	if (!cli_payload(c, e->payload, &args, &kwargs))
		return;
	line = wampc_map();
	ok = wampc_map_set(line, "topic", wampc_string(e->topic)) == WAMPD_OK &&
	     (!args || wampc_map_set(line, "args", args) == WAMPD_OK) &&
	     (!kwargs || wampc_map_set(line, "kwargs", kwargs) == WAMPD_OK) &&
	     (!s->details || wampc_map_set(line, "details", e->details ?
	                                   wampc_value_copy(e->details) : wampc_map()) == WAMPD_OK);
	args = kwargs = NULL; /* the line took them (or freed them on failure) */
	ok = ok && cli_print_json(line);
	wampc_value_free(line);
	if (!ok) {
		cli_leave(c, CLI_EXIT_OK); /* stdout is gone (e.g. | head -1): nobody to print to */
		return;
	}
	if (s->count && ++s->received == s->count)
		cli_leave(c, CLI_EXIT_OK);
}

static void sub_reply(wampc *wc, const struct wampc_reply *r, void *ud)
{
	struct cli *c = ud;
	struct sub *s = cli_ud(c);

	if (r->error) {
		cli_error_reply(c, r);
		return;
	}
	s->subscribed = true;
	cli_note(c, "subscribed to %s%s%s (subscription %llu)", s->topic, s->match ? " match " : "",
	         s->match ? s->match : "", (unsigned long long)r->id);
	cli_deadline(c, s->wait_s, "events"); /* 0: wait as long as it takes */
}

static void sub_joined(struct cli *c)
{
	struct sub *s = cli_ud(c);
	struct wampc_subscribe_opts o = {
		.match = !s->match                     ? WAMPC_MATCH_EXACT
		         : !strcmp(s->match, "prefix") ? WAMPC_MATCH_PREFIX
		                                       : WAMPC_MATCH_WILDCARD,
		.get_retained = s->retained};
	enum wampd_err err;

	err = wampc_subscribe(cli_client(c), s->topic, &o, sub_event, c, sub_reply, c, NULL);
	if (err != WAMPD_OK)
		cli_request_failed(c, "SUBSCRIBE", err);
	else
		cli_deadline(c, -1, "SUBSCRIBED");
}

/* --wait passed: done, unless --count events were asked for and have not all come. */
static bool sub_expired(struct cli *c)
{
	struct sub *s = cli_ud(c);

	if (!s->subscribed)
		return false;
	if (s->count)
		cli_fail(c, CLI_EXIT_TIMEOUT, "timeout: %lu of %lu events within %g s", s->received,
		         s->count, s->wait_s);
	else
		cli_leave(c, CLI_EXIT_OK);
	return true;
}

/* SIGINT/SIGTERM: the normal way to stop listening. */
static void sub_interrupted(struct cli *c)
{
	cli_leave(c, CLI_EXIT_OK);
}

int main(int argc, char **argv)
{
	struct sub s = {0};
	const struct cli_tool tool = {
		.name = "wamp-subscribe",
		.synopsis = "TOPIC",
		.description = "Subscribe to TOPIC (or, with --match, to every topic it is a "
		               "prefix or wildcard pattern of) and print each event as one line "
		               "of JSON: {\"topic\": ..., \"args\": [...], \"kwargs\": {...}}. "
		               "Runs until interrupted, --count events or --wait seconds.",
		.options = sub_options,
		.min_args = 1,
		.roles = WAMPC_ROLE_SUBSCRIBER,
		.option = sub_option,
		.args = sub_args,
		.joined = sub_joined,
		.expired = sub_expired,
		.interrupted = sub_interrupted,
		.ud = &s,
	};

	return cli_main(&tool, argc, argv);
}
