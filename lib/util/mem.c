/*
 * NAME		mem - memory allocation that never returns NULL
 * DESCRIPTION	Every allocation in Postern goes through these wrappers.
 *		Exhaustion and size overflow are bugs or resource exhaustion
 *		that no caller can recover from: log_panic() aborts.
 * SECURITY	Sizes are checked with __builtin_*_overflow before use.
 * SEE ALSO	buf(3)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"

/* xadd - add sizes, panic on overflow */
size_t
xadd(size_t a, size_t b)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r))
		log_panic("size overflow: %zu + %zu", a, b);
	return r;
}

/* xmul - multiply sizes, panic on overflow */
size_t
xmul(size_t a, size_t b)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r))
		log_panic("size overflow: %zu * %zu", a, b);
	return r;
}

/* xmalloc - allocate or die */
void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		log_panic("out of memory allocating %zu bytes", n);
	return p;
}

/* xcalloc - allocate zeroed memory or die */
void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	(void)xmul(n, sz);
	if ((p = calloc(n ? n : 1, sz ? sz : 1)) == NULL)
		log_panic("out of memory allocating %zu*%zu bytes", n, sz);
	return p;
}

/* xrealloc - resize or die */
void *
xrealloc(void *old, size_t n)
{
	void *p;

	if ((p = realloc(old, n ? n : 1)) == NULL)
		log_panic("out of memory reallocating %zu bytes", n);
	return p;
}

/* xreallocarray - resize an array, checking the product */
void *
xreallocarray(void *old, size_t n, size_t sz)
{
	return xrealloc(old, xmul(n, sz));
}

/* xmallocarray - allocate an array, checking the product */
void *
xmallocarray(size_t n, size_t sz)
{
	return xmalloc(xmul(n, sz));
}

/* xstrdup - copy a string */
char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

/* xstrndup - copy at most n bytes of a string, always terminated */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(xadd(len, 1));

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

/* xmemdup - copy bytes */
void *
xmemdup(const void *s, size_t n)
{
	void *p = xmalloc(n);

	if (n)
		memcpy(p, s, n);
	return p;
}

/* xasprintf - formatted allocation; caller frees */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		log_panic("xasprintf: bad format");
	p = xmalloc((size_t)n + 1);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
