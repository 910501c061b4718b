/*
 * NAME		base64 - RFC 4648 base64, strict and bounded
 * DESCRIPTION	base64_encode() appends the padded encoding of a byte
 *		string to a buffer.  base64_decode() accepts only the
 *		canonical padded form: a length that is a multiple of 4,
 *		the standard alphabet, "=" only as the last one or two
 *		characters, zero unused bits in the last group, no white
 *		space; it refuses (instead of truncating) input whose
 *		decoded form would exceed a caller's maximum.  Used for SMTP
 *		AUTH (RFC 4954) exchanges.
 */
#ifndef UTIL_BASE64_H
#define UTIL_BASE64_H

#include <stddef.h>

#include "buf.h"

void	 base64_encode(const void *, size_t, struct buf *);
int	 base64_decode(const char *, size_t, size_t, struct buf *);

#endif
