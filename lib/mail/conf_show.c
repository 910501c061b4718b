/*
 * NAME		conf_show - postconf output formats
 * DESCRIPTION	conf_show_line() splits text into words at blanks and line
 *		breaks and joins them with single spaces; with folding, a word
 *		that would reach column 80 starts a new line indented by four
 *		spaces.  An empty value therefore prints as "name =".
 *
 *		mcf_show() first parses the whole file with mcf_parse(), so
 *		that syntax errors are reported exactly as master(8) reports
 *		them, then walks the logical lines again to print each entry
 *		with its columns as written.  Daemon options are normalized
 *		the way Postfix's postconf does it: "-vo x=y" becomes "-v -o
 *		x=y", "-ox=y" becomes "-o x=y", and "-o { x = y }" becomes
 *		"-o x=y".  Selection patterns are "service" or
 *		"service/type", where either part may be "*".
 * SECURITY	The input is bounded by mcf_parse() (MCF_FILE_MAX,
 *		MCF_ENT_MAX, MCF_ARGS_MAX) before it is walked here.
 * SEE ALSO	postconf(1), doc/postconf.md
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "conf_show.h"
#include "mastercf.h"

#define SHOW_SEPARATORS	" \t\r\n"
#define SHOW_INDENT_LEN	4

/* conf_show_line - print text with normalized white space */
void
conf_show_line(struct buf *out, const char *text, size_t len, int fold)
{
	size_t pos = 0, line_len = 0;

	for (;;) {
		size_t start, wlen;

		while (pos < len && strchr(SHOW_SEPARATORS, text[pos]) &&
		    text[pos] != 0)
			pos++;
		if (pos >= len)
			break;
		start = pos;
		while (pos < len && (text[pos] == 0 ||
		    strchr(SHOW_SEPARATORS, text[pos]) == NULL))
			pos++;
		wlen = pos - start;
		if (line_len > 0) {
			if (!fold || line_len + wlen < CONF_SHOW_LINE_LIMIT) {
				buf_putc(out, ' ');
				line_len++;
			} else {
				buf_putc(out, '\n');
				buf_puts(out, CONF_SHOW_INDENT);
				line_len = SHOW_INDENT_LEN;
			}
		}
		buf_put(out, text + start, wlen);
		line_len += wlen;
	}
	buf_putc(out, '\n');
}

/* show_has_blank - does a value need braces to stay one argument? */
static int
show_has_blank(const char *s)
{
	return s[strcspn(s, SHOW_SEPARATORS)] != 0;
}

/* show_match_part - one component of a selection pattern */
static int
show_match_part(const char *pat, size_t plen, const char *s)
{
	if (plen == 1 && pat[0] == '*')
		return 1;
	return strlen(s) == plen && strncmp(pat, s, plen) == 0;
}

/* show_selected - does service/type match one of the filters? */
static int
show_selected(const struct argv *filters, const char *service,
    const char *type)
{
	size_t i;

	if (filters == NULL || filters->n == 0)
		return 1;
	for (i = 0; i < filters->n; i++) {
		const char *f = filters->v[i], *slash = strchr(f, '/');

		if (slash == NULL) {
			if (show_match_part(f, strlen(f), service))
				return 1;
		} else if (show_match_part(f, (size_t)(slash - f), service) &&
		    show_match_part(slash + 1, strlen(slash + 1), type)) {
			return 1;
		}
	}
	return 0;
}

/* show_normalize_nameval - "name = value" to "name=value" */
static void
show_normalize_nameval(struct argv *a, const char *arg)
{
	char *copy = xstrdup(arg), *eq = strchr(copy, '=');

	if (eq == NULL) {
		argv_add(a, arg);
	} else {
		*eq = 0;
		argv_addf(a, "%s=%s", str_trim(copy), str_trim(eq + 1));
	}
	free(copy);
}

/*
 * show_add_option - add one daemon option, split as Postfix does; returns 1
 * when it ends in a bare "-o" whose value is the next token.
 */
static int
show_add_option(struct argv *a, const char *arg)
{
	const char *o = strchr(arg + 1, 'o');

	if (o == NULL) {
		argv_add(a, arg);
		return 0;
	}
	if (o > arg + 1)
		argv_addn(a, arg, (size_t)(o - arg));	/* "-v" of "-vo" */
	argv_add(a, "-o");
	if (o[1] == 0)
		return 1;
	show_normalize_nameval(a, o + 1);	/* "-ox=y" */
	return 0;
}

/* show_print - lay out one normalized entry */
static void
show_print(struct buf *out, const struct argv *a, int fold)
{
	static const size_t goal[] = {0, 11, 17, 25, 33, 41, 49, 57};
	size_t k, line_len = 0;
	int in_opts = 1;

	for (k = 0; k < 8 && k < a->n; k++) {
		if (line_len > 0) {
			do {
				buf_putc(out, ' ');
				line_len++;
			} while (line_len < goal[k]);
		}
		buf_puts(out, a->v[k]);
		line_len += strlen(a->v[k]);
	}
	for (; k < a->n; k++) {
		const char *arg = a->v[k], *aval = NULL;
		size_t alen = strlen(arg);
		int braces = 0;

		if (in_opts && (arg[0] != '-' || strcmp(arg, "--") == 0))
			in_opts = 0;
		if (in_opts) {
			if (strcmp(arg, "-o") == 0 && k + 1 < a->n) {
				aval = a->v[k + 1];
				/* An option with a value gets its own line. */
				line_len = CONF_SHOW_LINE_LIMIT;
				braces = show_has_blank(aval);
				alen += strlen(aval) + 1 + (braces ? 2 : 0);
			}
		} else if ((braces = show_has_blank(arg)) != 0) {
			alen += 2;
		}
		if (line_len > SHOW_INDENT_LEN) {
			if (!fold ||
			    line_len + 1 + alen < CONF_SHOW_LINE_LIMIT) {
				buf_putc(out, ' ');
				line_len++;
			} else {
				buf_putc(out, '\n');
				buf_puts(out, CONF_SHOW_INDENT);
				line_len = SHOW_INDENT_LEN;
			}
		}
		if (aval != NULL) {
			buf_printf(out, "%s %s%s%s", arg, braces ? "{" : "",
			    aval, braces ? "}" : "");
			k++;
			line_len = CONF_SHOW_LINE_LIMIT;
			continue;
		}
		buf_printf(out, "%s%s%s", braces ? "{" : "", arg,
		    braces ? "}" : "");
		line_len += alen;
	}
	buf_putc(out, '\n');
}

/* show_entry - tokenize, select, normalize and print one logical line */
static void
show_entry(char *line, const struct argv *filters, int fold, struct buf *out)
{
	struct argv a;
	char *cp = line, *tok, err[64] = "";
	int i, in_opts = 1, after_o = 0;

	argv_init(&a);
	for (i = 0; i < 8; i++) {
		if ((tok = str_token(&cp, SHOW_SEPARATORS)) == NULL)
			goto out;	/* mcf_parse() would have refused */
		argv_add(&a, tok);
	}
	if (!show_selected(filters, a.v[0], a.v[1]))
		goto out;
	while ((tok = str_token_braced(&cp, SHOW_SEPARATORS, err,
	    sizeof(err))) != NULL) {
		if (after_o) {
			show_normalize_nameval(&a, tok);
			after_o = 0;
		} else if (in_opts && tok[0] == '-' && strcmp(tok, "--") != 0 &&
		    tok[1] != 0) {
			after_o = show_add_option(&a, tok);
		} else {
			in_opts = 0;
			argv_add(&a, tok);
		}
	}
	show_print(out, &a, fold);
out:
	argv_clear(&a);
}

/*
 * mcf_show - print the master.cf entries in text[0..len) that match the
 * filters (all when filters is NULL or empty).  fname names the file in
 * errors.  Returns 0, or -1 with a reason when the file is malformed.
 */
int
mcf_show(const char *text, size_t len, const char *fname,
    const struct argv *filters, int fold, struct buf *out, struct buf *why)
{
	struct mcf m;
	struct buf logical = BUF_INIT;
	size_t pos = 0;

	if (mcf_parse(text, len, fname, &m, why) < 0)
		return -1;
	mcf_free(&m);
	while (pos < len) {
		const char *lp = text + pos;
		const char *nl = memchr(lp, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - lp) : len - pos, i = 0;

		pos += llen + (nl ? 1 : 0);
		while (i < llen && isspace((unsigned char)lp[i]))
			i++;
		if (i == llen || lp[i] == '#')
			continue;
		if (i > 0) {
			buf_putc(&logical, ' ');
			buf_put(&logical, lp + i, llen - i);
			continue;
		}
		if (logical.len)
			show_entry(logical.p, filters, fold, out);
		buf_set(&logical, lp, llen);
	}
	if (logical.len)
		show_entry(logical.p, filters, fold, out);
	buf_free(&logical);
	return 0;
}
