/*
 * NAME		trivial-rewrite.h - private interface
 */
#ifndef TRIVIAL_REWRITE_H
#define TRIVIAL_REWRITE_H

#include "mail/conf.h"
#include "mail/rewrite_clnt.h"
#include "util/buf.h"

struct tr_cfg {
	int	 append_at_myorigin;
	int	 append_dot_mydomain;
	int	 swap_bangpath;
	int	 allow_percent_hack;
	char	*local_transport;
	char	*default_transport;
	char	*relay_transport;
	char	*relayhost;
	char	*relay_domains;
	char	*remote_header_rewrite_domain;
	char	*transport_maps;
	char	*virtual_alias_domains;
	char	*virtual_mailbox_domains;
	char	*virtual_transport;
};

extern struct tr_cfg tr_cfg;
extern const struct param tr_params[];

#define TR_VALIAS_TEXT	"5.1.1 User unknown in virtual alias table"

void	 tr_init(void);
void	 tr_done(void);
const char *tr_tables_changed(void);
void	 tr_rewrite(const char *, const char *, struct buf *);
int	 tr_resolve(const char *, const char *, struct resolve_reply *,
	    struct buf *);

#endif
