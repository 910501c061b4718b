/*
 * NAME		test_local_expand - unit tests for local(8) helpers
 * DESCRIPTION	$name expansion of forward_path and mailbox_command (the
 *		Postfix default with and without an extension, ${name?text}
 *		and ${name:text}, $$, the command_expansion_filter, errors,
 *		nesting and size limits), address splitting with
 *		recipient_delimiter and owner_request_special, class lists,
 *		and the mapping of command exit statuses to delivery status
 *		(every sysexits code, other codes, signals, time-outs) with
 *		the cleaning of command output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../local/local.h"
#include "mail/mail_conf.h"
#include "mail/sys_exits.h"
#include "util/buf.h"
#include "util/proc.h"
#include "unit.h"

#define DEF_FORWARD	"$home/.forward${recipient_delimiter}${extension}, " \
			"$home/.forward"
#define FILTER		"1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static struct local_vars vars_plain = {
	"/home/bob", "bob", "/bin/sh", "", "", "example.com", "bob",
	"bob@example.com", "alice@remote.example",
};

static struct local_vars vars_ext = {
	"/home/bob", "bob", "/bin/sh", "lists", "+", "example.com",
	"bob+lists", "bob+lists@example.com", "",
};

struct exp_case {
	const char *tmpl;
	const struct local_vars *v;
	int	 ok;
	const char *want;
};

static void
test_expand_table(void **state)
{
	static struct local_vars hostile = {
		"/home/bob", "bob", "/bin/sh", "x;rm -rf $HOME`id`", "+",
		"example.com", "bob+x", "bob+x@example.com", "a b\"c'd",
	};
	const struct exp_case cases[] = {
		{ DEF_FORWARD, &vars_plain, 1,
		    "/home/bob/.forward, /home/bob/.forward" },
		{ DEF_FORWARD, &vars_ext, 1,
		    "/home/bob/.forward+lists, /home/bob/.forward" },
		{ "${extension?ext=$extension}", &vars_ext, 1, "ext=lists" },
		{ "${extension?ext=$extension}", &vars_plain, 1, "" },
		{ "${extension:none}", &vars_plain, 1, "none" },
		{ "${extension:none}", &vars_ext, 1, "" },
		{ "$$user $user", &vars_plain, 1, "$user bob" },
		{ "$(user)@$domain", &vars_plain, 1, "bob@example.com" },
		{ "$recipient $sender $local $shell", &vars_plain, 1,
		    "bob@example.com alice@remote.example bob /bin/sh" },
		{ "procmail -a $extension", &hostile, 1,
		    "procmail -a x_rm_-rf__HOME_id_" },
		{ "$sender", &hostile, 1, "a_b_c_d" },
		{ "${extension?{x}}", &vars_ext, 1, "{x}" },
		{ "$nosuch", &vars_plain, 0, NULL },
		{ "${user", &vars_plain, 0, NULL },
		{ "${user!x}", &vars_plain, 0, NULL },
		{ "$", &vars_plain, 0, NULL },
		{ "a $ b", &vars_plain, 0, NULL },
		{ "", &vars_plain, 1, "" },
		{ "no dollars", &vars_plain, 1, "no dollars" },
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		int r;

		buf_reset(&why);
		r = local_expand(cases[i].tmpl, cases[i].v, FILTER, &out,
		    &why);
		if (cases[i].ok) {
			if (r != 0)
				fail_msg("case %zu: %s: %s", i, cases[i].tmpl,
				    buf_str(&why));
			assert_string_equal(buf_str(&out), cases[i].want);
		} else {
			assert_int_equal(r, -1);
			assert_true(why.len > 0);
		}
	}
	buf_free(&out);
	buf_free(&why);
}

static void
test_expand_limits(void **state)
{
	struct buf tmpl = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	int i;

	(void)state;
	/* Nesting: ten levels work, deeper fails. */
	for (i = 0; i < 10; i++)
		buf_puts(&tmpl, "${user?");
	buf_puts(&tmpl, "x");
	for (i = 0; i < 10; i++)
		buf_puts(&tmpl, "}");
	assert_int_equal(local_expand(tmpl.p, &vars_plain, NULL, &out, &why),
	    0);
	assert_string_equal(out.p, "x");
	buf_reset(&tmpl);
	for (i = 0; i < 12; i++)
		buf_puts(&tmpl, "${user?");
	for (i = 0; i < 12; i++)
		buf_puts(&tmpl, "}");
	assert_int_equal(local_expand(tmpl.p, &vars_plain, NULL, &out, &why),
	    -1);
	/* A result that grows without bound is refused. */
	buf_reset(&tmpl);
	for (i = 0; i < 20000; i++)
		buf_puts(&tmpl, "$recipient");
	assert_int_equal(local_expand(tmpl.p, &vars_plain, NULL, &out, &why),
	    -1);
	buf_free(&tmpl);
	buf_free(&out);
	buf_free(&why);
}

static void
test_addr_split(void **state)
{
	static const struct {
		const char *delim;
		int	 ownreq;
		const char *addr;
		const char *local, *user, *ext, *dl, *domain;
	} cases[] = {
		{ "", 1, "Bob+X@Example.COM", "bob+x", "bob+x", "", "",
		    "example.com" },
		{ "+", 1, "Bob+X@Example.COM", "bob+x", "bob", "x", "+",
		    "example.com" },
		{ "+-", 1, "bob-a+b@x", "bob-a+b", "bob", "a+b", "-", "x" },
		{ "+", 1, "+bob@x", "+bob", "+bob", "", "", "x" },
		{ "+", 1, "bob+@x", "bob+", "bob", "", "+", "x" },
		{ "-", 1, "owner-list@x", "owner-list", "owner-list", "", "",
		    "x" },
		{ "-", 1, "list-request@x", "list-request", "list-request",
		    "", "", "x" },
		{ "-", 0, "owner-list@x", "owner-list", "owner", "list", "-",
		    "x" },
		{ "+", 1, "noat", "noat", "noat", "", "", "" },
		{ "+", 1, "a@b@c", "a@b", "a@b", "", "", "c" },
	};
	struct local_addr a;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		mail_cfg.recipient_delimiter = (char *)cases[i].delim;
		mail_cfg.owner_request_special = cases[i].ownreq;
		local_addr_init(&a);
		local_addr_split(cases[i].addr, &a);
		assert_string_equal(buf_str(&a.local), cases[i].local);
		assert_string_equal(buf_str(&a.user), cases[i].user);
		assert_string_equal(buf_str(&a.ext), cases[i].ext);
		assert_string_equal(buf_str(&a.delim), cases[i].dl);
		assert_string_equal(buf_str(&a.domain), cases[i].domain);
		local_addr_free(&a);
	}
	mail_cfg.recipient_delimiter = NULL;
}

static void
test_class_mask(void **state)
{
	static const char *const names[] = {"alias", "forward", "include",
	    NULL};
	struct buf why = BUF_INIT;
	int m;

	(void)state;
	assert_int_equal(local_class_mask("alias, forward", names, &m, &why),
	    0);
	assert_int_equal(m, LOCAL_CLASS_ALIAS | LOCAL_CLASS_FORWARD);
	assert_int_equal(local_class_mask("", names, &m, &why), 0);
	assert_int_equal(m, 0);
	assert_int_equal(local_class_mask("Include", names, &m, &why), 0);
	assert_int_equal(m, LOCAL_CLASS_INCLUDE);
	assert_int_equal(local_class_mask("alias, bogus", names, &m, &why),
	    -1);
	assert_non_null(strstr(why.p, "bogus"));
	buf_free(&why);
}

static void
test_sys_exits(void **state)
{
	int s;

	(void)state;
	assert_null(sys_exits_detail(0));
	assert_null(sys_exits_detail(63));
	assert_null(sys_exits_detail(79));
	assert_null(sys_exits_detail(-1));
	for (s = 64; s <= 78; s++) {
		const struct sys_exit_detail *d = sys_exits_detail(s);

		assert_non_null(d);
		assert_int_equal(d->status, s);
		assert_true(d->dsn[0] == '4' || d->dsn[0] == '5');
		assert_int_equal(sys_exits_soft(s), d->dsn[0] == '4');
	}
	assert_string_equal(sys_exits_detail(75)->dsn, "4.3.0");
	assert_string_equal(sys_exits_detail(67)->dsn, "5.1.1");
	assert_string_equal(sys_exits_detail(77)->dsn, "5.7.0");
	assert_string_equal(sys_exits_detail(78)->dsn, "5.3.5");
	assert_true(sys_exits_soft(71));
	assert_false(sys_exits_soft(1));
}

static void
test_command_status(void **state)
{
	static const struct {
		int	 rc, status;
		const char *out;
		int	 del;
		const char *dsn, *reason;
	} cases[] = {
		{ SPAWN_OK, 0, "", DEL_STAT_OK, "2.0.0",
		    "delivered to command: /bin/cmd" },
		{ SPAWN_EXIT, 75, "try later", DEL_STAT_DEFER, "4.3.0",
		    "temporary failure. Command output: try later" },
		{ SPAWN_EXIT, 75, "", DEL_STAT_DEFER, "4.3.0",
		    "temporary failure" },
		{ SPAWN_EXIT, 67, "no such user", DEL_STAT_BOUNCE, "5.1.1",
		    "user unknown. Command output: no such user" },
		{ SPAWN_EXIT, 71, "", DEL_STAT_DEFER, "4.3.0",
		    "system resource problem" },
		{ SPAWN_EXIT, 77, "", DEL_STAT_BOUNCE, "5.7.0",
		    "permission denied" },
		{ SPAWN_EXIT, 1, "oops", DEL_STAT_BOUNCE, "5.3.0",
		    "Command died with status 1: \"/bin/cmd\". "
		    "Command output: oops" },
		{ SPAWN_EXIT, 255, "", DEL_STAT_BOUNCE, "5.3.0",
		    "Command died with status 255: \"/bin/cmd\"" },
		{ SPAWN_SIGNAL, 9, "", DEL_STAT_BOUNCE, "5.3.0",
		    "Command died with signal 9: \"/bin/cmd\"" },
		{ SPAWN_TIMEOUT, 0, "partial", DEL_STAT_DEFER, "4.3.0",
		    "Command time limit exceeded: \"/bin/cmd\". "
		    "Command output: partial" },
		{ SPAWN_ERROR, 0, "", DEL_STAT_DEFER, "4.3.0",
		    "cannot run command \"/bin/cmd\": fork: no memory" },
	};
	struct buf reason = BUF_INIT;
	char dsn[16];
	size_t i;
	int del;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		local_command_status(cases[i].rc, cases[i].status, "/bin/cmd",
		    cases[i].out, "fork: no memory", &reason, dsn,
		    sizeof(dsn), &del);
		assert_int_equal(del, cases[i].del);
		assert_string_equal(dsn, cases[i].dsn);
		assert_string_equal(reason.p, cases[i].reason);
	}
	/* Every sysexits code: the class decides defer or bounce. */
	for (i = 64; i <= 78; i++) {
		local_command_status(SPAWN_EXIT, (int)i, "c", "", "", &reason,
		    dsn, sizeof(dsn), &del);
		assert_int_equal(del, dsn[0] == '4' ? DEL_STAT_DEFER :
		    DEL_STAT_BOUNCE);
		assert_string_equal(dsn, sys_exits_detail((int)i)->dsn);
	}
	buf_free(&reason);
}

static void
test_command_output(void **state)
{
	static const char raw[] = "  line one\r\n\tline\0two\x1b[31m  \n\n";
	struct buf out = BUF_INIT;

	(void)state;
	local_command_output(raw, sizeof(raw) - 1, &out);
	assert_string_equal(out.p, "line one line two [31m");
	local_command_output("", 0, &out);
	assert_string_equal(out.p, "");
	local_command_output("\n\n\n", 3, &out);
	assert_string_equal(out.p, "");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_expand_limits),
		cmocka_unit_test(test_addr_split),
		cmocka_unit_test(test_class_mask),
		cmocka_unit_test(test_sys_exits),
		cmocka_unit_test(test_command_status),
		cmocka_unit_test(test_command_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
