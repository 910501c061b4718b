/*
 * NAME		params - bounce(8) parameter table
 * DESCRIPTION	Postfix's names and defaults.  maximal_queue_lifetime and
 *		delay_warning_time only shape the wording of notices here;
 *		the queue manager acts on them.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "bounce.h"

const struct param bounce_params[] = {
	P_LONG("bounce_size_limit", "50000", struct bounce_cfg,
	    bounce_size_limit, 1, 0),
	P_STR("notify_classes", "resource, software", struct bounce_cfg,
	    notify_classes),
	P_STRN("bounce_notice_recipient", "postmaster", struct bounce_cfg,
	    bounce_notice_recipient, 1),
	P_STRN("2bounce_notice_recipient", "postmaster", struct bounce_cfg,
	    twobounce_notice_recipient, 1),
	P_STRN("delay_notice_recipient", "postmaster", struct bounce_cfg,
	    delay_notice_recipient, 1),
	P_TIME("maximal_queue_lifetime", "5d", struct bounce_cfg,
	    maximal_queue_lifetime, 'd', 0, 0),
	P_TIME("delay_warning_time", "0h", struct bounce_cfg,
	    delay_warning_time, 'h', 0, 0),
	P_END
};

PARAM_TABLE(bounce_params);
