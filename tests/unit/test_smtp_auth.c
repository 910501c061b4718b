/*
 * NAME		test_smtp_auth - unit tests for the SMTP client's AUTH
 * DESCRIPTION	The password table key order (sender, @domain, the bare
 *		user of a local domain, the server's host name, the next
 *		hop as written; sender keys only with sender-dependent
 *		authentication), the AUTH keyword parser (hostile words,
 *		duplicates, the count bound, the old "AUTH=" form, the
 *		mechanism filter), 334 challenge framing, the strict base64
 *		codec (bounds at limit-1, limit, limit+1, bad padding, bad
 *		characters, non-zero pad bits), the security option words,
 *		and a SASL conversation through Cyrus (PLAIN's initial
 *		response, CRAM-MD5's answer to a challenge, a mechanism
 *		refused by noplaintext).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smtp/smtp.h"
#include "dict/addr_find.h"
#include "dict/dict.h"
#include "mail/mail_conf.h"
#include "sasl/sasl_client.h"
#include "util/base64.h"
#include "util/buf.h"
#include "unit.h"

/* feed - give the reply parser "\n"-separated lines */
static int
feed(struct smtp_reply *r, const char *text)
{
	struct buf why = BUF_INIT;
	const char *p = text, *nl;
	int rc = 0;

	smtp_reply_reset(r);
	for (;;) {
		nl = strchr(p, '\n');
		rc = smtp_reply_line(r, p, nl ? (size_t)(nl - p) : strlen(p),
		    &why);
		if (rc != 0 || nl == NULL)
			break;
		p = nl + 1;
	}
	buf_free(&why);
	return rc;
}

static int
setup(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	mail_cfg.myorigin = "origin.example";
	mail_cfg.mydestination = "mx.example, localhost";
	mail_cfg.recipient_delimiter = "+";
	smtp_cfg.sasl_enable = 1;
	smtp_cfg.sasl_passwd_maps = "inline:{ { [relay.example]:587 = "
	    "u-dest:p1 }, { relay.example = u-host:p2 }, "
	    "{ joe@d.example = u-joe:p3 }, { @d.example = u-dom:p4 }, "
	    "{ ann = u-ann:p5 }, { nocolon.example = justuser } }";
	smtp_cfg.sasl_sec_opts = "noanonymous";
	smtp_cfg.sasl_tls_sec_opts = "noanonymous";
	smtp_cfg.sasl_mech_filter = "";
	smtp_cfg.discard_keywords = "";
	smtp_auth_init();
	assert_true(smtp_auth_on());
	buf_free(&why);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	smtp_auth_end();
	return 0;
}

/* lookup - the user found, "-" when none, "!" on error */
static const char *
lookup(int sender_dep, const char *sender, const char *host,
    const char *dest)
{
	static char out[64];
	struct buf v = BUF_INIT, why = BUF_INIT;
	struct maps *m = maps_open("t", smtp_cfg.sasl_passwd_maps,
	    DICT_FLAG_FOLD_FIX);
	int r = smtp_auth_lookup(m, sender_dep, sender, host, dest, &v, &why);

	snprintf(out, sizeof(out), "%s", r == DICT_FOUND ? buf_str(&v) :
	    r == DICT_NOTFOUND ? "-" : "!");
	maps_free(m);
	buf_free(&v);
	buf_free(&why);
	return out;
}

static void
test_key_order(void **state)
{
	(void)state;
	/* The sender first, then @domain, then the bare local user. */
	assert_string_equal(lookup(1, "joe@d.example", "relay.example",
	    "[relay.example]:587"), "u-joe:p3");
	assert_string_equal(lookup(1, "bob@d.example", "relay.example",
	    "[relay.example]:587"), "u-dom:p4");
	assert_string_equal(lookup(1, "ann@origin.example", "relay.example",
	    "[relay.example]:587"), "u-ann:p5");
	/* Not a local domain: no bare user key. */
	assert_string_equal(lookup(1, "ann@else.example", "relay.example",
	    "[relay.example]:587"), "u-host:p2");
	/* Sender keys only with sender-dependent authentication. */
	assert_string_equal(lookup(0, "joe@d.example", "relay.example",
	    "[relay.example]:587"), "u-host:p2");
	/* The null sender has no key. */
	assert_string_equal(lookup(1, "", "relay.example", NULL),
	    "u-host:p2");
	/* Host name before next hop; the next hop exactly as written. */
	assert_string_equal(lookup(0, NULL, "other.example",
	    "[relay.example]:587"), "u-dest:p1");
	assert_string_equal(lookup(0, NULL, "other.example",
	    "[relay.example]"), "-");
	assert_string_equal(lookup(0, NULL, "other.example",
	    "[RELAY.example]:587"), "u-dest:p1");
	assert_string_equal(lookup(0, NULL, NULL, "relay.example"),
	    "u-host:p2");
	assert_string_equal(lookup(0, NULL, NULL, NULL), "-");
}

static void
test_lookup_error(void **state)
{
	struct buf v = BUF_INIT, why = BUF_INIT;
	struct maps *m = maps_open("t", "fail:down", DICT_FLAG_FOLD_FIX);

	(void)state;
	assert_int_equal(smtp_auth_lookup(m, 1, "joe@d.example", "h",
	    "[h]", &v, &why), DICT_ERROR);
	assert_int_equal(smtp_auth_lookup(m, 0, NULL, "h", "[h]", &v, &why),
	    DICT_ERROR);
	assert_int_equal(smtp_auth_lookup(NULL, 1, "joe@d.example", "h",
	    "[h]", &v, &why), DICT_NOTFOUND);
	maps_free(m);
	buf_free(&v);
	buf_free(&why);
}

static void
test_mechs(void **state)
{
	struct buf out = BUF_INIT, in = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(smtp_auth_mechs("PLAIN LOGIN", 11, &out), 2);
	assert_string_equal(buf_str(&out), "PLAIN LOGIN");
	/* Lower case is upper-cased; duplicates and junk are dropped. */
	buf_sets(&in, "  plain\tPLAIN cram-md5 bad/name x\x01y "
	    "ABCDEFGHIJKLMNOPQRST ABCDEFGHIJKLMNOPQRSTU  ");
	assert_int_equal(smtp_auth_mechs(in.p, in.len, &out), 3);
	assert_string_equal(buf_str(&out), "PLAIN CRAM-MD5 "
	    "ABCDEFGHIJKLMNOPQRST");
	assert_int_equal(smtp_auth_mechs("", 0, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(smtp_auth_mechs("   ", 3, &out), 0);
	/* Only the given length counts (no NUL needed). */
	assert_int_equal(smtp_auth_mechs("PLAINX", 5, &out), 1);
	assert_string_equal(buf_str(&out), "PLAIN");
	/* At most SASL_CLNT_MECHS_MAX. */
	buf_reset(&in);
	for (i = 0; i < SASL_CLNT_MECHS_MAX + 5; i++)
		buf_printf(&in, "M%d ", i);
	assert_int_equal(smtp_auth_mechs(in.p, in.len, &out),
	    SASL_CLNT_MECHS_MAX);
	buf_free(&out);
	buf_free(&in);
}

static void
test_ehlo_auth(void **state)
{
	struct smtp_reply r;
	struct smtp_sess ss;

	(void)state;
	smtp_reply_init(&r);
	memset(&ss, 0, sizeof(ss));
	strcpy(ss.namaddr, "h[1.2.3.4]");

	assert_int_equal(feed(&r, "250-h\n250-AUTH=LOGIN\n250-AUTH PLAIN "
	    "login\n250 SIZE 10"), 1);
	ss.features = SMTP_F_ESMTP | SMTP_F_AUTH;
	smtp_ehlo_auth(&r, "", &ss);
	assert_non_null(ss.sasl_mechs);
	assert_string_equal(ss.sasl_mechs, "PLAIN LOGIN");
	/* The old form alone. */
	assert_int_equal(feed(&r, "250-h\n250 AUTH=LOGIN CRAM-MD5"), 1);
	smtp_ehlo_auth(&r, "", &ss);
	assert_string_equal(ss.sasl_mechs, "LOGIN CRAM-MD5");
	/* AUTH on the first line is the server's name, not a keyword. */
	assert_int_equal(feed(&r, "250 AUTH PLAIN"), 1);
	smtp_ehlo_auth(&r, "", &ss);
	assert_null(ss.sasl_mechs);
	assert_false(ss.features & SMTP_F_AUTH);
	/* Discarded AUTH, or no AUTH feature: nothing. */
	ss.features = SMTP_F_ESMTP | SMTP_F_AUTH;
	assert_int_equal(feed(&r, "250-h\n250 AUTH PLAIN"), 1);
	smtp_ehlo_auth(&r, "auth", &ss);
	assert_null(ss.sasl_mechs);
	ss.features = SMTP_F_ESMTP;
	smtp_ehlo_auth(&r, "", &ss);
	assert_null(ss.sasl_mechs);
	/* Nothing valid offered: no AUTH. */
	ss.features = SMTP_F_ESMTP | SMTP_F_AUTH;
	assert_int_equal(feed(&r, "250-h\n250 AUTH ??? a/b"), 1);
	smtp_ehlo_auth(&r, "", &ss);
	assert_null(ss.sasl_mechs);
	assert_false(ss.features & SMTP_F_AUTH);
	free(ss.sasl_mechs);
	smtp_reply_free(&r);
}

static void
test_challenge(void **state)
{
	static const struct {
		const char *reply;
		int	 rc;
		const char *text;
	} cases[] = {
		{ "334 VXNlcm5hbWU6", 0, "VXNlcm5hbWU6" },
		{ "334 ", 0, "" },
		{ "334", 0, "" },
		{ "334 a b", 0, "a b" },	/* base64 decoding refuses */
		{ "334-x\n334 y", -1, NULL },
		{ "235 2.7.0 ok", -1, NULL },
		{ "335 x", -1, NULL },
	};
	struct smtp_reply r;
	const char *p;
	size_t len, i;

	(void)state;
	smtp_reply_init(&r);
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(feed(&r, cases[i].reply), 1);
		assert_int_equal(smtp_auth_challenge(&r, &p, &len),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(len, strlen(cases[i].text));
			assert_memory_equal(p, cases[i].text, len);
		}
	}
	smtp_reply_free(&r);
}

static struct buf dec_out;

/* dec - decode s, or NULL when refused */
static const char *
dec(const char *s, size_t max)
{
	if (base64_decode(s, strlen(s), max, &dec_out) < 0)
		return NULL;
	return buf_str(&dec_out);
}

static void
test_base64(void **state)
{
	struct buf e = BUF_INIT, d = BUF_INIT, big = BUF_INIT;
	unsigned char all[256];
	size_t i, n;

	(void)state;
	assert_string_equal(dec("", 10), "");
	assert_string_equal(dec("Zg==", 10), "f");
	assert_string_equal(dec("Zm8=", 10), "fo");
	assert_string_equal(dec("Zm9v", 10), "foo");
	assert_string_equal(dec("Zm9vYmFy", 10), "foobar");
	/* Not canonical: refused. */
	assert_null(dec("Zg=", 10));
	assert_null(dec("Zg", 10));
	assert_null(dec("Z===", 10));
	assert_null(dec("====", 10));
	assert_null(dec("Zh==", 10));		/* pad bits set */
	assert_null(dec("Zm9=", 10));		/* pad bits set */
	assert_null(dec("Zg==Zg==", 10));	/* padding inside */
	assert_null(dec("Zm9 v", 10));
	assert_null(dec("Zm9\nv", 10));
	assert_null(dec("Zm-_", 10));		/* base64url */
	assert_null(dec("Zm9v\r\n", 10));
	/* The bound: limit-1, limit, limit+1 decoded bytes. */
	assert_string_equal(dec("Zm8=", 2), "fo");
	assert_null(dec("Zm9v", 2));
	assert_string_equal(dec("Zm9v", 3), "foo");
	assert_string_equal(dec("Zg==", 2), "f");
	/* Round trip of every byte value and every length mod 3. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (n = 0; n <= sizeof(all); n++) {
		buf_reset(&e);
		base64_encode(all, n, &e);
		assert_int_equal(e.len, (n + 2) / 3 * 4);
		assert_int_equal(base64_decode(e.p ? e.p : "", e.len,
		    n, &d), 0);
		assert_int_equal(d.len, n);
		if (n)
			assert_memory_equal(d.p, all, n);
	}
	/* A long hostile challenge stops at the bound. */
	for (i = 0; i < SASL_CLNT_DATA_MAX / 3 + 1; i++)
		buf_puts(&big, "QUFB");
	assert_int_equal(base64_decode(big.p, big.len,
	    SASL_CLNT_DATA_MAX, &d), -1);
	buf_truncate(&big, big.len - 4);
	assert_int_equal(base64_decode(big.p, big.len,
	    SASL_CLNT_DATA_MAX, &d), 0);
	buf_free(&e);
	buf_free(&d);
	buf_free(&big);
	buf_free(&dec_out);
}

static void
test_secprops(void **state)
{
	struct buf why = BUF_INIT;
	int f;

	(void)state;
	assert_int_equal(xsasl_security_parse("", &f, &why), 0);
	assert_int_equal(f, 0);
	assert_int_equal(xsasl_security_parse("noplaintext, noanonymous", &f,
	    &why), 0);
	assert_int_equal(f, XSASL_SEC_NOPLAINTEXT | XSASL_SEC_NOANONYMOUS);
	assert_int_equal(xsasl_security_parse(" NoActive,nodictionary "
	    "mutual_auth", &f, &why), 0);
	assert_int_equal(f, XSASL_SEC_NOACTIVE | XSASL_SEC_NODICTIONARY |
	    XSASL_SEC_MUTUAL_AUTH);
	assert_int_equal(xsasl_security_parse("noplaintext, bogus", &f, &why),
	    -1);
	assert_non_null(strstr(buf_str(&why), "bogus"));
	assert_int_equal(xsasl_security_parse("noplaintextx", &f, &why), -1);
	assert_true(xsasl_mech_valid("CRAM-MD5", 8));
	assert_true(xsasl_mech_valid("X_Y", 3));
	assert_true(xsasl_mech_valid("cram-md5", 8));
	assert_false(xsasl_mech_valid("", 0));
	assert_true(xsasl_mech_valid("ABCDEFGHIJKLMNOPQRST", 20));
	assert_false(xsasl_mech_valid("ABCDEFGHIJKLMNOPQRSTU", 21));
	buf_free(&why);
}

static void
test_conversation(void **state)
{
	struct buf why = BUF_INIT, resp = BUF_INIT, d = BUF_INIT,
	    chal = BUF_INIT;
	struct sasl_clnt *c;
	const char *mech;
	int init;

	(void)state;
	/* PLAIN: the initial response carries user and password. */
	c = sasl_clnt_new("smtp", "relay.example", XSASL_SEC_NOANONYMOUS,
	    "joe", "secret", &why);
	assert_non_null(c);
	assert_int_equal(sasl_clnt_first(c, "PLAIN", &mech, &init, &resp,
	    &why), SASL_CLNT_OK);
	assert_string_equal(mech, "PLAIN");
	assert_true(init);
	assert_int_equal(base64_decode(resp.p, resp.len, 100, &d), 0);
	assert_true((d.len == 11 && memcmp(d.p, "\0joe\0secret", 11) == 0) ||
	    (d.len == 14 && memcmp(d.p, "joe\0joe\0secret", 14) == 0));
	/* A second start is refused. */
	assert_int_equal(sasl_clnt_first(c, "PLAIN", &mech, &init, &resp,
	    &why), SASL_CLNT_FAIL);
	sasl_clnt_free(c);

	/* noplaintext: PLAIN and LOGIN are not candidates. */
	c = sasl_clnt_new("smtp", "relay.example", XSASL_SEC_NOPLAINTEXT |
	    XSASL_SEC_NOANONYMOUS, "joe", "secret", &why);
	assert_non_null(c);
	buf_reset(&why);
	assert_int_equal(sasl_clnt_first(c, "PLAIN LOGIN", &mech, &init,
	    &resp, &why), SASL_CLNT_FAIL);
	assert_string_equal(buf_str(&why), "no mechanism available");
	sasl_clnt_free(c);

	/* CRAM-MD5: no initial response; "user digest" to a challenge. */
	c = sasl_clnt_new("smtp", "relay.example", XSASL_SEC_NOPLAINTEXT,
	    "joe", "secret", &why);
	assert_non_null(c);
	assert_int_equal(sasl_clnt_first(c, "PLAIN CRAM-MD5", &mech, &init,
	    &resp, &why), SASL_CLNT_OK);
	assert_string_equal(mech, "CRAM-MD5");
	assert_false(init);
	/* A malformed challenge is refused before Cyrus sees it. */
	assert_int_equal(sasl_clnt_next(c, "!!", 2, &resp, &why),
	    SASL_CLNT_FAIL);
	base64_encode("<1896.697170952@postoffice.example.net>", 39,
	    &chal);
	assert_int_equal(sasl_clnt_next(c, chal.p, chal.len, &resp, &why),
	    SASL_CLNT_OK);
	assert_int_equal(base64_decode(resp.p, resp.len, 100, &d), 0);
	/* RFC 2195's example, with this password: "joe " + 32 hex. */
	assert_int_equal(d.len, 4 + 32);
	assert_memory_equal(d.p, "joe ", 4);
	sasl_clnt_free(c);
	sasl_clnt_free(NULL);
	buf_free(&why);
	buf_free(&resp);
	buf_free(&d);
	buf_free(&chal);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_lookup_error),
		cmocka_unit_test(test_mechs),
		cmocka_unit_test(test_ehlo_auth),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_secprops),
		cmocka_unit_test(test_conversation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
