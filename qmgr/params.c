/*
 * NAME		params - qmgr(8) parameter table
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "util/log.h"
#include "qmgr.h"

struct qmgr_cfg qmgr_cfg;

const struct param qmgr_params[] = {
	P_TIME("queue_run_delay", "300s", struct qmgr_cfg, queue_run_delay,
	    's', 1, 0),
	P_TIME("minimal_backoff_time", "300s", struct qmgr_cfg,
	    minimal_backoff_time, 's', 1, 0),
	P_TIME("maximal_backoff_time", "4000s", struct qmgr_cfg,
	    maximal_backoff_time, 's', 1, 0),
	P_TIME("maximal_queue_lifetime", "5d", struct qmgr_cfg,
	    maximal_queue_lifetime, 'd', 0, 0),
	P_TIME("bounce_queue_lifetime", "5d", struct qmgr_cfg,
	    bounce_queue_lifetime, 'd', 0, 0),
	P_INT("qmgr_message_active_limit", "20000", struct qmgr_cfg,
	    qmgr_message_active_limit, 1, 0),
	P_INT("default_destination_concurrency_limit", "20", struct qmgr_cfg,
	    default_destination_concurrency_limit, 1, 0),
	P_INT("default_destination_recipient_limit", "50", struct qmgr_cfg,
	    default_destination_recipient_limit, 1, 0),
	P_INT("local_destination_concurrency_limit", "2", struct qmgr_cfg,
	    local_destination_concurrency_limit, 1, 0),
	P_INT("local_destination_recipient_limit", "1", struct qmgr_cfg,
	    local_destination_recipient_limit, 1, 0),
	P_INT("default_process_limit", "100", struct qmgr_cfg,
	    default_process_limit, 1, 0),
	P_TIME("transport_retry_time", "60s", struct qmgr_cfg,
	    transport_retry_time, 's', 1, 0),
	P_STR("defer_transports", "", struct qmgr_cfg, defer_transports),
	P_INT("initial_destination_concurrency", "5", struct qmgr_cfg,
	    initial_destination_concurrency, 1, 0),
	P_INT("default_destination_concurrency_failed_cohort_limit", "1",
	    struct qmgr_cfg,
	    default_destination_concurrency_failed_cohort_limit, 0, 0),
	P_END
};

PARAM_TABLE(qmgr_params);

/*
 * qm_params_check - relations between parameters, as Postfix: a bounce
 * may not stay longer than the mail it reports on.
 */
void
qm_params_check(void)
{
	if (qmgr_cfg.bounce_queue_lifetime >
	    qmgr_cfg.maximal_queue_lifetime) {
		log_warn("bounce_queue_lifetime is larger than "
		    "maximal_queue_lifetime - adjusting bounce_queue_lifetime");
		qmgr_cfg.bounce_queue_lifetime =
		    qmgr_cfg.maximal_queue_lifetime;
	}
}
