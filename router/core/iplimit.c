/*
 * iplimit.c - per-address connection counts and failed-authentication windows.
 *
 * Algorithm: a uthash table from address string to {connections, failures, window start}.
 * Failures use a fixed window that opens at the first failure: once `max_failures` have
 * happened within `window_ms` of it, the address is blocked until the window ends; the
 * next failure after that opens a new window. An entry with no connections and no live
 * window is deleted at once, so idle addresses cost nothing.
 */
#include "router/core/iplimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct ip_entry {
	char addr[IPLIMIT_ADDR_MAX];
	uint32_t conns;
	uint32_t failures;
	int64_t window_start_ms;
	UT_hash_handle hh;
};

void iplimit_init(struct iplimit *l, uint32_t max_conns, uint32_t max_failures,
                  uint32_t window_ms)
{
	l->table = NULL;
	l->max_conns = max_conns;
	l->max_failures = max_failures;
	l->window_ms = window_ms;
}

void iplimit_destroy(struct iplimit *l)
{
	struct ip_entry *e, *tmp;

	HASH_ITER(hh, l->table, e, tmp) {
		HASH_DEL(l->table, e);
		free(e);
	}
}

static struct ip_entry *iplimit_find(struct iplimit *l, const char *addr, bool create)
{
	struct ip_entry *e;

	HASH_FIND_STR(l->table, addr, e);
	if (e || !create)
		return e;
	if (!(e = calloc(1, sizeof(*e))))
		return NULL;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	HASH_ADD_STR(l->table, addr, e);
	return e;
}

/* Delete e if it holds nothing: no connections and no failure window still open. */
static void iplimit_gc(struct iplimit *l, struct ip_entry *e, int64_t now_ms)
{
	if (e->conns == 0 && (e->failures == 0 || now_ms - e->window_start_ms >= l->window_ms)) {
		HASH_DEL(l->table, e);
		free(e);
	}
}

bool iplimit_conn_open(struct iplimit *l, const char *addr)
{
	struct ip_entry *e;

	if (!l->max_conns)
		return true;
	if (!(e = iplimit_find(l, addr, true)))
		return false;
	if (e->conns >= l->max_conns)
		return false;
	e->conns++;
	return true;
}

void iplimit_conn_close(struct iplimit *l, const char *addr)
{
	struct ip_entry *e;

	if (!l->max_conns || !(e = iplimit_find(l, addr, false)))
		return;
	if (e->conns)
		e->conns--;
	if (!e->conns && !e->failures) {
		HASH_DEL(l->table, e);
		free(e);
	}
}

void iplimit_auth_failed(struct iplimit *l, const char *addr, int64_t now_ms)
{
	struct ip_entry *e;

	if (!l->max_failures || !(e = iplimit_find(l, addr, true)))
		return;
	if (!e->failures || now_ms - e->window_start_ms >= l->window_ms) {
		e->failures = 0;
		e->window_start_ms = now_ms;
	}
	e->failures++;
}

bool iplimit_auth_blocked(struct iplimit *l, const char *addr, int64_t now_ms)
{
	struct ip_entry *e;

	if (!l->max_failures || !(e = iplimit_find(l, addr, false)))
		return false;
	if (e->failures && now_ms - e->window_start_ms >= l->window_ms) {
		e->failures = 0;
		iplimit_gc(l, e, now_ms);
		return false;
	}
	return e->failures >= l->max_failures;
}

void iplimit_host(const char *peer, char out[IPLIMIT_ADDR_MAX])
{
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);

	if (n >= IPLIMIT_ADDR_MAX)
		n = IPLIMIT_ADDR_MAX - 1;
	memcpy(out, peer, n);
	out[n] = '\0';
}

void iplimit_sweep(struct iplimit *l, int64_t now_ms)
{
	struct ip_entry *e, *tmp;

	HASH_ITER(hh, l->table, e, tmp)
		iplimit_gc(l, e, now_ms);
}

void iplimit_fd_peer(int fd, char ip[IPLIMIT_ADDR_MAX], int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	strcpy(ip, "?");
	*port = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, IPLIMIT_ADDR_MAX);
		*port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, IPLIMIT_ADDR_MAX);
		*port = ntohs(sin6->sin6_port);
	}
}

size_t iplimit_entries(const struct iplimit *l)
{
	return HASH_COUNT(l->table);
}
