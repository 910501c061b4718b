/*
 * NAME		tls_sess - what a finished handshake established
 * DESCRIPTION	tls_sess_describe() records the protocol, cipher and its
 *		bits, the key exchange group, the server's signature and
 *		digest, the peer certificate's subject and issuer common
 *		names and fingerprint, whether its chain verified against
 *		our CAs and whether it matched one of the names a client
 *		wanted (match list: a name, or ".domain" for any name below
 *		domain), and from that the trust level:
 *
 *		    Anonymous	no peer certificate
 *		    Untrusted	a certificate whose chain did not verify
 *		    Trusted	chain verified, no name matched (or none
 *				was asked for)
 *		    Verified	chain verified and a wanted name matched
 *
 *		tls_sess_summary() writes the text of Postfix's log line
 *		("TLSv1.3 with cipher X (256/256 bits) key-exchange ...");
 *		tls_sess_received() the comment for the Received: header.
 * SECURITY	Certificate names are peer data: converted to UTF-8, cut to
 *		a bound, and anything unprintable is replaced.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/strutil.h"
#include "tls.h"
#include "tls_int.h"

/* tls_name_cn - the printable common name of a certificate name */
static void
tls_name_cn(const X509_NAME *xn, char *out, size_t len)
{
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	int idx, n;
	size_t i;

	out[0] = 0;
	if (xn == NULL ||
	    (idx = X509_NAME_get_index_by_NID(xn, NID_commonName, -1)) < 0 ||
	    (e = X509_NAME_get_entry(xn, idx)) == NULL)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (n < 0)
		return;
	for (i = 0; i < (size_t)n && i + 1 < len; i++) {
		unsigned char c = utf8[i];

		out[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ?
		    '?' : (char)c;
	}
	out[i] = 0;
	OPENSSL_free(utf8);
}

/* tls_pkey_name - "X25519", "secp384r1", "DHE (2048 bits)" */
static void
tls_pkey_kex(EVP_PKEY *k, char *out, size_t len)
{
	char group[64];
	size_t glen = 0;

	out[0] = 0;
	if (k == NULL)
		return;
	switch (EVP_PKEY_get_id(k)) {
	case EVP_PKEY_X25519:
		snprintf(out, len, "X25519");
		break;
	case EVP_PKEY_X448:
		snprintf(out, len, "X448");
		break;
	case EVP_PKEY_DH:
		snprintf(out, len, "DHE (%d bits)", EVP_PKEY_get_bits(k));
		break;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(k, group, sizeof(group),
		    &glen) == 1)
			snprintf(out, len, "%s", group);
		break;
	default:
		snprintf(out, len, "%s", EVP_PKEY_get0_type_name(k) ?
		    EVP_PKEY_get0_type_name(k) : "");
		break;
	}
	ERR_clear_error();
}

/* tls_sig_name - the name of a signature type NID */
static const char *
tls_sig_name(int nid)
{
	switch (nid) {
	case EVP_PKEY_RSA:
		return "RSA";
	case EVP_PKEY_RSA_PSS:
		return "RSA-PSS";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_ED25519:
		return "ED25519";
	case EVP_PKEY_ED448:
		return "ED448";
	default:
		return OBJ_nid2sn(nid);
	}
}

/* tls_name_match - does cert carry one of the wanted names? */
static int
tls_name_match(X509 *cert, const struct argv *match)
{
	size_t i;

	for (i = 0; match && i < match->n; i++) {
		const char *m = match->v[i];

		if (*m == 0)
			continue;
		/* A leading dot: any name below that domain. */
		if (X509_check_host(cert, m, 0,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
			return 1;
		if (X509_check_ip_asc(cert, m, 0) == 1)
			return 1;
	}
	ERR_clear_error();
	return 0;
}

/* tls_fpt_hex - "AB:CD:..." of a digest, as Postfix writes it */
void
tls_fpt_hex(const unsigned char *md, size_t mdlen, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < mdlen && o + (i ? 3 : 2) < len; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 15];
	}
	if (len)
		out[o] = 0;
}

/*
 * tls_fingerprints - digests of the certificate (DER) and of its public
 * key (the DER SubjectPublicKeyInfo, which stays the same when a
 * certificate is renewed with the same key)
 */
static void
tls_fingerprints(X509 *cert, const EVP_MD *d, struct tls_sess *ts)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned mdlen = 0;
	int n;

	if (X509_digest(cert, d, md, &mdlen) == 1)
		tls_fpt_hex(md, mdlen, ts->peer_fpt, sizeof(ts->peer_fpt));
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, d, NULL) == 1)
		tls_fpt_hex(md, mdlen, ts->peer_pkey_fpt,
		    sizeof(ts->peer_pkey_fpt));
	OPENSSL_free(der);
	ERR_clear_error();
}

/* tls_sess_describe - fill ts from the finished handshake */
void
tls_sess_describe(struct tls_ctx *tc, struct tls_sess *ts,
    const struct argv *match)
{
	SSL *ssl = ts->ssl;
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	X509 *peer = SSL_get1_peer_certificate(ssl);
	X509 *own = SSL_get_certificate(ssl);
	EVP_PKEY *tmp = NULL;
	int nid;

	snprintf(ts->protocol, sizeof(ts->protocol), "%s",
	    SSL_get_version(ssl));
	snprintf(ts->cipher, sizeof(ts->cipher), "%s", c ?
	    SSL_CIPHER_get_name(c) : "unknown");
	ts->bits = c ? SSL_CIPHER_get_bits(c, &ts->alg_bits) : 0;
	ts->reused = SSL_session_reused(ssl);

	if (ts->server ? SSL_get_tmp_key(ssl, &tmp) == 1 :
	    SSL_get_peer_tmp_key(ssl, &tmp) == 1) {
		tls_pkey_kex(tmp, ts->kex, sizeof(ts->kex));
		EVP_PKEY_free(tmp);
	}
	/* The server's signature: ours on the server, the peer's here. */
	if ((ts->server ? SSL_get_signature_type_nid(ssl, &nid) :
	    SSL_get_peer_signature_type_nid(ssl, &nid)) == 1) {
		X509 *sc = ts->server ? own : peer;
		EVP_PKEY *pk = sc ? X509_get0_pubkey(sc) : NULL;
		const char *sn = tls_sig_name(nid);

		if (sn && pk)
			snprintf(ts->sig, sizeof(ts->sig), "%s (%d bits)", sn,
			    EVP_PKEY_get_bits(pk));
		else if (sn)
			snprintf(ts->sig, sizeof(ts->sig), "%s", sn);
	}
	if ((ts->server ? SSL_get_signature_nid(ssl, &nid) :
	    SSL_get_peer_signature_nid(ssl, &nid)) == 1 && nid != NID_undef &&
	    OBJ_nid2sn(nid))
		snprintf(ts->digest, sizeof(ts->digest), "%s", OBJ_nid2sn(nid));
	ERR_clear_error();

	if (peer != NULL) {
		const EVP_MD *d = EVP_get_digestbyname(tc->fpt_digest);

		ts->peer_cert = 1;
		tls_name_cn(X509_get_subject_name(peer), ts->peer_cn,
		    sizeof(ts->peer_cn));
		tls_name_cn(X509_get_issuer_name(peer), ts->issuer_cn,
		    sizeof(ts->issuer_cn));
		ts->verify_err = SSL_get_verify_result(ssl);
		ts->chain_ok = ts->verify_err == X509_V_OK;
		if (d != NULL)
			tls_fingerprints(peer, d, ts);
		if (ts->chain_ok && match != NULL)
			ts->name_ok = tls_name_match(peer, match);
		X509_free(peer);
	}
	if (!ts->peer_cert)
		ts->trust = TLS_TRUST_ANON;
	else if (!ts->chain_ok)
		ts->trust = TLS_TRUST_UNTRUSTED;
	else if (ts->name_ok)
		ts->trust = TLS_TRUST_VERIFIED;
	else
		ts->trust = TLS_TRUST_TRUSTED;
	ERR_clear_error();
}

/* tls_trust_name - "Anonymous", "Untrusted", "Trusted", "Verified" */
const char *
tls_trust_name(int trust)
{
	switch (trust) {
	case TLS_TRUST_ANON:
		return "Anonymous";
	case TLS_TRUST_UNTRUSTED:
		return "Untrusted";
	case TLS_TRUST_TRUSTED:
		return "Trusted";
	default:
		return "Verified";
	}
}

/* tls_sess_details - key-exchange, signature and digest, or nothing */
static void
tls_sess_details(const struct tls_sess *ts, const char *sep, struct buf *out)
{
	if (ts->kex[0])
		buf_printf(out, "%skey-exchange %s", sep, ts->kex);
	if (ts->sig[0])
		buf_printf(out, " server-signature %s", ts->sig);
	if (ts->digest[0])
		buf_printf(out, " server-digest %s", ts->digest);
}

/*
 * tls_sess_summary - "TLSv1.3 with cipher X (256/256 bits) key-exchange
 * X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
 */
void
tls_sess_summary(const struct tls_sess *ts, struct buf *out)
{
	buf_printf(out, "%s with cipher %s (%d/%d bits)", ts->protocol,
	    ts->cipher, ts->bits, ts->alg_bits);
	tls_sess_details(ts, " ", out);
}

/*
 * tls_sess_peer - the peer certificate's names and fingerprints, for the
 * log at level 2: "subject_CN=a, issuer_CN=b, fingerprint=AB:..,
 * pkey_fingerprint=CD:.."
 */
void
tls_sess_peer(const struct tls_sess *ts, struct buf *out)
{
	buf_printf(out, "subject_CN=%s, issuer_CN=%s, fingerprint=%s, "
	    "pkey_fingerprint=%s", ts->peer_cn, ts->issuer_cn, ts->peer_fpt,
	    ts->peer_pkey_fpt);
}

/*
 * tls_sess_received - the Received: header comment of a server session;
 * asked: the server requested a client certificate.  Lines are
 * separated by "\n\t" (header continuation lines).
 */
void
tls_sess_received(const struct tls_sess *ts, int asked, struct buf *out)
{
	buf_printf(out, "(using %s with cipher %s (%d/%d bits)", ts->protocol,
	    ts->cipher, ts->bits, ts->alg_bits);
	if (ts->kex[0] || ts->sig[0] || ts->digest[0])
		tls_sess_details(ts, "\n\t ", out);
	buf_puts(out, ")\n\t");
	if (!asked)
		buf_puts(out, "(No client certificate requested)");
	else if (!ts->peer_cert)
		buf_puts(out, "(Client did not present a certificate)");
	else
		buf_printf(out, "(Client CN \"%s\", Issuer \"%s\" (%s))",
		    ts->peer_cn, ts->issuer_cn, ts->chain_ok ? "verified OK" :
		    "not verified");
}
