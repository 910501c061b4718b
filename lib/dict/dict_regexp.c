/*
 * NAME		dict_regexp - regexp: tables, POSIX regular expressions
 * DESCRIPTION	regexp:/file is a rule file in Postfix's regexp_table(5)
 *		format, read by dict_rules(3) at open time.  This file is
 *		the engine: it cuts "/pattern/flags" (any delimiter that is
 *		not a letter, digit, white space or backslash), compiles it
 *		with regcomp(3) and matches keys with regexec(3).
 *
 *		Flags toggle Postfix's defaults: "i" (on: case-insensitive
 *		matching), "x" (on: extended syntax, REG_EXTENDED) and "m"
 *		(off: multi-line mode, REG_NEWLINE).  Results may use $1..$99
 *		(see dict_rules(3)).
 * SECURITY	Patterns come from the administrator.  Keys are bounded by
 *		dict_lookup(); XXX regcomp(3) itself has no bound on the
 *		memory a pattern with nested counted repetitions may take.
 * DIAGNOSTICS	Unknown flags and regcomp(3) errors make the open fail with
 *		the file name, line and regerror(3) text.
 * SEE ALSO	dict_rules(3), regex(7), doc/tables.md
 */
#include <regex.h>
#include <stdlib.h>

#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_rules.h"

/* regexp_error - regerror(3) text into why */
static void
regexp_error(const char *what, int err, const regex_t *re, struct buf *why)
{
	char msg[256];

	(void)regerror(err, re, msg, sizeof(msg));
	buf_printf(why, "%s: %s", what, msg);
}

/* regexp_compile - cut and compile "/pattern/flags" */
static int
regexp_compile(char **cp, void **pat, size_t *ngroups, struct buf *why)
{
	char *pattern, *flags, *f;
	int cflags = REG_EXTENDED | REG_ICASE, err;
	regex_t *re;

	if (dict_rules_delimited(cp, &pattern, &flags, why) < 0)
		return DICT_RULES_BAD;
	for (f = flags; *f; f++) {
		switch (*f) {
		case 'i':
			cflags ^= REG_ICASE;
			break;
		case 'x':
			cflags ^= REG_EXTENDED;
			break;
		case 'm':
			cflags ^= REG_NEWLINE;
			break;
		default:
			buf_printf(why, "unknown regexp flag \"%c\" (flags are "
			    "i, m, x)", *f);
			return DICT_RULES_BAD;
		}
	}
	re = xmalloc(sizeof(*re));
	if ((err = regcomp(re, pattern, cflags)) != 0) {
		regexp_error("bad regular expression", err, re, why);
		free(re);
		return DICT_RULES_BAD;
	}
	*pat = re;
	*ngroups = re->re_nsub;
	return DICT_RULES_OK;
}

/* regexp_match - match the whole key; fill the spans asked for */
static int
regexp_match(void *pat, const char *key, size_t klen,
    struct dict_span *spans, size_t nspans, struct buf *why)
{
	regmatch_t pm[DICT_RULES_SUB_MAX + 1];
	regex_t *re = pat;
	size_t i;
	int err;

	(void)klen;
	if (nspans > DICT_RULES_SUB_MAX + 1)
		nspans = DICT_RULES_SUB_MAX + 1;
	err = regexec(re, key, nspans, nspans ? pm : NULL, 0);
	if (err == REG_NOMATCH)
		return 0;
	if (err != 0) {
		regexp_error("regexec", err, re, why);
		return -1;
	}
	for (i = 0; i < nspans; i++) {
		spans[i].set = pm[i].rm_so >= 0 && pm[i].rm_eo >= pm[i].rm_so;
		spans[i].start = spans[i].set ? (size_t)pm[i].rm_so : 0;
		spans[i].end = spans[i].set ? (size_t)pm[i].rm_eo : 0;
	}
	return 1;
}

/* regexp_free - free a compiled pattern */
static void
regexp_free(void *pat)
{
	regfree(pat);
	free(pat);
}

static const struct dict_rules_engine regexp_engine = {
	.type = "regexp",
	.subst = 1,
	.compile = regexp_compile,
	.match = regexp_match,
	.free = regexp_free,
	.empty_ok = 1,
};

/* dict_regexp_open - open regexp:/file */
struct dict *
dict_regexp_open(const char *name, int flags, struct buf *why)
{
	return dict_rules_open(name, flags, &regexp_engine, why);
}
