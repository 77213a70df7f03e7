/*
 * linebuf.c - output cut into bounded lines (see linebuf.h). One pass over the bytes: a
 * memchr for the next newline, one copy of what fits into the line buffer.
 */
#include "router/workers/linebuf.h"

#include <string.h>

void linebuf_init(struct linebuf *lb)
{
	lb->len = 0;
	lb->dropped = 0;
}

static void linebuf_emit(struct linebuf *lb, linebuf_fn fn, void *arg)
{
	size_t len = lb->len;

	if (len && lb->buf[len - 1] == '\r' && !lb->dropped)
		len--;
	lb->buf[len] = '\0';
	fn(arg, lb->buf, len, lb->dropped);
	lb->len = 0;
	lb->dropped = 0;
}

static void linebuf_add(struct linebuf *lb, const char *p, size_t n)
{
	size_t room = LINEBUF_MAX - lb->len, take = n < room ? n : room;

	memcpy(lb->buf + lb->len, p, take);
	lb->len += take;
	lb->dropped += n - take;
}

void linebuf_feed(struct linebuf *lb, const char *data, size_t n, linebuf_fn fn, void *arg)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;

		linebuf_add(lb, data, part);
		if (!nl)
			return;
		linebuf_emit(lb, fn, arg);
		data += part + 1;
		n -= part + 1;
	}
}

void linebuf_flush(struct linebuf *lb, linebuf_fn fn, void *arg)
{
	if (lb->len || lb->dropped)
		linebuf_emit(lb, fn, arg);
}
