/*
 * NAME		tls_stream - TLS beneath a struct stream
 * DESCRIPTION	tls_stream_start() makes the stream's socket non-blocking,
 *		runs the TLS handshake (server or client side) within the
 *		stream's time limit and, when it succeeds, installs read and
 *		write hooks (struct stream_ops) so that the stream's buffered,
 *		deadline-driven I/O goes through TLS from then on.  Each
 *		SSL_read()/SSL_write() that wants the socket waits for it with
 *		poll() for what is left of `timeout' seconds; time-outs set
 *		ETIMEDOUT, so the stream reports them as it does for plain
 *		sockets.
 *
 *		Input the stream had buffered before the handshake belongs
 *		to the plaintext phase: the caller must have discarded it
 *		(tls_stream_start() refuses to start while any is buffered,
 *		so that no pipelined plaintext is ever read as if it came
 *		through TLS).
 *
 *		tls_stream_stop() sends close_notify (once, without waiting
 *		for long), removes the hooks and frees the session.
 * SECURITY	No OpenSSL call blocks: every wait is a bounded poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/log.h"
#include "util/mem.h"
#include "tls.h"
#include "tls_int.h"

/* tls_now_ms - monotonic milliseconds */
static long long
tls_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * tls_wait - wait for the socket as OpenSSL asked (err is
 * SSL_ERROR_WANT_READ/WRITE) until deadline (ms, 0: forever); 0 ok, -1
 * with errno (ETIMEDOUT)
 */
static int
tls_wait(int fd, int err, long long deadline)
{
	struct pollfd pfd;
	int n, ms;

	pfd.fd = fd;
	pfd.events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	for (;;) {
		if (deadline > 0) {
			long long left = deadline - tls_now_ms();

			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			ms = left > 0x7fffffff ? 0x7fffffff : (int)left;
		} else {
			ms = -1;
		}
		n = poll(&pfd, 1, ms);
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

/* tls_deadline - the end of one operation's time limit, or 0 */
static long long
tls_deadline(const struct stream *s)
{
	return s->timeout > 0 ? tls_now_ms() + (long long)s->timeout * 1000 :
	    0;
}

/* tls_io_error - map a failed SSL call; 1 retry, 0 EOF, -1 error */
static int
tls_io_error(struct tls_sess *ts, int fd, int r, long long deadline)
{
	SSL *ssl = ts->ssl;
	int err = SSL_get_error(ssl, r);

	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return tls_wait(fd, err, deadline) < 0 ? -1 : 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == EINTR || errno == EAGAIN)
			return 1;
		if (r == 0 || errno == 0)
			return 0;
		return -1;
	default:
		if (ts->loglevel >= 1)
			tls_log_errors("TLS I/O");
		else
			ERR_clear_error();
		errno = EIO;
		return -1;
	}
}

/* tls_stream_read - the read hook */
static ssize_t
tls_stream_read(struct stream *s, void *p, size_t n)
{
	struct tls_sess *ts = s->ops_ctx;
	long long deadline = tls_deadline(s);
	int r, k;

	if (n > 0x7fffffff)
		n = 0x7fffffff;
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_read(ts->ssl, p, (int)n)) > 0)
			return r;
		if ((k = tls_io_error(ts, s->fd, r, deadline)) <= 0)
			return k;
	}
}

/* tls_stream_write - the write hook; returns bytes written or -1 */
static ssize_t
tls_stream_write(struct stream *s, const void *p, size_t n)
{
	struct tls_sess *ts = s->ops_ctx;
	long long deadline = tls_deadline(s);
	int r, k;

	if (n > 0x7fffffff)
		n = 0x7fffffff;
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_write(ts->ssl, p, (int)n)) > 0)
			return r;
		if ((k = tls_io_error(ts, s->wfd, r, deadline)) < 0)
			return -1;
		if (k == 0) {
			errno = EPIPE;
			return -1;
		}
	}
}

static const struct stream_ops tls_stream_ops = {
	tls_stream_read,
	tls_stream_write,
	NULL,
};

/*
 * tls_stream_start - handshake on s and, when it succeeds, TLS beneath
 * it.  Returns the session (the stream refers to it; tls_stream_stop()
 * frees it) or NULL with the reason in why.
 */
struct tls_sess *
tls_stream_start(struct tls_ctx *tc, struct stream *s,
    const struct tls_conn_opts *o, struct buf *why)
{
	struct tls_sess *ts;
	long long deadline;
	SSL *ssl;
	int fl, r;

	if (stream_avail(s) > 0 || s->out.len > 0 || s->ops != NULL ||
	    s->fd != s->wfd) {
		buf_puts(why, "stream not ready for TLS");
		return NULL;
	}
	ERR_clear_error();
	if ((ssl = SSL_new(tc->ctx)) == NULL) {
		buf_puts(why, "cannot create TLS session: ");
		tls_err_text(why, "out of memory");
		return NULL;
	}
	ts = xcalloc(1, sizeof(*ts));
	ts->ssl = ssl;
	ts->server = tc->server;
	ts->loglevel = tc->loglevel;
	if (!tc->server) {
		struct tls_protos pr;
		struct buf cl = BUF_INIT;

		if (o->servername && *o->servername &&
		    SSL_set_tlsext_host_name(ssl, o->servername) != 1) {
			buf_printf(why, "bad TLS server name \"%.100s\"",
			    o->servername);
			goto bad;
		}
		if (o->protocols) {
			if (tls_protos_parse(o->protocols, &pr, why) < 0)
				goto bad;
			SSL_set_min_proto_version(ssl, pr.min);
			SSL_set_max_proto_version(ssl, pr.max);
			SSL_set_options(ssl, (uint64_t)pr.no_ops);
		}
		if (o->grade || o->exclude || o->no_anon) {
			if (tls_cipherlist(tc->grades, o->grade ? o->grade :
			    "medium", o->exclude, &cl, why) < 0) {
				buf_free(&cl);
				goto bad;
			}
			if (o->no_anon)
				buf_puts(&cl, ":!aNULL");
			if (SSL_set_cipher_list(ssl, cl.p) != 1) {
				buf_printf(why, "cipher list \"%s\" leaves no "
				    "cipher", cl.p);
				buf_free(&cl);
				ERR_clear_error();
				goto bad;
			}
			buf_free(&cl);
		}
	}
	if ((fl = fcntl(s->fd, F_GETFL)) < 0 ||
	    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    SSL_set_fd(ssl, s->fd) != 1) {
		buf_printf(why, "cannot set up the socket: %m");
		goto bad;
	}
	deadline = tls_deadline(s);
	for (;;) {
		ERR_clear_error();
		r = tc->server ? SSL_accept(ssl) : SSL_connect(ssl);
		if (r == 1)
			break;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			if (tls_wait(s->fd, SSL_get_error(ssl, r),
			    deadline) < 0) {
				if (errno == ETIMEDOUT)
					buf_puts(why, "timeout during the TLS "
					    "handshake");
				else
					buf_printf(why, "TLS handshake: %m");
				goto bad;
			}
			continue;
		case SSL_ERROR_SYSCALL:
			if (errno == EINTR)
				continue;
			if (ERR_peek_error() == 0) {
				if (r == 0 || errno == 0)
					buf_puts(why, "lost connection during "
					    "the TLS handshake");
				else
					buf_printf(why, "TLS handshake: %m");
				goto bad;
			}
			/* FALLTHROUGH */
		default:
			buf_puts(why, "TLS handshake failed: ");
			tls_err_text(why, "unknown error");
			goto bad;
		}
	}
	tls_sess_describe(tc, ts, o->match);
	s->ops = &tls_stream_ops;
	s->ops_ctx = ts;
	return ts;
bad:
	ERR_clear_error();
	SSL_free(ssl);
	free(ts);
	return NULL;
}

/* tls_stream_pending - decrypted input waiting inside OpenSSL? */
int
tls_stream_pending(const struct stream *s)
{
	const struct tls_sess *ts = s->ops_ctx;

	return s->ops == &tls_stream_ops && SSL_pending(ts->ssl) > 0;
}

/* tls_sess_free - free a session that is not (or no longer) in a stream */
void
tls_sess_free(struct tls_sess *ts)
{
	if (ts == NULL)
		return;
	SSL_free(ts->ssl);
	free(ts);
}

/*
 * tls_stream_stop - end TLS on s: close_notify when notify is set and the
 * stream is healthy, then plain I/O (which the caller will not use for
 * SMTP again) and the session freed.
 */
void
tls_stream_stop(struct stream *s, int notify)
{
	struct tls_sess *ts;

	if (s == NULL || s->ops != &tls_stream_ops)
		return;
	ts = s->ops_ctx;
	if (notify && !(s->flags & (STREAM_ERR | STREAM_TIMEOUT))) {
		ERR_clear_error();
		/* One try: the peer's close_notify is not waited for. */
		(void)SSL_shutdown(ts->ssl);
	}
	ERR_clear_error();
	s->ops = NULL;
	s->ops_ctx = NULL;
	tls_sess_free(ts);
}
