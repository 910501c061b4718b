/*
 * NAME		tls_b64 - base64 for tls_server_sni_maps values
 * DESCRIPTION	"postmap -F" stores, for each server name, the base64 of the
 *		concatenated PEM files (a private key, then its certificate
 *		chain) so that a chrooted smtpd(8) finds them in the table.
 *		tls_b64_encode() writes that form; tls_b64_decode() reads it
 *		strictly (RFC 4648 alphabet, "=" padding only at the end, no
 *		white space, no data after the padding).  tls_sni_value()
 *		decodes a table value and checks that it is PEM text.
 * SECURITY	Table values are not trusted: the input length is bounded
 *		(TLS_B64_MAX) and every byte is checked.
 */
#include <string.h>

#include "tls.h"

static const char tls_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* tls_b64_encode - append the base64 of p[0..n) to out */
void
tls_b64_encode(const void *data, size_t n, struct buf *out)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		buf_putc(out, tls_b64_chars[p[i] >> 2]);
		buf_putc(out, tls_b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_putc(out, tls_b64_chars[((p[i + 1] & 15) << 2) |
		    (p[i + 2] >> 6)]);
		buf_putc(out, tls_b64_chars[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		buf_putc(out, tls_b64_chars[p[i] >> 2]);
		buf_putc(out, tls_b64_chars[(p[i] & 3) << 4]);
		buf_puts(out, "==");
	} else if (n - i == 2) {
		buf_putc(out, tls_b64_chars[p[i] >> 2]);
		buf_putc(out, tls_b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		buf_putc(out, tls_b64_chars[(p[i + 1] & 15) << 2]);
		buf_putc(out, '=');
	}
	buf_str(out);
}

/* tls_b64_val - the 6-bit value of c, or -1 */
static int
tls_b64_val(unsigned char c)
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
 * tls_b64_decode - decode in[0..len) into out (replacing it).  0, or -1
 * with the reason in why.
 */
int
tls_b64_decode(const char *in, size_t len, struct buf *out, struct buf *why)
{
	size_t i, pad = 0;
	unsigned acc = 0;
	int bits = 0;

	buf_reset(out);
	if (len > TLS_B64_MAX) {
		buf_printf(why, "base64 value too long");
		return -1;
	}
	if (len == 0 || len % 4 != 0) {
		buf_printf(why, "base64 value has a bad length");
		return -1;
	}
	if (in[len - 1] == '=') {
		pad++;
		if (in[len - 2] == '=')
			pad++;
	}
	for (i = 0; i < len - pad; i++) {
		int v = tls_b64_val((unsigned char)in[i]);

		if (v < 0) {
			buf_printf(why, "bad base64 character at offset %zu",
			    i);
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (int)((acc >> bits) & 0xff));
		}
	}
	/* Left-over bits must be zero (canonical encoding). */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		buf_printf(why, "non-canonical base64 padding");
		return -1;
	}
	buf_str(out);
	return 0;
}

/*
 * tls_sni_value - a tls_server_sni_maps value into PEM text: 0, or -1
 * when it is not base64 of PEM (why says so)
 */
int
tls_sni_value(const char *in, size_t len, struct buf *pem, struct buf *why)
{
	static const char begin[] = "-----BEGIN ";
	struct buf err = BUF_INIT;

	if (tls_b64_decode(in, len, pem, &err) < 0) {
		buf_printf(why, "value is not base64 (was the table built "
		    "with \"postmap -F\"?): %s", buf_str(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	if (memchr(pem->p, 0, pem->len) != NULL ||
	    pem->len < sizeof(begin) - 1 || memmem(pem->p, pem->len, begin,
	    sizeof(begin) - 1) == NULL) {
		buf_reset(why);
		buf_printf(why, "value is not PEM text (was the table built "
		    "with \"postmap -F\"?)");
		return -1;
	}
	return 0;
}
