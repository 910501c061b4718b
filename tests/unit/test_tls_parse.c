/*
 * NAME		test_tls_parse - unit tests for lib/tls's parsers
 * DESCRIPTION	Protocol lists (exclusions, inclusions, ">=" and "<=",
 *		separators, holes in the range, unknown names, nothing left,
 *		the name-count limit at limit-1, limit and limit+1), security
 *		levels, cipher grades and exclusion lists (bad characters,
 *		long names), client policy entries (every attribute,
 *		duplicates, unknown attributes, bad values, hostile input),
 *		base64 (round trip, padding, bad characters, non-canonical
 *		endings), SNI table values (PEM check), the fingerprint
 *		format (bounded by the output buffer) and tls_ssl_options
 *		(names, hex masks, managed bits, limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/ssl.h>

#include "tls/tls.h"
#include "util/base64.h"
#include "util/buf.h"
#include "unit.h"

/* protos - parse spec; returns the rc and fills *p */
static int
protos(const char *spec, struct tls_protos *p)
{
	struct buf why = BUF_INIT;
	int rc = tls_protos_parse(spec, p, &why);

	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static void
test_protos(void **state)
{
	struct tls_protos p;

	(void)state;
	assert_int_equal(protos("", &p), 0);
	assert_int_equal(p.min, TLS1_VERSION);
	assert_int_equal(p.max, TLS1_3_VERSION);

	assert_int_equal(protos("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", &p), 0);
	assert_int_equal(p.min, TLS1_2_VERSION);
	assert_int_equal(p.max, TLS1_3_VERSION);
	assert_int_equal(p.no_ops, 0);

	assert_int_equal(protos(">=TLSv1.2", &p), 0);
	assert_int_equal(p.min, TLS1_2_VERSION);
	assert_int_equal(p.max, TLS1_3_VERSION);

	assert_int_equal(protos("<=TLSv1.2", &p), 0);
	assert_int_equal(p.min, TLS1_VERSION);
	assert_int_equal(p.max, TLS1_2_VERSION);

	assert_int_equal(protos(">=TLSv1.1:<=TLSv1.2", &p), 0);
	assert_int_equal(p.min, TLS1_1_VERSION);
	assert_int_equal(p.max, TLS1_2_VERSION);

	/* Inclusion list: only those. */
	assert_int_equal(protos("TLSv1.3", &p), 0);
	assert_int_equal(p.min, TLS1_3_VERSION);
	assert_int_equal(p.max, TLS1_3_VERSION);

	/* A hole in the range becomes SSL_OP_NO_*. */
	assert_int_equal(protos("!TLSv1.2", &p), 0);
	assert_int_equal(p.min, TLS1_VERSION);
	assert_int_equal(p.max, TLS1_3_VERSION);
	assert_true(p.no_ops & SSL_OP_NO_TLSv1_2);
	assert_false(p.no_ops & SSL_OP_NO_TLSv1_1);

	/* Separators: space, comma, colon, tab, repeated. */
	assert_int_equal(protos(" ,:!TLSv1\t!TLSv1.1,,: ", &p), 0);
	assert_int_equal(p.min, TLS1_2_VERSION);
	/* Case does not matter. */
	assert_int_equal(protos("!tlsv1, !TLSV1.1", &p), 0);
	assert_int_equal(p.min, TLS1_2_VERSION);
}

static void
test_protos_bad(void **state)
{
	struct tls_protos p;
	struct buf spec = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(protos("TLSv1.4", &p), -1);
	assert_int_equal(protos("!TLSv9", &p), -1);
	assert_int_equal(protos(">=", &p), -1);
	assert_int_equal(protos("!", &p), -1);
	assert_int_equal(protos("=>TLSv1", &p), -1);
	assert_int_equal(protos(">=TLSv1.3, <=TLSv1.2", &p), -1);
	assert_int_equal(protos("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", &p), -1);
	assert_int_equal(protos("SSLv3", &p), -1);
	assert_int_equal(protos("SSLv2 SSLv3", &p), -1);
	assert_int_equal(protos("TLSv1.2\001", &p), -1);
	assert_int_equal(protos("TLSv1.2x", &p), -1);
	/* A very long name. */
	for (i = 0; i < 200; i++)
		buf_putc(&spec, 'A');
	assert_int_equal(protos(buf_str(&spec), &p), -1);
	/* The name count at limit-1, limit and limit+1. */
	buf_reset(&spec);
	for (i = 0; i < TLS_LIST_MAX - 1; i++)
		buf_puts(&spec, "!TLSv1 ");
	assert_int_equal(protos(buf_str(&spec), &p), 0);
	buf_puts(&spec, "!TLSv1 ");
	assert_int_equal(protos(buf_str(&spec), &p), 0);
	buf_puts(&spec, "!TLSv1 ");
	assert_int_equal(protos(buf_str(&spec), &p), -1);
	buf_free(&spec);
}

static void
test_levels(void **state)
{
	(void)state;
	assert_int_equal(tls_level_parse("none"), TLS_LEV_NONE);
	assert_int_equal(tls_level_parse("may"), TLS_LEV_MAY);
	assert_int_equal(tls_level_parse("ENCRYPT"), TLS_LEV_ENCRYPT);
	assert_int_equal(tls_level_parse("verify"), TLS_LEV_VERIFY);
	assert_int_equal(tls_level_parse("secure"), TLS_LEV_SECURE);
	assert_int_equal(tls_level_parse("dane"), TLS_LEV_UNSUPPORTED);
	assert_int_equal(tls_level_parse("dane-only"), TLS_LEV_UNSUPPORTED);
	assert_int_equal(tls_level_parse("Fingerprint"), TLS_LEV_FPRINT);
	/* Stronger levels compare greater. */
	assert_true(TLS_LEV_ENCRYPT < TLS_LEV_FPRINT &&
	    TLS_LEV_FPRINT < TLS_LEV_VERIFY);
	assert_int_equal(tls_level_parse(""), -1);
	assert_int_equal(tls_level_parse("mayy"), -1);
	assert_string_equal(tls_level_name(TLS_LEV_SECURE), "secure");
}

static const struct tls_grades grades = {{"HIGH", "MEDIUM", "LOW", "EXP",
    "eNULL"}};

static void
test_cipherlist(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct buf big = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(tls_cipherlist(&grades, "medium", "", &out, &why), 0);
	assert_string_equal(buf_str(&out), "MEDIUM");
	assert_int_equal(tls_cipherlist(&grades, "HIGH", "aNULL, 3DES:RC4",
	    &out, &why), 0);
	assert_string_equal(buf_str(&out), "HIGH:!aNULL:!3DES:!RC4");
	assert_int_equal(tls_cipherlist(&grades, "null", NULL, &out, &why), 0);
	assert_string_equal(buf_str(&out), "eNULL");

	assert_int_equal(tls_cipherlist(&grades, "super", "", &out, &why), -1);
	assert_int_equal(tls_cipherlist(&grades, "high", "AES;ALL", &out,
	    &why), -1);
	assert_int_equal(tls_cipherlist(&grades, "high", "!AES", &out, &why),
	    -1);
	assert_int_equal(tls_cipherlist(&grades, "high", "A@STRENGTH", &out,
	    &why), -1);
	for (i = 0; i < TLS_NAME_MAX + 1; i++)
		buf_putc(&big, 'A');
	assert_int_equal(tls_cipherlist(&grades, "high", buf_str(&big), &out,
	    &why), -1);
	buf_reset(&big);
	for (i = 0; i < TLS_LIST_MAX + 1; i++)
		buf_puts(&big, "RC4 ");
	assert_int_equal(tls_cipherlist(&grades, "high", buf_str(&big), &out,
	    &why), -1);
	{
		static const struct tls_grades empty = {{"", "", "", "", ""}};

		assert_int_equal(tls_cipherlist(&empty, "high", "", &out,
		    &why), -1);
	}
	buf_free(&out);
	buf_free(&why);
	buf_free(&big);
}

/* policy - parse value into tp (initialized here); the rc */
static int
policy(const char *value, struct tls_policy *tp)
{
	struct buf why = BUF_INIT;
	int rc;

	tls_policy_init(tp);
	rc = tls_policy_parse(value, tp, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	buf_free(&why);
	return rc;
}

static void
test_policy(void **state)
{
	struct tls_policy tp;

	(void)state;
	assert_int_equal(policy("may", &tp), 0);
	assert_int_equal(tp.level, TLS_LEV_MAY);
	assert_null(tp.protocols);
	tls_policy_free(&tp);

	assert_int_equal(policy("secure match=nexthop:dot-nexthop:.example.com "
	    "protocols=!SSLv2:!SSLv3 ciphers=high exclude=3DES:RC4 "
	    "servername=mx.example.com", &tp), 0);
	assert_int_equal(tp.level, TLS_LEV_SECURE);
	assert_int_equal(tp.match.n, 3);
	assert_string_equal(tp.match.v[0], "nexthop");
	assert_string_equal(tp.match.v[2], ".example.com");
	assert_string_equal(tp.protocols, "!SSLv2:!SSLv3");
	assert_string_equal(tp.ciphers, "high");
	assert_string_equal(tp.exclude, "3DES:RC4");
	assert_string_equal(tp.servername, "mx.example.com");
	tls_policy_free(&tp);

	/* Commas separate attributes too; empty match parts are skipped. */
	assert_int_equal(policy("verify, match=a::b:", &tp), 0);
	assert_int_equal(tp.match.n, 2);
	tls_policy_free(&tp);

	assert_int_equal(policy("dane", &tp), 0);
	assert_int_equal(tp.level, TLS_LEV_UNSUPPORTED);
	tls_policy_free(&tp);

	/* Fingerprints hold colons: "|" separates them at that level. */
	assert_int_equal(policy("fingerprint match=3D:95:34|ec:3b:2d||",
	    &tp), 0);
	assert_int_equal(tp.level, TLS_LEV_FPRINT);
	assert_int_equal(tp.match.n, 2);
	assert_string_equal(tp.match.v[0], "3D:95:34");
	assert_string_equal(tp.match.v[1], "ec:3b:2d");
	tls_policy_free(&tp);
	/* ... and only there: a name list keeps "|" inside a name. */
	assert_int_equal(policy("verify match=a|b:c", &tp), 0);
	assert_int_equal(tp.match.n, 2);
	assert_string_equal(tp.match.v[0], "a|b");
	tls_policy_free(&tp);
}

static void
test_policy_bad(void **state)
{
	static const char *bad[] = {
		"",
		"   ",
		"maybe",
		"verify match",
		"verify match=",
		"verify match=:::",
		"fingerprint match=|||",
		"fingerprint match=",
		"verify bogus=1",
		"verify protocols=TLSv9",
		"verify protocols=!TLSv1:!TLSv1.1:!TLSv1.2:!TLSv1.3",
		"verify ciphers=strong",
		"verify exclude=A;B",
		"verify servername=",
		"verify servername=a\001b",
		"verify ciphers=high ciphers=low",
		"verify match=a match=b",
		"verify protocols=>=TLSv1.2 protocols=>=TLSv1.3",
		"verifyverifyverifyverifyverifyverifyverify",
		"=secure",
	};
	struct tls_policy tp;
	struct buf big = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (policy(bad[i], &tp) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		tls_policy_free(&tp);
	}
	/* Too many attributes / too many match names. */
	buf_puts(&big, "may");
	for (i = 0; i < TLS_LIST_MAX + 1; i++)
		buf_puts(&big, " exclude=RC4");
	assert_int_equal(policy(buf_str(&big), &tp), -1);
	tls_policy_free(&tp);
	buf_sets(&big, "verify match=");
	for (i = 0; i < TLS_LIST_MAX + 1; i++)
		buf_puts(&big, "a:");
	assert_int_equal(policy(buf_str(&big), &tp), -1);
	tls_policy_free(&tp);
	buf_sets(&big, "verify match=");
	for (i = 0; i < TLS_LIST_MAX; i++)
		buf_puts(&big, "a:");
	assert_int_equal(policy(buf_str(&big), &tp), 0);
	tls_policy_free(&tp);
	/* A fingerprint longer than any digest's. */
	buf_sets(&big, "fingerprint match=");
	for (i = 0; i < 256; i++)
		buf_puts(&big, "A");
	assert_int_equal(policy(buf_str(&big), &tp), -1);
	tls_policy_free(&tp);
	buf_free(&big);
}

static void
test_sni_value(void **state)
{
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\nabc\n"
	    "-----END PRIVATE KEY-----\n";
	struct buf enc = BUF_INIT, out = BUF_INIT, why = BUF_INIT;

	(void)state;
	base64_encode(pem, sizeof(pem) - 1, &enc);
	assert_int_equal(tls_sni_value(enc.p, enc.len, &out, &why), 0);
	assert_string_equal(buf_str(&out), pem);

	/* A file name, as a table built without -F has. */
	assert_int_equal(tls_sni_value("/etc/x.pem", 10, &out, &why), -1);
	assert_non_null(strstr(buf_str(&why), "postmap -F"));
	/* base64, but not PEM. */
	buf_reset(&enc);
	base64_encode("hello world!", 12, &enc);
	assert_int_equal(tls_sni_value(enc.p, enc.len, &out, &why), -1);
	/* PEM with a NUL inside. */
	buf_reset(&enc);
	base64_encode("-----BEGIN X\0", 13, &enc);
	assert_int_equal(tls_sni_value(enc.p, enc.len, &out, &why), -1);
	buf_free(&enc);
	buf_free(&out);
	buf_free(&why);
}

/* The PEM loader: hostile inputs are refused, none crash. */
static void
test_chain_pem_bad(void **state)
{
	static const char *bad[] = {
		"",
		"junk",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		"DEK-Info: AES-128-CBC,00\n\nAAAA\n"
		"-----END RSA PRIVATE KEY-----\n",
	};
	struct buf why = BUF_INIT;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	size_t i;

	(void)state;
	assert_non_null(ctx);
	for (i = 0; i < NELEM(bad); i++) {
		buf_reset(&why);
		assert_int_equal(tls_ctx_load_chain_pem(ctx, bad[i],
		    strlen(bad[i]), "test", &why), -1);
		assert_true(why.len > 0);
	}
	SSL_CTX_free(ctx);
	buf_free(&why);
}

/* tls_ssl_options: names in any case, hex masks, hostile input. */
static void
test_ssl_options(void **state)
{
	static const char *bad[] = {
		"NO_TICKETS",
		"NO_TLSv1",			/* managed: *_tls_protocols */
		"0x",
		"0xZZ",
		"0x-1",
		"0x 1",
		"0x00000000000000001",		/* 17 digits */
		"0x00000010x",
	};
	struct buf why = BUF_INIT, big = BUF_INIT;
	uint64_t ops;
	char hex[32];
	size_t i;

	(void)state;
	assert_int_equal(tls_ssl_options_parse("", &ops, &why), 0);
	assert_true(ops == 0);
	assert_int_equal(tls_ssl_options_parse(" no_ticket,\tPRIORITIZE_CHACHA"
	    "\n no_compression ", &ops, &why), 0);
	assert_true(ops == (SSL_OP_NO_TICKET | SSL_OP_PRIORITIZE_CHACHA |
	    SSL_OP_NO_COMPRESSION));
	/* TLSEXT_PADDING and SAFARI_ECDHE_ECDSA_BUG, by their bits. */
	assert_int_equal(tls_ssl_options_parse("0x00000010, 0X40", &ops, &why),
	    0);
	assert_true(ops == (SSL_OP_TLSEXT_PADDING |
	    SSL_OP_SAFARI_ECDHE_ECDSA_BUG));
	for (i = 0; i < NELEM(bad); i++) {
		buf_reset(&why);
		if (tls_ssl_options_parse(bad[i], &ops, &why) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_true(why.len > 0);
	}
	/* Masks may not set protocol or server-preference bits. */
	snprintf(hex, sizeof(hex), "0x%llx",
	    (unsigned long long)SSL_OP_NO_TLSv1_1);
	assert_int_equal(tls_ssl_options_parse(hex, &ops, &why), -1);
	snprintf(hex, sizeof(hex), "0x%llx",
	    (unsigned long long)SSL_OP_CIPHER_SERVER_PREFERENCE);
	assert_int_equal(tls_ssl_options_parse(hex, &ops, &why), -1);
	/* The name count limit: limit, limit+1; a name too long. */
	for (i = 0; i < TLS_LIST_MAX; i++)
		buf_puts(&big, "NO_TICKET ");
	assert_int_equal(tls_ssl_options_parse(buf_str(&big), &ops, &why), 0);
	buf_puts(&big, "NO_TICKET");
	assert_int_equal(tls_ssl_options_parse(buf_str(&big), &ops, &why), -1);
	buf_reset(&big);
	for (i = 0; i < TLS_NAME_MAX + 1; i++)
		buf_putc(&big, 'A');
	assert_int_equal(tls_ssl_options_parse(buf_str(&big), &ops, &why), -1);
	buf_free(&big);
	buf_free(&why);
}

/* Fingerprints: "AB:CD:..", cut at whole bytes when the buffer is short. */
static void
test_fpt_hex(void **state)
{
	unsigned char md[64];
	char out[TLS_FPT_MAX], small[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(md); i++)
		md[i] = (unsigned char)(i * 37 + 5);
	tls_fpt_hex(md, 3, out, sizeof(out));
	assert_string_equal(out, "05:2A:4F");
	tls_fpt_hex(md, 0, out, sizeof(out));
	assert_string_equal(out, "");
	/* The longest digest (SHA-512) fills the buffer exactly. */
	tls_fpt_hex(md, sizeof(md), out, sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_int_equal(out[2], ':');
	/* 8 bytes hold "05:2A" and the NUL, not a third pair. */
	tls_fpt_hex(md, 3, small, sizeof(small));
	assert_string_equal(small, "05:2A");
	tls_fpt_hex(md, 3, small, 3);
	assert_string_equal(small, "05");
	tls_fpt_hex(md, 3, small, 2);
	assert_string_equal(small, "");
	tls_fpt_hex(md, 3, small, 0);	/* writes nothing */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protos),
		cmocka_unit_test(test_protos_bad),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_cipherlist),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_bad),
		cmocka_unit_test(test_sni_value),
		cmocka_unit_test(test_chain_pem_bad),
		cmocka_unit_test(test_fpt_hex),
		cmocka_unit_test(test_ssl_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
