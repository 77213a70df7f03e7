/*
 * url.c - wampc_url_parse: the router URLs libwampc understands, for every adapter.
 *
 * A table of schemes says what each one is (RawSocket or WebSocket, TLS or not, the
 * default port; a RawSocket URL needs its port: there is no registered one). After the
 * scheme: "unix:" takes the rest as a socket path (an optional "//" before it, so
 * unix:///run/wampd.sock is /run/wampd.sock); the others HOST (a name, an IPv4 address or
 * [IPv6]), an optional ":PORT" (1..65535) and, for WebSocket, a path ("/" when absent).
 * Nothing is resolved here: the adapter does that (or its transport library). Pure string
 * work, no allocation; the lengths are bounded by the fields of struct wampc_url (a Unix
 * path by sockaddr_un's).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "client/wampc_internal.h"

static const struct scheme {
	const char *prefix;
	bool websocket, tls;
	uint16_t default_port; /* 0: the URL must give one */
} schemes[] = {
	{"rs://", false, false, 0},
	{"rawsocket://", false, false, 0},
	{"tcp://", false, false, 0},
	{"rss://", false, true, 0},
	{"ws://", true, false, 80},
	{"wss://", true, true, 443},
};

#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static bool parse_unix(const char *p, struct wampc_url *u)
{
	size_t n;

	if (!strncmp(p, "//", 2))
		p += 2;
	n = strlen(p);
	if (!n || n >= sizeof(((struct sockaddr_un *)0)->sun_path) || n >= sizeof(u->path))
		return false;
	memcpy(u->path, p, n + 1);
	u->unix_socket = true;
	return true;
}

/* ":PORT" at p (digits only, 1..65535): the port, *end after it; 0 if malformed. */
static uint16_t parse_port(const char *p, const char **end)
{
	size_t n = strspn(p, "0123456789");
	long v;

	if (!n || n > 5)
		return 0;
	v = strtol(p, NULL, 10);
	*end = p + n;
	return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
}

bool wampc_url_parse(const char *url, struct wampc_url *u)
{
	const struct scheme *sc = NULL;
	const char *p, *host, *end;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!url)
		return false;
	if (!strncmp(url, "unix:", 5))
		return parse_unix(url + 5, u);
	for (size_t i = 0; i < N_SCHEMES && !sc; i++)
		if (!strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)))
			sc = &schemes[i];
	if (!sc)
		return false;
	u->websocket = sc->websocket;
	u->tls = sc->tls;
	p = url + strlen(sc->prefix);
	if (*p == '[') { /* [IPv6] */
		if (!(end = strchr(p, ']')))
			return false;
		host = p + 1;
		n = (size_t)(end - host);
		p = end + 1;
	} else {
		host = p;
		n = strcspn(p, ":/");
		p += n;
	}
	if (!n || n >= sizeof(u->host) || memchr(host, '@', n) || memchr(host, '?', n))
		return false;
	memcpy(u->host, host, n);
	u->port = sc->default_port;
	if (*p == ':' && !(u->port = parse_port(p + 1, &p)))
		return false;
	if (!u->port)
		return false; /* RawSocket: no default port */
	if (!u->websocket)
		return !*p || !strcmp(p, "/"); /* RawSocket has no path */
	if (*p && *p != '/')
		return false;
	n = *p ? strlen(p) : 1;
	if (n >= sizeof(u->path))
		return false;
	memcpy(u->path, *p ? p : "/", n + 1);
	return true;
}
