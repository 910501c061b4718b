/*
 * NAME		dict_texthash - a postmap(1) source file read into memory
 * DESCRIPTION	texthash:/file reads the file at open time in postmap(1)
 *		format and answers lookups from memory, so that it works
 *		without postmap and after chroot.  Duplicate keys: the first
 *		entry wins and a warning names the file and line, as with
 *		postmap.  Keys are folded at open time when the table is
 *		opened with DICT_FLAG_FOLD_FIX.
 *
 *		The file stays open so that dict_changed() notices when it
 *		is replaced (its link count drops to zero, or the path names
 *		another file) or rewritten in place (size or time stamp).
 * DIAGNOSTICS	A syntax error anywhere in the file makes dict_open() fail
 *		with the file name and line number.
 * SEE ALSO	doc/tables.md, dict_source(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_source.h"

struct dict_texthash {
	struct dict dict;
	struct htable *table;		/* key -> char * value */
	struct dict_srcfile file;
};

/* dict_texthash_lookup - find a key in memory */
static int
dict_texthash_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_texthash *t = (struct dict_texthash *)d;
	const char *v;

	(void)why;
	if ((v = htable_find(t->table, key)) == NULL)
		return DICT_NOTFOUND;
	buf_sets(value, v);
	return DICT_FOUND;
}

/* dict_texthash_changed - was the file replaced or rewritten? */
static int
dict_texthash_changed(struct dict *d)
{
	return dict_srcfile_changed(&((struct dict_texthash *)d)->file);
}

/* dict_texthash_close - free the table */
static void
dict_texthash_close(struct dict *d)
{
	struct dict_texthash *t = (struct dict_texthash *)d;

	htable_free(t->table, free);
	dict_srcfile_close(&t->file);
	free(t);
}

/* texthash_add - keep the first entry for each key */
static int
texthash_add(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	struct dict_texthash *t = ctx;

	(void)why;
	if (htable_locate(t->table, e->key) != NULL) {
		log_warn("%s, line %lu: duplicate entry: \"%s\"", e->fname,
		    e->line, e->key);
		return 0;
	}
	htable_enter(t->table, e->key, xmemdup(e->value, e->vlen + 1));
	return 0;
}

/* dict_texthash_open - read the file into memory */
struct dict *
dict_texthash_open(const char *name, int flags, struct buf *why)
{
	struct dict_texthash *t;
	struct buf text = BUF_INIT;

	t = xcalloc(1, sizeof(*t));
	t->table = htable_create(64);
	if (dict_srcfile_open(&t->file, name, DICT_SOURCE_MAX, &text,
	    why) < 0)
		goto bad;
	if (dict_source_parse(DICT_SRC_POSTMAP, dict_fold_wanted(flags) ?
	    DICT_SRC_FOLD : 0, name, text.p, text.len, texthash_add, t,
	    why) < 0)
		goto bad;
	buf_free(&text);
	t->dict.flags = flags;
	t->dict.lookup = dict_texthash_lookup;
	t->dict.changed = dict_texthash_changed;
	t->dict.close = dict_texthash_close;
	return &t->dict;
bad:
	buf_free(&text);
	dict_texthash_close(&t->dict);
	return NULL;
}
