/*
 * store_lmdb.h - the lmdb event store (realm/store.h): one LMDB environment (a directory)
 * per realm, crash-safe, for a single node.
 */
#ifndef WAMPD_ROUTER_STORE_LMDB_H
#define WAMPD_ROUTER_STORE_LMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "realm/store.h"

/*
 * Open (creating it if needed) the LMDB environment in directory `path` (borrowed) for
 * realm `realm` (borrowed name, kept), mapped up to map_size bytes; writes are committed
 * once per loop iteration through rs's timers (rs borrowed, read when writing: the timers
 * may be set later), with an fsync per commit when durable. limits are the realm's.
 * Returns the store, or NULL with a message in err.
 */
struct store *store_lmdb_open(const char *path, const char *realm, uint64_t map_size,
                              bool durable, const struct store_limits *limits,
                              struct realms *rs, char *err, size_t errlen);

#endif
