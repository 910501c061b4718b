/*
 * NAME		fuzz_conf_edit - libFuzzer target for postconf -e/-#/-X
 * DESCRIPTION	The input is "mode byte, requests separated by \001, \002,
 *		main.cf text".  Runs conf_edit() and checks that an accepted
 *		edit can be parsed again with the same result for SET
 *		requests: every requested name then has the requested value
 *		when the original text parsed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "mail/conf_edit.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/strutil.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* same_name - does request "name = value" set this name? */
static int
same_name(const char *req, const char *name)
{
	char *copy = strdup(req), *eq = strchr(copy, '=');
	int r;

	*eq = 0;
	r = strcmp(str_trim(copy), name) == 0;
	free(copy);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *sep;
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct argv args, warnings;
	int mode;
	size_t alen, start;

	if (size < 2)
		return 0;
	mode = data[0] % 3 + 1;
	p++;
	size--;
	sep = memchr(p, '\002', size);
	alen = sep ? (size_t)(sep - p) : size;
	argv_init(&args);
	argv_init(&warnings);
	for (start = 0; start <= alen;) {
		const char *end = memchr(p + start, '\001', alen - start);
		size_t n = end ? (size_t)(end - (p + start)) : alen - start;

		if (memchr(p + start, 0, n) == NULL)
			argv_addn(&args, p + start, n);
		start += n + 1;
	}
	if (conf_edit(mode, sep ? sep + 1 : "", sep ? size - alen - 1 : 0,
	    &args, &out, &warnings, &why) == 0) {
		struct conf *before = conf_new(), *after = conf_new();
		struct buf w2 = BUF_INIT;
		size_t i;

		if (mode == CONF_EDIT_SET && conf_parse(before, sep ? sep + 1 :
		    "", sep ? size - alen - 1 : 0, "in", &w2) == 0) {
			buf_reset(&w2);
			if (conf_parse(after, out.p ? out.p : "", out.len,
			    "out", &w2) != 0)
				abort();
			for (i = 0; i < args.n; i++) {
				char *copy = strdup(args.v[i]);
				char *eq = strchr(copy, '='), *name, *value;
				const char *got;
				size_t j, later = 0;

				*eq = 0;
				name = str_trim(copy);
				value = str_trim(eq + 1);
				for (j = i + 1; j < args.n; j++)
					if (same_name(args.v[j], name))
						later = 1;
				got = conf_raw(after, name);
				if (!later && (got == NULL ||
				    strcmp(got, value) != 0))
					abort();
				free(copy);
			}
		}
		conf_free(before);
		conf_free(after);
		buf_free(&w2);
	} else if (why.len == 0) {
		abort();
	}
	argv_clear(&args);
	argv_clear(&warnings);
	buf_free(&out);
	buf_free(&why);
	return 0;
}
