/*
 * NAME		submit - hand a local submission to the mail system
 * DESCRIPTION	See submit.h.  The postdrop path runs
 *		$command_directory/postdrop -c $config_directory with the
 *		records on its standard input; its exit status is the result.
 * SECURITY	Not privileged itself: postdrop is set-gid.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "mail_conf.h"
#include "submit.h"

/* submit_open - start the direct or the postdrop path */
void
submit_open(struct submit *k)
{
	struct buf why = BUF_INIT;
	int fds[2];

	memset(k, 0, sizeof(*k));
	buf_init(&k->recs);
	k->fd = -1;
	/* Who may write maildrop/ needs no set-gid helper. */
	if (access("maildrop", W_OK | X_OK) == 0) {
		if ((k->md = maildrop_open(&why)) == NULL)
			log_fatal_status(EX_TEMPFAIL, "%s", buf_str(&why));
		buf_free(&why);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		log_fatal_status(EX_OSERR, "pipe: %m");
	if ((k->pid = fork()) < 0)
		log_fatal_status(EX_OSERR, "fork: %m");
	if (k->pid == 0) {
		char *path = xasprintf("%s/postdrop",
		    mail_cfg.command_directory);
		char *args[] = {"postdrop", "-c", mail_cfg.config_directory,
		    NULL};

		if (dup2(fds[0], 0) < 0)
			_exit(EX_OSERR);
		execv(path, args);
		fprintf(stderr, "sendmail: fatal: execute %s: %s\n", path,
		    strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	close(fds[0]);
	k->fd = fds[1];
}

/* submit_flush - write the buffered records */
void
submit_flush(struct submit *k)
{
	if (k->recs.len == 0)
		return;
	if (k->md) {
		if (maildrop_write(k->md, k->recs.p, k->recs.len) < 0)
			log_fatal_status(EX_TEMPFAIL, "write queue file: %m");
	} else if (write_all(k->fd, k->recs.p, k->recs.len) < 0) {
		/* postdrop went away: its exit status tells why. */
		if (errno != EPIPE)
			log_warn("write to postdrop: %m");
	}
	buf_reset(&k->recs);
}

/* submit_finish - make the message safe; returns the exit status */
int
submit_finish(struct submit *k)
{
	struct buf why = BUF_INIT;
	int status;

	submit_flush(k);
	if (k->md) {
		if (maildrop_commit(k->md, &why) < 0) {
			maildrop_abort(k->md);
			log_fatal_status(EX_TEMPFAIL, "%s", buf_str(&why));
		}
		log_debug("%s: queued", k->md->id);
		maildrop_abort(k->md);
		buf_free(&why);
		buf_free(&k->recs);
		return 0;
	}
	close(k->fd);
	while (waitpid(k->pid, &status, 0) < 0)
		if (errno != EINTR)
			log_fatal_status(EX_OSERR, "waitpid: %m");
	buf_free(&k->recs);
	return WIFEXITED(status) ? WEXITSTATUS(status) : EX_TEMPFAIL;
}

/* submit_abort - give up: nothing is queued */
void
submit_abort(struct submit *k)
{
	if (k->md) {
		maildrop_abort(k->md);
		k->md = NULL;
	} else if (k->fd >= 0) {
		/* postdrop sees input without an end record and refuses. */
		(void)kill(k->pid, SIGTERM);
		close(k->fd);
		k->fd = -1;
		(void)waitpid(k->pid, NULL, 0);
	}
}

