/*
 * NAME		delivered - Delivered-To: loop detection for final delivery
 * DESCRIPTION	delivered_collect() gathers the Delivered-To: header values
 *		of a queued message (lower case, folded lines joined, at most
 *		DELIVERED_MAX of them) into a table.  delivered_seen() tells
 *		whether an address is among them, in its internal or its
 *		quoted (external) form.  local(8) and virtual(8) bounce a
 *		recipient that is found (5.4.6, mail forwarding loop).
 */
#ifndef MAIL_DELIVERED_H
#define MAIL_DELIVERED_H

#include "util/buf.h"
#include "util/htable.h"

#define DELIVERED_MAX		1000	/* Delivered-To: values kept */

int	 delivered_collect(int, long, struct htable *, struct buf *);
int	 delivered_seen(struct htable *, const char *);

#endif
