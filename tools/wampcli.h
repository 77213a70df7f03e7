/*
 * wampcli.h - what wamp-call, wamp-publish and wamp-subscribe share: the command line
 * (common options, JSON arguments), one WAMP session on a libwebsockets client connection
 * (WebSocket ws:// wss://, RawSocket rs:// and unix:), and the exit codes.
 *
 * A tool fills a struct cli_tool and calls cli_main(). The core connects, joins the realm
 * (anonymous, or ticket authentication with --authid/--ticket), calls tool->joined, hands
 * every later message to tool->message, and returns the exit code once the session is over:
 * the tool ends it with cli_leave() (GOODBYE, waiting a bounded time for the router's) or
 * cli_fail() (closes at once). Every wait for the router is bounded by --timeout (or by
 * the deadline the tool sets with cli_deadline()).
 *
 * Encoding and decoding use serializers/ (the router's codecs), RawSocket framing
 * serializers/rawsocket.c (wampd_rawsocket). Messages are sent from the WRITEABLE callback, one
 * lws_write per callback, like the router.
 */
#ifndef WAMPD_TOOLS_WAMPCLI_H
#define WAMPD_TOOLS_WAMPCLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "serializers/wamp_msg.h"

/* Exit codes (the man page lists them). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1,       /* the router answered the request with ERROR */
	CLI_EXIT_USAGE = 2,       /* bad command line */
	CLI_EXIT_SESSION = 3,     /* no connection, ABORT (e.g. authentication_failed), or
	                             the router ended the session or the connection */
	CLI_EXIT_TIMEOUT = 4,     /* no answer within --timeout */
	CLI_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM (wamp-subscribe: 0, its normal end) */
};

/* A tool's own option: --name [value] (value when has_arg). */
struct cli_option {
	const char *name;
	char short_name; /* 0: none */
	bool has_arg;
	const char *arg_name; /* for --help, e.g. "KEY=JSON" */
	const char *help;
};

struct cli;

struct cli_tool {
	const char *name;           /* "wamp-call" */
	const char *synopsis;       /* "PROCEDURE [ARG...]" */
	const char *description;    /* one paragraph for --help */
	const struct cli_option *options; /* the tool's own, NULL-name terminated (or NULL) */
	unsigned min_args;          /* positional arguments required */
	/* An option of the tool's own (index into options; arg NULL without has_arg). Return
	 * false with a message on stderr to reject it (exit 2). */
	bool (*option)(void *ud, int index, const char *arg);
	/* The positional arguments, before connecting. false: usage error (message printed). */
	bool (*args)(void *ud, int argc, char **argv);
	/* Joined: send the first request. */
	void (*joined)(struct cli *c);
	/* Every message after WELCOME except GOODBYE and ABORT, which the core handles. */
	void (*message)(struct cli *c, const struct wamp_msg *m);
	/* A deadline set with cli_deadline() passed. Return false to fail with
	 * CLI_EXIT_TIMEOUT (also what NULL does). */
	bool (*expired)(struct cli *c);
	/* SIGINT/SIGTERM. NULL: leave with CLI_EXIT_INTERRUPTED. */
	void (*interrupted)(struct cli *c);
	void *ud;
};

/* Parse the command line, run the session, return the exit code (enum cli_exit). */
int cli_main(const struct cli_tool *tool, int argc, char **argv);

/* The tool's user data, and the next request id of the session. */
void *cli_ud(struct cli *c);
uint64_t cli_request_id(struct cli *c);

/* Encode m in the session's serializer and queue it (m is borrowed). On an encoding
 * failure the session fails with CLI_EXIT_USAGE (the arguments cannot be sent). */
void cli_send(struct cli *c, const struct wamp_msg *m);

/* End the session: GOODBYE, then close when the router answers (or after 2 s), and
 * return `code` from cli_main. */
void cli_leave(struct cli *c, int code);

/* Print "<tool>: <message>" on stderr and close at once; cli_main returns `code`. */
void cli_fail(struct cli *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report an ERROR reply (its URI, Arguments and ArgumentsKw on stderr) and leave with
 * CLI_EXIT_ERROR. */
void cli_error_reply(struct cli *c, const struct wamp_msg *m);

/* Bound the next wait: `seconds` from now the session fails with CLI_EXIT_TIMEOUT naming
 * `what`. seconds < 0: the --timeout given (default 10 s). 0 or +inf: no deadline. */
void cli_deadline(struct cli *c, double seconds, const char *what);

/* -v: progress on stderr. */
void cli_note(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append argv[0..argc) as JSON values (any type) to list. false with a message naming the
 * argument ("argument 2 is not JSON ...") on stderr. */
bool cli_json_args(const char *tool, json_t *list, int argc, char **argv);

/* Parse KEY=JSON into obj (set or replaced). false with a message on stderr. */
bool cli_kw_arg(const char *tool, json_t *obj, const char *text);

/* Print a JSON value as one line on stdout and flush it. false if stdout failed (e.g.
 * its reader went away). */
bool cli_print_json(const json_t *v);

/* Give m the payload args/kwargs (borrowed): none when both are empty, Arguments alone
 * without keywords, both otherwise. */
void cli_payload_values(struct wamp_msg *m, json_t *args, json_t *kwargs);

/* The payload's Arguments and ArgumentsKw as values (new references, NULL if absent);
 * false if they cannot be decoded (the session then fails). */
bool cli_payload(struct cli *c, const struct wamp_msg *m, json_t **args, json_t **kwargs);

#endif
