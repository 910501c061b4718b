/*
 * NAME		dict_static - the table that finds every key
 * DESCRIPTION	static:value answers every lookup with value.  Since
 *		Postfix 3.0 a value with white space or commas is written
 *		static:{ text with spaces }: the braces are removed and the
 *		text inside trimmed.  Unbalanced braces are an error.
 * SEE ALSO	doc/tables.md
 */
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"

struct dict_static {
	struct dict dict;
	char	*value;
};

/* dict_static_lookup - always found */
static int
dict_static_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_static *s = (struct dict_static *)d;

	(void)key;
	(void)why;
	buf_sets(value, s->value);
	return DICT_FOUND;
}

/* dict_static_close - free the table */
static void
dict_static_close(struct dict *d)
{
	struct dict_static *s = (struct dict_static *)d;

	free(s->value);
	free(s);
}

/* dict_static_open - open static:value or static:{ value } */
struct dict *
dict_static_open(const char *name, int flags, struct buf *why)
{
	struct dict_static *s;
	char *copy, *cursor, *value, err[64];
	size_t len = strlen(name);

	if (len > DICT_VALUE_MAX) {
		buf_printf(why, "static:%.40s...: value is too long", name);
		return NULL;
	}
	copy = xstrdup(name);
	if (*name == '{') {
		err[0] = 0;
		cursor = copy;
		value = str_token_braced(&cursor, "", err, sizeof(err));
		if (value != NULL)
			cursor += strspn(cursor, SEPARATORS);
		if (value == NULL || *cursor != 0) {
			buf_printf(why, "static:%s: bad syntax: %s; need "
			    "\"static:{text}\"", name,
			    err[0] ? err : "text after '}'");
			free(copy);
			return NULL;
		}
		memmove(copy, value, strlen(value) + 1);
	}
	s = xcalloc(1, sizeof(*s));
	s->value = copy;
	s->dict.flags = flags | DICT_FLAG_ANYKEY;
	s->dict.lookup = dict_static_lookup;
	s->dict.close = dict_static_close;
	return &s->dict;
}
