/*
 * NAME		serve - proxymap(8) requests: access check, open tables, look up
 * DESCRIPTION	pm_access_init() takes the expanded value of
 *		proxy_read_maps and remembers every "proxy:type:name" in it;
 *		any other word (tables without proxy:, restriction names,
 *		addresses) is ignored.  Only the remembered type:name tables
 *		are served.
 *
 *		pm_serve() answers one request frame with one reply frame.
 *		Tables are opened at their first request and kept open, one
 *		per table name and folding flags, for every later client: that
 *		is the point of the daemon.  A table that cannot be opened is
 *		remembered as failed (every lookup is a temporary error) and
 *		opened again after PM_REOPEN_MS.  pm_tables_changed() names a
 *		table that changed on disk since it was opened.
 * SECURITY	Requests are decoded by proxy_request_parse() (strict,
 *		bounded).  A table behind proxy: must be listed in
 *		proxy_read_maps; a "proxy:" table behind the proxy is refused
 *		(it would ask this daemon again).
 * DIAGNOSTICS	"proxy_read_maps does not list table proxy:T" for refused
 *		requests, warnings for malformed requests, tables that cannot
 *		be opened and failed lookups.
 * SEE ALSO	main.c, doc/proxymap.md
 */
#include <stdlib.h>
#include <string.h>

#include "dict/dict.h"
#include "mail/proxymap_clnt.h"
#include "util/events.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "proxymap.h"

#define PM_REOPEN_MS	5000	/* retry a table that failed to open */

struct pm_table {
	struct dict *d;
	char	*name;			/* "type:name" */
	int64_t	 failed;		/* when the open failed, or 0 */
};

static struct htable *pm_allowed;	/* type:name -> "" */
static struct htable *pm_tables;	/* "flags:type:name" -> pm_table */

/* pm_access_init - the tables proxy_read_maps allows (see above) */
void
pm_access_init(const char *list)
{
	char *copy = xstrdup(list ? list : ""), *cursor = copy, *tok;
	int bad = 0;

	if (pm_allowed == NULL)
		pm_allowed = htable_create(32);
	while ((tok = maps_token(&cursor, &bad)) != NULL)
		if (str_caseprefix(tok, "proxy:") && tok[6] &&
		    htable_locate(pm_allowed, tok + 6) == NULL)
			htable_enter(pm_allowed, tok + 6, NULL);
	if (bad)
		log_warn("proxy_read_maps: unbalanced '{' or '}'; tables "
		    "after it may not be served");
	free(copy);
}

/* pm_access_allowed - may "type:name" be served? */
int
pm_access_allowed(const char *table)
{
	return pm_allowed != NULL && htable_locate(pm_allowed, table) != NULL;
}

/* pm_table_free - htable destructor */
static void
pm_table_free(void *p)
{
	struct pm_table *t = p;

	dict_close(t->d);
	free(t->name);
	free(t);
}

/* pm_table_get - the open table for a request (opened now if needed) */
static struct pm_table *
pm_table_get(const char *name, int pflags)
{
	struct buf key = BUF_INIT, why = BUF_INIT;
	struct pm_table *t;
	int dflags = 0;

	if (pflags & PROXY_FLAG_FOLD)
		dflags |= DICT_FLAG_FOLD_FIX;
	if (pflags & PROXY_FLAG_NO_FOLD)
		dflags |= DICT_FLAG_NO_FOLD;
	if (pm_tables == NULL)
		pm_tables = htable_create(16);
	buf_printf(&key, "%d:%s", pflags, name);
	t = htable_find(pm_tables, key.p);
	if (t != NULL && t->failed && time_mono_ms() - t->failed >=
	    PM_REOPEN_MS) {
		htable_delete(pm_tables, key.p, pm_table_free);
		t = NULL;
	}
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->name = xstrdup(name);
		if ((t->d = dict_open(name, dflags, &why)) == NULL) {
			log_warn("open table %s: %s", name, buf_str(&why));
			t->d = dict_surrogate(name, dflags, buf_str(&why));
			t->failed = time_mono_ms();
		}
		htable_enter(pm_tables, key.p, t);
	}
	buf_free(&key);
	buf_free(&why);
	return t;
}

/* pm_serve - answer one request body with a reply frame */
void
pm_serve(const char *body, size_t len, struct buf *reply)
{
	struct proxy_request req;
	struct buf why = BUF_INIT, value = BUF_INIT, text = BUF_INIT;
	struct pm_table *t;
	int status;

	proxy_request_init(&req);
	if (proxy_request_parse(body, len, &req, &why) < 0) {
		log_warn("bad request: %s", buf_str(&why));
		buf_printf(&text, "bad request: %s", buf_str(&why));
		status = PROXY_STAT_BAD;
	} else if (str_caseprefix(req.table.p, "proxy:")) {
		log_warn("request for table %s: a proxy: table cannot be "
		    "behind proxymap", req.table.p);
		buf_printf(&text, "table %s: a proxy: table cannot be behind "
		    "proxymap", req.table.p);
		status = PROXY_STAT_BAD;
	} else if (!pm_access_allowed(req.table.p)) {
		log_warn("proxy_read_maps does not list table proxy:%s -- "
		    "request refused", req.table.p);
		buf_printf(&text, "proxy_read_maps does not list table "
		    "proxy:%s", req.table.p);
		status = PROXY_STAT_DENY;
	} else {
		t = pm_table_get(req.table.p, req.flags);
		switch (dict_lookup(t->d, req.key.p, &value, &why)) {
		case DICT_FOUND:
			status = PROXY_STAT_OK;
			buf_set(&text, value.p, value.len);
			break;
		case DICT_NOTFOUND:
			status = PROXY_STAT_NOKEY;
			break;
		default:
			/* A table that failed to open was logged then. */
			if (!t->failed)
				log_warn("%s", buf_str(&why));
			status = PROXY_STAT_RETRY;
			buf_set(&text, why.p, why.len);
			break;
		}
	}
	proxy_reply_build(reply, status, buf_str(&text));
	proxy_request_free(&req);
	buf_free(&why);
	buf_free(&value);
	buf_free(&text);
}

/* pm_changed_walk - htable_walk helper for pm_tables_changed() */
static void
pm_changed_walk(struct hnode *n, void *ctx)
{
	struct pm_table *t = n->value;
	const char **changed = ctx;

	if (*changed == NULL && !t->failed && dict_changed(t->d))
		*changed = t->name;
}

/* pm_tables_changed - the name of an open table that changed, or NULL */
const char *
pm_tables_changed(void)
{
	const char *changed = NULL;

	if (pm_tables)
		htable_walk(pm_tables, pm_changed_walk, &changed);
	return changed;
}

/* pm_tables_free - close every table and forget the access list */
void
pm_tables_free(void)
{
	if (pm_tables)
		htable_free(pm_tables, pm_table_free);
	if (pm_allowed)
		htable_free(pm_allowed, NULL);
	pm_tables = NULL;
	pm_allowed = NULL;
}
