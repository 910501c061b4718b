/*
 * NAME		pickup.h - pickup daemon private interface
 */
#ifndef PICKUP_PICKUP_H
#define PICKUP_PICKUP_H

#include "mail/conf.h"

struct pickup_cfg {
	long	 bounce_size_limit;
};

extern struct pickup_cfg pickup_cfg;
extern const struct param pickup_params[];

#endif
