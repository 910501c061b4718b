/*
 * NAME		dict_socketmap - the socketmap client's reply parser
 * DESCRIPTION	dict_socketmap_parse() checks one reply of Sendmail's
 *		socketmap protocol held in memory; the client reads replies
 *		into a buffer and parses them with it (and so do the unit
 *		tests and the fuzz target).  See dict_socketmap.c.
 */
#ifndef DICT_DICT_SOCKETMAP_H
#define DICT_DICT_SOCKETMAP_H

#include <stddef.h>

#include "util/buf.h"

#define SOCKETMAP_MAX_REPLY	100000		/* bytes of netstring data */
#define SOCKETMAP_MORE		(-2)		/* incomplete: read more */

int	 dict_socketmap_parse(const char *, size_t, size_t *, struct buf *,
	    struct buf *, int *);

#endif
