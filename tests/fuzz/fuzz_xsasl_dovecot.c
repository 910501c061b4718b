/*
 * NAME		fuzz_xsasl_dovecot - libFuzzer target for the Dovecot auth
 *		protocol line parser
 * DESCRIPTION	Each input line goes through xsasl_dovecot_parse(); for a
 *		parsed line, the MECH filter and parameter lookups run under
 *		every combination of security options.  Checks: at most
 *		XSASL_DOVECOT_ARGS_MAX fields, all inside the line buffer,
 *		no control character other than TAB in the command, and a
 *		line over XSASL_DOVECOT_LINE_MAX is always refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl/xsasl.h"
#include "sasl/xsasl_impl.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct xsasl_dovecot_line l;
	struct buf why = BUF_INIT;
	int sec;

	while (p <= end) {
		size_t len;
		char *line;
		size_t i;
		int r;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		line = malloc(len + 1);
		if (line == NULL)
			abort();
		memcpy(line, p, len);
		r = xsasl_dovecot_parse(line, len, &l, &why);
		if (r == 0) {
			if (len > XSASL_DOVECOT_LINE_MAX ||
			    l.argc > XSASL_DOVECOT_ARGS_MAX || l.cmd != line)
				abort();
			for (i = 0; l.cmd[i]; i++)
				if (l.cmd[i] < 'A' || l.cmd[i] > 'Z')
					abort();
			for (i = 0; i < l.argc; i++)
				if (l.argv[i] < line || l.argv[i] > line + len)
					abort();
			for (sec = 0; sec < 64; sec++)
				(void)xsasl_dovecot_mech_ok(&l, sec);
			(void)xsasl_dovecot_param(&l, 0, "user");
			(void)xsasl_dovecot_param(&l, 1, "reason");
		}
		buf_reset(&why);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	buf_free(&why);
	return 0;
}
