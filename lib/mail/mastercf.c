/*
 * NAME		mastercf - master.cf parsing
 * DESCRIPTION	Logical lines are collected as in main.cf, split into the
 *		eight columns, checked and defaulted.  Defaults follow Postfix
 *		3: private y (n for inet), unpriv y, chroot n, wakeup 0,
 *		maxproc default_process_limit.  A service name and type pair
 *		must be unique.
 * SECURITY	File size, the number of entries and arguments are bounded;
 *		every error names the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "mastercf.h"

/* mcf_bool - y/n/- column */
static int
mcf_bool(const char *s, int def, int *out)
{
	if (strcmp(s, "-") == 0)
		*out = def;
	else if (strcmp(s, "y") == 0)
		*out = 1;
	else if (strcmp(s, "n") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* mcf_entry - parse one logical line */
static int
mcf_entry(char *line, const char *fname, int lineno, struct mcf *m,
    struct buf *why)
{
	static const char *const cols[] = {"service", "type", "private",
	    "unpriv", "chroot", "wakeup", "maxproc", "command"};
	char *cp = line, *f[8], *tok, err[64] = "";
	struct mcf_ent e;
	long l;
	int i;
	size_t k;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < 8; i++) {
		if ((f[i] = str_token(&cp, " \t\r\n")) == NULL) {
			buf_printf(why, "%s, line %d: missing \"%s\" field",
			    fname, lineno, cols[i]);
			return -1;
		}
	}
	e.line = lineno;
	if (strcmp(f[1], "inet") && strcmp(f[1], "unix") &&
	    strcmp(f[1], "unix-dgram") && strcmp(f[1], "fifo") &&
	    strcmp(f[1], "pass")) {
		buf_printf(why, "%s, line %d: bad transport type: %s", fname,
		    lineno, f[1]);
		return -1;
	}
	if (mcf_bool(f[2], strcmp(f[1], "inet") ? 1 : 0, &e.private_) < 0 ||
	    mcf_bool(f[3], 1, &e.unpriv) < 0 ||
	    mcf_bool(f[4], 0, &e.chroot) < 0) {
		buf_printf(why, "%s, line %d: bad boolean field value (want "
		    "y, n or -)", fname, lineno);
		return -1;
	}
	if (strcmp(f[5], "-") == 0) {
		e.wakeup = 0;
	} else {
		size_t n = strlen(f[5]);

		if (n > 0 && f[5][n - 1] == '?') {
			e.wakeup_cond = 1;
			f[5][n - 1] = 0;
		}
		if (parse_long(f[5], &l) < 0 || l < 0 || l > 86400 * 365) {
			buf_printf(why, "%s, line %d: bad wakeup time: %s",
			    fname, lineno, f[5]);
			return -1;
		}
		e.wakeup = (int)l;
	}
	if (strcmp(f[6], "-") == 0) {
		e.maxproc = -1;
	} else if (parse_long(f[6], &l) < 0 || l < 0 || l > 100000) {
		buf_printf(why, "%s, line %d: bad maximal process count: %s",
		    fname, lineno, f[6]);
		return -1;
	} else {
		e.maxproc = (int)l;
	}
	if (strchr(f[7], '/') || f[7][0] == '.') {
		buf_printf(why, "%s, line %d: command must be a name in "
		    "daemon_directory: %s", fname, lineno, f[7]);
		return -1;
	}
	e.args = argv_new();
	argv_add(e.args, f[7]);
	while ((tok = str_token_braced(&cp, " \t\r\n", err, sizeof(err)))) {
		if (e.args->n >= MCF_ARGS_MAX) {
			buf_printf(why, "%s, line %d: too many arguments",
			    fname, lineno);
			argv_free(e.args);
			return -1;
		}
		argv_add(e.args, tok);
	}
	if (err[0]) {
		buf_printf(why, "%s, line %d: %s", fname, lineno, err);
		argv_free(e.args);
		return -1;
	}
	for (k = 1; k < e.args->n; k++) {
		if (strcmp(e.args->v[k], "-o") == 0 &&
		    (k + 1 >= e.args->n || !strchr(e.args->v[k + 1], '='))) {
			buf_printf(why, "%s, line %d: -o needs name=value",
			    fname, lineno);
			argv_free(e.args);
			return -1;
		}
	}
	for (k = 0; k < m->n; k++) {
		if (strcmp(m->v[k].service, f[0]) == 0 &&
		    strcmp(m->v[k].type, f[1]) == 0) {
			buf_printf(why, "%s, line %d: duplicate service name "
			    "and type: %s %s", fname, lineno, f[0], f[1]);
			argv_free(e.args);
			return -1;
		}
	}
	if (m->n >= MCF_ENT_MAX) {
		buf_printf(why, "%s: too many entries", fname);
		argv_free(e.args);
		return -1;
	}
	e.service = xstrdup(f[0]);
	e.type = xstrdup(f[1]);
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = e;
	return 0;
}

/* mcf_parse - parse master.cf text */
int
mcf_parse(const char *text, size_t len, const char *fname, struct mcf *m,
    struct buf *why)
{
	struct buf logical = BUF_INIT;
	size_t pos = 0;
	int lineno = 0, start = 0, r = 0;

	memset(m, 0, sizeof(*m));
	if (len > MCF_FILE_MAX) {
		buf_printf(why, "%s: file too large", fname);
		return -1;
	}
	while (pos < len && r == 0) {
		const char *lp = text + pos;
		const char *nl = memchr(lp, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - lp) : len - pos, i = 0;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		if (memchr(lp, 0, llen)) {
			buf_printf(why, "%s, line %d: NUL byte", fname, lineno);
			r = -1;
			break;
		}
		while (i < llen && isspace((unsigned char)lp[i]))
			i++;
		if (i == llen || lp[i] == '#')
			continue;
		if (i > 0) {
			if (logical.len == 0) {
				buf_printf(why, "%s, line %d: text starts with "
				    "white space", fname, lineno);
				r = -1;
				break;
			}
			buf_putc(&logical, ' ');
			buf_put(&logical, lp + i, llen - i);
			continue;
		}
		if (logical.len)
			r = mcf_entry(logical.p, fname, start, m, why);
		buf_set(&logical, lp, llen);
		start = lineno;
	}
	if (r == 0 && logical.len)
		r = mcf_entry(logical.p, fname, start, m, why);
	buf_free(&logical);
	if (r < 0)
		mcf_free(m);
	return r;
}

/* mcf_read - parse a master.cf file */
int
mcf_read(const char *path, struct mcf *m, struct buf *why)
{
	struct buf text = BUF_INIT;
	int r;

	memset(m, 0, sizeof(*m));
	if (file_read(path, &text, MCF_FILE_MAX) < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		buf_free(&text);
		return -1;
	}
	r = mcf_parse(text.p ? text.p : "", text.len, path, m, why);
	buf_free(&text);
	return r;
}

/* mcf_free - release entries */
void
mcf_free(struct mcf *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].service);
		free(m->v[i].type);
		argv_free(m->v[i].args);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* mcf_find - the entry for service and type, or NULL */
const struct mcf_ent *
mcf_find(const struct mcf *m, const char *service, const char *type)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].service, service) == 0 &&
		    (type == NULL || strcmp(m->v[i].type, type) == 0))
			return &m->v[i];
	return NULL;
}
