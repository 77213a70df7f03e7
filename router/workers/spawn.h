/*
 * spawn.h - starting a child process the POSIX way for the supervisor: its environment,
 * its executable found, fork + execve with its standard streams on pipes, and the
 * failure of the exec itself reported to the parent (not as an exit status).
 */
#ifndef WAMPD_ROUTER_WORKERS_SPAWN_H
#define WAMPD_ROUTER_WORKERS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "router/config/config.h"

/* A NULL-terminated vector of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
	bool failed; /* an allocation failed: the vector is incomplete */
};

/* Append a copy of s. */
void strv_add(struct strv *sv, const char *s);
/* Set "NAME=value" (kv, copied): replaces an entry of the same NAME when `override`, else
 * adds it only if NAME is not there yet. */
void strv_setenv(struct strv *sv, const char *kv, bool override);
/* The value of NAME in an environment vector, or NULL. */
const char *strv_getenv(const struct strv *sv, const char *name);
void strv_free(struct strv *sv);

/*
 * The environment of process pc: wampd's whole environment (env.inherit true) or the
 * listed names of it, then `defaults` ("NAME=value", NULL-terminated, may be NULL) where not
 * set yet, then pc's env.vars. Result in out (caller frees with strv_free; out->failed on
 * allocation failure). `parent` is the environment to inherit from (environ).
 */
void spawn_env(const struct process_config *pc, char *const *parent, const char *const *defaults,
               struct strv *out);

/*
 * The program to run for `exe` (a path: relative ones are relative to workdir; a bare name:
 * looked up in `path_var`'s directories, "/usr/local/bin:/usr/bin:/bin" when NULL). Returns
 * a new string, or NULL with why in err ("node: not found in PATH (...)", "...: not an
 * executable file").
 */
char *spawn_resolve(const char *exe, const char *workdir, const char *path_var, char *err,
                    size_t errlen);

struct spawn_req {
	const char *path;      /* the program (spawn_resolve) */
	char *const *argv;     /* argv[0] first */
	char *const *envp;
	const char *workdir;   /* the child's working directory */
	int stdin_fd;          /* the child's stdin (dup'ed; the caller keeps its own), or -1:
	                          /dev/null */
	bool pipe_out;         /* stdout on a pipe (else /dev/null) */
	bool pipe_err;         /* stderr on a pipe (else /dev/null) */
};

/*
 * Start the child: fork; in the child, its own process group (so that signals reach what
 * it starts too), SIGTERM when wampd dies (PR_SET_PDEATHSIG), default signal dispositions
 * and mask, every descriptor of wampd's closed on exec, the working directory, execve.
 * Returns the child's pid with *out_fd / *err_fd the read ends of its stdout / stderr pipes
 * (non-blocking, close-on-exec; -1 when not piped), owned by the caller. On failure returns
 * -1 with why in err and *permanent set when trying again cannot help (the directory or
 * the program is missing or not allowed); a child that failed its exec is reaped here.
 */
pid_t spawn_start(const struct spawn_req *rq, int *out_fd, int *err_fd, bool *permanent,
                  char *err, size_t errlen);

#endif
