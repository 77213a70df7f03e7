/*
 * fake_timers.h - struct realm_timer_ops on a manual clock, for unit tests of timeouts.
 * fake_timers_advance(ms) fires, in deadline order, every timer that became due.
 */
#ifndef WAMPD_TESTS_FAKE_TIMERS_H
#define WAMPD_TESTS_FAKE_TIMERS_H

#include <stdint.h>

#include "realm/realm.h"

/* Install the fake timers into rs (clock at 0, no timers pending). */
void fake_timers_install(struct realms *rs);

/* Move the clock forward by ms, firing due timers. */
void fake_timers_advance(uint64_t ms);

/* Timers started and not yet fired or cancelled. */
int fake_timers_pending(void);

#endif
