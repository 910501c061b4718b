/*
 * NAME		argv - growable NULL-terminated string arrays
 * DESCRIPTION	Each element is owned by the array.  argv_split() tokenizes
 *		a copy of its input on a set of separator characters.  A
 *		zeroed struct argv, like one after argv_clear(), is a valid
 *		empty array (its v is NULL until the first element).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "buf.h"
#include "mem.h"
#include "strutil.h"

/* argv_init - make an empty array in caller storage */
void
argv_init(struct argv *a)
{
	a->cap = 8;
	a->n = 0;
	a->v = xcalloc(a->cap, sizeof(char *));
}

/* argv_new - allocate an empty array; free with argv_free */
struct argv *
argv_new(void)
{
	struct argv *a = xmalloc(sizeof(*a));

	argv_init(a);
	return a;
}

/* argv_addn - append a copy of len bytes */
void
argv_addn(struct argv *a, const char *s, size_t len)
{
	if (a->n + 1 >= a->cap) {
		/* A cleared or zeroed array has no storage yet. */
		a->cap = a->cap ? xmul(a->cap, 2) : 8;
		a->v = xreallocarray(a->v, a->cap, sizeof(char *));
	}
	a->v[a->n++] = xstrndup(s, len);
	a->v[a->n] = NULL;
}

/* argv_add - append a copy of a string */
void
argv_add(struct argv *a, const char *s)
{
	argv_addn(a, s, strlen(s));
}

/* argv_addf - append formatted text */
void
argv_addf(struct argv *a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	argv_add(a, buf_str(&b));
	buf_free(&b);
}

/* argv_truncate - keep the first n elements */
void
argv_truncate(struct argv *a, size_t n)
{
	while (a->n > n)
		free(a->v[--a->n]);
	if (a->v)
		a->v[a->n] = NULL;
}

/* argv_clear - free elements and storage of a caller-owned array */
void
argv_clear(struct argv *a)
{
	if (a->v == NULL)
		return;
	argv_truncate(a, 0);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* argv_free - free an array made by argv_new or argv_split */
void
argv_free(struct argv *a)
{
	if (a == NULL)
		return;
	argv_clear(a);
	free(a);
}

/* argv_split - split a copy of s on separator characters */
struct argv *
argv_split(const char *s, const char *sep)
{
	struct argv *a = argv_new();
	char *copy = xstrdup(s), *cp = copy, *tok;

	while ((tok = str_token(&cp, sep)) != NULL)
		argv_add(a, tok);
	free(copy);
	return a;
}

/* argv_find - index of an element equal to s, or -1 */
int
argv_find(const struct argv *a, const char *s)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], s) == 0)
			return (int)i;
	return -1;
}

/* argv_uniq - drop later duplicates, keeping order */
void
argv_uniq(struct argv *a)
{
	size_t i, j, k;

	for (i = 0; i < a->n; i++) {
		for (j = k = i + 1; j < a->n; j++) {
			if (strcmp(a->v[i], a->v[j]) == 0)
				free(a->v[j]);
			else
				a->v[k++] = a->v[j];
		}
		a->n = k;
		a->v[a->n] = NULL;
	}
}
