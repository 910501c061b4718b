/*
 * NAME		ipc - the attribute protocol between Postern processes
 * DESCRIPTION	Frames are built in a struct buf with ipc_begin(), the
 *		ipc_put_*() calls and ipc_end(), which fills in the length.
 *		ipc_frame_len() lets event-driven servers find frame
 *		boundaries in a partial input buffer; ipc_read() reads one
 *		frame from a blocking stream.  ipc_scan() is the strict
 *		decoder; ipc_peek_str() is a lenient look at one attribute
 *		(to choose the request type before the strict scan).
 * SECURITY	Every length is checked against the frame size and the
 *		caller's maximum before use; strings with NUL bytes and
 *		over-long names are refused.  A frame longer than the reader's
 *		maximum is an error, never an allocation.
 * SEE ALSO	doc/ipc.md
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sock.h"
#include "ipc.h"

/* ipc_be32 - decode a big-endian 32-bit length */
static uint32_t
ipc_be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) |
	    ((uint32_t)u[2] << 8) | u[3];
}

/* ipc_put_be32 - append a big-endian 32-bit length */
static void
ipc_put_be32(struct buf *b, uint32_t v)
{
	unsigned char u[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_put(b, u, 4);
}

/* ipc_begin - start a frame in b (b is reset) */
void
ipc_begin(struct buf *b)
{
	buf_reset(b);
	ipc_put_be32(b, 0);
}

/* ipc_put_name - type byte and name */
static void
ipc_put_name(struct buf *b, int type, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255)
		log_panic("ipc: bad attribute name length %zu", n);
	buf_putc(b, type);
	buf_putc(b, (int)n);
	buf_put(b, name, n);
}

/* ipc_put_strn - string attribute with explicit length */
void
ipc_put_strn(struct buf *b, const char *name, const char *s, size_t len)
{
	if (len > IPC_FRAME_MAX)
		log_panic("ipc: attribute %s too long", name);
	ipc_put_name(b, 's', name);
	ipc_put_be32(b, (uint32_t)len);
	buf_put(b, s, len);
}

/* ipc_put_str - string attribute */
void
ipc_put_str(struct buf *b, const char *name, const char *s)
{
	ipc_put_strn(b, name, s ? s : "", s ? strlen(s) : 0);
}

/* ipc_put_int - integer attribute */
void
ipc_put_int(struct buf *b, const char *name, int64_t v)
{
	unsigned char u[8];
	uint64_t x = (uint64_t)v;
	int i;

	ipc_put_name(b, 'i', name);
	for (i = 7; i >= 0; i--) {
		u[i] = x & 0xff;
		x >>= 8;
	}
	buf_put(b, u, 8);
}

/* ipc_end - fill in the body length */
void
ipc_end(struct buf *b)
{
	uint32_t n;

	if (b->len < IPC_HDR_LEN || b->len - IPC_HDR_LEN > IPC_FRAME_MAX)
		log_panic("ipc: frame too long (%zu)", b->len);
	n = (uint32_t)(b->len - IPC_HDR_LEN);
	b->p[0] = (char)(n >> 24);
	b->p[1] = (char)(n >> 16);
	b->p[2] = (char)(n >> 8);
	b->p[3] = (char)n;
}

/*
 * ipc_frame_len - total length (header + body) of the frame at p if it is
 * complete; 0 if more input is needed; -1 if it exceeds max.
 */
long
ipc_frame_len(const char *p, size_t avail, size_t max)
{
	uint32_t n;

	if (avail < IPC_HDR_LEN)
		return 0;
	n = ipc_be32(p);
	if (n > max || n > IPC_FRAME_MAX)
		return -1;
	if (avail - IPC_HDR_LEN < n)
		return 0;
	return (long)n + IPC_HDR_LEN;
}

/* ipc_attr - decode one attribute; returns bytes used or -1 */
static long
ipc_attr(const char *p, size_t len, int *type, const char **name,
    size_t *nlen, const char **val, size_t *vlen, int64_t *ival)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t pos;

	if (len < 2)
		return -1;
	*type = u[0];
	*nlen = u[1];
	if (*nlen == 0 || len - 2 < *nlen)
		return -1;
	*name = p + 2;
	pos = 2 + *nlen;
	if (*type == 's') {
		if (len - pos < 4)
			return -1;
		*vlen = ipc_be32(p + pos);
		pos += 4;
		if (len - pos < *vlen)
			return -1;
		*val = p + pos;
		return (long)(pos + *vlen);
	}
	if (*type == 'i') {
		uint64_t x = 0;
		int i;

		if (len - pos < 8)
			return -1;
		for (i = 0; i < 8; i++)
			x = (x << 8) | u[pos + i];
		*ival = (int64_t)x;
		return (long)(pos + 8);
	}
	return -1;
}

/*
 * ipc_scan - strict decode of a frame body into the wanted attributes.
 * Returns 0, or -1 with a reason.
 */
int
ipc_scan(const char *body, size_t len, struct ipc_want *want,
    struct buf *why)
{
	struct ipc_want *w;
	size_t pos = 0;

	for (w = want; w->name; w++) {
		w->seen = 0;
		if (w->type == IPC_T_STR)
			buf_reset(w->dst);
		else if (w->type == IPC_T_STRLIST)
			argv_truncate(w->dst, 0);
	}
	while (pos < len) {
		const char *name, *val = NULL;
		size_t nlen, vlen = 0;
		int64_t ival = 0;
		int type;
		long used;

		used = ipc_attr(body + pos, len - pos, &type, &name, &nlen,
		    &val, &vlen, &ival);
		if (used < 0) {
			buf_sets(why, "malformed attribute");
			return -1;
		}
		pos += (size_t)used;
		for (w = want; w->name; w++)
			if (strlen(w->name) == nlen &&
			    memcmp(w->name, name, nlen) == 0)
				break;
		if (w->name == NULL) {
			buf_printf(why, "unexpected attribute: %.*s",
			    (int)nlen, name);
			return -1;
		}
		if ((w->type == IPC_T_INT) != (type == 'i')) {
			buf_printf(why, "attribute %s: wrong type", w->name);
			return -1;
		}
		if (w->seen && w->type != IPC_T_STRLIST) {
			buf_printf(why, "repeated attribute: %s", w->name);
			return -1;
		}
		if (w->type != IPC_T_INT) {
			if (vlen > w->max) {
				buf_printf(why, "attribute %s: value too long",
				    w->name);
				return -1;
			}
			if (memchr(val, 0, vlen) != NULL) {
				buf_printf(why, "attribute %s: NUL in value",
				    w->name);
				return -1;
			}
		}
		switch (w->type) {
		case IPC_T_STR:
			buf_set(w->dst, val, vlen);
			break;
		case IPC_T_INT:
			*(int64_t *)w->dst = ival;
			break;
		case IPC_T_STRLIST:
			if (((struct argv *)w->dst)->n >= w->max_count) {
				buf_printf(why, "attribute %s: too many values",
				    w->name);
				return -1;
			}
			argv_addn(w->dst, val, vlen);
			break;
		case IPC_T_END:
			break;
		}
		w->seen = 1;
	}
	for (w = want; w->name; w++) {
		if (!w->seen && !(w->flags & IPC_OPT)) {
			buf_printf(why, "missing attribute: %s", w->name);
			return -1;
		}
	}
	return 0;
}

/* ipc_peek_str - find a string attribute leniently; 0 found, -1 not */
int
ipc_peek_str(const char *body, size_t len, const char *want, struct buf *out,
    size_t max)
{
	size_t pos = 0;

	while (pos < len) {
		const char *name, *val = NULL;
		size_t nlen, vlen = 0;
		int64_t ival;
		int type;
		long used;

		used = ipc_attr(body + pos, len - pos, &type, &name, &nlen,
		    &val, &vlen, &ival);
		if (used < 0)
			return -1;
		pos += (size_t)used;
		if (type == 's' && strlen(want) == nlen &&
		    memcmp(want, name, nlen) == 0) {
			if (vlen > max || memchr(val, 0, vlen))
				return -1;
			buf_set(out, val, vlen);
			return 0;
		}
	}
	return -1;
}

/*
 * ipc_read - read one frame from a stream; frame gets the body only.
 * Returns 0, -1 on EOF or I/O error, -2 when the frame is too long.
 */
int
ipc_read(struct stream *s, struct buf *frame, size_t max)
{
	char hdr[IPC_HDR_LEN];
	uint32_t n;

	if (stream_read(s, hdr, IPC_HDR_LEN) < 0)
		return -1;
	n = ipc_be32(hdr);
	if (n > max || n > IPC_FRAME_MAX)
		return -2;
	buf_reset(frame);
	buf_reserve(frame, n);
	if (stream_read(s, frame->p, n) < 0)
		return -1;
	frame->len = n;
	frame->p[n] = 0;
	return 0;
}

/* ipc_send - write a built frame and flush; 0 or -1 */
int
ipc_send(struct stream *s, struct buf *frame)
{
	stream_write(s, frame->p, frame->len);
	return stream_flush(s);
}

/* ipc_hello - the server's first frame */
void
ipc_hello(struct buf *b, const char *proto, int version)
{
	ipc_begin(b);
	ipc_put_str(b, "protocol", proto);
	ipc_put_int(b, "version", version);
	ipc_end(b);
}

/* ipc_expect_hello - check the server's first frame */
int
ipc_expect_hello(struct stream *s, const char *proto, struct buf *why)
{
	struct buf frame = BUF_INIT, name = BUF_INIT;
	int64_t version = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("protocol", &name, 64),
		IPC_WANT_INT("version", &version),
		IPC_WANT_END
	};
	int r = -1;

	if (ipc_read(s, &frame, 1024) < 0)
		buf_printf(why, "%s service: %s", proto, stream_strerror(s));
	else if (ipc_scan(frame.p, frame.len, want, why) < 0)
		;
	else if (strcmp(buf_str(&name), proto) != 0)
		buf_printf(why, "unexpected protocol: %s (want %s)",
		    buf_str(&name), proto);
	else
		r = 0;
	buf_free(&frame);
	buf_free(&name);
	return r;
}

/*
 * ipc_connect - connect to a service socket and check its hello.
 * Returns a stream (caller closes) or NULL with a reason.
 */
struct stream *
ipc_connect(const char *path, const char *proto, int timeout,
    struct buf *why)
{
	struct stream *s;
	int fd;

	if ((fd = sock_unix_connect(path, timeout)) < 0) {
		buf_printf(why, "connect to %s: %s", path, strerror(errno));
		return NULL;
	}
	s = stream_open(fd, timeout);
	if (ipc_expect_hello(s, proto, why) < 0) {
		stream_close(s);
		return NULL;
	}
	return s;
}

/*
 * ipc_call - send a request frame and read the reply body; 0 or -1.
 */
int
ipc_call(struct stream *s, struct buf *req, struct buf *reply,
    struct buf *why)
{
	int r;

	if (ipc_send(s, req) < 0) {
		buf_printf(why, "write: %s", stream_strerror(s));
		return -1;
	}
	if ((r = ipc_read(s, reply, IPC_FRAME_MAX)) < 0) {
		buf_printf(why, "read: %s", r == -2 ? "reply too long" :
		    stream_strerror(s));
		return -1;
	}
	return 0;
}
