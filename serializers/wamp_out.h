/*
 * wamp_out.h - one encoded WAMP message in a refcounted buffer, ready to be written.
 *
 * The bytes start WAMP_OUT_HEADROOM bytes into the allocation, so a transport can prepend
 * its framing in place (libwebsockets needs LWS_PRE bytes before the data it writes; the
 * router checks LWS_PRE <= WAMP_OUT_HEADROOM at compile time; RawSocket needs 4).
 *
 * Ownership: the creator holds one reference; every send queue that holds the buffer holds
 * one more (wamp_out_ref); whoever drops the last reference frees it. The bytes are
 * immutable once the buffer has been shared, so one EVENT encoding is written to every
 * subscriber of a subscription without copies.
 */
#ifndef WAMPD_SERIALIZERS_WAMP_OUT_H
#define WAMPD_SERIALIZERS_WAMP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WAMP_OUT_HEADROOM 16

struct wamp_out {
	uint32_t refs;
	uint8_t ser;     /* enum wamp_ser of the bytes */
	uint8_t binary;  /* 1: send as a binary frame, 0: text */
	uint8_t type;    /* enum wamp_type, for stats and logs */
	size_t len;      /* bytes of the message at wamp_out_data() */
	size_t cap;      /* bytes available at wamp_out_data() */
	uint8_t mem[];   /* WAMP_OUT_HEADROOM + cap */
};

/* A new buffer with room for cap bytes, len 0, one reference. NULL on allocation failure. */
struct wamp_out *wamp_out_new(size_t cap);

/* A new buffer holding a[0..an) followed by b[0..bn) (b may be NULL when bn is 0): bytes a
 * transport writes as they are (a handshake reply, a PONG, an HTTP response). One
 * reference; NULL on allocation failure. */
struct wamp_out *wamp_out_bytes(const void *a, size_t an, const void *b, size_t bn);

/* The growing part of wamp_out_reserve (the buffer is too small). */
bool wamp_out_grow(struct wamp_out **o, size_t extra);

/* Make room for `extra` more bytes after len. Only while the caller holds the only
 * reference (i.e. during encoding); *o may move. Returns false (and leaves *o intact)
 * on allocation failure. Inline: encoders call it for every few bytes they write. */
static inline bool wamp_out_reserve(struct wamp_out **o, size_t extra)
{
	return (*o)->cap - (*o)->len >= extra || wamp_out_grow(o, extra);
}

static inline uint8_t *wamp_out_data(struct wamp_out *o)
{
	return o->mem + WAMP_OUT_HEADROOM;
}

/* Append n bytes (reserve + copy). false on allocation failure. */
static inline bool wamp_out_append(struct wamp_out **o, const void *bytes, size_t n)
{
	if (!wamp_out_reserve(o, n))
		return false;
	memcpy(wamp_out_data(*o) + (*o)->len, bytes, n);
	(*o)->len += n;
	return true;
}

static inline struct wamp_out *wamp_out_ref(struct wamp_out *o)
{
	o->refs++;
	return o;
}

/* Drop one reference; frees the buffer when it was the last. NULL is ignored. */
void wamp_out_unref(struct wamp_out *o);

#endif
