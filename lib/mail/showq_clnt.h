/*
 * NAME		showq_clnt - the showq protocol and the mailq output formats
 * DESCRIPTION	A client connects to public/showq; the server says hello
 *		(protocol "showq") and, without waiting for a request, sends
 *		one frame per message and then a frame with only "end" (the
 *		number of messages sent).  A message frame holds queue_name,
 *		queue_id, arrival_time, message_size, forced_expire, sender,
 *		and the lists rcpt and reason (one reason per recipient, ""
 *		when none is known), plus rcpt_omitted when the recipients
 *		did not all fit in one frame.  doc/ipc.md tables it.
 *
 *		The server side builds frames with showq_frame_*(); the
 *		client reads them with showq_read() / showq_parse() into a
 *		struct showq_msg and prints them in Postfix's mailq format
 *		(showq_mailq_*) or as one JSON object per line
 *		(showq_json_msg).
 */
#ifndef MAIL_SHOWQ_CLNT_H
#define MAIL_SHOWQ_CLNT_H

#include <stddef.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"
#include "ipc.h"

#define SHOWQ_PROTO		"showq"
#define SHOWQ_VERSION		1
#define SHOWQ_MSG_MAX		100000		/* messages per listing */
#define SHOWQ_RCPT_MAX		100000		/* recipients per frame */
#define SHOWQ_ADDR_MAX		8400		/* a quoted address */
#define SHOWQ_REASON_MAX	2000		/* a delay reason */
#define SHOWQ_FRAME_BUDGET	(IPC_FRAME_MAX - 65536)

struct showq_msg {
	struct buf queue_name;
	struct buf queue_id;
	struct buf sender;
	int64_t	 arrival_time;
	int64_t	 message_size;
	int64_t	 forced_expire;
	int64_t	 rcpt_omitted;
	struct argv rcpt;
	struct argv reason;
};

void	 showq_msg_init(struct showq_msg *);
void	 showq_msg_free(struct showq_msg *);

/* Server side. */
void	 showq_frame_msg(struct buf *, const char *, const char *, long,
	    long, const char *);
int	 showq_frame_rcpt(struct buf *, const char *, const char *);
void	 showq_frame_done(struct buf *, long);
void	 showq_frame_end(struct buf *, long);
void	 showq_printable(struct buf *, const char *, size_t, size_t);

/* Client side. */
int	 showq_parse(const char *, size_t, struct showq_msg *, struct buf *);
int	 showq_read(struct stream *, struct showq_msg *, struct buf *);

/* Output. */
void	 showq_mailq_head(struct buf *, int);
void	 showq_mailq_msg(struct buf *, const struct showq_msg *, int);
void	 showq_mailq_tail(struct buf *, unsigned long, unsigned long long);
void	 showq_json_msg(struct buf *, const struct showq_msg *);
void	 showq_json_quote(struct buf *, const char *, size_t);

#endif
