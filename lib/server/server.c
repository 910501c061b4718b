/*
 * NAME		server - the start-up steps shared by all skeletons
 * DESCRIPTION	srv_init() turns a freshly exec'ed daemon into a jailed,
 *		unprivileged worker: arguments, configuration, logging, queue
 *		directory, pre_jail, chroot, setuid, post_jail.  srv_report()
 *		tells master whether this process is available or busy.
 * SECURITY	Privileges are dropped with set_ugid(), which verifies that
 *		root cannot be regained.  When master was not started by root
 *		nothing is changed: a user's private test instance.
 * PARAMETERS	everything in mail_params, plus the daemon's own table.
 * DIAGNOSTICS	fatal errors for bad arguments, configuration or privilege
 *		changes; the process exits with status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/argv.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "server.h"

struct srv_info srv;

/* srv_report - send a status byte to master (no-op stand-alone) */
void
srv_report(int status)
{
	struct srv_status st;

	if (srv.standalone || srv.master_gone)
		return;
	memset(&st, 0, sizeof(st));
	/* Workers do not report from forked children: cache the pid. */
	if (srv.pid == 0)
		srv.pid = getpid();
	st.pid = srv.pid;
	st.status = status;
	if (write(SRV_STATUS_FD, &st, sizeof(st)) != (ssize_t)sizeof(st)) {
		/* Master is gone; finish up. */
		srv.master_gone = 1;
	}
}

/* srv_request_exit - exit at the next safe point */
void
srv_request_exit(void)
{
	srv.exit_requested = 1;
}

/* srv_usage - complain about arguments */
static void __attribute__((noreturn))
srv_usage(void)
{
	log_fatal("usage: %s [-n service] [-t type] [-l count] [-s] [-u] [-v] [-S] "
	    "[-o name=value]...", srv.progname);
}

/* srv_init - common start-up */
void
srv_init(int argc, char **argv, const struct srv_hooks *h)
{
	struct argv overrides;
	struct buf why = BUF_INIT, name = BUF_INIT;
	const char *slash;
	int c;
	size_t i;

	srv.progname = (slash = strrchr(argv[0], '/')) ? slash + 1 : argv[0];
	srv.service = srv.progname;
	srv.type = "unix";
	srv.listen_count = 1;
	log_init(srv.progname, LOG_TO_STDERR);
	argv_init(&overrides);
	while ((c = getopt(argc, argv, "n:t:l:suo:vS")) != -1) {
		switch (c) {
		case 'n':
			srv.service = optarg;
			break;
		case 't':
			srv.type = optarg;
			break;
		case 'l':
			srv.listen_count = atoi(optarg);
			if (srv.listen_count < 1 ||
			    srv.listen_count > SRV_LISTEN_MAX)
				srv_usage();
			break;
		case 's':
			srv.chroot = 1;
			break;
		case 'u':
			srv.unpriv = 1;
			break;
		case 'o':
			argv_add(&overrides, optarg);
			break;
		case 'v':
			log_verbose++;
			break;
		case 'S':
			srv.standalone = 1;
			break;
		default:
			srv_usage();
		}
	}
	if (optind != argc)
		srv_usage();

	mail_conf_init(NULL);
	for (i = 0; i < overrides.n; i++)
		mail_conf_override(overrides.v[i]);
	argv_clear(&overrides);
	mail_conf_finish();
	if (h->params && param_load(mail_conf, h->params, h->cfg, &why) < 0)
		log_fatal("%s", buf_str(&why));

	buf_printf(&name, "%s/%s", mail_cfg.syslog_name, srv.progname);
	log_set_name(buf_str(&name));
	buf_free(&name);
	if (srv.standalone) {
		log_set_targets(LOG_TO_STDERR);
		if (*mail_cfg.maillog_file)
			log_set_targets(0);
	} else {
		log_set_targets(0);
		log_open_syslog(NULL);
	}
	if (*mail_cfg.maillog_file)
		(void)log_open_file(mail_cfg.maillog_file);

	mail_conf_resolve_ids(srv.unpriv && getuid() == 0);
	if (!(h->flags & SRV_NO_CHDIR) && chdir(mail_cfg.queue_directory) < 0)
		log_fatal("chdir %s: %m", mail_cfg.queue_directory);

	sig_ignore(SIGPIPE);
	sig_ignore(SIGHUP);
	umask(077);

	if (h->lock_file) {
		int fd = open(h->lock_file, O_RDWR | O_CREAT | O_CLOEXEC,
		    0600);

		if (fd < 0)
			log_fatal("open lock file %s: %m", h->lock_file);
		if (file_flock(fd, LOCK_EXCL | LOCK_NOWAIT) < 0) {
			log_info("waiting for another %s process to finish",
			    srv.progname);
			if (file_flock(fd, LOCK_EXCL) < 0)
				log_fatal("lock %s: %m", h->lock_file);
		}
		/* Kept open (and locked) until the process exits.  Taken
		 * while still privileged: pid/ belongs to root. */
	}
	if (h->pre_jail)
		h->pre_jail();
	if (geteuid() == 0) {
		if (srv.chroot && chroot_jail(mail_cfg.queue_directory) < 0)
			log_fatal("chroot %s: %m", mail_cfg.queue_directory);
		if (srv.unpriv && !(h->flags & SRV_KEEP_ROOT) &&
		    set_ugid(mail_cfg.owner_uid, mail_cfg.owner_gid) < 0)
			log_fatal("set privileges to %s: %m",
			    mail_cfg.mail_owner);
	}
	if (h->post_jail)
		h->post_jail();

	buf_free(&why);
}
