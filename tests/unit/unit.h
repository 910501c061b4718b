/*
 * NAME		unit - helpers shared by the cmocka unit tests
 * DESCRIPTION	Included after <cmocka.h> by each tests/unit/test_*.c.
 *		golden_check() compares a transcript with data/NAME.ref
 *		(tests run from inside tests/unit/); with UPDATE_GOLDEN=1 in
 *		the environment it writes the .ref file instead, for review.
 */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/files.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* golden_read - read data/NAME.SUFFIX into out; fails the test if absent */
static inline void
golden_read(const char *name, const char *suffix, struct buf *out)
{
	char path[256];

	snprintf(path, sizeof(path), "data/%s.%s", name, suffix);
	if (file_read(path, out, 16 * 1024 * 1024) < 0)
		fail_msg("cannot read %s", path);
}

/* golden_check - compare got with data/NAME.ref, line by line */
static inline void
golden_check(const char *name, struct buf *got)
{
	struct buf want = BUF_INIT;
	const char *env = getenv("UPDATE_GOLDEN");
	size_t i, line = 1;
	char path[256];

	snprintf(path, sizeof(path), "data/%s.ref", name);
	if (env && strcmp(env, "1") == 0) {
		if (file_replace(path, got->p ? got->p : "", got->len,
		    0644) < 0)
			fail_msg("cannot write %s", path);
		return;
	}
	golden_read(name, "ref", &want);
	for (i = 0; i < want.len && i < got->len; i++) {
		if (want.p[i] != got->p[i])
			break;
		if (want.p[i] == '\n')
			line++;
	}
	if (i < want.len || i < got->len) {
		size_t ws = i, gs = i;

		while (ws > 0 && want.p[ws - 1] != '\n')
			ws--;
		while (gs > 0 && got->p[gs - 1] != '\n')
			gs--;
		print_error("%s: first difference at line %zu\n"
		    "want: %.*s\ngot:  %.*s\n", path, line,
		    (int)strcspn(want.p + ws, "\n"), want.p + ws,
		    (int)strcspn(buf_str(got) + gs, "\n"), got->p + gs);
		buf_free(&want);
		fail();
	}
	buf_free(&want);
}

/* put_visible - append bytes with control characters as \xNN */
static inline void
put_visible(struct buf *out, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(out, "\\x%02x", c);
		else
			buf_putc(out, c);
	}
}

#endif
