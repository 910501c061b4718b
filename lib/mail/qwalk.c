/*
 * NAME		qwalk - walk a queue directory and its hash subdirectories
 * DESCRIPTION	Each directory is read completely (names sorted) before any
 *		callback runs, so that callbacks may rename or remove entries
 *		without confusing readdir(3).  Callbacks get the path
 *		("deferred/F/5BMgmF59T8z1bZ4d"), the name, the lstat(2) result
 *		and the depth (0 for entries of the queue directory itself);
 *		a callback that returns a negative value stops the walk.
 * SECURITY	The queue tree may hold anything a compromised mail owner or
 *		a local user (maildrop) put there: links are not followed,
 *		only one-character directories are entered, the depth and the
 *		number of names per directory are bounded.
 * SEE ALSO	showq(8), postsuper(1)
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/log.h"
#include "util/mem.h"
#include "qwalk.h"

/* qwalk_cmp - qsort helper */
static int
qwalk_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qwalk_dir - one directory level; <0 when a callback stopped the walk */
static int
qwalk_dir(const char *dir, int flags, int depth, qwalk_fn fn,
    qwalk_fn dir_done, void *ctx, struct buf *why)
{
	struct argv names;
	struct dirent *de;
	struct buf path = BUF_INIT;
	DIR *d;
	size_t i;
	int r = 0;

	if ((d = opendir(dir)) == NULL) {
		if (why)
			buf_printf(why, "open directory %s: %s", dir,
			    strerror(errno));
		return -1;
	}
	argv_init(&names);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (names.n >= QWALK_NAMES_MAX) {
			log_warn("%s: more than %d entries; the rest are "
			    "skipped", dir, QWALK_NAMES_MAX);
			break;
		}
		argv_add(&names, de->d_name);
	}
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(char *), qwalk_cmp);

	for (i = 0; i < names.n && r >= 0; i++) {
		struct stat st;

		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, names.v[i]);
		if (lstat(path.p, &st) < 0)
			continue;		/* gone meanwhile */
		if (S_ISDIR(st.st_mode) && strlen(names.v[i]) == 1 &&
		    (flags & QWALK_RECURSE) && depth < QWALK_DEPTH_MAX) {
			if (qwalk_dir(path.p, flags, depth + 1, fn, dir_done,
			    ctx, NULL) == -2) {
				r = -2;
				break;
			}
			if (dir_done && dir_done(path.p, names.v[i], &st,
			    depth + 1, ctx) < 0)
				r = -2;
			continue;
		}
		if (fn(path.p, names.v[i], &st, depth, ctx) < 0)
			r = -2;
	}
	argv_clear(&names);
	buf_free(&path);
	return r;
}

/*
 * qwalk - walk queue directory dir.  Returns 0 (also when a callback
 * stopped the walk), or -1 with a reason when dir cannot be read.
 */
int
qwalk(const char *dir, int flags, qwalk_fn fn, qwalk_fn dir_done,
    void *ctx, struct buf *why)
{
	return qwalk_dir(dir, flags, 0, fn, dir_done, ctx, why) == -1 ? -1 :
	    0;
}

/*
 * qwalk_file_ok - may a queue reader open this file?  Returns 1 (yes), 0
 * (not complete yet: skip quietly) or -1 with a reason (not a regular
 * file, or hard-linked: skip and complain).
 */
int
qwalk_file_ok(const char *path, const struct stat *st, struct buf *why)
{
	if (!S_ISREG(st->st_mode)) {
		buf_printf(why, "%s: uid %ld: not a regular file", path,
		    (long)st->st_uid);
		return -1;
	}
	if ((st->st_mode & S_IXUSR) == 0)
		return 0;
	if (st->st_nlink > 1) {
		buf_printf(why, "%s: uid %ld: file has %ld links", path,
		    (long)st->st_uid, (long)st->st_nlink);
		return -1;
	}
	return 1;
}
