/*
 * posix.c - the POSIX sockets adapter of libwampc: RawSocket over TCP ("rs://HOST:PORT",
 * "rawsocket://", "tcp://"; IPv6 as [ADDR]), over TLS ("rss://HOST:PORT", OpenSSL through
 * tls.c) and over Unix domain sockets ("unix:PATH"), driven either by the library's own
 * poll(2) loop (wampc_run) or by the application's loop (wampc_socket / wampc_loop_events /
 * wampc_loop_timeout / wampc_loop_read / _write / _misc, the libmosquitto model).
 *
 * It only moves bytes between one non-blocking socket and the engine's sans-I/O interface:
 *   misc:  the engine's timers (wampc_tick); a wanted close (the output is flushed as far
 *          as the socket takes it, then close and wampc_transport_closed); a wanted
 *          connection (socket, non-blocking connect: done at once, or completed in write
 *          when the socket becomes writable; a failure is wampc_transport_closed, which
 *          counts as a failed attempt for the backoff, with wampc_transport_error saying
 *          why); input the TLS layer holds already decrypted.
 *   read:  read into a stack buffer and wampc_transport_input, while the engine wants
 *          input (it stops wanting it when its send queue is over the bound), at most
 *          READ_ROUNDS reads per call so that one busy connection cannot starve the
 *          application's loop; after each read, what the input made the engine say is
 *          written at once (an ACK or a YIELD must not wait for the end of a burst that
 *          may outlast the connection: found by client_resume, whose subscriber sent no
 *          ACK through a run of 3,000 events read in bursts between three cuts). EOF or
 *          an error: close, wampc_transport_closed.
 *   write: write what wampc_transport_output has, until the socket would block.
 * What a byte stream is differs between plain sockets and TLS: a table of stream
 * operations (begin after the TCP connect, handshake step, read, write, pending, end).
 * TLS is non-blocking too: its handshake runs in read/write (the events it waits for are
 * what wampc_loop_events asks for), and a TLS read that needs to write (or the reverse) is
 * retried from the other direction's call. The engine hears of the connection
 * (wampc_transport_open) only when the TLS handshake is done: the router's certificate and
 * name verified (tls.c), and the channel binding known (tls.channel_binding).
 *
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
#ifdef WAMPC_HAVE_TLS
#include <openssl/err.h>

#include "client/tls.h"
#endif

#define READ_BUF 4096
#define READ_ROUNDS 16

struct io;

/* A byte stream over the connected socket. read/write return > 0 (bytes), 0 (would block:
 * io->rd_wants / io->wr_wants say on which event) or -1 (ended or failed: the engine was
 * told why with wampc_transport_error). begin and step return 1 (open), 0 (handshake under
 * way: io->hs_wants) or -1. */
struct stream_ops {
	int (*begin)(wampc *c, struct io *io, const struct wampc_url *u);
	int (*step)(wampc *c, struct io *io);
	ssize_t (*read)(wampc *c, struct io *io, void *buf, size_t n);
	ssize_t (*write)(wampc *c, struct io *io, const void *buf, size_t n);
	bool (*pending)(const struct io *io);
	void (*end)(struct io *io);
	bool short_read_drains; /* a short read means the socket is empty */
};

struct io {
	int fd;
	bool connecting;      /* a non-blocking connect is in progress */
	bool handshaking;     /* the stream's handshake (TLS) is in progress */
	unsigned hs_wants;    /* WAMPC_POLLIN/POLLOUT the handshake waits for */
	unsigned rd_wants;    /* ... a read that would block waits for (POLLIN, or POLLOUT) */
	unsigned wr_wants;    /* ... a write that would block waits for */
	const struct stream_ops *ops;
#ifdef WAMPC_HAVE_TLS
	SSL *ssl;
#endif
};

static void report_errno(wampc *c, const char *what)
{
	char text[160];

	snprintf(text, sizeof(text), "%s: %s", what, strerror(errno));
	wampc_transport_error(c, text);
}

/* ----------------------------------------------------------------- plain sockets */

static int plain_begin(wampc *c, struct io *io, const struct wampc_url *u)
{
	return 1;
}

static ssize_t plain_read(wampc *c, struct io *io, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(io->fd, buf, n);

		if (r > 0)
			return r;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0)
			report_errno(c, "read");
		else
			wampc_transport_error(c, "the router closed the connection");
		return -1;
	}
}

static ssize_t plain_write(wampc *c, struct io *io, const void *buf, size_t n)
{
	for (;;) {
		ssize_t w = send(io->fd, buf, n, MSG_NOSIGNAL);

		if (w > 0)
			return w;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		report_errno(c, "write");
		return -1;
	}
}

static bool plain_pending(const struct io *io)
{
	return false;
}

static void plain_end(struct io *io)
{
}

static const struct stream_ops plain_ops = {
	plain_begin, NULL, plain_read, plain_write, plain_pending, plain_end, true,
};

/* ---------------------------------------------------------------------------- TLS */

#ifdef WAMPC_HAVE_TLS
/* After an SSL call returned r <= 0: 0 and *wants when it would block, -1 (told) else. */
static int tls_blocked(wampc *c, struct io *io, int r, unsigned *wants, const char *what)
{
	char why[256];

	switch (SSL_get_error(io->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*wants = WAMPC_POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*wants = WAMPC_POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		wampc_transport_error(c, "the router closed the connection");
		return -1;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			if (errno)
				report_errno(c, what);
			else
				wampc_transport_error(c, "the router closed the connection");
			return -1;
		}
		/* fall through */
	default:
		wampc_tls_why(io->ssl, why, sizeof(why));
		wampc_transport_error(c, why);
		return -1;
	}
}

static int tls_step(wampc *c, struct io *io)
{
	uint8_t binding[32];
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(io->ssl)) != 1)
		return tls_blocked(c, io, r, &io->hs_wants, "TLS handshake");
	if (c->tls.channel_binding && wampc_tls_unique(io->ssl, binding))
		wampc_set_channel_binding(c, binding);
	return 1;
}

static int tls_begin(wampc *c, struct io *io, const struct wampc_url *u)
{
	const struct wampc_tls t = {
		.ca_file = c->tls.ca_file, .ca_path = c->tls.ca_path, .cert_file = c->tls.cert_file,
		.key_file = c->tls.key_file, .server_name = c->tls.server_name,
		.insecure = c->tls.insecure};
	char why[256];
	SSL_CTX *ctx = wampc_tls_context(&t, why, sizeof(why));

	if (!ctx) {
		wampc_transport_error(c, why);
		return -1;
	}
	io->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (!io->ssl || SSL_set_fd(io->ssl, io->fd) != 1 || !wampc_tls_prepare(io->ssl, &t, u->host)) {
		wampc_transport_error(c, "cannot set up TLS (out of memory)");
		return -1;
	}
	SSL_set_connect_state(io->ssl);
	return tls_step(c, io);
}

static ssize_t tls_read(wampc *c, struct io *io, void *buf, size_t n)
{
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(io->ssl, buf, n > 0x7fffffff ? 0x7fffffff : (int)n)) > 0) {
		io->rd_wants = WAMPC_POLLIN;
		return r;
	}
	return tls_blocked(c, io, r, &io->rd_wants, "read");
}

static ssize_t tls_write(wampc *c, struct io *io, const void *buf, size_t n)
{
	int r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(io->ssl, buf, n > 0x7fffffff ? 0x7fffffff : (int)n)) > 0) {
		io->wr_wants = WAMPC_POLLOUT;
		return r;
	}
	return tls_blocked(c, io, r, &io->wr_wants, "write");
}

static bool tls_pending(const struct io *io)
{
	return io->ssl && SSL_pending(io->ssl) > 0;
}

static void tls_end(struct io *io)
{
	if (!io->ssl)
		return;
	if (!io->handshaking && !io->connecting)
		SSL_shutdown(io->ssl); /* close_notify, as far as the socket takes it */
	SSL_free(io->ssl);
	io->ssl = NULL;
	ERR_clear_error();
}

static const struct stream_ops tls_ops = {
	tls_begin, tls_step, tls_read, tls_write, tls_pending, tls_end, false,
};
#endif

/* ------------------------------------------------------------------ the adapter */

static void io_free(void *p)
{
	struct io *io = p;

	if (io && io->fd >= 0) {
		io->ops->end(io);
		close(io->fd);
	}
	free(io);
}

static const struct wampc_adapter_ops posix_adapter = {"posix", NULL, io_free};

/* What the POSIX adapter cannot serve (checked before it takes a client). */
static enum wampd_err url_check(const wampc *c, struct wampc_url *u)
{
	if (!c->url || !wampc_url_parse(c->url, u) || u->websocket)
		return WAMPD_ERR_INVALID_ARGUMENT;
#ifndef WAMPC_HAVE_TLS
	if (u->tls)
		return WAMPD_ERR_FEATURE_NOT_SUPPORTED;
#endif
	return WAMPD_OK;
}

/* The adapter's state of c, made on first use. NULL with *err: a URL it cannot serve, a
 * client of another adapter, or NOMEM. */
static struct io *get_io(wampc *c, enum wampd_err *err)
{
	struct io *io = wampc_adapter(c, &posix_adapter);
	struct wampc_url u;

	if (io)
		return io;
	if (c->adapter_ops || (*err = url_check(c, &u)) != WAMPD_OK) {
		if (c->adapter_ops)
			*err = WAMPD_ERR_INVALID_ARGUMENT;
		return NULL;
	}
	if (!(io = calloc(1, sizeof(*io)))) {
		*err = WAMPD_ERR_NOMEM;
		return NULL;
	}
	io->fd = -1;
	io->ops = &plain_ops;
	wampc_set_adapter(c, &posix_adapter, io);
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
	if (io->fd >= 0) {
		io->ops->end(io);
		close(io->fd);
	}
	io->fd = -1;
	io->connecting = io->handshaking = false;
	wampc_transport_closed(c);
}

/* The TCP (or Unix) connection is up: the stream's handshake, or open at once. */
static void connected(wampc *c, struct io *io, const struct wampc_url *u)
{
	int r;

	io->connecting = false;
	io->rd_wants = WAMPC_POLLIN;
	io->wr_wants = WAMPC_POLLOUT;
	r = io->ops->begin(c, io, u);
	io->handshaking = r == 0;
	if (r == 1)
		wampc_transport_open(c);
	else if (r < 0)
		drop(c, io);
}

/* A handshake step (the socket is readable or writable). */
static void handshake(wampc *c, struct io *io)
{
	int r = io->ops->step(c, io);

	io->handshaking = r == 0;
	if (r == 1)
		wampc_transport_open(c);
	else if (r < 0)
		drop(c, io);
}

/* A connection attempt: open, under way, or failed (the engine was told). */
static void start_connect(wampc *c, struct io *io)
{
	struct wampc_url u;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	char port[8];
	int fd = -1, rc = -1, gai;

	if (url_check(c, &u) != WAMPD_OK) {
		drop(c, io);
		return;
	}
#ifdef WAMPC_HAVE_TLS
	io->ops = u.tls ? &tls_ops : &plain_ops;
#endif
	if (u.unix_socket) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		memcpy(sa.sun_path, u.path, strlen(u.path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0 && nonblocking(fd))
			rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		snprintf(port, sizeof(port), "%u", u.port);
		if ((gai = getaddrinfo(u.host, port, &hints, &res)) != 0) {
			char text[300];

			snprintf(text, sizeof(text), "%s: %s", u.host, gai_strerror(gai));
			wampc_transport_error(c, text);
		}
		for (ai = gai ? NULL : res; ai && rc != 0 && !(rc < 0 && errno == EINPROGRESS && fd >= 0);
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
		connected(c, io, &u);
	} else if (fd >= 0 && rc < 0 && errno == EINPROGRESS) {
		io->connecting = true;
	} else {
		if (fd >= 0 || u.unix_socket)
			report_errno(c, "connect");
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
		if ((w = io->ops->write(c, io, data, n)) < 0)
			return false;
		if (w == 0)
			return true;
		wampc_transport_consumed(c, (size_t)w);
	}
	return true;
}

/* Read while the engine wants input, READ_ROUNDS reads at most. */
static enum wampd_err drain(wampc *c, struct io *io)
{
	uint8_t buf[READ_BUF];
	enum wampd_err err = WAMPD_OK;
	ssize_t n;

	for (int round = 0; round < READ_ROUNDS && io->fd >= 0 && !c->free_pending &&
	                    (wampc_want(c) & WAMPC_WANT_READ);
	     round++) {
		n = io->ops->read(c, io, buf, sizeof(buf));
		if (n > 0) {
			err = wampc_transport_input(c, buf, (size_t)n);
			/* what the input made the engine say (an ACK, a YIELD) goes now, not after
			 * the whole burst: a burst can be longer than the link lives */
			if (io->fd >= 0 && !c->free_pending && (wampc_want(c) & WAMPC_WANT_WRITE) &&
			    !flush(c, io)) {
				drop(c, io);
				err = WAMPD_ERR_TRANSPORT_LOST;
				break;
			}
			if (io->ops->short_read_drains && (size_t)n < sizeof(buf))
				break;
		} else if (n == 0) {
			break;
		} else {
			drop(c, io);
			err = WAMPD_ERR_TRANSPORT_LOST;
		}
	}
	return err;
}

int wampc_socket(const wampc *c)
{
	const struct io *io = wampc_adapter(c, &posix_adapter);

	return io ? io->fd : -1;
}

unsigned wampc_loop_events(const wampc *c)
{
	const struct io *io = wampc_adapter(c, &posix_adapter);
	unsigned want = wampc_want(c), ev = 0;

	if (!io || io->fd < 0)
		return 0;
	if (io->connecting)
		return WAMPC_POLLOUT;
	if (io->handshaking)
		return io->hs_wants;
	if (want & WAMPC_WANT_READ)
		ev |= io->rd_wants;
	if (want & WAMPC_WANT_WRITE)
		ev |= io->wr_wants;
	return ev;
}

int wampc_loop_timeout(const wampc *c)
{
	const struct io *io = wampc_adapter(c, &posix_adapter);
	unsigned want = wampc_want(c);
	int64_t t;

	if ((want & WAMPC_WANT_CLOSE) ||
	    ((want & WAMPC_WANT_CONNECT) && (!io || io->fd < 0)) ||
	    (io && io->fd >= 0 && !io->handshaking && (want & WAMPC_WANT_READ) &&
	     io->ops->pending(io)))
		return 0; /* wampc_loop_misc has something to do now */
	t = wampc_next_timeout(c);
	return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

enum wampd_err wampc_loop_read(wampc *c)
{
	struct io *io = wampc_adapter(c, &posix_adapter);
	enum wampd_err err = WAMPD_OK;

	if (!io || io->fd < 0 || io->connecting)
		return WAMPD_OK;
	wampc_hold(c);
	if (io->handshaking)
		handshake(c, io);
	else if ((err = drain(c, io)) == WAMPD_OK && io->fd >= 0 && !c->free_pending &&
	         (io->wr_wants & WAMPC_POLLIN) && !flush(c, io)) {
		/* a TLS write that waited for input */
		drop(c, io);
		err = WAMPD_ERR_TRANSPORT_LOST;
	}
	return wampc_release(c) ? WAMPD_OK : err;
}

enum wampd_err wampc_loop_write(wampc *c)
{
	struct io *io = wampc_adapter(c, &posix_adapter);
	enum wampd_err err = WAMPD_OK;

	if (!io || io->fd < 0)
		return WAMPD_OK;
	wampc_hold(c);
	if (io->connecting) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		struct wampc_url u;

		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr ||
		    url_check(c, &u) != WAMPD_OK) {
			errno = soerr;
			report_errno(c, "connect");
			drop(c, io);
			err = WAMPD_ERR_TRANSPORT_LOST;
		} else {
			connected(c, io, &u);
		}
	} else if (io->handshaking) {
		handshake(c, io);
	}
	if (io->fd >= 0 && !io->connecting && !io->handshaking && !c->free_pending) {
		if (!flush(c, io)) {
			drop(c, io);
			err = WAMPD_ERR_TRANSPORT_LOST;
		} else if (io->rd_wants & WAMPC_POLLOUT) {
			err = drain(c, io); /* a TLS read that waited to write */
		}
	}
	return wampc_release(c) ? WAMPD_OK : err;
}

enum wampd_err wampc_loop_misc(wampc *c)
{
	enum wampd_err err = WAMPD_OK;
	struct io *io = get_io(c, &err);

	if (!io)
		return err;
	wampc_hold(c);
	wampc_tick(c);
	if (!c->free_pending && (wampc_want(c) & WAMPC_WANT_CLOSE)) {
		if (io->fd >= 0 && !io->connecting && !io->handshaking)
			flush(c, io); /* ABORT/GOODBYE, as far as the socket takes them */
		drop(c, io);
	}
	if (!c->free_pending && (wampc_want(c) & WAMPC_WANT_CONNECT) && io->fd < 0)
		start_connect(c, io);
	if (!c->free_pending && io->fd >= 0 && !io->handshaking && !io->connecting &&
	    io->ops->pending(io))
		drain(c, io); /* decrypted input the socket's readiness will not announce */
	wampc_release(c);
	return WAMPD_OK;
}

enum wampd_err wampc_run(wampc *c, int timeout_ms)
{
	int64_t end = timeout_ms >= 0 ? wampc_now(c) + timeout_ms : 0;
	enum wampd_err err = WAMPD_OK;

	if (!get_io(c, &err))
		return err;
	wampc_hold(c);
	if (!c->started)
		wampc_start(c);
	while (!wampc_stop_requested(c) && !c->free_pending) {
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
	wampc_release(c);
	return err;
}
