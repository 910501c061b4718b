/*
 * NAME		aipc - asynchronous request/reply calls on the event loop
 * DESCRIPTION	aipc_call() returns NULL with a reason when the service
 *		cannot even be reached (no socket, connection refused, listen
 *		queue full); otherwise the callback runs later with status 0
 *		and the reply body, or -1 and a reason (lost connection, bad
 *		hello, time out).  aipc_cancel() drops a call without calling
 *		back.
 * SECURITY	Reply frames are bounded by IPC_FRAME_MAX; the hello must name
 *		the expected protocol.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "aipc.h"
#include "ipc.h"

#define AIPC_HELLO	0
#define AIPC_WRITE	1
#define AIPC_REPLY	2

struct aipc {
	int	 fd;
	int	 state;
	char	*proto;
	struct buf out;
	size_t	 out_off;
	struct buf in;
	aipc_fn	 fn;
	void	*ctx;
};

static void aipc_event(int, int, void *);
static void aipc_timeout(void *);

/* aipc_done - finish a call and call back */
static void
aipc_done(struct aipc *a, int status, const char *body, size_t len,
    const char *why)
{
	aipc_fn fn = a->fn;
	void *ctx = a->ctx;
	struct buf keep = BUF_INIT;

	if (status == 0)
		buf_set(&keep, body, len);
	aipc_cancel(a);
	fn(ctx, status, status == 0 ? keep.p ? keep.p : "" : NULL,
	    status == 0 ? keep.len : 0, why);
	buf_free(&keep);
}

/* aipc_cancel - drop a call without calling back */
void
aipc_cancel(struct aipc *a)
{
	if (a == NULL)
		return;
	event_timer_cancel(aipc_timeout, a);
	event_fd_del(a->fd);
	close(a->fd);
	buf_free(&a->out);
	buf_free(&a->in);
	free(a->proto);
	free(a);
}

/* aipc_timeout - the deadline passed */
static void
aipc_timeout(void *ctx)
{
	aipc_done(ctx, -1, NULL, 0, "timeout");
}

/* aipc_check_hello - is the first frame the expected hello? */
static int
aipc_check_hello(struct aipc *a, const char *body, size_t len)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	int64_t version = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("protocol", &name, 64),
		IPC_WANT_INT("version", &version),
		IPC_WANT_END
	};
	int ok = ipc_scan(body, len, want, &why) == 0 &&
	    strcmp(buf_str(&name), a->proto) == 0;

	buf_free(&name);
	buf_free(&why);
	return ok;
}

/* aipc_event - drive the call */
static void
aipc_event(int fd, int mask, void *ctx)
{
	struct aipc *a = ctx;
	ssize_t n;
	long flen;

	(void)mask;
	if (a->state == AIPC_WRITE) {
		n = write(fd, a->out.p + a->out_off, a->out.len - a->out_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			aipc_done(a, -1, NULL, 0, "lost connection");
			return;
		}
		a->out_off += (size_t)n;
		if (a->out_off == a->out.len) {
			a->state = AIPC_REPLY;
			event_fd(fd, EV_READ, aipc_event, a);
		}
		return;
	}
	buf_reserve(&a->in, 16384);
	n = read(fd, a->in.p + a->in.len, a->in.cap - a->in.len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		aipc_done(a, -1, NULL, 0, "lost connection");
		return;
	}
	a->in.len += (size_t)n;
	for (;;) {
		flen = ipc_frame_len(a->in.p, a->in.len, IPC_FRAME_MAX);
		if (flen < 0) {
			aipc_done(a, -1, NULL, 0, "reply too long");
			return;
		}
		if (flen == 0)
			return;
		if (a->state == AIPC_HELLO) {
			if (!aipc_check_hello(a, a->in.p + IPC_HDR_LEN,
			    (size_t)flen - IPC_HDR_LEN)) {
				aipc_done(a, -1, NULL, 0, "bad hello");
				return;
			}
			buf_consume(&a->in, (size_t)flen);
			a->state = AIPC_WRITE;
			event_fd(fd, EV_WRITE, aipc_event, a);
			return;
		}
		aipc_done(a, 0, a->in.p + IPC_HDR_LEN, (size_t)flen -
		    IPC_HDR_LEN, NULL);
		return;
	}
}

/*
 * aipc_call - start a call to the service socket at path.  The request
 * frame is copied.  Returns a handle or NULL with a reason.
 */
struct aipc *
aipc_call(const char *path, const char *proto, const struct buf *req,
    int timeout, aipc_fn fn, void *ctx, struct buf *why)
{
	struct sockaddr_un sun;
	struct aipc *a;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		buf_printf(why, "socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    errno != EINPROGRESS) {
		buf_printf(why, "connect to %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	a = xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->state = AIPC_HELLO;
	a->proto = xstrdup(proto);
	buf_init(&a->out);
	buf_init(&a->in);
	buf_set(&a->out, req->p, req->len);
	a->fn = fn;
	a->ctx = ctx;
	event_fd(fd, EV_READ, aipc_event, a);
	event_timer(aipc_timeout, a, (int64_t)timeout * 1000);
	return a;
}
