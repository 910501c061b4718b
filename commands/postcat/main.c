/*
 * NAME		postcat - show Postern queue file contents
 * SYNOPSIS	postcat [-bdehoqrv] [-c config_dir] [files...]
 * DESCRIPTION	Prints the named queue files (standard input when none are
 *		named) in human-readable form, as Postfix's postcat does.
 *		By default envelope, header and body are shown, as with -beh.
 *
 *		-b	show the message body (from the first non-header line)
 *		-e	show the envelope records and the markers
 *		-h	show the message header
 *		-o	show the file offset of each record
 *		-d	show the decimal record type of each record
 *		-q	the arguments are queue IDs: look for each in the
 *			maildrop, incoming, active, deferred, hold, corrupt
 *			and saved queues
 *		-r	keep reading after the end record
 *		-v	verbose: label message text records too
 * SECURITY	Runs with the invoking user's privileges (root, to read the
 *		queue).  Queue IDs are checked before they become paths and
 *		queue files are opened without following symbolic links.
 *		Files are parsed by qdump(3), which bounds every record.
 * DIAGNOSTICS	A file that is malformed or ends early is reported on stderr
 *		(after the output up to that point) and the exit status is
 *		1; other files are still shown.  A queue ID that is not
 *		found, or a file that cannot be opened, is fatal.
 * SEE ALSO	doc/postcat.md, qdump(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/qdump.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/stream.h"

/* usage - explain and exit */
static void __attribute__((noreturn))
usage(void)
{
	log_fatal("usage: postcat [-b (body text)] [-c config_dir] "
	    "[-d (decimal record type)] [-e (envelope records)] "
	    "[-h (header text)] [-o (offsets)] [-q (access queue)] "
	    "[-r (raw)] [-v] [file(s)...]");
}

/* flush_stdout - qdump output callback */
static void
flush_stdout(struct qdump *q)
{
	if (q->out.len && fwrite(q->out.p, 1, q->out.len, stdout) !=
	    q->out.len)
		log_fatal("write error: %m");
	buf_reset(&q->out);
	if (fflush(stdout) != 0)
		log_fatal("write error: %m");
}

/* warn_stderr - qdump complaint callback */
static void
warn_stderr(struct qdump *q, const char *text)
{
	flush_stdout(q);
	log_warn("%s: %s", q->name, text);
}

/* show_fd - dump one open file; 0 ok, -1 it is bad */
static int
show_fd(int fd, const char *name, int flags)
{
	struct qdump q;
	struct stream *s = stream_open(fd, 0);
	struct buf why = BUF_INIT;
	int r;

	memset(&q, 0, sizeof(q));
	q.flags = flags;
	q.name = name;
	q.flush = flush_stdout;
	q.warn = warn_stderr;
	r = qdump_stream(&q, s, &why);
	flush_stdout(&q);
	if (r < 0)
		log_warn("%s: %s", name, buf_str(&why));
	buf_free(&q.out);
	buf_free(&why);
	stream_release(s);
	return r;
}

/* open_queue_file - find a queue file by ID; fd or -1 */
static int
open_queue_file(const char *id, struct buf *path)
{
	static const char *const queues[] = {Q_MAILDROP, Q_INCOMING,
	    Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, Q_SAVED, NULL};
	int fd, i, tries, saved = ENOENT;

	/* Twice: the file may move between queues while we look. */
	for (tries = 0; tries < 2; tries++) {
		for (i = 0; queues[i]; i++) {
			queue_path(path, queues[i], id);
			fd = open(path->p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    O_NONBLOCK);
			if (fd >= 0)
				return fd;
			if (errno != ENOENT)
				saved = errno;
		}
	}
	errno = saved;
	return -1;
}

/* main - parse options and show each file */
int
main(int argc, char **argv)
{
	const char *config_opt = NULL;
	int c, flags = 0, search = 0, status = 0;

	log_init("postcat", LOG_TO_STDERR);
	while ((c = getopt(argc, argv, "bc:dehoqrv")) != -1) {
		switch (c) {
		case 'b':
			flags |= QDUMP_BODY;
			break;
		case 'c':
			config_opt = optarg;
			break;
		case 'd':
			flags |= QDUMP_DECIMAL;
			break;
		case 'e':
			flags |= QDUMP_ENV;
			break;
		case 'h':
			flags |= QDUMP_HEADER;
			break;
		case 'o':
			flags |= QDUMP_OFFSET;
			break;
		case 'q':
			search = 1;
			break;
		case 'r':
			flags |= QDUMP_RAW;
			break;
		case 'v':
			flags |= QDUMP_VERBOSE;
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	if (!(flags & QDUMP_ALL))
		flags |= QDUMP_ALL;
	mail_conf_load(config_opt);

	if (optind == argc) {
		if (show_fd(0, "stdin", flags) < 0)
			status = 1;
	} else if (search) {
		struct buf path = BUF_INIT;
		struct stat st;

		if (chdir(mail_cfg.queue_directory) < 0)
			log_fatal("chdir %s: %m", mail_cfg.queue_directory);
		for (; optind < argc; optind++) {
			const char *id = argv[optind];
			int fd;

			if (!qid_valid(id, strlen(id)))
				log_fatal("bad mail queue ID: %s", id);
			if ((fd = open_queue_file(id, &path)) < 0)
				log_fatal("open queue file %s: %m", id);
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
				log_fatal("%s: not a regular file", path.p);
			if (show_fd(fd, path.p, flags) < 0)
				status = 1;
			close(fd);
		}
		buf_free(&path);
	} else {
		for (; optind < argc; optind++) {
			int fd = open(argv[optind], O_RDONLY | O_CLOEXEC |
			    O_NONBLOCK);

			if (fd < 0)
				log_fatal("open %s: %m", argv[optind]);
			if (show_fd(fd, argv[optind], flags) < 0)
				status = 1;
			close(fd);
		}
	}
	return status;
}
