/*
 * NAME		queue - queue directory names, paths and file life cycle
 * DESCRIPTION	Paths are relative to queue_directory: every program that
 *		touches the queue first changes (or chroots) into it.  Queues
 *		named in hash_queue_names are split into subdirectories by
 *		queue ID characters, hash_queue_depth levels deep.
 *
 *		A queue file is created with mode 0600 while it is written
 *		and becomes visible to the queue manager when its owner
 *		execute bit is set (QUEUE_MODE_READY): Postfix's mode-bit
 *		trick, which needs no rename.
 */
#ifndef MAIL_QUEUE_H
#define MAIL_QUEUE_H

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include "util/buf.h"
#include "qid.h"

#define Q_MAILDROP	"maildrop"
#define Q_INCOMING	"incoming"
#define Q_ACTIVE	"active"
#define Q_DEFERRED	"deferred"
#define Q_HOLD		"hold"
#define Q_CORRUPT	"corrupt"
#define Q_BOUNCE	"bounce"
#define Q_DEFER		"defer"
#define Q_TRACE		"trace"
#define Q_FLUSH		"flush"
#define Q_SAVED		"saved"

#define QUEUE_MODE_WRITING	0600
#define QUEUE_MODE_READY	0700
#define QUEUE_IS_READY(m)	(((m) & S_IXUSR) != 0)

struct queue_names {
	const char *name;
	mode_t	 mode;
	int	 owner_group;	/* 1: group setgid_group */
};
extern const struct queue_names queue_dirs[];

void	 queue_path(struct buf *, const char *, const char *);
int	 queue_is_hashed(const char *);
int	 queue_create(const char *, char *, struct buf *, struct timeval *,
	    mode_t);
int	 queue_create_named(const char *, const char *, struct buf *, mode_t,
	    int);
int	 queue_mkparents(const char *);
int	 queue_rename(const char *, const char *, const char *);
int	 queue_remove(const char *, const char *);
int	 queue_exists(const char *, const char *, struct stat *);
int	 queue_name_valid(const char *);

#endif
