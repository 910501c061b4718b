/*
 * NAME		dict_source - parse postmap(1) and aliases(5) source files
 * DESCRIPTION	dict_source_parse() splits source text into logical lines
 *		(a line that starts with white space continues the previous
 *		one; "#" comment lines and blank lines are skipped, also in
 *		the middle of an entry) and each logical line into a key and
 *		a value, then calls fn once per entry, in file order.  It
 *		does not look for duplicate keys: that is the caller's job.
 *
 *		DICT_SRC_POSTMAP: "key whitespace value".  The key ends at
 *		the first white space that is not inside "double quotes";
 *		quotes stay part of the key, as in Postfix.
 *
 *		DICT_SRC_ALIASES: "name: value, value, ...".  The name ends
 *		at the first ':' outside quotes and is unquoted; the value
 *		list is normalised to "a, b, c" with runs of white space
 *		outside quotes and comments squeezed to one space.
 *
 *		Errors name the file and the line: a NUL byte, a line
 *		without a value, an unbalanced quote, a key longer than
 *		DICT_KEY_MAX or a value longer than DICT_VALUE_MAX bytes.
 */
#ifndef DICT_DICT_SOURCE_H
#define DICT_DICT_SOURCE_H

#include <stddef.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "dict.h"

#define DICT_SRC_POSTMAP	0	/* key whitespace value */
#define DICT_SRC_ALIASES	1	/* name: value, value */

#define DICT_SRC_FOLD		(1 << 0)	/* fold keys */

/* Longest logical line: a key, a value and the white space between. */
#define DICT_LINE_MAX	(DICT_KEY_MAX + DICT_VALUE_MAX + 8192)

/* Largest source file read into memory (4 GiB, less on 32-bit). */
#define DICT_SOURCE_MAX \
	((size_t)-1 / 2 < 0xffffffffUL ? (size_t)-1 / 2 : (size_t)0xffffffffUL)

struct dict_src_ent {
	const char *fname;		/* for messages */
	unsigned long line;		/* first line of the entry */
	char	*key;			/* NUL-terminated */
	size_t	 klen;
	char	*value;			/* NUL-terminated */
	size_t	 vlen;
};

/*
 * Called once per entry; key and value are valid during the call only.
 * Return 0 to go on, -1 to stop (with a reason in the buffer).
 */
typedef int (*dict_src_fn)(const struct dict_src_ent *, void *,
	    struct buf *);

/* Called once per logical line (first line number, text, length). */
typedef int (*dict_line_fn)(void *, unsigned long, char *, size_t,
	    struct buf *);

int	 dict_source_lines(const char *, const char *, size_t, size_t,
	    dict_line_fn, void *, struct buf *);
int	 dict_source_parse(int, int, const char *, const char *, size_t,
	    dict_src_fn, void *, struct buf *);
int	 dict_source_read(const char *, struct buf *, struct buf *);

/* A table's source file, read at open and watched for changes. */
struct dict_srcfile {
	int	 fd;
	char	*path;
	struct stat st;			/* when read */
};

int	 dict_srcfile_open(struct dict_srcfile *, const char *, size_t,
	    struct buf *, struct buf *);
int	 dict_srcfile_changed(const struct dict_srcfile *);
void	 dict_srcfile_close(struct dict_srcfile *);
int	 dict_source_read_fd(int, const char *, struct buf *, struct buf *);

#endif
