/*
 * NAME		params - anvil(8) parameter table
 * DESCRIPTION	Postfix's names and defaults.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "anvil.h"

struct anvil_cfg anvil_cfg;

const struct param anvil_params[] = {
	P_TIME("anvil_rate_time_unit", "60s", struct anvil_cfg,
	    rate_time_unit, 's', 1, 0),
	P_TIME("anvil_status_update_time", "600s", struct anvil_cfg,
	    status_update_time, 's', 1, 0),
	P_END
};

PARAM_TABLE(anvil_params);
