/*
 * wampcli.h - what wamp-call, wamp-publish and wamp-subscribe share: the command line
 * (common options, JSON arguments), one WAMP session through libwampc, and the exit codes.
 *
 * A tool fills a struct cli_tool and calls cli_main(). The session is a libwampc client
 * (client/wampc.h): WebSocket (ws://, wss://) on the libwebsockets adapter (libwampc-ws),
 * RawSocket (rs://, rss://, unix:) on the POSIX adapter; anonymous, or ticket
 * authentication with --authid/--ticket; no reconnect. cli_main joins the realm, calls
 * tool->joined (which makes its request with the library, cli_client()), and returns the
 * exit code once the session is over: the tool ends it with cli_leave() (GOODBYE, waiting
 * a bounded time for the router's) or cli_fail() (drops it at once). How the session
 * ends otherwise (refused, ABORT, the connection lost, a timeout) is mapped to the exit
 * codes here. Every wait for the router is bounded by --timeout: joining by the library's
 * join timeout, each later step by the deadline the tool sets with cli_deadline().
 */
#ifndef WAMPD_TOOLS_WAMPCLI_H
#define WAMPD_TOOLS_WAMPCLI_H

#include <stdbool.h>
#include <stdint.h>

#include "client/wampc.h"

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
	unsigned roles;             /* the WAMPC_ROLE_* it announces */
	/* An option of the tool's own (index into options; arg NULL without has_arg). Return
	 * false with a message on stderr to reject it (exit 2). */
	bool (*option)(void *ud, int index, const char *arg);
	/* The positional arguments, before connecting. false: usage error (message printed). */
	bool (*args)(void *ud, int argc, char **argv);
	/* Joined: make the request (cli_client); its answers come to the tool's callbacks. */
	void (*joined)(struct cli *c);
	/* A deadline set with cli_deadline() passed. Return false to fail with
	 * CLI_EXIT_TIMEOUT (also what NULL does). */
	bool (*expired)(struct cli *c);
	/* SIGINT/SIGTERM. NULL: leave with CLI_EXIT_INTERRUPTED. */
	void (*interrupted)(struct cli *c);
	void *ud;
};

/* Parse the command line, run the session, return the exit code (enum cli_exit). */
int cli_main(const struct cli_tool *tool, int argc, char **argv);

/* The tool's user data, and the session's client (valid while cli_main runs). */
void *cli_ud(struct cli *c);
wampc *cli_client(struct cli *c);

/* A request the library refused to make (err): the session fails, with CLI_EXIT_USAGE
 * when the arguments cannot be encoded, else CLI_EXIT_SESSION, naming `what`. */
void cli_request_failed(struct cli *c, const char *what, enum wampd_err err);

/* End the session: GOODBYE, then close when the router answers (or after 2 s, --timeout
 * if shorter), and return `code` from cli_main. */
void cli_leave(struct cli *c, int code);

/* Print "<tool>: <message>" on stderr and drop the session at once; cli_main returns
 * `code`. */
void cli_fail(struct cli *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report an ERROR reply (its URI, Arguments and ArgumentsKw on stderr) and leave with
 * CLI_EXIT_ERROR. */
void cli_error_reply(struct cli *c, const struct wampc_reply *r);

/* Bound the next wait: `seconds` from now the session fails with CLI_EXIT_TIMEOUT naming
 * `what`. seconds < 0: the --timeout given (default 10 s). 0 or +inf: no deadline. */
void cli_deadline(struct cli *c, double seconds, const char *what);

/* -v: progress on stderr. */
void cli_note(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append argv[0..argc) as JSON values (any type) to the array list. false with a message
 * naming the argument ("argument 2 is not JSON ...") on stderr. */
bool cli_json_args(const char *tool, wampc_value *list, int argc, char **argv);

/* Parse KEY=JSON into the map obj (set or replaced). false with a message on stderr. */
bool cli_kw_arg(const char *tool, wampc_value *obj, const char *text);

/* Print a value as one line of JSON on stdout and flush it. false if stdout failed (e.g.
 * its reader went away). */
bool cli_print_json(const wampc_value *v);

/* The payload of args/kwargs (borrowed) in *p: none when both are empty, Arguments alone
 * without keywords, both otherwise. Returns p. */
const struct wampc_payload *cli_payload_values(struct wampc_payload *p, const wampc_value *args,
                                               const wampc_value *kwargs);

/* A payload's Arguments and ArgumentsKw as values (new, the caller frees them; NULL if
 * absent); false if they cannot be decoded (the session then fails). */
bool cli_payload(struct cli *c, const struct wampc_payload *p, wampc_value **args,
                 wampc_value **kwargs);

#endif
