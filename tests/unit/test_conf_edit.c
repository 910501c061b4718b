/*
 * NAME		test_conf_edit - unit tests for mail/conf_edit and conf_show
 * DESCRIPTION	Table-driven cases for postconf -e, -# and -X on main.cf
 *		text: replacement in place, continuation lines, comments
 *		inside an entry, duplicates, appending sorted, a last line
 *		without newline, CRLF, NUL bytes; every request error; limits
 *		of request count and file size; the file variant (mode kept,
 *		atomic replacement).  conf_show_line() normalization and
 *		folding at the 80-column limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail/conf.h"
#include "mail/conf_edit.h"
#include "mail/conf_show.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/files.h"
#include "unit.h"

struct edit_case {
	const char *name;
	int	 mode;
	const char *in;
	const char *args[6];
	const char *out;	/* NULL: an error is expected */
	const char *why;	/* error text, or the warnings joined by '|' */
};

static const struct edit_case cases[] = {
	{"replace", CONF_EDIT_SET,
	    "a = 1\nb = 2\nc = 3\n", {"b=20"},
	    "a = 1\nb = 20\nc = 3\n", ""},
	{"replace spaces kept out", CONF_EDIT_SET,
	    "a = 1\n", {"  a   =   x y  "},
	    "a = x y\n", ""},
	{"empty value", CONF_EDIT_SET,
	    "a = 1\n", {"a="},
	    "a = \n", ""},
	{"append sorted", CONF_EDIT_SET,
	    "# hello\nm = 1\n", {"z=26", "b=2", "m=13"},
	    "# hello\nm = 13\nb = 2\nz = 26\n", ""},
	{"no final newline", CONF_EDIT_SET,
	    "a = 1", {"b=2"},
	    "a = 1\nb = 2\n", ""},
	{"empty file", CONF_EDIT_SET,
	    "", {"b=2"},
	    "b = 2\n", ""},
	{"continuation dropped", CONF_EDIT_SET,
	    "a = x,\n  y,\n\tz\nb = 2\n", {"a=w"},
	    "a = w\nb = 2\n", ""},
	{"comment inside entry kept", CONF_EDIT_SET,
	    "a = x,\n# note\n  y\nb = 2\n", {"a=w"},
	    "a = w\n# note\nb = 2\n", ""},
	{"blank line inside entry kept", CONF_EDIT_SET,
	    "a = x,\n\n  y\n", {"a=w"},
	    "a = w\n\n", ""},
	{"other continuations kept", CONF_EDIT_SET,
	    "a = x,\n  y\nb = 1,\n  2\n", {"b=3"},
	    "a = x,\n  y\nb = 3\n", ""},
	{"name without blank before =", CONF_EDIT_SET,
	    "a=1\nab = 2\n", {"a=9"},
	    "a = 9\nab = 2\n", ""},
	{"prefix is not a match", CONF_EDIT_SET,
	    "abc = 1\n", {"ab=2"},
	    "abc = 1\nab = 2\n", ""},
	{"duplicates all replaced", CONF_EDIT_SET,
	    "a = 1\nb = 2\na = 3\n", {"a=4"},
	    "a = 4\nb = 2\na = 4\n", "multiple entries for \"a\""},
	{"later request wins", CONF_EDIT_SET,
	    "a = 1\n", {"a=2", "a=3"},
	    "a = 3\n", "ignoring earlier request: 'a = 2'"},
	{"crlf line", CONF_EDIT_SET,
	    "a = 1\r\nb = 2\r\n", {"a=5"},
	    "a = 5\nb = 2\r\n", ""},
	{"line without = matches by name", CONF_EDIT_SET,
	    "a\nb = 2\n", {"a=1"},
	    "a = 1\nb = 2\n", ""},
	{"comment out", CONF_EDIT_COMMENT,
	    "a = x,\n  y\n# c\nb = 2\n", {"a"},
	    "#a = x,\n#  y\n# c\nb = 2\n", ""},
	{"comment out missing adds nothing", CONF_EDIT_COMMENT,
	    "b = 2\n", {"a"},
	    "b = 2\n", ""},
	{"delete", CONF_EDIT_DELETE,
	    "a = x,\n  y\nb = 2\na = 1\n", {" a "},
	    "b = 2\n", "multiple entries for \"a\""},
	{"indented first line is continuation", CONF_EDIT_DELETE,
	    "  a = 1\nb = 2\n", {"a"},
	    "  a = 1\nb = 2\n", ""},
	{"multi-line request", CONF_EDIT_SET,
	    "", {"a=1\nb=2"},
	    NULL, "-e, -X, or -# accepts no multi-line input"},
	{"comment request", CONF_EDIT_SET,
	    "", {"  # a=1"},
	    NULL, "-e, -X, or -# accepts no comment input"},
	{"missing =", CONF_EDIT_SET,
	    "", {"a"},
	    NULL, "missing '=' after attribute name: \"a\""},
	{"missing name", CONF_EDIT_SET,
	    "", {" = 1"},
	    NULL, "missing attribute name: \" = 1\""},
	{"bad name", CONF_EDIT_SET,
	    "", {"a b=1"},
	    NULL, "bad parameter name: \"a b\""},
	{"bad name start", CONF_EDIT_SET,
	    "", {"_a=1"},
	    NULL, "bad parameter name: \"_a\""},
	{"value for -#", CONF_EDIT_COMMENT,
	    "", {"a=1"},
	    NULL, "-X or -# requires parameter names without value"},
	{"blank name for -X", CONF_EDIT_DELETE,
	    "", {"   "},
	    NULL, "-X or -# requires non-blank parameter names"},
	{"bad mode", 0,
	    "", {"a=1"},
	    NULL, "unknown edit mode"},
};

/* join_warnings - warnings joined with '|' */
static const char *
join_warnings(const struct argv *w, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < w->n; i++) {
		if (i)
			buf_putc(out, '|');
		buf_puts(out, w->v[i]);
	}
	return buf_str(out);
}

static void
test_conf_edit_cases(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT, tmp = BUF_INIT;
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const struct edit_case *t = &cases[i];
		struct argv args, warnings;
		int r;

		argv_init(&args);
		argv_init(&warnings);
		for (k = 0; k < NELEM(t->args) && t->args[k]; k++)
			argv_add(&args, t->args[k]);
		buf_reset(&why);
		r = conf_edit(t->mode, t->in, strlen(t->in), &args, &out,
		    &warnings, &why);
		if (t->out == NULL) {
			if (r != -1)
				fail_msg("%s: want an error", t->name);
			assert_string_equal(buf_str(&why), t->why);
		} else {
			if (r != 0)
				fail_msg("%s: %s", t->name, buf_str(&why));
			if (strcmp(buf_str(&out), t->out) != 0)
				fail_msg("%s: got \"%s\"", t->name,
				    buf_str(&out));
			assert_string_equal(join_warnings(&warnings, &tmp),
			    t->why);
		}
		argv_clear(&args);
		argv_clear(&warnings);
	}
	buf_free(&out);
	buf_free(&why);
	buf_free(&tmp);
}

static void
test_conf_edit_text_api(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct argv args;
	static const char text[] = "x = 1\0junk\ny = 2\n";

	(void)state;
	argv_init(&args);
	argv_add(&args, "y=3");
	/* NUL bytes are copied, never a reason to stop. */
	assert_int_equal(conf_edit_text(text, sizeof(text) - 1, &args, &out,
	    &why), 0);
	assert_int_equal(out.len, sizeof(text) - 1);
	assert_memory_equal(out.p, "x = 1\0junk\ny = 3\n", out.len);
	argv_clear(&args);
	buf_free(&out);
	buf_free(&why);
}

static void
test_conf_edit_limits(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	struct argv args;
	size_t i;

	(void)state;
	argv_init(&args);
	/* Request count: limit passes, limit + 1 fails. */
	for (i = 0; i < CONF_EDIT_ARGS_MAX; i++)
		argv_addf(&args, "p%zu=%zu", i, i);
	assert_int_equal(conf_edit(CONF_EDIT_SET, "", 0, &args, &out, NULL,
	    &why), 0);
	assert_int_equal(strncmp(out.p, "p0 = 0\np1 = 1\np10 = 10\n", 22), 0);
	argv_add(&args, "one=more");
	assert_int_equal(conf_edit(CONF_EDIT_SET, "", 0, &args, &out, NULL,
	    &why), -1);
	assert_string_equal(buf_str(&why), "too many parameters to edit");
	argv_clear(&args);

	/* File size: CONF_FILE_MAX passes, one byte more fails. */
	argv_init(&args);
	argv_add(&args, "a=1");
	buf_reserve(&big, CONF_FILE_MAX + 1);
	memset(big.p, '#', CONF_FILE_MAX + 1);
	big.p[0] = '\n';
	big.len = CONF_FILE_MAX;
	assert_int_equal(conf_edit(CONF_EDIT_SET, big.p, big.len, &args,
	    &out, NULL, &why), 0);
	assert_int_equal(out.len, CONF_FILE_MAX + 1 + 6);
	buf_reset(&why);
	assert_int_equal(conf_edit(CONF_EDIT_SET, big.p, CONF_FILE_MAX + 1,
	    &args, &out, NULL, &why), -1);
	assert_string_equal(buf_str(&why), "file too large");

	/* Names: 255 bytes pass, 256 fail. */
	argv_truncate(&args, 0);
	buf_reset(&big);
	buf_putc(&big, 'n');
	for (i = 1; i < 255; i++)
		buf_putc(&big, 'x');
	argv_addf(&args, "%s=v", big.p);
	assert_int_equal(conf_edit(CONF_EDIT_SET, "", 0, &args, &out, NULL,
	    &why), 0);
	argv_truncate(&args, 0);
	argv_addf(&args, "%sx=v", big.p);
	assert_int_equal(conf_edit(CONF_EDIT_SET, "", 0, &args, &out, NULL,
	    &why), -1);
	argv_clear(&args);
	buf_free(&out);
	buf_free(&why);
	buf_free(&big);
}

static void
test_conf_edit_file(void **state)
{
	char dir[] = "/tmp/test_conf_edit.XXXXXX", path[128];
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct argv args, warnings;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.cf", dir);
	argv_init(&args);
	argv_init(&warnings);
	argv_add(&args, "a=2");

	/* A missing file is an error. */
	assert_int_equal(conf_edit_file(path, CONF_EDIT_SET, &args,
	    &warnings, &why), -1);
	assert_true(strstr(buf_str(&why), "for reading") != NULL);

	assert_int_equal(file_replace(path, "a = 1\na = 0\n", 12, 0640), 0);
	assert_int_equal(conf_edit_file(path, CONF_EDIT_SET, &args,
	    &warnings, &why), 0);
	assert_int_equal(file_read(path, &text, 1000), 0);
	assert_string_equal(text.p, "a = 2\na = 2\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(warnings.n, 1);
	assert_true(strstr(warnings.v[0], "/main.cf: multiple entries") !=
	    NULL);

	assert_int_equal(conf_edit_file(dir, CONF_EDIT_SET, &args, NULL,
	    &why), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	argv_clear(&args);
	argv_clear(&warnings);
	buf_free(&text);
	buf_free(&why);
}

static void
test_conf_show_line(void **state)
{
	struct buf out = BUF_INIT, in = BUF_INIT;
	size_t i;

	(void)state;
	conf_show_line(&out, "a =  b,\tc\n  d ", 14, 0);
	assert_string_equal(buf_str(&out), "a = b, c d\n");
	buf_reset(&out);
	conf_show_line(&out, "relayhost = ", 12, 0);
	assert_string_equal(buf_str(&out), "relayhost =\n");
	buf_reset(&out);
	conf_show_line(&out, "", 0, 1);
	assert_string_equal(buf_str(&out), "\n");

	/* Folding: a line may reach 80 columns; one more byte wraps. */
	buf_reset(&out);
	buf_puts(&in, "name = ");
	for (i = 0; i < 73; i++)
		buf_putc(&in, 'x');
	conf_show_line(&out, in.p, in.len, 1);
	assert_int_equal(out.len, 81);		/* 80 columns and NL */
	buf_reset(&out);
	conf_show_line(&out, in.p, in.len, 0);
	assert_int_equal(out.len, 81);
	buf_reset(&out);
	buf_putc(&in, 'y');
	conf_show_line(&out, in.p, in.len, 1);
	assert_int_equal(out.len, 6 + 1 + 4 + 74 + 1);
	assert_memory_equal(out.p, "name =\n    xxx", 14);
	buf_reset(&out);
	conf_show_line(&out, in.p, in.len, 0);
	assert_int_equal(out.len, 82);
	buf_free(&out);
	buf_free(&in);
}

static void
test_mcf_show(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	struct argv filters;

	(void)state;
	argv_init(&filters);
	golden_read("postconf_M", "in", &in);
	assert_int_equal(mcf_show(in.p, in.len, "master.cf", NULL, 0, &out,
	    &why), 0);
	buf_puts(&out, "== folded\n");
	assert_int_equal(mcf_show(in.p, in.len, "master.cf", NULL, 1, &out,
	    &why), 0);
	buf_puts(&out, "== smtp/inet submission/* *\n");
	argv_add(&filters, "smtp/inet");
	argv_add(&filters, "submission/*");
	assert_int_equal(mcf_show(in.p, in.len, "master.cf", &filters, 0,
	    &out, &why), 0);
	buf_puts(&out, "== */unix\n");
	argv_truncate(&filters, 0);
	argv_add(&filters, "*/unix");
	assert_int_equal(mcf_show(in.p, in.len, "master.cf", &filters, 0,
	    &out, &why), 0);
	golden_check("postconf_M", &out);

	/* Errors are master(8)'s. */
	assert_int_equal(mcf_show("a b c\n", 6, "master.cf", NULL, 0, &out,
	    &why), -1);
	assert_string_equal(buf_str(&why),
	    "master.cf, line 1: missing \"unpriv\" field");
	argv_clear(&filters);
	buf_free(&in);
	buf_free(&out);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_edit_cases),
		cmocka_unit_test(test_conf_edit_text_api),
		cmocka_unit_test(test_conf_edit_limits),
		cmocka_unit_test(test_conf_edit_file),
		cmocka_unit_test(test_conf_show_line),
		cmocka_unit_test(test_mcf_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
