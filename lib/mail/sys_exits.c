/*
 * NAME		sys_exits - what a command's sysexits(3) status means to mail
 * DESCRIPTION	sys_exits_detail() returns the table row for an exit status
 *		from EX_USAGE (64) to EX_CONFIG (78), or NULL for any other
 *		status.  sys_exits_soft() says whether a status asks for a
 *		later retry: EX_TEMPFAIL and EX_OSERR, the two codes whose
 *		enhanced status has class 4.
 * SEE ALSO	local(8), doc/local.md
 */
#include <stddef.h>

#include "sys_exits.h"

static const struct sys_exit_detail sys_exits_table[] = {
	{ 64, "5.3.0", "command line usage error" },
	{ 65, "5.6.0", "data format error" },
	{ 66, "5.3.0", "cannot open input" },
	{ 67, "5.1.1", "user unknown" },
	{ 68, "5.1.2", "host name unknown" },
	{ 69, "5.3.0", "service unavailable" },
	{ 70, "5.3.0", "internal software error" },
	{ 71, "4.3.0", "system resource problem" },
	{ 72, "5.3.0", "critical OS file missing" },
	{ 73, "5.2.0", "can't create user output file" },
	{ 74, "5.3.0", "input/output error" },
	{ 75, "4.3.0", "temporary failure" },
	{ 76, "5.5.0", "remote error in protocol" },
	{ 77, "5.7.0", "permission denied" },
	{ 78, "5.3.5", "local configuration error" },
};

/* sys_exits_detail - table row for a sysexits status, or NULL */
const struct sys_exit_detail *
sys_exits_detail(int status)
{
	if (status < SYS_EX_BASE || status > SYS_EX_LAST)
		return NULL;
	return &sys_exits_table[status - SYS_EX_BASE];
}

/* sys_exits_soft - does this status ask for a later retry? */
int
sys_exits_soft(int status)
{
	const struct sys_exit_detail *d = sys_exits_detail(status);

	return d != NULL && d->dsn[0] == '4';
}
