/*
 * NAME		command - "|command" destinations and mailbox_command
 * DESCRIPTION	The command runs as "/bin/sh -c command" (or with the
 *		program and arguments of local_command_shell followed by the
 *		command) in a child process with the privileges of the list
 *		that named it, never as root (default_privs instead).  Its
 *		standard input is the message with a "From " line,
 *		Return-Path: and X-Original-To: in front, and Delivered-To:
 *		when prepend_delivered_header names "command" (always for
 *		mailbox_command).  Environment: HOME, LOGNAME, USER and SHELL
 *		of those privileges; SENDER, RECIPIENT, LOCAL, DOMAIN,
 *		EXTENSION and ORIGINAL_RECIPIENT of the delivery;
 *		PATH=/usr/bin:/bin; and the names in export_environment.  The
 *		working directory is command_execution_directory, else the
 *		home directory.  After command_time_limit the command and its
 *		process group are killed.
 *
 *		Exit status 0 is success; a sysexits(3) status has the
 *		enhanced status code Postfix gives it (EX_TEMPFAIL and
 *		EX_OSERR defer, the others bounce); any other status or a
 *		signal bounces, a time-out defers.  The reason quotes up to
 *		LOCAL_OUTPUT_MAX bytes of the command's output.
 * SECURITY	The message goes through an anonymous memory file, so the
 *		command cannot reach the queue file.  Output is bounded and
 *		control characters are removed before it is logged.
 * SEE ALSO	local(8), doc/local.md
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mail_copy.h"
#include "mail/sys_exits.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "local.h"

/*
 * local_command_output - command output fit for a log line: control
 * characters become spaces, runs of spaces one space, ends trimmed.
 */
void
local_command_output(const char *p, size_t len, struct buf *out)
{
	size_t i;
	int space = 1;

	buf_reset(out);
	buf_puts(out, "");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f || c == ' ') {
			if (!space)
				buf_putc(out, ' ');
			space = 1;
		} else {
			buf_putc(out, c);
			space = 0;
		}
	}
	while (out->len > 0 && out->p[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

/*
 * local_command_status - turn a spawn_run() outcome into a delivery
 * status (*del_status), an enhanced status code and a reason.  out is
 * the cleaned command output ("" if none), why spawn_run()'s reason.
 */
void
local_command_status(int rc, int status, const char *cmd, const char *out,
    const char *why, struct buf *reason, char *dsn, size_t dsnlen,
    int *del_status)
{
	const struct sys_exit_detail *d;
	const char *sep = *out ? ". Command output: " : "";

	buf_reset(reason);
	switch (rc) {
	case SPAWN_OK:
		*del_status = DEL_STAT_OK;
		strlcpy_trunc(dsn, "2.0.0", dsnlen);
		buf_printf(reason, "delivered to command: %s", cmd);
		return;
	case SPAWN_EXIT:
		if ((d = sys_exits_detail(status)) != NULL) {
			*del_status = d->dsn[0] == '4' ? DEL_STAT_DEFER :
			    DEL_STAT_BOUNCE;
			strlcpy_trunc(dsn, d->dsn, dsnlen);
			buf_printf(reason, "%s%s%s", d->text, sep, out);
			return;
		}
		*del_status = DEL_STAT_BOUNCE;
		strlcpy_trunc(dsn, "5.3.0", dsnlen);
		buf_printf(reason, "Command died with status %d: \"%s\"%s%s",
		    status, cmd, sep, out);
		return;
	case SPAWN_SIGNAL:
		*del_status = DEL_STAT_BOUNCE;
		strlcpy_trunc(dsn, "5.3.0", dsnlen);
		buf_printf(reason, "Command died with signal %d: \"%s\"%s%s",
		    status, cmd, sep, out);
		return;
	case SPAWN_TIMEOUT:
		*del_status = DEL_STAT_DEFER;
		strlcpy_trunc(dsn, "4.3.0", dsnlen);
		buf_printf(reason, "Command time limit exceeded: \"%s\"%s%s",
		    cmd, sep, out);
		return;
	default:
		*del_status = DEL_STAT_DEFER;
		strlcpy_trunc(dsn, "4.3.0", dsnlen);
		buf_printf(reason, "cannot run command \"%s\": %s", cmd,
		    why && *why ? why : "unknown error");
		return;
	}
}

/* command_env - the command's environment */
static void
command_env(struct argv *env, struct local_result *res,
    struct local_attr *attr, const struct local_addr *a,
    const struct local_privs *p)
{
	char *copy, *cp, *name;

	argv_addf(env, "HOME=%s", p->home);
	argv_addf(env, "LOGNAME=%s", p->name);
	argv_addf(env, "USER=%s", p->name);
	argv_addf(env, "SHELL=%s", p->shell);
	argv_addf(env, "SENDER=%s", attr->sender);
	argv_addf(env, "RECIPIENT=%s", attr->addr);
	argv_addf(env, "LOCAL=%s", a->local.p ? a->local.p : "");
	if (a->domain.len)
		argv_addf(env, "DOMAIN=%s", a->domain.p);
	if (a->ext.len)
		argv_addf(env, "EXTENSION=%s", a->ext.p);
	argv_addf(env, "ORIGINAL_RECIPIENT=%s", res->orig);
	argv_add(env, "PATH=/usr/bin:/bin");
	copy = cp = xstrdup(mail_cfg.export_environment ?
	    mail_cfg.export_environment : "");
	while ((name = str_token(&cp, SEPARATORS)) != NULL) {
		const char *val;

		if (strchr(name, '=') != NULL)
			argv_add(env, name);
		else if ((val = getenv(name)) != NULL)
			argv_addf(env, "%s=%s", name, val);
	}
	free(copy);
}

/*
 * local_command - pipe the message into cmd with privileges p (NULL:
 * default_privs).  mailbox_cmd is set for mailbox_command.
 */
void
local_command(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_addr *a,
    const struct local_privs *privs, const char *cmd, int mailbox_cmd)
{
	const struct local_privs *p = local_safe_privs(privs);
	struct mail_copy_src src;
	struct spawn_req sr;
	struct argv *args = NULL, env;
	struct buf key = BUF_INIT, why = BUF_INIT, cwd = BUF_INIT;
	struct buf out = BUF_INIT, clean = BUF_INIT, reason = BUF_INIT;
	struct local_vars vars;
	int64_t start = time_epoch_us();
	int fd = -1, flags, err, rc, status, del_status;
	char swhy[256], dsn[16];

	argv_init(&env);
	buf_printf(&key, "command\t%lu\t%s", (unsigned long)p->uid, cmd);
	if (local_dup_check(msg, res, key.p))
		goto out;
	flags = MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH;
	if (local_cfg.enable_original_recipient)
		flags |= MAIL_COPY_ORIG_RCPT;
	if (mailbox_cmd || (local_cfg.hdr_mask & LOCAL_HDR_COMMAND))
		flags |= MAIL_COPY_DELIVERED;
	memset(&src, 0, sizeof(src));
	src.fd = msg->fd;
	src.data_offset = msg->req->data_offset;
	src.sender = attr->sender;
	src.delivered = attr->addr;
	src.orig_rcpt = res->orig;
	if ((fd = memfd_create("postern-local", MFD_CLOEXEC)) < 0) {
		local_report(msg, res, attr->addr, key.p, start,
		    DEL_STAT_DEFER, "4.3.0", "cannot create message copy: %s",
		    strerror(errno));
		goto out;
	}
	if (mail_copy(&src, fd, flags, 0, NULL, &why, &err) !=
	    MAIL_COPY_STAT_OK || lseek(fd, 0, SEEK_SET) < 0) {
		local_report(msg, res, attr->addr, key.p, start,
		    DEL_STAT_DEFER, "4.3.0", "cannot copy message: %s",
		    why.len ? why.p : strerror(errno));
		goto out;
	}
	if (*local_cfg.command_execution_directory) {
		local_vars_fill(&vars, attr, a, p);
		if (local_expand(local_cfg.command_execution_directory, &vars,
		    local_cfg.command_expansion_filter, &cwd, &why) < 0) {
			log_warn("command_execution_directory: %s",
			    buf_str(&why));
			local_report(msg, res, attr->addr, key.p, start,
			    DEL_STAT_DEFER, "4.3.0",
			    "mail system configuration error");
			goto out;
		}
	} else {
		buf_sets(&cwd, p->home);
	}
	if (*local_cfg.local_command_shell) {
		args = argv_split(local_cfg.local_command_shell, SEPARATORS);
	} else {
		args = argv_new();
		argv_add(args, "/bin/sh");
		argv_add(args, "-c");
	}
	argv_add(args, cmd);
	command_env(&env, res, attr, a, p);

	memset(&sr, 0, sizeof(sr));
	sr.argv = args->v;
	sr.envp = env.v;
	sr.uid = p->uid;
	sr.gid = p->gid;
	sr.stdin_fd = fd;
	sr.cwd = buf_str(&cwd);
	sr.time_limit = local_cfg.command_time_limit > 0x7fffffff ?
	    0x7fffffff : (int)local_cfg.command_time_limit;
	sr.out_max = LOCAL_OUTPUT_MAX;
	sr.setsid = 1;
	swhy[0] = 0;
	rc = spawn_run(&sr, &status, &out, swhy, sizeof(swhy));
	local_command_output(out.p ? out.p : "", out.len, &clean);
	local_command_status(rc, status, cmd, clean.p, swhy, &reason, dsn,
	    sizeof(dsn), &del_status);
	local_report(msg, res, attr->addr, key.p, start, del_status, dsn, "%s",
	    reason.p);
out:
	if (fd >= 0)
		(void)close(fd);
	if (args)
		argv_free(args);
	argv_clear(&env);
	buf_free(&key);
	buf_free(&why);
	buf_free(&cwd);
	buf_free(&out);
	buf_free(&clean);
	buf_free(&reason);
}
