/*
 * NAME		sys_exits - what a command's sysexits(3) status means to mail
 * DESCRIPTION	Delivery agents that run commands (local(8) for "|command"
 *		and mailbox_command, pipe(8)) turn the command's exit status
 *		into a delivery status: an enhanced status code and a short
 *		text, as Postfix does.  A code whose class is 4 means "try
 *		again later"; any other code from the table means "bounce".
 */
#ifndef MAIL_SYS_EXITS_H
#define MAIL_SYS_EXITS_H

#define SYS_EX_BASE		64	/* EX_USAGE */
#define SYS_EX_TEMPFAIL		75	/* EX_TEMPFAIL */
#define SYS_EX_LAST		78	/* EX_CONFIG */

struct sys_exit_detail {
	int	 status;		/* exit status */
	const char *dsn;		/* enhanced status code */
	const char *text;		/* what it means */
};

const struct sys_exit_detail *sys_exits_detail(int);
int	 sys_exits_soft(int);

#endif
