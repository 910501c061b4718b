/*
 * NAME		test_smtpd_sasl - unit tests for smtpd(8) AUTH helpers
 * DESCRIPTION	The AUTH command argument parser (mechanism syntax and
 *		case, optional initial response, hostile arguments), the
 *		xtext decoder of MAIL FROM AUTH= (RFC 3461/4954), and the
 *		protocol name (smtpd_protocol(): "S" with TLS, "A" once
 *		logged in, gone after smtpd_sasl_reset()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../smtpd/smtpd.h"
#include "../../smtpd/smtpd_int.h"
#include "util/mem.h"
#include "unit.h"

struct smtpd_cfg smtpd_cfg;	/* main.c's, which tests do not link */

/* auth - parse a copy; mech and resp as strings ("-" for NULL) */
static int
auth(const char *arg, char *mech, char *resp)
{
	char *copy = xstrdup(arg), *m, *r;
	int rc = smtpd_sasl_parse_auth(copy, &m, &r);

	if (rc == 0) {
		snprintf(mech, 64, "%s", m);
		snprintf(resp, 64, "%s", r ? r : "-");
	}
	free(copy);
	return rc;
}

/* test_parse_auth_good - what AUTH accepts */
static void
test_parse_auth_good(void **state)
{
	char m[64], r[64];

	(void)state;
	assert_int_equal(auth("PLAIN", m, r), 0);
	assert_string_equal(m, "PLAIN");
	assert_string_equal(r, "-");
	assert_int_equal(auth("plain AGFsaWNlAHg=", m, r), 0);
	assert_string_equal(m, "PLAIN");
	assert_string_equal(r, "AGFsaWNlAHg=");
	assert_int_equal(auth("  login   =  ", m, r), 0);
	assert_string_equal(m, "LOGIN");
	assert_string_equal(r, "=");
	assert_int_equal(auth("SCRAM-SHA-256", m, r), 0);
	assert_int_equal(auth("ABCDEFGHIJKLMNOPQRST", m, r), 0);
}

/* test_parse_auth_hostile - what AUTH refuses (501) */
static void
test_parse_auth_hostile(void **state)
{
	static const char *const bad[] = {
		"", " ", "PLAIN a b", "PLAIN a b c", "ABCDEFGHIJKLMNOPQRSTU",
		"PL@IN", "PLAIN\ta", "PL\001IN", "\xc3\x84", "=", "*",
		"PLAIN= x", "\x7f",
	};
	char m[64], r[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		assert_int_equal(auth(bad[i], m, r), -1);
}

/* test_protocol_name - SMTP/ESMTP, "S" with TLS, "A" once logged in */
static void
test_protocol_name(void **state)
{
	struct smtpd_state st;

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_string_equal(smtpd_protocol(&st), "SMTP");
	st.esmtp = 1;
	assert_string_equal(smtpd_protocol(&st), "ESMTP");
	st.sasl_username = xstrdup("alice");
	st.sasl_method = xstrdup("PLAIN");
	assert_string_equal(smtpd_protocol(&st), "ESMTPA");
	st.tls_active = 1;
	assert_string_equal(smtpd_protocol(&st), "ESMTPSA");
	smtpd_sasl_reset(&st);
	assert_null(st.sasl_username);
	assert_null(st.sasl_method);
	assert_string_equal(smtpd_protocol(&st), "ESMTPS");
	st.esmtp = 0;
	assert_string_equal(smtpd_protocol(&st), "SMTPS");
}

/* test_xtext - AUTH=<addr> values: decoding and what is refused */
static void
test_xtext(void **state)
{
	static const char *const bad[] = {
		"a+", "a+4", "a+4g", "a+zz", "a=b", "a b", "a\tb", "+00",
		"a+00b", "\x80", "\x7f", "a+4\0",
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(smtpd_xtext_decode("<>", &b), 0);
	assert_string_equal(buf_str(&b), "<>");
	assert_int_equal(smtpd_xtext_decode("a+2Bb@example.com", &b), 0);
	assert_string_equal(buf_str(&b), "a+b@example.com");
	assert_int_equal(smtpd_xtext_decode("+3D+20", &b), 0);
	assert_string_equal(buf_str(&b), "= ");
	assert_int_equal(smtpd_xtext_decode("", &b), 0);
	assert_int_equal(b.len, 0);
	for (i = 0; i < NELEM(bad); i++)
		assert_int_equal(smtpd_xtext_decode(bad[i], &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_auth_good),
		cmocka_unit_test(test_parse_auth_hostile),
		cmocka_unit_test(test_protocol_name),
		cmocka_unit_test(test_xtext),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
