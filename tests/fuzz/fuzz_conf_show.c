/*
 * NAME		fuzz_conf_show - libFuzzer target for postconf -M and the
 *		parameter line printer
 * DESCRIPTION	Prints the input as master.cf with mcf_show(), folded and
 *		not, with and without a service filter, and as a parameter
 *		value with conf_show_line().  A folded line never exceeds 80
 *		columns unless a single word is longer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf_show.h"
#include "util/argv.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct argv filters;

	argv_init(&filters);
	(void)mcf_show(p, size, "master.cf", NULL, 0, &out, &why);
	buf_reset(&out);
	buf_reset(&why);
	argv_add(&filters, "smtp");
	argv_add(&filters, "*/unix");
	(void)mcf_show(p, size, "master.cf", &filters, 1, &out, &why);
	buf_reset(&out);
	conf_show_line(&out, p, size, 1);
	if (out.len == 0 || out.p[out.len - 1] != '\n')
		abort();
	conf_show_line(&out, p, size, 0);
	argv_clear(&filters);
	buf_free(&out);
	buf_free(&why);
	return 0;
}
