/*
 * NAME		dict_ldap - the parts of the ldap: client that tests reach
 * DESCRIPTION	dict_ldap_servers() turns a server_host list into LDAP
 *		URLs; dict_ldap_quote_filter() and dict_ldap_quote_dn() are
 *		the dq_quote_fn functions for query_filter (RFC 4515 value
 *		escapes) and search_base (RFC 4514 attribute value escapes).
 *		dict_ldap_attr_list() splits and checks an attribute list.
 *		The table itself is opened through dict_open("ldap:file").
 * SEE ALSO	dict_ldap.c, doc/tables.md, ldap_table(5)
 */
#ifndef DICT_DICT_LDAP_H
#define DICT_DICT_LDAP_H

#include <stddef.h>

#include "util/argv.h"
#include "util/buf.h"

#define LDAP_SERVERS_MAX	32	/* server_host entries */
#define LDAP_SERVER_LEN_MAX	1024	/* bytes per server_host entry */
#define LDAP_ATTRS_MAX		64	/* names per attribute list */
#define LDAP_ATTR_LEN_MAX	256	/* bytes per attribute name */

int	 dict_ldap_servers(const char *, long, struct argv *, struct buf *);
int	 dict_ldap_attr_list(const char *, const char *, struct argv *,
	    struct buf *);
void	 dict_ldap_quote_filter(struct buf *, const char *, size_t, void *);
void	 dict_ldap_quote_dn(struct buf *, const char *, size_t, void *);

#endif
