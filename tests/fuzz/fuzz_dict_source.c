/*
 * NAME		fuzz_dict_source - libFuzzer target for table source files
 * DESCRIPTION	Feeds the input to dict_source_parse() in postmap(1) and
 *		in aliases(5) format, with and without key folding, and
 *		checks what the parser promises for every entry: key and
 *		value are NUL-terminated with the stated lengths, hold no
 *		NUL, are within DICT_KEY_MAX and DICT_VALUE_MAX, the key is
 *		not empty, and line numbers never go backwards; an error
 *		always comes with a reason.  Inputs without NUL bytes are
 *		also opened as inline: and static: tables (the brace
 *		parsers of main.cf table syntax) and, when they name no
 *		file, as a maps list.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict.h"
#include "dict/dict_source.h"
#include "util/buf.h"
#include "util/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct check {
	unsigned long last_line;
	size_t	 entries;
};

/* check_entry - what every entry must look like */
static int
check_entry(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	struct check *c = ctx;

	(void)why;
	if (e->klen == 0 || e->klen > DICT_KEY_MAX ||
	    e->vlen > DICT_VALUE_MAX || strlen(e->key) != e->klen ||
	    strlen(e->value) != e->vlen || e->line < c->last_line ||
	    e->line == 0)
		abort();
	c->last_line = e->line;
	c->entries++;
	return 0;
}

/* fuzz_tables - the input as inline: and static: table text */
static void
fuzz_tables(const uint8_t *data, size_t size)
{
	static const char *const prefix[] = { "inline:", "static:" };
	struct buf spec = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	struct maps *m;
	size_t i;

	for (i = 0; i < 2; i++) {
		buf_sets(&spec, prefix[i]);
		buf_put(&spec, data, size);
		if ((d = dict_open(spec.p, DICT_FLAG_FOLD_FIX, &why)) != NULL) {
			(void)dict_lookup(d, "a", &value, &why);
			dict_close(d);
		} else if (why.len == 0) {
			abort();
		}
	}
	/* No paths: the fuzzer must not open (or hang on) real files. */
	if (memchr(data, '/', size) == NULL) {
		buf_set(&spec, data, size);
		m = maps_open("fuzz", spec.p, DICT_FLAG_FOLD_FIX);
		(void)maps_find(m, "a", &value, &why);
		maps_free(m);
	}
	buf_free(&spec);
	buf_free(&value);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	struct buf why = BUF_INIT;
	struct check c;
	int format, fold;

	if (!initialized) {
		log_init("fuzz_dict_source", 0);
		initialized = 1;
	}
	for (format = DICT_SRC_POSTMAP; format <= DICT_SRC_ALIASES;
	    format++) {
		for (fold = 0; fold <= 1; fold++) {
			memset(&c, 0, sizeof(c));
			buf_reset(&why);
			if (dict_source_parse(format, fold ? DICT_SRC_FOLD : 0,
			    "fuzz", (const char *)data, size, check_entry, &c,
			    &why) < 0 && why.len == 0)
				abort();
		}
	}
	if (size < 65536 && memchr(data, 0, size) == NULL)
		fuzz_tables(data, size);
	buf_free(&why);
	return 0;
}
