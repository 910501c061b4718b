/*
 * NAME		qfile - reading queue files
 * DESCRIPTION	qfile_read_env() reads a queue file's envelope and its
 *		extracted section (skipping the content) into a struct
 *		qfile_env, checking record order and limits as it goes.
 *		qfile_content_*() walk the content lines.  qfile_mark_done()
 *		marks a recipient delivered in place (its type byte R -> D).
 *		The layout is written down in doc/queue-format.md.
 */
#ifndef MAIL_QFILE_H
#define MAIL_QFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"

/* Queue file flags (in the size record). */
#define QF_FLAG_NONE	0

/* DSN NOTIFY bits (RFC 3461), as Postfix encodes them. */
#define DSN_NOTIFY_NEVER	(1 << 0)
#define DSN_NOTIFY_SUCCESS	(1 << 1)
#define DSN_NOTIFY_FAILURE	(1 << 2)
#define DSN_NOTIFY_DELAY	(1 << 3)
#define DSN_NOTIFY_ANY		(DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | \
				 DSN_NOTIFY_DELAY)

#define DSN_RET_FULL		1
#define DSN_RET_HDRS		2

#define QFILE_ADDR_MAX		4096
#define QFILE_RCPT_MAX		100000

struct qfile_rcpt {
	char	*addr;
	char	*orig;		/* original recipient, "" if none */
	int	 notify;	/* DSN_NOTIFY_* bits, 0 if none */
	long	 offset;	/* of the R/D record's type byte */
	int	 done;
};

struct qfile_env {
	long	 data_size;	/* content bytes (as message size) */
	long	 data_offset;	/* offset of the M record */
	long	 rcpt_count;
	long	 xtra_offset;	/* offset of the X record */
	long	 flags;
	long	 size_offset;	/* offset of the C record's payload */
	long	 arrival_sec;
	long	 arrival_usec;
	long	 warn_time;	/* 0: no warning due */
	long	 warn_offset;	/* payload offset of W, 0 if absent */
	char	*sender;
	struct argv attrs;	/* "name=value" */
	struct qfile_rcpt *rcpts;
	size_t	 nrcpt;
	size_t	 ndone;
};

int	 qfile_read_env(int, struct qfile_env *, struct buf *);
void	 qfile_env_free(struct qfile_env *);
void	 qfile_env_add_rcpt(struct qfile_env *, size_t *, const struct buf *,
	    char **, int, long, int);
const char *qfile_attr(const struct qfile_env *, const char *);
int	 qfile_mark_done(int, long);
int	 qfile_set_warn(int, long, long);

/* Content walking. */
struct qfile_content {
	struct stream *s;
	long	 left;		/* bytes up to the X record */
	struct buf rec;
	int	 done;
};

int	 qfile_content_open(struct qfile_content *, int,
	    const struct qfile_env *, struct buf *);
int	 qfile_content_open_at(struct qfile_content *, int, long,
	    struct buf *);
int	 qfile_content_line(struct qfile_content *, struct buf *, int *);
void	 qfile_content_close(struct qfile_content *);

#endif
