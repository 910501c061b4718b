/*
 * NAME		tls_ticket - session ticket keys shared by smtpd processes
 * DESCRIPTION	smtpd(8) runs as many processes; with OpenSSL's own,
 *		per-process ticket keys a client could only resume with the
 *		process that issued its ticket.  So the keys live in a file
 *		(normally $data_directory/smtpd_tls_ticket.key, mode 0600):
 *		the current key and the one before it, TLS_TKT_KEYLEN bytes
 *		each (16 bytes key name, 32 bytes AES-256-CBC key, 32 bytes
 *		HMAC-SHA256 key).
 *
 *		tls_ticket_keys_update() runs before the chroot, while still
 *		root: under an exclusive flock on "FILE.lock" it makes a new
 *		key when the file is missing, malformed, or older than the
 *		session time-out, keeps the old current key as the previous
 *		one, and writes the file atomically (temporary file, fsync,
 *		rename).  Processes that race see either file, whole.
 *		tls_ticket_keys_load() reads the file;
 *		tls_ctx_enable_tickets() installs the ticket key callback:
 *		new tickets use the current key, tickets under the previous
 *		key are still accepted (and renewed).
 * SECURITY	The key file is root's, never readable by others; its size
 *		is checked before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "tls.h"
#include "tls_int.h"

#define TLS_TKT_NAMELEN	16
#define TLS_TKT_AESLEN	32
#define TLS_TKT_MACLEN	32
#define TLS_TKT_KEYLEN	(TLS_TKT_NAMELEN + TLS_TKT_AESLEN + TLS_TKT_MACLEN)
#define TLS_TKT_FILELEN	(2 * TLS_TKT_KEYLEN)

static unsigned char tls_tkt_keys[TLS_TKT_FILELEN];
static int tls_tkt_loaded;

/* tls_tkt_read - the key file, when whole; 0, 1 missing/bad, -1 error */
static int
tls_tkt_read(const char *path, unsigned char *out, struct stat *st,
    struct buf *why)
{
	struct buf b = BUF_INIT;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return 1;
		buf_printf(why, "open %s: %m", path);
		return -1;
	}
	if (fstat(fd, st) < 0) {
		buf_printf(why, "fstat %s: %m", path);
		close(fd);
		return -1;
	}
	r = read_fd_all(fd, &b, TLS_TKT_FILELEN + 1);
	close(fd);
	if (r < 0 || b.len != TLS_TKT_FILELEN || !S_ISREG(st->st_mode)) {
		buf_free(&b);
		return 1;
	}
	memcpy(out, b.p, TLS_TKT_FILELEN);
	buf_free(&b);
	return 0;
}

/*
 * tls_ticket_keys_update - make or rotate the key file when it is missing
 * or older than max_age seconds.  0, or -1 with why.
 */
int
tls_ticket_keys_update(const char *path, long max_age, struct buf *why)
{
	unsigned char keys[TLS_TKT_FILELEN];
	struct stat st;
	char *lock = xasprintf("%s.lock", path);
	int lfd, r, rc = -1;

	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		buf_printf(why, "open %s: %m", lock);
		free(lock);
		return -1;
	}
	if (file_flock(lfd, LOCK_EX) < 0) {
		buf_printf(why, "lock %s: %m", lock);
		goto out;
	}
	r = tls_tkt_read(path, keys, &st, why);
	if (r < 0)
		goto out;
	if (r == 0 && st.st_mtime + max_age > time(NULL) &&
	    st.st_mtime <= time(NULL) + 60 && (st.st_mode & 077) == 0) {
		rc = 0;
		goto out;
	}
	/* The current key becomes the previous one. */
	if (r == 0)
		memcpy(keys + TLS_TKT_KEYLEN, keys, TLS_TKT_KEYLEN);
	else
		memset(keys + TLS_TKT_KEYLEN, 0, TLS_TKT_KEYLEN);
	if (RAND_priv_bytes(keys, TLS_TKT_KEYLEN) != 1) {
		buf_puts(why, "cannot make a random ticket key");
		goto out;
	}
	if (file_replace(path, keys, sizeof(keys), 0600) < 0) {
		buf_printf(why, "write %s: %m", path);
		goto out;
	}
	log_info("TLS session ticket key %s %s", path, r == 0 ? "rotated" :
	    "created");
	rc = 0;
out:
	OPENSSL_cleanse(keys, sizeof(keys));
	close(lfd);
	free(lock);
	return rc;
}

/* tls_ticket_keys_load - read the key file; 0 or -1 with why */
int
tls_ticket_keys_load(const char *path, struct buf *why)
{
	struct stat st;
	int r = tls_tkt_read(path, tls_tkt_keys, &st, why);

	if (r > 0)
		buf_printf(why, "%s: missing or malformed", path);
	if (r != 0)
		return -1;
	tls_tkt_loaded = 1;
	return 0;
}

/* tls_tkt_cb - OpenSSL's ticket key callback */
static int
tls_tkt_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	static const unsigned char zero[TLS_TKT_NAMELEN];
	const unsigned char *k = NULL;
	OSSL_PARAM params[3];
	int rc = 1, i;

	(void)ssl;
	if (enc) {
		k = tls_tkt_keys;
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
			return -1;
		memcpy(name, k, TLS_TKT_NAMELEN);
	} else {
		for (i = 0; i < 2; i++) {
			const unsigned char *c = tls_tkt_keys +
			    i * TLS_TKT_KEYLEN;

			if (memcmp(c, zero, TLS_TKT_NAMELEN) != 0 &&
			    memcmp(c, name, TLS_TKT_NAMELEN) == 0) {
				k = c;
				/* Under the previous key: issue a new one. */
				rc = i == 0 ? 1 : 2;
				break;
			}
		}
		if (k == NULL)
			return 0;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)(k + TLS_TKT_NAMELEN + TLS_TKT_AESLEN), TLS_TKT_MACLEN);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	if (enc) {
		if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    k + TLS_TKT_NAMELEN, iv) != 1)
			return -1;
	} else {
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    k + TLS_TKT_NAMELEN, iv) != 1)
			return -1;
	}
	return rc;
}

/* tls_ctx_enable_tickets - use the loaded keys for tickets */
int
tls_ctx_enable_tickets(struct tls_ctx *tc, struct buf *why)
{
	if (!tls_tkt_loaded) {
		buf_puts(why, "no ticket keys loaded");
		return -1;
	}
	if (SSL_CTX_set_tlsext_ticket_key_evp_cb(tc->ctx, tls_tkt_cb) != 1) {
		buf_puts(why, "cannot set the ticket key callback");
		return -1;
	}
	return 0;
}
