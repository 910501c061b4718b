/*
 * NAME		proc - privileges, jails, signals and child processes
 * DESCRIPTION	set_ugid() drops root for good: supplementary groups, then
 *		gid, then uid, and verifies that root cannot be regained.
 *		set_eugid() changes only effective ids, for delivery agents
 *		that must switch back.  spawn_run() runs a command as a given
 *		user with a time limit, collecting (bounded) output, the way
 *		local(8) runs "|command" deliveries.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "proc.h"

/* set_ugid - permanently become uid/gid */
int
set_ugid(uid_t uid, gid_t gid)
{
	if (geteuid() != 0) {
		if (getuid() == uid && getgid() == gid)
			return 0;
		/* A non-root instance runs as whoever started it. */
		return 0;
	}
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		log_panic("set_ugid: could regain root");
	return 0;
}

/* set_eugid - switch effective ids (from root, or back to root) */
int
set_eugid(uid_t uid, gid_t gid)
{
	if (getuid() != 0)
		return 0;
	if (geteuid() != 0 && seteuid(0) < 0)
		return -1;
	if (uid == 0) {
		if (setegid(gid) < 0 || setgroups(1, &gid) < 0)
			return -1;
		return 0;
	}
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0)
		return -1;
	return 0;
}

/* chroot_jail - chroot to dir and chdir to its root */
int
chroot_jail(const char *dir)
{
	if (chdir(dir) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return -1;
	return 0;
}

/* user_lookup - uid and primary gid of a user name */
int
user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return -1;
	if (uid)
		*uid = pw->pw_uid;
	if (gid)
		*gid = pw->pw_gid;
	return 0;
}

/* group_lookup - gid of a group name */
int
group_lookup(const char *name, gid_t *gid)
{
	struct group *gr;

	if ((gr = getgrnam(name)) == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

/* close_fds_from - close every descriptor >= low */
void
close_fds_from(int low)
{
	struct rlimit rl;
	int fd, max = 1024;

	/* One system call where the kernel has it (Linux 5.9). */
	if (close_range((unsigned)low, ~0U, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	    && rl.rlim_cur < 65536)
		max = (int)rl.rlim_cur;
	for (fd = low; fd < max; fd++)
		(void)close(fd);
}

/* sig_ignore - ignore a signal */
void
sig_ignore(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

/* sig_default - restore a signal's default action */
void
sig_default(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

/* sig_handle - install a handler without SA_RESTART */
void
sig_handle(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
}

/*
 * spawn_run - run a command as uid/gid with stdin from stdin_fd, keeping at
 * most out_max bytes of its stdout and stderr in out.  Returns one of the
 * SPAWN_* codes; *status holds the exit status or signal number.
 */
int
spawn_run(const struct spawn_req *req, int *status, struct buf *out,
    char *why, size_t whylen)
{
	int pipefd[2], wstatus, timed_out = 0;
	int64_t deadline = 0;
	pid_t pid;
	char chunk[4096];

	*status = 0;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return SPAWN_ERROR;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return SPAWN_ERROR;
	}
	if (pid == 0) {
		int nullfd;

		if (req->setsid)
			(void)setsid();
		if (req->stdin_fd >= 0) {
			if (dup2(req->stdin_fd, 0) < 0)
				_exit(75);
		} else if ((nullfd = open("/dev/null", O_RDONLY)) >= 0) {
			dup2(nullfd, 0);
		}
		if (dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(75);
		close_fds_from(3);
		sig_default(SIGPIPE);
		sig_default(SIGCHLD);
		sig_default(SIGTERM);
		sig_default(SIGHUP);
		if (geteuid() == 0 || getuid() == 0) {
			if (geteuid() != 0 && seteuid(0) < 0)
				_exit(75);
			if (set_ugid(req->uid, req->gid) < 0) {
				fprintf(stderr, "cannot set privileges\n");
				_exit(75);
			}
		}
		if (req->cwd && chdir(req->cwd) < 0)
			(void)chdir("/");
		execve(req->argv[0], req->argv, req->envp);
		fprintf(stderr, "execute %s: %s\n", req->argv[0],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(pipefd[1]);
	if (req->time_limit > 0)
		deadline = time_mono_ms() + (int64_t)req->time_limit * 1000;
	for (;;) {
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		int wait_ms = -1, n;
		ssize_t r;

		if (deadline) {
			int64_t left = deadline - time_mono_ms();

			if (left <= 0) {
				timed_out = 1;
				(void)kill(req->setsid ? -pid : pid, SIGKILL);
				(void)kill(pid, SIGKILL);
				break;
			}
			wait_ms = (int)left;
		}
		n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		r = read(pipefd[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out && out->len < req->out_max) {
			size_t k = (size_t)r;

			if (k > req->out_max - out->len)
				k = req->out_max - out->len;
			buf_put(out, chunk, k);
		}
	}
	close(pipefd[0]);
	for (;;) {
		pid_t w = waitpid(pid, &wstatus, deadline ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return SPAWN_ERROR;
		}
		if (deadline && !timed_out && time_mono_ms() > deadline) {
			timed_out = 1;
			(void)kill(req->setsid ? -pid : pid, SIGKILL);
			(void)kill(pid, SIGKILL);
		}
		if (w == 0)
			usleep(2000);
	}
	if (timed_out) {
		snprintf(why, whylen, "command time limit exceeded");
		return SPAWN_TIMEOUT;
	}
	if (WIFSIGNALED(wstatus)) {
		*status = WTERMSIG(wstatus);
		snprintf(why, whylen, "command killed by signal %d", *status);
		return SPAWN_SIGNAL;
	}
	*status = WEXITSTATUS(wstatus);
	if (*status != 0) {
		snprintf(why, whylen, "command exited with status %d", *status);
		return SPAWN_EXIT;
	}
	return SPAWN_OK;
}
