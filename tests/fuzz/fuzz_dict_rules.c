/*
 * NAME		fuzz_dict_rules - libFuzzer target for regexp:, pcre: and
 *		cidr: rule files
 * DESCRIPTION	Writes the input to a private table file and opens it as a
 *		regexp:, pcre: and cidr: table (the shared rule-file layer
 *		and each engine), then runs a few lookups: fixed keys and
 *		the first line of the input itself.  What must hold: a
 *		failed open always has a reason naming the file, a lookup
 *		error always has a reason, a found value is within
 *		DICT_VALUE_MAX, and a table that opened reports itself as a
 *		pattern table.  For regexp:, inputs with counted repetition
 *		("{") are skipped: regcomp(3) has no bound on the memory that
 *		nested counts take (see dict_regexp.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict/dict.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[64];

/* fuzz_cleanup - remove the table file at exit */
static void
fuzz_cleanup(void)
{
	unlink(path);
}

/* fuzz_lookup - one lookup and what its answer must look like */
static void
fuzz_lookup(struct dict *d, const char *key)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	int r;

	r = dict_lookup(d, key, &value, &why);
	if (r == DICT_ERROR && why.len == 0)
		abort();
	if (r == DICT_FOUND && value.len > DICT_VALUE_MAX)
		abort();
	buf_free(&value);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "regexp", "pcre", "cidr" };
	static const char *const keys[] = {
		"a", "user@example.com", "192.0.2.1", "2001:db8::1",
		"10.0.0.0", "::", "", "ABC abc 123 $1 \n x"
	};
	struct buf spec = BUF_INIT, why = BUF_INIT, first = BUF_INIT;
	const uint8_t *nl;
	struct dict *d;
	size_t i, k;

	if (path[0] == 0) {
		log_init("fuzz_dict_rules", 0);
		snprintf(path, sizeof(path), "/tmp/fuzz_dict_rules.%ld",
		    (long)getpid());
		atexit(fuzz_cleanup);
	}
	if (size > 65536)
		return 0;
	if (file_replace(path, data, size, 0600) < 0)
		abort();
	nl = memchr(data, '\n', size);
	buf_put(&first, data, nl ? (size_t)(nl - data) : size);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (i == 0 && memchr(data, '{', size) != NULL)
			continue;
		buf_reset(&spec);
		buf_printf(&spec, "%s:%s", types[i], path);
		if ((d = dict_open(spec.p, 0, &why)) == NULL) {
			if (strstr(buf_str(&why), path) == NULL)
				abort();
			continue;
		}
		if (!(d->flags & DICT_FLAG_PATTERN))
			abort();
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			fuzz_lookup(d, keys[k]);
		if (memchr(first.p, 0, first.len) == NULL)
			fuzz_lookup(d, first.p);
		dict_close(d);
	}
	buf_free(&spec);
	buf_free(&why);
	buf_free(&first);
	return 0;
}
