/*
 * NAME		dict_proxy - tables read through proxymap(8)
 * DESCRIPTION	proxy:type:name sends each lookup to the proxymap daemon,
 *		which opens type:name once for every process that asks (a
 *		chrooted process so reads tables outside its jail, and many
 *		processes share one server connection).  Opening checks only
 *		the name; the daemon is asked at the first lookup, and
 *		whether proxy_read_maps allows the table shows then.
 *
 *		Keys are bounded here but not folded: the request carries
 *		the table's folding flags, and the daemon folds as the table
 *		behind the proxy wants (not at all for regexp:, pcre:, cidr:
 *		and socketmap:).  A daemon that cannot be reached, or that
 *		answers with an error status, is a lookup error (a temporary
 *		failure for the caller), never "not found".
 *
 *		This file sits in lib/dict, above lib/mail, so it uses the
 *		protocol client of lib/mail/proxymap_clnt.c directly.
 * SECURITY	The reply is parsed strictly and bounded (proxymap_clnt.c).
 * SEE ALSO	proxymap(8), doc/tables.md, doc/proxymap.md
 */
#include <stdlib.h>
#include <string.h>

#include "mail/proxymap_clnt.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"

_Static_assert(PROXY_KEY_MAX == DICT_KEY_MAX, "proxy key limit");
_Static_assert(PROXY_VALUE_MAX == DICT_VALUE_MAX, "proxy value limit");

struct dict_proxy {
	struct dict dict;
	char	*table;			/* "type:name" behind the proxy */
	int	 pflags;		/* PROXY_FLAG_* */
};

/* dict_proxy_lookup - ask proxymap */
static int
dict_proxy_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_proxy *p = (struct dict_proxy *)d;
	struct buf result = BUF_INIT;
	int r;

	switch (proxymap_lookup(p->table, p->pflags, key, &result, why)) {
	case PROXY_STAT_OK:
		buf_set(value, result.p, result.len);
		r = DICT_FOUND;
		break;
	case PROXY_STAT_NOKEY:
		r = DICT_NOTFOUND;
		break;
	case -1:
		r = DICT_ERROR;
		break;
	default:
		/* retry, bad, deny: the daemon's reason says which. */
		buf_reset(why);
		buf_printf(why, "proxymap: %.1000s", buf_str(&result));
		r = DICT_ERROR;
		break;
	}
	buf_free(&result);
	return r;
}

/* dict_proxy_close - free the table (the shared connection stays) */
static void
dict_proxy_close(struct dict *d)
{
	struct dict_proxy *p = (struct dict_proxy *)d;

	free(p->table);
	free(p);
}

/* dict_proxy_open - "type:name" of a table that proxymap can open */
struct dict *
dict_proxy_open(const char *name, int flags, struct buf *why)
{
	struct dict_proxy *p;
	const char *colon = strchr(name, ':');

	if (colon == NULL || colon == name || colon[1] == 0) {
		buf_printf(why, "proxy:%s: need proxy:type:name", name);
		return NULL;
	}
	if (str_caseprefix(name, "proxy:")) {
		buf_printf(why, "proxy:%s: a proxy: table cannot be behind "
		    "another", name);
		return NULL;
	}
	if (strlen(name) > PROXY_TABLE_MAX) {
		buf_printf(why, "proxy:%.100s...: table name longer than %d "
		    "bytes", name, PROXY_TABLE_MAX);
		return NULL;
	}
	{
		char *type = xstrndup(name, (size_t)(colon - name));
		int known = dict_type_known(type);

		free(type);
		if (!known) {
			buf_printf(why, "proxy:%s: unsupported dictionary "
			    "type: %.*s", name, (int)(colon - name), name);
			return NULL;
		}
	}
	proxymap_clnt_init();
	p = xcalloc(1, sizeof(*p));
	p->table = xstrdup(name);
	if (flags & DICT_FLAG_FOLD_FIX)
		p->pflags |= PROXY_FLAG_FOLD;
	if (flags & DICT_FLAG_NO_FOLD)
		p->pflags |= PROXY_FLAG_NO_FOLD;
	p->dict.flags = flags | DICT_FLAG_FOLD_FAR;
	p->dict.lookup = dict_proxy_lookup;
	p->dict.close = dict_proxy_close;
	return &p->dict;
}
