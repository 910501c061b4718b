/*
 * NAME		dict_rules - rule files shared by regexp:, pcre: and cidr:
 * DESCRIPTION	A rule file is read and compiled when the table is opened
 *		(daemons enter their chroot jail later).  Logical lines are
 *		built as in postmap(1) source files: a line that starts with
 *		white space continues the previous one, "#" comment lines
 *		and blank lines are skipped.  Each logical line is one of
 *
 *			[!]PATTERN result
 *			if [!]PATTERN
 *			endif
 *
 *		("if" and "endif" in any case).  The engine (struct
 *		dict_rules_engine) cuts one pattern off the line and compiles
 *		it; everything else is done here: negation, if..endif
 *		nesting, the result text and its $n substitution, bounds,
 *		error messages with file name and line number, the first
 *		match wins at lookup time, and noticing that the file
 *		changed on disk.
 *
 *		dict_rules_open() returns a complete struct dict for
 *		dict_open(), or NULL with a reason.  dict_rules_delimited()
 *		and dict_rules_expand() are helpers for the regexp: and
 *		pcre: engines ("/pattern/flags" and "$1" results).
 */
#ifndef DICT_DICT_RULES_H
#define DICT_DICT_RULES_H

#include <stddef.h>

#include "util/buf.h"
#include "dict.h"

#define DICT_RULES_MAX		100000	/* rules (lines) in one file */
#define DICT_RULES_DEPTH	64	/* if..endif nesting */
#define DICT_RULES_LINE_MAX	(DICT_VALUE_MAX + 65536) /* logical line */
#define DICT_RULES_FILE_MAX	(64UL * 1024 * 1024)	/* file size */
#define DICT_RULES_SUB_MAX	99	/* highest $n */

/* Text matched by a pattern's group; set == 0: the group did not match. */
struct dict_span {
	size_t	 start;
	size_t	 end;
	int	 set;
};

/* Compile results. */
#define DICT_RULES_OK	0
#define DICT_RULES_BAD	(-1)		/* error: the table cannot open */
#define DICT_RULES_SKIP	1		/* warn and skip this rule */

/* Match result: the pattern does not apply to this kind of key. */
#define DICT_RULES_NA	2

struct dict_rules_engine {
	const char *type;		/* "regexp", for messages */
	int	 subst;			/* results take $n substitution */

	/*
	 * Cut the pattern at *cp (after any "!"), compile it and move *cp
	 * past it.  Set *pat and *ngroups (capture groups, for $n).  Return
	 * DICT_RULES_OK, or DICT_RULES_BAD / DICT_RULES_SKIP with a reason
	 * (without file and line) in why.
	 */
	int	(*compile)(char **cp, void **pat, size_t *ngroups,
		    struct buf *why);

	/*
	 * Match a key of klen bytes; fill spans[0..nspans-1] when nspans
	 * > 0.  Return 1 (match), 0 (no match), DICT_RULES_NA (the key is
	 * not of the pattern's kind: neither the rule nor its negation
	 * applies) or -1 with a reason.
	 */
	int	(*match)(void *pat, const char *key, size_t klen,
		    struct dict_span *spans, size_t nspans, struct buf *why);

	void	(*free)(void *pat);
	int	 empty_ok;		/* a rule may have an empty result */
};

struct dict *dict_rules_open(const char *, int,
	    const struct dict_rules_engine *, struct buf *);
int	 dict_rules_delimited(char **, char **, char **, struct buf *);
int	 dict_rules_expand(const char *, size_t, const char *,
	    const struct dict_span *, size_t, size_t *, struct buf *,
	    struct buf *);

#endif
