/*
 * NAME		dict_fail - tables whose every lookup fails
 * DESCRIPTION	fail:name is Postfix's table that always reports a
 *		temporary error; the name only appears in the reason.
 *		dict_surrogate() makes the same kind of table to stand in
 *		for one that could not be opened: its lookups fail with the
 *		reason the open failed, so that callers defer instead of
 *		treating the key as unknown.
 * SEE ALSO	doc/tables.md
 */
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"

struct dict_fail {
	struct dict dict;
	char	*reason;
	char	*type;			/* surrogate's type */
};

/* dict_fail_lookup - fail with the stored reason */
static int
dict_fail_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_fail *f = (struct dict_fail *)d;

	(void)key;
	(void)value;
	buf_sets(why, f->reason);
	return DICT_ERROR;
}

/* dict_fail_close - free the table */
static void
dict_fail_close(struct dict *d)
{
	struct dict_fail *f = (struct dict_fail *)d;

	free(f->reason);
	free(f->type);
	free(f);
}

/* dict_fail_new - a table that fails with the given reason */
static struct dict_fail *
dict_fail_new(const char *reason, int flags)
{
	struct dict_fail *f = xcalloc(1, sizeof(*f));

	f->reason = xstrdup(reason);
	f->dict.flags = flags | DICT_FLAG_ANYKEY;
	f->dict.lookup = dict_fail_lookup;
	f->dict.close = dict_fail_close;
	return f;
}

/* dict_fail_open - open fail:name */
struct dict *
dict_fail_open(const char *name, int flags, struct buf *why)
{
	(void)why;
	(void)name;
	return &dict_fail_new("table lookup failed (fail: table)",
	    flags)->dict;
}

/*
 * dict_surrogate - a table that stands in for "type:name" (the spec as
 * written) and fails every lookup with the reason.  Close it with
 * dict_close().
 */
struct dict *
dict_surrogate(const char *spec, int flags, const char *reason)
{
	struct dict_fail *f = dict_fail_new(reason, flags);
	const char *colon = strchr(spec, ':');

	if (colon != NULL) {
		f->type = xstrndup(spec, (size_t)(colon - spec));
		f->dict.name = xstrdup(colon + 1);
	} else {
		f->type = xstrdup("unknown");
		f->dict.name = xstrdup(spec);
	}
	f->dict.type = f->type;
	return &f->dict;
}
