/*
 * NAME		postlog - Postern-compatible logging utility
 * SYNOPSIS	postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text...]
 * DESCRIPTION	Logs the text given on the command line as one record, or,
 *		without text, each line of standard input as one record, in
 *		the mail log: to syslog (facility mail), or to maillog_file
 *		when that is set, and to stderr when stderr is a terminal.
 *		The default tag is "$syslog_name/postlog".  Priorities are
 *		Postfix's: info (default), warn or warning, error or err,
 *		fatal or crit, panic; all but info prefix the text with
 *		their label ("warning: ", ...).  postlog never exits because
 *		of the priority it logs.  -i is accepted for compatibility:
 *		the process ID is always logged.
 * SECURITY	Runs with the invoking user's privileges.  Control
 *		characters in the text are replaced by the log module, so a
 *		caller cannot forge log lines; lines longer than
 *		POSTLOG_LINE_MAX bytes are cut.
 * DIAGNOSTICS	Exit status 0; 1 after a usage or configuration error.
 * SEE ALSO	doc/postlog.md, log(3)
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/stream.h"

#define POSTLOG_LINE_MAX	4000

/* level_map - priority name to log severity */
static int
level_map(const char *name)
{
	static const struct {
		const char *name;
		int	 sev;
	} levels[] = {
		{"info", LOG_SEV_INFO},
		{"warn", LOG_SEV_WARN},
		{"warning", LOG_SEV_WARN},
		{"error", LOG_SEV_ERROR},
		{"err", LOG_SEV_ERROR},
		{"fatal", LOG_SEV_FATAL},
		{"crit", LOG_SEV_FATAL},
		{"panic", LOG_SEV_PANIC},
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(levels[i].name, name) == 0)
			return levels[i].sev;
	log_fatal("bad severity: \"%s\"", name);
}

/* emit - log one record at the given severity (never exits) */
static void __attribute__((format(printf, 2, 3)))
emit(int sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(sev, fmt, ap);
	va_end(ap);
}

/* log_stdin - one record per input line */
static void
log_stdin(int sev)
{
	struct stream *s = stream_open(0, 0);
	struct buf line = BUF_INIT, rest = BUF_INIT;
	int toolong;

	while (stream_gets(s, &line, POSTLOG_LINE_MAX, &toolong) == 0) {
		/* Log the head of an over-long line; drop the rest. */
		while (toolong && stream_gets(s, &rest, POSTLOG_LINE_MAX,
		    &toolong) == 0)
			;
		emit(sev, "%s", buf_str(&line));
	}
	buf_free(&line);
	buf_free(&rest);
	stream_release(s);
}

/* main - parse options, then log */
int
main(int argc, char **argv)
{
	const char *config_opt = NULL, *tag = NULL, *slash;
	const char *prog = (slash = strrchr(argv[0], '/')) && slash[1] ?
	    slash + 1 : argv[0];
	char *deftag;
	int c, sev = LOG_SEV_INFO, targets = 0;

	umask(022);
	log_init(prog, LOG_TO_STDERR);
	while ((c = getopt(argc, argv, "c:ip:t:v")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'i':
			break;
		case 'p':
			sev = level_map(optarg);
			break;
		case 't':
			tag = optarg;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			log_fatal("usage: %s [-c config_dir] [-i] "
			    "[-p priority] [-t tag] [-v] [text]", prog);
		}
	}
	mail_conf_load(config_opt);
	deftag = xasprintf("%s/%s", mail_cfg.syslog_name, prog);
	log_set_name(tag ? tag : deftag);
	if (isatty(STDERR_FILENO))
		targets |= LOG_TO_STDERR;
	log_set_targets(targets);
	if (*mail_cfg.maillog_file == 0)
		log_open_syslog(NULL);
	else if (log_open_file(mail_cfg.maillog_file) < 0)
		return 1;

	if (optind < argc) {
		struct buf text = BUF_INIT;
		int i;

		for (i = optind; i < argc; i++) {
			if (i > optind)
				buf_putc(&text, ' ');
			buf_puts(&text, argv[i]);
		}
		emit(sev, "%s", buf_str(&text));
		buf_free(&text);
	} else {
		log_stdin(sev);
	}
	free(deftag);
	return 0;
}
