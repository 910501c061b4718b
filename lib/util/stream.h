/*
 * NAME		stream - buffered blocking I/O with deadlines
 * DESCRIPTION	A stream wraps a descriptor (or, through stream_ops, a TLS
 *		session) with input and output buffers.  Every read and write
 *		waits at most `timeout' seconds; errors, end of file and time
 *		outs are sticky flags, so a caller may do several operations
 *		and test once.  A write to a socket is tried at once
 *		(MSG_DONTWAIT) and waits only when the socket is full.
 */
#ifndef UTIL_STREAM_H
#define UTIL_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define STREAM_EOF	(1 << 0)
#define STREAM_ERR	(1 << 1)
#define STREAM_TIMEOUT	(1 << 2)

struct stream;

struct stream_ops {
	ssize_t	(*read)(struct stream *, void *, size_t);
	ssize_t	(*write)(struct stream *, const void *, size_t);
	void	*ctx;
};

struct stream {
	int	 fd;
	int	 wfd;			/* write side, normally fd */
	int	 timeout;		/* seconds; 0 means wait forever */
	int	 flags;
	int	 notsock;		/* wfd is no socket: poll, then write */
	struct buf in;
	size_t	 in_off;
	struct buf out;
	const struct stream_ops *ops;
	void	*ops_ctx;
	long long bytes_in;
};

struct stream *stream_open(int, int);
void	 stream_close(struct stream *);
void	 stream_release(struct stream *);
int	 stream_fill(struct stream *);
size_t	 stream_avail(const struct stream *);
int	 stream_getc(struct stream *);
int	 stream_read(struct stream *, void *, size_t);
int	 stream_gets(struct stream *, struct buf *, size_t, int *);
void	 stream_write(struct stream *, const void *, size_t);
void	 stream_puts(struct stream *, const char *);
void	 stream_printf(struct stream *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 stream_flush(struct stream *);
int	 stream_error(const struct stream *);
const char *stream_strerror(const struct stream *);
int	 wait_fd(int, int, int);

#endif
