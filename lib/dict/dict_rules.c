/*
 * NAME		dict_rules - rule files shared by regexp:, pcre: and cidr:
 * DESCRIPTION	dict_rules_open() reads the whole file at open time, splits
 *		it into logical lines (continuation lines, comments, blank
 *		lines and a trailing CR as in postmap(1) source files) and
 *		compiles each line into a rule in an array:
 *
 *		[!]PATTERN result	a match rule; "!" negates (the result
 *					then takes no $n), "!!" negates twice
 *		if [!]PATTERN		start a block; the index of its endif
 *					is stored so that a failed if skips
 *					the block in one step
 *		endif			end the innermost block
 *
 *		A lookup walks the array once: the first match rule that
 *		matches (and is not inside a failed if) gives the result.
 *		An engine may say that a pattern does not apply to a key
 *		(cidr: an IPv4 pattern and an IPv6 key, or a key that is no
 *		address): then neither the rule nor its negation matches.
 *		No recursion: nesting is a bounded stack used at open time.
 *
 *		Results of engines with substitution (regexp:, pcre:) are
 *		checked at open time by dict_rules_expand() in scan mode:
 *		"$n", "${n}" and "$(n)" name group n (1..99), "$$" is a
 *		dollar sign; anything else after "$" is an error, as is a
 *		group number above the pattern's number of groups or any $n
 *		in a negated rule.  A result without $n is stored with "$$"
 *		already turned into "$".  A group that did not take part in
 *		the match substitutes as empty text.
 *
 *		As texthash: does, the file stays open so that the table
 *		notices when the file is replaced or rewritten.
 * SECURITY	Rule files come from the administrator; they are bounded
 *		anyway: file size (DICT_RULES_FILE_MAX), logical line
 *		(DICT_RULES_LINE_MAX), rules (DICT_RULES_MAX), nesting
 *		(DICT_RULES_DEPTH), result (DICT_VALUE_MAX, also after
 *		substitution).  NUL bytes are refused.
 * DIAGNOSTICS	Errors are returned as "file, line N: text" and make the
 *		open fail (dict_open() returns NULL; maps_open() then puts a
 *		surrogate in place whose lookups are temporary errors).
 *		Where Postfix skips a rule with a warning for reasons other
 *		than syntax (cidr: host bits set) and where it uses an empty
 *		result, a warning is logged with file and line.
 * SEE ALSO	dict_regexp(3), dict_pcre(3), dict_cidr(3), doc/tables.md
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_rules.h"
#include "dict_source.h"

#define IS_SPACE(c)	isspace((unsigned char)(c))
#define IS_ALNUM(c)	isalnum((unsigned char)(c))

enum rule_kind {
	RULE_MATCH,
	RULE_IF,
	RULE_ENDIF
};

struct rule {
	enum rule_kind kind;
	int	 negate;
	unsigned long line;
	void	*pat;			/* engine's pattern; NULL for endif */
	char	*result;		/* template, or literal if max_sub 0 */
	size_t	 rlen;
	size_t	 max_sub;		/* highest $n in the result */
	size_t	 skip;			/* if: index of its endif */
};

struct dict_rules {
	struct dict dict;
	const struct dict_rules_engine *eng;
	const char *fname;		/* for messages: the path */
	struct rule *v;
	size_t	 n;
	size_t	 cap;
	size_t	 open[DICT_RULES_DEPTH];	/* if rules not yet closed */
	size_t	 depth;
	struct dict_srcfile file;
};

/* rules_add - append a rule and return it, zeroed */
static struct rule *
rules_add(struct dict_rules *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	return &r->v[r->n++];
}

/* rules_keyword - does p start with word (any case) and then no alnum? */
static int
rules_keyword(const char *p, const char *word)
{
	size_t len = strlen(word);

	return strncasecmp(p, word, len) == 0 && !IS_ALNUM(p[len]) &&
	    p[len] != '_';
}

/* rules_skip_space - skip white space */
static char *
rules_skip_space(char *p)
{
	while (*p && IS_SPACE(*p))
		p++;
	return p;
}

/*
 * rules_pattern - negation and one pattern at *cp: compile it through
 * the engine.  Returns the engine's result; on DICT_RULES_OK fills pat,
 * ngroups and negate and moves *cp past the pattern.
 */
static int
rules_pattern(struct dict_rules *r, char **cp, void **pat, size_t *ngroups,
    int *negate, struct buf *msg)
{
	char *p = *cp;
	int rc;

	*negate = 0;
	while (*p == '!') {
		*negate = !*negate;
		p++;
	}
	p = rules_skip_space(p);
	if (*p == 0) {
		buf_puts(msg, "missing pattern");
		return DICT_RULES_BAD;
	}
	*pat = NULL;
	*ngroups = 0;
	rc = r->eng->compile(&p, pat, ngroups, msg);
	if (rc != DICT_RULES_OK) {
		if (*pat != NULL)
			r->eng->free(*pat);
		*pat = NULL;
		if (msg->len == 0)
			buf_puts(msg, "bad pattern");
		return rc == DICT_RULES_SKIP ? DICT_RULES_SKIP : DICT_RULES_BAD;
	}
	*cp = p;
	return DICT_RULES_OK;
}

/*
 * rules_result - check and store the result text of a match rule.
 * Returns 0, or -1 with a reason in msg.
 */
static int
rules_result(struct dict_rules *r, struct rule *rule, char *p, size_t len,
    size_t ngroups, struct buf *msg)
{
	struct buf lit = BUF_INIT;
	size_t max = 0;

	if (len > DICT_VALUE_MAX) {
		buf_printf(msg, "result is too long (%zu bytes, limit %d)",
		    len, DICT_VALUE_MAX);
		return -1;
	}
	if (!r->eng->subst) {
		rule->result = xmemdup(p, len + 1);
		rule->rlen = len;
		return 0;
	}
	if (dict_rules_expand(p, len, NULL, NULL, 0, &max, &lit, msg) < 0) {
		buf_free(&lit);
		return -1;
	}
	if (max > 0 && rule->negate) {
		buf_printf(msg, "$%zu in the result of a negated pattern "
		    "(a pattern that did not match has no groups)", max);
		buf_free(&lit);
		return -1;
	}
	if (max > ngroups) {
		buf_printf(msg, "$%zu in the result, but the pattern has "
		    "%zu group%s", max, ngroups, ngroups == 1 ? "" : "s");
		buf_free(&lit);
		return -1;
	}
	rule->max_sub = max;
	if (max == 0) {
		rule->rlen = lit.len;
		rule->result = xmemdup(lit.p ? lit.p : "", lit.len + 1);
	} else {
		rule->rlen = len;
		rule->result = xmemdup(p, len + 1);
	}
	buf_free(&lit);
	return 0;
}

/*
 * rules_line - compile one logical line (no NUL inside, starts with a
 * non-space byte).  Returns 0, or -1 with "file, line N: text" in why.
 */
static int
rules_line(struct dict_rules *r, unsigned long line, char *p, size_t len,
    struct buf *why)
{
	struct buf msg = BUF_INIT;
	struct rule *rule;
	void *pat = NULL;
	size_t ngroups = 0;
	int negate = 0, rc;
	char *end = p + len;

	while (end > p && IS_SPACE(end[-1]))
		end--;
	*end = 0;
	if (r->n >= DICT_RULES_MAX) {
		buf_printf(&msg, "too many rules (limit %d)", DICT_RULES_MAX);
		goto bad;
	}
	if (rules_keyword(p, "endif")) {
		if (*rules_skip_space(p + 5) != 0) {
			buf_puts(&msg, "extra text after \"endif\"");
			goto bad;
		}
		if (r->depth == 0) {
			buf_puts(&msg, "\"endif\" without a matching \"if\"");
			goto bad;
		}
		r->v[r->open[--r->depth]].skip = r->n;
		rule = rules_add(r);
		rule->kind = RULE_ENDIF;
		rule->line = line;
		return 0;
	}
	if (rules_keyword(p, "if")) {
		if (r->depth >= DICT_RULES_DEPTH) {
			buf_printf(&msg, "\"if\" nested too deeply (limit %d)",
			    DICT_RULES_DEPTH);
			goto bad;
		}
		p = rules_skip_space(p + 2);
		if ((rc = rules_pattern(r, &p, &pat, &ngroups, &negate,
		    &msg)) != DICT_RULES_OK) {
			/* Skipping an "if" would apply its block to all. */
			if (rc == DICT_RULES_SKIP)
				buf_puts(&msg, " (an \"if\" is never skipped)");
			goto bad;
		}
		if (*rules_skip_space(p) != 0) {
			r->eng->free(pat);
			buf_puts(&msg, "extra text after the \"if\" pattern "
			    "(do not indent the lines between \"if\" and "
			    "\"endif\": an indented line continues the line "
			    "before it)");
			goto bad;
		}
		r->open[r->depth++] = r->n;
		rule = rules_add(r);
		rule->kind = RULE_IF;
		rule->line = line;
		rule->negate = negate;
		rule->pat = pat;
		return 0;
	}
	rc = rules_pattern(r, &p, &pat, &ngroups, &negate, &msg);
	if (rc == DICT_RULES_SKIP) {
		log_warn("%s, line %lu: %s: skipping this rule", r->fname,
		    line, buf_str(&msg));
		buf_free(&msg);
		return 0;
	}
	if (rc != DICT_RULES_OK)
		goto bad;
	p = rules_skip_space(p);
	if (*p == 0 && !r->eng->empty_ok) {
		r->eng->free(pat);
		buf_puts(&msg, "no lookup result");
		goto bad;
	}
	if (*p == 0)
		log_warn("%s, line %lu: no lookup result: using an empty "
		    "string", r->fname, line);
	rule = rules_add(r);
	rule->kind = RULE_MATCH;
	rule->line = line;
	rule->negate = negate;
	rule->pat = pat;
	if (rules_result(r, rule, p, (size_t)(end - p), ngroups, &msg) < 0) {
		r->eng->free(pat);
		r->n--;
		goto bad;
	}
	buf_free(&msg);
	return 0;
bad:
	buf_reset(why);
	buf_printf(why, "%s, line %lu: %s", r->fname, line, buf_str(&msg));
	buf_free(&msg);
	return -1;
}

/* rules_line_cb - dict_source_lines() callback: one logical line */
static int
rules_line_cb(void *ctx, unsigned long line, char *p, size_t len,
    struct buf *why)
{
	return rules_line(ctx, line, p, len, why);
}

/*
 * rules_parse - split the text into logical lines (as postmap source
 * files are split) and compile each.  Returns 0, or -1 with a reason.
 */
static int
rules_parse(struct dict_rules *r, const char *text, size_t len,
    struct buf *why)
{
	if (dict_source_lines(r->fname, text, len, DICT_RULES_LINE_MAX,
	    rules_line_cb, r, why) < 0)
		return -1;
	if (r->depth > 0) {
		buf_printf(why, "%s, line %lu: \"if\" without a matching "
		    "\"endif\"", r->fname, r->v[r->open[r->depth - 1]].line);
		return -1;
	}
	return 0;
}

/* rules_lookup - first matching rule wins */
static int
rules_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_rules *r = (struct dict_rules *)d;
	struct dict_span spans[DICT_RULES_SUB_MAX + 1];
	const struct rule *rule;
	size_t i, klen, nspans;
	int m;

	if ((klen = strnlen(key, DICT_KEY_MAX + 1)) > DICT_KEY_MAX)
		return DICT_NOTFOUND;
	for (i = 0; i < r->n; i++) {
		rule = &r->v[i];
		if (rule->kind == RULE_ENDIF)
			continue;
		nspans = rule->max_sub ? rule->max_sub + 1 : 0;
		if ((m = r->eng->match(rule->pat, key, klen, spans, nspans,
		    why)) < 0) {
			buf_printf(why, " (line %lu)", rule->line);
			return DICT_ERROR;
		}
		if (m == DICT_RULES_NA || m == rule->negate) {
			/* No match: a failed "if" skips to its "endif". */
			if (rule->kind == RULE_IF)
				i = rule->skip;
			continue;
		}
		if (rule->kind == RULE_IF)
			continue;
		if (rule->max_sub == 0) {
			buf_set(value, rule->result, rule->rlen);
		} else if (dict_rules_expand(rule->result, rule->rlen, key,
		    spans, nspans, NULL, value, why) < 0) {
			buf_printf(why, " (line %lu)", rule->line);
			return DICT_ERROR;
		}
		return DICT_FOUND;
	}
	return DICT_NOTFOUND;
}

/* rules_changed - was the file replaced or rewritten? */
static int
rules_changed(struct dict *d)
{
	return dict_srcfile_changed(&((struct dict_rules *)d)->file);
}

/* rules_close - free the rules and close the file */
static void
rules_close(struct dict *d)
{
	struct dict_rules *r = (struct dict_rules *)d;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].pat != NULL)
			r->eng->free(r->v[i].pat);
		free(r->v[i].result);
	}
	free(r->v);
	dict_srcfile_close(&r->file);
	free(r);
}

/*
 * dict_rules_open - read and compile the rule file at path with the
 * given engine.  Returns the table, or NULL with a reason.
 */
struct dict *
dict_rules_open(const char *path, int flags,
    const struct dict_rules_engine *eng, struct buf *why)
{
	struct dict_rules *r;
	struct buf text = BUF_INIT;

	r = xcalloc(1, sizeof(*r));
	r->eng = eng;
	r->file.fd = -1;
	if (dict_srcfile_open(&r->file, path, DICT_RULES_FILE_MAX, &text,
	    why) < 0)
		goto bad;
	r->fname = r->file.path;
	if (rules_parse(r, text.p, text.len, why) < 0)
		goto bad;
	buf_free(&text);
	r->dict.flags = flags | DICT_FLAG_PATTERN;
	r->dict.lookup = rules_lookup;
	r->dict.changed = rules_changed;
	r->dict.close = rules_close;
	return &r->dict;
bad:
	buf_free(&text);
	rules_close(&r->dict);
	return NULL;
}

/* rules_char - a byte for a message: itself if printable, else \xNN */
static const char *
rules_char(int c, char *out, size_t size)
{
	if (isprint((unsigned char)c))
		snprintf(out, size, "%c", c);
	else
		snprintf(out, size, "\\x%02x", (unsigned char)c);
	return out;
}

/*
 * dict_rules_delimited - cut "/pattern/flags" at *cp: the first byte is
 * the delimiter (not a letter, digit, white space or backslash); a
 * backslash escapes the next byte and stays in the pattern.  The
 * pattern and flags are NUL-terminated in place; *cp moves past the
 * flags.  Returns 0, or -1 with a reason.
 */
int
dict_rules_delimited(char **cp, char **pattern, char **flags,
    struct buf *why)
{
	char *p = *cp, delim, tmp[8];

	delim = *p;
	if (delim == 0 || IS_ALNUM(delim) || IS_SPACE(delim) ||
	    delim == '\\') {
		buf_printf(why, "pattern must start with a delimiter such as "
		    "\"/\", not \"%s\"", rules_char(delim, tmp, sizeof(tmp)));
		return -1;
	}
	*pattern = ++p;
	while (*p && *p != delim) {
		if (*p == '\\' && p[1] != 0)
			p++;
		p++;
	}
	if (*p == 0) {
		buf_printf(why, "no closing pattern delimiter \"%s\"",
		    rules_char(delim, tmp, sizeof(tmp)));
		return -1;
	}
	*p++ = 0;
	*flags = p;
	while (*p && !IS_SPACE(*p))
		p++;
	if (*p != 0)
		*p++ = 0;
	*cp = p;
	return 0;
}

/*
 * dict_rules_expand - substitute groups into a result template of len
 * bytes.  With key NULL (scan mode, at open time) check the syntax, set
 * *maxp to the highest group number and put the text without the $n in
 * out.  Otherwise append the text of the groups in spans (nspans of
 * them; a group not set or beyond nspans is empty).  Returns 0, or -1
 * with a reason (bad syntax, or the output would exceed DICT_VALUE_MAX).
 */
int
dict_rules_expand(const char *tmpl, size_t len, const char *key,
    const struct dict_span *spans, size_t nspans, size_t *maxp,
    struct buf *out, struct buf *why)
{
	size_t i = 0, max = 0, nlen, n, j;
	const char *name, *close;
	char tmp[8];

	buf_reset(out);
	while (i < len) {
		if (tmpl[i] != '$') {
			const char *dollar = memchr(tmpl + i, '$', len - i);
			size_t run = dollar ? (size_t)(dollar - tmpl) - i :
			    len - i;

			buf_put(out, tmpl + i, run);
			i += run;
			goto check;
		}
		if (i + 1 == len) {
			buf_puts(why, "\"$\" at the end of the result (write "
			    "\"$$\" for a dollar sign)");
			return -1;
		}
		if (tmpl[i + 1] == '$') {
			buf_putc(out, '$');
			i += 2;
			goto check;
		}
		if (tmpl[i + 1] == '{' || tmpl[i + 1] == '(') {
			close = memchr(tmpl + i + 2, tmpl[i + 1] == '{' ?
			    '}' : ')', len - i - 2);
			if (close == NULL) {
				buf_printf(why, "unterminated \"$%c\" in the "
				    "result", tmpl[i + 1]);
				return -1;
			}
			name = tmpl + i + 2;
			nlen = (size_t)(close - name);
			i = (size_t)(close - tmpl) + 1;
		} else if (IS_ALNUM(tmpl[i + 1]) || tmpl[i + 1] == '_') {
			name = tmpl + i + 1;
			for (nlen = 0; i + 1 + nlen < len &&
			    (IS_ALNUM(name[nlen]) || name[nlen] == '_'); nlen++)
				;
			i += 1 + nlen;
		} else {
			buf_printf(why, "\"$\" followed by \"%s\" in the "
			    "result (write $1..$%d, ${n} for a group, \"$$\" "
			    "for a dollar sign)", rules_char(tmpl[i + 1], tmp,
			    sizeof(tmp)), DICT_RULES_SUB_MAX);
			return -1;
		}
		for (j = 0, n = 0; j < nlen && j < 3 && isdigit((unsigned
		    char)name[j]); j++)
			n = n * 10 + (size_t)(name[j] - '0');
		if (nlen == 0 || j != nlen || n < 1 ||
		    n > DICT_RULES_SUB_MAX) {
			buf_printf(why, "bad group reference \"$%.*s%s\" in "
			    "the result (groups are $1..$%d; write \"$$\" for "
			    "a dollar sign)", (int)(nlen > 20 ? 20 : nlen),
			    name, nlen > 20 ? "..." : "", DICT_RULES_SUB_MAX);
			return -1;
		}
		if (key == NULL) {
			if (n > max)
				max = n;
		} else if (n < nspans && spans[n].set) {
			if (spans[n].end - spans[n].start > DICT_VALUE_MAX -
			    out->len)
				goto toolong;
			buf_put(out, key + spans[n].start,
			    spans[n].end - spans[n].start);
		}
check:
		if (out->len > DICT_VALUE_MAX)
			goto toolong;
	}
	if (maxp != NULL)
		*maxp = max;
	return 0;
toolong:
	buf_printf(why, "result is too long after substitution (limit %d "
	    "bytes)", DICT_VALUE_MAX);
	return -1;
}
