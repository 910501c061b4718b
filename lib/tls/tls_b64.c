/*
 * NAME		tls_b64 - tls_server_sni_maps values
 * DESCRIPTION	"postmap -F" stores, for each server name, the base64 of the
 *		concatenated PEM files (a private key, then its certificate
 *		chain) so that a chrooted smtpd(8) finds them in the table.
 *		tls_sni_value() decodes such a value with the strict base64
 *		of lib/util/base64 and checks that it is PEM text.
 * SECURITY	Table values are not trusted: the decoded size is bounded
 *		(TLS_B64_MAX) and every byte is checked.
 */
#include <string.h>

#include "util/base64.h"
#include "tls.h"

/*
 * tls_sni_value - a tls_server_sni_maps value into PEM text: 0, or -1
 * when it is not base64 of PEM (why says so)
 */
int
tls_sni_value(const char *in, size_t len, struct buf *pem, struct buf *why)
{
	static const char begin[] = "-----BEGIN ";

	if (base64_decode(in, len, TLS_B64_MAX, pem) < 0) {
		buf_printf(why, "value is not base64 (was the table built "
		    "with \"postmap -F\"?)");
		return -1;
	}
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
