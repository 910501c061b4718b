/*
 * NAME		cleanup.h - cleanup daemon private interface
 */
#ifndef CLEANUP_CLEANUP_H
#define CLEANUP_CLEANUP_H

#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "mail/qid.h"
#include "server/conn.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/htable.h"

struct cleanup_cfg {
	long	 header_size_limit;
	int	 hopcount_limit;
	char	*message_drop_headers;
	long	 delay_warning_time;
	int	 always_add_missing_headers;
	int	 duplicate_filter_limit;
	int	 enable_original_recipient;
	char	*canonical_maps;
	char	*sender_canonical_maps;
	char	*recipient_canonical_maps;
	char	*canonical_classes;
	char	*sender_canonical_classes;
	char	*recipient_canonical_classes;
	char	*masquerade_domains;
	char	*masquerade_exceptions;
	char	*masquerade_classes;
	int	 virtual_alias_expansion_limit;
	int	 virtual_alias_recursion_limit;
	int	 virtual_alias_address_length_limit;
};

extern struct cleanup_cfg cleanup_cfg;
extern const struct param cleanup_params[];

#define CL_PHASE_REQUEST	0	/* waiting for the request frame */
#define CL_PHASE_ENVELOPE	1
#define CL_PHASE_HEADERS	2
#define CL_PHASE_BODY		3
#define CL_PHASE_EXTRACTED	4
#define CL_PHASE_COMMIT		5	/* waiting for the group fsync */
#define CL_PHASE_DONE		6

/* Address classes (canonical_classes, masquerade_classes). */
#define CL_CLASS_ENV_SENDER	(1 << 0)
#define CL_CLASS_ENV_RCPT	(1 << 1)
#define CL_CLASS_HDR_SENDER	(1 << 2)
#define CL_CLASS_HDR_RCPT	(1 << 3)

/* Headers seen. */
#define CL_SEEN_FROM		(1 << 0)
#define CL_SEEN_DATE		(1 << 1)
#define CL_SEEN_MSGID		(1 << 2)
#define CL_SEEN_TO		(1 << 3)
#define CL_SEEN_RESENT		(1 << 4)

struct cleanup_state {
	struct srv_conn *conn;
	int	 phase;
	char	 source[32];
	int	 flags;
	long	 uid;
	int	 status;		/* CLEANUP_STAT_* */
	struct buf reason;
	int	 discard;		/* swallow input, reply OK */

	/* Queue file. */
	char	 id[QID_MAX];
	struct buf path;
	int	 fd;
	struct buf out;			/* records not yet written */
	long	 file_pos;		/* bytes written plus buffered */
	off_t	 spare_size;		/* old length of a reused file */
	long	 data_offset;
	long	 xtra_offset;
	long	 size_offset;		/* payload offset of the C record */
	struct timeval arrival;
	int	 pickup_id;		/* keep the maildrop ID */
	int	 env_begun;		/* V C T W records written */
	struct argv pending_attrs;	/* attributes before that */

	/* Envelope. */
	char	*sender;
	struct buf orcpt;		/* pending O record */
	int	 notify;		/* pending N record */
	long	 rcpt_count;
	struct htable *dups;
	char	*full_name;
	char	*rewrite_context;

	/* Content. */
	long	 content_size;
	struct buf header;		/* current logical header */
	int	 header_trunc;
	int	 seen;
	int	 hops;
	struct buf partial;		/* P records being joined */
	int	 in_partial;
	struct argv xrcpt;		/* -t: To/Cc/Bcc */
	struct argv xresent;		/* -t: Resent-To/Cc/Bcc */
	char	*message_id;

	struct cleanup_state *next_commit;
};

/* state.c */
void	 cleanup_fail(struct cleanup_state *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 cleanup_out(struct cleanup_state *, int, const void *, size_t);
void	 cleanup_outs(struct cleanup_state *, int, const char *);
int	 cleanup_flush(struct cleanup_state *);
void	 cleanup_reply_final(struct cleanup_state *);
void	 cleanup_accept(int);

/* envelope.c */
int	 cleanup_open_file(struct cleanup_state *);
void	 cleanup_envelope(struct cleanup_state *, int, const char *, size_t);
void	 cleanup_add_rcpt(struct cleanup_state *, const char *, const char *,
	    int);
int	 cleanup_rewrite(struct cleanup_state *, const char *, struct buf *);
int	 cleanup_rewrite_rule(struct cleanup_state *, const char *,
	    const char *, struct buf *);
void	 cleanup_recipient(struct cleanup_state *, const char *,
	    const char *, int);

/* addrmap.c */
void	 cleanup_map_init(void);
const char *cleanup_map_changed(void);
int	 cleanup_map_addr(struct cleanup_state *, int, struct buf *);
int	 cleanup_map_virtual(struct cleanup_state *, const char *,
	    struct argv *);

/* message.c */
void	 cleanup_content_start(struct cleanup_state *);
void	 cleanup_content(struct cleanup_state *, int, const char *, size_t);
void	 cleanup_content_end(struct cleanup_state *);

/* commit.c */
void	 cleanup_commit_init(void);
void	 cleanup_end_message(struct cleanup_state *);
void	 cleanup_discard_file(struct cleanup_state *);

#endif
