/*
 * NAME		ipc - the attribute protocol between Postern processes
 * DESCRIPTION	A message (frame) is a 4-byte big-endian body length and a
 *		body of attributes.  An attribute is a type byte ('s' string,
 *		'i' 64-bit integer), a 1-byte name length and the name, then
 *		for strings a 4-byte length and the bytes, for integers 8
 *		bytes big-endian.  Strings contain no NUL byte.  The server
 *		speaks first: protocol=<name>, version=<n>.  Scans are strict:
 *		a missing required attribute, an unexpected one, a repeat or
 *		trailing bytes are errors.  See doc/ipc.md.
 */
#ifndef MAIL_IPC_H
#define MAIL_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"

#define IPC_FRAME_MAX	(4 * 1024 * 1024)
#define IPC_HDR_LEN	4

enum ipc_type {
	IPC_T_END = 0,
	IPC_T_STR,
	IPC_T_INT,
	IPC_T_STRLIST,
};

#define IPC_OPT		1	/* may be absent */

struct ipc_want {
	const char *name;
	enum ipc_type type;
	void	*dst;		/* struct buf *, int64_t *, struct argv * */
	size_t	 max;		/* longest string */
	size_t	 max_count;	/* most list elements */
	int	 flags;
	int	 seen;		/* filled by the scanner */
};

#define IPC_WANT_STR(n, b, m)	{ n, IPC_T_STR, b, m, 0, 0, 0 }
#define IPC_WANT_OSTR(n, b, m)	{ n, IPC_T_STR, b, m, 0, IPC_OPT, 0 }
#define IPC_WANT_INT(n, p)	{ n, IPC_T_INT, p, 0, 0, 0, 0 }
#define IPC_WANT_OINT(n, p)	{ n, IPC_T_INT, p, 0, 0, IPC_OPT, 0 }
#define IPC_WANT_LIST(n, a, m, c) { n, IPC_T_STRLIST, a, m, c, IPC_OPT, 0 }
#define IPC_WANT_END		{ NULL, IPC_T_END, NULL, 0, 0, 0, 0 }

/* Building a frame. */
void	 ipc_begin(struct buf *);
void	 ipc_put_str(struct buf *, const char *, const char *);
void	 ipc_put_strn(struct buf *, const char *, const char *, size_t);
void	 ipc_put_int(struct buf *, const char *, int64_t);
void	 ipc_end(struct buf *);

/* Reading frames. */
long	 ipc_frame_len(const char *, size_t, size_t);
int	 ipc_scan(const char *, size_t, struct ipc_want *, struct buf *);
int	 ipc_peek_str(const char *, size_t, const char *, struct buf *,
	    size_t);
int	 ipc_read(struct stream *, struct buf *, size_t);
int	 ipc_send(struct stream *, struct buf *);

/* Sessions. */
void	 ipc_hello(struct buf *, const char *, int);
int	 ipc_expect_hello(struct stream *, const char *, struct buf *);
struct stream *ipc_connect(const char *, const char *, int, struct buf *);
int	 ipc_call(struct stream *, struct buf *, struct buf *, struct buf *);

#endif
