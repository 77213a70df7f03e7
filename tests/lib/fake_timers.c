/*
 * fake_timers.c - see fake_timers.h. A small array of live timers; advancing scans it for
 * the earliest due timer until none is due (timers started by a callback are honoured).
 */
#include "fake_timers.h"

#include <stdlib.h>
#include <string.h>

#define FAKE_TIMERS_MAX 256

struct realm_timer {
	uint64_t due;
	void (*fn)(void *arg);
	void *arg;
	int live;
};

static struct realm_timer timers[FAKE_TIMERS_MAX];
static uint64_t now;

static struct realm_timer *fake_start(void *ctx, uint32_t ms, void (*fn)(void *arg), void *arg)
{
	(void)ctx;
	for (int i = 0; i < FAKE_TIMERS_MAX; i++) {
		if (!timers[i].live) {
			timers[i] = (struct realm_timer){.due = now + ms, .fn = fn, .arg = arg, .live = 1};
			return &timers[i];
		}
	}
	return NULL;
}

static void fake_cancel(void *ctx, struct realm_timer *t)
{
	(void)ctx;
	t->live = 0;
}

void fake_timers_install(struct realms *rs)
{
	memset(timers, 0, sizeof(timers));
	now = 0;
	rs->timers.start = fake_start;
	rs->timers.cancel = fake_cancel;
	rs->timers.ctx = NULL;
}

void fake_timers_advance(uint64_t ms)
{
	uint64_t target = now + ms;

	for (;;) {
		struct realm_timer *next = NULL;

		for (int i = 0; i < FAKE_TIMERS_MAX; i++)
			if (timers[i].live && timers[i].due <= target &&
			    (!next || timers[i].due < next->due))
				next = &timers[i];
		if (!next)
			break;
		now = next->due;
		next->live = 0;
		next->fn(next->arg);
	}
	now = target;
}

int fake_timers_pending(void)
{
	int n = 0;

	for (int i = 0; i < FAKE_TIMERS_MAX; i++)
		n += timers[i].live;
	return n;
}
