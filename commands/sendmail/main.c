/*
 * NAME		sendmail - Postern to Sendmail compatibility interface
 * SYNOPSIS	sendmail [options] [recipient ...]
 *		mailq		(same as sendmail -bp)
 *		newaliases	(same as sendmail -bi)
 * DESCRIPTION	Reads a message on standard input and queues it for the
 *		recipients on the command line (and, with -t, those in the
 *		To:, Cc: and Bcc: headers).  The message goes through postdrop
 *		into maildrop/; when this process may write maildrop/ itself
 *		(root, or the owner of a private instance) it writes the file
 *		directly, with the same checks and the same durability.
 *		sendmail returns only after the message is safe on disk.
 *
 *		-bm	read a message and queue it (default)
 *		-bp	list the queue (postqueue -p)
 *		-bi	rebuild the alias database (postalias)
 *		-bs	SMTP on standard input and output (smtpd -S)
 *		-C file	use the configuration of the directory of file
 *		-F name	the sender's full name
 *		-f addr	the envelope sender (-r is the same)
 *		-i, -oi	a line with a single "." does not end the input
 *		-N dsn	DSN notification: never, or success,delay,failure
 *		-q	deliver the queue now (postqueue -f); -qR site
 *			(postqueue -s site); -q<time> is ignored
 *		-R ret	DSN: return full or hdrs
 *		-t	recipients from the message headers
 *		-V envid, -XV envid	DSN envelope ID
 *		-v	verbose
 *		Other Sendmail options (-B, -e*, -G, -h, -L, -m, -n, -O,
 *		-o*, -U, -X) are accepted and ignored, as Sendmail's
 *		compatibility requires.
 * SECURITY	Not set-uid or set-gid; postdrop is.  The sender address is
 *		the caller's login name unless -f gives another.
 * DIAGNOSTICS	Errors on stderr; exit status 0 on success, else a
 *		sysexits(3) code: 64 usage, 65 bad data, 73 message too big,
 *		75 temporary failure.
 * SEE ALSO	postdrop(1), postqueue(1), postalias(1), doc/sendmail.md
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "mail/maildrop.h"
#include "mail/submit.h"
#include "mail/qfile.h"
#include "mail/rec.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/strutil.h"

#define SM_MODE_DELIVER	0
#define SM_MODE_LISTQ	1
#define SM_MODE_ALIASES	2
#define SM_MODE_SMTP	3
#define SM_MODE_FLUSH	4

#define SM_CHUNK	8192	/* longest content record */

struct sm {
	const char *config_dir;
	int	 mode;
	int	 extract;
	int	 dot_ends;
	char	*sender;
	char	*full_name;
	int	 notify;
	int	 ret;
	char	*envid;
	char	*site;
	struct argv rcpts;
};

/* sm_usage - complain */
static void __attribute__((noreturn))
sm_usage(const char *why)
{
	log_fatal_status(EX_USAGE, "%s", why);
}

/* sm_exec - run a Postern command from command_directory */
static void __attribute__((noreturn))
sm_exec(const char *cmd, char *const *args)
{
	char *path = xasprintf("%s/%s", mail_cfg.command_directory, cmd);

	execv(path, args);
	log_fatal_status(EX_UNAVAILABLE, "execute %s: %m", path);
}

/* sm_notify - parse -N */
static int
sm_notify(const char *arg)
{
	struct argv *a = argv_split(arg, ", ");
	int bits = 0;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (strcasecmp(a->v[i], "never") == 0)
			bits |= DSN_NOTIFY_NEVER;
		else if (strcasecmp(a->v[i], "success") == 0)
			bits |= DSN_NOTIFY_SUCCESS;
		else if (strcasecmp(a->v[i], "failure") == 0)
			bits |= DSN_NOTIFY_FAILURE;
		else if (strcasecmp(a->v[i], "delay") == 0)
			bits |= DSN_NOTIFY_DELAY;
		else
			sm_usage("bad -N option value");
	}
	argv_free(a);
	if ((bits & DSN_NOTIFY_NEVER) && (bits & ~DSN_NOTIFY_NEVER))
		sm_usage("-N never cannot be combined with other values");
	return bits;
}

/* sm_add_rcpts - parse a command-line recipient argument */
static void
sm_add_rcpts(struct sm *sm, const char *arg)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	struct addr_list list;
	struct buf why = BUF_INIT;
	size_t i;

	if (addr_parse_list(arg, strlen(arg), &lim, &list, &why) < 0)
		log_fatal_status(EX_DATAERR, "bad recipient address: %s: %s",
		    arg, buf_str(&why));
	for (i = 0; i < list.n; i++) {
		if (list.v[i].addr[0] == 0)
			log_fatal_status(EX_DATAERR, "empty recipient "
			    "address");
		argv_add(&sm->rcpts, list.v[i].addr);
	}
	addr_list_free(&list);
	buf_free(&why);
}

/* sm_args - parse the command line (Sendmail style) */
static void
sm_args(struct sm *sm, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i], *val;

		if (a[0] != '-' || a[1] == 0) {
			sm_add_rcpts(sm, a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				sm_add_rcpts(sm, argv[i]);
			break;
		}
/* Value of an option: the rest of this argument or the next one. */
#define VALUE() (a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : \
		(sm_usage("option requires an argument"), (char *)0)))
		switch (a[1]) {
		case 'b':
			switch (a[2]) {
			case 'm':
			case 0:
				sm->mode = SM_MODE_DELIVER;
				break;
			case 'p':
				sm->mode = SM_MODE_LISTQ;
				break;
			case 'i':
				sm->mode = SM_MODE_ALIASES;
				break;
			case 's':
				sm->mode = SM_MODE_SMTP;
				break;
			case 'd':
				sm_usage("-bd is not supported; run "
				    "\"postern start\"");
				break;
			default:
				sm_usage("unsupported -b option");
			}
			break;
		case 'C':
			val = VALUE();
			{
				struct stat st;
				char *slash = strrchr(val, '/');

				/* A directory, or a file in one (Postfix). */
				if (stat(val, &st) == 0 && S_ISDIR(st.st_mode))
					sm->config_dir = val;
				else
					sm->config_dir = slash ?
					    xstrndup(val, slash == val ? 1 :
					    (size_t)(slash - val)) : ".";
			}
			break;
		case 'F':
			sm->full_name = VALUE();
			break;
		case 'f':
		case 'r':
			val = VALUE();
			{
				static const struct addr_limits lim =
				    ADDR_LIMITS_DEFAULT;
				struct buf out = BUF_INIT, why = BUF_INIT;

				if (strcmp(val, "<>") == 0 || *val == 0)
					buf_reset(&out);
				else if (addr_parse_one(val, strlen(val), &lim,
				    &out, &why) < 0)
					log_fatal_status(EX_DATAERR, "bad "
					    "sender address: %s: %s", val,
					    buf_str(&why));
				sm->sender = buf_steal(&out);
				buf_free(&why);
			}
			break;
		case 'i':
			sm->dot_ends = 0;
			break;
		case 'o':
			if (a[2] == 'i')
				sm->dot_ends = 0;
			else if (a[2] == 0)
				(void)VALUE();
			break;
		case 'N':
			sm->notify = sm_notify(VALUE());
			break;
		case 'R':
			val = VALUE();
			if (strcasecmp(val, "full") == 0)
				sm->ret = DSN_RET_FULL;
			else if (strcasecmp(val, "hdrs") == 0)
				sm->ret = DSN_RET_HDRS;
			else
				sm_usage("bad -R option value");
			break;
		case 'V':
			sm->envid = VALUE();
			break;
		case 'X':
			if (a[2] == 'V' && a[3] == 0) {
				if (i + 1 >= argc)
					sm_usage("-XV requires an argument");
				sm->envid = argv[++i];
			} else if (a[2] == 'V') {
				sm->envid = a + 3;
			} else {
				(void)VALUE();
			}
			break;
		case 'q':
			if (a[2] == 'R') {
				sm->site = a[3] ? a + 3 : (i + 1 < argc ?
				    argv[++i] : NULL);
				if (sm->site == NULL)
					sm_usage("-qR requires a site");
				sm->mode = SM_MODE_FLUSH;
			} else if (a[2] == 0 || a[2] == 'I' || a[2] == 'S') {
				sm->mode = SM_MODE_FLUSH;
			}
			/* -q<interval>: ignored, as Postfix does. */
			break;
		case 't':
			sm->extract = 1;
			break;
		case 'v':
			log_verbose++;
			break;
		case 'B':
		case 'h':
		case 'L':
		case 'O':
			(void)VALUE();
			break;
		default:
			/* -e*, -G, -m, -n, -U and the like: ignored. */
			log_debug("ignoring option %s", a);
			break;
		}
#undef VALUE
	}
}

/* sm_default_sender - the caller's login name */
static char *
sm_default_sender(void)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL)
		log_fatal_status(EX_OSERR, "no login name for uid %ld",
		    (long)getuid());
	return xstrdup(pw->pw_name);
}

static struct submit *sm_active_sink;

/* sm_fatal_hook - remove a half-written submission on a fatal error */
static void
sm_fatal_hook(void)
{
	if (sm_active_sink)
		submit_abort(sm_active_sink);
}

/* sm_content - stream the message from stdin as content records */
static void
sm_content(struct sm *sm, struct submit *k)
{
	struct stream *in = stream_open(0, 0);
	struct buf line = BUF_INIT;
	long size = 0;
	int first = 1, toolong, partial = 0;

	rec_put(&k->recs, REC_MESG, "", 0);
	for (;;) {
		if (stream_gets(in, &line, SM_CHUNK, &toolong) < 0)
			break;
		if (!toolong && !partial) {
			/* CRLF to LF; a leading "From " line is dropped. */
			if (line.len && line.p[line.len - 1] == '\r')
				buf_truncate(&line, line.len - 1);
			if (first && str_prefix(buf_str(&line), "From ")) {
				first = 0;
				continue;
			}
			if (sm->dot_ends && line.len == 1 && line.p[0] == '.')
				break;
		}
		first = 0;
		size += (long)line.len + (toolong ? 0 : 1);
		if (mail_cfg.message_size_limit > 0 &&
		    size > mail_cfg.message_size_limit)
			log_fatal_status(EX_CANTCREAT, "message file too big "
			    "(message_size_limit %ld)",
			    mail_cfg.message_size_limit);
		rec_put(&k->recs, toolong ? REC_CONT : REC_NORM, line.p,
		    line.len);
		partial = toolong;
		if (k->recs.len >= 65536)
			submit_flush(k);
	}
	if (stream_error(in) & (STREAM_ERR | STREAM_TIMEOUT))
		log_fatal_status(EX_TEMPFAIL, "error reading input: %s",
		    stream_strerror(in));
	if (partial)
		rec_put(&k->recs, REC_NORM, "", 0);
	rec_put(&k->recs, REC_XTRA, "", 0);
	rec_put(&k->recs, REC_END, "", 0);
	stream_release(in);
	buf_free(&line);
}

/* main - dispatch on mode */
int
main(int argc, char **argv)
{
	struct sm sm;
	struct submit sink;
	struct buf *recs = &sink.recs;
	const char *base = strrchr(argv[0], '/');
	size_t i;
	int status;

	base = base ? base + 1 : argv[0];
	log_init("sendmail", LOG_TO_STDERR);
	sig_ignore(SIGPIPE);
	memset(&sm, 0, sizeof(sm));
	sm.dot_ends = 1;
	argv_init(&sm.rcpts);
	if (strcmp(base, "mailq") == 0)
		sm.mode = SM_MODE_LISTQ;
	else if (strcmp(base, "newaliases") == 0)
		sm.mode = SM_MODE_ALIASES;
	sm_args(&sm, argc, argv);
	mail_conf_load(sm.config_dir);
	{
		char *name = xasprintf("%s/sendmail", mail_cfg.syslog_name);

		log_set_name(name);
		free(name);
	}
	switch (sm.mode) {
	case SM_MODE_LISTQ:
		{
			char *args[] = {"postqueue", "-c",
			    mail_cfg.config_directory, "-p", NULL};

			sm_exec("postqueue", args);
		}
	case SM_MODE_FLUSH:
		{
			char *args[] = {"postqueue", "-c",
			    mail_cfg.config_directory, sm.site ? "-s" : "-f",
			    sm.site, NULL};

			sm_exec("postqueue", args);
		}
	case SM_MODE_ALIASES:
		{
			char *args[] = {"postalias", "-c",
			    mail_cfg.config_directory, NULL};

			sm_exec("postalias", args);
		}
	case SM_MODE_SMTP:
		{
			char *path = xasprintf("%s/smtpd",
			    mail_cfg.daemon_directory);
			char *args[] = {"smtpd", "-S", NULL};

			execv(path, args);
			log_fatal_status(EX_UNAVAILABLE, "execute %s: %m",
			    path);
		}
	}
	if (sm.rcpts.n == 0 && !sm.extract)
		log_fatal_status(EX_USAGE, "no recipients specified");
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal_status(EX_TEMPFAIL, "chdir %s: %m",
		    mail_cfg.queue_directory);
	if (sm.sender == NULL)
		sm.sender = sm_default_sender();

	/* The envelope. */
	submit_open(&sink);
	sm_active_sink = &sink;
	log_set_fatal_hook(sm_fatal_hook);
	{
		struct timeval tv;

		gettimeofday(&tv, NULL);
		rec_printf(recs, REC_TIME, "%ld %ld", (long)tv.tv_sec,
		    (long)tv.tv_usec);
	}
	if (sm.full_name)
		rec_printf(recs, REC_ATTR, "full_name=%s", sm.full_name);
	if (sm.envid)
		rec_printf(recs, REC_ATTR, "dsn_envid=%s", sm.envid);
	if (sm.ret)
		rec_printf(recs, REC_ATTR, "dsn_ret=%d", sm.ret);
	if (sm.extract)
		rec_puts(recs, REC_ATTR, "flags=extract");
	rec_puts(recs, REC_FROM, sm.sender);
	for (i = 0; i < sm.rcpts.n; i++) {
		if (sm.notify)
			rec_printf(recs, REC_NOTIFY, "%d", sm.notify);
		rec_puts(recs, REC_RCPT, sm.rcpts.v[i]);
	}
	sm_content(&sm, &sink);
	status = submit_finish(&sink);
	sm_active_sink = NULL;
	argv_clear(&sm.rcpts);
	return status;
}
