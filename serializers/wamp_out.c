/*
 * wamp_out.c - refcounted encoded messages (see wamp_out.h).
 *
 * Growth during encoding doubles the capacity (amortised O(1) appends); encoders size the
 * first allocation from the payload length so most messages are allocated exactly once.
 */
#include "serializers/wamp_out.h"

#include <stdlib.h>
#include <string.h>

struct wamp_out *wamp_out_new(size_t cap)
{
	struct wamp_out *o;

	if (cap < 64)
		cap = 64;
	o = malloc(sizeof(*o) + WAMP_OUT_HEADROOM + cap);
	if (!o)
		return NULL;
	o->refs = 1;
	o->ser = 0;
	o->binary = 0;
	o->type = 0;
	o->len = 0;
	o->cap = cap;
	return o;
}

struct wamp_out *wamp_out_bytes(const void *a, size_t an, const void *b, size_t bn)
{
	struct wamp_out *o = wamp_out_new(an + bn);

	if (!o)
		return NULL;
	memcpy(wamp_out_data(o), a, an);
	if (bn)
		memcpy(wamp_out_data(o) + an, b, bn);
	o->len = an + bn;
	return o;
}

bool wamp_out_grow(struct wamp_out **o, size_t extra)
{
	struct wamp_out *n;
	size_t need = (*o)->len + extra, cap = (*o)->cap;

	if (need <= cap)
		return true;
	if (need < (*o)->len) /* overflow */
		return false;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	n = realloc(*o, sizeof(*n) + WAMP_OUT_HEADROOM + cap);
	if (!n)
		return false;
	n->cap = cap;
	*o = n;
	return true;
}

void wamp_out_unref(struct wamp_out *o)
{
	if (o && --o->refs == 0)
		free(o);
}
