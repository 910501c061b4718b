/*
 * NAME		showq - private interface of the showq daemon
 */
#ifndef SHOWQ_SHOWQ_H
#define SHOWQ_SHOWQ_H

#include "util/stream.h"

void	 showq_serve(struct stream *);

#endif
