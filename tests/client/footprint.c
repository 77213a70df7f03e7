/*
 * footprint.c - the heap of one idle libwampc session, counted.
 *
 *   wampc_footprint URL TICKET     (wampd with a RawSocket listener, CBOR, ticket auth for
 *                                   authid "dev")
 *
 * A counting allocator: this program defines malloc, calloc, realloc, free (and the aligned
 * variants) itself, so every allocation of the process (libwampc, jansson, libcbor,
 * libsodium, libc) goes through it; it forwards to glibc's __libc_* functions and keeps the
 * live bytes (malloc_usable_size of every live block: what the blocks really occupy, glibc's
 * rounding included) and the live block count. Interposing malloc does not mix with ASan,
 * so this is built without sanitizers only (tests/client/CMakeLists.txt).
 *
 * It measures: libsodium initialised and the address resolved once beforehand (one-time
 * library state that is not the session's); then wampc_new, connect (RawSocket over TCP,
 * CBOR, ticket), 10 subscriptions and 10 registrations, all acknowledged, then idle for a
 * moment (the heap of the state the client keeps). Prints one JSON line:
 *   {"live": bytes, "blocks": n, "overhead": 8 * n, "peak": bytes, "total": bytes+overhead}
 * where "peak" is the highest live count during the run (connect, HELLO, the 20 requests).
 */
#include <malloc.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "client/wampc.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static long long live, peak;
static long blocks;

static void *count_in(void *p)
{
	if (p) {
		live += (long long)malloc_usable_size(p);
		blocks++;
		if (live > peak)
			peak = live;
	}
	return p;
}

static void count_out(void *p)
{
	if (p) {
		live -= (long long)malloc_usable_size(p);
		blocks--;
	}
}

void *malloc(size_t n)
{
	return count_in(__libc_malloc(n));
}

void *calloc(size_t n, size_t m)
{
	return count_in(__libc_calloc(n, m));
}

void *realloc(void *p, size_t n)
{
	void *q;

	count_out(p);
	q = __libc_realloc(p, n);
	if (!q && p && n) { /* failed: p is still there */
		count_in(p);
		return NULL;
	}
	return count_in(q);
}

void free(void *p)
{
	count_out(p);
	__libc_free(p);
}

void *memalign(size_t a, size_t n)
{
	return count_in(__libc_memalign(a, n));
}

void *aligned_alloc(size_t a, size_t n)
{
	return count_in(__libc_memalign(a, n));
}

int posix_memalign(void **out, size_t a, size_t n)
{
	void *p = count_in(__libc_memalign(a, n));

	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

/* ------------------------------------------------------------------------ the session */

static int acked, failed;

static void on_ack(wampc *c, const struct wampc_reply *r, void *ud)
{
	if (r->error) {
		fprintf(stderr, "footprint: %s\n", r->error);
		failed++;
	}
	acked++;
}

static void on_event(wampc *c, const struct wampc_event *e, void *ud)
{
}

static void on_invoke(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	wampc_yield(c, inv->request, false, NULL);
}

int main(int argc, char **argv)
{
	struct wampc_config cfg = {.realm = "realm1", .serializer = WAMPC_CBOR,
	                           .authmethods = WAMPC_AUTH_TICKET, .authid = "dev"};
	struct addrinfo *ai = NULL, hints = {.ai_socktype = SOCK_STREAM};
	long long base, base_peak;
	long base_blocks;
	char host[64] = "", port[8] = "", uri[64];
	wampc *c;

	if (argc != 3 || sscanf(argv[1], "rs://%63[^:]:%7s", host, port) != 2) {
		fprintf(stderr, "usage: wampc_footprint rs://HOST:PORT TICKET\n");
		return 2;
	}
	cfg.url = argv[1];
	cfg.ticket = argv[2];
	/* one-time library state, not the session's */
	if (sodium_init() < 0 || getaddrinfo(host, port, &hints, &ai) != 0)
		return 2;
	freeaddrinfo(ai);
	base = live;
	base_blocks = blocks;
	base_peak = peak = live;
	if (!(c = wampc_new(&cfg, NULL)))
		return 2;
	for (int i = 0; i < 10; i++) {
		snprintf(uri, sizeof(uri), "com.example.device.topic%d", i);
		wampc_subscribe(c, uri, NULL, on_event, NULL, on_ack, NULL, NULL);
		snprintf(uri, sizeof(uri), "com.example.device.proc%d", i);
		wampc_register(c, uri, NULL, on_invoke, NULL, on_ack, NULL, NULL);
	}
	for (int i = 0; i < 100 && acked < 20; i++)
		wampc_run(c, 100);
	if (acked < 20 || failed || !wampc_joined(c)) {
		fprintf(stderr, "footprint: %d of 20 acknowledged, %d failed\n", acked, failed);
		return 1;
	}
	wampc_run(c, 200); /* idle */
	printf("{\"live\": %lld, \"blocks\": %ld, \"overhead\": %ld, \"peak\": %lld, "
	       "\"total\": %lld}\n",
	       live - base, blocks - base_blocks, 8 * (blocks - base_blocks), peak - base_peak,
	       live - base + 8 * (blocks - base_blocks));
	fflush(stdout);
	wampc_leave(c, NULL);
	wampc_run(c, 2000);
	wampc_free(c);
	return 0;
}
