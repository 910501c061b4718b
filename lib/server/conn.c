/*
 * NAME		conn - buffered client connections for event-driven daemons
 * DESCRIPTION	The connection reads whenever the socket is readable (and
 *		the daemon has not paused it), calls on_input after each read
 *		and once more at end of file, and writes queued output when
 *		the socket is writable.  srv_conn_close() after the output is
 *		queued closes once it is sent.  Each closed connection is
 *		reported to the multi-server skeleton.
 * SECURITY	Input beyond in_max without the daemon consuming it is a
 *		protocol violation: the connection is dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "conn.h"
#include "server.h"

static void conn_event(int, int, void *);
static void conn_timeout(void *);

/* conn_update - (re)register interest */
static void
conn_update(struct srv_conn *c)
{
	int mask = 0;

	if (!c->eof && !c->paused && !c->closing)
		mask |= EV_READ;
	if (c->out.len > c->out_off)
		mask |= EV_WRITE;
	if (mask)
		event_fd(c->fd, mask, conn_event, c);
	else
		event_fd_del(c->fd);
	if (c->timeout > 0)
		event_timer(conn_timeout, c, (int64_t)c->timeout * 1000);
}

/* conn_free - release everything (later, if inside a callback) */
static void
conn_free(struct srv_conn *c)
{
	if (c->in_callback) {
		c->dead = 1;
		return;
	}
	if (c->on_close)
		c->on_close(c);
	event_timer_cancel(conn_timeout, c);
	event_fd_del(c->fd);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	srv_multi_client_done();
}

/* conn_timeout - no progress for too long */
static void
conn_timeout(void *ctx)
{
	struct srv_conn *c = ctx;

	log_debug("client connection timed out");
	conn_free(c);
}

/* conn_event - readable or writable */
static void
conn_event(int fd, int mask, void *ctx)
{
	struct srv_conn *c = ctx;
	ssize_t n;

	if (mask & EV_WRITE) {
		n = write(fd, c->out.p + c->out_off, c->out.len - c->out_off);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_free(c);
			return;
		}
		if (n > 0) {
			c->out_off += (size_t)n;
			if (c->out_off == c->out.len) {
				buf_reset(&c->out);
				c->out_off = 0;
			}
		}
		if (c->closing && c->out.len == 0) {
			conn_free(c);
			return;
		}
	}
	if ((mask & EV_READ) && !c->eof && !c->paused && !c->closing) {
		buf_reserve(&c->in, 65536);
		n = read(fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			c->eof = 1;
		} else if (n == 0) {
			c->eof = 1;
		} else if (n > 0) {
			c->in.len += (size_t)n;
			c->in.p[c->in.len] = 0;
		}
		if (c->in.len > c->in_max) {
			log_warn("client sent too much data without waiting "
			    "-- dropping connection");
			conn_free(c);
			return;
		}
		c->in_callback = 1;
		c->on_input(c);
		c->in_callback = 0;
		if (c->dead) {
			conn_free(c);
			return;
		}
		if (c->eof && !c->closing) {
			/* The daemon did not close: nothing more will come. */
			c->paused = 1;
		}
	}
	conn_update(c);
}

/* srv_conn_new - take over a connected descriptor */
struct srv_conn *
srv_conn_new(int fd, size_t in_max, int timeout, srv_conn_fn on_input,
    srv_conn_fn on_close, void *ctx)
{
	struct srv_conn *c = xcalloc(1, sizeof(*c));

	c->fd = fd;
	c->in_max = in_max;
	c->timeout = timeout;
	c->on_input = on_input;
	c->on_close = on_close;
	c->ctx = ctx;
	buf_init(&c->in);
	buf_init(&c->out);
	conn_update(c);
	return c;
}

/* srv_conn_write - queue output */
void
srv_conn_write(struct srv_conn *c, const void *p, size_t n)
{
	buf_put(&c->out, p, n);
	conn_update(c);
}

/*
 * srv_conn_close - close after queued output is sent.  When nothing is
 * queued the connection is freed at once: the caller must not touch it
 * afterwards.
 */
void
srv_conn_close(struct srv_conn *c)
{
	c->closing = 1;
	if (c->out.len == c->out_off) {
		conn_free(c);
		return;
	}
	conn_update(c);
}

/* srv_conn_pause - stop or resume reading */
void
srv_conn_pause(struct srv_conn *c, int paused)
{
	c->paused = paused;
	if (!c->closing)
		conn_update(c);
}
