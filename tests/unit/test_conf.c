/*
 * NAME		test_conf - unit tests for mail/conf
 * DESCRIPTION	main.cf parsing (continuations, comments, missing '=', NUL
 *		bytes, line and file limits at limit-1, limit and limit+1,
 *		later settings win), parameter expansion as a golden
 *		transcript (data/conf_expand.in, .ref), expansion limits,
 *		defaults and caching, and param_load() conversions and bounds
 *		for every parameter type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>

#include "mail/conf.h"
#include "util/buf.h"
#include "unit.h"

/* parse - conf_parse a string; returns its result, reason in why */
static int
parse(struct conf *c, const char *text, struct buf *why)
{
	buf_reset(why);
	return conf_parse(c, text, strlen(text), "main.cf", why);
}

static void
test_conf_parse(void **state)
{
	static const struct {
		const char *text;
		const char *name;
		const char *value;	/* NULL: not set */
	} t[] = {
		{"a = b", "a", "b"},
		{"a=b", "a", "b"},
		{"a = b\n", "a", "b"},
		{"a \t=\t b \t \n", "a", "b"},
		{"a = b\r\n", "a", "b"},
		{"a =", "a", ""},
		{"a = \n", "a", ""},
		{"a = b = c", "a", "b = c"},
		{"a = b # not a comment", "a", "b # not a comment"},
		{"a = 1\na = 2", "a", "2"},		/* later wins */
		{"a = 1\nb = x\na = 3\n", "a", "3"},
		{"a = b\n  c\n\td", "a", "b c d"},	/* continuation */
		{"a = b\n# comment\n  c", "a", "b c"},
		{"a = b\n  # indented comment\n  c", "a", "b c"},
		{"a = b\n\n   \n  c", "a", "b c"},
		{"a = b,\n    c,\n    d\nx = y", "a", "b, c, d"},
		{"a =\n  b", "a", "b"},
		{"# only a comment", "a", NULL},
		{"", "a", NULL},
		{"\n\n\n", "a", NULL},
		{"  # indented comment\na = 1", "a", "1"},
		{"smtpd_tls_cert_file = /etc/x.pem", "smtpd_tls_cert_file",
		    "/etc/x.pem"},
		{"my-name.v2/x = 1", "my-name.v2/x", "1"},
		{"a = $b ${c}", "a", "$b ${c}"},	/* raw: not expanded */
	};
	struct buf why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct conf *c = conf_new();

		if (parse(c, t[i].text, &why) != 0)
			fail_msg("\"%s\": %s", t[i].text, buf_str(&why));
		if (t[i].value == NULL)
			assert_null(conf_raw(c, t[i].name));
		else {
			assert_non_null(conf_raw(c, t[i].name));
			assert_string_equal(conf_raw(c, t[i].name),
			    t[i].value);
			assert_int_equal(conf_source(c, t[i].name),
			    CONF_SRC_MAINCF);
		}
		conf_free(c);
	}
	buf_free(&why);
}

static void
test_conf_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} t[] = {
		{"abc", "main.cf, line 1: missing '=' after attribute name"},
		{"a = 1\n\nabc\n", "main.cf, line 3: missing '='"},
		{"a = 1\n  b\nc\n  d", "main.cf, line 3: missing '='"},
		{" a = b", "main.cf, line 1: text starts with white space"},
		{"# c\n\n\ta = b", "main.cf, line 3: text starts with white"},
		{"= b", "main.cf, line 1: missing attribute name"},
		{"  \n= b", "main.cf, line 2: missing attribute name"},
		{"a b = c", "main.cf, line 1: bad parameter name"},
		{"_a = c", "main.cf, line 1: bad parameter name"},
		{"a$ = c", "main.cf, line 1: bad parameter name"},
		{"a{} = c", "main.cf, line 1: bad parameter name"},
	};
	struct buf why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct conf *c = conf_new();

		if (parse(c, t[i].text, &why) != -1 ||
		    strncmp(buf_str(&why), t[i].why, strlen(t[i].why)) != 0)
			fail_msg("\"%s\": got \"%s\" want \"%s\"", t[i].text,
			    buf_str(&why), t[i].why);
		conf_free(c);
	}
	buf_free(&why);
}

static void
test_conf_parse_nul(void **state)
{
	static const char text[] = "a = 1\nb = x\0y\nc = 3\n";
	static const char text2[] = "a = 1\n\0\n";
	struct conf *c = conf_new();
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(conf_parse(c, text, sizeof(text) - 1, "main.cf",
	    &why), -1);
	assert_string_equal(buf_str(&why), "main.cf, line 2: NUL byte");
	buf_reset(&why);
	assert_int_equal(conf_parse(c, text2, sizeof(text2) - 1, "main.cf",
	    &why), -1);
	assert_string_equal(buf_str(&why), "main.cf, line 2: NUL byte");
	conf_free(c);
	buf_free(&why);
}

/* long_line - "a = xxx..." of exactly len bytes, plus tail */
static char *
long_line(size_t len, const char *tail)
{
	char *p = malloc(len + strlen(tail) + 1);

	memset(p, 'x', len);
	memcpy(p, "a = ", 4);
	strcpy(p + len, tail);
	return p;
}

static void
test_conf_parse_limits(void **state)
{
	static const struct {
		size_t	 len;
		const char *tail;
		int	 ret;
	} t[] = {
		{CONF_LINE_MAX - 1, "", 0},
		{CONF_LINE_MAX, "", 0},
		{CONF_LINE_MAX + 1, "", -1},
		{CONF_LINE_MAX - 1, "\n", 0},
		{CONF_LINE_MAX, "\nb = 1\n", 0},
		{CONF_LINE_MAX + 1, "\n", -1},
		/* A continuation may not make the logical line too long. */
		{CONF_LINE_MAX - 3, "\n y", 0},	/* logical: limit-1 */
		{CONF_LINE_MAX - 2, "\n y", 0},	/* limit */
		{CONF_LINE_MAX - 1, "\n y", -1},	/* limit+1 */
		{CONF_LINE_MAX - 2, "\n\t\t y", 0},	/* indent dropped */
		{CONF_LINE_MAX, "\n y", -1},
	};
	struct buf why = BUF_INIT;
	size_t i;
	char *big;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct conf *c = conf_new();
		char *text = long_line(t[i].len, t[i].tail);
		int r;

		buf_reset(&why);
		r = conf_parse(c, text, strlen(text), "main.cf", &why);
		if (r != t[i].ret)
			fail_msg("line of %zu + \"%s\": got %d (%s)", t[i].len,
			    t[i].tail, r, buf_str(&why));
		if (r == 0)
			assert_true(strlen(conf_raw(c, "a")) >= t[i].len - 4);
		else
			assert_non_null(strstr(buf_str(&why),
			    "line too long"));
		free(text);
		conf_free(c);
	}
	/* The whole file at limit and limit+1. */
	big = malloc(CONF_FILE_MAX + 1);
	memset(big, '\n', CONF_FILE_MAX + 1);
	memcpy(big, "a = 1", 5);
	{
		struct conf *c = conf_new();

		assert_int_equal(conf_parse(c, big, CONF_FILE_MAX, "main.cf",
		    &why), 0);
		assert_string_equal(conf_raw(c, "a"), "1");
		buf_reset(&why);
		assert_int_equal(conf_parse(c, big, CONF_FILE_MAX + 1,
		    "main.cf", &why), -1);
		assert_string_equal(buf_str(&why), "main.cf: file too large");
		conf_free(c);
	}
	free(big);
	buf_free(&why);
}

static void
test_conf_read(void **state)
{
	struct conf *c = conf_new();
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(conf_read(c, "data/no-such-file.cf", &why), -1);
	assert_non_null(strstr(buf_str(&why), "no-such-file.cf"));
	buf_reset(&why);
	assert_int_equal(conf_read(c, "data/conf_expand.in", &why), -1);
	/* The part after "%%" is not main.cf syntax. */
	assert_non_null(strstr(buf_str(&why), "data/conf_expand.in, line"));
	conf_free(c);
	buf_free(&why);
}

static void
test_conf_expand_golden(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT, res = BUF_INIT,
	    why = BUF_INIT;
	struct conf *c = conf_new();
	char *sep, *line, *cp;

	(void)state;
	golden_read("conf_expand", "in", &in);
	sep = strstr(in.p, "\n%%\n");
	assert_non_null(sep);
	if (conf_parse(c, in.p, (size_t)(sep - in.p) + 1, "conf_expand.in",
	    &why) < 0)
		fail_msg("%s", why.p);
	cp = sep + 4;
	while ((line = strsep(&cp, "\n")) != NULL) {
		if (*line == 0 || *line == '#')
			continue;
		buf_reset(&why);
		buf_printf(&out, "%s\n", line);
		if (conf_expand(c, line, &res, &why) == 0)
			buf_printf(&out, "\t=> [%s]\n", buf_str(&res));
		else
			buf_printf(&out, "\t=> error: %s\n", buf_str(&why));
	}
	golden_check("conf_expand", &out);
	conf_free(c);
	buf_free(&in);
	buf_free(&out);
	buf_free(&res);
	buf_free(&why);
}

static void
test_conf_expand_limits(void **state)
{
	struct conf *c = conf_new();
	struct buf out = BUF_INIT, why = BUF_INIT, v = BUF_INIT;
	char name[32], val[32];
	int i;

	(void)state;
	/*
	 * A chain of CONF_DEPTH_MAX references is fine, one more is not:
	 * "$p3" follows p3, p4, ... p(D+2), which is D names.
	 */
	for (i = 0; i < CONF_DEPTH_MAX + 2; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(val, sizeof(val), "$p%d", i + 1);
		conf_set(c, name, val, CONF_SRC_MAINCF);
	}
	snprintf(name, sizeof(name), "p%d", CONF_DEPTH_MAX + 2);
	conf_set(c, name, "end", CONF_SRC_MAINCF);
	snprintf(val, sizeof(val), "$p%d", 3);
	assert_int_equal(conf_expand(c, val, &out, &why), 0);
	assert_string_equal(buf_str(&out), "end");
	snprintf(val, sizeof(val), "$p%d", 2);
	assert_int_equal(conf_expand(c, val, &out, &why), -1);
	assert_non_null(strstr(buf_str(&why), "too deep"));

	/* Output length: exactly the maximum, then twice the maximum. */
	buf_reserve(&v, CONF_EXPAND_MAX);
	memset(v.p, 'x', CONF_EXPAND_MAX);
	v.len = CONF_EXPAND_MAX;
	v.p[v.len] = 0;
	conf_set(c, "big", v.p, CONF_SRC_MAINCF);
	buf_reset(&why);
	assert_int_equal(conf_expand(c, "$big", &out, &why), 0);
	assert_int_equal(out.len, CONF_EXPAND_MAX);
	assert_int_equal(conf_expand(c, "$big$big", &out, &why), -1);
	assert_string_equal(buf_str(&why), "parameter expansion too long");
	/* Doubling at every level stops early instead of running away. */
	conf_set(c, "d0", "$big", CONF_SRC_MAINCF);
	for (i = 1; i < 40; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		snprintf(val, sizeof(val), "$d%d$d%d", i - 1, i - 1);
		conf_set(c, name, val, CONF_SRC_MAINCF);
	}
	buf_reset(&why);
	assert_int_equal(conf_expand(c, "$d39", &out, &why), -1);
	conf_free(c);
	buf_free(&out);
	buf_free(&why);
	buf_free(&v);
}

static void
test_conf_expand_blowup(void **state)
{
	/*
	 * Values that double the work at each level but produce nothing
	 * must not take exponential time: the expansion is bounded.
	 */
	struct conf *c = conf_new();
	struct buf out = BUF_INIT, why = BUF_INIT;
	char name[32], val[64];
	int i;

	(void)state;
	conf_set(c, "e0", "", CONF_SRC_MAINCF);
	for (i = 1; i < 60; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		snprintf(val, sizeof(val), "$e%d${e%d}", i - 1, i - 1);
		conf_set(c, name, val, CONF_SRC_MAINCF);
	}
	assert_int_equal(conf_expand(c, "$e59", &out, &why), -1);
	assert_true(why.len > 0);
	/* A modest fan-out is fine. */
	buf_reset(&why);
	assert_int_equal(conf_expand(c, "$e10", &out, &why), 0);
	assert_int_equal(out.len, 0);
	conf_free(c);
	buf_free(&out);
	buf_free(&why);
}

struct cfg {
	char	*str;
	char	*strn;
	char	*raw;
	int	 i;
	int	 i2;
	long	 l;
	int	 b;
	long	 t;
	long	 days;
};

static const struct param cfg_params[] = {
	P_STR("t_str", "$t_host", struct cfg, str),
	P_STRN("t_strn", "x", struct cfg, strn, 1),
	P_RAW("t_raw", "$t_host", struct cfg, raw),
	P_INT("t_int", "10", struct cfg, i, 1, 100),
	P_INT("t_int2", "0", struct cfg, i2, INT_MIN, 0),
	P_LONG("t_long", "10", struct cfg, l, 0, 0),
	P_BOOL("t_bool", "yes", struct cfg, b),
	P_TIME("t_time", "1h", struct cfg, t, 's', 1, 86400),
	P_TIME("t_days", "5", struct cfg, days, 'd', 0, 0),
	{"t_nofield", PT_INT, "junk", P_NOFIELD, 0, 0, 0},
	P_END
};

/* cfg_free - free the strings param_load made */
static void
cfg_free(struct cfg *g)
{
	free(g->str);
	free(g->strn);
	free(g->raw);
	memset(g, 0, sizeof(*g));
}

static void
test_param_load_defaults(void **state)
{
	struct conf *c = conf_new();
	struct buf why = BUF_INIT;
	struct cfg g;

	(void)state;
	memset(&g, 0, sizeof(g));
	conf_set(c, "t_host", "mx.example.com", CONF_SRC_MAINCF);
	assert_int_equal(param_load(c, cfg_params, &g, &why), 0);
	assert_string_equal(g.str, "mx.example.com");
	assert_string_equal(g.strn, "x");
	assert_string_equal(g.raw, "$t_host");
	assert_int_equal(g.i, 10);
	assert_int_equal(g.i2, 0);
	assert_int_equal(g.l, 10);
	assert_int_equal(g.b, 1);
	assert_int_equal(g.t, 3600);
	assert_int_equal(g.days, 5 * 86400);
	/* The rows are registered: defaults are known to the conf. */
	assert_non_null(conf_row(c, "t_int"));
	assert_string_equal(conf_default(c, "t_time"), "1h");
	assert_null(conf_default(c, "t_unknown"));
	assert_string_equal(conf_get(c, "t_str"), "mx.example.com");
	cfg_free(&g);
	conf_free(c);
	buf_free(&why);
}

static void
test_param_load_values(void **state)
{
	static const struct {
		const char *name;
		const char *value;
		int	 ok;
	} t[] = {
		{"t_str", "", 1},
		{"t_strn", "", 0},		/* shorter than the minimum */
		{"t_strn", "a", 1},
		{"t_int", "0", 0},		/* min 1, max 100 */
		{"t_int", "1", 1},
		{"t_int", "2", 1},
		{"t_int", "99", 1},
		{"t_int", "100", 1},
		{"t_int", "101", 0},
		{"t_int", "-1", 0},
		{"t_int", "", 0},
		{"t_int", "abc", 0},
		{"t_int", "5 ", 0},
		{"t_int", "0x10", 0},
		{"t_int", "$t_ten", 1},		/* expanded first */
		{"t_int", "${t_ten}0", 1},		/* 100 */
		{"t_int", "${t_ten}1", 0},
		{"t_int2", "-2147483648", 1},	/* int range */
		{"t_int2", "-2147483649", 0},
		{"t_int2", "2147483647", 1},	/* max 0: none */
		{"t_int2", "2147483648", 0},
		{"t_long", "9223372036854775807", 1},
		{"t_long", "9223372036854775808", 0},
		{"t_long", "0", 1},
		{"t_long", "-1", 0},
		{"t_bool", "no", 1},
		{"t_bool", "YES", 1},
		{"t_bool", "maybe", 0},
		{"t_bool", "", 0},
		{"t_time", "0", 0},		/* min 1s, max 1d */
		{"t_time", "1", 1},
		{"t_time", "86399", 1},
		{"t_time", "86400", 1},
		{"t_time", "86401", 0},
		{"t_time", "1d", 1},
		{"t_time", "1439m", 1},
		{"t_time", "1441m", 0},
		{"t_time", "2d", 0},
		{"t_time", "1w", 0},
		{"t_time", "10x", 0},
		{"t_time", "", 0},
		{"t_days", "0", 1},
		{"t_days", "106751991167300", 1},	/* LONG_MAX / 86400 */
		{"t_days", "106751991167301", 0},	/* overflow */
	};
	struct conf *c;
	struct buf why = BUF_INIT;
	struct cfg g;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		c = conf_new();
		memset(&g, 0, sizeof(g));
		buf_reset(&why);
		conf_set(c, "t_ten", "10", CONF_SRC_MAINCF);
		conf_set(c, t[i].name, t[i].value, CONF_SRC_MAINCF);
		r = param_load(c, cfg_params, &g, &why);
		if (r != (t[i].ok ? 0 : -1))
			fail_msg("%s = %s: got %d (%s)", t[i].name, t[i].value,
			    r, buf_str(&why));
		if (r < 0) {
			assert_non_null(strstr(why.p, t[i].name));
		}
		cfg_free(&g);
		conf_free(c);
	}
	buf_free(&why);
}

static void
test_conf_get_cache(void **state)
{
	struct conf *c = conf_new();
	static const struct param rows[] = {
		{"g_host", PT_STR, "host.$g_dom", P_NOFIELD, 0, 0, 0},
		{"g_dom", PT_STR, "example.org", P_NOFIELD, 0, 0, 0},
		P_END
	};
	char **names;

	(void)state;
	conf_register(c, rows);
	assert_string_equal(conf_get(c, "g_host"), "host.example.org");
	assert_string_equal(conf_get(c, "g_unknown"), "");
	/* A default is not an explicit setting. */
	assert_null(conf_raw(c, "g_host"));
	assert_int_equal(conf_source(c, "g_host"), -1);
	/* A change invalidates cached expansions. */
	conf_set(c, "g_dom", "example.net", CONF_SRC_MAINCF);
	assert_string_equal(conf_get(c, "g_host"), "host.example.net");
	conf_set(c, "g_dom", "b", CONF_SRC_OVERRIDE);
	assert_int_equal(conf_source(c, "g_dom"), CONF_SRC_OVERRIDE);
	assert_string_equal(conf_get(c, "g_host"), "host.b");
	/* Unset: back to the default. */
	assert_int_equal(conf_unset(c, "g_dom"), 0);
	assert_int_equal(conf_unset(c, "g_dom"), -1);
	assert_string_equal(conf_get(c, "g_host"), "host.example.org");
	/* A computed default replaces the row's. */
	conf_set_default(c, "g_dom", "computed");
	assert_string_equal(conf_get(c, "g_host"), "host.computed");
	conf_set_default(c, "g_dom", "again");
	assert_string_equal(conf_get(c, "g_dom"), "again");
	assert_string_equal(conf_get(c, "g_host"), "host.again");
	/* conf_names: explicit settings only, or all rows; sorted. */
	conf_set(c, "zz", "1", CONF_SRC_MAINCF);
	conf_set(c, "aa", "1", CONF_SRC_MAINCF);
	names = conf_names(c, 0);
	assert_string_equal(names[0], "aa");
	assert_string_equal(names[1], "zz");
	assert_null(names[2]);
	free(names);
	names = conf_names(c, 1);
	assert_string_equal(names[0], "g_dom");
	assert_string_equal(names[1], "g_host");
	assert_null(names[2]);
	free(names);
	conf_free(c);
	conf_free(NULL);
}

static void
test_param_valid_name(void **state)
{
	static const struct {
		const char *name;
		int	 ok;
	} t[] = {
		{"a", 1}, {"myhostname", 1}, {"0abc", 1}, {"a_b-c.d/e", 1},
		{"", 0}, {"_a", 0}, {"-a", 0}, {".a", 0}, {"/a", 0},
		{"a b", 0}, {"a$", 0}, {"a=b", 0}, {"a\n", 0}, {"a\xc3\xa4", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		if (param_valid_name(t[i].name) != t[i].ok)
			fail_msg("param_valid_name(\"%s\") != %d", t[i].name,
			    t[i].ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_parse),
		cmocka_unit_test(test_conf_parse_errors),
		cmocka_unit_test(test_conf_parse_nul),
		cmocka_unit_test(test_conf_parse_limits),
		cmocka_unit_test(test_conf_read),
		cmocka_unit_test(test_conf_expand_golden),
		cmocka_unit_test(test_conf_expand_limits),
		cmocka_unit_test(test_conf_expand_blowup),
		cmocka_unit_test(test_param_load_defaults),
		cmocka_unit_test(test_param_load_values),
		cmocka_unit_test(test_conf_get_cache),
		cmocka_unit_test(test_param_valid_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
