/*
 * NAME		fuzz_conf - libFuzzer target for main.cf parsing and expansion
 * DESCRIPTION	Parses the input as main.cf text, then expands every
 *		setting with conf_expand(), so that recursive, conditional
 *		and malformed references are all exercised.  A few
 *		parameters get registered defaults that refer to others.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mail/conf.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct param fuzz_rows[] = {
	{"myhostname", PT_STR, "host.$mydomain", P_NOFIELD, 0, 0, 0},
	{"mydomain", PT_STR, "example.com", P_NOFIELD, 0, 0, 0},
	{"myorigin", PT_STR, "${myorigin_x?{$myorigin_x}:{$myhostname}}",
	    P_NOFIELD, 0, 0, 0},
	{"raw_param", PT_RAW, "$myhostname", P_NOFIELD, 0, 0, 0},
	P_END
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = conf_new();
	struct buf out = BUF_INIT, why = BUF_INIT;
	char **names;
	size_t i;

	conf_register(c, fuzz_rows);
	if (conf_parse(c, (const char *)data, size, "main.cf", &why) == 0) {
		names = conf_names(c, 0);
		for (i = 0; names[i]; i++) {
			buf_reset(&why);
			(void)conf_expand(c, conf_raw(c, names[i]), &out,
			    &why);
		}
		free(names);
		buf_reset(&why);
		(void)conf_expand(c, "$myorigin ${raw_param}", &out, &why);
	}
	conf_free(c);
	buf_free(&out);
	buf_free(&why);
	return 0;
}
