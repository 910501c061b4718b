/*
 * NAME		sasl_client - SASL client side over Cyrus SASL
 * DESCRIPTION	sasl_clnt_init() initializes the Cyrus client library once
 *		per process; call it before the chroot, because that is when
 *		Cyrus loads its mechanism plugins.  sasl_clnt_done() releases
 *		the library at exit.
 *
 *		sasl_clnt_new() starts one conversation with a server: the
 *		service name ("smtp"), the server's host name, the security
 *		flags from xsasl_security_parse() (XSASL_SEC_*), and the user name and
 *		password that the Cyrus callbacks SASL_CB_USER,
 *		SASL_CB_AUTHNAME and SASL_CB_PASS hand out (the user name is
 *		both the authentication and the authorization identity, as
 *		in Postfix).  No security layer is negotiated (maximum SSF 0):
 *		SMTP AUTH is used for the login only.
 *
 *		sasl_clnt_first() lets Cyrus choose a mechanism from the
 *		server's list that satisfies the security flags and gives
 *		the initial response, base64-encoded ("" when the mechanism
 *		has an empty one, which RFC 4954 sends as "=").
 *		sasl_clnt_next() takes one base64 challenge from a 334 reply
 *		and gives the base64 response.
 *
 *		sasl_clnt_secprops() reads Postfix's security option words:
 *		noplaintext, noactive, nodictionary, noanonymous and
 *		mutual_auth (separated by white space or commas; empty means
 *		none).
 *
 *		The base64 codec is this file's own: base64_decode()
 *		is strict (RFC 4648 alphabet, padding only at the end, length
 *		a multiple of four, zero padding bits, a bound on the decoded
 *		size), so a hostile challenge is refused rather than guessed
 *		at.
 * SECURITY	Challenges come from the network: decoded with bounds, then
 *		handed to Cyrus.  Passwords are never logged; the copies held
 *		here are wiped when the conversation is freed.
 * SEE ALSO	smtp/auth.c, doc/smtp-auth.md
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>

#include "util/base64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "sasl/sasl_client.h"

struct sasl_clnt {
	sasl_conn_t *conn;
	char	*user;
	char	*pass;
	sasl_secret_t *secret;		/* the password as Cyrus wants it */
	sasl_callback_t cb[4];
	int	 started;
};

static int sasl_clnt_inited;

/* Cyrus's one callback type; the real types vary with the id. */
typedef int (*sasl_clnt_proc)(void);

/* sasl_clnt_log - Cyrus's own messages: errors and warnings only */
static int
sasl_clnt_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (msg == NULL)
		return SASL_OK;
	/* Postfix's wording, which postmasters search their logs for. */
	switch (level) {
	case SASL_LOG_ERR:
	case SASL_LOG_FAIL:
		log_warn("SASL authentication failure: %s", msg);
		break;
	case SASL_LOG_WARN:
		log_warn("SASL authentication problem: %s", msg);
		break;
	default:
		if (log_verbose)
			log_info("SASL authentication info: %s", msg);
		break;
	}
	return SASL_OK;
}

/* Cyrus keeps the pointer: a static table. */
static sasl_callback_t sasl_clnt_global_cb[] = {
	{ SASL_CB_LOG, NULL, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/*
 * sasl_clnt_init - the Cyrus client library, once per process.  Returns
 * 0, or -1 with a reason.
 */
int
sasl_clnt_init(const char *appname, struct buf *why)
{
	int rc;

	(void)appname;
	if (sasl_clnt_inited)
		return 0;
	/* A cast through void (*)(void): Cyrus's one callback type. */
	sasl_clnt_global_cb[0].proc =
	    (sasl_clnt_proc)(void (*)(void))sasl_clnt_log;
	if ((rc = sasl_client_init(sasl_clnt_global_cb)) != SASL_OK) {
		buf_printf(why, "SASL client library initialization failed: "
		    "%s", sasl_errstring(rc, NULL, NULL));
		return -1;
	}
	sasl_clnt_inited = 1;
	return 0;
}

/* sasl_clnt_done - release the library (process exit) */
void
sasl_clnt_done(void)
{
	if (!sasl_clnt_inited)
		return;
	sasl_client_done();
	sasl_clnt_inited = 0;
}

/* sasl_clnt_get_user - SASL_CB_USER and SASL_CB_AUTHNAME */
static int
sasl_clnt_get_user(void *ctx, int id, const char **result, unsigned *len)
{
	struct sasl_clnt *c = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = c->user;
	if (len)
		*len = (unsigned)strlen(c->user);
	return SASL_OK;
}

/* sasl_clnt_get_pass - SASL_CB_PASS */
static int
sasl_clnt_get_pass(sasl_conn_t *conn, void *ctx, int id,
    sasl_secret_t **psecret)
{
	struct sasl_clnt *c = ctx;

	(void)conn;
	if (id != SASL_CB_PASS || psecret == NULL)
		return SASL_BADPARAM;
	*psecret = c->secret;
	return SASL_OK;
}

/* sasl_clnt_reason - the text of a Cyrus failure */
static void
sasl_clnt_reason(struct sasl_clnt *c, int rc, struct buf *why)
{
	const char *detail = NULL;

	/* Cyrus's text for "no mechanism" adds nothing but length. */
	if (rc == SASL_NOMECH) {
		buf_puts(why, "no mechanism available");
		return;
	}
	if (c && c->conn)
		detail = sasl_errdetail(c->conn);
	buf_puts(why, detail ? detail : sasl_errstring(rc, NULL, NULL));
}

/*
 * sasl_clnt_new - one conversation with server host (for service),
 * flags from sasl_clnt_secprops().  Returns NULL with a reason.
 */
struct sasl_clnt *
sasl_clnt_new(const char *service, const char *host, int flags,
    const char *user, const char *pass, struct buf *why)
{
	struct sasl_clnt *c;
	sasl_security_properties_t sp;
	size_t plen = strlen(pass);
	int rc;

	if (!sasl_clnt_inited) {
		buf_puts(why, "SASL client library is not initialized");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->user = xstrdup(user);
	c->pass = xstrdup(pass);
	c->secret = xmalloc(sizeof(sasl_secret_t) + plen + 1);
	c->secret->len = plen;
	memcpy(c->secret->data, pass, plen + 1);
	c->cb[0].id = SASL_CB_USER;
	c->cb[0].proc = (sasl_clnt_proc)(void (*)(void))sasl_clnt_get_user;
	c->cb[0].context = c;
	c->cb[1].id = SASL_CB_AUTHNAME;
	c->cb[1].proc = (sasl_clnt_proc)(void (*)(void))sasl_clnt_get_user;
	c->cb[1].context = c;
	c->cb[2].id = SASL_CB_PASS;
	c->cb[2].proc = (sasl_clnt_proc)(void (*)(void))sasl_clnt_get_pass;
	c->cb[2].context = c;
	c->cb[3].id = SASL_CB_LIST_END;
	if ((rc = sasl_client_new(service, host, NULL, NULL, c->cb, 0,
	    &c->conn)) != SASL_OK) {
		buf_puts(why, "per-session SASL client initialization "
		    "failed: ");
		sasl_clnt_reason(c, rc, why);
		sasl_clnt_free(c);
		return NULL;
	}
	memset(&sp, 0, sizeof(sp));
	sp.min_ssf = 0;
	sp.max_ssf = 0;			/* no security layer */
	sp.maxbufsize = 0;
	if (flags & XSASL_SEC_NOPLAINTEXT)
		sp.security_flags |= SASL_SEC_NOPLAINTEXT;
	if (flags & XSASL_SEC_NOACTIVE)
		sp.security_flags |= SASL_SEC_NOACTIVE;
	if (flags & XSASL_SEC_NODICTIONARY)
		sp.security_flags |= SASL_SEC_NODICTIONARY;
	if (flags & XSASL_SEC_NOANONYMOUS)
		sp.security_flags |= SASL_SEC_NOANONYMOUS;
	if (flags & XSASL_SEC_MUTUAL_AUTH)
		sp.security_flags |= SASL_SEC_MUTUAL_AUTH;
	if ((rc = sasl_setprop(c->conn, SASL_SEC_PROPS, &sp)) != SASL_OK) {
		buf_puts(why, "SASL security properties: ");
		sasl_clnt_reason(c, rc, why);
		sasl_clnt_free(c);
		return NULL;
	}
	return c;
}

/* sasl_clnt_out - base64 of what Cyrus gave, within the bound */
static int
sasl_clnt_out(const char *out, unsigned len, struct buf *resp,
    struct buf *why)
{
	buf_reset(resp);
	if (len > SASL_CLNT_DATA_MAX) {
		buf_printf(why, "SASL response of %u bytes is too long", len);
		return SASL_CLNT_FAIL;
	}
	if (len > 0)
		base64_encode(out, len, resp);
	return SASL_CLNT_OK;
}

/*
 * sasl_clnt_first - choose a mechanism from the server's list (space
 * separated).  Gives the mechanism, whether there is an initial
 * response, and that response in base64.  SASL_CLNT_OK or
 * SASL_CLNT_FAIL with a reason.
 */
int
sasl_clnt_first(struct sasl_clnt *c, const char *mechs, const char **mech,
    int *has_initial, struct buf *resp, struct buf *why)
{
	const char *out = NULL;
	unsigned len = 0;
	int rc;

	*mech = NULL;
	*has_initial = 0;
	buf_reset(resp);
	if (c->started) {
		buf_puts(why, "SASL conversation already started");
		return SASL_CLNT_FAIL;
	}
	c->started = 1;
	rc = sasl_client_start(c->conn, mechs, NULL, &out, &len, mech);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		sasl_clnt_reason(c, rc, why);
		*mech = NULL;
		return SASL_CLNT_FAIL;
	}
	if (*mech == NULL || !xsasl_mech_valid(*mech, strlen(*mech))) {
		buf_puts(why, "SASL library chose no valid mechanism");
		*mech = NULL;
		return SASL_CLNT_FAIL;
	}
	if (out == NULL)
		return SASL_CLNT_OK;
	*has_initial = 1;
	return sasl_clnt_out(out, len, resp, why);
}

/*
 * sasl_clnt_next - the response to one base64 challenge (the text of a
 * 334 reply).  SASL_CLNT_OK with the base64 response, or SASL_CLNT_FAIL
 * with a reason (a malformed challenge, or the mechanism refused it).
 */
int
sasl_clnt_next(struct sasl_clnt *c, const char *challenge, size_t len,
    struct buf *resp, struct buf *why)
{
	struct buf in = BUF_INIT;
	const char *out = NULL;
	unsigned olen = 0;
	int rc;

	buf_reset(resp);
	if (!c->started) {
		buf_puts(why, "SASL conversation not started");
		return SASL_CLNT_FAIL;
	}
	if (base64_decode(challenge, len, SASL_CLNT_DATA_MAX,
	    &in) < 0) {
		buf_puts(why, "malformed SASL challenge from server");
		buf_free(&in);
		return SASL_CLNT_FAIL;
	}
	rc = sasl_client_step(c->conn, in.p ? in.p : "", (unsigned)in.len,
	    NULL, &out, &olen);
	buf_free(&in);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		sasl_clnt_reason(c, rc, why);
		return SASL_CLNT_FAIL;
	}
	return sasl_clnt_out(out ? out : "", out ? olen : 0, resp, why);
}

/* sasl_clnt_free - end a conversation; the password copies are wiped */
void
sasl_clnt_free(struct sasl_clnt *c)
{
	if (c == NULL)
		return;
	if (c->conn)
		sasl_dispose(&c->conn);
	if (c->pass) {
		explicit_bzero(c->pass, strlen(c->pass));
		free(c->pass);
	}
	if (c->secret) {
		explicit_bzero(c->secret->data, c->secret->len);
		free(c->secret);
	}
	free(c->user);
	free(c);
}
