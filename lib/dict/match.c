/*
 * NAME		match - domain lists as in mydestination and relay_domains
 * DESCRIPTION	Lists are compiled once: names are folded to lower case,
 *		files are read at creation, tables are opened then.  A file
 *		that cannot be read is logged and makes every match an error
 *		(a temporary failure), as a broken table does.
 * SECURITY	List files are bounded (1 MB); domains longer than 255
 *		bytes never match.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "match.h"

struct match_ent {
	int	 negate;
	char	*name;		/* folded pattern, or NULL for a table */
	struct maps *maps;
};

struct match_list {
	char	*title;
	struct match_ent *v;
	size_t	 n;
	char	*error;		/* set if the list could not be built */
};

/* match_add - one entry */
static void
match_add(struct match_list *m, const char *tok, int depth)
{
	struct match_ent e;
	int negate = 0;

	while (*tok == '!') {
		negate = !negate;
		tok++;
	}
	if (*tok == 0)
		return;
	if (*tok == '/' && depth < 2) {
		struct buf text = BUF_INIT;
		char *cp, *t;

		if (file_read(tok, &text, 1024 * 1024) < 0) {
			log_warn("%s: read %s: %m", m->title, tok);
			free(m->error);
			m->error = xasprintf("%s: cannot read %s: %s", m->title,
			    tok, strerror(errno));
			buf_free(&text);
			return;
		}
		cp = text.p ? text.p : "";
		while ((t = str_token(&cp, SEPARATORS)) != NULL) {
			if (*t == '#') {
				/* Skip the rest of a comment line. */
				cp += strcspn(cp, "\n");
				continue;
			}
			match_add(m, t, depth + 1);
		}
		buf_free(&text);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.negate = negate;
	if (strchr(tok, ':') && tok[0] != '[') {
		e.maps = maps_open(m->title, tok, DICT_FLAG_FOLD_FIX);
	} else {
		e.name = str_lower(xstrdup(tok));
	}
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = e;
}

/* match_list_new - compile a list; title names it in messages */
struct match_list *
match_list_new(const char *title, const char *spec)
{
	struct match_list *m = xcalloc(1, sizeof(*m));
	char *copy = xstrdup(spec ? spec : ""), *cp = copy, *tok;
	char err[64] = "";

	m->title = xstrdup(title);
	while ((tok = str_token_braced(&cp, SEPARATORS, err, sizeof(err))))
		match_add(m, tok, 0);
	if (err[0])
		m->error = xasprintf("%s: %s", title, err);
	free(copy);
	return m;
}

/* match_list_empty - no entries at all? */
int
match_list_empty(const struct match_list *m)
{
	return m->n == 0 && m->error == NULL;
}

/*
 * match_list_domain - does domain match?  1 yes, 0 no, -1 error (with
 * reason in why).
 */
int
match_list_domain(struct match_list *m, const char *domain, struct buf *why)
{
	char folded[256];
	size_t i, len = strlen(domain);
	struct buf val = BUF_INIT;

	if (m->error) {
		buf_sets(why, m->error);
		return -1;
	}
	if (len == 0 || len >= sizeof(folded))
		return 0;
	memcpy(folded, domain, len + 1);
	str_lower(folded);
	if (len > 1 && folded[len - 1] == '.')
		folded[--len] = 0;
	for (i = 0; i < m->n; i++) {
		struct match_ent *e = &m->v[i];
		int hit = 0;

		if (e->name) {
			if (e->name[0] == '.') {
				size_t nl = strlen(e->name);

				hit = len > nl && strcmp(folded + len - nl,
				    e->name) == 0;
			} else {
				hit = strcmp(folded, e->name) == 0;
			}
		} else {
			int r = maps_find(e->maps, folded, &val, why);

			if (r == DICT_ERROR) {
				buf_free(&val);
				return -1;
			}
			hit = r == DICT_FOUND;
		}
		if (hit) {
			buf_free(&val);
			return e->negate ? 0 : 1;
		}
	}
	buf_free(&val);
	return 0;
}

/* match_list_free - release a list */
void
match_list_free(struct match_list *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		if (m->v[i].maps)
			maps_free(m->v[i].maps);
	}
	free(m->v);
	free(m->title);
	free(m->error);
	free(m);
}
