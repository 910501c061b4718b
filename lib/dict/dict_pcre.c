/*
 * NAME		dict_pcre - pcre: tables, Perl-compatible regular expressions
 * DESCRIPTION	pcre:/file is a rule file in Postfix's pcre_table(5) format,
 *		read by dict_rules(3) at open time.  This file is the engine:
 *		it cuts "/pattern/flags" (any delimiter that is not a
 *		letter, digit, white space or backslash) and compiles it
 *		with PCRE2 (8-bit code units, no UTF).
 *
 *		Flags toggle Postfix's defaults: "i" (on: PCRE2_CASELESS),
 *		"s" (on: PCRE2_DOTALL), "m" (PCRE2_MULTILINE), "x"
 *		(PCRE2_EXTENDED), "A" (PCRE2_ANCHORED), "E"
 *		(PCRE2_DOLLAR_ENDONLY), "U" (PCRE2_UNGREEDY).  "X" (PCRE_EXTRA
 *		of the old library) is accepted and ignored, as Postfix does
 *		when built with PCRE2.  Results may use $1..$99 (see
 *		dict_rules(3)).
 * SECURITY	Patterns come from the administrator, keys from anyone:
 *		each match runs with a match limit and a depth limit, so
 *		that a key cannot make a pattern backtrack for long; hitting
 *		a limit is a lookup error (a temporary failure), never "not
 *		found".
 * DIAGNOSTICS	Unknown flags and compile errors (with the offset in the
 *		pattern) make the open fail with the file name and line.
 * SEE ALSO	dict_rules(3), pcre2pattern(3), doc/tables.md
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_rules.h"

#define PCRE_MATCH_LIMIT	1000000	/* backtracking steps per match */
#define PCRE_DEPTH_LIMIT	10000	/* nested backtracking */

struct pcre_pat {
	pcre2_code *code;
	pcre2_match_context *mctx;
};

/* pcre_rule_error - PCRE2 error text into why */
static void
pcre_rule_error(const char *what, int err, struct buf *why)
{
	PCRE2_UCHAR msg[256];

	if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
		buf_printf(why, "%s: PCRE2 error %d", what, err);
	else
		buf_printf(why, "%s: %s", what, (const char *)msg);
}

/* pcre_rule_free - free a compiled pattern */
static void
pcre_rule_free(void *pat)
{
	struct pcre_pat *p = pat;

	pcre2_match_context_free(p->mctx);
	pcre2_code_free(p->code);
	free(p);
}

/* pcre_rule_compile - cut and compile "/pattern/flags" */
static int
pcre_rule_compile(char **cp, void **pat, size_t *ngroups, struct buf *why)
{
	uint32_t opts = PCRE2_CASELESS | PCRE2_DOTALL, count = 0;
	char *pattern, *flags, *f;
	struct pcre_pat *p;
	PCRE2_SIZE off;
	int err;

	if (dict_rules_delimited(cp, &pattern, &flags, why) < 0)
		return DICT_RULES_BAD;
	for (f = flags; *f; f++) {
		switch (*f) {
		case 'i':
			opts ^= PCRE2_CASELESS;
			break;
		case 'm':
			opts ^= PCRE2_MULTILINE;
			break;
		case 's':
			opts ^= PCRE2_DOTALL;
			break;
		case 'x':
			opts ^= PCRE2_EXTENDED;
			break;
		case 'A':
			opts ^= PCRE2_ANCHORED;
			break;
		case 'E':
			opts ^= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'U':
			opts ^= PCRE2_UNGREEDY;
			break;
		case 'X':
			break;		/* PCRE_EXTRA: none in PCRE2 */
		default:
			buf_printf(why, "unknown pcre flag \"%c\" (flags are "
			    "i, m, s, x, A, E, U, X)", *f);
			return DICT_RULES_BAD;
		}
	}
	p = xcalloc(1, sizeof(*p));
	p->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    opts, &err, &off, NULL);
	if (p->code == NULL) {
		buf_printf(why, "bad regular expression at offset %zu",
		    (size_t)off);
		pcre_rule_error("", err, why);
		free(p);
		return DICT_RULES_BAD;
	}
	if (pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &count) != 0)
		count = 0;
	if ((p->mctx = pcre2_match_context_create(NULL)) == NULL)
		log_panic("out of memory (PCRE2)");
	pcre2_set_match_limit(p->mctx, PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, PCRE_DEPTH_LIMIT);
	*pat = p;
	*ngroups = count;
	return DICT_RULES_OK;
}

/* pcre_rule_match - match the whole key; fill the spans asked for */
static int
pcre_rule_match(void *pat, const char *key, size_t klen,
    struct dict_span *spans, size_t nspans, struct buf *why)
{
	struct pcre_pat *p = pat;
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	uint32_t count;
	size_t i;
	int rc;

	md = pcre2_match_data_create(nspans ? (uint32_t)nspans : 1, NULL);
	if (md == NULL)
		log_panic("out of memory (PCRE2)");
	rc = pcre2_match(p->code, (PCRE2_SPTR)key, klen, 0, 0, md, p->mctx);
	if (rc == PCRE2_ERROR_NOMATCH) {
		pcre2_match_data_free(md);
		return 0;
	}
	if (rc < 0) {
		pcre_rule_error("pcre2_match", rc, why);
		pcre2_match_data_free(md);
		return -1;
	}
	/* rc == 0: a match with more groups than asked for. */
	ov = pcre2_get_ovector_pointer(md);
	count = pcre2_get_ovector_count(md);
	for (i = 0; i < nspans; i++) {
		spans[i].set = i < count && ov[2 * i] != PCRE2_UNSET &&
		    ov[2 * i + 1] >= ov[2 * i];
		spans[i].start = spans[i].set ? ov[2 * i] : 0;
		spans[i].end = spans[i].set ? ov[2 * i + 1] : 0;
	}
	pcre2_match_data_free(md);
	return 1;
}

static const struct dict_rules_engine pcre_engine = {
	.type = "pcre",
	.subst = 1,
	.compile = pcre_rule_compile,
	.match = pcre_rule_match,
	.free = pcre_rule_free,
	.empty_ok = 1,
};

/* dict_pcre_open - open pcre:/file */
struct dict *
dict_pcre_open(const char *name, int flags, struct buf *why)
{
	return dict_rules_open(name, flags, &pcre_engine, why);
}
