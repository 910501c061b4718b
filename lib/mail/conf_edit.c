/*
 * NAME		conf_edit - edit main.cf text in place (postconf -e, -#, -X)
 * DESCRIPTION	The text is processed one physical line at a time.  A line
 *		that is empty, blank or whose first non-blank character is '#'
 *		is copied and does not end the current logical line.  A line
 *		that starts with white space continues the current entry; one
 *		that starts with anything else begins a new entry, whose name
 *		runs up to the first blank or '='.  Every entry of a requested
 *		name is edited (Postfix warns about, and edits, duplicates).
 *		A last line without a newline gets one.
 *
 *		Requests are checked first: no line breaks, no comments, a
 *		valid parameter name, "name=value" for SET and a bare name
 *		for COMMENT and DELETE.  When a name is given twice the later
 *		request wins, with a warning.
 *
 *		conf_edit_file() locks the file with flock(2), checks that
 *		the name still refers to the locked file (an editor that got
 *		there first has replaced it), edits, and replaces the file
 *		with file_replace() (temporary file, fsync, rename), keeping
 *		its mode and, for root, its owner.
 * SECURITY	Input and requests are bounded (CONF_FILE_MAX,
 *		CONF_EDIT_ARGS_MAX, CONF_LINE_MAX); the text may hold any
 *		bytes, including NUL, and is never read past its length.
 * SEE ALSO	postconf(1), doc/postconf.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/htable.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "conf.h"
#include "conf_edit.h"

struct edit_req {
	char	*name;
	char	*value;			/* SET only */
	int	 found;
};

/* edit_blank - white space as Postfix's ISSPACE, without newline */
static int
edit_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* edit_req_free - htable destructor */
static void
edit_req_free(void *p)
{
	struct edit_req *r = p;

	free(r->name);
	free(r->value);
	free(r);
}

/* edit_parse_req - check one request and enter it into the table */
static int
edit_parse_req(int mode, const char *arg, struct htable *t,
    struct argv *warnings, struct buf *why)
{
	char *copy, *cp, *eq, *name, *value = NULL;
	struct edit_req *r, *old;

	if (strchr(arg, '\n') != NULL) {
		buf_sets(why, "-e, -X, or -# accepts no multi-line input");
		return -1;
	}
	if (strlen(arg) > CONF_LINE_MAX) {
		buf_sets(why, "-e, -X, or -# input is too long");
		return -1;
	}
	copy = xstrdup(arg);
	cp = str_trim(copy);
	if (*cp == '#') {
		buf_sets(why, "-e, -X, or -# accepts no comment input");
		goto bad;
	}
	if (mode == CONF_EDIT_SET) {
		if ((eq = strchr(cp, '=')) == NULL) {
			buf_printf(why, "missing '=' after attribute name: "
			    "\"%s\"", arg);
			goto bad;
		}
		*eq = 0;
		name = str_trim(cp);
		value = str_trim(eq + 1);
		if (*name == 0) {
			buf_printf(why, "missing attribute name: \"%s\"", arg);
			goto bad;
		}
	} else {
		name = cp;
		if (*name == 0) {
			buf_sets(why, "-X or -# requires non-blank parameter "
			    "names");
			goto bad;
		}
		if (strchr(name, '=') != NULL) {
			buf_sets(why, "-X or -# requires parameter names "
			    "without value");
			goto bad;
		}
	}
	if (strlen(name) > 255 || !param_valid_name(name)) {
		buf_printf(why, "bad parameter name: \"%s\"", name);
		goto bad;
	}
	if ((old = htable_find(t, name)) != NULL) {
		if (warnings && old->value)
			argv_addf(warnings, "ignoring earlier request: "
			    "'%s = %s'", old->name, old->value);
		else if (warnings)
			argv_addf(warnings, "ignoring earlier request: '%s'",
			    old->name);
		htable_delete(t, name, edit_req_free);
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(name);
	r->value = value ? xstrdup(value) : NULL;
	htable_enter(t, name, r);
	free(copy);
	return 0;
bad:
	free(copy);
	return -1;
}

/* edit_lookup - the request for the entry name at p[0..n), or NULL */
static struct edit_req *
edit_lookup(struct htable *t, const char *p, size_t n)
{
	char name[256];

	if (n == 0 || n >= sizeof(name) || memchr(p, 0, n) != NULL)
		return NULL;
	memcpy(name, p, n);
	name[n] = 0;
	return htable_find(t, name);
}

/* edit_cmp - qsort helper: requests by name */
static int
edit_cmp(const void *a, const void *b)
{
	const struct edit_req *x = *(struct edit_req *const *)a;
	const struct edit_req *y = *(struct edit_req *const *)b;

	return strcmp(x->name, y->name);
}

/* edit_put_setting - "name = value" line */
static void
edit_put_setting(struct buf *out, const struct edit_req *r)
{
	buf_puts(out, r->name);
	buf_puts(out, " = ");
	buf_puts(out, r->value);
	buf_putc(out, '\n');
}

/*
 * conf_edit - apply mode to the named parameters in text[0..len); the
 * result goes to out.  Warnings (duplicates) are appended to warnings
 * when it is not NULL.  Returns 0, or -1 with a reason (bad request or
 * oversized input); out is then unspecified.
 */
int
conf_edit(int mode, const char *text, size_t len, const struct argv *args,
    struct buf *out, struct argv *warnings, struct buf *why)
{
	struct htable *t;
	struct edit_req *cur = NULL;
	size_t i, pos = 0;
	int r = -1;

	buf_reset(out);
	if (mode != CONF_EDIT_SET && mode != CONF_EDIT_COMMENT &&
	    mode != CONF_EDIT_DELETE) {
		buf_sets(why, "unknown edit mode");
		return -1;
	}
	if (len > CONF_FILE_MAX) {
		buf_sets(why, "file too large");
		return -1;
	}
	if (args->n > CONF_EDIT_ARGS_MAX) {
		buf_sets(why, "too many parameters to edit");
		return -1;
	}
	t = htable_create(args->n * 2 + 1);
	for (i = 0; i < args->n; i++)
		if (edit_parse_req(mode, args->v[i], t, warnings, why) < 0)
			goto out;

	while (pos < len) {
		const char *lp = text + pos;
		const char *nl = memchr(lp, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - lp) : len - pos, k = 0;

		pos += llen + (nl ? 1 : 0);
		while (k < llen && edit_blank((unsigned char)lp[k]))
			k++;
		if (k == llen || lp[k] == '#') {
			/* Comment or blank: copied, entry continues. */
			buf_put(out, lp, llen);
			buf_putc(out, '\n');
			continue;
		}
		if (k > 0) {
			/* Continuation of the current entry. */
			if (cur == NULL) {
				buf_put(out, lp, llen);
				buf_putc(out, '\n');
			} else if (mode == CONF_EDIT_COMMENT) {
				buf_putc(out, '#');
				buf_put(out, lp, llen);
				buf_putc(out, '\n');
			}
			continue;
		}
		while (k < llen && !edit_blank((unsigned char)lp[k]) &&
		    lp[k] != '=')
			k++;
		if ((cur = edit_lookup(t, lp, k)) == NULL) {
			buf_put(out, lp, llen);
			buf_putc(out, '\n');
			continue;
		}
		if (++cur->found == 2 && warnings)
			argv_addf(warnings, "multiple entries for \"%s\"",
			    cur->name);
		if (mode == CONF_EDIT_SET) {
			edit_put_setting(out, cur);
		} else if (mode == CONF_EDIT_COMMENT) {
			buf_putc(out, '#');
			buf_put(out, lp, llen);
			buf_putc(out, '\n');
		}
	}

	if (mode == CONF_EDIT_SET) {
		struct hnode **nodes = htable_list(t);
		struct edit_req **missing;
		size_t n = 0;

		missing = xcalloc(t->used + 1, sizeof(*missing));
		for (i = 0; nodes[i]; i++) {
			struct edit_req *q = nodes[i]->value;

			if (q->found == 0)
				missing[n++] = q;
		}
		qsort(missing, n, sizeof(*missing), edit_cmp);
		for (i = 0; i < n; i++)
			edit_put_setting(out, missing[i]);
		free(missing);
		free(nodes);
	}
	r = 0;
out:
	htable_free(t, edit_req_free);
	return r;
}

/* conf_edit_text - replace or add "name=value" settings (postconf -e) */
int
conf_edit_text(const char *text, size_t len, const struct argv *assignments,
    struct buf *out, struct buf *why)
{
	return conf_edit(CONF_EDIT_SET, text, len, assignments, out, NULL,
	    why);
}

/*
 * conf_edit_file - edit the file at path.  Warnings about the file name
 * it.  Returns 0, or -1 with a reason; on error the file is unchanged.
 */
int
conf_edit_file(const char *path, int mode, const struct argv *args,
    struct argv *warnings, struct buf *why)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct argv w;
	struct stat fst, pst;
	int fd = -1, tries, r = -1;
	size_t i;

	argv_init(&w);
	for (tries = 0;; tries++) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			buf_printf(why, "open %s for reading: %s", path,
			    strerror(errno));
			goto out;
		}
		if (file_flock(fd, LOCK_EXCL) < 0) {
			buf_printf(why, "lock %s: %s", path, strerror(errno));
			goto out;
		}
		if (fstat(fd, &fst) < 0 || stat(path, &pst) < 0) {
			buf_printf(why, "stat %s: %s", path, strerror(errno));
			goto out;
		}
		if (fst.st_dev == pst.st_dev && fst.st_ino == pst.st_ino)
			break;
		/* Another editor replaced the file while we waited. */
		close(fd);
		fd = -1;
		if (tries >= 100) {
			buf_printf(why, "%s keeps changing", path);
			goto out;
		}
	}
	if (!S_ISREG(fst.st_mode)) {
		buf_printf(why, "%s: not a regular file", path);
		goto out;
	}
	if (read_fd_all(fd, &text, CONF_FILE_MAX) < 0) {
		buf_printf(why, "read %s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
		goto out;
	}
	if (conf_edit(mode, text.p ? text.p : "", text.len, args, &out, &w,
	    why) < 0)
		goto out;
	if (file_replace(path, out.p ? out.p : "", out.len,
	    fst.st_mode & 07777) < 0) {
		buf_printf(why, "replace %s: %s", path, strerror(errno));
		goto out;
	}
	/* file_replace() created a new file; keep the old owner. */
	if (geteuid() == 0 && (fst.st_uid != 0 || fst.st_gid != 0))
		(void)!chown(path, fst.st_uid, fst.st_gid);
	for (i = 0; warnings && i < w.n; i++) {
		/* As Postfix: duplicates in the file name the file. */
		if (str_prefix(w.v[i], "multiple entries"))
			argv_addf(warnings, "%s: %s", path, w.v[i]);
		else
			argv_add(warnings, w.v[i]);
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	argv_clear(&w);
	buf_free(&text);
	buf_free(&out);
	return r;
}
