/*
 * NAME		service - master's services and worker processes
 * DESCRIPTION	One struct service per master.cf entry.  For each, master
 *		owns the listening sockets, a status pipe that its workers
 *		report on, and a watch pipe whose write end it keeps open:
 *		closing it tells that generation of workers to finish and
 *		exit (reload, stop).
 *
 *		Process management follows Postfix: a new worker counts as
 *		available; master watches a service's sockets only while no
 *		worker is available and maxproc is not reached, and forks one
 *		worker when a socket becomes readable.  A worker that dies
 *		abnormally before it served a client means a broken command:
 *		the service is throttled for service_throttle_time.  A
 *		service whose workers die abnormally master_crash_limit times
 *		within master_crash_window is throttled too.  Services with a
 *		wakeup time get a "W" trigger that often, and one right away
 *		at start and shortly after their process dies, so resident
 *		daemons (qmgr, pickup) come back by themselves.
 * SECURITY	Workers get only their own sockets and pipes (fds 3 and
 *		up), an environment reduced to import_environment, and
 *		stdin/stdout on /dev/null.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/sock.h"
#include "util/strutil.h"
#include "master.h"

struct service *services;
static struct mproc *procs;

static void service_listen_ready(int, int, void *);
static void service_status_ready(int, int, void *);
static void service_wakeup(void *);
static void service_unthrottle(void *);

/* service_proc_count - live worker processes (all generations) */
int
service_proc_count(void)
{
	struct mproc *p;
	int n = 0;

	for (p = procs; p; p = p->next)
		n++;
	return n;
}

/* service_env - the environment workers get */
static char **
service_env(void)
{
	struct argv *names = argv_split(mail_cfg.import_environment,
	    SEPARATORS);
	struct argv env;
	size_t i;
	char **out;

	argv_init(&env);
	for (i = 0; i < names->n; i++) {
		const char *nv = names->v[i], *val;

		if (strchr(nv, '=')) {
			argv_add(&env, nv);
		} else if ((val = getenv(nv)) != NULL) {
			argv_addf(&env, "%s=%s", nv, val);
		}
	}
	argv_addf(&env, "MAIL_CONFIG=%s", mail_cfg.config_directory);
	argv_free(names);
	out = env.v;
	return out;
}

/* service_socket_path - where a unix or fifo service lives */
static char *
service_socket_path(const char *name, int private_)
{
	return xasprintf("%s/%s/%s", mail_cfg.queue_directory,
	    private_ ? "private" : "public", name);
}

/* service_listen_inet - listening sockets of an inet service */
static int
service_listen_inet(struct service *s)
{
	struct argv *ifs;
	char why[256], spec[512];
	const char *port = s->name;
	size_t i;
	int fd, want4, want6;

	if (strchr(s->name, ':')) {
		if ((fd = sock_inet_listen(s->name, 1024, why,
		    sizeof(why))) < 0) {
			log_warn("service %s: %s", s->name, why);
			return -1;
		}
		s->listen_fd[s->nlisten++] = fd;
		return 0;
	}
	want4 = strstr(master_cfg.inet_protocols, "all") ||
	    strstr(master_cfg.inet_protocols, "ipv4");
	want6 = strstr(master_cfg.inet_protocols, "all") ||
	    strstr(master_cfg.inet_protocols, "ipv6");
	ifs = argv_split(master_cfg.inet_interfaces, SEPARATORS);
	for (i = 0; i < ifs->n && s->nlisten < SRV_LISTEN_MAX; i++) {
		const char *a = ifs->v[i];
		const char *list[2] = {NULL, NULL};
		int k;

		if (strcmp(a, "all") == 0) {
			list[0] = want4 ? "0.0.0.0" : NULL;
			list[1] = want6 ? "[::]" : NULL;
		} else if (strcmp(a, "loopback-only") == 0) {
			list[0] = want4 ? "127.0.0.1" : NULL;
			list[1] = want6 ? "[::1]" : NULL;
		} else {
			list[0] = a;
		}
		for (k = 0; k < 2; k++) {
			if (list[k] == NULL)
				continue;
			if (strchr(list[k], ':') && list[k][0] != '[')
				snprintf(spec, sizeof(spec), "[%s]:%s",
				    list[k], port);
			else
				snprintf(spec, sizeof(spec), "%s:%s", list[k],
				    port);
			fd = sock_inet_listen(spec, 1024, why, sizeof(why));
			if (fd < 0) {
				/* No IPv6 here is not an error for "all". */
				if (k == 1 && strcmp(a, "all") == 0)
					continue;
				log_warn("service %s: %s", s->name, why);
				continue;
			}
			s->listen_fd[s->nlisten++] = fd;
		}
	}
	argv_free(ifs);
	return s->nlisten > 0 ? 0 : -1;
}

/* service_open - create the listening endpoints of a service */
static int
service_open(struct service *s, const struct mcf_ent *e)
{
	char *path;
	int fd;

	s->nlisten = 0;
	if (strcmp(e->type, "inet") == 0)
		return service_listen_inet(s);
	if (strcmp(e->type, "unix") == 0) {
		path = service_socket_path(e->service, e->private_);
		fd = sock_unix_listen(path, 1024, 0666);
		if (fd < 0) {
			log_warn("service %s: listen on %s: %m", e->service,
			    path);
			free(path);
			return -1;
		}
		if (!mail_cfg.unprivileged &&
		    chown(path, 0, e->private_ ? 0 : mail_cfg.sgid_gid) < 0)
			log_warn("chown %s: %m", path);
		s->listen_fd[s->nlisten++] = fd;
		s->trigger_path = path;
		return 0;
	}
	if (strcmp(e->type, "fifo") == 0) {
		path = service_socket_path(e->service, e->private_);
		(void)unlink(path);
		if (mkfifo(path, 0622) < 0 || chmod(path, 0622) < 0 ||
		    (fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
			log_warn("service %s: fifo %s: %m", e->service, path);
			free(path);
			return -1;
		}
		s->listen_fd[s->nlisten++] = fd;
		s->trigger_path = path;
		return 0;
	}
	log_warn("service %s: transport type %s is not supported -- "
	    "ignoring", e->service, e->type);
	return -1;
}

/* service_set_args - (re)compute the exec path and arguments */
static void
service_set_args(struct service *s, const struct mcf_ent *e)
{
	size_t i;

	free(s->path);
	argv_free(s->argv);
	s->path = xasprintf("%s/%s", mail_cfg.daemon_directory,
	    e->args->v[0]);
	s->argv = argv_new();
	argv_add(s->argv, e->args->v[0]);
	argv_add(s->argv, "-n");
	argv_add(s->argv, e->service);
	argv_add(s->argv, "-t");
	argv_add(s->argv, e->type);
	argv_add(s->argv, "-l");
	argv_addf(s->argv, "%d", s->nlisten);
	if (e->chroot)
		argv_add(s->argv, "-s");
	if (e->unpriv)
		argv_add(s->argv, "-u");
	for (i = 1; i < e->args->n; i++)
		argv_add(s->argv, e->args->v[i]);
	s->maxproc = e->maxproc < 0 ? master_cfg.default_process_limit :
	    e->maxproc;
	s->wakeup = e->wakeup;
	s->wakeup_cond = e->wakeup_cond;
}

/* service_new_watch - a fresh watch pipe for a new worker generation */
static void
service_new_watch(struct service *s)
{
	if (pipe2(s->watch_fd, O_CLOEXEC) < 0)
		log_fatal("pipe: %m");
}

/* service_create - set up a service from its master.cf entry */
static struct service *
service_create(const struct mcf_ent *e)
{
	struct service *s = xcalloc(1, sizeof(*s));
	int i;

	s->name = xstrdup(e->service);
	s->type = xstrdup(e->type);
	if (service_open(s, e) < 0) {
		free(s->name);
		free(s->type);
		free(s->trigger_path);
		free(s);
		return NULL;
	}
	for (i = 0; i < s->nlisten; i++)
		sock_nonblock(s->listen_fd[i], 1);
	if (pipe2(s->status_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %m");
	service_new_watch(s);
	service_set_args(s, e);
	event_fd(s->status_fd[0], EV_READ, service_status_ready, s);
	s->next = services;
	services = s;
	service_update_listen(s);
	if (s->wakeup > 0 && s->trigger_path)
		event_timer(service_wakeup, s, s->wakeup_cond ?
		    (int64_t)s->wakeup * 1000 : 0);
	return s;
}

/* service_retire_procs - detach this generation's workers */
static void
service_retire_procs(struct service *s, int gone)
{
	struct mproc *p;

	for (p = procs; p; p = p->next) {
		if (p->svc != s)
			continue;
		if (gone)
			p->svc = NULL;
	}
	/* Old workers see EOF on the watch pipe and finish up. */
	close(s->watch_fd[1]);
	close(s->watch_fd[0]);
	s->gen++;
	s->total = 0;
	s->avail = 0;
	if (!gone)
		service_new_watch(s);
}

/* service_destroy - close a service; its workers finish and exit */
static void
service_destroy(struct service *s)
{
	int i;

	event_timer_cancel(service_wakeup, s);
	event_timer_cancel(service_unthrottle, s);
	/* Workers learn first, then the sockets go. */
	service_retire_procs(s, 1);
	for (i = 0; i < s->nlisten; i++) {
		event_fd_del(s->listen_fd[i]);
		close(s->listen_fd[i]);
	}
	/* Keep reading status so old workers never block; then close. */
	event_fd_del(s->status_fd[0]);
	close(s->status_fd[0]);
	close(s->status_fd[1]);
	if (s->trigger_path) {
		(void)unlink(s->trigger_path);
		free(s->trigger_path);
	}
	free(s->name);
	free(s->type);
	free(s->path);
	argv_free(s->argv);
	free(s);
}

/* service_update_listen - watch the sockets only when a worker is needed */
void
service_update_listen(struct service *s)
{
	int want = !s->throttled && s->avail == 0 &&
	    (s->maxproc == 0 || s->total < s->maxproc);
	int i;

	if (want == s->listening)
		return;
	for (i = 0; i < s->nlisten; i++) {
		if (want)
			event_fd(s->listen_fd[i], EV_READ, service_listen_ready,
			    s);
		else
			event_fd_del(s->listen_fd[i]);
	}
	s->listening = want;
}

/* service_throttle - stop starting workers for a while */
static void
service_throttle(struct service *s, const char *why)
{
	if (s->throttled)
		return;
	log_warn("%s: %s -- throttling", s->path, why);
	s->throttled = 1;
	service_update_listen(s);
	event_timer(service_unthrottle, s,
	    master_cfg.service_throttle_time * 1000);
}

/* service_unthrottle - try again */
static void
service_unthrottle(void *ctx)
{
	struct service *s = ctx;

	s->throttled = 0;
	s->crashes = 0;
	service_update_listen(s);
	if (s->wakeup > 0 && s->trigger_path)
		event_timer(service_wakeup, s, 0);
}

/* service_spawn - fork and exec one worker */
static void
service_spawn(struct service *s)
{
	struct mproc *p;
	sigset_t none;
	pid_t pid;
	int i;

	if ((pid = fork()) < 0) {
		log_warn("fork: %m");
		service_throttle(s, "unable to fork");
		return;
	}
	if (pid == 0) {
		char **env = service_env();
		int nullfd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * Not in master's process group: a Ctrl-C at "postern
		 * start-fg" reaches master only, which then stops the
		 * workers in order.
		 */
		(void)setpgid(0, 0);
		sig_default(SIGCHLD);
		sig_default(SIGPIPE);
		/* Move descriptors into place: 3 status, 4 watch, 5.. listen. */
		if (dup2(s->status_fd[1], 100) < 0 ||
		    dup2(s->watch_fd[0], 101) < 0)
			_exit(127);
		for (i = 0; i < s->nlisten; i++)
			if (dup2(s->listen_fd[i], 102 + i) < 0)
				_exit(127);
		if (dup2(100, SRV_STATUS_FD) < 0 ||
		    dup2(101, SRV_WATCH_FD) < 0)
			_exit(127);
		for (i = 0; i < s->nlisten; i++)
			if (dup2(102 + i, SRV_LISTEN_FD + i) < 0)
				_exit(127);
		close_fds_from(SRV_LISTEN_FD + s->nlisten);
		if ((nullfd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(nullfd, 0);
			dup2(nullfd, 1);
			if (nullfd > 2)
				close(nullfd);
		}
		execve(s->path, s->argv->v, env);
		log_warn("execute %s: %m", s->path);
		_exit(127);
	}
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->svc = s;
	p->gen = s->gen;
	p->avail = 1;
	p->next = procs;
	procs = p;
	s->total++;
	s->avail++;
	log_debug("spawned %s pid %ld", s->path, (long)pid);
	service_update_listen(s);
}

/* service_listen_ready - a client waits and no worker is available */
static void
service_listen_ready(int fd, int mask, void *ctx)
{
	struct service *s = ctx;

	(void)fd;
	(void)mask;
	if (!s->throttled && s->avail == 0 &&
	    (s->maxproc == 0 || s->total < s->maxproc))
		service_spawn(s);
}

/* service_find_proc - process record for pid */
static struct mproc *
service_find_proc(pid_t pid)
{
	struct mproc *p;

	for (p = procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* service_status_ready - workers report available or busy */
static void
service_status_ready(int fd, int mask, void *ctx)
{
	struct service *s = ctx;
	struct srv_status st[64];
	ssize_t n;
	size_t i;

	(void)mask;
	while ((n = read(fd, st, sizeof(st))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(st[0]); i++) {
			struct mproc *p = service_find_proc(st[i].pid);

			if (p == NULL || p->svc != s || p->gen != s->gen)
				continue;
			if (st[i].status == SRV_STAT_AVAIL && !p->avail) {
				p->avail = 1;
				s->avail++;
			} else if (st[i].status == SRV_STAT_BUSY) {
				p->use++;
				if (p->avail) {
					p->avail = 0;
					s->avail--;
				}
			}
		}
		/* Short read: the pipe is empty (epoll says when it is not). */
		if ((size_t)n < sizeof(st))
			break;
	}
	service_update_listen(s);
}

/* service_wakeup - send a wakeup trigger to the service */
static void
service_wakeup(void *ctx)
{
	struct service *s = ctx;

	if (!(s->wakeup_cond && s->total == 0) && !s->throttled) {
		if (sock_trigger(s->trigger_path, "W", 1, 1) < 0)
			log_debug("wakeup %s: %m", s->name);
	}
	if (s->wakeup > 0)
		event_timer(service_wakeup, s, (int64_t)s->wakeup * 1000);
}

/* service_reap - collect dead workers */
void
service_reap(void)
{
	struct mproc **pp, *p;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct service *s;
		int normal;

		for (pp = &procs; (p = *pp) != NULL; pp = &p->next)
			if (p->pid == pid)
				break;
		if (p == NULL)
			continue;
		*pp = p->next;
		s = p->svc;
		normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (WIFSIGNALED(status))
			log_warn("process %s pid %ld killed by signal %d",
			    s ? s->path : "(removed service)", (long)pid,
			    WTERMSIG(status));
		else if (!normal)
			log_warn("process %s pid %ld exit status %d",
			    s ? s->path : "(removed service)", (long)pid,
			    WEXITSTATUS(status));
		if (s && p->gen == s->gen) {
			s->total--;
			if (p->avail)
				s->avail--;
			if (!normal) {
				int64_t now = time_mono_ms();

				if (now - s->crash_window_start >
				    master_cfg.master_crash_window * 1000) {
					s->crash_window_start = now;
					s->crashes = 0;
				}
				/*
				 * A program that dies on its own before it
				 * served anything is broken.  SIGKILL comes
				 * from outside (an operator, the OOM
				 * killer): no sign of a broken program.
				 */
				if (p->use == 0 && !(WIFSIGNALED(status) &&
				    WTERMSIG(status) == SIGKILL))
					service_throttle(s,
					    "bad command startup");
				else if (++s->crashes >=
				    master_cfg.master_crash_limit)
					service_throttle(s, "too many "
					    "abnormal process exits");
			}
			/* Bring resident daemons back soon. */
			if (s->wakeup > 0 && s->trigger_path && !s->throttled)
				event_timer(service_wakeup, s, 1000);
			service_update_listen(s);
		}
		free(p);
	}
}

/* service_start_all - create every service in master.cf */
void
service_start_all(const struct mcf *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		(void)service_create(&m->v[i]);
}

/* service_lookup - find a service by name and type */
static struct service *
service_lookup(const char *name, const char *type)
{
	struct service *s;

	for (s = services; s; s = s->next)
		if (strcmp(s->name, name) == 0 && strcmp(s->type, type) == 0)
			return s;
	return NULL;
}

/*
 * service_reload - apply a new master.cf: new services start, removed
 * ones stop accepting (their workers finish what they are doing), and
 * kept ones get new settings and a new worker generation.
 */
void
service_reload(const struct mcf *m)
{
	struct service **sp, *s;
	size_t i;

	for (s = services; s; s = s->next)
		s->mark = 0;
	for (i = 0; i < m->n; i++) {
		const struct mcf_ent *e = &m->v[i];

		if ((s = service_lookup(e->service, e->type)) == NULL) {
			if ((s = service_create(e)) != NULL) {
				s->mark = 1;
				log_info("service %s: added", s->name);
			}
			continue;
		}
		s->mark = 1;
		service_retire_procs(s, 0);
		service_set_args(s, e);
		s->throttled = 0;
		event_timer_cancel(service_unthrottle, s);
		event_timer_cancel(service_wakeup, s);
		service_update_listen(s);
		if (s->wakeup > 0 && s->trigger_path)
			event_timer(service_wakeup, s, 0);
	}
	for (sp = &services; (s = *sp) != NULL;) {
		if (s->mark) {
			sp = &s->next;
			continue;
		}
		*sp = s->next;
		log_info("service %s: removed", s->name);
		service_destroy(s);
	}
}

/* service_stop_all - close every service (workers finish and exit) */
void
service_stop_all(void)
{
	struct service *s;

	/*
	 * First tell every worker that we stop, then close the sockets:
	 * qmgr must know the mail system stops before it finds a delivery
	 * agent's socket gone, or it would defer mail for nothing.
	 */
	for (s = services; s; s = s->next)
		service_retire_procs(s, 0);
	while ((s = services) != NULL) {
		services = s->next;
		service_destroy(s);
	}
}

/* service_kill_all - signal every worker */
void
service_kill_all(int sig)
{
	struct mproc *p;

	for (p = procs; p; p = p->next)
		(void)kill(p->pid, sig);
}
