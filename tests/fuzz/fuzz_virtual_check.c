/*
 * NAME		fuzz_virtual_check - libFuzzer target for virtual(8) table
 *		values
 * DESCRIPTION	Table values (from hash files, LDAP or SQL) reach
 *		virtual(8) as mailbox paths, uids, gids and size limits.  The
 *		input, cut at its first NUL byte, is read as each of them; a
 *		path that is accepted must start with the base, stay within
 *		VIRTUAL_PATH_MAX and have no ".." component or control
 *		character; parsed numbers must be within their bounds.
 *		virtual(8) is a program, not a library, so its check.c is
 *		compiled into this target directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../virtual/check.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_path - the invariants of an accepted path */
static void
check_path(const char *base, const struct buf *out)
{
	const char *p = buf_str((struct buf *)out);
	size_t i;

	if (out->len > VIRTUAL_PATH_MAX || strlen(p) != out->len ||
	    strncmp(p, base, strlen(base)) != 0 || p[0] != '/')
		abort();
	if (strstr(p, "/../") != NULL || (out->len >= 3 &&
	    strcmp(p + out->len - 3, "/..") == 0))
		abort();
	for (i = 0; i < out->len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	unsigned long id;
	off_t limit;
	int md;

	buf_put(&in, (const char *)data, size);
	buf_str(&in);
	if (virtual_path("/var/vmail", in.p, &out, &md, &why) == 0)
		check_path("/var/vmail/", &out);
	if (virtual_path("", in.p, &out, &md, &why) == 0)
		check_path("/", &out);
	if (virtual_parse_id(in.p, &id) == 0 && id >= 4294967295UL)
		abort();
	if (virtual_parse_limit(in.p, &limit) == 0 && limit < 0)
		abort();
	buf_free(&in);
	buf_free(&out);
	buf_free(&why);
	return 0;
}
