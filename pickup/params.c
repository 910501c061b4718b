/*
 * NAME		params - pickup(8) parameter table
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "pickup.h"

const struct param pickup_params[] = {
	P_LONG("bounce_size_limit", "50000", struct pickup_cfg,
	    bounce_size_limit, 1, 0),
	P_END
};

PARAM_TABLE(pickup_params);
