/*
 * NAME		bounce.h - bounce daemon private interface
 */
#ifndef BOUNCE_BOUNCE_H
#define BOUNCE_BOUNCE_H

#include <stddef.h>

#include "mail/conf.h"
#include "util/buf.h"

struct bounce_cfg {
	long	 bounce_size_limit;
	char	*notify_classes;
	char	*bounce_notice_recipient;
	char	*twobounce_notice_recipient;
	char	*delay_notice_recipient;
	long	 maximal_queue_lifetime;
	long	 delay_warning_time;
};

extern struct bounce_cfg bounce_cfg;
extern const struct param bounce_params[];
extern const char *bounce_queue;	/* log queue: bounce, defer, trace */

/* Request limits. */
#define BOUNCE_REQ_MAX		(256 * 1024)	/* one request frame */
#define BOUNCE_REASON_MAX	(64 * 1024)
#define BOUNCE_RELAY_MAX	1024
#define BOUNCE_ENVID_MAX	512
#define BOUNCE_NAME_MAX		32	/* request, action, queue */

/* append.c */
int	 bounce_append(const char *, size_t, struct buf *);

/* notify.c */
#define BOUNCE_FLUSH		0
#define BOUNCE_WARN		1
int	 bounce_notify(int, const char *, size_t, struct buf *);
int	 bounce_notify_class(const char *);

#endif
