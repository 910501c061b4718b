/*
 * NAME		postqueue - Postern queue control for users
 * SYNOPSIS	postqueue [-v] [-c config_dir] -f | -i queue_id | -j | -p |
 *		-s site
 * DESCRIPTION	-p lists the queue in the traditional mailq format, -j as one
 *		JSON object per message, both from the showq service.  -f
 *		asks the queue manager to retry all deferred mail now (and
 *		pickup to look at maildrop); -i asks it to deliver one
 *		deferred message now, -s site the deferred mail with a
 *		recipient in that domain (qmgr finds it in deferred/: there
 *		is no fast flush service).  sendmail -bp and mailq run
 *		"postqueue -p".
 * SECURITY	Installed set-gid setgid_group so that it can reach the
 *		public/ sockets.  It never opens a queue file: it only talks
 *		to public/showq, public/qmgr and public/pickup.  A non-default
 *		configuration directory must be listed in the default
 *		main.cf (alternate_config_directories) or belong to root
 *		alone, unless the caller is root.  When the mail system is down, root's listing runs the
 *		showq program in stand-alone mode instead.
 * DIAGNOSTICS	"postqueue: fatal: ..." on stderr with Postfix's exit codes:
 *		64 usage, 69 mail system down, 70 bad showq response.
 * SEE ALSO	doc/postqueue.md, showq(8), showq_clnt(3)
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/maildrop.h"
#include "mail/qid.h"
#include "mail/showq_clnt.h"
#include "mail/trigger.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/sock.h"
#include "util/strutil.h"

#define PQ_LIST		1
#define PQ_JSON		2
#define PQ_FLUSH	3
#define PQ_ONE		4
#define PQ_SITE		5

/* usage - explain and exit */
static void __attribute__((noreturn))
usage(void)
{
	log_fatal_status(EX_USAGE, "usage: postqueue -f | postqueue -i "
	    "queue_id | postqueue -j | postqueue -p | postqueue -s site");
}

/* out_write - write to stdout; a reader that went away ends us quietly */
static void
out_write(struct buf *out)
{
	if (out->len && fwrite(out->p, 1, out->len, stdout) != out->len) {
		if (errno == EPIPE)
			exit(0);
		log_fatal("write error: %m");
	}
	buf_reset(out);
	if (fflush(stdout) != 0) {
		if (errno == EPIPE)
			exit(0);
		log_fatal("write error: %m");
	}
}

/*
 * run_showq - the mail system is down and we are root: run the showq
 * program stand-alone on one end of a socket pair.
 */
static int
run_showq(pid_t *pid)
{
	int sv[2];
	char *path;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		log_fatal("socketpair: %m");
	path = xasprintf("%s/showq", mail_cfg.daemon_directory);
	if ((*pid = fork()) < 0)
		log_fatal("fork: %m");
	if (*pid == 0) {
		char *args[] = {"showq", "-u", "-S", NULL, NULL};

		if (log_verbose)
			args[3] = "-v";
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(EX_OSERR);
		sig_default(SIGPIPE);
		execv(path, args);
		log_fatal_status(EX_UNAVAILABLE, "execute %s: %m", path);
	}
	free(path);
	close(sv[1]);
	return sv[0];
}

/* show_queue - postqueue -p and -j */
static void
show_queue(int json)
{
	struct showq_msg m;
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct stream *s;
	unsigned long count = 0;
	unsigned long long bytes = 0;
	pid_t pid = 0;
	int fd, r;

	if ((fd = sock_unix_connect("public/showq",
	    (int)mail_cfg.ipc_timeout)) < 0) {
		if (errno == EACCES)
			log_fatal_status(EX_SOFTWARE, "Connect to the %s %s "
			    "service: %m", mail_cfg.mail_name, "showq");
		if (geteuid() != 0)
			log_fatal_status(EX_UNAVAILABLE, "Queue report "
			    "unavailable - mail system is down");
		log_warn("Mail system is down -- accessing queue directly");
		fd = run_showq(&pid);
	}
	s = stream_open(fd, (int)mail_cfg.ipc_timeout);
	if (ipc_expect_hello(s, SHOWQ_PROTO, &why) < 0)
		log_fatal_status(EX_SOFTWARE, "malformed showq server "
		    "response: %s", buf_str(&why));
	showq_msg_init(&m);
	while ((r = showq_read(s, &m, &why)) == 1) {
		if (++count > SHOWQ_MSG_MAX)
			log_fatal_status(EX_SOFTWARE, "malformed showq server "
			    "response: too many messages");
		if (json) {
			showq_json_msg(&out, &m);
		} else {
			if (count == 1)
				showq_mailq_head(&out,
				    mail_cfg.enable_long_queue_ids);
			else
				buf_putc(&out, '\n');
			showq_mailq_msg(&out, &m,
			    mail_cfg.enable_long_queue_ids);
			bytes += (unsigned long long)m.message_size;
		}
		out_write(&out);
	}
	if (r < 0)
		log_fatal_status(EX_SOFTWARE, "malformed showq server "
		    "response: %s", buf_str(&why));
	if (!json)
		showq_mailq_tail(&out, count, bytes);
	out_write(&out);
	stream_close(s);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
	showq_msg_free(&m);
	buf_free(&out);
	buf_free(&why);
}

/* flush_queue - postqueue -f, -i, -s: a request to qmgr, a wakeup */
static void
flush_queue(const char *qmgr_request)
{
	if (mail_trigger("public/qmgr", qmgr_request) < 0)
		log_fatal_status(EX_UNAVAILABLE, "Cannot flush mail queue - "
		    "mail system is down");
	/* Mail that waits in maildrop goes too; pickup may be busy. */
	(void)mail_trigger("public/pickup", "W");
}

/* site_ok - a host name or an address literal in brackets */
static int
site_ok(const char *site)
{
	size_t len = strlen(site), i;

	if (len == 0 || len > 255)
		return 0;
	if (site[0] == '[') {
		if (site[len - 1] != ']' || len < 3)
			return 0;
		for (i = 1; i < len - 1; i++)
			if (!strchr("0123456789abcdefABCDEF.:IPVipv6", site[i]))
				return 0;
		return 1;
	}
	return str_domain_valid(site);
}

/* main - parse options and dispatch */
int
main(int argc, char **argv)
{
	const char *config_opt = NULL, *arg = NULL;
	char *name;
	int c, mode = 0;

	umask(022);
	log_init("postqueue", LOG_TO_STDERR);
	while ((c = getopt(argc, argv, "c:fi:jps:v")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'f':
		case 'j':
		case 'p':
			if (mode)
				usage();
			mode = c == 'f' ? PQ_FLUSH : c == 'j' ? PQ_JSON :
			    PQ_LIST;
			break;
		case 'i':
		case 's':
			if (mode)
				usage();
			mode = c == 'i' ? PQ_ONE : PQ_SITE;
			arg = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (mode == 0 || optind != argc)
		usage();

	config_opt = mail_conf_check_setgid(mail_conf_dir(config_opt));
	mail_conf_load(config_opt);
	name = xasprintf("%s/postqueue", mail_cfg.syslog_name);
	log_set_name(name);
	free(name);
	if (*mail_cfg.maillog_file &&
	    log_open_file(mail_cfg.maillog_file) == 0)
		log_set_targets(LOG_TO_STDERR | LOG_TO_FILE);
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal_status(EX_UNAVAILABLE, "chdir %s: %m",
		    mail_cfg.queue_directory);
	sig_ignore(SIGPIPE);

	switch (mode) {
	case PQ_LIST:
	case PQ_JSON:
		show_queue(mode == PQ_JSON);
		break;
	case PQ_FLUSH:
		flush_queue("FA");
		break;
	case PQ_ONE:
		if (!qid_valid(arg, strlen(arg)))
			log_fatal_status(EX_USAGE, "invalid queue ID: "
			    "\"%.100s\"", arg);
		{
			char *req = xasprintf("%c%s\n", QMGR_REQ_DELIVER_ONE,
			    arg);

			flush_queue(req);
			free(req);
		}
		break;
	case PQ_SITE:
		if (!site_ok(arg))
			log_fatal_status(EX_USAGE, "Cannot flush mail queue - "
			    "invalid destination: \"%.100s%s\"", arg,
			    strlen(arg) > 100 ? "..." : "");
		{
			char *req = xasprintf("%c%s\n", QMGR_REQ_FLUSH_SITE,
			    arg);

			flush_queue(req);
			free(req);
		}
		break;
	}
	return 0;
}
