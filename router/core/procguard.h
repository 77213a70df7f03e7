/*
 * procguard.h - who may register the procedures the router itself calls to authenticate and
 * to authorize sessions (dynamic authenticators and authorizers).
 */
#ifndef WAMPD_ROUTER_PROCGUARD_H
#define WAMPD_ROUTER_PROCGUARD_H

#include "common/err.h"
#include "realm/session.h"
#include "router/core/router.h"
#include "serializers/wamp_msg.h"

/*
 * May established session s (borrowed) make the REGISTER msg (borrowed)? WAMPD_OK when
 * the procedure (or pattern) it names covers no authenticator/authorizer of s's realm, or
 * when s's authrole is the one the configuration pins for every one it covers; otherwise
 * WAMPD_ERR_NOT_AUTHORIZED (logged, never answered here). The dealer's own checks
 * (URI, role permissions) still run afterwards.
 */
enum wampd_err procguard_register(const struct router *rt, const struct session *s,
                                  const struct wamp_msg *msg);

#endif
