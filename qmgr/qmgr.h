/*
 * NAME		qmgr.h - queue manager private interface
 */
#ifndef QMGR_QMGR_H
#define QMGR_QMGR_H

#include <stdint.h>
#include <sys/types.h>

#include "mail/qid.h"
#include "util/buf.h"
#include "util/htable.h"

struct qmgr_cfg {
	long	 queue_run_delay;
	long	 minimal_backoff_time;
	long	 maximal_backoff_time;
	long	 maximal_queue_lifetime;
	long	 bounce_queue_lifetime;
	int	 qmgr_message_active_limit;
	int	 default_destination_concurrency_limit;
	int	 default_destination_recipient_limit;
	int	 local_destination_concurrency_limit;
	int	 local_destination_recipient_limit;
	int	 default_process_limit;
	long	 transport_retry_time;
	int	 initial_destination_concurrency;
	int	 default_destination_concurrency_failed_cohort_limit;
	char	*defer_transports;
};

extern struct qmgr_cfg qmgr_cfg;
extern const struct param qmgr_params[];

/* Recipient states. */
#define QR_TODO		0	/* not yet scheduled */
#define QR_QUEUED	1	/* waiting in a destination queue */
#define QR_INFLIGHT	2	/* with a delivery agent */
#define QR_LOGGING	3	/* waiting for the bounce/defer service */
#define QR_DONE		4	/* delivered or bounced: marked in file */
#define QR_DEFERRED	5	/* try again later */

struct qm_rcpt {
	char	*addr;		/* as in the queue file */
	char	*orig;
	int	 notify;
	long	 offset;
	int	 state;
	char	*final;		/* resolved recipient */
};

struct qm_msg {
	char	 id[QID_MAX];
	char	*sender;
	char	*envid;
	char	*filter;	/* "transport:nexthop" override, or NULL */
	int	 ret;
	int64_t	 arrival_us;
	int64_t	 active_us;
	long	 arrival_sec;
	long	 data_offset;
	long	 data_size;
	long	 warn_time;
	long	 warn_offset;
	int	 retry;		/* from deferred, or recovered from active */
	int	 flush;		/* loaded by a flush: ignore defer_transports */
	int	 revive;	/* postqueue -i: try its dead destinations */
	struct qm_rcpt *rcpts;
	size_t	 nrcpt;
	int	 busy;		/* recipients not yet final in this pass */
	int	 bounced;	/* some recipient bounced (log exists) */
	int	 traced;	/* success notices logged (trace log) */
	int	 logs;		/* asked for a defer/bounce/trace entry */
	int	 unmarked;	/* delivered but not marked: removed at once */
	int	 deferred;
	int	 dirty;		/* done marks not yet fsynced */
	int	 finishing;	/* waiting for a flush/warn reply */
	int	 on_dirty;
	struct qm_msg *next_dirty;
	struct qm_msg *prev, *next;
};

struct qm_transport;

struct qm_entry {
	struct qm_msg *msg;
	char	*nexthop;
	size_t	*idx;
	size_t	 n;
	size_t	 cap;
	struct qm_entry *next;
};

/* A destination's concurrency window (feedback.c). */
struct qm_window {
	int	 window;	/* concurrency allowed now */
	double	 success;	/* positive feedback credit */
	double	 failure;	/* negative feedback credit */
	double	 fail_cohorts;	/* failed pseudo-cohorts since a success */
};

struct qm_dest {
	char	*key;
	struct qm_transport *tr;
	int	 inflight;
	struct qm_window win;	/* slow start, dead destinations */
	char	*dead_reason;	/* non-NULL: dead until the next scan */
	struct qm_entry *head, *tail;
	int	 listed;	/* on the transport's ready list */
	struct qm_dest *next_ready;
};

struct qm_transport {
	char	*name;
	int	 dest_limit;
	int	 rcpt_limit;
	int	 proc_limit;
	int	 init_concurrency;
	int	 cohort_limit;
	int	 inflight;
	int64_t	 dead_until;	/* transport unavailable until then */
	char	*dead_reason;
	struct htable *dests;
	struct qm_dest *ready_head, *ready_tail;
	struct qm_transport *next;
};

/* message.c */
extern int qm_active_count;
extern int qm_stopping;
#define QM_LOAD_RETRY	(1 << 0)
#define QM_LOAD_FLUSH	(1 << 1)
#define QM_LOAD_REVIVE	(1 << 2)
int	 qm_load(const char *, const char *, int);
void	 qm_sync_init(void);
void	 qm_rcpt_final(struct qm_msg *, size_t, int);
void	 qm_msg_check_done(struct qm_msg *);
int	 qm_mark_done(struct qm_msg *, const size_t *, size_t);
int	 qm_pending_calls(void);
void	 qm_calls_add(int);

/* feedback.c */
void	 qm_window_init(struct qm_window *, int, int);
void	 qm_window_revive(struct qm_window *, int, int, int);
int	 qm_window_allowed(const struct qm_window *);
int	 qm_window_feedback(struct qm_window *, int, int, int, int, int);

/* params.c */
void	 qm_params_check(void);

/* sched.c */
void	 qm_enqueue(struct qm_msg *, size_t, const char *, const char *);
void	 qm_schedule(void);
void	 qm_schedule_soon(void);
int	 qm_inflight(void);
void	 qm_transports_reset(void);
void	 qm_dests_revive(void);
void	 qm_read_master_cf(void);
void	 qm_defer_rcpt(struct qm_msg *, size_t, const char *, const char *,
	    const char *);
void	 qm_bounce_rcpt(struct qm_msg *, size_t, const char *, const char *,
	    const char *);

/* scan.c */
void	 qm_scan_incoming(int, int);
void	 qm_scan_deferred(int);
void	 qm_scan_active(void);
void	 qm_scan_more(void);
void	 qm_scan_site(const char *);
void	 qm_scan_one(const char *);
void	 qm_scan_new(const char *);

#endif
