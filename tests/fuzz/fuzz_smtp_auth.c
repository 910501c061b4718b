/*
 * NAME		fuzz_smtp_auth - libFuzzer target for the SMTP client's AUTH
 *		input: challenges, mechanism lists, base64
 * DESCRIPTION	Each input line is fed to the reply parser; a complete
 *		reply goes through smtp_auth_challenge() and its text
 *		through the strict base64 decoder (with a small and the
 *		real bound), and every line is parsed as the arguments of
 *		an AUTH keyword.  Checks: a decoded challenge is within its
 *		bound and re-encodes to exactly the input (the decoder
 *		accepts only canonical base64), a challenge is only taken
 *		from a one-line 334 reply, and the kept mechanism list has
 *		at most SASL_CLNT_MECHS_MAX valid, distinct names.  The
 *		client files are compiled into this target directly (smtp(8)
 *		is a program, not a library).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtp/auth.c"
#include "../../smtp/reply.c"
#include "../../smtp/session.c"
#include "../../smtp/text.c"
#include "../../smtp/tls.c"

/* smtp_cfg is defined in params.c, which this target does not need. */
struct smtp_cfg smtp_cfg;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_b64 - a decoded text re-encodes to itself and keeps the bound */
static void
check_b64(const char *p, size_t len, size_t max)
{
	struct buf d = BUF_INIT, e = BUF_INIT;

	if (base64_decode(p, len, max, &d) == 0) {
		if (d.len > max)
			abort();
		base64_encode(d.p, d.len, &e);
		if (e.len != len || (len && memcmp(e.p, p, len) != 0))
			abort();
	}
	buf_free(&d);
	buf_free(&e);
}

/* check_mechs - the kept list is bounded, valid and without repeats */
static void
check_mechs(const char *p, size_t len)
{
	struct buf out = BUF_INIT;
	struct argv *v;
	size_t i, j;
	int n;

	n = smtp_auth_mechs(p, len, &out);
	if (n < 0 || n > SASL_CLNT_MECHS_MAX)
		abort();
	v = argv_split(buf_str(&out), " ");
	if (v->n != (size_t)n)
		abort();
	for (i = 0; i < v->n; i++) {
		if (!xsasl_mech_valid(v->v[i], strlen(v->v[i])))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(v->v[i], v->v[j]) == 0)
				abort();
	}
	argv_free(v);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl, *chal;
	struct smtp_reply r;
	struct buf why = BUF_INIT;
	size_t len, clen;
	int rc;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		check_mechs(p, len);
		check_b64(p, len, 16);
		rc = smtp_reply_line(&r, p, len, &why);
		if (rc == 1 && smtp_auth_challenge(&r, &chal, &clen) == 0) {
			if (r.code != 334 || r.nlines != 1 ||
			    clen > r.text.len)
				abort();
			check_b64(chal, clen, SASL_CLNT_DATA_MAX);
		} else if (rc < 0) {
			smtp_reply_reset(&r);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	smtp_reply_free(&r);
	buf_free(&why);
	return 0;
}
