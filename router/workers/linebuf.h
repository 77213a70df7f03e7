/*
 * linebuf.h - a child process's output (stdout or stderr) cut into log lines.
 *
 * Bytes come in as the pipe gives them (any chunk size, lines split anywhere); every
 * complete line ("\n", a trailing "\r" dropped) is handed to a callback once. A line is
 * bounded: beyond LINEBUF_MAX bytes the rest of it is counted, not kept, and the line is
 * handed over with that count when it ends, so a child that never writes a newline cannot
 * make the router hold an unbounded buffer. Pure: no I/O, no allocation after init.
 */
#ifndef WAMPD_ROUTER_WORKERS_LINEBUF_H
#define WAMPD_ROUTER_WORKERS_LINEBUF_H

#include <stddef.h>

#define LINEBUF_MAX 4096

struct linebuf {
	char buf[LINEBUF_MAX + 1]; /* the line so far, NUL-terminated when handed over */
	size_t len;
	size_t dropped;            /* bytes of the current line beyond LINEBUF_MAX */
};

/* One line: text is NUL-terminated (borrowed, valid during the call); dropped > 0 when the
 * line was longer than LINEBUF_MAX (its first LINEBUF_MAX bytes are text). */
typedef void (*linebuf_fn)(void *arg, const char *text, size_t len, size_t dropped);

void linebuf_init(struct linebuf *lb);

/* Feed n bytes (borrowed); fn is called for every line they complete. */
void linebuf_feed(struct linebuf *lb, const char *data, size_t n, linebuf_fn fn, void *arg);

/* The stream ended: hand over an unterminated last line, if any. */
void linebuf_flush(struct linebuf *lb, linebuf_fn fn, void *arg);

#endif
