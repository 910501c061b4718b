/*
 * NAME		qfile_build - make queue files for tests
 * DESCRIPTION	qb_*() append records to a buffer the way cleanup lays out
 *		a queue file (V, C, T, envelope, M, content, X, extracted, E)
 *		or postdrop a maildrop file (no V and C), and fill in the C
 *		record at the end.  qb_write() stores a buffer as a file.
 *		Included by unit tests that need queue files on disk.
 */
#ifndef TESTS_QFILE_BUILD_H
#define TESTS_QFILE_BUILD_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/rec.h"
#include "util/buf.h"
#include "util/files.h"

struct qb {
	struct buf b;
	long	 size_at;		/* payload offset of C, 0 if none */
	long	 mesg_at;
	long	 xtra_at;
	long	 content;
	long	 nrcpt;
};

/* qb_begin - start a queue file (full: V and C) or a maildrop file */
static inline void
qb_begin(struct qb *q, int full)
{
	char zero[REC_SIZE_LEN + 1];

	memset(q, 0, sizeof(*q));
	if (!full)
		return;
	rec_puts(&q->b, REC_VERSION, REC_VERSION_TEXT);
	snprintf(zero, sizeof(zero), REC_SIZE_FMT, 0L, 0L, 0L, 0L, 0L);
	rec_put(&q->b, REC_SIZE, zero, REC_SIZE_LEN);
	q->size_at = (long)q->b.len - REC_SIZE_LEN;
}

/* qb_rec - any record with a string payload */
static inline void
qb_rec(struct qb *q, int type, const char *s)
{
	if (type == REC_MESG)
		q->mesg_at = (long)q->b.len;
	if (type == REC_XTRA)
		q->xtra_at = (long)q->b.len;
	if (type == REC_RCPT || type == REC_DONE)
		q->nrcpt++;
	if (type == REC_NORM)
		q->content += (long)strlen(s) + 1;
	if (type == REC_CONT)
		q->content += (long)strlen(s);
	rec_puts(&q->b, type, s);
}

/* qb_end - the end record; fill in the size record */
static inline void
qb_end(struct qb *q)
{
	char size[REC_SIZE_LEN + 1];

	rec_puts(&q->b, REC_END, "");
	if (q->size_at) {
		snprintf(size, sizeof(size), REC_SIZE_FMT, q->content,
		    q->mesg_at, q->nrcpt, q->xtra_at, 0L);
		memcpy(q->b.p + q->size_at, size, REC_SIZE_LEN);
	}
}

/* qb_sample - a typical message; sender "" gives a bounce */
static inline void
qb_sample(struct qb *q, int full, const char *sender, long when)
{
	char tbuf[64];

	qb_begin(q, full);
	snprintf(tbuf, sizeof(tbuf), "%ld 123456", when);
	qb_rec(q, REC_TIME, tbuf);
	if (full) {
		char w[REC_WARN_LEN + 1];

		snprintf(w, sizeof(w), REC_WARN_FMT, 0L);
		qb_rec(q, REC_WARN, w);
	}
	qb_rec(q, REC_ATTR, "rewrite_context=local");
	qb_rec(q, REC_ATTR, "create_time=1700000000");
	qb_rec(q, REC_FROM, sender);
	qb_rec(q, REC_NOTIFY, "14");
	qb_rec(q, REC_ORCP, "Alice@Example.COM");
	qb_rec(q, REC_RCPT, "alice@example.com");
	qb_rec(q, REC_DONE, "bob@example.com");
	qb_rec(q, REC_RCPT, "john smith@example.net");
	qb_rec(q, REC_MESG, "");
	qb_rec(q, REC_NORM, "Received: by mail.example.com");
	qb_rec(q, REC_NORM, "\tfor <alice@example.com>");
	qb_rec(q, REC_NORM, "Subject: test");
	qb_rec(q, REC_NORM, "");
	qb_rec(q, REC_NORM, "Body line one.");
	qb_rec(q, REC_CONT, "A long line ");
	qb_rec(q, REC_CONT, "in three ");
	qb_rec(q, REC_NORM, "pieces.");
	qb_rec(q, REC_CONT, "unterminated");
	qb_rec(q, REC_XTRA, "");
	qb_rec(q, REC_ATTR, "dsn_envid=xyz");
	qb_end(q);
}

/* qb_write - store bytes as a file with the given mode; 0 or -1 */
static inline int
qb_write(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0)
		return -1;
	if (write_all(fd, p, len) < 0 || fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

#endif
