/*
 * NAME		test_addr_find - unit tests for address table lookups
 * DESCRIPTION	addr_find(): the key order (address, address without
 *		extension, bare user for local domains only, @domain),
 *		recipient_delimiter with several characters, the
 *		owner_request_special exception, pattern tables that see
 *		only the full address, and a table that cannot answer.
 *		addr_find_map(): address lists, "@domain" results,
 *		extension propagation, malformed values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/addr_find.h"
#include "dict/dict.h"
#include "mail/mail_conf.h"
#include "util/argv.h"
#include "util/buf.h"
#include "unit.h"

static struct maps *m;

static int
setup(void **state)
{
	(void)state;
	mail_cfg.myorigin = "origin.example";
	mail_cfg.mydestination = "mx.example, localhost";
	mail_cfg.recipient_delimiter = "+-";
	mail_cfg.owner_request_special = 1;
	addr_find_init();
	m = maps_open("test_maps", "inline:{ "
	    "{ joe+ext@d.example = full }, "
	    "{ joe@d.example = noext }, "
	    "{ ann+x = bare-ext }, "
	    "{ ann = bare }, "
	    "{ @d.example = catchall }, "
	    "{ owner-list@l.example = owner }, "
	    "{ owner@l.example = split-owner }, "
	    "{ list-request@l.example = request } }", DICT_FLAG_FOLD_FIX);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	maps_free(m);
	return 0;
}

/* find - the value for addr, "-" when not found, "!" on error */
static const char *
find(struct maps *t, const char *addr, int flags, struct buf *val)
{
	struct buf why = BUF_INIT;
	int r = addr_find(t, addr, flags, val, NULL, &why);

	buf_free(&why);
	if (r == DICT_NOTFOUND)
		return "-";
	if (r == DICT_ERROR)
		return "!";
	return buf_str(val);
}

static void
test_key_order(void **state)
{
	struct buf v = BUF_INIT;

	(void)state;
	assert_string_equal(find(m, "joe+ext@d.example", 0, &v), "full");
	assert_string_equal(find(m, "JOE+EXT@D.example", 0, &v), "full");
	assert_string_equal(find(m, "joe+other@d.example", 0, &v), "noext");
	assert_string_equal(find(m, "joe-other@d.example", 0, &v), "noext");
	assert_string_equal(find(m, "joe@d.example", 0, &v), "noext");
	assert_string_equal(find(m, "zed@d.example", 0, &v), "catchall");
	assert_string_equal(find(m, "zed@x.example", 0, &v), "-");
	/* Bare users: only with the flag, only for local domains. */
	assert_string_equal(find(m, "ann@mx.example", 0, &v), "-");
	assert_string_equal(find(m, "ann@mx.example", ADDR_FIND_BARE_USER,
	    &v), "bare");
	assert_string_equal(find(m, "ann@origin.example",
	    ADDR_FIND_BARE_USER, &v), "bare");
	assert_string_equal(find(m, "ann+x@localhost", ADDR_FIND_BARE_USER,
	    &v), "bare-ext");
	assert_string_equal(find(m, "ann+y@localhost", ADDR_FIND_BARE_USER,
	    &v), "bare");
	assert_string_equal(find(m, "ann@elsewhere.example",
	    ADDR_FIND_BARE_USER, &v), "-");
	/* The caller may know better (smtpd resolved the address). */
	assert_string_equal(find(m, "ann@elsewhere.example",
	    ADDR_FIND_LOCAL_USER, &v), "bare");
	/* An unqualified address is its own key only. */
	assert_string_equal(find(m, "ann", ADDR_FIND_BARE_USER, &v), "bare");
	assert_string_equal(find(m, "ann+q", ADDR_FIND_BARE_USER, &v),
	    "bare");
	buf_free(&v);
}

static void
test_owner_request(void **state)
{
	struct buf v = BUF_INIT;

	(void)state;
	assert_string_equal(find(m, "owner-list@l.example", 0, &v), "owner");
	assert_string_equal(find(m, "list-request@l.example", 0, &v),
	    "request");
	/* Not split: owner-other does not become "owner". */
	assert_string_equal(find(m, "owner-other@l.example", 0, &v), "-");
	mail_cfg.owner_request_special = 0;
	assert_string_equal(find(m, "owner-other@l.example", 0, &v),
	    "split-owner");
	mail_cfg.owner_request_special = 1;
	buf_free(&v);
}

static void
test_pattern_and_error(void **state)
{
	struct buf v = BUF_INIT;
	struct maps *p;
	struct maps *f = maps_open("bad", "inline:{ { a@b = c } }, fail:x",
	    0);

	(void)state;
	{
		char path[] = "/tmp/test_addr_find.XXXXXX";
		int fd = mkstemp(path);
		static const char rules[] = "/^joe@d\\.example$/ re-joe\n"
		    "/^@d\\.example$/ re-domain\n";
		struct buf spec = BUF_INIT;

		assert_true(fd >= 0);
		assert_int_equal(write(fd, rules, sizeof(rules) - 1),
		    (ssize_t)sizeof(rules) - 1);
		close(fd);
		buf_printf(&spec, "pcre:%s", path);
		p = maps_open("pat", buf_str(&spec), 0);
		/* Only the full address goes to pattern tables. */
		assert_string_equal(find(p, "joe@d.example", 0, &v), "re-joe");
		assert_string_equal(find(p, "joe+x@d.example", 0, &v), "-");
		assert_string_equal(find(p, "zed@d.example", 0, &v), "-");
		maps_free(p);
		unlink(path);
		buf_free(&spec);
	}
	assert_string_equal(find(f, "a@b", 0, &v), "c");
	assert_string_equal(find(f, "x@b", 0, &v), "!");
	/* No table finds nothing; a delimiter first is no extension. */
	assert_string_equal(find(NULL, "a@b", 0, &v), "-");
	{
		struct maps *t = maps_open("t", "inline:{ { +u@d.example = x },"
		    " { @d.example = catch } }", DICT_FLAG_FOLD_FIX);
		struct buf big = BUF_INIT;

		assert_string_equal(find(t, "+u@d.example", 0, &v), "x");
		assert_string_equal(find(t, "nodomain", 0, &v), "-");
		/* A key beyond DICT_KEY_MAX: the catch-all still answers. */
		while (big.len < DICT_KEY_MAX + 10)
			buf_putc(&big, 'a');
		buf_puts(&big, "@d.example");
		assert_string_equal(find(t, big.p, 0, &v), "catch");
		buf_free(&big);
		maps_free(t);
	}
	maps_free(f);
	buf_free(&v);
}

/* mapped - addr_find + addr_find_map as one comma-joined string */
static void
mapped(const char *table, const char *addr, int propagate, struct buf *out)
{
	struct maps *t = maps_open("t", table, DICT_FLAG_FOLD_FIX);
	struct addr_found f = ADDR_FOUND_INIT;
	struct buf v = BUF_INIT, why = BUF_INIT;
	struct argv res = { NULL, 0, 0 };
	size_t i;

	buf_reset(out);
	assert_int_equal(addr_find(t, addr, ADDR_FIND_BARE_USER, &v, &f,
	    &why), DICT_FOUND);
	if (addr_find_map(buf_str(&v), &f, propagate, &res, &why) < 0)
		buf_sets(out, "!");
	for (i = 0; i < res.n; i++)
		buf_printf(out, "%s%s", i ? "," : "", res.v[i]);
	argv_clear(&res);
	addr_found_free(&f);
	buf_free(&v);
	buf_free(&why);
	maps_free(t);
}

static void
test_map_results(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	mapped("inline:{ { joe@d.example = a@x.example, b, \"c d\"@y } }",
	    "joe@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "a@x.example,b,c d@y");
	/* The extension moves to each result when the key lacked it. */
	mapped("inline:{ { joe@d.example = a@x.example, b } }",
	    "joe+box@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "a+box@x.example,b+box");
	mapped("inline:{ { joe@d.example = a@x.example } }",
	    "joe-box@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "a-box@x.example");
	mapped("inline:{ { joe@d.example = a@x.example } }",
	    "joe+box@d.example", 0, &out);
	assert_string_equal(buf_str(&out), "a@x.example");
	/* Matched with the extension: nothing to propagate. */
	mapped("inline:{ { joe+box@d.example = a@x.example } }",
	    "joe+box@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "a@x.example");
	/* "@domain" keeps the whole original local part. */
	mapped("inline:{ { @d.example = @new.example } }",
	    "joe+box@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "joe+box@new.example");
	/* The parser is lenient, as Postfix's: quotes close at the end. */
	mapped("inline:{ { joe@d.example = \"open quote } }",
	    "joe@d.example", 1, &out);
	assert_string_equal(buf_str(&out), "open quote");
	/* Null addresses are dropped (callers refuse an empty result). */
	mapped("inline:{ { joe@d.example = <>, <> } }", "joe@d.example", 1,
	    &out);
	assert_string_equal(buf_str(&out), "");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_owner_request),
		cmocka_unit_test(test_pattern_and_error),
		cmocka_unit_test(test_map_results),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
