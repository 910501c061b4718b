/*
 * NAME		alias - alias_maps lookups and alias expansion
 * DESCRIPTION	The tables of alias_maps are opened once, while still
 *		privileged, each on its own so that local(8) knows which table
 *		answered: entries of an alias run commands and write files
 *		with the privileges of the owner of that table's file (for
 *		hash:/etc/aliases, /etc/aliases.db), or with default_privs
 *		when the owner is root or the table has no file.
 *
 *		local_alias() looks up the recipient's local part (folded to
 *		lower case) and, when there is an extension, the local part
 *		without it.  A table that cannot answer defers the recipient;
 *		it is never taken as "no alias".  With owner_request_special,
 *		an alias "name" that has an "owner-name" companion is
 *		expanded with the envelope sender owner-name@$myorigin (or,
 *		with expand_owner_alias, the first address of the owner-name
 *		value), so that errors go to the list owner.
 * SECURITY	Table files are trusted as far as their owner is.
 * SEE ALSO	aliases(5), doc/local.md
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dict/dict.h"
#include "mail/mail_conf.h"
#include "mail/rewrite_clnt.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "local.h"

struct alias_table {
	char	*spec;			/* type:name */
	struct maps *maps;		/* just this table */
	int	 owned;			/* privs below, else default_privs */
	struct local_privs privs;
};

static struct alias_table *alias_tab;
static size_t alias_count;

/*
 * alias_next_spec - next "type:name" of a table list; braces group text
 * with separators in it (inline:{ a=b, c=d }).  NULL at the end.
 */
static char *
alias_next_spec(char **cursor)
{
	char *s = *cursor, *start;
	int depth = 0;

	s += strspn(s, SEPARATORS);
	if (*s == 0) {
		*cursor = s;
		return NULL;
	}
	for (start = s; *s; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && depth > 0)
			depth--;
		else if (depth == 0 && strchr(SEPARATORS, *s) != NULL)
			break;
	}
	if (*s)
		*s++ = 0;
	*cursor = s;
	return start;
}

/* alias_owner - the owner of a table's file; -1 when it has none */
static int
alias_owner(const char *spec, uid_t *uid, gid_t *gid)
{
	static const struct {
		const char *type;
		const char *suffix;
	} files[] = {
		{ "hash:", ".db" },
		{ "lmdb:", ".lmdb" },
		{ "btree:", ".db" },
		{ "cdb:", ".cdb" },
		{ "dbm:", ".pag" },
		{ "texthash:", "" },
		{ "regexp:", "" },
		{ "pcre:", "" },
		{ "cidr:", "" },
	};
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n = strlen(files[i].type);
		char *path;
		int r;

		if (strncmp(spec, files[i].type, n) != 0)
			continue;
		path = xasprintf("%s%s", spec + n, files[i].suffix);
		r = stat(path, &st);
		if (r < 0 && *files[i].suffix)
			r = stat(spec + n, &st);
		free(path);
		if (r < 0)
			return -1;
		*uid = st.st_uid;
		*gid = st.st_gid;
		return 0;
	}
	return -1;
}

/* local_alias_open - open alias_maps (pre_jail, still privileged) */
void
local_alias_open(void)
{
	char *copy = xstrdup(local_cfg.alias_maps), *cp = copy, *spec;
	struct buf why = BUF_INIT;

	while ((spec = alias_next_spec(&cp)) != NULL) {
		struct alias_table *t;
		uid_t uid;
		gid_t gid;

		alias_tab = xreallocarray(alias_tab, alias_count + 1,
		    sizeof(*alias_tab));
		t = &alias_tab[alias_count++];
		memset(t, 0, sizeof(*t));
		t->spec = xstrdup(spec);
		t->maps = maps_open("alias_maps", spec, DICT_FLAG_FOLD_FIX);
		if (mail_cfg.unprivileged ||
		    alias_owner(spec, &uid, &gid) < 0 || uid == 0)
			continue;
		buf_reset(&why);
		if (local_getpw(NULL, uid, &t->privs, &why) > 0) {
			t->owned = 1;
		} else {
			/* An owner without an account: its ids, no home. */
			t->privs.uid = uid;
			t->privs.gid = gid;
			t->privs.name = xasprintf("#%lu", (unsigned long)uid);
			t->privs.home = xstrdup("/");
			t->privs.shell = xstrdup("/bin/sh");
			t->owned = 1;
		}
	}
	free(copy);
	buf_free(&why);
}

/* local_alias_changed - has a table changed since it was opened? */
int
local_alias_changed(void)
{
	size_t i;

	for (i = 0; i < alias_count; i++)
		if (maps_changed(alias_tab[i].maps))
			return 1;
	return 0;
}

/*
 * local_alias_lookup - look key up in alias_maps: DICT_FOUND with the
 * value and the privileges of the table, DICT_NOTFOUND, or DICT_ERROR
 * with a reason.  An error stops the search, as in maps_find().
 */
int
local_alias_lookup(const char *key, struct buf *value,
    const struct local_privs **privs, struct buf *why)
{
	size_t i;
	int r;

	for (i = 0; i < alias_count; i++) {
		r = maps_find(alias_tab[i].maps, key, value, why);
		if (r == DICT_NOTFOUND)
			continue;
		if (r == DICT_FOUND && privs)
			*privs = alias_tab[i].owned ? &alias_tab[i].privs :
			    &local_default_privs;
		return r;
	}
	return DICT_NOTFOUND;
}

/*
 * alias_owner_sender - the envelope sender for the expansion of alias
 * name when owner-name exists: 1 with the sender, 0 when there is no
 * owner, -1 (deferred, reported) on a lookup or rewrite failure.
 */
static int
alias_owner_sender(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const char *name, struct buf *sender)
{
	struct buf key = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
	struct local_toks toks;
	const char *owner;
	int r;

	local_toks_init(&toks);
	buf_printf(&key, "owner-%s", name);
	r = local_alias_lookup(key.p, &value, NULL, &why);
	if (r == DICT_ERROR) {
		log_warn("%s: alias lookup of %s: %s", msg->req->queue_id,
		    key.p, buf_str(&why));
		local_report(msg, res, attr->addr, NULL, time_epoch_us(),
		    DEL_STAT_DEFER, "4.3.0", "alias database unavailable");
		r = -1;
		goto out;
	}
	if (r != DICT_FOUND) {
		r = 0;
		goto out;
	}
	owner = key.p;
	if (local_cfg.expand_owner_alias) {
		buf_reset(&why);
		if (local_tokenize(buf_str(&value), value.len, &toks, &why) ==
		    0 && toks.n > 0 && toks.v[0].type == LOCAL_TOK_ADDR)
			owner = toks.v[0].text;
	}
	buf_reset(&why);
	if (rewrite_addr("local", owner, sender, &why) < 0) {
		log_warn("%s: address rewriting failed for %s: %s",
		    msg->req->queue_id, owner, buf_str(&why));
		local_report(msg, res, attr->addr, NULL, time_epoch_us(),
		    DEL_STAT_DEFER, "4.3.0",
		    "address rewriting service unavailable");
		r = -1;
		goto out;
	}
	r = 1;
out:
	local_toks_free(&toks);
	buf_free(&key);
	buf_free(&value);
	buf_free(&why);
	return r;
}

/* alias_on_path - is this alias being expanded by an ancestor? */
static int
alias_on_path(const struct local_attr *attr, const char *key)
{
	for (; attr; attr = attr->parent)
		if (attr->key && strcmp(attr->key, key) == 0)
			return 1;
	return 0;
}

/*
 * local_alias - expand the recipient's alias, if it has one.  Returns 1
 * when the recipient was dealt with (expanded, or deferred), 0 when it
 * has no alias.
 */
int
local_alias(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_addr *a)
{
	struct buf value = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
	struct buf sender = BUF_INIT;
	const struct local_privs *privs = NULL;
	const char *name = NULL;
	struct local_toks toks;
	struct local_attr list;
	int r, handled = 1;

	local_toks_init(&toks);
	buf_printf(&key, "alias\t%s", a->local.p);
	if (!alias_on_path(attr, key.p)) {
		name = a->local.p;
		r = local_alias_lookup(name, &value, &privs, &why);
	} else {
		r = DICT_NOTFOUND;
	}
	if (r == DICT_NOTFOUND && a->ext.len > 0) {
		buf_reset(&key);
		buf_printf(&key, "alias\t%s", a->user.p);
		if (!alias_on_path(attr, key.p)) {
			name = a->user.p;
			r = local_alias_lookup(name, &value, &privs, &why);
		}
	}
	if (r == DICT_ERROR) {
		log_warn("%s: alias lookup of %s: %s", msg->req->queue_id,
		    name, buf_str(&why));
		local_report(msg, res, attr->addr, NULL, time_epoch_us(),
		    DEL_STAT_DEFER, "4.3.0", "alias database unavailable");
		goto out;
	}
	if (r != DICT_FOUND) {
		handled = 0;
		goto out;
	}
	buf_reset(&why);
	if (local_tokenize(value.p, value.len, &toks, &why) < 0) {
		log_warn("%s: alias %s: %s", msg->req->queue_id, name,
		    buf_str(&why));
		local_report(msg, res, attr->addr, NULL, time_epoch_us(),
		    DEL_STAT_DEFER, "4.3.0", "mail system configuration error");
		goto out;
	}
	if (toks.sloppy)
		log_warn("alias %s: unbalanced quote, comment or angle bracket "
		    "in value", name);
	memset(&list, 0, sizeof(list));
	list.parent = attr;
	list.level = attr->level;
	list.addr = attr->addr;
	list.sender = attr->sender;
	list.key = key.p;
	list.cls = LOCAL_CLASS_ALIAS;
	list.privs = privs;
	if (mail_cfg.owner_request_special && !str_prefix(name, "owner-")) {
		r = alias_owner_sender(msg, res, attr, name, &sender);
		if (r < 0)
			goto out;
		if (r > 0)
			list.sender = sender.p;
	}
	local_expand_list(msg, res, &list, &toks);
out:
	local_toks_free(&toks);
	buf_free(&value);
	buf_free(&why);
	buf_free(&key);
	buf_free(&sender);
	return handled;
}
