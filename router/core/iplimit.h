/*
 * iplimit.h - per-address limits: concurrent connections, and failed authentications in a
 * time window (a brute-force brake).
 *
 * One hash table (uthash) keyed by the textual address ("10.0.0.7", "::1"); an entry lives
 * while the address has connections or failures inside the current window, so the table
 * holds at most (live connections + recently failing addresses) entries. All operations
 * are O(1). Not thread-safe (one event loop).
 */
#ifndef WAMPD_ROUTER_IPLIMIT_H
#define WAMPD_ROUTER_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPLIMIT_ADDR_MAX 48

struct ip_entry;

struct iplimit {
	struct ip_entry *table;
	uint32_t max_conns;        /* per address; 0 = unlimited */
	uint32_t max_failures;     /* failed authentications per window; 0 = unlimited */
	uint32_t window_ms;        /* the failure window (and how long a block lasts) */
};

/* Empty table with the given limits. Never fails. */
void iplimit_init(struct iplimit *l, uint32_t max_conns, uint32_t max_failures,
                  uint32_t window_ms);

/* Free every entry. */
void iplimit_destroy(struct iplimit *l);

/*
 * Count a new connection from addr. Returns false, counting nothing, when addr already has
 * max_conns connections (or on allocation failure: refusing is the safe answer). Every
 * true must be matched by one iplimit_conn_close().
 */
bool iplimit_conn_open(struct iplimit *l, const char *addr);

/* A connection counted by iplimit_conn_open() has closed. */
void iplimit_conn_close(struct iplimit *l, const char *addr);

/* Record a failed authentication from addr at now_ms (monotonic). */
void iplimit_auth_failed(struct iplimit *l, const char *addr, int64_t now_ms);

/* true if addr has max_failures failures in its current window: refuse to authenticate
 * it until the window (window_ms from its first failure) has passed. */
bool iplimit_auth_blocked(struct iplimit *l, const char *addr, int64_t now_ms);

/* The address part of "host:port" / "v6addr:port" into out (NUL-terminated, truncated
 * to IPLIMIT_ADDR_MAX - 1). */
void iplimit_host(const char *peer, char out[IPLIMIT_ADDR_MAX]);

/* Delete entries whose failure window has passed and that have no connections (the
 * transport calls this now and then, so addresses that failed once do not stay). */
void iplimit_sweep(struct iplimit *l, int64_t now_ms);

/* The peer address of socket fd: ip (IPLIMIT_ADDR_MAX bytes) and *port. On failure ip is
 * "?" and *port 0. */
void iplimit_fd_peer(int fd, char ip[IPLIMIT_ADDR_MAX], int *port);

/* Entries in the table (for tests). */
size_t iplimit_entries(const struct iplimit *l);

#endif
