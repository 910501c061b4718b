/*
 * NAME		mynetworks - the computed default of mynetworks
 * DESCRIPTION	See mynetworks.c: the mynetworks_style defaults (host,
 *		subnet, class) from this machine's interface addresses.
 */
#ifndef MAIL_MYNETWORKS_H
#define MAIL_MYNETWORKS_H

#include "util/buf.h"

struct conf;

void	 mynetworks_compute(const char *, struct buf *);
void	 mynetworks_default(struct conf *);

#endif
