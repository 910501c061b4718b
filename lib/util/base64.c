/*
 * NAME		base64 - RFC 4648 base64, strict and bounded
 * DESCRIPTION	See base64.h.  The decoder checks everything before it
 *		writes: the output holds either the whole decoded string or
 *		nothing useful (it is reset on error).
 * SECURITY	Input is the network's (SMTP AUTH responses, Dovecot auth
 *		server challenges); every length is checked against the
 *		caller's bound before any allocation.
 */
#include <string.h>

#include "base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64_encode - append the padded encoding of p[0..len) to out */
void
base64_encode(const void *p, size_t len, struct buf *out)
{
	const unsigned char *s = p;
	size_t i;

	buf_reserve(out, len / 3 * 4 + 5);
	for (i = 0; i + 2 < len; i += 3) {
		buf_putc(out, b64_alphabet[s[i] >> 2]);
		buf_putc(out, b64_alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		buf_putc(out, b64_alphabet[((s[i + 1] & 15) << 2) |
		    (s[i + 2] >> 6)]);
		buf_putc(out, b64_alphabet[s[i + 2] & 63]);
	}
	if (len - i == 1) {
		buf_putc(out, b64_alphabet[s[i] >> 2]);
		buf_putc(out, b64_alphabet[(s[i] & 3) << 4]);
		buf_puts(out, "==");
	} else if (len - i == 2) {
		buf_putc(out, b64_alphabet[s[i] >> 2]);
		buf_putc(out, b64_alphabet[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		buf_putc(out, b64_alphabet[(s[i + 1] & 15) << 2]);
		buf_putc(out, '=');
	}
	buf_put(out, "", 0);		/* terminate, even when empty */
}

/* b64_value - the 6-bit value of an alphabet character, or -1 */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * base64_decode - decode in[0..len) into out (replacing its contents).
 * Returns 0, or -1 when the input is not canonical padded base64 or
 * would decode to more than max bytes.
 */
int
base64_decode(const char *in, size_t len, size_t max, struct buf *out)
{
	size_t i, pad = 0, outlen;

	buf_reset(out);
	if (len % 4 != 0)
		return -1;
	if (len > 0 && in[len - 1] == '=')
		pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
	outlen = len / 4 * 3 - pad;
	if (outlen > max)
		return -1;
	for (i = 0; i < len - pad; i++)
		if (b64_value((unsigned char)in[i]) < 0)
			return -1;
	buf_reserve(out, outlen + 1);
	for (i = 0; i < len; i += 4) {
		int a = b64_value((unsigned char)in[i]);
		int b = b64_value((unsigned char)in[i + 1]);
		int c = in[i + 2] == '=' ? 0 : b64_value((unsigned char)in[i + 2]);
		int d = in[i + 3] == '=' ? 0 : b64_value((unsigned char)in[i + 3]);

		/* "=" only in the last group (pad counts it), b never. */
		if (i + 4 < len && (in[i + 2] == '=' || in[i + 3] == '='))
			return (buf_reset(out), -1);
		if (in[i + 2] == '=' && in[i + 3] != '=')
			return (buf_reset(out), -1);
		buf_putc(out, (a << 2) | (b >> 4));
		if (in[i + 2] == '=') {
			if (b & 15)		/* unused bits must be zero */
				return (buf_reset(out), -1);
			break;
		}
		buf_putc(out, ((b & 15) << 4) | (c >> 2));
		if (in[i + 3] == '=') {
			if (c & 3)
				return (buf_reset(out), -1);
			break;
		}
		buf_putc(out, ((c & 3) << 6) | d);
	}
	if (out->len != outlen)
		return (buf_reset(out), -1);
	buf_put(out, "", 0);		/* terminate, even when empty */
	return 0;
}
