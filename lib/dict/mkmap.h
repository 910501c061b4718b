/*
 * NAME		mkmap - write hash: and lmdb: tables
 * DESCRIPTION	A struct mkmap collects entries in memory (from a source
 *		file, from standard input, from the existing table for an
 *		incremental change), then mkmap_write() sorts them, settles
 *		duplicates, drops deleted keys and writes a new LMDB file in
 *		one transaction with MDB_APPEND under a temporary name in the
 *		same directory.  The file is synced, given its owner and
 *		mode, and renamed over the table: a reader sees the old or
 *		the new table, never a mix.
 *
 *		Duplicates: the first entry wins and a warning names the
 *		file and line of the later one ("file, line N: duplicate
 *		entry: "key""), or the table file for entries without a line
 *		number.  MKMAP_DUP_REPLACE makes the last entry win, quietly;
 *		MKMAP_DUP_QUIET keeps the first, quietly.
 * SEE ALSO	dict_lmdb.h (format), postmap(1), postalias(1)
 */
#ifndef DICT_MKMAP_H
#define DICT_MKMAP_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

#define MKMAP_NUL		(1 << 0)	/* -N: store NULs */
#define MKMAP_NONUL		(1 << 1)	/* -n: store none */
#define MKMAP_DUP_REPLACE	(1 << 2)	/* -r: last one wins */
#define MKMAP_DUP_QUIET		(1 << 3)	/* -w: no warnings */

struct mkmap_owner {
	mode_t	 mode;			/* of the new file */
	uid_t	 uid;			/* (uid_t)-1: leave */
	gid_t	 gid;			/* (gid_t)-1: leave */
};

struct mkmap;

struct mkmap *mkmap_new(int);
void	 mkmap_add(struct mkmap *, const char *, size_t, const char *, size_t,
	    unsigned long);
int	 mkmap_load(struct mkmap *, const char *, const char *, const char *,
	    struct buf *);
void	 mkmap_delete(struct mkmap *, const char *, size_t);
size_t	 mkmap_count(const struct mkmap *);
int	 mkmap_settle(struct mkmap *, const char *, const char *, size_t *,
	    struct buf *);
int	 mkmap_write(struct mkmap *, const char *, const char *,
	    const struct mkmap_owner *, size_t *, struct buf *);
void	 mkmap_free(struct mkmap *);
void	 mkmap_cleanup(void);

#endif
