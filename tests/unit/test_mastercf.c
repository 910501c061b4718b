/*
 * NAME		test_mastercf - unit tests for mail/mastercf
 * DESCRIPTION	A realistic master.cf as a golden transcript (columns,
 *		defaults for '-', wakeup with '?', maxproc, continuation
 *		lines, "-o { name = value }" grouping); errors for bad types,
 *		missing fields, bad columns, duplicates and bad -o arguments,
 *		each naming the line; limits on arguments, entries and file
 *		size at limit-1, limit and limit+1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/mastercf.h"
#include "util/buf.h"
#include "unit.h"

/* dump - one line per entry */
static void
dump(const struct mcf *m, struct buf *out)
{
	size_t i, k;

	for (i = 0; i < m->n; i++) {
		const struct mcf_ent *e = &m->v[i];

		buf_printf(out, "line %d: %s/%s private=%d unpriv=%d chroot=%d "
		    "wakeup=%d%s maxproc=%d\n", e->line, e->service, e->type,
		    e->private_, e->unpriv, e->chroot, e->wakeup,
		    e->wakeup_cond ? "?" : "", e->maxproc);
		for (k = 0; k < e->args->n; k++)
			buf_printf(out, "\targv[%zu] = [%s]\n", k,
			    e->args->v[k]);
		assert_null(e->args->v[e->args->n]);
	}
}

static void
test_mcf_golden(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct mcf m;
	const struct mcf_ent *e;

	(void)state;
	if (mcf_read("data/mastercf.in", &m, &why) < 0)
		fail_msg("%s", buf_str(&why));
	dump(&m, &out);
	golden_check("mastercf", &out);
	/* mcf_find by name and type, or by name alone. */
	e = mcf_find(&m, "smtp", "unix");
	assert_non_null(e);
	assert_string_equal(e->args->v[0], "smtp");
	e = mcf_find(&m, "smtp", "inet");
	assert_non_null(e);
	assert_string_equal(e->args->v[0], "smtpd");
	e = mcf_find(&m, "smtp", NULL);
	assert_non_null(e);
	assert_string_equal(e->type, "inet");		/* the first */
	assert_null(mcf_find(&m, "smtp", "fifo"));
	assert_null(mcf_find(&m, "nonesuch", NULL));
	mcf_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.v);
	mcf_free(&m);				/* twice is harmless */
	buf_free(&out);
	buf_free(&why);
}

static void
test_mcf_errors(void **state)
{
	static const struct {
		const char *text;
		const char *why;	/* NULL: accepted */
	} t[] = {
		{"", NULL},
		{"# only comments\n\n   \n", NULL},
		{"smtp inet n - n - - smtpd", NULL},
		/* Missing fields. */
		{"smtp", "master.cf, line 1: missing \"type\" field"},
		{"smtp inet", "master.cf, line 1: missing \"private\" field"},
		{"smtp inet n - n - -",
		    "master.cf, line 1: missing \"command\" field"},
		{"# x\nsmtp inet n - n - -\n",
		    "master.cf, line 2: missing \"command\" field"},
		/* Bad columns. */
		{"smtp tcp n - n - - smtpd",
		    "master.cf, line 1: bad transport type: tcp"},
		{"smtp INET n - n - - smtpd",
		    "master.cf, line 1: bad transport type: INET"},
		{"smtp inet yes - n - - smtpd",
		    "master.cf, line 1: bad boolean field value"},
		{"smtp inet n x n - - smtpd",
		    "master.cf, line 1: bad boolean field value"},
		{"smtp inet n - Y - - smtpd",
		    "master.cf, line 1: bad boolean field value"},
		{"a unix - - - ? - x", "master.cf, line 1: bad wakeup time: "},
		{"a unix - - - ?? - x", "master.cf, line 1: bad wakeup time"},
		{"a unix - - - -1 - x", "master.cf, line 1: bad wakeup time"},
		{"a unix - - - 1s - x", "master.cf, line 1: bad wakeup time"},
		{"a unix - - - 31535999 - x", NULL},
		{"a unix - - - 31536000 - x", NULL},
		{"a unix - - - 31536001 - x",
		    "master.cf, line 1: bad wakeup time"},
		{"a unix - - - 31536000? - x", NULL},
		{"a unix - - - 0? - x", NULL},
		{"a unix - - - - 99999 x", NULL},
		{"a unix - - - - 100000 x", NULL},
		{"a unix - - - - 100001 x",
		    "master.cf, line 1: bad maximal process count: 100001"},
		{"a unix - - - - -1 x",
		    "master.cf, line 1: bad maximal process count"},
		{"a unix - - - - 1? x",
		    "master.cf, line 1: bad maximal process count"},
		{"a unix - - - - n x",
		    "master.cf, line 1: bad maximal process count"},
		/* Commands are names in daemon_directory. */
		{"a unix - - - - - /bin/sh",
		    "master.cf, line 1: command must be a name"},
		{"a unix - - - - - ../x",
		    "master.cf, line 1: command must be a name"},
		{"a unix - - - - - .x",
		    "master.cf, line 1: command must be a name"},
		{"a unix - - - - - x/y",
		    "master.cf, line 1: command must be a name"},
		/* Duplicates: same name and type. */
		{"a unix - - - - - x\na inet - - - - - x", NULL},
		{"a unix - - - - - x\nb unix - - - - - x\n\na unix - - - - - y",
		    "master.cf, line 4: duplicate service name and type: a "
		    "unix"},
		/* -o needs name=value. */
		{"a unix - - - - - x -o", "master.cf, line 1: -o needs name"},
		{"a unix - - - - - x -o name",
		    "master.cf, line 1: -o needs name=value"},
		{"a unix - - - - - x -o -o a=b",
		    "master.cf, line 1: -o needs name=value"},
		{"a unix - - - - - x -o a=", NULL},
		{"a unix - - - - - x -o { a = b c }", NULL},
		{"a unix - - - - - x -o { a b }",
		    "master.cf, line 1: -o needs name=value"},
		{"a unix - - - - - x -o { a = b",
		    "master.cf, line 1: missing '}'"},
		{"a unix - - - - - x\n  -o {a=b}c",
		    "master.cf, line 1: syntax error after '}'"},
		/* Continuation lines. */
		{" a unix - - - - - x",
		    "master.cf, line 1: text starts with white space"},
		{"# c\n\n\ta unix - - - - - x",
		    "master.cf, line 3: text starts with white space"},
		{"a unix - - - - - x\n  -o a=b\nb unix - -\n  - - - y", NULL},
		{"a unix - - - - - x\n  -o a=b\nb unix - -\n  - - -",
		    "master.cf, line 3: missing \"command\" field"},
		{"a\n unix\n -\n -\n -\n -\n -\n x", NULL},
	};
	struct buf why = BUF_INIT;
	struct mcf m;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		int r;

		buf_reset(&why);
		r = mcf_parse(t[i].text, strlen(t[i].text), "master.cf", &m,
		    &why);
		if (t[i].why == NULL && r != 0)
			fail_msg("\"%s\": %s", t[i].text, buf_str(&why));
		if (t[i].why != NULL && (r != -1 || strncmp(buf_str(&why),
		    t[i].why, strlen(t[i].why)) != 0))
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"",
			    t[i].text, r, buf_str(&why), t[i].why);
		/* On error the result is empty; nothing leaks. */
		if (r < 0)
			assert_int_equal(m.n, 0);
		mcf_free(&m);
	}
	buf_free(&why);
}

static void
test_mcf_nul(void **state)
{
	static const char text[] = "a unix - - - - - x\nb unix - - - - - \0y\n";
	struct buf why = BUF_INIT;
	struct mcf m;

	(void)state;
	assert_int_equal(mcf_parse(text, sizeof(text) - 1, "master.cf", &m,
	    &why), -1);
	assert_string_equal(buf_str(&why), "master.cf, line 2: NUL byte");
	assert_int_equal(m.n, 0);
	buf_free(&why);
}

static void
test_mcf_defaults(void **state)
{
	static const char text[] =
	    "i inet - - - - - x\n"
	    "u unix - - - - - x\n"
	    "y unix y y y 5 7 x\n"
	    "n inet n n n 0 0 x\n";
	struct buf why = BUF_INIT;
	struct mcf m;

	(void)state;
	assert_int_equal(mcf_parse(text, sizeof(text) - 1, "master.cf", &m,
	    &why), 0);
	assert_int_equal(m.n, 4);
	/* '-': private is n for inet, y otherwise; unpriv y; chroot n. */
	assert_int_equal(m.v[0].private_, 0);
	assert_int_equal(m.v[1].private_, 1);
	assert_int_equal(m.v[0].unpriv, 1);
	assert_int_equal(m.v[0].chroot, 0);
	assert_int_equal(m.v[0].wakeup, 0);
	assert_int_equal(m.v[0].wakeup_cond, 0);
	assert_int_equal(m.v[0].maxproc, -1);
	assert_int_equal(m.v[2].private_, 1);
	assert_int_equal(m.v[2].unpriv, 1);
	assert_int_equal(m.v[2].chroot, 1);
	assert_int_equal(m.v[2].wakeup, 5);
	assert_int_equal(m.v[2].maxproc, 7);
	assert_int_equal(m.v[3].private_, 0);
	assert_int_equal(m.v[3].unpriv, 0);
	assert_int_equal(m.v[3].chroot, 0);
	assert_int_equal(m.v[3].maxproc, 0);
	assert_int_equal(m.v[3].line, 4);
	mcf_free(&m);
	buf_free(&why);
}

static void
test_mcf_limits(void **state)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct mcf m;
	int n, k;

	(void)state;
	/* Arguments, counting the command: limit-1, limit, limit+1. */
	for (n = MCF_ARGS_MAX - 1; n <= MCF_ARGS_MAX + 1; n++) {
		buf_reset(&text);
		buf_puts(&text, "a unix - - - - - cmd");
		for (k = 1; k < n; k++)
			buf_printf(&text, " arg%d", k);
		buf_reset(&why);
		if (n <= MCF_ARGS_MAX) {
			assert_int_equal(mcf_parse(text.p, text.len, "m", &m,
			    &why), 0);
			assert_int_equal(m.v[0].args->n, (size_t)n);
		} else {
			assert_int_equal(mcf_parse(text.p, text.len, "m", &m,
			    &why), -1);
			assert_string_equal(buf_str(&why),
			    "m, line 1: too many arguments");
		}
		mcf_free(&m);
	}
	/* Entries: limit-1, limit, limit+1. */
	for (n = MCF_ENT_MAX - 1; n <= MCF_ENT_MAX + 1; n++) {
		buf_reset(&text);
		for (k = 0; k < n; k++)
			buf_printf(&text, "s%d unix - - - - - x\n", k);
		buf_reset(&why);
		if (n <= MCF_ENT_MAX) {
			assert_int_equal(mcf_parse(text.p, text.len, "m", &m,
			    &why), 0);
			assert_int_equal(m.n, (size_t)n);
		} else {
			assert_int_equal(mcf_parse(text.p, text.len, "m", &m,
			    &why), -1);
			assert_string_equal(buf_str(&why),
			    "m: too many entries");
		}
		mcf_free(&m);
	}
	/* File size: limit and limit+1 (comment lines only). */
	buf_reset(&text);
	buf_reserve(&text, MCF_FILE_MAX + 1);
	memset(text.p, '#', MCF_FILE_MAX + 1);
	for (k = 100; k < MCF_FILE_MAX; k += 100)
		text.p[k] = '\n';
	text.len = MCF_FILE_MAX + 1;
	text.p[text.len] = 0;
	assert_int_equal(mcf_parse(text.p, MCF_FILE_MAX, "m", &m, &why), 0);
	assert_int_equal(m.n, 0);
	buf_reset(&why);
	assert_int_equal(mcf_parse(text.p, MCF_FILE_MAX + 1, "m", &m, &why),
	    -1);
	assert_string_equal(buf_str(&why), "m: file too large");
	buf_free(&text);
	buf_free(&why);
}

static void
test_mcf_read_missing(void **state)
{
	struct buf why = BUF_INIT;
	struct mcf m;

	(void)state;
	assert_int_equal(mcf_read("data/no-such-master.cf", &m, &why), -1);
	assert_non_null(strstr(buf_str(&why), "no-such-master.cf"));
	assert_int_equal(m.n, 0);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mcf_golden),
		cmocka_unit_test(test_mcf_errors),
		cmocka_unit_test(test_mcf_nul),
		cmocka_unit_test(test_mcf_defaults),
		cmocka_unit_test(test_mcf_limits),
		cmocka_unit_test(test_mcf_read_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
