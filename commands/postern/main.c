/*
 * NAME		postern - control the Postern mail system
 * SYNOPSIS	postern [-c config_dir] [-v] command
 * DESCRIPTION	Commands:
 *		check		check the configuration; create or repair the
 *				queue directories, their owners and modes
 *		start		check, then start master in the background
 *		start-fg	check, then run master in the foreground
 *		stop		stop: no new work, running work finishes
 *		abort		stop at once
 *		reload		re-read main.cf and master.cf
 *		status		say whether the mail system runs (exit 0 if so)
 *		flush		try to deliver all deferred mail now
 *		set-permissions	make postdrop and postqueue setgid
 *				setgid_group (run as root after install)
 * SECURITY	check, start, stop, abort, reload and set-permissions need
 *		root unless the instance belongs to the invoking user.
 * DIAGNOSTICS	Messages on stderr; exit status 0 on success, 1 on error.
 * SEE ALSO	master(8), doc/postern.md
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mastercf.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/strutil.h"
#include "postern.h"

static const char *config_opt;

/* usage - say how to use us */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: postern [-c config_dir] [-v] "
	    "check|start|start-fg|stop|abort|reload|status|flush|"
	    "set-permissions\n");
	exit(1);
}

/*
 * master_pid - pid of the running master, or 0.  The master holds a
 * lock on pid/master.pid; a stale file without the lock means no master.
 */
static pid_t
master_pid(void)
{
	char text[64];
	ssize_t n;
	int fd;
	long pid;

	if ((fd = open("pid/master.pid", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	if (parse_long(str_trim(text), &pid) < 0 || pid <= 1)
		return 0;
	return (pid_t)pid;
}

/* wait_stopped - wait until the master lock is free */
static int
wait_stopped(int seconds)
{
	int i;

	for (i = 0; i < seconds * 10; i++) {
		if (master_pid() == 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* exec_master - run master with our configuration */
static void __attribute__((noreturn))
exec_master(int fg)
{
	char *path = xasprintf("%s/master", mail_cfg.daemon_directory);
	char *args[8];
	int n = 0;

	args[n++] = "master";
	args[n++] = "-c";
	args[n++] = mail_cfg.config_directory;
	if (fg)
		args[n++] = "-d";
	if (log_verbose)
		args[n++] = "-v";
	args[n] = NULL;
	execv(path, args);
	log_fatal("execute %s: %m", path);
}

/* main - dispatch */
int
main(int argc, char **argv)
{
	const char *cmd;
	pid_t pid;
	int c;

	log_init("postern", LOG_TO_STDERR);
	while ((c = getopt(argc, argv, "c:v")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	cmd = argv[optind];
	mail_conf_load(config_opt);
	{
		char *name = xasprintf("%s/postern", mail_cfg.syslog_name);

		log_set_name(name);
		free(name);
		if (*mail_cfg.maillog_file && log_open_file(
		    mail_cfg.maillog_file) == 0)
			log_set_targets(LOG_TO_STDERR | LOG_TO_FILE);
	}
	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "start") == 0 ||
	    strcmp(cmd, "start-fg") == 0 || strcmp(cmd, "reload") == 0 ||
	    strcmp(cmd, "set-permissions") == 0) {
		if (postern_check(strcmp(cmd, "set-permissions") == 0) < 0)
			return 1;
		if (strcmp(cmd, "check") == 0 ||
		    strcmp(cmd, "set-permissions") == 0)
			return 0;
		if (chdir(mail_cfg.queue_directory) < 0)
			log_fatal("chdir %s: %m", mail_cfg.queue_directory);
	}
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal("chdir %s: %m", mail_cfg.queue_directory);
	pid = master_pid();

	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "start-fg") == 0) {
		if (pid)
			log_fatal("the Postern mail system is already running");
		log_info("starting the Postern mail system");
		exec_master(strcmp(cmd, "start-fg") == 0);
	}
	if (strcmp(cmd, "status") == 0) {
		if (pid == 0) {
			log_info("the Postern mail system is not running");
			return 1;
		}
		log_info("the Postern mail system is running: PID: %ld",
		    (long)pid);
		return 0;
	}
	if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "abort") == 0) {
		if (pid == 0)
			log_fatal("the Postern mail system is not running");
		log_info("%s the Postern mail system",
		    cmd[0] == 's' ? "stopping" : "aborting");
		if (kill(pid, cmd[0] == 's' ? SIGTERM : SIGINT) < 0)
			log_fatal("signal master pid %ld: %m", (long)pid);
		if (wait_stopped(30) < 0)
			log_fatal("master pid %ld did not stop", (long)pid);
		return 0;
	}
	if (strcmp(cmd, "reload") == 0) {
		if (pid == 0)
			log_fatal("the Postern mail system is not running");
		log_info("refreshing the Postern mail system");
		if (kill(pid, SIGHUP) < 0)
			log_fatal("signal master pid %ld: %m", (long)pid);
		return 0;
	}
	if (strcmp(cmd, "flush") == 0) {
		if (pid == 0)
			log_fatal("the Postern mail system is not running");
		if (sock_trigger("public/qmgr", "F", 1, 5) < 0)
			log_fatal("unable to contact the queue manager: %m");
		return 0;
	}
	usage();
}
