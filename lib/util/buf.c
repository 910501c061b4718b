/*
 * NAME		buf - growable byte buffer
 * DESCRIPTION	A buffer grows geometrically and is always NUL-terminated
 *		after its length, so that buf_str() is free.  Embedded NUL
 *		bytes are allowed: length is the truth.
 * SEE ALSO	mem(3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

/* buf_init - make an empty buffer */
void
buf_init(struct buf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
}

/* buf_free - release storage; the buffer may be reused after buf_init */
void
buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b);
}

/* buf_reset - empty the buffer, keep storage */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

/* buf_reserve - make room for n more bytes plus the terminator */
void
buf_reserve(struct buf *b, size_t n)
{
	size_t need = xadd(xadd(b->len, n), 1);
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = xmul(cap, 2);
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

/* buf_put - append bytes */
void
buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

/* buf_puts - append a string */
void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* buf_putc - append one byte */
void
buf_putc(struct buf *b, int c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = (char)c;
	b->p[b->len] = 0;
}

/* buf_set - replace the content */
void
buf_set(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	buf_put(b, p, n);
}

/* buf_sets - replace the content with a string */
void
buf_sets(struct buf *b, const char *s)
{
	buf_set(b, s, strlen(s));
}

/* buf_vprintf - append formatted text */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	buf_reserve(b, 128);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	if (n < 0)
		log_panic("buf_vprintf: bad format");
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		(void)vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
	}
	va_end(ap2);
	b->len += (size_t)n;
}

/* buf_printf - append formatted text */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* buf_truncate - shorten to n bytes */
void
buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->p[n] = 0;
	}
}

/* buf_consume - drop n bytes from the front */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
	b->p[b->len] = 0;
}

/* buf_str - the content as a C string (never NULL) */
const char *
buf_str(struct buf *b)
{
	if (b->p == NULL)
		buf_reserve(b, 0), b->p[0] = 0;
	return b->p;
}

/* buf_steal - take ownership of the storage; caller frees */
char *
buf_steal(struct buf *b)
{
	char *p;

	(void)buf_str(b);
	p = b->p;
	buf_init(b);
	return p;
}
