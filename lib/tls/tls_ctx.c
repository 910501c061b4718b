/*
 * NAME		tls_ctx - OpenSSL contexts for the SMTP server and client
 * DESCRIPTION	tls_ctx_new() builds one SSL_CTX from main.cf settings:
 *		protocol range (tls_protos_parse()), cipher list (grade less
 *		exclusions), key-exchange groups (tls_eecdh_auto_curves,
 *		unknown names skipped), server cipher preference, DH
 *		parameters (a file, or OpenSSL's automatic choice), keys and
 *		certificate chains (an RSA and an ECDSA pair, and/or chain
 *		files that each hold a key followed by its chain; OpenSSL
 *		picks the one the client's signature algorithms allow), CA
 *		file and directory.  Certificates are never rejected during
 *		the handshake: verification is judged afterwards from its
 *		result (tls_sess.c), so a level that does not need it still
 *		gets its encryption.
 *
 *		With tls_ctx_set_sni(), a server looks up the name a client
 *		sent (SNI) through the daemon's callback and switches to a
 *		context holding that name's key and chain (kept per process,
 *		at most TLS_SNI_CACHE names).
 * SECURITY	Key files are read before the chroot, by root; PEM blocks
 *		that are encrypted are refused rather than prompting.  SNI
 *		names from the network are bounded and checked before any
 *		lookup.
 * SEE ALSO	tls(3), doc/tls.md
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "tls.h"
#include "tls_int.h"

#define TLS_SNI_CACHE	32

static const unsigned char tls_sid[] = "postern-smtpd";

/* tls_lib_init - once per process */
void
tls_lib_init(void)
{
	static int done;

	if (done++)
		return;
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

/* tls_log_errors - log and clear OpenSSL's error queue */
void
tls_log_errors(const char *what)
{
	unsigned long e;
	char text[256];
	int n = 0;

	while ((e = ERR_get_error()) != 0) {
		if (n++ < 10) {
			ERR_error_string_n(e, text, sizeof(text));
			log_warn("%s: TLS library problem: %s", what, text);
		}
	}
}

/* tls_err_text - OpenSSL's first queued error (or fallback), queue cleared */
void
tls_err_text(struct buf *why, const char *fallback)
{
	unsigned long e = ERR_get_error();
	char text[256];

	if (e != 0) {
		const char *r = ERR_reason_error_string(e);

		if (r == NULL) {
			ERR_error_string_n(e, text, sizeof(text));
			r = text;
		}
		buf_puts(why, r);
	} else {
		buf_puts(why, fallback);
	}
	ERR_clear_error();
}

/*
 * tls_ctx_load_chain_pem - load "key, certificate, chain..." groups (one
 * or more) from PEM text into ctx.  0, or -1 with why.
 */
int
tls_ctx_load_chain_pem(void *vctx, const char *pem, size_t len,
    const char *origin, struct buf *why)
{
	SSL_CTX *ctx = vctx;
	BIO *bio;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	int groups = 0, rc = -1, blocks = 0;

	if (len > INT32_MAX) {
		buf_printf(why, "%s: too large", origin);
		return -1;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		buf_printf(why, "%s: out of memory", origin);
		return -1;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		const unsigned char *p;
		long dlen = 0;
		int isKey, r;

		ERR_set_mark();
		r = PEM_read_bio(bio, &name, &header, &data, &dlen);
		if (r <= 0) {
			ERR_pop_to_mark();
			break;
		}
		ERR_clear_last_mark();
		if (++blocks > 100) {
			buf_printf(why, "%s: too many PEM blocks", origin);
			goto free_block;
		}
		if (header != NULL && *header != 0) {
			buf_printf(why, "%s: encrypted PEM blocks are not "
			    "supported", origin);
			goto free_block;
		}
		isKey = strstr(name, "PRIVATE KEY") != NULL;
		p = data;
		if (isKey) {
			/* A new group starts: finish the previous one. */
			if (key != NULL) {
				if (leaf == NULL) {
					buf_printf(why, "%s: private key without "
					    "a certificate", origin);
					goto free_block;
				}
				if (SSL_CTX_use_cert_and_key(ctx, leaf, key,
				    chain, 1) != 1) {
					buf_printf(why, "%s: ", origin);
					tls_err_text(why, "key does not match "
					    "certificate");
					goto free_block;
				}
				groups++;
				EVP_PKEY_free(key);
				X509_free(leaf);
				sk_X509_pop_free(chain, X509_free);
				key = NULL;
				leaf = NULL;
				chain = NULL;
			}
			if ((key = d2i_AutoPrivateKey(NULL, &p, dlen)) ==
			    NULL) {
				buf_printf(why, "%s: bad private key", origin);
				goto free_block;
			}
		} else if (strcmp(name, "CERTIFICATE") == 0 ||
		    strcmp(name, "TRUSTED CERTIFICATE") == 0) {
			X509 *x = d2i_X509(NULL, &p, dlen);

			if (x == NULL) {
				buf_printf(why, "%s: bad certificate", origin);
				goto free_block;
			}
			if (key == NULL) {
				X509_free(x);
				buf_printf(why, "%s: certificate before its "
				    "private key (the key must come first)",
				    origin);
				goto free_block;
			}
			if (leaf == NULL) {
				leaf = x;
			} else {
				if (chain == NULL)
					chain = sk_X509_new_null();
				if (chain == NULL || !sk_X509_push(chain, x)) {
					X509_free(x);
					buf_printf(why, "%s: out of memory",
					    origin);
					goto free_block;
				}
			}
		}
		/* Other blocks (parameters) are ignored. */
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		continue;
free_block:
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		goto out;
	}
	if (key != NULL) {
		if (leaf == NULL) {
			buf_printf(why, "%s: private key without a certificate",
			    origin);
			goto out;
		}
		if (SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) {
			buf_printf(why, "%s: ", origin);
			tls_err_text(why, "key does not match certificate");
			goto out;
		}
		groups++;
	}
	if (groups == 0) {
		buf_printf(why, "%s: no private key and certificate found",
		    origin);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(key);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* tls_load_file - a whole (small) file; 0 or -1 with why */
static int
tls_load_file(const char *path, struct buf *out, struct buf *why)
{
	FILE *fp;
	char chunk[4096];
	size_t n;

	buf_reset(out);
	if ((fp = fopen(path, "re")) == NULL) {
		buf_printf(why, "open %s: %m", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (out->len + n > TLS_B64_MAX) {
			fclose(fp);
			buf_printf(why, "%s: file too large", path);
			return -1;
		}
		buf_put(out, chunk, n);
	}
	if (ferror(fp)) {
		fclose(fp);
		buf_printf(why, "read %s: %m", path);
		return -1;
	}
	fclose(fp);
	buf_str(out);
	return 0;
}

/* tls_ctx_cert_pair - certificate (with chain) and key files */
static int
tls_ctx_cert_pair(SSL_CTX *ctx, const char *cert, const char *key,
    struct buf *why)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		buf_printf(why, "cannot load certificate file %s: ", cert);
		tls_err_text(why, "unknown error");
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, *key ? key : cert,
	    SSL_FILETYPE_PEM) != 1) {
		buf_printf(why, "cannot load private key file %s: ",
		    *key ? key : cert);
		tls_err_text(why, "unknown error");
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		buf_printf(why, "private key %s does not match certificate "
		    "%s", *key ? key : cert, cert);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* tls_ctx_groups - tls_eecdh_auto_curves; unknown names are skipped */
static void
tls_ctx_groups(SSL_CTX *ctx, const char *groups)
{
	struct argv *names = argv_split(groups, SEPARATORS ":");
	struct buf ok = BUF_INIT;
	size_t i;

	for (i = 0; i < names->n && i < TLS_LIST_MAX; i++) {
		const char *g = names->v[i];

		/* Try each alone: one unknown group must not spoil all. */
		if (SSL_CTX_set1_groups_list(ctx, g) != 1) {
			ERR_clear_error();
			log_debug("tls_eecdh_auto_curves: skipping unknown "
			    "group %s", g);
			continue;
		}
		if (ok.len)
			buf_putc(&ok, ':');
		buf_puts(&ok, g);
	}
	if (ok.len == 0 || SSL_CTX_set1_groups_list(ctx, ok.p) != 1) {
		ERR_clear_error();
		if (names->n)
			log_warn("tls_eecdh_auto_curves: no usable group in "
			    "\"%s\"; using OpenSSL's defaults", groups);
		/* Back to the library's list. */
		(void)SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:"
		    "P-521:P-384");
		ERR_clear_error();
	}
	argv_free(names);
	buf_free(&ok);
}

/* tls_verify_any - judge certificates after the handshake, not during */
static int
tls_verify_any(int ok, X509_STORE_CTX *xs)
{
	(void)ok;
	(void)xs;
	return 1;
}

/* tls_info_cb - smtpd/smtp_tls_loglevel >= 2: handshake states */
static void
tls_info_cb(const SSL *ssl, int where, int ret)
{
	const char *side = (where & SSL_ST_CONNECT) ? "SSL_connect" :
	    (where & SSL_ST_ACCEPT) ? "SSL_accept" : "SSL";

	if (where & SSL_CB_LOOP)
		log_info("%s:%s", side, SSL_state_string_long(ssl));
	else if (where & SSL_CB_ALERT)
		log_info("SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ?
		    "read" : "write", SSL_alert_type_string_long(ret),
		    SSL_alert_desc_string_long(ret));
	else if ((where & SSL_CB_EXIT) && ret == 0)
		log_info("%s:failed in %s", side, SSL_state_string_long(ssl));
}

/* tls_ctx_free - release a context and its SNI contexts */
void
tls_ctx_free(struct tls_ctx *tc)
{
	int i;

	if (tc == NULL)
		return;
	for (i = 0; i < tc->sni_n; i++) {
		free(tc->sni[i].name);
		SSL_CTX_free(tc->sni[i].ctx);
	}
	free(tc->sni);
	SSL_CTX_free(tc->ctx);
	buf_free(&tc->ciphers);
	free(tc->fpt_digest);
	free(tc);
}

/* tls_ctx_has_cert - can this (server) context do a handshake? */
int
tls_ctx_has_cert(const struct tls_ctx *tc)
{
	return tc != NULL && tc->has_cert;
}

/* tls_ctx_ssl_ctx - the SSL_CTX beneath */
void *
tls_ctx_ssl_ctx(const struct tls_ctx *tc)
{
	return tc->ctx;
}

/*
 * tls_ctx_opts_init - settings with main.cf's global TLS parameters
 * (tls_*_cipherlist grades, tls_preempt_cipherlist for a server,
 * tls_eecdh_auto_curves, tls_ssl_options); the caller adds its own
 */
void
tls_ctx_opts_init(struct tls_ctx_opts *o, int server)
{
	static struct tls_grades grades;

	grades.list[TLS_GRADE_HIGH] = mail_cfg.tls_high_cipherlist;
	grades.list[TLS_GRADE_MEDIUM] = mail_cfg.tls_medium_cipherlist;
	grades.list[TLS_GRADE_LOW] = mail_cfg.tls_low_cipherlist;
	grades.list[TLS_GRADE_EXPORT] = mail_cfg.tls_export_cipherlist;
	grades.list[TLS_GRADE_NULL] = mail_cfg.tls_null_cipherlist;
	memset(o, 0, sizeof(*o));
	o->server = server;
	o->grades = &grades;
	o->preempt = server && mail_cfg.tls_preempt_cipherlist;
	o->groups = mail_cfg.tls_eecdh_auto_curves;
	o->ssl_options = mail_cfg.tls_ssl_options;
}

/*
 * tls_ctx_new - a context from the settings.  Returns NULL with the reason
 * in why when the settings are unusable.  A server context without any
 * certificate is returned too (tls_ctx_has_cert() says 0) when no
 * certificate was configured; a certificate that fails to load is an
 * error.
 */
struct tls_ctx *
tls_ctx_new(const struct tls_ctx_opts *o, struct buf *why)
{
	struct tls_ctx *tc = xcalloc(1, sizeof(*tc));
	struct tls_protos pr;
	SSL_CTX *ctx;
	uint64_t opts, extra;

	tls_lib_init();
	buf_init(&tc->ciphers);
	tc->server = o->server;
	tc->loglevel = o->loglevel;
	tc->grades = o->grades;
	tc->fpt_digest = xstrdup(o->fpt_digest && *o->fpt_digest ?
	    o->fpt_digest : "sha256");
	if (EVP_get_digestbyname(tc->fpt_digest) == NULL) {
		buf_printf(why, "unknown fingerprint digest \"%s\"",
		    tc->fpt_digest);
		goto bad;
	}
	ctx = SSL_CTX_new(o->server ? TLS_server_method() :
	    TLS_client_method());
	if (ctx == NULL) {
		buf_puts(why, "cannot create TLS context: ");
		tls_err_text(why, "unknown error");
		goto bad;
	}
	tc->ctx = ctx;
	SSL_CTX_set_app_data(ctx, tc);

	if (tls_protos_parse(o->protocols, &pr, why) < 0)
		goto bad;
	if (SSL_CTX_set_min_proto_version(ctx, pr.min) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, pr.max) != 1) {
		buf_puts(why, "cannot set the TLS protocol range");
		goto bad;
	}
	if (tls_ssl_options_parse(o->ssl_options ? o->ssl_options : "",
	    &extra, why) < 0)
		goto bad;
	opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | (uint64_t)pr.no_ops | extra;
	if (o->server && o->preempt)
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

	if (tls_cipherlist(o->grades, o->grade, o->exclude, &tc->ciphers,
	    why) < 0)
		goto bad;
	if (SSL_CTX_set_cipher_list(ctx, tc->ciphers.p) != 1) {
		buf_printf(why, "cipher list \"%s\" leaves no cipher",
		    tc->ciphers.p);
		ERR_clear_error();
		goto bad;
	}
	tls_ctx_groups(ctx, o->groups ? o->groups : "");
	if (o->loglevel >= 2)
		SSL_CTX_set_info_callback(ctx, tls_info_cb);

	if ((o->CAfile && *o->CAfile) || (o->CApath && *o->CApath)) {
		if (SSL_CTX_load_verify_locations(ctx, o->CAfile &&
		    *o->CAfile ? o->CAfile : NULL, o->CApath && *o->CApath ?
		    o->CApath : NULL) != 1) {
			buf_printf(why, "cannot load CA locations (CAfile "
			    "\"%s\", CApath \"%s\"): ", o->CAfile ? o->CAfile :
			    "", o->CApath ? o->CApath : "");
			tls_err_text(why, "unknown error");
			goto bad;
		}
	}

	if (o->server) {
		if (o->dh_file && *o->dh_file) {
			BIO *b = BIO_new_file(o->dh_file, "r");
			EVP_PKEY *dh = b ? PEM_read_bio_Parameters(b, NULL) :
			    NULL;

			BIO_free(b);
			if (dh == NULL || SSL_CTX_set0_tmp_dh_pkey(ctx,
			    dh) != 1) {
				EVP_PKEY_free(dh);
				buf_printf(why, "cannot load DH parameters "
				    "from %s", o->dh_file);
				ERR_clear_error();
				goto bad;
			}
		} else {
			SSL_CTX_set_dh_auto(ctx, 1);
		}
		SSL_CTX_set_session_id_context(ctx, tls_sid,
		    sizeof(tls_sid) - 1);
		SSL_CTX_set_timeout(ctx, o->session_timeout > 0 ?
		    o->session_timeout : 3600);
		/* Stateless tickets only: processes share no cache. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		if (o->ask_ccert) {
			SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			    SSL_VERIFY_CLIENT_ONCE, tls_verify_any);
			if (o->CAfile && *o->CAfile) {
				STACK_OF(X509_NAME) *names =
				    SSL_load_client_CA_file(o->CAfile);

				if (names != NULL)
					SSL_CTX_set_client_CA_list(ctx, names);
				ERR_clear_error();
			}
		} else {
			SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}

	/* Keys and chains. */
	if (o->cert_file && *o->cert_file) {
		if (tls_ctx_cert_pair(ctx, o->cert_file, o->key_file ?
		    o->key_file : "", why) < 0)
			goto bad;
		tc->has_cert = 1;
	}
	if (o->eccert_file && *o->eccert_file) {
		if (tls_ctx_cert_pair(ctx, o->eccert_file, o->eckey_file ?
		    o->eckey_file : "", why) < 0)
			goto bad;
		tc->has_cert = 1;
	}
	if (o->chain_files && *o->chain_files) {
		struct argv *files = argv_split(o->chain_files, SEPARATORS);
		struct buf pem = BUF_INIT;
		size_t i;
		int r = 0;

		for (i = 0; i < files->n && r == 0; i++) {
			r = tls_load_file(files->v[i], &pem, why);
			if (r == 0)
				r = tls_ctx_load_chain_pem(ctx, pem.p, pem.len,
				    files->v[i], why);
		}
		argv_free(files);
		buf_free(&pem);
		if (r < 0)
			goto bad;
		tc->has_cert = 1;
	}
	return tc;
bad:
	tls_ctx_free(tc);
	return NULL;
}

/* tls_sni_name_ok - a host name we may look up */
static int
tls_sni_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return 0;
	}
	return 1;
}

/* tls_sni_cb - switch to the context of the name the client asked for */
static int
tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_ctx *tc = arg;
	const char *sn = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct buf value = BUF_INIT, why = BUF_INIT, pem = BUF_INIT;
	SSL_CTX *nctx = NULL;
	char name[256];
	int i, r;

	(void)alert;
	if (sn == NULL || *sn == 0)
		return SSL_TLSEXT_ERR_NOACK;
	if (!tls_sni_name_ok(sn)) {
		log_warn("TLS SNI: bad server name from client: \"%.100s\"",
		    sn);
		return SSL_TLSEXT_ERR_NOACK;
	}
	strlcpy_trunc(name, sn, sizeof(name));
	str_lower(name);
	for (i = 0; i < tc->sni_n; i++) {
		if (strcmp(tc->sni[i].name, name) == 0) {
			if (tc->sni[i].ctx != NULL)
				SSL_set_SSL_CTX(ssl, tc->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	r = tc->sni_lookup(name, &value, &why);
	if (r < 0) {
		log_warn("TLS SNI: tls_server_sni_maps lookup of %s failed: "
		    "%s", name, buf_str(&why));
		goto fatal;
	}
	if (r > 0) {
		if (tls_sni_value(value.p, value.len, &pem, &why) < 0) {
			log_warn("TLS SNI: tls_server_sni_maps entry for %s: "
			    "%s", name, buf_str(&why));
			goto fatal;
		}
		if ((nctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_set_session_id_context(nctx, tls_sid,
		    sizeof(tls_sid) - 1) != 1 ||
		    tls_ctx_load_chain_pem(nctx, pem.p, pem.len, name,
		    &why) < 0) {
			log_warn("TLS SNI: tls_server_sni_maps entry for %s: "
			    "%s", name, buf_str(&why));
			SSL_CTX_free(nctx);
			goto fatal;
		}
	}
	/* Remember the answer, found or not. */
	if (tc->sni_n < TLS_SNI_CACHE) {
		if (tc->sni == NULL)
			tc->sni = xcalloc(TLS_SNI_CACHE, sizeof(*tc->sni));
		tc->sni[tc->sni_n].name = xstrdup(name);
		tc->sni[tc->sni_n].ctx = nctx;
		tc->sni_n++;
		if (nctx)
			SSL_set_SSL_CTX(ssl, nctx);
	} else if (nctx) {
		SSL_set_SSL_CTX(ssl, nctx);
		/* SSL_set_SSL_CTX() took a reference. */
		SSL_CTX_free(nctx);
	}
	buf_free(&value);
	buf_free(&why);
	buf_free(&pem);
	return SSL_TLSEXT_ERR_OK;
fatal:
	buf_free(&value);
	buf_free(&why);
	buf_free(&pem);
	*alert = SSL_AD_INTERNAL_ERROR;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* tls_ctx_set_sni - look up client-sent names through fn */
void
tls_ctx_set_sni(struct tls_ctx *tc, tls_sni_lookup_fn fn)
{
	tc->sni_lookup = fn;
	SSL_CTX_set_tlsext_servername_callback(tc->ctx, tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(tc->ctx, tc);
}
