/*
 * NAME		submit - hand a local submission to the mail system
 * DESCRIPTION	Used by sendmail and by "sendmail -bs" (smtpd in stand-alone
 *		mode): records go straight into maildrop/ when the caller may
 *		write there (root, or the owner of a private instance), or
 *		down a pipe to the set-gid postdrop otherwise.  Records are
 *		buffered in `recs' and written in chunks with submit_flush(),
 *		so a message of any size needs little memory.
 *		submit_finish() returns a sysexits(3) status: 0 when the
 *		message is safe on disk.
 */
#ifndef MAIL_SUBMIT_H
#define MAIL_SUBMIT_H

#include <sys/types.h>

#include "util/buf.h"
#include "maildrop.h"

struct submit {
	struct maildrop *md;	/* direct */
	int	 fd;		/* postdrop's stdin */
	pid_t	 pid;
	struct buf recs;
};

void	 submit_open(struct submit *);
void	 submit_flush(struct submit *);
int	 submit_finish(struct submit *);
void	 submit_abort(struct submit *);

#endif
