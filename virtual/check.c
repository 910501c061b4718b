/*
 * NAME		check - mailbox paths, ids and quota arithmetic of virtual(8)
 * DESCRIPTION	virtual_path() turns a virtual_mailbox_maps result into the
 *		mailbox path: virtual_mailbox_base, "/", the result.  The
 *		result is always read as relative to the base (a leading "/"
 *		does not leave it, as with Postfix's plain concatenation); a
 *		trailing "/" means Maildir.  Refused: an empty result, one
 *		that names the base itself, a ".." component, control
 *		characters, more than VIRTUAL_PATH_MAX bytes, and a base that
 *		is set but not absolute.  Empty and "." components are
 *		dropped.
 *
 *		virtual_parse_id() reads a uid or gid (decimal digits only),
 *		virtual_parse_limit() a size limit in bytes (decimal digits,
 *		surrounding blanks allowed, at most 18 digits).
 *
 *		Quota: a mailbox of used bytes cannot take a message of msg
 *		bytes when used + msg > limit (limit 0: no limit).  The copy
 *		itself is bounded by limit - used, so the headers that
 *		delivery adds count as well.  virtual_maildir_usage() sums the
 *		sizes of the regular files in new/ and cur/ (not tmp/); a
 *		directory with more than VIRTUAL_SCAN_MAX entries is an error
 *		(the caller defers), never a partial count.
 * SECURITY	Input is table values (possibly from LDAP or SQL): every
 *		check is bounded and refuses rather than repairs.
 * SEE ALSO	virtual(8), doc/virtual.md
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "virtual.h"

/*
 * virtual_path - the mailbox path for table result res under base into
 * out, *maildir set for a Maildir.  Returns 0, or -1 with a reason.
 */
int
virtual_path(const char *base, const char *res, struct buf *out,
    int *maildir, struct buf *why)
{
	size_t len = strnlen(res, VIRTUAL_PATH_MAX + 1), blen, i, n;
	const char *cp;
	int parts = 0;

	buf_reset(out);
	*maildir = 0;
	if (*base && base[0] != '/') {
		buf_printf(why, "virtual_mailbox_base is not an absolute "
		    "path: %.100s", base);
		return -1;
	}
	if (len == 0) {
		buf_sets(why, "empty mailbox path in virtual_mailbox_maps");
		return -1;
	}
	if (len > VIRTUAL_PATH_MAX) {
		buf_printf(why, "mailbox path longer than %d bytes",
		    VIRTUAL_PATH_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)res[i] < 0x20 || res[i] == 0x7f) {
			buf_sets(why, "control character in mailbox path");
			return -1;
		}
	}
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	buf_put(out, base, blen);
	for (cp = res; *cp; cp += n) {
		cp += strspn(cp, "/");
		n = strcspn(cp, "/");
		if (n == 0 || (n == 1 && cp[0] == '.'))
			continue;
		if (n == 2 && cp[0] == '.' && cp[1] == '.') {
			buf_printf(why, "mailbox path \"%.200s\" contains a "
			    "\"..\" component", res);
			buf_reset(out);
			return -1;
		}
		buf_putc(out, '/');
		buf_put(out, cp, n);
		parts++;
	}
	if (parts == 0) {
		buf_printf(why, "mailbox path \"%.200s\" names "
		    "virtual_mailbox_base itself", res);
		buf_reset(out);
		return -1;
	}
	if (res[len - 1] == '/') {
		*maildir = 1;
		buf_putc(out, '/');
	}
	if (out->len > VIRTUAL_PATH_MAX) {
		buf_printf(why, "mailbox path longer than %d bytes",
		    VIRTUAL_PATH_MAX);
		buf_reset(out);
		return -1;
	}
	buf_str(out);
	return 0;
}

/* virtual_parse_id - a uid or gid: 1 to 10 digits, below (uid_t)-1 */
int
virtual_parse_id(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v >= 4294967295UL)
		return -1;
	*out = v;
	return 0;
}

/* virtual_parse_limit - a size in bytes: blanks, 1-18 digits, blanks */
int
virtual_parse_limit(const char *s, off_t *out)
{
	int64_t v = 0;
	size_t n = 0;

	s += strspn(s, " \t");
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++n > 18)
			return -1;
		v = v * 10 + (*s - '0');
	}
	s += strspn(s, " \t");
	if (n == 0 || *s != 0)
		return -1;
	*out = (off_t)v;
	return 0;
}

/* virtual_over_quota - would msg bytes make used exceed limit? */
int
virtual_over_quota(off_t used, off_t msg, off_t limit)
{
	if (limit <= 0)
		return 0;
	if (used < 0)
		used = 0;
	if (msg < 0)
		msg = 0;
	return used >= limit || msg > limit - used;
}

/*
 * virtual_copy_limit - the bound for the copy of one message into a
 * mailbox of used bytes (0: none; 1 when already full, so that the copy
 * fails at once)
 */
off_t
virtual_copy_limit(off_t used, off_t limit)
{
	if (limit <= 0)
		return 0;
	if (used < 0)
		used = 0;
	return used >= limit ? 1 : limit - used;
}

/*
 * virtual_maildir_usage - the bytes in dir's new/ and cur/ into *used.
 * A missing Maildir or subdirectory counts 0.  Returns 0, or -1 with a
 * reason when a directory cannot be read or holds more than max entries.
 */
int
virtual_maildir_usage(const char *dir, size_t max, off_t *used,
    struct buf *why)
{
	static const char *const sub[] = {"new", "cur"};
	struct buf path = BUF_INIT;
	struct dirent *de;
	struct stat st;
	off_t sum = 0;
	size_t i, n;
	DIR *d;
	int r = 0;
	size_t dlen = strlen(dir);

	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	for (i = 0; i < 2 && r == 0; i++) {
		buf_reset(&path);
		buf_printf(&path, "%.*s/%s", (int)dlen, dir, sub[i]);
		if ((d = opendir(path.p)) == NULL) {
			if (errno == ENOENT)
				continue;
			buf_printf(why, "cannot read maildir %s: %s", path.p,
			    strerror(errno));
			r = -1;
			break;
		}
		for (n = 0; (de = readdir(d)) != NULL; ) {
			if (de->d_name[0] == '.')
				continue;
			if (++n > max) {
				/* Not counted is not under quota: defer. */
				buf_printf(why, "maildir %s has more than %d "
				    "files; its size cannot be checked",
				    path.p, (int)max);
				r = -1;
				break;
			}
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (__builtin_add_overflow(sum, st.st_size, &sum))
				sum = (off_t)INT64_MAX;
		}
		closedir(d);
	}
	buf_free(&path);
	*used = sum;
	return r;
}
