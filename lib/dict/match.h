/*
 * NAME		match - domain and address lists (mydestination, mynetworks)
 * DESCRIPTION	A list is Postfix's: entries separated by comma and/or
 *		white space; "name" matches that domain (case-insensitive);
 *		".name" matches any subdomain of name; "!pattern" excludes
 *		(the first matching entry decides); "/file/name" inserts the
 *		entries in that file; "type:table" looks the domain up (found
 *		means match).  A table that cannot answer makes the match an
 *		error (-1), which callers turn into a temporary failure.
 *
 *		With MATCH_FLAG_PARENT (the list's name is in Postfix's
 *		parent_domain_matches_subdomains), "name" also matches the
 *		subdomains of name, and tables are asked for the parent
 *		domains as "name" rather than ".name".
 *
 *		Address lists (mynetworks) also take network patterns:
 *		"a.b.c.d", "a.b.c.d/len", "[a.b.c.d]", "[ipv6]", "[ipv6]/len"
 *		(a bare IPv6 address is accepted too); match_list_addr()
 *		matches a client address against them, match_list_host() a
 *		client name and address (names against the domain patterns,
 *		tables with the name, then the address).  A network pattern
 *		with host bits set or a bad length is a configuration error:
 *		it is logged once and every match of that list fails (-1).
 */
#ifndef DICT_MATCH_H
#define DICT_MATCH_H

#include "util/buf.h"

#define MATCH_FLAG_PARENT	(1 << 0)	/* "name" matches subdomains */

/* A network: family (4 or 6), address bytes, prefix length. */
struct match_net {
	int	 family;		/* 4 or 6 */
	unsigned char addr[16];		/* 4 or 16 bytes used */
	int	 len;			/* prefix length in bits */
};

struct match_list;

struct match_list *match_list_new(const char *, const char *);
struct match_list *match_list_new_flags(const char *, const char *, int);
int	 match_list_domain(struct match_list *, const char *, struct buf *);
int	 match_list_addr(struct match_list *, const char *, struct buf *);
int	 match_list_host(struct match_list *, const char *, const char *,
	    struct buf *);
int	 match_list_empty(const struct match_list *);
void	 match_list_free(struct match_list *);

int	 match_parent_style(const char *, const char *);
int	 match_table_is_pattern(const char *);
int	 match_net_parse(const char *, struct match_net *, struct buf *);
int	 match_addr_parse(const char *, struct match_net *);
int	 match_net_contains(const struct match_net *, const struct match_net *);

#endif
