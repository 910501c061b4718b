/*
 * NAME		deliver - the queue manager's delivery request protocol
 * DESCRIPTION	qmgr connects to private/<transport>; the delivery agent
 *		says hello (protocol "delivery"), qmgr sends one request (one
 *		message, one nexthop, one or more recipients) and the agent
 *		answers with one status per recipient.  Agents log the
 *		"to=<...>, relay=..., delay=..., delays=a/b/c/d, dsn=...,
 *		status=..." line in Postfix's format with deliver_log().
 */
#ifndef MAIL_DELIVER_H
#define MAIL_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/stream.h"

#define DELIVER_PROTO		"delivery"
#define DELIVER_RCPT_MAX	10000

#define DEL_FLAG_RETRY		(1 << 0)	/* may have been tried before */

#define DEL_STAT_OK		0
#define DEL_STAT_DEFER		1
#define DEL_STAT_BOUNCE		2

struct deliver_rcpt {
	char	*addr;
	char	*orig;
	int	 notify;
	long	 offset;
};

struct deliver_req {
	char	*queue_name;
	char	*queue_id;
	long	 data_offset;
	long	 data_size;
	char	*nexthop;
	char	*sender;
	char	*envid;
	int	 ret;
	int	 flags;
	int64_t	 arrival_us;		/* message arrival, epoch usec */
	int64_t	 active_us;		/* entered the active queue */
	int64_t	 dispatch_us;		/* qmgr sent this request */
	int64_t	 start_us;		/* agent received it (local) */
	struct deliver_rcpt *rcpts;
	size_t	 nrcpt;
	int	 client_fd;		/* the requester's socket, or -1 */
};

struct deliver_result {
	int	 status;
	char	 dsn[16];
	struct buf reason;
	struct buf relay;
	/*
	 * hop_failed: the next hop itself could not be reached or used
	 * (connection refused or lost, greeting failed): qmgr counts it
	 * against the destination (slow start, dead destinations), not
	 * against the recipient.  action: for a sent recipient, the RFC
	 * 3464 action a success notice reports - "delivered" (final
	 * delivery), "relayed" (handed to a next hop without DSN support)
	 * or "" (the next hop takes over DSN: no notice from us).
	 */
	int	 hop_failed;
	char	 action[16];
};

void	 deliver_req_encode(const struct deliver_req *, struct buf *);
int	 deliver_req_decode(const char *, size_t, struct deliver_req *,
	    struct buf *);
void	 deliver_req_free(struct deliver_req *);
int	 deliver_req_read(struct stream *, struct deliver_req *,
	    struct buf *);
int	 deliver_client_gone(const struct deliver_req *);

struct deliver_result *deliver_results_new(size_t);
void	 deliver_results_free(struct deliver_result *, size_t);
void	 deliver_result_set(struct deliver_result *, int, const char *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
/* A delivery agent's work on one request. */
typedef void (*deliver_fn)(const struct deliver_req *,
	    struct deliver_result *);

void	 deliver_serve(struct stream *, deliver_fn);
int	 deliver_reply_send(struct stream *, const struct deliver_result *,
	    size_t);
int	 deliver_reply_decode(const char *, size_t, struct deliver_result *,
	    size_t, struct buf *);

void	 deliver_log(const struct deliver_req *, size_t, const char *,
	    int64_t, int64_t, const char *, const char *, const char *);
int64_t	 time_epoch_us(void);
void	 format_delay(struct buf *, double);

#endif
