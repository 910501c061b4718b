/*
 * NAME		check.h - internals of the SMTP server's access checks
 * DESCRIPTION	Shared by check.c (restriction lists, evaluation, replies,
 *		logging), access.c (access(5) lookups and actions),
 *		policy.c (policy delegation), dnscheck.c (DNS-based
 *		restrictions) and mynetworks.c, and by their unit tests.
 *		Nothing here is used by the protocol engine.
 */
#ifndef SMTPD_CHECK_H
#define SMTPD_CHECK_H

#include <stddef.h>

#include "dict/dict.h"
#include "mail/rewrite_clnt.h"
#include "smtpd.h"
#include "util/argv.h"
#include "util/buf.h"

/* What one restriction or a list says. */
#define CK_DUNNO	0	/* no opinion: go on */
#define CK_OK		1	/* permit: the list is done */
#define CK_REJECT	2	/* st->check_reply holds the reply */

/* Reply classes: what a reply is about (Postfix's words). */
#define CK_CLASS_CLIENT		"Client host"
#define CK_CLASS_REVERSE	"Unverified Client host"
#define CK_CLASS_HELO		"Helo command"
#define CK_CLASS_SENDER		"Sender address"
#define CK_CLASS_RCPT		"Recipient address"
#define CK_CLASS_DATA		"Data command"
#define CK_CLASS_EOD		"End-of-data"
#define CK_CLASS_SASL		"SASL login name"
#define CK_CLASS_CCERT		"Client certificate"

#define CK_DEPTH_MAX	100	/* nested lists (classes, table results) */
#define CK_REPLY_MAX	500	/* bound of reply text from tables/servers */

/* A deferred decision: defer_if_permit / defer_if_reject. */
struct ck_defer {
	int	 active;
	char	 reply[512];		/* "450 4.7.1 text" */
};

/* One evaluation: a call of smtpd_check_*(). */
struct ck_ctx {
	struct smtpd_state *st;
	const char *where;		/* SMTP command, for logs */
	int	 depth;			/* list nesting */
	int	 warn;			/* warn_if_reject: depth it was set at */
	int	 fatal;			/* the reply is final: stop */
	int	 rcpt_checked;		/* recipient table check done */
	struct ck_defer dip;		/* defer_if_permit */
	struct ck_defer dir;		/* defer_if_reject */
};

/* check.c */
struct ck_list;
struct ck_list *ck_list_parse(const char *, const char *, int);
void	 ck_list_free(struct ck_list *);
int	 ck_list_error(const struct ck_list *);
size_t	 ck_list_size(const struct ck_list *);
int	 ck_generic(struct ck_ctx *, const struct ck_list *, const char *,
	    const char *);
int	 ck_reject(struct ck_ctx *, const char *, int, const char *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
int	 ck_defer_if(struct ck_ctx *, struct ck_defer *, int, const char *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
int	 ck_defer_if_permit(struct ck_ctx *, int, const char *, int,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 6, 7)));
int	 ck_server_error(struct ck_ctx *, const char *);
int	 ck_temp_failure(struct ck_ctx *, const char *);
void	 ck_log(struct ck_ctx *, const char *, const char *);
int	 ck_code(const char *, int);
struct maps *ck_maps(const char *, const char *);
int	 ck_resolve(struct ck_ctx *, const char *, struct resolve_reply *);
void	 ck_reply_name(const char *, char *, size_t);
void	 ck_dsn_fix(char *, int, const char *);
size_t	 ck_dsn_len(const char *);
const char *ck_dsn_split(const char *, const char *, char *, size_t);
int	 ck_invalid_hostaddr(struct ck_ctx *, const char *, const char *);
void	 ck_done(void);

/* Address resolution (trivial-rewrite); tests replace it. */
extern int (*ck_resolve_hook)(const char *, const char *,
	    struct resolve_reply *, struct buf *);

/* access.c */
int	 ck_access_client(struct ck_ctx *, struct maps *, const char *,
	    const char *, const char *, const char *, const char *);
int	 ck_access_domain(struct ck_ctx *, struct maps *, const char *,
	    const char *, const char *, const char *, int);
int	 ck_access_ccert(struct ck_ctx *, struct maps *, const char *,
	    const char *, const char *, const char *);
int	 ck_access_mail(struct ck_ctx *, struct maps *, const char *,
	    const char *, const char *, const char *);
int	 ck_table_result(struct ck_ctx *, const char *, const char *,
	    const char *, const char *, const char *);
int	 ck_access_lookup(struct ck_ctx *, struct maps *, const char *,
	    const char *, int, int *, const char *, const char *);
extern int ck_access_parent;		/* smtpd_access_maps is parent style */

/* policy.c */
struct ck_policy;
struct ck_policy *ck_policy_get(const char *);
int	 ck_policy_check(struct ck_ctx *, struct ck_policy *, const char *,
	    const char *);
void	 ck_policy_encode(struct ck_ctx *, const char *, struct buf *);
int	 ck_policy_parse(const char *, size_t, struct buf *, struct buf *);
int	 ck_policy_endpoint(const char *, struct buf *, struct buf *,
	    struct buf *);
void	 ck_policy_close_all(void);
/* A policy exchange; tests replace it: request in, answer out. */
extern int (*ck_policy_hook)(struct ck_policy *, const struct buf *,
	    struct buf *, struct buf *);

/* dnscheck.c */
#define CK_DNS_OK	0	/* found */
#define CK_DNS_NOTFOUND	1	/* no such name or record */
#define CK_DNS_RETRY	2	/* temporary failure */
#define CK_DNS_NULLMX	3	/* mailhost(): "MX 0 ." */

struct ck_dns_ops {
	/* MX, else A/AAAA: does the domain take mail? */
	int	(*mailhost)(const char *, struct buf *);
	/* A, AAAA or MX: does the host name exist? */
	int	(*host)(const char *, struct buf *);
	/* A records (dotted quads) of a name, for DNS lists */
	int	(*a_records)(const char *, struct argv *, struct buf *);
	/* TXT text of a name (first record), for DNS list replies */
	int	(*txt)(const char *, struct buf *, struct buf *);
};
extern const struct ck_dns_ops *ck_dns;

int	 ck_unknown_helo(struct ck_ctx *, const char *, const char *,
	    const char *);
int	 ck_unknown_address(struct ck_ctx *, const char *, const char *,
	    const char *);
int	 ck_rbl(struct ck_ctx *, int, const char *);
int	 ck_rbl_addr_query(const char *, const char *, struct buf *);
int	 ck_rbl_match(const char *, const char *);
void	 ck_rbl_expand(const char *, const char *const *, struct buf *);

/* mynetworks.c */
void	 ck_mynetworks_init(void);
void	 ck_mynetworks_free(void);
int	 ck_mynetworks(struct ck_ctx *);

/* Things that are checked in more than one file. */
int	 ck_valid_hostname(const char *);
int	 ck_valid_hostliteral(const char *);

#endif
