/*
 * NAME		match - domain lists as in mydestination and relay_domains
 * DESCRIPTION	A list is Postfix's: entries separated by comma and/or
 *		white space; "name" matches that domain (case-insensitive);
 *		".name" matches any subdomain of name; "!pattern" excludes
 *		(the first matching entry decides); "/file/name" inserts the
 *		entries in that file; "type:table" looks the domain up (found
 *		means match).  A table that cannot answer makes the match an
 *		error (-1), which callers turn into a temporary failure.
 */
#ifndef DICT_MATCH_H
#define DICT_MATCH_H

#include "util/buf.h"

struct match_list;

struct match_list *match_list_new(const char *, const char *);
int	 match_list_domain(struct match_list *, const char *, struct buf *);
int	 match_list_empty(const struct match_list *);
void	 match_list_free(struct match_list *);

#endif
