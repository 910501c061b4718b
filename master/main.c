/*
 * NAME		master - Postern resident process manager
 * SYNOPSIS	master [-c config_dir] [-d] [-t] [-v]
 * DESCRIPTION	master reads main.cf and master.cf, creates every listening
 *		socket, and starts worker daemons on demand (service(3) in
 *		this folder).  It is normally started by "postern start".
 *
 *		-c dir	configuration directory (else MAIL_CONFIG, else the
 *			compiled-in default)
 *		-d	stay in the foreground and also log to stderr
 *		-t	test: exit 0 if no master runs on this queue, 1 if
 *			one does
 *		-v	verbose logging
 *
 *		SIGHUP re-reads main.cf and master.cf (services added start,
 *		removed ones stop; running work is not cut).  SIGTERM stops:
 *		no new work, workers get a few seconds to finish, then are
 *		terminated.  SIGINT stops at once ("postern abort").
 * SECURITY	Runs as root.  A lock on pid/master.pid in the queue
 *		directory refuses a second master on the same queue.  When not
 *		started by root it runs every worker as the invoking user,
 *		without chroot, and says so in the log.
 * PARAMETERS	service_throttle_time (60s), default_process_limit (100),
 *		inet_interfaces (all), inet_protocols (all),
 *		master_crash_window (60s), master_crash_limit (10), and the
 *		global queue_directory, daemon_directory, import_environment.
 * DIAGNOSTICS	"daemon started", "reload", "terminating on signal N";
 *		warnings for dying and throttled workers.  Exit status 0, or 1
 *		on a fatal error.
 * SEE ALSO	postern(1), doc/master.md
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mastercf.h"
#include "util/events.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "master.h"

struct master_cfg master_cfg;

static const char *config_opt;
static int foreground;
static int lock_fd = -1;
static int stopping;
static int ready_fd = -1;

/* master_load - read main.cf and master.cf; fatal on error */
static void
master_load(struct mcf *m)
{
	struct buf why = BUF_INIT;
	char *path;

	mail_conf_load(config_opt);
	if (param_load(mail_conf, master_params, &master_cfg, &why) < 0)
		log_fatal("%s", buf_str(&why));
	mail_conf_resolve_ids(getuid() == 0);
	path = xasprintf("%s/master.cf", mail_cfg.config_directory);
	if (mcf_read(path, m, &why) < 0)
		log_fatal("%s", buf_str(&why));
	free(path);
	buf_free(&why);
}

/*
 * master_check_config - would a reload succeed?  A broken main.cf or
 * master.cf must not take the running system down: check both in a
 * child process (configuration errors are fatal in the loader).
 */
static int
master_check_config(void)
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct mcf m;

		/* Errors are logged (as master) and end the child. */
		master_load(&m);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* master_open_log - logging as syslog_name/master */
static void
master_open_log(void)
{
	char *name = xasprintf("%s/master", mail_cfg.syslog_name);

	log_set_name(name);
	free(name);
	log_set_targets(foreground ? LOG_TO_STDERR : 0);
	log_open_syslog(NULL);
	if (*mail_cfg.maillog_file)
		(void)log_open_file(mail_cfg.maillog_file);
}

/* master_lock - take pid/master.pid; -1 if another master holds it */
static int
master_lock(int test_only)
{
	char pid[32];

	lock_fd = open("pid/master.pid", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		log_fatal("open %s/pid/master.pid: %m (run \"postern check\" "
		    "first)", mail_cfg.queue_directory);
	if (file_flock(lock_fd, LOCK_EXCL | LOCK_NOWAIT) < 0) {
		if (errno == EWOULDBLOCK)
			return -1;
		log_fatal("lock pid/master.pid: %m");
	}
	if (test_only)
		return 0;
	snprintf(pid, sizeof(pid), "%*ld\n", 10, (long)getpid());
	if (ftruncate(lock_fd, 0) < 0 || pwrite_all(lock_fd, pid, strlen(pid),
	    0) < 0)
		log_fatal("write pid/master.pid: %m");
	return 0;
}

/* master_detach - become a daemon; the parent waits until we are ready */
static void
master_detach(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC) < 0)
		log_fatal("pipe: %m");
	if ((pid = fork()) < 0)
		log_fatal("fork: %m");
	if (pid > 0) {
		close(fds[1]);
		/* Ready byte: success.  EOF without it: startup failed. */
		_exit(read(fds[0], &c, 1) == 1 ? 0 : 1);
	}
	close(fds[0]);
	ready_fd = fds[1];
	if (setsid() < 0)
		log_warn("setsid: %m");
}

/* master_ready - release the waiting parent */
static void
master_ready(void)
{
	int nullfd;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, "R", 1) != 1)
		log_warn("notify parent: %m");
	close(ready_fd);
	ready_fd = -1;
	if ((nullfd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(nullfd, 2);
		if (nullfd > 2)
			close(nullfd);
	}
}

/* master_reload - SIGHUP */
static void
master_reload(void)
{
	struct mcf m;
	char *old_queue;

	if (master_check_config() < 0) {
		log_warn("reload: bad configuration in %s (run \"postern "
		    "check\") -- keeping the running configuration",
		    mail_cfg.config_directory);
		return;
	}
	old_queue = xstrdup(mail_cfg.queue_directory);
	master_load(&m);
	if (strcmp(old_queue, mail_cfg.queue_directory) != 0)
		log_warn("queue_directory changed from %s to %s: a reload "
		    "cannot move the queue -- stop and start instead",
		    old_queue, mail_cfg.queue_directory);
	free(old_queue);
	master_open_log();
	log_info("reload -- version %s, configuration %s",
	    mail_cfg.mail_version, mail_cfg.config_directory);
	service_reload(&m);
	mcf_free(&m);
}

/* master_stop_timeout - workers had their chance; end them */
static void
master_stop_timeout(void *ctx)
{
	(void)ctx;
	service_kill_all(stopping == 1 ? SIGTERM : SIGKILL);
	stopping++;
	event_timer(master_stop_timeout, NULL, 2000);
}

/* master_signal - signalfd events */
static void
master_signal(int fd, int mask, void *ctx)
{
	struct signalfd_siginfo si;

	(void)mask;
	(void)ctx;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			service_reap();
			break;
		case SIGHUP:
			if (!stopping)
				master_reload();
			break;
		case SIGTERM:
		case SIGINT:
			if (stopping && si.ssi_signo == SIGTERM)
				break;
			log_info("terminating on signal %d", si.ssi_signo);
			service_stop_all();
			if (si.ssi_signo == SIGINT) {
				service_kill_all(SIGKILL);
				stopping = 3;
			} else {
				stopping = 1;
				/* Give workers a moment to finish. */
				event_timer(master_stop_timeout, NULL, 5000);
			}
			break;
		}
	}
}

/* main - start the mail system */
int
main(int argc, char **argv)
{
	struct mcf m;
	sigset_t mask;
	int c, test = 0, sfd;

	log_init("master", LOG_TO_STDERR);
	while ((c = getopt(argc, argv, "c:dtv")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			log_fatal("usage: master [-c config_dir] [-d] [-t] "
			    "[-v]");
		}
	}
	master_load(&m);
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal("chdir %s: %m", mail_cfg.queue_directory);
	if (test) {
		int running = master_lock(1) < 0;

		return running ? 1 : 0;
	}
	if (!foreground)
		master_detach();
	if (master_lock(0) < 0)
		log_fatal("the Postern mail system is already running");
	master_open_log();
	if (foreground)
		log_set_targets(LOG_TO_STDERR |
		    (*mail_cfg.maillog_file ? LOG_TO_FILE : 0));
	if (mail_cfg.unprivileged)
		log_info("running as non-root user %ld: workers run as this "
		    "user, without chroot or privilege separation",
		    (long)getuid());
	umask(022);
	sig_ignore(SIGPIPE);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		log_fatal("sigprocmask: %m");
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		log_fatal("signalfd: %m");
	event_init();
	event_fd(sfd, EV_READ, master_signal, NULL);
	service_start_all(&m);
	mcf_free(&m);
	log_info("daemon started -- version %s, configuration %s",
	    mail_cfg.mail_version, mail_cfg.config_directory);
	master_ready();
	for (;;) {
		event_loop(1000);
		if (stopping && service_proc_count() == 0)
			break;
		if (stopping >= 3 && service_proc_count() > 0) {
			service_kill_all(SIGKILL);
			service_reap();
			if (service_proc_count() == 0)
				break;
		}
	}
	(void)ftruncate(lock_fd, 0);
	return 0;
}
