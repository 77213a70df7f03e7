/*
 * fake_backplane.h - an in-process cluster for unit tests of realm/backplane.c: up to
 * FAKE_BP_NODES registries (struct realms), each attached with fake realm_backplane_ops
 * that queue what a node sends; fake_bp_flush() delivers the queue (so nothing re-enters
 * realm/ inside a call, as with the real backplane). A small registration store mimics the
 * Redis scripts (single/shared policies, conflicts, "reg" state broadcasts), and
 * fake_bp_kill() plays a node that died (its callees removed, its testaments published
 * by a survivor, "down" broadcast).
 */
#ifndef WAMPD_TESTS_FAKE_BACKPLANE_H
#define WAMPD_TESTS_FAKE_BACKPLANE_H

#include <stdbool.h>
#include <stddef.h>

#include "realm/backplane.h"
#include "realm/realm.h"

#define FAKE_BP_NODES 3

struct fake_bp_stats {
	int interest_on, interest_off;   /* per node: interest() calls */
	int published;                   /* publish() calls */
	int sent;                        /* send() calls */
};

/* Forget every node, queued message and stored registration. */
void fake_bp_reset(void);

/* Attach rs as node i (id "n<i>"), online. */
void fake_bp_attach(struct realms *rs, int i);

/* Deliver queued messages (and those they cause) until none is left; returns how many. */
size_t fake_bp_flush(void);

/* Node i: interest() answers "later" (true) until fake_bp_flush() delivers the readiness. */
void fake_bp_defer_interest(int i, bool on);

/* Deliver every publication twice (a node reached through two patterns). */
void fake_bp_duplicate_publications(bool on);

/* Node i dies: nothing more reaches it or comes from it; the others are told. */
void fake_bp_kill(int i);

/* Node i loses (false) / regains (true) the backplane (went_offline / went_online). */
void fake_bp_set_online(int i, bool online);

struct fake_bp_stats *fake_bp_stats(int i);

#endif
