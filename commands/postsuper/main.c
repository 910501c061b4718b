/*
 * NAME		postsuper - Postern queue superintendent
 * SYNOPSIS	postsuper [-psv] [-c config_dir] [-d queue_id]
 *		[-h queue_id] [-H queue_id] [-r queue_id] [queue...]
 * DESCRIPTION	Queue maintenance for the super-user, as Postfix's postsuper:
 *
 *		-d id	delete the message and its defer, bounce and trace
 *			logs (queues: hold incoming active deferred)
 *		-h id	put the message on hold (incoming active deferred)
 *		-H id	release it from hold into deferred, due now (hold)
 *		-r id	requeue: move it into maildrop under the same ID,
 *			mode 0700, for pickup and cleanup to process again
 *			(hold incoming active deferred); pickup is triggered
 *		-s	structure check: move queue files into the hash
 *			subdirectory where they belong, remove subdirectories
 *			that are no longer used, and purge as -p
 *		-p	remove temporary files older than a day
 *
 *		Each of -d -h -H -r is repeatable; "ALL" (upper case) means
 *		every message, "-" reads queue IDs from standard input, one
 *		per line.  Queue names after the options replace the default
 *		queues.  Without options, -s and -p are done.  The order is:
 *		structure, mass operations (ALL), then by ID: delete,
 *		requeue, hold, release; the counts are reported at the end:
 *		"Requeued: N messages", "Deleted: ...", "Placed on hold:
 *		...", "Released from hold: ...".
 * SECURITY	Reserved for root, or for the owner of a private instance
 *		(the owner of queue_directory).  Root drops to mail_owner
 *		before it touches the queue, so that it cannot be led out of
 *		the queue tree and creates files and directories with the
 *		right owner.  Queue IDs are checked with qid_valid() before
 *		they become paths; links are not followed; a move never
 *		replaces an existing file.  Only files whose name is not a
 *		queue ID are ever purged as temporary: a complete message
 *		waiting to be marked ready is never taken for debris.
 * DIAGNOSTICS	Per message "ID: removed" (etc.) and the summary on stderr
 *		and in the mail log.  Exit status 0, 1 after a fatal error.
 * SEE ALSO	doc/postsuper.md, qwalk(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "mail/qwalk.h"
#include "mail/trigger.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/stream.h"

#define ACT_STRUCT	(1 << 0)
#define ACT_PURGE	(1 << 1)
#define ACT_DELETE	(1 << 2)
#define ACT_REQUEUE	(1 << 3)
#define ACT_HOLD	(1 << 4)
#define ACT_RELEASE	(1 << 5)

#define TEMP_AGE_MAX	(24 * 3600)	/* temporary files older than this */
#define ID_LINE_MAX	1024

static const char *const message_queues[] = {Q_MAILDROP, Q_INCOMING,
    Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, Q_SAVED, NULL};
static const char *const log_queues[] = {Q_DEFER, Q_BOUNCE, Q_TRACE, NULL};

/* Default queues per operation, as Postfix. */
static const char *const def_struct[] = {Q_DEFER, Q_BOUNCE, Q_TRACE,
    Q_MAILDROP, Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, NULL};
static const char *const def_delete[] = {Q_HOLD, Q_INCOMING, Q_ACTIVE,
    Q_DEFERRED, NULL};
static const char *const def_hold[] = {Q_INCOMING, Q_ACTIVE, Q_DEFERRED,
    NULL};
static const char *const def_release[] = {Q_HOLD, NULL};

static unsigned long n_requeued, n_deleted, n_held, n_released;
static unsigned long n_moved, n_purged;
static int stdin_used;

struct walk_ctx {
	const char *queue;
	int	 action;
	int	 wanted_depth;
	time_t	 now;
};

/* usage - explain and exit */
static void __attribute__((noreturn))
usage(void)
{
	log_fatal("usage: postsuper [-c config_dir] [-d queue_id (delete)] "
	    "[-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge "
	    "temporary files)] [-r queue_id (requeue)] [-s (structure fix)] "
	    "[-v (verbose)] [queue...]");
}

/* in_list - is s one of the NULL-terminated names? */
static int
in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* make_parents - create the hash subdirectories of a queue path */
static int
make_parents(const char *path)
{
	char *copy = xstrdup(path), *slash;
	int r = 0;

	for (slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			r = -1;
		*slash = '/';
	}
	free(copy);
	return r;
}

/* move_file - rename without replacing, creating hash levels; 0 or -1 */
static int
move_file(const char *from, const char *to)
{
	int r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);

	if (r < 0 && errno == ENOENT && access(from, F_OK) == 0 &&
	    make_parents(to) == 0)
		r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
	if (r < 0 && errno != ENOENT)
		log_warn("rename %s as %s: %m", from, to);
	else if (r == 0)
		log_debug("renamed %s as %s", from, to);
	return r;
}

/* remove_logs - the defer, bounce and trace logs of a message */
static void
remove_logs(const char *id)
{
	int i;

	for (i = 0; log_queues[i]; i++)
		if (queue_remove(log_queues[i], id) < 0 && errno != ENOENT)
			log_warn("remove %s/%s: %m", log_queues[i], id);
}

/* message_ready - a complete message file at path? */
static int
message_ready(const char *path)
{
	struct stat st;
	struct buf why = BUF_INIT;
	int r;

	if (lstat(path, &st) < 0)
		return 0;
	if ((r = qwalk_file_ok(path, &st, &why)) < 0)
		log_warn("%s", buf_str(&why));
	buf_free(&why);
	return r == 1;
}

/*
 * requeue_file - move to maildrop, ready for pickup; 0 or -1.  The
 * message starts afresh, as in Postfix (where it gets a new queue ID):
 * its old defer, bounce and trace logs go, so that qmgr can take a
 * message new in incoming/ to have none.
 */
static int
requeue_file(const char *from, const char *id)
{
	struct buf to = BUF_INIT;
	int r;

	queue_path(&to, Q_MAILDROP, id);
	if ((r = move_file(from, to.p)) == 0 && chmod(to.p,
	    QUEUE_MODE_READY) < 0)
		log_warn("chmod %s: %m", to.p);
	if (r == 0)
		remove_logs(id);
	buf_free(&to);
	return r;
}

/* release_file - move from hold to deferred, due now; 0 or -1 */
static int
release_file(const char *from, const char *id)
{
	struct buf to = BUF_INIT;
	int r;

	queue_path(&to, Q_DEFERRED, id);
	/* The modification time of a deferred file is its retry time. */
	if ((r = move_file(from, to.p)) == 0 && utimes(to.p, NULL) < 0)
		log_warn("set time of %s: %m", to.p);
	buf_free(&to);
	return r;
}

/* hold_file - move into hold; 0 or -1 */
static int
hold_file(const char *from, const char *id)
{
	struct buf to = BUF_INIT;
	int r;

	queue_path(&to, Q_HOLD, id);
	r = move_file(from, to.p);
	buf_free(&to);
	return r;
}

/* walk_file - qwalk callback for structure, purge and ALL operations */
static int
walk_file(const char *path, const char *name, const struct stat *st,
    int depth, void *ctx)
{
	struct walk_ctx *w = ctx;
	int msgq = in_list(message_queues, w->queue);
	int is_id = qid_valid(name, strlen(name));

	(void)depth;
	if (!S_ISREG(st->st_mode)) {
		if (!(w->action & ACT_STRUCT))
			return 0;
		if (S_ISDIR(st->st_mode)) {
			if (rmdir(path) == 0)
				log_debug("removed directory %s", path);
			else if (errno != ENOTEMPTY && errno != EEXIST)
				log_warn("remove directory %s: %m", path);
		} else if (unlink(path) == 0) {
			log_warn("removed non-file object %s", path);
		}
		return 0;
	}
	if (!is_id) {
		/* Temporary files of writers that crashed. */
		if ((w->action & ACT_PURGE) && msgq &&
		    st->st_mtime < w->now - TEMP_AGE_MAX) {
			if (unlink(path) == 0) {
				n_purged++;
				log_debug("removed old temporary file %s",
				    path);
			} else if (errno != ENOENT) {
				log_warn("remove %s: %m", path);
			}
		}
		return 0;
	}
	if (w->action & ACT_DELETE) {
		if (msgq)
			remove_logs(name);
		if (unlink(path) < 0) {
			if (errno != ENOENT)
				log_warn("remove %s: %m", path);
		} else if (msgq && (st->st_mode & S_IXUSR)) {
			log_info("%s: removed", name);
			n_deleted++;
		}
		return 0;
	}
	if (w->action & (ACT_REQUEUE | ACT_HOLD | ACT_RELEASE)) {
		if (!msgq || !(st->st_mode & S_IXUSR) || st->st_nlink > 1)
			return 0;
		if ((w->action & ACT_REQUEUE) &&
		    strcmp(w->queue, Q_MAILDROP) != 0 &&
		    requeue_file(path, name) == 0) {
			log_info("%s: requeued", name);
			n_requeued++;
		} else if ((w->action & ACT_HOLD) &&
		    strcmp(w->queue, Q_MAILDROP) != 0 &&
		    strcmp(w->queue, Q_HOLD) != 0 &&
		    hold_file(path, name) == 0) {
			log_info("%s: placed on hold", name);
			n_held++;
		} else if ((w->action & ACT_RELEASE) &&
		    strcmp(w->queue, Q_HOLD) == 0 &&
		    release_file(path, name) == 0) {
			log_info("%s: released from hold", name);
			n_released++;
		}
		return 0;
	}
	if (w->action & ACT_STRUCT) {
		struct buf want = BUF_INIT;

		queue_path(&want, w->queue, name);
		if (strcmp(want.p, path) != 0 && move_file(path, want.p) == 0)
			n_moved++;
		buf_free(&want);
	}
	return 0;
}

/* walk_dir_done - remove hash levels that the configuration no longer has */
static int
walk_dir_done(const char *path, const char *name, const struct stat *st,
    int depth, void *ctx)
{
	struct walk_ctx *w = ctx;

	(void)name;
	(void)st;
	if ((w->action & ACT_STRUCT) && depth > w->wanted_depth &&
	    rmdir(path) == 0)
		log_debug("removed directory %s", path);
	return 0;
}

/* walk_queues - one action over a list of queues */
static void
walk_queues(const char *const *queues, int action)
{
	struct walk_ctx w;
	struct buf why = BUF_INIT;

	for (; *queues; queues++) {
		memset(&w, 0, sizeof(w));
		w.queue = *queues;
		w.action = action;
		w.now = time(NULL);
		w.wanted_depth = queue_is_hashed(w.queue) ?
		    mail_cfg.hash_queue_depth : 0;
		/* maildrop is written by users: never descend into it. */
		if (qwalk(w.queue, strcmp(w.queue, Q_MAILDROP) ?
		    QWALK_RECURSE : 0, walk_file, walk_dir_done, &w,
		    &why) < 0) {
			if (errno != ENOENT)
				log_warn("%s", buf_str(&why));
			buf_reset(&why);
		}
	}
	buf_free(&why);
}

/* delete_one - delete one message and its logs; 1 if found */
static int
delete_one(const char *const *queues, const char *id)
{
	struct buf path = BUF_INIT;
	int tries, found = 0;
	const char *const *q;

	for (tries = 0; tries < 2 && !found; tries++) {
		for (q = queues; *q && !found; q++) {
			if (!in_list(message_queues, *q))
				continue;
			queue_path(&path, *q, id);
			if (!message_ready(path.p))
				continue;
			remove_logs(id);
			if (unlink(path.p) == 0) {
				log_info("%s: removed", id);
				found = 1;
			} else if (errno != ENOENT) {
				log_warn("remove %s: %m", path.p);
			}
		}
	}
	buf_free(&path);
	return found;
}

/* requeue_one - move one message into maildrop; 1 if found */
static int
requeue_one(const char *const *queues, const char *id)
{
	struct buf path = BUF_INIT;
	int tries, found = 0;
	const char *const *q;

	for (tries = 0; tries < 2 && !found; tries++) {
		for (q = queues; *q && !found; q++) {
			if (!in_list(message_queues, *q) ||
			    strcmp(*q, Q_MAILDROP) == 0)
				continue;
			queue_path(&path, *q, id);
			if (message_ready(path.p) &&
			    requeue_file(path.p, id) == 0) {
				log_info("%s: requeued", id);
				found = 1;
			}
		}
	}
	buf_free(&path);
	return found;
}

/* hold_one - put one message on hold; 1 if found */
static int
hold_one(const char *const *queues, const char *id)
{
	struct buf path = BUF_INIT;
	int tries, found = 0;
	const char *const *q;

	for (tries = 0; tries < 2 && !found; tries++) {
		for (q = queues; *q && !found; q++) {
			/* maildrop mail has not been checked by cleanup. */
			if (!in_list(message_queues, *q) ||
			    strcmp(*q, Q_MAILDROP) == 0 ||
			    strcmp(*q, Q_HOLD) == 0)
				continue;
			queue_path(&path, *q, id);
			if (message_ready(path.p) &&
			    hold_file(path.p, id) == 0) {
				log_info("%s: placed on hold", id);
				found = 1;
			}
		}
	}
	buf_free(&path);
	return found;
}

/* release_one - release one message from hold; 1 if found */
static int
release_one(const char *const *queues, const char *id)
{
	struct buf path = BUF_INIT;
	const char *const *q;
	int found = 0;

	for (q = queues; *q && !found; q++) {
		if (strcmp(*q, Q_HOLD) != 0)
			continue;
		queue_path(&path, *q, id);
		if (message_ready(path.p) && release_file(path.p, id) == 0) {
			log_info("%s: released from hold", id);
			found = 1;
		}
	}
	buf_free(&path);
	return found;
}

typedef int (*by_id_fn)(const char *const *, const char *);

/* operate_one - one ID from the command line or standard input */
static unsigned long
operate_one(by_id_fn fn, const char *const *queues, const char *id)
{
	if (!qid_valid(id, strlen(id))) {
		log_warn("invalid mail queue id: %s", id);
		return 0;
	}
	return (unsigned long)fn(queues, id);
}

/* operate_stdin - IDs from standard input, one per line */
static unsigned long
operate_stdin(by_id_fn fn, const char *const *queues)
{
	struct stream *s;
	struct buf line = BUF_INIT;
	unsigned long n = 0;
	int toolong;

	/* Standard input can be read only once, as with Postfix. */
	if (stdin_used++)
		return 0;
	s = stream_open(0, 0);
	while (stream_gets(s, &line, ID_LINE_MAX, &toolong) == 0) {
		char *id = (char *)buf_str(&line);
		size_t len;

		if (toolong) {
			log_warn("queue ID line too long");
			while (toolong && stream_gets(s, &line, ID_LINE_MAX,
			    &toolong) == 0)
				;
			continue;
		}
		while (*id == ' ' || *id == '\t')
			id++;
		len = strlen(id);
		while (len > 0 && (id[len - 1] == ' ' || id[len - 1] == '\t' ||
		    id[len - 1] == '\r'))
			id[--len] = 0;
		if (len == 0)
			continue;
		n += operate_one(fn, queues, id);
	}
	buf_free(&line);
	stream_release(s);
	return n;
}

/* operate_list - every -X argument of one kind */
static unsigned long
operate_list(const struct argv *ids, by_id_fn fn, const char *const *queues)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < ids->n; i++) {
		if (strcmp(ids->v[i], "ALL") == 0)
			continue;
		if (strcmp(ids->v[i], "-") == 0)
			n += operate_stdin(fn, queues);
		else
			n += operate_one(fn, queues, ids->v[i]);
	}
	return n;
}

/* has_all - was "ALL" given for this operation? */
static int
has_all(const struct argv *ids)
{
	return argv_find(ids, "ALL") >= 0;
}

/* report - one summary line when the count is not zero */
static void
report(const char *what, unsigned long n)
{
	if (n > 0)
		log_info("%s: %lu message%s", what, n, n > 1 ? "s" : "");
}

/* privileged - root, or the owner of this (private) instance */
static int
privileged(void)
{
	struct stat st;

	if (getuid() == 0)
		return 1;
	return stat(mail_cfg.queue_directory, &st) == 0 &&
	    st.st_uid == getuid() && geteuid() == getuid();
}

/* main - parse options, check privileges, do the work */
int
main(int argc, char **argv)
{
	struct argv del, hold, rel, req;
	const char *config_opt = NULL;
	const char *const *queues = NULL;
	char *name;
	int c, action = 0, i;

	log_init("postsuper", LOG_TO_STDERR);
	argv_init(&del);
	argv_init(&hold);
	argv_init(&rel);
	argv_init(&req);
	while ((c = getopt(argc, argv, "c:d:h:H:pr:sSv")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'd':
			argv_add(&del, optarg);
			break;
		case 'h':
			argv_add(&hold, optarg);
			break;
		case 'H':
			argv_add(&rel, optarg);
			break;
		case 'r':
			argv_add(&req, optarg);
			break;
		case 'p':
			action |= ACT_PURGE;
			break;
		case 's':
		case 'S':
			action |= ACT_STRUCT | ACT_PURGE;
			break;
		case 'v':
			log_verbose++;
			break;
		default:
			usage();
		}
	}
	for (i = optind; i < argc; i++)
		if (!in_list(message_queues, argv[i]) &&
		    !in_list(log_queues, argv[i]))
			log_fatal("invalid directory name: %s", argv[i]);
	if (optind < argc)
		queues = (const char *const *)argv + optind;

	mail_conf_load(config_opt);
	name = xasprintf("%s/postsuper", mail_cfg.syslog_name);
	log_set_name(name);
	free(name);
	if (*mail_cfg.maillog_file &&
	    log_open_file(mail_cfg.maillog_file) == 0)
		log_set_targets(LOG_TO_STDERR | LOG_TO_FILE);
	else
		log_set_targets(LOG_TO_STDERR | LOG_TO_SYSLOG);
	if (!privileged())
		log_fatal("use of this command is reserved for the superuser");
	mail_conf_resolve_ids(getuid() == 0);
	if (chdir(mail_cfg.queue_directory) < 0)
		log_fatal("chdir %s: %m", mail_cfg.queue_directory);
	if (getuid() == 0 && set_ugid(mail_cfg.owner_uid,
	    mail_cfg.owner_gid) < 0)
		log_fatal("set privileges to %s: %m", mail_cfg.mail_owner);
	umask(077);

	if (action == 0 && del.n + hold.n + rel.n + req.n == 0)
		action = ACT_STRUCT | ACT_PURGE;
	if (has_all(&del) && del.n > 1)
		log_warn("option \"-d ALL\" will ignore other command line "
		    "queue IDs");
	if (has_all(&req) && req.n > 1)
		log_warn("option \"-r ALL\" will ignore other command line "
		    "queue IDs");
	if (has_all(&hold) && hold.n > 1)
		log_warn("option \"-h ALL\" will ignore other command line "
		    "queue IDs");
	if (has_all(&rel) && rel.n > 1)
		log_warn("option \"-H ALL\" will ignore other command line "
		    "queue IDs");

	/* Structure first, so that files are where IDs say they are. */
	if (action)
		walk_queues(queues ? queues : def_struct, action);
	if (has_all(&del))
		walk_queues(queues ? queues : def_delete, ACT_DELETE);
	if (has_all(&req))
		walk_queues(queues ? queues : def_delete, ACT_REQUEUE);
	if (has_all(&hold))
		walk_queues(queues ? queues : def_hold, ACT_HOLD);
	if (has_all(&rel))
		walk_queues(queues ? queues : def_release, ACT_RELEASE);
	if (!has_all(&del))
		n_deleted += operate_list(&del, delete_one,
		    queues ? queues : def_delete);
	if (!has_all(&req))
		n_requeued += operate_list(&req, requeue_one,
		    queues ? queues : def_delete);
	if (!has_all(&hold))
		n_held += operate_list(&hold, hold_one,
		    queues ? queues : def_hold);
	if (!has_all(&rel))
		n_released += operate_list(&rel, release_one,
		    queues ? queues : def_release);

	report("Requeued", n_requeued);
	report("Deleted", n_deleted);
	report("Placed on hold", n_held);
	report("Released from hold", n_released);
	if (n_moved)
		log_debug("moved %lu files to their hash subdirectory",
		    n_moved);
	if (n_purged)
		log_debug("removed %lu old temporary files", n_purged);
	if (n_requeued && mail_trigger("public/pickup", "W") < 0)
		log_debug("cannot trigger pickup: %m");
	argv_clear(&del);
	argv_clear(&hold);
	argv_clear(&rel);
	argv_clear(&req);
	return 0;
}
