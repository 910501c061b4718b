/*
 * NAME		buf - growable byte buffer
 * DESCRIPTION	One buffer type for all strings and byte data.  The length
 *		is the truth; the buffer is kept NUL-terminated (p[len] == 0)
 *		as a convenience for C string functions.
 */
#ifndef UTIL_BUF_H
#define UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT	{ NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_reserve(struct buf *, size_t);
void	 buf_put(struct buf *, const void *, size_t);
void	 buf_puts(struct buf *, const char *);
void	 buf_putc(struct buf *, int);
void	 buf_set(struct buf *, const void *, size_t);
void	 buf_sets(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t);
void	 buf_consume(struct buf *, size_t);
const char *buf_str(struct buf *);
char	*buf_steal(struct buf *);

#endif
