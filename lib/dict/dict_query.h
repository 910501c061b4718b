/*
 * NAME		dict_query - shared parts of the ldap: and mysql: clients
 * DESCRIPTION	Both backends read a configuration file in main.cf form
 *		(ldap_table(5), mysql_table(5)), expand a query template
 *		with parts of the lookup key, restrict keys to a "domain"
 *		list, and turn each result value into text through a
 *		result_format template, joining values with "," and
 *		counting them against expansion_limit.
 *
 *		Templates, as in Postfix:
 *		  %%	a literal "%"
 *		  %s	the key (query), the result value (result_format)
 *		  %u	the local part of the key or value (the whole of it
 *			when it has no "@"); an empty local part suppresses
 *		  %d	the domain part; a key or value without one
 *			suppresses
 *		  %S %U %D  the same parts of the key, in both templates
 *		  %1..%9  the labels of the key's domain, %1 the last
 *			("com"); missing labels suppress
 *		Any other "%" sequence is a configuration error found when
 *		the table is opened.  A suppressed query is not sent (the
 *		lookup answers "not found"); a suppressed result value is
 *		skipped.  Query expansions are quoted by the backend's quote
 *		function (LDAP filter escapes, SQL escapes); result
 *		expansions are not.  dq_result_key_fits() tells before a
 *		query is sent whether the key has every part that
 *		result_format takes from it (%S %U %D %1..%9); when it has
 *		not, every value would be skipped, so the query need not be
 *		sent.
 * SECURITY	Expansions are bounded by DICT_VALUE_MAX; result values
 *		with a NUL byte are refused; the configuration file goes
 *		through the bounded main.cf parser.
 * SEE ALSO	doc/tables.md, ldap_table(5), mysql_table(5)
 */
#ifndef DICT_DICT_QUERY_H
#define DICT_DICT_QUERY_H

#include <stddef.h>

#include "util/buf.h"

struct match_list;

/* A configuration file in main.cf form. */
struct dq_file;

struct dq_file *dq_file_read(const char *, struct buf *);
const char *dq_str(struct dq_file *, const char *, const char *);
int	 dq_long(struct dq_file *, const char *, long, long, long, long *,
	    struct buf *);
int	 dq_bool(struct dq_file *, const char *, int, int *, struct buf *);
void	 dq_file_unknown(struct dq_file *, const char *const *);
const char *dq_file_name(const struct dq_file *);
void	 dq_file_free(struct dq_file *);

/* Appends the quoted form of (text, len) to out. */
typedef void (*dq_quote_fn)(struct buf *, const char *, size_t, void *);

int	 dq_template_check(const char *, struct buf *);
int	 dq_expand_query(const char *, const char *, dq_quote_fn, void *,
	    struct buf *, struct buf *);

/* Result values joined into one lookup answer. */
struct dq_result {
	struct buf *out;		/* the answer so far */
	const char *fmt;		/* result_format */
	const char *key;		/* the lookup key */
	long	 limit;			/* expansion_limit, 0: none */
	long	 count;			/* values added */
};

void	 dq_result_init(struct dq_result *, struct buf *, const char *,
	    const char *, long);
int	 dq_result_add(struct dq_result *, const char *, size_t,
	    struct buf *);
int	 dq_result_key_fits(const char *, const char *);

struct match_list *dq_domain_list(struct dq_file *);
int	 dq_domain_ok(struct match_list *, const char *, struct buf *);

#endif
