/*
 * NAME		fuzz_local_token - libFuzzer target for local(8) list parsing
 * DESCRIPTION	Runs the alias value tokenizer and the .forward file
 *		tokenizer over the input and checks the results: every entry
 *		is non-empty, bounded and free of NUL bytes, and the entry
 *		count stays within LOCAL_TOK_MAX.  Then uses the input as a
 *		forward_path template for local_expand(), whose result must
 *		stay bounded.  local(8) is a program, not a library, so its
 *		two source files are compiled into this target directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../local/expand.c"
#include "../../local/token.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - the invariants of a token list */
static void
check(const struct local_toks *t)
{
	size_t i;

	if (t->n > LOCAL_TOK_MAX)
		abort();
	for (i = 0; i < t->n; i++) {
		size_t len = strlen(t->v[i].text);

		if (len == 0 || len > LOCAL_TOK_LEN ||
		    t->v[i].type < LOCAL_TOK_ADDR ||
		    t->v[i].type > LOCAL_TOK_USER)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct local_vars v = {
		"/home/u", "u", "/bin/sh", "ext", "+", "example.com", "u+ext",
		"u+ext@example.com", "s@example.com",
	};
	struct local_toks t;
	struct buf why = BUF_INIT, out = BUF_INIT, tmpl = BUF_INIT;
	size_t bad;

	local_toks_init(&t);
	(void)local_tokenize((const char *)data, size, &t, &why);
	check(&t);
	local_toks_free(&t);

	local_toks_init(&t);
	(void)local_tokenize_file((const char *)data, size, &t, &why, &bad);
	check(&t);
	local_toks_free(&t);

	if (memchr(data, 0, size) == NULL) {
		buf_set(&tmpl, data, size);
		if (local_expand(buf_str(&tmpl), &v, "abcdefghijklmnopqrstuvwxyz"
		    "/.+-@", &out, &why) == 0 && out.len > 64 * 1024 + 1)
			abort();
	}
	buf_free(&why);
	buf_free(&out);
	buf_free(&tmpl);
	return 0;
}
