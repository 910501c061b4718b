/*
 * NAME		test_dict - unit tests for lib/dict: source files, in-memory
 *		tables and maps
 * DESCRIPTION	The postmap(1) and aliases(5) source parsers (normal input,
 *		continuation lines, comments, errors with file and line,
 *		length limits at limit-1, limit and limit+1, NUL bytes and
 *		other hostile input), inline:, static:, fail:, texthash: and
 *		unix: tables, key folding and bounds in dict_lookup(), and
 *		maps order and error propagation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_source.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "unit.h"

/* collect - parser callback: "key=value@line" lines into a buf */
static int
collect(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	struct buf *out = ctx;

	(void)why;
	assert_int_equal(strlen(e->key), e->klen);
	assert_int_equal(strlen(e->value), e->vlen);
	buf_printf(out, "%s=%s@%lu\n", e->key, e->value, e->line);
	return 0;
}

/* parse - run the parser on a C string; returns its result */
static int
parse(int format, int flags, const char *text, size_t len, struct buf *out,
    struct buf *why)
{
	buf_reset(out);
	buf_reset(why);
	return dict_source_parse(format, flags, "src", text, len, collect,
	    out, why);
}

struct src_case {
	int	 format;
	int	 flags;
	const char *in;
	int	 result;
	const char *out;		/* entries, or the error text */
};

static const struct src_case src_cases[] = {
	/* postmap(1) format */
	{ DICT_SRC_POSTMAP, 0, "", 0, "" },
	{ DICT_SRC_POSTMAP, 0, "a b\n", 0, "a=b@1\n" },
	{ DICT_SRC_POSTMAP, 0, "a b", 0, "a=b@1\n" },
	{ DICT_SRC_POSTMAP, 0, "a  \t b c  \n", 0, "a=b c@1\n" },
	{ DICT_SRC_POSTMAP, 0, "a b\r\nc d\r\n", 0, "a=b@1\nc=d@2\n" },
	{ DICT_SRC_POSTMAP, 0, "# c\n\n  \n#x y\na b\n", 0, "a=b@5\n" },
	{ DICT_SRC_POSTMAP, 0, "a b\n\tc\n", 0, "a=b\tc@1\n" },
	{ DICT_SRC_POSTMAP, 0, "a b\n  # note\n\n c\nd e\n", 0,
	    "a=b c@1\nd=e@5\n" },
	{ DICT_SRC_POSTMAP, 0, "a\n b\n", 0, "a=b@1\n" },
	{ DICT_SRC_POSTMAP, 0, "Key VaLuE\n", 0, "Key=VaLuE@1\n" },
	{ DICT_SRC_POSTMAP, DICT_SRC_FOLD, "Key VaLuE\n", 0,
	    "key=VaLuE@1\n" },
	{ DICT_SRC_POSTMAP, 0, "\"a b\" c\n", 0, "\"a b\"=c@1\n" },
	{ DICT_SRC_POSTMAP, 0, "\"a\\\" b\" c\n", 0, "\"a\\\" b\"=c@1\n" },
	{ DICT_SRC_POSTMAP, 0, "a b\nc\n", -1,
	    "src, line 2: expected format: key whitespace value" },
	{ DICT_SRC_POSTMAP, 0, "a b\nc   \n", -1,
	    "src, line 2: expected format: key whitespace value" },
	{ DICT_SRC_POSTMAP, 0, "\"a b\n", -1,
	    "src, line 1: unbalanced '\"' in key" },
	{ DICT_SRC_POSTMAP, 0, " a b\n", -1,
	    "src, line 1: continuation line without an entry to continue" },
	{ DICT_SRC_POSTMAP, 0, "a b\n\n\n", 0, "a=b@1\n" },
	/* aliases(5) format */
	{ DICT_SRC_ALIASES, 0, "root: joe\n", 0, "root=joe@1\n" },
	{ DICT_SRC_ALIASES, 0, "root:joe,bob\n", 0, "root=joe, bob@1\n" },
	{ DICT_SRC_ALIASES, 0, "a: x,y ,  z\n", 0, "a=x, y, z@1\n" },
	{ DICT_SRC_ALIASES, 0, "a: x,\n\ty,\n\n\tz\n", 0, "a=x, y, z@1\n" },
	{ DICT_SRC_ALIASES, 0, "d:\t/var/x   y\n", 0, "d=/var/x y@1\n" },
	{ DICT_SRC_ALIASES, 0, "b: |\"/bin/cmd  -x\", :include:/etc/l\n", 0,
	    "b=|\"/bin/cmd  -x\", :include:/etc/l@1\n" },
	{ DICT_SRC_ALIASES, 0, "c: Joe (a,  b) <j@x>,,k\n", 0,
	    "c=Joe (a,  b) <j@x>, k@1\n" },
	{ DICT_SRC_ALIASES, DICT_SRC_FOLD, "\"Quoted Name\": x\n", 0,
	    "quoted name=x@1\n" },
	{ DICT_SRC_ALIASES, 0, "\"a:b\": x\n", 0, "a:b=x@1\n" },
	{ DICT_SRC_ALIASES, 0, "foo : bar\n", 0, "foo=bar@1\n" },
	{ DICT_SRC_ALIASES, DICT_SRC_FOLD, "Ab: Cd\n", 0, "ab=Cd@1\n" },
	{ DICT_SRC_ALIASES, 0, "x: y\nnocolon value\n", -1,
	    "src, line 2: need name:value pair" },
	{ DICT_SRC_ALIASES, 0, "empty:\n", -1,
	    "src, line 1: need name:value pair" },
	{ DICT_SRC_ALIASES, 0, "empty: , ,\n", -1,
	    "src, line 1: need name:value pair" },
	{ DICT_SRC_ALIASES, 0, ": x\n", -1,
	    "src, line 1: need name:value pair" },
	{ DICT_SRC_ALIASES, 0, "\"\": x\n", -1,
	    "src, line 1: need name:value pair" },
	{ DICT_SRC_ALIASES, 0, "\"ab: x\n", -1,
	    "src, line 1: unbalanced '\"' in alias name" },
	{ DICT_SRC_ALIASES, 0, "a: \"unterminated, b\n", 0,
	    "a=\"unterminated, b@1\n" },
};

static void
test_source_table(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(src_cases); i++) {
		const struct src_case *c = &src_cases[i];

		r = parse(c->format, c->flags, c->in, strlen(c->in), &out,
		    &why);
		if (r != c->result)
			fail_msg("case %zu (%s): result %d, why %s", i, c->in,
			    r, buf_str(&why));
		if (r == 0)
			assert_string_equal(buf_str(&out), c->out);
		else
			assert_string_equal(buf_str(&why), c->out);
	}
	buf_free(&out);
	buf_free(&why);
}

static void
test_source_nul(void **state)
{
	static const char text[] = "a b\nc d\0e\nf g\n";
	struct buf out = BUF_INIT, why = BUF_INIT;

	(void)state;
	assert_int_equal(parse(DICT_SRC_POSTMAP, 0, text, sizeof(text) - 1,
	    &out, &why), -1);
	assert_string_equal(buf_str(&why), "src, line 2: NUL byte in input");
	assert_int_equal(parse(DICT_SRC_ALIASES, 0, "a: b\0", 5, &out, &why),
	    -1);
	assert_string_equal(buf_str(&why), "src, line 1: NUL byte in input");
	/* A NUL in a comment is still refused: the file is corrupt. */
	assert_int_equal(parse(DICT_SRC_POSTMAP, 0, "#\0\n", 3, &out, &why),
	    -1);
	buf_free(&out);
	buf_free(&why);
}

/* make_line - "key value\n" with given lengths */
static void
make_line(struct buf *b, int format, size_t klen, size_t vlen)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < klen; i++)
		buf_putc(b, 'k');
	buf_puts(b, format == DICT_SRC_ALIASES ? ": " : " ");
	for (i = 0; i < vlen; i++)
		buf_putc(b, 'v');
	buf_putc(b, '\n');
}

static void
test_source_limits(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	int format;

	(void)state;
	for (format = DICT_SRC_POSTMAP; format <= DICT_SRC_ALIASES;
	    format++) {
		make_line(&in, format, DICT_KEY_MAX - 1, 1);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    0);
		make_line(&in, format, DICT_KEY_MAX, 1);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    0);
		make_line(&in, format, DICT_KEY_MAX + 1, 1);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    -1);
		assert_non_null(strstr(buf_str(&why), "src, line 1: key is "
		    "too long"));

		make_line(&in, format, 1, DICT_VALUE_MAX - 1);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    0);
		make_line(&in, format, 1, DICT_VALUE_MAX);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    0);
		make_line(&in, format, 1, DICT_VALUE_MAX + 1);
		assert_int_equal(parse(format, 0, in.p, in.len, &out, &why),
		    -1);
		assert_non_null(strstr(buf_str(&why), "src, line 1: value is "
		    "too long"));
	}
	/* An endless continuation is cut off at the line limit. */
	buf_reset(&in);
	buf_puts(&in, "k v\n");
	while (in.len < DICT_LINE_MAX + DICT_LINE_MAX / 8)
		buf_puts(&in, " vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n");
	assert_int_equal(parse(DICT_SRC_POSTMAP, 0, in.p, in.len, &out, &why),
	    -1);
	assert_non_null(strstr(buf_str(&why), "too long"));
	buf_free(&in);
	buf_free(&out);
	buf_free(&why);
}

/* stop_at_two - callback that fails on the second entry */
static int
stop_at_two(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	int *count = ctx;

	if (++*count == 2) {
		buf_printf(why, "stopped at line %lu", e->line);
		return -1;
	}
	return 0;
}

static void
test_source_hostile(void **state)
{
	static const char *const inputs[] = {
		"\"", "\"\"", "\" \"", ":", "::::", "\\", "\"\\", "\r",
		"\r\r\n",
		"a\r", "a \r", " ", "\t\n\t", "#", "a \"", "a: \"", "a: (",
		"a: ((((", "a: \\", "a: \"\\", "{", "}", "\xff\xfe \x80",
		"a: ,,,,,,,,x", "a \n\n\n\n\n\n\n\n \n", "a:\n b", "a\n\n\n b",
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;
	int format, count = 0;

	(void)state;
	for (i = 0; i < NELEM(inputs); i++)
		for (format = 0; format <= 1; format++)
			(void)parse(format, DICT_SRC_FOLD, inputs[i],
			    strlen(inputs[i]), &out, &why);
	/* Callback errors stop the parse and come back as they are. */
	buf_reset(&why);
	assert_int_equal(dict_source_parse(DICT_SRC_POSTMAP, 0, "f",
	    "a b\nc d\ne f\n", 12, stop_at_two, &count, &why), -1);
	assert_string_equal(buf_str(&why), "stopped at line 2");
	buf_free(&out);
	buf_free(&why);
}

/* lookup - dict_lookup() into a string; NULL when not found */
static const char *
lookup(struct dict *d, const char *key, int *r, struct buf *value,
    struct buf *why)
{
	buf_reset(value);
	*r = dict_lookup(d, key, value, why);
	return *r == DICT_FOUND ? buf_str(value) : NULL;
}

static void
test_inline(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	int r;

	(void)state;
	d = dict_open("inline:{ key1=value1, { key2 = value with spaces }, "
	    "Key3=v={a b}, k4 = x }", DICT_FLAG_FOLD_FIX, &why);
	assert_null(d);		/* "k4", "=", "x" are three entries */
	assert_non_null(strstr(buf_str(&why), "missing '='"));

	d = dict_open("inline:{ key1=value1, { key2 = value with spaces }, "
	    "Key3=v={a b},{k4 = {x}} }", DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	assert_string_equal(d->type, "inline");
	assert_string_equal(lookup(d, "KEY1", &r, &value, &why), "value1");
	assert_string_equal(lookup(d, "key2", &r, &value, &why),
	    "value with spaces");
	assert_string_equal(lookup(d, "key3", &r, &value, &why), "v={a b}");
	assert_string_equal(lookup(d, "k4", &r, &value, &why), "{x}");
	assert_null(lookup(d, "key", &r, &value, &why));
	assert_int_equal(r, DICT_NOTFOUND);
	assert_int_equal(dict_changed(d), 0);
	dict_close(d);

	/* Without folding, case matters; a later duplicate wins. */
	d = dict_open("inline:{a=1,A=2,a=3}", 0, &why);
	assert_non_null(d);
	assert_string_equal(lookup(d, "a", &r, &value, &why), "3");
	assert_string_equal(lookup(d, "A", &r, &value, &why), "2");
	dict_close(d);

	static const char *const bad[] = {
		"inline:{}", "inline:{ }", "inline:{ x }", "inline:{ =x }",
		"inline:{ x= }", "inline:{ {x = a b }", "inline:{ a=b } c",
		"inline:{ a=b", "inline: { a=b }", "inline:a=b",
		"inline:{ a=} }", "inline:{ a={ }", "inline:{ } a=b {",
	};
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		d = dict_open(bad[i], 0, &why);
		if (d != NULL)
			fail_msg("accepted %s", bad[i]);
		assert_true(why.len > 0);
	}
	buf_free(&value);
	buf_free(&why);
}

static void
test_static_fail(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	struct dict *d;
	size_t i;
	int r;

	(void)state;
	d = dict_open("static:OK", DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	assert_string_equal(lookup(d, "anything", &r, &value, &why), "OK");
	assert_string_equal(lookup(d, "", &r, &value, &why), "OK");
	/* static: finds even keys longer than any table could hold. */
	for (i = 0; i < DICT_KEY_MAX + 10; i++)
		buf_putc(&big, 'x');
	assert_string_equal(lookup(d, big.p, &r, &value, &why), "OK");
	dict_close(d);

	d = dict_open("static:{ text with spaces }", 0, &why);
	assert_non_null(d);
	assert_string_equal(lookup(d, "x", &r, &value, &why),
	    "text with spaces");
	dict_close(d);
	d = dict_open("static:{ a {b} }", 0, &why);
	assert_non_null(d);
	assert_string_equal(lookup(d, "x", &r, &value, &why), "a {b}");
	dict_close(d);

	assert_null(dict_open("static:{ a b ", 0, &why));
	assert_non_null(strstr(buf_str(&why), "missing '}'"));
	assert_null(dict_open("static:{ a b } c", 0, &why));
	assert_null(dict_open("static:", 0, &why));

	d = dict_open("fail:whatever", 0, &why);
	assert_non_null(d);
	assert_null(lookup(d, "x", &r, &value, &why));
	assert_int_equal(r, DICT_ERROR);
	assert_true(str_prefix(buf_str(&why), "fail:whatever: "));
	assert_null(lookup(d, big.p, &r, &value, &why));
	assert_int_equal(r, DICT_ERROR);
	dict_close(d);
	buf_free(&value);
	buf_free(&why);
	buf_free(&big);
}

static void
test_open_errors(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	assert_null(dict_open("nocolon", 0, &why));
	assert_non_null(strstr(buf_str(&why), "need type:name"));
	assert_null(dict_open(":x", 0, &why));
	assert_null(dict_open("hash:", 0, &why));
	assert_null(dict_open("bogus:x", 0, &why));
	assert_string_equal(buf_str(&why),
	    "unsupported dictionary type: bogus");
	assert_true(dict_type_known("hash"));
	assert_true(dict_type_known("texthash"));
	assert_false(dict_type_known("bogus"));
	assert_false(dict_type_known("has"));
	buf_free(&why);
}

static void
test_lookup_bounds(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
	struct dict *d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < DICT_KEY_MAX; i++)
		buf_putc(&key, 'K');
	buf_reset(&value);
	buf_printf(&value, "inline:{%s=v}", key.p);
	d = dict_open(value.p, DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	/* limit: found (folded), limit+1: not found, never a crash */
	assert_string_equal(lookup(d, key.p, &r, &value, &why), "v");
	buf_putc(&key, 'K');
	assert_null(lookup(d, key.p, &r, &value, &why));
	assert_int_equal(r, DICT_NOTFOUND);
	dict_close(d);

	/* DICT_FLAG_NO_FOLD wins over DICT_FLAG_FOLD_FIX */
	d = dict_open("inline:{a=b}", DICT_FLAG_FOLD_FIX | DICT_FLAG_NO_FOLD,
	    &why);
	assert_non_null(d);
	assert_null(lookup(d, "A", &r, &value, &why));
	assert_string_equal(lookup(d, "a", &r, &value, &why), "b");
	assert_int_equal(dict_lookup(d, "a", &value, NULL), DICT_FOUND);
	dict_close(d);
	buf_free(&value);
	buf_free(&why);
	buf_free(&key);
}

static void
test_unix(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	int r;

	(void)state;
	d = dict_open("unix:passwd.byname", DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	assert_non_null(lookup(d, "root", &r, &value, &why));
	assert_true(str_prefix(buf_str(&value), "root:"));
	assert_non_null(strstr(buf_str(&value), ":0:0:"));
	assert_non_null(lookup(d, "ROOT", &r, &value, &why));
	assert_null(lookup(d, "no-such-user-postern-test", &r, &value, &why));
	assert_int_equal(r, DICT_NOTFOUND);
	assert_null(lookup(d, "", &r, &value, &why));
	assert_null(lookup(d, "root:x", &r, &value, &why));
	dict_close(d);

	d = dict_open("unix:group.byname", 0, &why);
	assert_non_null(d);
	assert_non_null(lookup(d, "root", &r, &value, &why));
	assert_true(str_prefix(buf_str(&value), "root:"));
	assert_non_null(strstr(buf_str(&value), ":0:"));
	dict_close(d);

	assert_null(dict_open("unix:shadow.byname", 0, &why));
	assert_non_null(strstr(buf_str(&why), "unix:shadow.byname"));
	buf_free(&value);
	buf_free(&why);
}

/* write_file - create a file with the given text */
static void
write_file(const char *path, const char *text)
{
	assert_int_equal(file_replace(path, text, strlen(text), 0644), 0);
}

static void
test_texthash(void **state)
{
	char dir[] = "/tmp/test_dict.XXXXXX", *path;
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	char *spec;
	int r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/map", dir);
	spec = xasprintf("texthash:%s", path);
	write_file(path, "# test\nKey1 one\n two\nkey2 x\nkey1 dup\n");
	d = dict_open(spec, DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	assert_string_equal(lookup(d, "KEY1", &r, &value, &why), "one two");
	assert_string_equal(lookup(d, "key2", &r, &value, &why), "x");
	assert_null(lookup(d, "key3", &r, &value, &why));
	assert_int_equal(dict_changed(d), 0);
	/* Replaced by rename: the old file's link count drops to zero. */
	write_file(path, "key1 new\n");
	assert_int_equal(dict_changed(d), 1);
	/* The open table keeps answering from memory. */
	assert_string_equal(lookup(d, "key1", &r, &value, &why), "one two");
	dict_close(d);

	write_file(path, "a b\nbroken\n");
	assert_null(dict_open(spec, 0, &why));
	assert_non_null(strstr(buf_str(&why), ", line 2: expected format"));
	assert_int_equal(unlink(path), 0);
	assert_null(dict_open(spec, 0, &why));
	assert_non_null(strstr(buf_str(&why), "No such file"));
	assert_int_equal(rmdir(dir), 0);
	free(path);
	free(spec);
	buf_free(&value);
	buf_free(&why);
}

static void
test_maps(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct maps *m;

	(void)state;
	m = maps_open("test_maps", "inline:{ a=1, b=2 }, inline:{ {b = 3} , "
	    "{ c = 4 } }\tstatic:{ last resort }", DICT_FLAG_FOLD_FIX);
	assert_false(maps_empty(m));
	assert_string_equal(maps_title(m), "test_maps");
	assert_int_equal(maps_find(m, "A", &value, &why), DICT_FOUND);
	assert_string_equal(value.p, "1");
	assert_int_equal(maps_find(m, "b", &value, &why), DICT_FOUND);
	assert_string_equal(value.p, "2");
	assert_int_equal(maps_find(m, "zz", &value, &why), DICT_FOUND);
	assert_string_equal(value.p, "last resort");
	assert_int_equal(maps_changed(m), 0);
	maps_free(m);

	m = maps_open("empty", "  , ", 0);
	assert_true(maps_empty(m));
	assert_int_equal(maps_find(m, "x", &value, &why), DICT_NOTFOUND);
	maps_free(m);
	m = maps_open("null", NULL, 0);
	assert_true(maps_empty(m));
	maps_free(m);

	/*
	 * A table that cannot be opened: lookups that reach it fail
	 * (temporary error), they never say "not found"; tables before it
	 * still answer; nothing after it is asked.
	 */
	m = maps_open("broken", "inline:{a=1}, hash:/nonexistent/postern/x, "
	    "static:never", 0);
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_FOUND);
	assert_int_equal(maps_find(m, "b", &value, &why), DICT_ERROR);
	assert_non_null(strstr(buf_str(&why), "hash:/nonexistent/postern/x"));
	assert_non_null(strstr(buf_str(&why), "No such file"));
	assert_int_equal(maps_find(m, "b", &value, NULL), DICT_ERROR);
	maps_free(m);

	m = maps_open("syntax", "bogus:x inline:{a=b", 0);
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_ERROR);
	assert_non_null(strstr(buf_str(&why), "unsupported dictionary type"));
	maps_free(m);
	m = maps_open("syntax", "inline:{a=b", 0);
	assert_false(maps_empty(m));
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_ERROR);
	assert_non_null(strstr(buf_str(&why), "unbalanced"));
	maps_free(m);

	/* A fail: table in the middle stops the search too. */
	m = maps_open("fail", "inline:{a=1} fail:x static:y", 0);
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_FOUND);
	assert_int_equal(maps_find(m, "b", &value, &why), DICT_ERROR);
	maps_free(m);
	buf_free(&value);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_table),
		cmocka_unit_test(test_source_nul),
		cmocka_unit_test(test_source_limits),
		cmocka_unit_test(test_source_hostile),
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_static_fail),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_lookup_bounds),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_texthash),
		cmocka_unit_test(test_maps),
	};

	log_init("test_dict", LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
