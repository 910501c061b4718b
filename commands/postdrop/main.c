/*
 * NAME		postdrop - put a message into the maildrop queue
 * SYNOPSIS	postdrop [-c config_dir] [-v]
 * DESCRIPTION	postdrop reads one submission in queue-file record form on
 *		standard input (sendmail writes it), checks it, writes it to
 *		maildrop/ under a new queue ID, makes it durable and wakes
 *		pickup.  It is installed set-gid setgid_group, so that any
 *		local user can submit mail into a directory only the mail
 *		system can read.
 * SECURITY	The only privileged thing postdrop can do is create one file
 *		in maildrop/.  The input is bounded (message_size_limit plus
 *		envelope) and its record grammar checked before the file
 *		becomes visible; the environment is not trusted; an alternate
 *		configuration directory must be allowed by the default
 *		main.cf (alternate_config_directories) or belong to root
 *		alone (see mail_conf_check_setgid in lib/mail/maildrop.c).
 * DIAGNOSTICS	Errors on stderr and in the mail log.  Exit status 0 on
 *		success, 75 (EX_TEMPFAIL) for a temporary problem, 65
 *		(EX_DATAERR) for bad input, 73 (EX_CANTCREAT) for a message
 *		over the size limit.
 * SEE ALSO	sendmail(1), pickup(8), doc/postdrop.md
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/maildrop.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"

/* main - read, check, write */
int
main(int argc, char **argv)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct maildrop *m;
	const char *dir = NULL;
	size_t max;
	int c, nrcpt, info;

	log_init("postdrop", LOG_TO_STDERR);
	umask(022);
	sig_ignore(SIGPIPE);
	while ((c = getopt(argc, argv, "c:rv")) != -1) {
		switch (c) {
		case 'c':
			dir = optarg;
			break;
		case 'r':
			/* Postfix: input is in record form; always so here. */
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			log_fatal_status(EX_USAGE, "usage: postdrop "
			    "[-c config_dir] [-v]");
		}
	}
	dir = mail_conf_check_setgid(mail_conf_dir(dir));
	mail_conf_load(dir);
	{
		char *name = xasprintf("%s/postdrop", mail_cfg.syslog_name);

		log_set_name(name);
		free(name);
		log_open_syslog(NULL);
		log_set_targets(LOG_TO_STDERR | LOG_TO_SYSLOG);
	}
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal_status(EX_TEMPFAIL, "chdir %s: %m",
		    mail_cfg.queue_directory);
	max = mail_cfg.message_size_limit ? (size_t)mail_cfg.message_size_limit
	    * 2 + 1024 * 1024 : 1024UL * 1024 * 1024;
	if (read_fd_all(0, &in, max) < 0) {
		if (errno == EFBIG)
			log_fatal_status(EX_CANTCREAT, "uid=%ld: message file "
			    "too big", (long)getuid());
		log_fatal_status(EX_TEMPFAIL, "read standard input: %m");
	}
	if (maildrop_check(in.p ? in.p : "", in.len, 0, &info, &nrcpt, &why) < 0)
		log_fatal_status(EX_DATAERR, "uid=%ld: malformed input: %s",
		    (long)getuid(), buf_str(&why));
	if ((m = maildrop_open(&why)) == NULL)
		log_fatal_status(EX_TEMPFAIL, "%s", buf_str(&why));
	if (maildrop_write(m, in.p, in.len) < 0 ||
	    maildrop_commit(m, &why) < 0) {
		if (why.len == 0)
			buf_printf(&why, "write: %s", strerror(errno));
		maildrop_abort(m);
		log_fatal_status(EX_TEMPFAIL, "%s", buf_str(&why));
	}
	log_debug("%s: queued", m->id);
	maildrop_abort(m);
	buf_free(&in);
	buf_free(&why);
	return 0;
}
