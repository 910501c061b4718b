/*
 * NAME		trigger - wake up pickup and qmgr
 * DESCRIPTION	A trigger is one or more request bytes written to a
 *		service socket in public/ (or private/), without waiting for
 *		an answer.  The letters are Postfix's.
 */
#ifndef MAIL_TRIGGER_H
#define MAIL_TRIGGER_H

#define QMGR_REQ_SCAN_INCOMING	'I'	/* new mail in incoming */
#define QMGR_REQ_SCAN_DEFERRED	'D'	/* deferred mail that is due */
#define QMGR_REQ_SCAN_ALL	'A'	/* all deferred mail, due or not */
#define QMGR_REQ_FLUSH_DEAD	'F'	/* forget dead destinations */
#define TRIGGER_WAKEUP		'W'	/* periodic wakeup from master */
#define QMGR_REQ_FLUSH_SITE	'S'	/* "Ssite\n": deferred mail for site */
#define QMGR_REQ_DELIVER_ONE	'Q'	/* "Qqueue_id\n": this message now */
#define QMGR_REQ_NEW_ID		'N'	/* "Nqueue_id\n": ready in incoming */

int	 mail_trigger(const char *, const char *);

#endif
