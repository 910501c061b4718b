/*
 * NAME		stream - buffered blocking I/O with deadlines
 * DESCRIPTION	Reads fill the input buffer with whatever is available (up
 *		to a chunk) after poll(2) says the descriptor is readable
 *		within the deadline.  stream_gets() returns one line up to a
 *		caller limit; longer lines are reported, not silently cut.
 *		Writes accumulate until stream_flush() or until the output
 *		buffer passes a high-water mark.
 * SECURITY	No read is unbounded: callers pass a maximum line length and
 *		the buffer never grows past it plus one chunk.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "stream.h"

#define STREAM_CHUNK	16384
#define STREAM_HIWAT	65536

/*
 * wait_fd - wait for readability (what 1) or writability (2) for at most
 * timeout seconds (0: no limit); 0 ok
 */
int
wait_fd(int fd, int what, int timeout)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = what == 1 ? POLLIN : POLLOUT;
	for (;;) {
		n = poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1);
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* stream_open - wrap fd; the stream owns it */
struct stream *
stream_open(int fd, int timeout)
{
	struct stream *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
	s->wfd = fd;
	s->timeout = timeout;
	buf_init(&s->in);
	buf_init(&s->out);
	return s;
}

/* stream_release - free the stream but leave the descriptor open */
void
stream_release(struct stream *s)
{
	if (s == NULL)
		return;
	buf_free(&s->in);
	buf_free(&s->out);
	free(s);
}

/* stream_close - free the stream and close the descriptor */
void
stream_close(struct stream *s)
{
	if (s == NULL)
		return;
	if (s->wfd >= 0 && s->wfd != s->fd)
		close(s->wfd);
	if (s->fd >= 0)
		close(s->fd);
	stream_release(s);
}

/* stream_raw_read - one read with deadline */
static ssize_t
stream_raw_read(struct stream *s, void *p, size_t n)
{
	ssize_t r;

	if (s->ops)
		return s->ops->read(s, p, n);
	for (;;) {
		if (wait_fd(s->fd, 1, s->timeout) < 0)
			return -1;
		r = read(s->fd, p, n);
		if (r >= 0 || (errno != EINTR && errno != EAGAIN))
			return r;
	}
}

/* stream_raw_write - write everything with deadline */
static int
stream_raw_write(struct stream *s, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if (s->ops) {
			r = s->ops->write(s, p, n);
		} else {
			/*
			 * Most writes fit in the socket buffer: try first, and
			 * wait (within the deadline) only when it is full.
			 */
			r = -1;
			errno = EAGAIN;
			if (!s->notsock) {
				r = send(s->wfd, p, n, MSG_DONTWAIT |
				    MSG_NOSIGNAL);
				if (r < 0 && errno == ENOTSOCK) {
					s->notsock = 1;
					errno = EAGAIN;
				}
			}
			if (r < 0 && errno == EAGAIN) {
				if (wait_fd(s->wfd, 2, s->timeout) < 0)
					return -1;
				r = s->notsock ? write(s->wfd, p, n) :
				    send(s->wfd, p, n, MSG_DONTWAIT |
				    MSG_NOSIGNAL);
			}
		}
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* stream_seterr - record the error kind from errno */
static void
stream_seterr(struct stream *s)
{
	s->flags |= (errno == ETIMEDOUT) ? STREAM_TIMEOUT : STREAM_ERR;
}

/* stream_avail - bytes buffered for reading */
size_t
stream_avail(const struct stream *s)
{
	return s->in.len - s->in_off;
}

/* stream_fill - read more input; 0 ok, -1 EOF or error */
int
stream_fill(struct stream *s)
{
	ssize_t r;

	if (s->flags)
		return -1;
	if (s->in_off > 0 && s->in_off == s->in.len) {
		buf_reset(&s->in);
		s->in_off = 0;
	} else if (s->in_off > STREAM_CHUNK) {
		buf_consume(&s->in, s->in_off);
		s->in_off = 0;
	}
	buf_reserve(&s->in, STREAM_CHUNK);
	r = stream_raw_read(s, s->in.p + s->in.len, STREAM_CHUNK);
	if (r < 0) {
		stream_seterr(s);
		return -1;
	}
	if (r == 0) {
		s->flags |= STREAM_EOF;
		return -1;
	}
	s->in.len += (size_t)r;
	s->in.p[s->in.len] = 0;
	s->bytes_in += r;
	return 0;
}

/* stream_getc - one byte or -1 */
int
stream_getc(struct stream *s)
{
	if (stream_avail(s) == 0 && stream_fill(s) < 0)
		return -1;
	return (unsigned char)s->in.p[s->in_off++];
}

/* stream_read - exactly n bytes; 0 ok, -1 short */
int
stream_read(struct stream *s, void *p, size_t n)
{
	char *cp = p;

	while (n > 0) {
		size_t avail = stream_avail(s), k;

		if (avail == 0) {
			if (stream_fill(s) < 0)
				return -1;
			continue;
		}
		k = avail < n ? avail : n;
		memcpy(cp, s->in.p + s->in_off, k);
		s->in_off += k;
		cp += k;
		n -= k;
	}
	return 0;
}

/*
 * stream_gets - read one line into out (without the LF; a CR before it is
 * kept).  At most max bytes are stored: a longer line sets *toolong and
 * returns its first max bytes; the rest is returned by later calls.
 * Returns 0, or -1 at EOF/error with nothing read.
 */
int
stream_gets(struct stream *s, struct buf *out, size_t max, int *toolong)
{
	buf_reset(out);
	if (toolong)
		*toolong = 0;
	for (;;) {
		size_t avail = stream_avail(s), k;
		const char *start = s->in.p + s->in_off, *nl;

		if (avail == 0) {
			if (stream_fill(s) < 0)
				return out->len ? 0 : -1;
			continue;
		}
		nl = memchr(start, '\n', avail);
		k = nl ? (size_t)(nl - start) : avail;
		if (out->len + k > max) {
			k = max - out->len;
			buf_put(out, start, k);
			s->in_off += k;
			if (toolong)
				*toolong = 1;
			return 0;
		}
		buf_put(out, start, k);
		s->in_off += k;
		if (nl) {
			s->in_off++;
			return 0;
		}
	}
}

/* stream_write - buffer output */
void
stream_write(struct stream *s, const void *p, size_t n)
{
	if (s->flags & (STREAM_ERR | STREAM_TIMEOUT))
		return;
	buf_put(&s->out, p, n);
	if (s->out.len >= STREAM_HIWAT)
		(void)stream_flush(s);
}

/* stream_puts - buffer a string */
void
stream_puts(struct stream *s, const char *str)
{
	stream_write(s, str, strlen(str));
}

/* stream_printf - buffer formatted output */
void
stream_printf(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
	if (s->out.len >= STREAM_HIWAT)
		(void)stream_flush(s);
}

/* stream_flush - write buffered output; 0 ok, -1 error */
int
stream_flush(struct stream *s)
{
	if (s->flags & (STREAM_ERR | STREAM_TIMEOUT))
		return -1;
	if (s->out.len == 0)
		return 0;
	if (stream_raw_write(s, s->out.p, s->out.len) < 0) {
		stream_seterr(s);
		buf_reset(&s->out);
		return -1;
	}
	buf_reset(&s->out);
	return 0;
}

/* stream_error - any sticky error, EOF or timeout? */
int
stream_error(const struct stream *s)
{
	return s->flags;
}

/* stream_strerror - text for the sticky condition */
const char *
stream_strerror(const struct stream *s)
{
	if (s->flags & STREAM_TIMEOUT)
		return "timeout";
	if (s->flags & STREAM_EOF)
		return "lost connection";
	if (s->flags & STREAM_ERR)
		return "I/O error";
	return "no error";
}
