/*
 * posix.c - the POSIX sockets adapter of libwampc: RawSocket over TCP ("rs://HOST:PORT",
 * "rawsocket://", "tcp://"; IPv6 as [ADDR]) and Unix domain sockets ("unix:PATH"), driven
 * either by the library's own poll(2) loop (wampc_run) or by the application's loop
 * (wampc_socket / wampc_loop_events / wampc_loop_timeout / wampc_loop_read / _write /
 * _misc, the libmosquitto model).
 *
 * It only moves bytes between one non-blocking socket and the engine's sans-I/O interface:
 *   misc:  the engine's timers (wampc_tick); a wanted close (the output is flushed as far
 *          as the socket takes it, then close and wampc_transport_closed); a wanted
 *          connection (socket, non-blocking connect: done at once, or completed in write
 *          when the socket becomes writable; a failure is wampc_transport_closed, which
 *          counts as a failed attempt for the backoff).
 *   read:  read() into a stack buffer and wampc_transport_input, while the engine wants
 *          input (it stops wanting it when its send queue is over the bound), at most
 *          READ_ROUNDS reads per call so that one busy connection cannot starve the
 *          application's loop. EOF or an error: close, wampc_transport_closed.
 *   write: send() what wampc_transport_output has, until the socket would block.
 * Name resolution uses getaddrinfo(3), which blocks: give an address for a device that must
 * never block (a port to an RTOS socket layer replaces this file, see client/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/wampc_internal.h"

#define READ_BUF 4096
#define READ_ROUNDS 16

struct io {
	int fd;
	bool connecting;   /* a non-blocking connect is in progress */
};

struct target {
	bool unix_path;
	char host[256];
	char port[8];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static bool parse_url(const char *url, struct target *t)
{
	static const char *const schemes[] = {"rs://", "rawsocket://", "tcp://"};
	const char *rest = NULL, *colon;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!strncmp(url, "unix:", 5)) {
		const char *p = url + 5;

		if (!strncmp(p, "//", 2))
			p += 2;
		n = strlen(p);
		if (!n || n >= sizeof(t->path))
			return false;
		memcpy(t->path, p, n + 1);
		t->unix_path = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !rest; i++)
		if (!strncmp(url, schemes[i], strlen(schemes[i])))
			rest = url + strlen(schemes[i]);
	if (!rest)
		return false;
	if (*rest == '[') { /* [IPv6]:port */
		const char *end = strchr(rest, ']');

		if (!end || end[1] != ':')
			return false;
		n = (size_t)(end - rest - 1);
		colon = end + 1;
		rest++;
	} else {
		if (!(colon = strrchr(rest, ':')))
			return false;
		n = (size_t)(colon - rest);
	}
	if (!n || n >= sizeof(t->host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(t->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) > 65535 ||
	    atoi(colon + 1) < 1)
		return false;
	memcpy(t->host, rest, n);
	strcpy(t->port, colon + 1);
	return true;
}

bool posix_url_valid(const char *url)
{
	struct target t;

	return parse_url(url, &t);
}

static void io_free(void *p)
{
	struct io *io = p;

	if (io && io->fd >= 0)
		close(io->fd);
	free(io);
}

static struct io *get_io(wampc *c)
{
	struct io *io = c->io;

	if (!io && (io = malloc(sizeof(*io)))) {
		io->fd = -1;
		io->connecting = false;
		c->io = io;
		c->io_free = io_free;
	}
	return io;
}

static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

/* Close the socket and tell the engine. */
static void drop(wampc *c, struct io *io)
{
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->connecting = false;
	wampc_transport_closed(c);
}

/* A connection attempt: true when one is open or under way (else the engine was told). */
static void start_connect(wampc *c, struct io *io)
{
	struct target t;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	int fd = -1, rc = -1;

	if (!c->url || !parse_url(c->url, &t)) {
		drop(c, io);
		return;
	}
	if (t.unix_path) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		memcpy(sa.sun_path, t.path, strlen(t.path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 && nonblocking(fd))
			rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else if (getaddrinfo(t.host, t.port, &hints, &res) == 0) {
		for (ai = res; ai && rc != 0 && !(rc < 0 && errno == EINPROGRESS && fd >= 0);
		     ai = ai->ai_next) {
			if (fd >= 0)
				close(fd);
			if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0 ||
			    !nonblocking(fd))
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
			rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		}
		freeaddrinfo(res);
	}
	io->fd = fd;
	if (fd >= 0 && rc == 0) {
		wampc_transport_open(c);
	} else if (fd >= 0 && rc < 0 && errno == EINPROGRESS) {
		io->connecting = true;
	} else {
		drop(c, io);
	}
}

/* Write what the engine has until the socket would block. false: the connection failed
 * (the engine was told). */
static bool flush(wampc *c, struct io *io)
{
	const uint8_t *data;
	size_t n;
	ssize_t w;

	while (io->fd >= 0 && (n = wampc_transport_output(c, &data, NULL)) > 0) {
		w = send(io->fd, data, n, MSG_NOSIGNAL);
		if (w > 0) {
			wampc_transport_consumed(c, (size_t)w);
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return true;
		} else {
			return false;
		}
	}
	return true;
}

int wampc_socket(const wampc *c)
{
	const struct io *io = c->io;

	return io ? io->fd : -1;
}

unsigned wampc_loop_events(const wampc *c)
{
	const struct io *io = c->io;
	unsigned want = wampc_want(c), ev = 0;

	if (!io || io->fd < 0)
		return 0;
	if (io->connecting)
		return WAMPC_POLLOUT;
	if (want & WAMPC_WANT_READ)
		ev |= WAMPC_POLLIN;
	if (want & WAMPC_WANT_WRITE)
		ev |= WAMPC_POLLOUT;
	return ev;
}

int wampc_loop_timeout(const wampc *c)
{
	const struct io *io = c->io;
	unsigned want = wampc_want(c);
	int64_t t;

	if ((want & WAMPC_WANT_CLOSE) ||
	    ((want & WAMPC_WANT_CONNECT) && (!io || io->fd < 0)))
		return 0; /* wampc_loop_misc has something to do now */
	t = wampc_next_timeout(c);
	return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

enum wampd_err wampc_loop_read(wampc *c)
{
	struct io *io = c->io;
	uint8_t buf[READ_BUF];
	enum wampd_err err = WAMPD_OK;
	ssize_t n;

	if (!io || io->fd < 0 || io->connecting)
		return WAMPD_OK;
	wampc_enter(c);
	for (int round = 0; round < READ_ROUNDS && io->fd >= 0 && !c->free_pending &&
	                    (wampc_want(c) & WAMPC_WANT_READ);
	     round++) {
		n = read(io->fd, buf, sizeof(buf));
		if (n > 0) {
			err = wampc_transport_input(c, buf, (size_t)n);
			if ((size_t)n < sizeof(buf))
				break;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			drop(c, io);
			err = WAMPD_ERR_TRANSPORT_LOST;
		}
	}
	return wampc_exit(c) ? WAMPD_OK : err;
}

enum wampd_err wampc_loop_write(wampc *c)
{
	struct io *io = c->io;
	enum wampd_err err = WAMPD_OK;

	if (!io || io->fd < 0)
		return WAMPD_OK;
	wampc_enter(c);
	if (io->connecting) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr) {
			drop(c, io);
			err = WAMPD_ERR_TRANSPORT_LOST;
		} else {
			io->connecting = false;
			wampc_transport_open(c);
		}
	}
	if (io->fd >= 0 && !io->connecting && !flush(c, io)) {
		drop(c, io);
		err = WAMPD_ERR_TRANSPORT_LOST;
	}
	return wampc_exit(c) ? WAMPD_OK : err;
}

enum wampd_err wampc_loop_misc(wampc *c)
{
	struct io *io = get_io(c);

	if (!io)
		return WAMPD_ERR_NOMEM;
	wampc_enter(c);
	wampc_tick(c);
	if (!c->free_pending && (wampc_want(c) & WAMPC_WANT_CLOSE)) {
		if (io->fd >= 0 && !io->connecting)
			flush(c, io); /* ABORT/GOODBYE, as far as the socket takes them */
		drop(c, io);
	}
	if (!c->free_pending && (wampc_want(c) & WAMPC_WANT_CONNECT) && io->fd < 0)
		start_connect(c, io);
	wampc_exit(c);
	return WAMPD_OK;
}

void wampc_stop(wampc *c)
{
	c->stop_run = true;
}

enum wampd_err wampc_run(wampc *c, int timeout_ms)
{
	int64_t end = timeout_ms >= 0 ? wampc_now(c) + timeout_ms : 0;
	enum wampd_err err = WAMPD_OK;

	if (!get_io(c))
		return WAMPD_ERR_NOMEM;
	wampc_enter(c);
	c->stop_run = false;
	if (!c->started)
		wampc_start(c);
	while (!c->stop_run && !c->free_pending) {
		struct pollfd pfd = {.fd = wampc_socket(c)};
		unsigned ev = wampc_loop_events(c);
		int wait = wampc_loop_timeout(c), rc;

		if (wampc_stopped(c))
			break;
		if (end) {
			int64_t left = end - wampc_now(c);

			if (left <= 0)
				break;
			if (wait < 0 || wait > left)
				wait = (int)left;
		}
		pfd.events = (short)((ev & WAMPC_POLLIN ? POLLIN : 0) |
		                     (ev & WAMPC_POLLOUT ? POLLOUT : 0));
		rc = poll(&pfd, pfd.fd >= 0 ? 1 : 0, wait);
		if (rc < 0 && errno != EINTR) {
			err = WAMPD_ERR_INTERNAL;
			break;
		}
		if (rc > 0 && (pfd.revents & (POLLOUT | POLLERR)) && (ev & WAMPC_POLLOUT))
			wampc_loop_write(c);
		if (rc > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) && !c->free_pending)
			wampc_loop_read(c);
		if (!c->free_pending)
			wampc_loop_misc(c);
	}
	wampc_exit(c);
	return err;
}
