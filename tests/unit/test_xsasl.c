/*
 * NAME		test_xsasl - unit tests for lib/sasl and util/base64
 * DESCRIPTION	Strict base64 (RFC 4648 vectors, round trips, the bound
 *		at limit-1/limit/limit+1, every kind of malformed input),
 *		smtpd_sasl_security_options parsing, mechanism name syntax,
 *		and the Dovecot auth protocol line parser with hostile
 *		lines (length, field count, control characters, escapes),
 *		its parameter lookup and the MECH flag filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sasl/xsasl.h"
#include "sasl/xsasl_impl.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "unit.h"

/* test_base64_vectors - RFC 4648 section 10 */
static void
test_base64_vectors(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(v); i++) {
		buf_reset(&b);
		base64_encode(v[i][0], strlen(v[i][0]), &b);
		assert_string_equal(buf_str(&b), v[i][1]);
		assert_int_equal(base64_decode(v[i][1], strlen(v[i][1]), 100,
		    &b), 0);
		assert_int_equal(b.len, strlen(v[i][0]));
		assert_memory_equal(buf_str(&b), v[i][0], b.len);
	}
	buf_free(&b);
}

/* test_base64_binary - every byte value survives a round trip */
static void
test_base64_binary(void **state)
{
	unsigned char in[256];
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	for (n = 0; n <= sizeof(in); n++) {
		buf_reset(&enc);
		base64_encode(in, n, &enc);
		assert_int_equal(enc.len % 4, 0);
		assert_int_equal(base64_decode(enc.p, enc.len, n, &dec), 0);
		assert_int_equal(dec.len, n);
		if (n)
			assert_memory_equal(dec.p, in, n);
		/* One byte less of room is refused, not truncated. */
		if (n > 0)
			assert_int_equal(base64_decode(enc.p, enc.len, n - 1,
			    &dec), -1);
	}
	buf_free(&enc);
	buf_free(&dec);
}

/* test_base64_bound - limit-1, limit, limit+1 */
static void
test_base64_bound(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* "AAAA" x 3 decodes to 9 bytes. */
	assert_int_equal(base64_decode("AAAAAAAAAAAA", 12, 8, &b), -1);
	assert_int_equal(base64_decode("AAAAAAAAAAAA", 12, 9, &b), 0);
	assert_int_equal(b.len, 9);
	assert_int_equal(base64_decode("AAAAAAAAAAAA", 12, 10, &b), 0);
	/* With padding the bound counts decoded bytes: 7. */
	assert_int_equal(base64_decode("AAAAAAAAAA==", 12, 6, &b), -1);
	assert_int_equal(base64_decode("AAAAAAAAAA==", 12, 7, &b), 0);
	assert_int_equal(b.len, 7);
	buf_free(&b);
}

/* test_base64_hostile - malformed input is refused, output is reset */
static void
test_base64_hostile(void **state)
{
	static const char *const bad[] = {
		"A", "AA", "AAA", "AAAAA",		/* length */
		"=", "==", "===", "====",		/* only padding */
		"A===", "AA=A", "A=AA", "=AAA",		/* padding position */
		"AA==AAAA", "AAA=AAAA",			/* padding inside */
		"Zh==", "Zm9=",				/* unused bits set */
		"Zm9v Zg==", " Zm9v", "Zm9v\n",		/* white space */
		"Zm9v\r\n", "Zm-v", "Zm_v", "Zm9v!",	/* alphabet */
		"Zm\2009v", "\xff\xfe\xfd\xfc",
		"*", "+/+/+/+==",
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		buf_sets(&b, "junk");
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), 1000,
		    &b), -1);
		assert_int_equal(b.len, 0);
	}
	/* An embedded NUL. */
	assert_int_equal(base64_decode("Zm9\0", 4, 1000, &b), -1);
	assert_int_equal(base64_decode("Zg\0=", 4, 1000, &b), -1);
	/* "+/+/" is valid: all of the alphabet's last two characters. */
	assert_int_equal(base64_decode("+/+/", 4, 10, &b), 0);
	assert_int_equal(b.len, 3);
	buf_free(&b);
}

/* test_security_options - Postfix's names, any separators, errors */
static void
test_security_options(void **state)
{
	struct buf why = BUF_INIT;
	int f;

	(void)state;
	assert_int_equal(xsasl_security_parse("", &f, &why), 0);
	assert_int_equal(f, 0);
	assert_int_equal(xsasl_security_parse(NULL, &f, &why), 0);
	assert_int_equal(f, 0);
	assert_int_equal(xsasl_security_parse("noanonymous", &f, &why), 0);
	assert_int_equal(f, XSASL_SEC_NOANONYMOUS);
	assert_int_equal(xsasl_security_parse(" noplaintext,\tNOACTIVE ,"
	    "nodictionary noanonymous, forward_secrecy mutual_auth ", &f,
	    &why), 0);
	assert_int_equal(f, XSASL_SEC_NOPLAINTEXT | XSASL_SEC_NOACTIVE |
	    XSASL_SEC_NODICTIONARY | XSASL_SEC_NOANONYMOUS |
	    XSASL_SEC_FORWARD_SECRECY | XSASL_SEC_MUTUAL_AUTH);
	assert_int_equal(xsasl_security_parse("noanonymous, plaintext", &f,
	    &why), -1);
	assert_non_null(strstr(buf_str(&why), "\"plaintext\""));
	buf_reset(&why);
	assert_int_equal(xsasl_security_parse("noanonymousX", &f, &why), -1);
	buf_reset(&why);
	assert_int_equal(xsasl_security_parse("no_anonymous", &f, &why), -1);
	buf_free(&why);
}

/* test_mech_valid - RFC 4422 syntax, 1 to 20 characters */
static void
test_mech_valid(void **state)
{
	(void)state;
	assert_true(xsasl_mech_valid("PLAIN", 5));
	assert_true(xsasl_mech_valid("login", 5));
	assert_true(xsasl_mech_valid("SCRAM-SHA-256", 13));
	assert_true(xsasl_mech_valid("X_Y", 3));
	assert_true(xsasl_mech_valid("ABCDEFGHIJKLMNOPQRST", 20));
	assert_false(xsasl_mech_valid("ABCDEFGHIJKLMNOPQRSTU", 21));
	assert_false(xsasl_mech_valid("", 0));
	assert_false(xsasl_mech_valid("PL AIN", 6));
	assert_false(xsasl_mech_valid("PL\tAIN", 6));
	assert_false(xsasl_mech_valid("PLA\0N", 5));
	assert_false(xsasl_mech_valid("PL=N", 4));
	assert_false(xsasl_mech_valid("\xc3\x84", 2));
}

/* parse - helper: parse a copy of s */
static int
parse(const char *s, struct xsasl_dovecot_line *l, char **copy)
{
	struct buf why = BUF_INIT;
	size_t len = strlen(s);
	int r;

	*copy = xmalloc(len + 1);
	memcpy(*copy, s, len + 1);
	r = xsasl_dovecot_parse(*copy, len, l, &why);
	if (r < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return r;
}

/* test_dovecot_parse - good lines */
static void
test_dovecot_parse(void **state)
{
	struct xsasl_dovecot_line l;
	char *c;

	(void)state;
	assert_int_equal(parse("DONE", &l, &c), 0);
	assert_string_equal(l.cmd, "DONE");
	assert_int_equal(l.argc, 0);
	free(c);
	assert_int_equal(parse("VERSION\t1\t2", &l, &c), 0);
	assert_int_equal(l.argc, 2);
	assert_string_equal(l.argv[0], "1");
	assert_string_equal(l.argv[1], "2");
	free(c);
	/* Empty fields are fields. */
	assert_int_equal(parse("CONT\t7\t", &l, &c), 0);
	assert_int_equal(l.argc, 2);
	assert_string_equal(l.argv[1], "");
	free(c);
	/* Escapes: \001 1 t r n. */
	assert_int_equal(parse("FAIL\t3\treason=a\001tb\001nc\001rd\0011e",
	    &l, &c), 0);
	assert_string_equal(xsasl_dovecot_param(&l, 1, "reason"),
	    "a\tb\nc\rd\001e");
	free(c);
	assert_int_equal(parse("OK\t1\tuser=alice\ttemp", &l, &c), 0);
	assert_string_equal(xsasl_dovecot_param(&l, 1, "user"), "alice");
	assert_string_equal(xsasl_dovecot_param(&l, 1, "temp"), "");
	assert_null(xsasl_dovecot_param(&l, 1, "reason"));
	assert_null(xsasl_dovecot_param(&l, 1, "use"));
	assert_null(xsasl_dovecot_param(&l, 1, "users"));
	/* The id field is not a parameter. */
	assert_null(xsasl_dovecot_param(&l, 1, "1"));
	free(c);
}

/* test_dovecot_hostile - what the parser refuses */
static void
test_dovecot_hostile(void **state)
{
	static const char *const bad[] = {
		"", "\tx", "done", "Done", "DO NE", "DONE\r", "OK\t1\r",
		"OK\t1\nOK", "OK\t1\tuser=a\001", "OK\t1\tuser=\0010",
		"OK\t1\tuser=\001x", "OK\t1\t\001", "OK\t\033[2J",
		"OK\t1\tuser=a\177", "1OK", "O-K",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG",
	};
	struct xsasl_dovecot_line l;
	struct buf b = BUF_INIT, why = BUF_INIT;
	size_t i;
	char *c;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		assert_int_equal(parse(bad[i], &l, &c), -1);
		free(c);
	}
	/* An embedded NUL. */
	buf_set(&b, "OK\t1\0\tuser=x", 12);
	assert_int_equal(xsasl_dovecot_parse(b.p, b.len, &l, &why), -1);
	/* Field count: limit, limit + 1. */
	buf_sets(&b, "MECH");
	for (i = 0; i < XSASL_DOVECOT_ARGS_MAX; i++)
		buf_puts(&b, "\tx");
	assert_int_equal(xsasl_dovecot_parse(b.p, b.len, &l, &why), 0);
	assert_int_equal(l.argc, XSASL_DOVECOT_ARGS_MAX);
	buf_sets(&b, "MECH");
	for (i = 0; i < XSASL_DOVECOT_ARGS_MAX + 1; i++)
		buf_puts(&b, "\tx");
	assert_int_equal(xsasl_dovecot_parse(b.p, b.len, &l, &why), -1);
	/* Length: limit - 1, limit, limit + 1. */
	for (i = XSASL_DOVECOT_LINE_MAX - 1; i <= XSASL_DOVECOT_LINE_MAX + 1;
	    i++) {
		buf_sets(&b, "CONT\t1\t");
		while (b.len < i)
			buf_putc(&b, 'A');
		assert_int_equal(xsasl_dovecot_parse(b.p, b.len, &l, &why),
		    i <= XSASL_DOVECOT_LINE_MAX ? 0 : -1);
	}
	buf_free(&b);
	buf_free(&why);
}

/* mech - helper: may this MECH line be offered under sec? */
static int
mech(const char *line, int sec)
{
	struct xsasl_dovecot_line l;
	char *c;
	int r;

	assert_int_equal(parse(line, &l, &c), 0);
	r = xsasl_dovecot_mech_ok(&l, sec);
	free(c);
	return r;
}

/* test_dovecot_mech_flags - MECH flags against the security options */
static void
test_dovecot_mech_flags(void **state)
{
	(void)state;
	assert_true(mech("MECH\tPLAIN\tplaintext", 0));
	assert_true(mech("MECH\tPLAIN\tplaintext", XSASL_SEC_NOANONYMOUS));
	assert_false(mech("MECH\tPLAIN\tplaintext", XSASL_SEC_NOPLAINTEXT));
	assert_false(mech("MECH\tANONYMOUS\tanonymous",
	    XSASL_SEC_NOANONYMOUS));
	assert_true(mech("MECH\tANONYMOUS\tanonymous", 0));
	assert_false(mech("MECH\tCRAM-MD5\tdictionary\tactive",
	    XSASL_SEC_NODICTIONARY));
	assert_false(mech("MECH\tCRAM-MD5\tdictionary\tactive",
	    XSASL_SEC_NOACTIVE));
	assert_true(mech("MECH\tCRAM-MD5\tdictionary\tactive",
	    XSASL_SEC_NOPLAINTEXT));
	assert_false(mech("MECH\tCRAM-MD5\tdictionary",
	    XSASL_SEC_FORWARD_SECRECY));
	assert_true(mech("MECH\tX\tforward-secrecy\tmutual-auth",
	    XSASL_SEC_FORWARD_SECRECY | XSASL_SEC_MUTUAL_AUTH));
	assert_false(mech("MECH\tX\tforward-secrecy",
	    XSASL_SEC_FORWARD_SECRECY | XSASL_SEC_MUTUAL_AUTH));
	assert_false(mech("MECH\tGSSAPI\tprivate", 0));
	assert_false(mech("MECH", 0));
	assert_false(mech("MECH\t", 0));
	assert_false(mech("MECH\tBAD NAME", 0));
	assert_false(mech("MECH\tABCDEFGHIJKLMNOPQRSTU", 0));
	assert_false(mech("SPID\tPLAIN", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_binary),
		cmocka_unit_test(test_base64_bound),
		cmocka_unit_test(test_base64_hostile),
		cmocka_unit_test(test_security_options),
		cmocka_unit_test(test_mech_valid),
		cmocka_unit_test(test_dovecot_parse),
		cmocka_unit_test(test_dovecot_hostile),
		cmocka_unit_test(test_dovecot_mech_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
