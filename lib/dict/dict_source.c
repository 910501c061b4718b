/*
 * NAME		dict_source - parse postmap(1) and aliases(5) source files
 * DESCRIPTION	The text is scanned once.  Physical lines are joined into a
 *		logical line in a scratch buffer: the newline of a line
 *		that is continued is dropped and the white space that starts
 *		the continuation line is kept, as Postfix does ("a" followed
 *		by "<TAB>b" gives "a<TAB>b").  A trailing CR of a physical
 *		line is dropped, so that files edited on other systems read
 *		as intended.  Comment lines and blank lines neither end nor
 *		continue an entry.
 *
 *		Key and value are cut out of the logical line in place and
 *		handed to the caller's function, which copies what it keeps.
 * SECURITY	Source files come from the administrator, but may be
 *		produced by scripts from untrusted data: every length is
 *		bounded, NUL bytes are refused, and every error names the
 *		file and line.  Nothing here allocates more than a bounded
 *		logical line (plus the caller's input buffer).
 * DIAGNOSTICS	Errors are returned in why as "file, line N: text".
 * SEE ALSO	postmap(1), postalias(1), doc/tables.md
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict_source.h"

struct src_state {
	int	 format;
	int	 flags;
	const char *fname;
	struct buf scratch;		/* normalised alias value */
	dict_src_fn fn;
	void	*ctx;
};

#define IS_SPACE(c)	isspace((unsigned char)(c))

/* src_fold - fold ASCII upper case to lower case in place */
static void
src_fold(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/* src_check_lengths - refuse over-long keys and values */
static int
src_check_lengths(const struct src_state *st, unsigned long line,
    size_t klen, size_t vlen, struct buf *why)
{
	if (klen > DICT_KEY_MAX) {
		buf_printf(why, "%s, line %lu: key is too long (%zu bytes, "
		    "limit %d)", st->fname, line, klen, DICT_KEY_MAX);
		return -1;
	}
	if (vlen > DICT_VALUE_MAX) {
		buf_printf(why, "%s, line %lu: value is too long (%zu bytes, "
		    "limit %d)", st->fname, line, vlen, DICT_VALUE_MAX);
		return -1;
	}
	return 0;
}

/*
 * src_postmap_entry - split "key whitespace value".  The line starts
 * with a non-space byte and has no NUL in it.
 */
static int
src_postmap_entry(struct src_state *st, unsigned long line, char *p,
    size_t len, struct buf *why)
{
	struct dict_src_ent ent;
	char *end = p + len, *q;
	int inq = 0;

	while (end > p && IS_SPACE(end[-1]))
		end--;
	for (q = p; q < end; q++) {
		if (inq) {
			if (*q == '\\' && q + 1 < end)
				q++;
			else if (*q == '"')
				inq = 0;
		} else if (*q == '"') {
			inq = 1;
		} else if (IS_SPACE(*q)) {
			break;
		}
	}
	if (inq) {
		buf_printf(why, "%s, line %lu: unbalanced '\"' in key",
		    st->fname, line);
		return -1;
	}
	ent.key = p;
	ent.klen = (size_t)(q - p);
	while (q < end && IS_SPACE(*q))
		q++;
	if (q == end) {
		buf_printf(why, "%s, line %lu: expected format: key "
		    "whitespace value", st->fname, line);
		return -1;
	}
	ent.value = q;
	ent.vlen = (size_t)(end - q);
	if (src_check_lengths(st, line, ent.klen, ent.vlen, why) < 0)
		return -1;
	/* The key is followed by white space and the value by nothing. */
	ent.key[ent.klen] = 0;
	*end = 0;
	if (st->flags & DICT_SRC_FOLD)
		src_fold(ent.key, ent.klen);
	ent.fname = st->fname;
	ent.line = line;
	return st->fn(&ent, st->ctx, why);
}

/*
 * src_unquote - remove double quotes from an alias name in place,
 * honouring backslash escapes inside them; returns the new length.
 */
static size_t
src_unquote(char *s, size_t len)
{
	size_t i, o = 0;
	int inq = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '"') {
			inq = !inq;
			continue;
		}
		if (inq && s[i] == '\\' && i + 1 < len)
			i++;
		s[o++] = s[i];
	}
	s[o] = 0;
	return o;
}

/*
 * src_alias_value - normalise an alias value list: elements are split
 * at commas outside quotes and comments, trimmed, and joined with ", ";
 * inside an element, runs of white space outside quotes and comments
 * become one space.  Empty elements are dropped.
 */
static void
src_alias_value(const char *s, size_t len, struct buf *out)
{
	size_t i;
	int inq = 0, depth = 0, content = 0, space = 0;

	buf_reset(out);
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (inq || depth) {
			buf_putc(out, c);
			if (c == '\\' && i + 1 < len) {
				buf_putc(out, s[++i]);
			} else if (inq && c == '"') {
				inq = 0;
			} else if (depth && c == '(') {
				depth++;
			} else if (depth && c == ')') {
				depth--;
			}
			continue;
		}
		if (c == ',') {
			content = space = 0;
			continue;
		}
		if (IS_SPACE(c)) {
			space = content;
			continue;
		}
		if (!content && out->len > 0)
			buf_put(out, ", ", 2);
		else if (space)
			buf_putc(out, ' ');
		content = 1;
		space = 0;
		buf_putc(out, c);
		if (c == '"')
			inq = 1;
		else if (c == '(')
			depth = 1;
		else if (c == '\\' && i + 1 < len)
			buf_putc(out, s[++i]);
	}
}

/* src_alias_entry - split "name: value, value" */
static int
src_alias_entry(struct src_state *st, unsigned long line, char *p,
    size_t len, struct buf *why)
{
	struct dict_src_ent ent;
	char *end = p + len, *q, *name_end;
	int inq = 0;

	for (q = p; q < end; q++) {
		if (inq) {
			if (*q == '\\' && q + 1 < end)
				q++;
			else if (*q == '"')
				inq = 0;
		} else if (*q == '"') {
			inq = 1;
		} else if (*q == ':') {
			break;
		}
	}
	if (q == end) {
		buf_printf(why, "%s, line %lu: %s", st->fname, line, inq ?
		    "unbalanced '\"' in alias name" : "need name:value pair");
		return -1;
	}
	name_end = q;
	while (name_end > p && IS_SPACE(name_end[-1]))
		name_end--;
	ent.key = p;
	ent.klen = src_unquote(p, (size_t)(name_end - p));
	if (ent.klen == 0 || memchr(ent.key, 0, ent.klen) != NULL) {
		buf_printf(why, "%s, line %lu: need name:value pair",
		    st->fname, line);
		return -1;
	}
	q++;
	if ((size_t)(end - q) > DICT_LINE_MAX) {
		buf_printf(why, "%s, line %lu: entry is too long", st->fname,
		    line);
		return -1;
	}
	src_alias_value(q, (size_t)(end - q), &st->scratch);
	if (st->scratch.len == 0) {
		buf_printf(why, "%s, line %lu: need name:value pair",
		    st->fname, line);
		return -1;
	}
	ent.value = st->scratch.p;
	ent.vlen = st->scratch.len;
	if (src_check_lengths(st, line, ent.klen, ent.vlen, why) < 0)
		return -1;
	if (st->flags & DICT_SRC_FOLD)
		src_fold(ent.key, ent.klen);
	ent.fname = st->fname;
	ent.line = line;
	return st->fn(&ent, st->ctx, why);
}

/*
 * dict_source_lines - split text into logical lines and call fn for each
 * (writable, NUL-terminated, valid during the call) with the number of
 * its first line: a line that starts with white space
 * continues the previous one; blank lines and "#" comment lines are
 * skipped, also inside a logical line; CR before LF is dropped.  A NUL
 * byte, a continuation with nothing to continue and a logical line longer
 * than max bytes are errors.  Returns 0, or -1 with a reason.
 */
int
dict_source_lines(const char *fname, const char *text, size_t len,
    size_t max, dict_line_fn fn, void *ctx, struct buf *why)
{
	struct buf logical = BUF_INIT;
	unsigned long lineno = 0, start = 0;
	size_t pos = 0;
	int r = 0;

	while (pos < len) {
		const char *lp = text + pos;
		const char *nl = memchr(lp, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - lp) : len - pos, i;

		pos += llen + (nl != NULL);
		lineno++;
		if (llen > 0 && lp[llen - 1] == '\r')
			llen--;
		if (memchr(lp, 0, llen) != NULL) {
			buf_printf(why, "%s, line %lu: NUL byte in input",
			    fname, lineno);
			r = -1;
			break;
		}
		for (i = 0; i < llen && IS_SPACE(lp[i]); i++)
			;
		if (i == llen || lp[i] == '#')
			continue;
		if (i > 0) {
			if (start == 0) {
				buf_printf(why, "%s, line %lu: continuation "
				    "line without an entry to continue",
				    fname, lineno);
				r = -1;
				break;
			}
		} else {
			if (start != 0 && (r = fn(ctx, start, logical.p,
			    logical.len, why)) < 0)
				break;
			buf_reset(&logical);
			start = lineno;
		}
		if (llen > max - logical.len) {
			buf_printf(why, "%s, line %lu: entry is too long "
			    "(limit %zu bytes)", fname, start, max);
			r = -1;
			break;
		}
		buf_put(&logical, lp, llen);
	}
	if (r == 0 && start != 0)
		r = fn(ctx, start, logical.p, logical.len, why);
	buf_free(&logical);
	return r;
}

/* src_entry - hand one logical line to the format's splitter */
static int
src_entry(void *ctx, unsigned long line, char *p, size_t len,
    struct buf *why)
{
	struct src_state *st = ctx;

	if (st->format == DICT_SRC_ALIASES)
		return src_alias_entry(st, line, p, len, why);
	return src_postmap_entry(st, line, p, len, why);
}

/*
 * dict_source_parse - parse source text in the given format; fname is
 * used in messages.  Returns 0, or -1 with a reason (parse errors and
 * errors returned by fn).
 */
int
dict_source_parse(int format, int flags, const char *fname, const char *text,
    size_t len, dict_src_fn fn, void *ctx, struct buf *why)
{
	struct src_state st;
	int r;

	st.format = format;
	st.flags = flags;
	st.fname = fname;
	st.fn = fn;
	st.ctx = ctx;
	buf_init(&st.scratch);
	buf_reset(why);
	r = dict_source_lines(fname, text, len, DICT_LINE_MAX, src_entry, &st,
	    why);
	buf_free(&st.scratch);
	return r;
}

/* source_read_max - read a whole stream of at most max bytes */
static int
source_read_max(int fd, const char *label, size_t max, struct buf *text,
    struct buf *why)
{
	struct stat st;

	/* Size the buffer once for a regular file: no copying as it grows. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size < max) {
		buf_reset(text);
		buf_reserve(text, (size_t)st.st_size + 8192);
	}
	if (read_fd_all(fd, text, max) < 0) {
		buf_reset(why);
		if (errno == EFBIG)
			buf_printf(why, "%s: file is too large (limit %zu "
			    "bytes)", label, max);
		else
			buf_printf(why, "read %s: %s", label, strerror(errno));
		return -1;
	}
	if (text->p == NULL)
		buf_sets(text, "");
	return 0;
}

/* dict_source_read_fd - read a whole source stream; label for messages */
int
dict_source_read_fd(int fd, const char *label, struct buf *text,
    struct buf *why)
{
	return source_read_max(fd, label, DICT_SOURCE_MAX, text, why);
}

/*
 * dict_srcfile_open - open and read a table's file (at most max bytes)
 * into text, keeping it open so that dict_srcfile_changed() can tell
 * when it is rewritten or replaced.  0, or -1 with a reason (the watch
 * is then closed).
 */
int
dict_srcfile_open(struct dict_srcfile *f, const char *path, size_t max,
    struct buf *text, struct buf *why)
{
	f->path = xstrdup(path);
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		dict_srcfile_close(f);
		return -1;
	}
	if (fstat(f->fd, &f->st) < 0) {
		buf_printf(why, "fstat %s: %s", path, strerror(errno));
		dict_srcfile_close(f);
		return -1;
	}
	if (source_read_max(f->fd, path, max, text, why) < 0) {
		dict_srcfile_close(f);
		return -1;
	}
	return 0;
}

/* dict_srcfile_changed - was the file rewritten, removed or replaced? */
int
dict_srcfile_changed(const struct dict_srcfile *f)
{
	struct stat st;

	if (f->fd < 0 || fstat(f->fd, &st) < 0 || st.st_nlink == 0 ||
	    st.st_size != f->st.st_size ||
	    st.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec)
		return 1;
	if (stat(f->path, &st) == 0 && (st.st_ino != f->st.st_ino ||
	    st.st_dev != f->st.st_dev))
		return 1;
	return 0;
}

/* dict_srcfile_close - stop watching */
void
dict_srcfile_close(struct dict_srcfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->path);
	f->path = NULL;
}

/* dict_source_read - read a whole source file */
int
dict_source_read(const char *path, struct buf *text, struct buf *why)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		buf_reset(why);
		buf_printf(why, "open %s: %s", path, strerror(errno));
		return -1;
	}
	r = dict_source_read_fd(fd, path, text, why);
	close(fd);
	return r;
}
