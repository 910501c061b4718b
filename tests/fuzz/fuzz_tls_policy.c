/*
 * NAME		fuzz_tls_policy - libFuzzer target for lib/tls's parsers
 * DESCRIPTION	The input (as a string) goes to tls_policy_parse() (an
 *		smtp_tls_policy_maps value), tls_protos_parse() (a protocol
 *		list), tls_cipherlist() (an exclusion list),
 *		tls_ssl_options_parse() (tls_ssl_options) and
 *		tls_sni_value() (a tls_server_sni_maps value).  Checks: a
 *		parsed protocol range is non-empty and within TLS 1.0..1.3;
 *		a parsed policy has a known level and bounded match names; a
 *		cipher string contains only the grade and ":!name" parts;
 *		parsed SSL options never hold the protocol or
 *		server-preference bits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tls/tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tls_grades g = {{"HIGH", "MEDIUM", "LOW", "EXP",
	    "eNULL"}};
	struct buf why = BUF_INIT, out = BUF_INIT;
	struct tls_policy tp;
	struct tls_protos pr;
	uint64_t ops;
	char *s = malloc(size + 1);
	size_t i;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	tls_policy_init(&tp);
	if (tls_policy_parse(s, &tp, &why) == 0) {
		if (tp.level < TLS_LEV_UNSUPPORTED || tp.level > TLS_LEV_SECURE ||
		    tp.match.n > TLS_LIST_MAX)
			abort();
		for (i = 0; i < tp.match.n; i++)
			if (strlen(tp.match.v[i]) == 0 ||
			    strlen(tp.match.v[i]) > 255)
				abort();
	}
	tls_policy_free(&tp);

	if (tls_protos_parse(s, &pr, &why) == 0) {
		if (pr.min < TLS1_VERSION || pr.max > TLS1_3_VERSION ||
		    pr.min > pr.max)
			abort();
	}

	if (tls_cipherlist(&g, "high", s, &out, &why) == 0) {
		if (strncmp(out.p, "HIGH", 4) != 0 || (out.len > 4 &&
		    strncmp(out.p + 4, ":!", 2) != 0) ||
		    strpbrk(out.p, " ,;@\t\n") != NULL)
			abort();
	}

	if (tls_ssl_options_parse(s, &ops, &why) == 0 &&
	    (ops & (SSL_OP_NO_SSL_MASK | SSL_OP_CIPHER_SERVER_PREFERENCE)))
		abort();

	(void)tls_sni_value(s, size, &out, &why);

	buf_free(&why);
	buf_free(&out);
	free(s);
	return 0;
}
