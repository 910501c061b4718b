/*
 * NAME		mastercf - master.cf parsing
 * DESCRIPTION	Postfix's column format: service type private unpriv chroot
 *		wakeup maxproc command [args...].  A line that starts with
 *		white space continues the previous entry; '#' lines and blank
 *		lines are ignored; '-' selects a column's default.  Arguments
 *		may be grouped with "{ ... }" to contain white space (Postfix
 *		3.0), e.g. "-o { smtpd_banner = $myhostname ready }".
 */
#ifndef MAIL_MASTERCF_H
#define MAIL_MASTERCF_H

#include <stddef.h>

#include "util/argv.h"
#include "util/buf.h"

struct mcf_ent {
	char	*service;
	char	*type;		/* inet unix unix-dgram fifo pass */
	int	 private_;
	int	 unpriv;
	int	 chroot;
	int	 wakeup;	/* seconds; 0 none */
	int	 wakeup_cond;	/* "N?": only when the service is in use */
	int	 maxproc;	/* -1: default_process_limit; 0: no limit */
	struct argv *args;	/* args->v[0] is the command */
	int	 line;
};

struct mcf {
	struct mcf_ent *v;
	size_t	 n;
};

#define MCF_FILE_MAX	(1024 * 1024)
#define MCF_ENT_MAX	1000
#define MCF_ARGS_MAX	500

int	 mcf_parse(const char *, size_t, const char *, struct mcf *,
	    struct buf *);
int	 mcf_read(const char *, struct mcf *, struct buf *);
void	 mcf_free(struct mcf *);
const struct mcf_ent *mcf_find(const struct mcf *, const char *,
	    const char *);

#endif
