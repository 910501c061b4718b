/*
 * NAME		dict_mysql - the mysql: table's host list (for unit tests)
 * DESCRIPTION	The "hosts" parameter of a mysql_table(5) file names the
 *		servers to try: "unix:/path/name" (a UNIX-domain socket),
 *		"inet:host", "inet:host:port", "host" or "host:port" (TCP;
 *		IPv6 addresses in brackets, "[::1]:3306").  Entries are
 *		separated by commas or white space.  myh_parse() checks
 *		the whole list when the table is opened; myh_order()
 *		gives the order in which a connection is tried: UNIX
 *		sockets first, then TCP hosts, each group shuffled, hosts
 *		that failed recently (down_until in the future) left out.
 * SECURITY	The list is bounded: at most MYH_MAX entries, each at most
 *		MYH_NAME_MAX bytes; ports are 1..65535.
 * SEE ALSO	dict_mysql.c, doc/tables.md
 */
#ifndef DICT_DICT_MYSQL_H
#define DICT_DICT_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define MYH_MAX		64		/* entries in "hosts" */
#define MYH_NAME_MAX	1024		/* bytes per entry */

struct myh_host {
	char	*text;			/* as written, for messages */
	int	 is_unix;		/* UNIX-domain socket */
	char	*name;			/* host name/address, or socket path */
	unsigned port;			/* TCP port; 0: the client default */
	int64_t	 down_until;		/* ms (monotonic): skip until then */
};

struct myh_list {
	struct myh_host *v;
	size_t	 n;
};

int	 myh_parse(const char *, struct myh_list *, struct buf *);
size_t	 myh_order(const struct myh_list *, int64_t, unsigned (*)(void),
	    size_t *);
void	 myh_free(struct myh_list *);

#endif
