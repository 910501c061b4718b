/*
 * NAME		anvil.h - anvil(8) internals: the client table
 * DESCRIPTION	One entry per ident ("service:client_address"): the
 *		number of connections open now and the connection, message,
 *		recipient and AUTH counts of the current time unit.  Each
 *		anvil client (an smtpd process) has a struct anvil_local
 *		that remembers the connections it counted, so that they are
 *		released when it goes away.  Time is passed in (milliseconds
 *		on a monotonic clock) so that the table can be tested.
 */
#ifndef ANVIL_ANVIL_H
#define ANVIL_ANVIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mail/anvil_clnt.h"
#include "mail/conf.h"
#include "util/buf.h"

#define ANVIL_ENTRIES_MAX	100000	/* clients tracked at once */
#define ANVIL_LOCAL_MAX		64	/* connections one anvil client holds */

struct anvil_cfg {
	long	 rate_time_unit;	/* anvil_rate_time_unit, seconds */
	long	 status_update_time;	/* anvil_status_update_time */
};

extern struct anvil_cfg anvil_cfg;
extern const struct param anvil_params[];

struct anvil_entry {
	int	 count;			/* connections open now */
	int	 conn_rate, mail_rate, rcpt_rate, auth_rate;
	int64_t	 start;			/* this time unit began */
};

/* A maximum and who reached it when, for the statistics. */
struct anvil_max {
	long	 value;
	char	 ident[ANVIL_IDENT_MAX + 1];
	time_t	 when;
};

struct anvil_tab {
	struct htable *h;
	size_t	 n;
	size_t	 max;			/* entries at most */
	int64_t	 unit_ms;
	int	 full_warned;
	struct anvil_max max_conn_rate, max_conn_count, max_mail_rate,
		 max_rcpt_rate, max_auth_rate;
	size_t	 max_size;
	time_t	 max_size_when;
};

struct anvil_local {
	char	*ident[ANVIL_LOCAL_MAX];
	int	 count[ANVIL_LOCAL_MAX];
	size_t	 n;
};

struct anvil_tab *anvil_tab_new(size_t, int64_t);
void	 anvil_tab_free(struct anvil_tab *);
int	 anvil_tab_request(struct anvil_tab *, struct anvil_local *, int,
	    const char *, int64_t, struct anvil_counts *);
void	 anvil_local_drop(struct anvil_tab *, struct anvil_local *, int64_t);
size_t	 anvil_tab_expire(struct anvil_tab *, int64_t);
void	 anvil_tab_stats(struct anvil_tab *, long);
int	 anvil_serve(struct anvil_tab *, struct anvil_local *, const char *,
	    size_t, int64_t, struct buf *);

#endif
