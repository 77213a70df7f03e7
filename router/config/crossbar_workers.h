/*
 * crossbar_workers.h - Crossbar's worker processes (guest, container) and a router worker's
 * components, as wampd's "processes" (config_processes.c). Used by crossbar.c's worker loop.
 */
#ifndef WAMPD_ROUTER_CROSSBAR_WORKERS_H
#define WAMPD_ROUTER_CROSSBAR_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Worker w (borrowed) of a type other than "router", at JSON path `path` and index `index`
 * of workers[], appended to out's "processes" list (created when missing) when wampd runs
 * that type (guest, container). What it does not carry over is appended to `ignored` as
 * "ignored: <path>: <reason>". Returns false when wampd runs no process of this type (the
 * caller says so), true otherwise (also when the worker itself had to be skipped; it is
 * then listed with its reason).
 */
bool crossbar_worker(json_t *w, const char *type, const char *path, size_t index, json_t *out,
                     json_t *ignored);

/*
 * Router worker w's "components" (and the "options" that apply to them: pythonpath, env),
 * appended to out's "processes" as one "python" process whose components connect into
 * wampd itself with their role. Its other options are listed in `ignored`.
 */
void crossbar_router_components(json_t *w, const char *path, size_t index, json_t *out,
                                json_t *ignored);

#endif
