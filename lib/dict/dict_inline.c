/*
 * NAME		dict_inline - a small table written in main.cf
 * DESCRIPTION	inline:{ key1=value1, { key2 = value with spaces }, ... }
 *		(Postfix 3.0 syntax).  The table is enclosed in braces;
 *		entries are separated by commas or white space; an entry
 *		that contains separators is itself enclosed in braces, and
 *		white space around its '=' is ignored.  Braces elsewhere in
 *		an entry group text and are kept.  As in Postfix, a later
 *		entry for the same key replaces an earlier one.  Keys are
 *		folded at open time when the table is opened with
 *		DICT_FLAG_FOLD_FIX.
 * DIAGNOSTICS	Syntax errors (unbalanced braces, a missing '=', an empty
 *		key or value, an empty table) make dict_open() fail.
 * SEE ALSO	doc/tables.md
 */
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"

struct dict_inline {
	struct dict dict;
	struct htable *table;		/* key -> char * value */
};

/* dict_inline_lookup - find a key in memory */
static int
dict_inline_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_inline *t = (struct dict_inline *)d;
	const char *v;

	(void)why;
	if ((v = htable_find(t->table, key)) == NULL)
		return DICT_NOTFOUND;
	buf_sets(value, v);
	return DICT_FOUND;
}

/* dict_inline_close - free the table */
static void
dict_inline_close(struct dict *d)
{
	struct dict_inline *t = (struct dict_inline *)d;

	htable_free(t->table, free);
	free(t);
}

/*
 * inline_token - next entry, or NULL at the end; braces group.  Sets
 * *bad on unbalanced braces.
 */
static char *
inline_token(char **cursor, int *bad)
{
	char *s = *cursor, *start;
	int depth = 0;

	s += strspn(s, SEPARATORS);
	if (*s == 0) {
		*cursor = s;
		return NULL;
	}
	start = s;
	for (; *s; s++) {
		if (*s == '{') {
			depth++;
		} else if (*s == '}') {
			if (depth-- == 0) {
				*bad = 1;
				depth = 0;
			}
		} else if (depth == 0 && strchr(SEPARATORS, *s) != NULL) {
			break;
		}
	}
	if (depth != 0)
		*bad = 1;
	if (*s)
		*s++ = 0;
	*cursor = s;
	return start;
}

/*
 * inline_unbrace - if s is "{ text }" with the braces matching, return
 * the trimmed text, else s itself.
 */
static char *
inline_unbrace(char *s)
{
	size_t len = strlen(s), i;
	int depth = 0;

	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return s;
	for (i = 0; i < len; i++) {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0 && i != len - 1)
			return s;
	}
	if (depth != 0)
		return s;
	s[len - 1] = 0;
	return str_trim(s + 1);
}

/* inline_parse - fill the table from the text inside the outer braces */
static int
inline_parse(struct dict_inline *t, char *text, int fold, const char *name,
    struct buf *why)
{
	char *cursor = text, *tok, *eq, *key, *val;
	void *old;
	struct hnode *h;
	size_t n = 0;
	int bad = 0;

	while ((tok = inline_token(&cursor, &bad)) != NULL) {
		if (bad) {
			buf_printf(why, "bad syntax: \"inline:%s\": unbalanced "
			    "'{' or '}'", name);
			return -1;
		}
		tok = inline_unbrace(tok);
		if ((eq = strchr(tok, '=')) == NULL) {
			buf_printf(why, "bad syntax: \"inline:%s\": missing "
			    "'=' in \"%s\"; need \"inline:{name=value...}\"",
			    name, tok);
			return -1;
		}
		*eq = 0;
		key = str_trim(tok);
		val = str_trim(eq + 1);
		if (*key == 0 || *val == 0) {
			buf_printf(why, "bad syntax: \"inline:%s\": empty %s; "
			    "need \"inline:{name=value...}\"", name,
			    *key == 0 ? "key" : "value");
			return -1;
		}
		if (strlen(key) > DICT_KEY_MAX ||
		    strlen(val) > DICT_VALUE_MAX) {
			buf_printf(why, "\"inline:%.40s...\": key or value is "
			    "too long", name);
			return -1;
		}
		if (fold)
			dict_fold(key, strlen(key));
		if ((h = htable_locate(t->table, key)) != NULL) {
			old = h->value;
			h->value = xstrdup(val);
			free(old);
		} else {
			htable_enter(t->table, key, xstrdup(val));
		}
		n++;
	}
	if (n == 0) {
		buf_printf(why, "bad syntax: \"inline:%s\": empty table; need "
		    "\"inline:{name=value...}\"", name);
		return -1;
	}
	return 0;
}

/* dict_inline_open - parse inline:{...} into memory */
struct dict *
dict_inline_open(const char *name, int flags, struct buf *why)
{
	struct dict_inline *t;
	char *copy, *body;
	size_t len;

	copy = xstrdup(name);
	len = strlen(copy);
	body = inline_unbrace(copy);
	if (len < 2 || copy[0] != '{' || body == copy) {
		buf_printf(why, "bad syntax: \"inline:%s\"; need "
		    "\"inline:{name=value...}\"", name);
		free(copy);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->table = htable_create(13);
	if (inline_parse(t, body, dict_fold_wanted(flags), name, why) < 0) {
		htable_free(t->table, free);
		free(t);
		free(copy);
		return NULL;
	}
	free(copy);
	t->dict.flags = flags;
	t->dict.lookup = dict_inline_lookup;
	t->dict.close = dict_inline_close;
	return &t->dict;
}
