/*
 * NAME		maildrop - write a submission into maildrop/
 * DESCRIPTION	maildrop_check() is the grammar a submission must follow
 *		(the same pickup enforces): optional time and attribute
 *		records, one sender, recipients with their notify and
 *		original-recipient records, M, content lines, X, recipients,
 *		E.  mail_conf_check_setgid() is the rule for set-gid
 *		programs: a configuration directory other than the default
 *		must be listed in the default main.cf as
 *		alternate_config_directories (or multi_instance_directories),
 *		unless the caller is root, as Postfix does.
 * SECURITY	The caller's uid becomes the file owner and so the identity
 *		pickup logs.  See mail_conf_check_setgid() for which
 *		configuration directories set-gid programs accept.  Files are mode 0744 inside a directory other
 *		users cannot enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "postern_paths.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "conf.h"
#include "mail_conf.h"
#include "maildrop.h"
#include "queue.h"
#include "rec.h"
#include "trigger.h"

#define MAILDROP_MODE	0744

/* maildrop_open - create a temporary file in maildrop/ */
struct maildrop *
maildrop_open(struct buf *why)
{
	struct maildrop *m = xcalloc(1, sizeof(*m));
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(m->tmp, sizeof(m->tmp), "%s/T%ld.%ld.%ld", Q_MAILDROP,
	    (long)getpid(), (long)tv.tv_sec, (long)tv.tv_usec);
	m->fd = open(m->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (m->fd < 0) {
		buf_printf(why, "create file %s: %s", m->tmp, strerror(errno));
		free(m);
		return NULL;
	}
	buf_init(&m->out);
	return m;
}

/* maildrop_write - append bytes (buffered); 0 or -1 */
int
maildrop_write(struct maildrop *m, const void *p, size_t n)
{
	buf_put(&m->out, p, n);
	m->size += n;
	if (m->out.len >= 65536) {
		if (write_all(m->fd, m->out.p, m->out.len) < 0)
			return -1;
		buf_reset(&m->out);
	}
	return 0;
}

/*
 * maildrop_commit - make the file durable and visible under its queue ID,
 * then wake pickup.  Returns 0 (m->id set) or -1 with a reason; the file
 * is removed on failure.
 */
int
maildrop_commit(struct maildrop *m, struct buf *why)
{
	struct stat st;
	struct timeval tv;
	struct buf path = BUF_INIT;
	int r = -1;

	/*
	 * The mode goes before the fsync, so that it is durable with the
	 * data: a complete file keeps its execute bit even if a power loss
	 * undoes the rename below, and pickup then recovers it.
	 */
	if ((m->out.len && write_all(m->fd, m->out.p, m->out.len) < 0) ||
	    fchmod(m->fd, MAILDROP_MODE) < 0 || fsync(m->fd) < 0 ||
	    fstat(m->fd, &st) < 0) {
		buf_printf(why, "write queue file: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		gettimeofday(&tv, NULL);
		qid_make(m->id, &tv, st.st_ino, mail_cfg.enable_long_queue_ids);
		queue_path(&path, Q_MAILDROP, m->id);
		if (renameat2(AT_FDCWD, m->tmp, AT_FDCWD, path.p,
		    RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST) {
			buf_printf(why, "rename %s: %s", m->tmp,
			    strerror(errno));
			goto out;
		}
		usleep(1);
	}
	m->tmp[0] = 0;
	r = 0;
	(void)mail_trigger("public/pickup", "W");
out:
	buf_free(&path);
	return r;
}

/* maildrop_abort - close, and remove the file unless committed */
void
maildrop_abort(struct maildrop *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		close(m->fd);
	if (m->tmp[0])
		(void)unlink(m->tmp);
	buf_free(&m->out);
	free(m);
}

/*
 * maildrop_check - check a submission's record grammar.  With
 * allow_qfile, a complete queue file (postsuper -r puts one back into
 * maildrop/) is accepted too: its version, size and warning records and
 * done recipients.  *info gets MAILDROP_EXTRACT when the submission asks
 * for "sendmail -t" and MAILDROP_QFILE for a queue file; *recipients the
 * number of recipient records.  0 or -1 with a reason.
 */
int
maildrop_check(const char *p, size_t len, int allow_qfile, int *info,
    int *recipients, struct buf *why)
{
	size_t off = 0;
	int phase = 0, from = 0, end = 0;

	*info = 0;
	*recipients = 0;
	while (off < len) {
		int type, used;
		const char *d;
		size_t l;

		used = rec_decode(p + off, len - off, REC_LEN_MAX, &type, &d,
		    &l);
		if (used <= 0) {
			buf_sets(why, used < 0 ? "malformed record" :
			    "truncated input");
			return -1;
		}
		off += (size_t)used;
		if (end)
			goto order;
		switch (type) {
		case REC_VERSION:
		case REC_SIZE:
		case REC_WARN:
			if (!allow_qfile || phase != 0 || from)
				goto order;
			if (type == REC_SIZE)
				*info |= MAILDROP_QFILE;
			break;
		case REC_TIME:
			if (phase != 0 || from)
				goto order;
			break;
		case REC_ATTR:
			if (phase == 1 || memchr(d, '=', l) == NULL)
				goto order;
			if (l == 13 && memcmp(d, "flags=extract", 13) == 0)
				*info |= MAILDROP_EXTRACT;
			break;
		case REC_FROM:
			if (phase != 0 || from++)
				goto order;
			break;
		case REC_DONE:
			if (!allow_qfile)
				goto order;
			/* FALLTHROUGH */
		case REC_ORCP:
		case REC_NOTIFY:
		case REC_RCPT:
			if (phase == 1 || !from)
				goto order;
			if (type == REC_RCPT)
				(*recipients)++;
			break;
		case REC_MESG:
			if (phase != 0 || !from)
				goto order;
			phase = 1;
			break;
		case REC_NORM:
		case REC_CONT:
			if (phase != 1)
				goto order;
			break;
		case REC_XTRA:
			if (phase != 1)
				goto order;
			phase = 2;
			break;
		case REC_END:
			if (phase != 2)
				goto order;
			end = 1;
			break;
		default:
			goto order;
		}
	}
	if (!end) {
		buf_sets(why, "incomplete submission");
		return -1;
	}
	return 0;
order:
	buf_sets(why, "unexpected record");
	return -1;
}

/*
 * setgid_trusted_dir - can only root change what real/main.cf says?  The
 * file and the directory must be root's and not group or world
 * writable, and so must every directory above, except that a sticky
 * directory (such as /tmp) is fine: nobody else can rename what root
 * owns there.  `real' is a resolved path (no links) and is what the
 * caller then reads, so nothing can be swapped in between.
 */
static int
setgid_trusted_dir(const char *resolved)
{
	struct stat st;
	char *real = xstrdup(resolved), *path, *slash;
	int ok = 0;

	path = xasprintf("%s/main.cf", real);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022))
		goto out;
	for (;;) {
		if (lstat(real, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != 0)
			goto out;
		if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			goto out;
		if ((slash = strrchr(real, '/')) == NULL || real[1] == 0)
			break;
		if (slash == real)
			slash[1] = 0;
		else
			*slash = 0;
	}
	ok = 1;
out:
	free(real);
	free(path);
	return ok;
}

/*
 * mail_conf_check_setgid - may a set-gid program use this configuration
 * directory?  Yes for root or a program that is not running set-gid, for
 * the default directory, for a directory listed in the default main.cf
 * as alternate_config_directories or multi_instance_directories
 * (Postfix's rule), and - Postern's addition - for a directory that only
 * root can change (it, its main.cf and every directory above owned by
 * root and not group or world writable, sticky directories excepted):
 * the danger the rule guards against is a configuration the caller
 * wrote.  Returns the directory the caller must read from (resolved, for
 * the last case; caller frees).  Fatal if not allowed.
 */
char *
mail_conf_check_setgid(const char *dir)
{
	struct conf *def;
	struct buf why = BUF_INIT, list = BUF_INIT;
	char *path, *cp, *tok, *real;
	int ok = 0;

	if (getuid() == 0 || getegid() == getgid())
		return xstrdup(dir);
	if (strcmp(dir, DEF_CONFIG_DIR) == 0)
		return xstrdup(dir);
	if ((real = realpath(dir, NULL)) != NULL) {
		if (setgid_trusted_dir(real))
			return real;
		free(real);
	}
	def = conf_new();
	path = xasprintf("%s/main.cf", DEF_CONFIG_DIR);
	if (conf_read(def, path, &why) == 0) {
		buf_printf(&list, "%s %s",
		    conf_raw(def, "alternate_config_directories") ?
		    conf_raw(def, "alternate_config_directories") : "",
		    conf_raw(def, "multi_instance_directories") ?
		    conf_raw(def, "multi_instance_directories") : "");
		cp = list.p;
		while ((tok = str_token(&cp, SEPARATORS)) != NULL)
			if (strcmp(tok, dir) == 0)
				ok = 1;
	}
	free(path);
	conf_free(def);
	buf_free(&why);
	buf_free(&list);
	if (!ok)
		log_fatal("%s is not listed in alternate_config_directories "
		    "of %s/main.cf and is not owned by root: not allowed "
		    "for a set-gid program", dir, DEF_CONFIG_DIR);
	return xstrdup(dir);
}
