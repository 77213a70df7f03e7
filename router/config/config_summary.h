/*
 * config_summary.h - what a loaded configuration serves, as lines for people (wampd check,
 * and the log at start), and the checks a start needs beyond the file's own syntax.
 */
#ifndef WAMPD_ROUTER_CONFIG_SUMMARY_H
#define WAMPD_ROUTER_CONFIG_SUMMARY_H

#include <stddef.h>

#include "router/config/config.h"

/* Receives one line (no newline; borrowed for the call). */
typedef void (*config_emit)(void *arg, const char *line);

/*
 * Describe cfg, one line per endpoint: every URL it listens on (ws://, wss://, rs://,
 * rss://, unix:, and http:// / https:// per HTTP service path with its type and realm),
 * each WebSocket/RawSocket endpoint's serializers and authentication methods (never a
 * secret: methods, roles, principal counts, authenticator URIs), then the realms with
 * their roles. Configured ports are shown ("0(any free port)": chosen at start). Nothing
 * is allocated beyond the stack.
 */
void config_summary(const struct config *cfg, config_emit emit, void *arg);

/*
 * What would stop cfg from starting that loading it does not see, without opening a
 * socket: a TLS certificate, key or CA file that cannot be read, a Unix socket whose
 * directory does not exist or whose path is too long for a socket address, an archive
 * service's file that is there but does not open as a ZIP archive. One line per
 * problem ("listeners[0].tls.key: /etc/x.key: No such file or directory") into emit;
 * returns how many there were (0: nothing found).
 */
size_t config_preflight(const struct config *cfg, config_emit emit, void *arg);

#endif
