/*
 * NAME		fuzz_dict_query - libFuzzer target for ldap:/mysql: templates
 * DESCRIPTION	The input is "template NUL key NUL value..." (missing parts
 *		are empty).  A template that dq_template_check() accepts is
 *		expanded as a query for the key (with and without a quote
 *		function) and as result_format for each value, with an
 *		expansion_limit of 3.  Checks what the layer promises: an
 *		expansion never exceeds DICT_VALUE_MAX, an error always
 *		comes with a reason, a skipped or refused value leaves the
 *		answer as it was, and the limit holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict.h"
#include "dict/dict_query.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* quote - doubles every byte, the worst case of a real escape */
static void
quote(struct buf *out, const char *s, size_t len, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		buf_putc(out, s[i]);
		buf_putc(out, s[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf fmt = BUF_INIT, key = BUF_INIT, out = BUF_INIT,
	    why = BUF_INIT, ans = BUF_INIT;
	const char *p = (const char *)data, *end = p + size, *nul;
	struct dq_result r;
	long added = 0;
	int rc;

	nul = memchr(p, 0, size);
	buf_set(&fmt, p, nul ? (size_t)(nul - p) : size);
	p = nul ? nul + 1 : end;
	nul = memchr(p, 0, (size_t)(end - p));
	buf_set(&key, p, nul ? (size_t)(nul - p) : (size_t)(end - p));
	p = nul ? nul + 1 : end;
	if (key.len > DICT_KEY_MAX || dq_template_check(buf_str(&fmt),
	    &why) < 0)
		goto out;
	rc = dq_expand_query(buf_str(&fmt), buf_str(&key), NULL, NULL, &out,
	    &why);
	if ((rc < 0 && why.len == 0) || out.len > DICT_VALUE_MAX + 2 *
	    DICT_KEY_MAX)
		abort();
	rc = dq_expand_query(buf_str(&fmt), buf_str(&key), quote, NULL, &out,
	    &why);
	if (rc < 0 && why.len == 0)
		abort();
	dq_result_init(&r, &ans, buf_str(&fmt), buf_str(&key), 3);
	while (p < end) {
		size_t before = ans.len, vlen;

		nul = memchr(p, 0, (size_t)(end - p));
		vlen = nul ? (size_t)(nul - p) : (size_t)(end - p);
		buf_reset(&why);
		rc = dq_result_add(&r, p, vlen, &why);
		if (rc == 1)
			added++;
		else if (ans.len != before || (rc < 0 && why.len == 0))
			abort();
		if (added > 3 || ans.len > DICT_VALUE_MAX)
			abort();
		p = nul ? nul + 1 : end;
		if (vlen == 0 && !nul)
			break;
	}
out:
	buf_free(&fmt);
	buf_free(&key);
	buf_free(&out);
	buf_free(&why);
	buf_free(&ans);
	return 0;
}
