/*
 * NAME		maildrop - write a submission into maildrop/
 * DESCRIPTION	Used by postdrop (setgid, for any user) and by sendmail when
 *		it may write maildrop/ itself (root, or the owner of a private
 *		instance).  The file is written under a temporary name, made
 *		durable with fsync, marked complete (owner execute bit) and
 *		renamed to its queue ID; then pickup is triggered.  Only a
 *		file that carries a queue ID name and the execute bit is ever
 *		picked up, so a crash never queues half a message.
 */
#ifndef MAIL_MAILDROP_H
#define MAIL_MAILDROP_H

#include <stddef.h>

#include "util/buf.h"
#include "qid.h"

struct maildrop {
	int	 fd;
	char	 tmp[256];
	char	 id[QID_MAX];
	size_t	 size;
	struct buf out;
};

struct maildrop *maildrop_open(struct buf *);
int	 maildrop_write(struct maildrop *, const void *, size_t);
int	 maildrop_commit(struct maildrop *, struct buf *);
void	 maildrop_abort(struct maildrop *);
int	 maildrop_check(const char *, size_t, int, int *, int *,
	    struct buf *);

#define MAILDROP_EXTRACT	(1 << 0)	/* sendmail -t */
#define MAILDROP_QFILE		(1 << 1)	/* a requeued queue file */
char	*mail_conf_check_setgid(const char *);

#endif
