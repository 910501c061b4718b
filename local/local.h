/*
 * NAME		local.h - local delivery agent private interface
 */
#ifndef LOCAL_LOCAL_H
#define LOCAL_LOCAL_H

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mail/conf.h"
#include "mail/deliver.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/htable.h"

/* Settings from main.cf (params.c). */
struct local_cfg {
	char	*alias_maps;
	char	*allow_mail_to_commands;
	char	*allow_mail_to_files;
	char	*forward_path;
	char	*home_mailbox;
	char	*mailbox_command;
	long	 mailbox_size_limit;
	long	 command_time_limit;
	char	*local_command_shell;
	char	*command_execution_directory;
	char	*command_expansion_filter;
	char	*mailbox_delivery_lock;
	int	 expand_owner_alias;
	char	*prepend_delivered_header;
	int	 enable_original_recipient;

	/* Derived in post_jail. */
	int	 cmd_classes;		/* LOCAL_CLASS_* allowed commands */
	int	 file_classes;		/* LOCAL_CLASS_* allowed files */
	int	 hdr_mask;		/* LOCAL_HDR_* */
	int	 lock_mask;		/* MBOX_LOCK_* */
};

extern struct local_cfg local_cfg;
extern const struct param local_params[];

/* Where an entry came from (allow_mail_to_commands/files classes). */
#define LOCAL_CLASS_ALIAS	(1 << 0)
#define LOCAL_CLASS_FORWARD	(1 << 1)
#define LOCAL_CLASS_INCLUDE	(1 << 2)

/* prepend_delivered_header */
#define LOCAL_HDR_COMMAND	(1 << 0)
#define LOCAL_HDR_FILE		(1 << 1)
#define LOCAL_HDR_FORWARD	(1 << 2)

/* Limits. */
#define LOCAL_DEPTH_MAX		100	/* nested expansion levels */
#define LOCAL_WORK_MAX		20000	/* entries expanded per recipient */
#define LOCAL_FILE_MAX		(1024 * 1024)	/* .forward, :include: */
#define LOCAL_OUTPUT_MAX	1024	/* command output in a reason */

/* Alias value and .forward entries (token.c). */
#define LOCAL_TOK_ADDR		0	/* an address */
#define LOCAL_TOK_COMMAND	1	/* |command */
#define LOCAL_TOK_FILE		2	/* /file, /maildir/ */
#define LOCAL_TOK_INCLUDE	3	/* :include:/file */
#define LOCAL_TOK_USER		4	/* \user */

#define LOCAL_TOK_MAX		10000	/* entries in one list */
#define LOCAL_TOK_LEN		65536	/* bytes in one entry */

struct local_tok {
	int	 type;
	char	*text;			/* without the |, \ or :include: */
};

struct local_toks {
	struct local_tok *v;
	size_t	 n;
	size_t	 cap;
	int	 sloppy;		/* unbalanced quote, comment, <> */
};

void	 local_toks_init(struct local_toks *);
void	 local_toks_free(struct local_toks *);
int	 local_tokenize(const char *, size_t, struct local_toks *,
	    struct buf *);
int	 local_tokenize_file(const char *, size_t, struct local_toks *,
	    struct buf *, size_t *);
const char *local_tok_name(int);

/* $name expansion for forward_path, mailbox_command and friends. */
struct local_vars {
	const char *home;
	const char *user;
	const char *shell;
	const char *extension;
	const char *recipient_delimiter;
	const char *domain;
	const char *local;
	const char *recipient;
	const char *sender;
};

int	 local_expand(const char *, const struct local_vars *, const char *,
	    struct buf *, struct buf *);
int	 local_class_mask(const char *, const char *const *, int *,
	    struct buf *);

/* The privileges of a delivery. */
struct local_privs {
	uid_t	 uid;
	gid_t	 gid;
	char	*name;
	char	*home;
	char	*shell;
};

void	 local_privs_from_pw(struct local_privs *, const struct passwd *);
void	 local_privs_copy(struct local_privs *, const struct local_privs *);
void	 local_privs_free(struct local_privs *);
int	 local_getpw(const char *, uid_t, struct local_privs *, struct buf *);
const struct local_privs *local_safe_privs(const struct local_privs *);
void	 local_become(const struct local_privs *);
void	 local_become_root(void);

extern struct local_privs local_default_privs;

/* One delivery request (one message). */
struct local_msg {
	const struct deliver_req *req;
	int	 fd;			/* queue file, read-only */
	struct htable *delivered;	/* Delivered-To: values, lower case */
	struct htable *dups;		/* final destinations tried */
};

/* Forwarded addresses waiting to go out in one message. */
struct local_fwd {
	char	*sender;
	char	*delivered;		/* Delivered-To: of the copy */
	struct argv addrs;
	struct local_fwd *next;
};

/* Outcome for one request recipient. */
struct local_result {
	size_t	 idx;			/* in the request */
	int	 status;		/* DEL_STAT_*: worst so far */
	char	 dsn[16];
	struct buf reason;
	int	 count;			/* destinations reported */
	size_t	 work;			/* entries expanded */
	struct htable *seen;		/* addresses expanded, lower case */
	struct local_fwd *fwd;
	const char *orig;		/* original recipient */
};

/* One level of expansion. */
struct local_attr {
	struct local_attr *parent;
	int	 level;
	const char *addr;		/* recipient at this level */
	const char *sender;		/* envelope sender at this level */
	const char *key;		/* "alias ..", "forward ..", or NULL */
	int	 cls;			/* LOCAL_CLASS_* of entries below */
	const struct local_privs *privs;	/* for commands and files */
	int	 no_alias;		/* self-reference: skip aliases */
	int	 user_only;		/* \user: no alias, no .forward */
};

/* Address parts of one level. */
struct local_addr {
	struct buf local;		/* local part, lower case */
	struct buf user;		/* without extension */
	struct buf ext;
	struct buf delim;		/* the delimiter found, or "" */
	struct buf domain;
};

void	 local_addr_init(struct local_addr *);
void	 local_addr_free(struct local_addr *);
void	 local_addr_split(const char *, struct local_addr *);

/* deliver.c */
void	 local_deliver_message(const struct deliver_req *,
	    struct deliver_result *);
int	 local_recipient(struct local_msg *, struct local_result *,
	    struct local_attr *);
void	 local_expand_list(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_toks *);
void	 local_report(struct local_msg *, struct local_result *,
	    const char *, const char *, int64_t, int, const char *,
	    const char *, ...) __attribute__((format(printf, 8, 9)));
int	 local_dup_check(struct local_msg *, struct local_result *,
	    const char *);
void	 local_vars_fill(struct local_vars *, const struct local_attr *,
	    const struct local_addr *, const struct local_privs *);

/* alias.c */
void	 local_alias_open(void);
int	 local_alias_lookup(const char *, struct buf *,
	    const struct local_privs **, struct buf *);
int	 local_alias_changed(void);
int	 local_alias(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_addr *);

/* dotforward.c */
int	 local_dotforward(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_addr *,
	    const struct local_privs *);

/* include.c */
void	 local_include(struct local_msg *, struct local_result *,
	    struct local_attr *, const char *);

/* mailbox.c */
void	 local_mailbox(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_addr *,
	    const struct local_privs *);
void	 local_maildir(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_privs *, const char *,
	    int);

/* file.c */
void	 local_file(struct local_msg *, struct local_result *,
	    struct local_attr *, const char *);

/* command.c */
void	 local_command(struct local_msg *, struct local_result *,
	    struct local_attr *, const struct local_addr *,
	    const struct local_privs *, const char *, int);
void	 local_command_status(int, int, const char *, const char *,
	    const char *, struct buf *, char *, size_t, int *);
void	 local_command_output(const char *, size_t, struct buf *);

/* forward.c */
void	 local_forward_add(struct local_result *, const char *,
	    const char *, const char *);
void	 local_forward_flush(struct local_msg *, struct local_result *,
	    int);
void	 local_forward_free(struct local_result *);

#endif
