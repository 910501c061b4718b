/*
 * NAME		dict - lookup tables: open by "type:name", look up, maps
 * DESCRIPTION	dict_open() finds the backend for a type in a registry
 *		table and asks it to open the named table.  Backends open
 *		everything (files, maps) at open time, so that lookups keep
 *		working after the process enters its chroot jail.  Types:
 *		hash, lmdb, texthash, inline, static, fail, unix, regexp,
 *		pcre, cidr (the last three share the rule-file layer
 *		dict_rules), socketmap, ldap and mysql (on dict_query;
 *		the connection is made at the first lookup), proxy
 *		(dict_proxy: lookups go to proxymap(8)).
 *
 *		dict_lookup() bounds the key to DICT_KEY_MAX bytes (a longer
 *		key cannot be in any table and is "not found") and folds it
 *		to lower case when the table was opened with
 *		DICT_FLAG_FOLD_FIX (and not DICT_FLAG_NO_FOLD) unless the
 *		backend matches by pattern (DICT_FLAG_PATTERN) or leaves
 *		folding to the server behind it (DICT_FLAG_FOLD_FAR), then
 *		calls the backend.  An error reason starts with the table's
 *		type:name.
 *
 *		maps_open() opens an ordered list of tables from a main.cf
 *		value such as "hash:/etc/postern/virtual, inline:{ a=b }":
 *		tables are separated by commas or white space, and braces
 *		group text that contains separators.  A table that cannot be
 *		opened does not stop the process: a warning is logged once
 *		and a surrogate takes its place, whose lookups fail with the
 *		reason, so that a lookup that reaches it is a temporary
 *		failure, never "not found".  maps_find() returns the first
 *		DICT_FOUND; an error stops the search (as in Postfix: a later
 *		table must not answer for an earlier one that failed).
 * DIAGNOSTICS	maps_open() logs a warning for each table that cannot be
 *		opened.
 * SEE ALSO	doc/tables.md, dict_impl.h
 */
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"

static int maps_find_flags(struct maps *, const char *, int, struct buf *,
    struct buf *);

struct dict_type {
	const char *type;
	struct dict *(*open)(const char *, int, struct buf *);
};

static const struct dict_type dict_types[] = {
	{ "hash", dict_hash_open },
	{ "lmdb", dict_lmdb_open },
	{ "texthash", dict_texthash_open },
	{ "inline", dict_inline_open },
	{ "static", dict_static_open },
	{ "fail", dict_fail_open },
	{ "unix", dict_unix_open },
	{ "regexp", dict_regexp_open },
	{ "pcre", dict_pcre_open },
	{ "cidr", dict_cidr_open },
	{ "socketmap", dict_socketmap_open },
	{ "ldap", dict_ldap_open },
	{ "proxy", dict_proxy_open },
	{ "mysql", dict_mysql_open },
	{ NULL, NULL },
};

struct maps {
	char	*title;
	struct dict **v;
	size_t	 n;
	int	 flags;
};

/* dict_find_type - registry row for a type name, or NULL */
static const struct dict_type *
dict_find_type(const char *type, size_t len)
{
	const struct dict_type *t;

	for (t = dict_types; t->type; t++)
		if (strlen(t->type) == len && memcmp(t->type, type, len) == 0)
			return t;
	return NULL;
}

/* dict_type_known - is there a backend for this type name? */
int
dict_type_known(const char *type)
{
	return dict_find_type(type, strlen(type)) != NULL;
}

/* dict_fold_wanted - do these open flags ask for folded keys? */
int
dict_fold_wanted(int flags)
{
	return (flags & DICT_FLAG_FOLD_FIX) && !(flags & DICT_FLAG_NO_FOLD);
}

/* dict_fold - fold ASCII upper case to lower case in place */
void
dict_fold(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/*
 * dict_open - open the table "type:name"; NULL with a reason when the
 * name is malformed, the type unknown or the table cannot be opened.
 * The caller frees the table with dict_close().
 */
struct dict *
dict_open(const char *spec, int flags, struct buf *why)
{
	const struct dict_type *t;
	const char *colon;
	struct dict *d;

	buf_reset(why);
	if (spec == NULL || (colon = strchr(spec, ':')) == NULL ||
	    colon == spec) {
		buf_printf(why, "table \"%s\": need type:name",
		    spec ? spec : "");
		return NULL;
	}
	if (colon[1] == 0) {
		buf_printf(why, "table \"%s\": need type:name", spec);
		return NULL;
	}
	if ((t = dict_find_type(spec, (size_t)(colon - spec))) == NULL) {
		buf_printf(why, "unsupported dictionary type: %.*s",
		    (int)(colon - spec), spec);
		return NULL;
	}
	if ((d = t->open(colon + 1, flags, why)) == NULL) {
		if (why->len == 0)
			buf_printf(why, "%s: cannot open table", spec);
		return NULL;
	}
	d->type = t->type;
	d->name = xstrdup(colon + 1);
	d->flags |= flags;
	return d;
}

/*
 * dict_lookup - look up a key: DICT_FOUND with the value, DICT_NOTFOUND,
 * or DICT_ERROR with a reason.  why may be NULL.
 */
int
dict_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	char folded[DICT_KEY_MAX + 1];
	struct buf tmp = BUF_INIT, err = BUF_INIT;
	size_t klen;
	int r;

	if (key == NULL)
		return DICT_NOTFOUND;
	if (!(d->flags & DICT_FLAG_ANYKEY)) {
		klen = strnlen(key, DICT_KEY_MAX + 1);
		if (klen > DICT_KEY_MAX)
			return DICT_NOTFOUND;
		if (dict_fold_wanted(d->flags) &&
		    !(d->flags & (DICT_FLAG_PATTERN | DICT_FLAG_FOLD_FAR))) {
			memcpy(folded, key, klen);
			folded[klen] = 0;
			dict_fold(folded, klen);
			key = folded;
		}
	}
	r = d->lookup(d, key, value, &err);
	if (r == DICT_ERROR) {
		buf_printf(&tmp, "%s:%s: %s", d->type, d->name,
		    err.len ? err.p : "lookup error");
		if (why) {
			buf_reset(why);
			buf_put(why, tmp.p, tmp.len);
		}
	}
	buf_free(&tmp);
	buf_free(&err);
	return r;
}

/* dict_changed - has the table changed on disk since it was opened? */
int
dict_changed(struct dict *d)
{
	return d->changed ? d->changed(d) : 0;
}

/* dict_close - close a table and free it */
void
dict_close(struct dict *d)
{
	char *name;

	if (d == NULL)
		return;
	name = d->name;
	d->close(d);
	free(name);
}

/*
 * maps_token - next table of a maps list (cut in place), or NULL at the
 * end.  A table extends to the next separator outside braces; *bad is
 * set when the braces are unbalanced.  proxymap(8) splits
 * proxy_read_maps with it too.
 */
char *
maps_token(char **cursor, int *bad)
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
			if (depth == 0)
				*bad = 1;
			else
				depth--;
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

/* maps_add - append a table */
static void
maps_add(struct maps *m, struct dict *d)
{
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = d;
}

/*
 * maps_open - open the tables of a list; never fails (see above).  The
 * title (usually the parameter name) appears in warnings.  Free the
 * result with maps_free().
 */
struct maps *
maps_open(const char *title, const char *list, int flags)
{
	struct maps *m = xcalloc(1, sizeof(*m));
	struct buf why = BUF_INIT, reason = BUF_INIT;
	char *copy, *cursor, *tok;
	struct dict *d;
	int bad = 0;

	m->title = xstrdup(title ? title : "");
	m->flags = flags;
	copy = cursor = xstrdup(list ? list : "");
	while ((tok = maps_token(&cursor, &bad)) != NULL) {
		if (bad) {
			buf_reset(&reason);
			buf_printf(&reason, "table is unavailable: unbalanced "
			    "'{' or '}' in \"%s\"", tok);
			/* The rest of the list cannot be split reliably. */
			cursor += strlen(cursor);
		} else if ((d = dict_open(tok, flags, &why)) != NULL) {
			maps_add(m, d);
			continue;
		} else {
			buf_reset(&reason);
			buf_printf(&reason, "table is unavailable: %s",
			    buf_str(&why));
		}
		log_warn("%s: %s: %s", m->title, tok, buf_str(&reason));
		maps_add(m, dict_surrogate(tok, flags, buf_str(&reason)));
	}
	free(copy);
	buf_free(&why);
	buf_free(&reason);
	return m;
}

/*
 * maps_find - look up a key in each table in order: the first
 * DICT_FOUND wins; DICT_ERROR stops the search.  why may be NULL.
 */
int
maps_find(struct maps *m, const char *key, struct buf *value,
    struct buf *why)
{
	return maps_find_flags(m, key, 0, value, why);
}

/*
 * maps_find_partial - maps_find() for a partial key (an address without
 * its extension, a bare user, "@domain"): tables that answer for whole
 * keys only (DICT_FLAG_PATTERN: regexp:, pcre:, cidr:, socketmap:) are
 * not asked, as in Postfix.
 */
int
maps_find_partial(struct maps *m, const char *key, struct buf *value,
    struct buf *why)
{
	return maps_find_flags(m, key, DICT_FLAG_PATTERN, value, why);
}

/* maps_find_flags - maps_find(), skipping tables with any of skip */
static int
maps_find_flags(struct maps *m, const char *key, int skip,
    struct buf *value, struct buf *why)
{
	size_t i;
	int r;

	for (i = 0; i < m->n; i++) {
		if (m->v[i]->flags & skip)
			continue;
		r = dict_lookup(m->v[i], key, value, why);
		if (r != DICT_NOTFOUND)
			return r;
	}
	return DICT_NOTFOUND;
}

/* maps_changed - has any table changed on disk? */
int
maps_changed(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (dict_changed(m->v[i]))
			return 1;
	return 0;
}

/* maps_empty - does the list name no table at all? */
int
maps_empty(const struct maps *m)
{
	return m->n == 0;
}

/* maps_title - the title given to maps_open() */
const char *
maps_title(const struct maps *m)
{
	return m->title;
}

/* maps_free - close every table */
void
maps_free(struct maps *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		dict_close(m->v[i]);
	free(m->v);
	free(m->title);
	free(m);
}
