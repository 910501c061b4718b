/*
 * NAME		smtpd_int.h - SMTP server engine internals
 */
#ifndef SMTPD_SMTPD_INT_H
#define SMTPD_SMTPD_INT_H

#include "smtpd.h"

/* session.c */
int	 smtpd_error(struct smtpd_state *);
int	 smtpd_check_failed(struct smtpd_state *);
int	 smtpd_read_line(struct smtpd_state *, struct buf *, size_t);

/* command.c */
int	 smtpd_command(struct smtpd_state *, char *);
void	 smtpd_peer_dns(struct smtpd_state *);

/* data.c */
int	 smtpd_data(struct smtpd_state *);
int	 smtpd_bdat(struct smtpd_state *, char *);
void	 smtpd_data_abort(struct smtpd_state *);
int	 smtpd_xtext_decode(const char *, struct buf *);

#endif
