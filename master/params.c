/*
 * NAME		params - master(8) parameter table
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "master.h"

const struct param master_params[] = {
	P_TIME("service_throttle_time", "60s", struct master_cfg,
	    service_throttle_time, 's', 1, 0),
	P_INT("default_process_limit", "100", struct master_cfg,
	    default_process_limit, 1, 0),
	P_STR("inet_interfaces", "all", struct master_cfg, inet_interfaces),
	P_STR("inet_protocols", "all", struct master_cfg, inet_protocols),
	P_TIME("master_crash_window", "60s", struct master_cfg,
	    master_crash_window, 's', 1, 0),
	P_INT("master_crash_limit", "10", struct master_cfg,
	    master_crash_limit, 1, 0),
	P_END
};

PARAM_TABLE(master_params);
