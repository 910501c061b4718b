/*
 * NAME		xsasl_cyrus - SMTP AUTH through Cyrus SASL (libsasl2)
 * DESCRIPTION	smtpd_sasl_type = cyrus.  sasl_server_init() runs once per
 *		process before the chroot, with the application name
 *		smtpd_sasl_path (default "smtpd"): the library then loads its
 *		plugins and reads "<name>.conf" (pwcheck_method, mech_list,
 *		sasldb_path, saslauthd_path, auxprop_plugin, ...) from the
 *		first directory of the configuration path that has it.  That
 *		path is cyrus_sasl_config_path when set; otherwise
 *		$config_directory/sasl followed by the directories Debian's
 *		libsasl2 searches by default (/etc/sasl2, /etc/sasl,
 *		/usr/lib/sasl2).
 *
 *		Each session gets its own connection (sasl_server_new) for
 *		service smtpd_sasl_service, server $myhostname, realm
 *		smtpd_sasl_local_domain and the "addr;port" strings of both
 *		ends, with the security flags of smtpd_sasl_security_options
 *		and no SASL security layer (max_ssf 0).  After an exchange
 *		that did not succeed the connection is replaced, as Postfix
 *		does, so no state of a failed attempt carries over.
 *
 *		Files the mechanisms open at authentication time (the sasldb
 *		of sasldb_path, the saslauthd socket of saslauthd_path) are
 *		opened inside the chroot when smtpd runs chrooted: their
 *		paths are then relative to the queue directory.
 *		An unknown user fails like a wrong password ("authentication
 *		failure"), so replies do not tell which names exist.
 * SECURITY	Client data goes to libsasl2 with its length; what the
 *		library says (log text, user name) is cleaned of control
 *		characters before it is logged.
 * DIAGNOSTICS	"SASL authentication problem: ..." (library errors),
 *		"SASL authentication failure: ..." (library warnings), "SASL
 *		authentication info: ..." (notes).
 * SEE ALSO	xsasl.h, doc/sasl.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "xsasl_impl.h"

/* The library default of Debian's libsasl2, after $config_directory/sasl. */
#define CYRUS_DEFAULT_CONF_PATH	"/etc/sasl2:/etc/sasl:/usr/lib/sasl2"

struct cyrus_server {
	sasl_conn_t *conn;
	int	 used;			/* an exchange ran on conn */
	char	*service;
	char	*server_name;
	char	*realm;			/* NULL: none */
	char	*local;			/* "addr;port", or NULL */
	char	*remote;
	int	 security;
};

static char *cyrus_conf_path;		/* the GETCONFPATH answer */
static int cyrus_initialized;

/* cyrus_log - the library's log callback */
static int
cyrus_log(void *ctx, int level, const char *msg)
{
	char clean[512];

	(void)ctx;
	if (msg == NULL)
		return SASL_OK;
	str_sane(msg, clean, sizeof(clean));
	switch (level) {
	case SASL_LOG_ERR:
	case SASL_LOG_FAIL:
		log_warn("SASL authentication problem: %s", clean);
		break;
	case SASL_LOG_WARN:
		log_warn("SASL authentication failure: %s", clean);
		break;
	case SASL_LOG_NOTE:
		log_info("SASL authentication info: %s", clean);
		break;
	default:
		break;		/* debug and trace levels */
	}
	return SASL_OK;
}

/* cyrus_getconfpath - where the library looks for <app>.conf */
static int
cyrus_getconfpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = cyrus_conf_path;
	return SASL_OK;
}

/*
 * The library's callback type is int (*)(void); the real signatures
 * differ, so the pointers go through the generic function type.
 */
#define CYRUS_CB(fn)	((int (*)(void))(void (*)(void))(fn))

static sasl_callback_t cyrus_callbacks[] = {
	{ SASL_CB_LOG, NULL, NULL },
	{ SASL_CB_GETCONFPATH, NULL, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

/* cyrus_init - sasl_server_init with application name path */
static int
cyrus_init(const char *path, const char *conf, struct buf *why)
{
	int r;

	if (path == NULL || *path == 0 || strchr(path, '/') != NULL ||
	    strlen(path) > 64) {
		buf_printf(why, "smtpd_sasl_path \"%.64s\" is not a Cyrus SASL "
		    "application name", path ? path : "");
		return -1;
	}
	free(cyrus_conf_path);
	if (conf && *conf)
		cyrus_conf_path = xstrdup(conf);
	else
		cyrus_conf_path = xasprintf("%s/sasl:%s",
		    mail_cfg.config_directory ? mail_cfg.config_directory :
		    "/etc/postern", CYRUS_DEFAULT_CONF_PATH);
	cyrus_callbacks[0].proc = CYRUS_CB(cyrus_log);
	cyrus_callbacks[1].proc = CYRUS_CB(cyrus_getconfpath);
	if ((r = sasl_server_init(cyrus_callbacks, path)) != SASL_OK) {
		buf_printf(why, "Cyrus SASL initialization failed: %s",
		    sasl_errstring(r, NULL, NULL));
		free(cyrus_conf_path);
		cyrus_conf_path = NULL;
		return -1;
	}
	cyrus_initialized = 1;
	return 0;
}

/* cyrus_done - release the library (process exit) */
static void
cyrus_done(void)
{
	if (cyrus_initialized)
		sasl_server_done();
	cyrus_initialized = 0;
	free(cyrus_conf_path);
	cyrus_conf_path = NULL;
}

/* cyrus_security - our bits as the library's security flags */
static unsigned
cyrus_security(int sec)
{
	unsigned f = 0;

	if (sec & XSASL_SEC_NOPLAINTEXT)
		f |= SASL_SEC_NOPLAINTEXT;
	if (sec & XSASL_SEC_NOACTIVE)
		f |= SASL_SEC_NOACTIVE;
	if (sec & XSASL_SEC_NODICTIONARY)
		f |= SASL_SEC_NODICTIONARY;
	if (sec & XSASL_SEC_NOANONYMOUS)
		f |= SASL_SEC_NOANONYMOUS;
	if (sec & XSASL_SEC_FORWARD_SECRECY)
		f |= SASL_SEC_FORWARD_SECRECY;
	if (sec & XSASL_SEC_MUTUAL_AUTH)
		f |= SASL_SEC_MUTUAL_AUTH;
	return f;
}

/* cyrus_connect - a fresh library connection; 0 or -1 with a reason */
static int
cyrus_connect(struct cyrus_server *cs, struct buf *why)
{
	sasl_security_properties_t sp;
	int r;

	if (cs->conn) {
		sasl_dispose(&cs->conn);
		cs->conn = NULL;
	}
	cs->used = 0;
	r = sasl_server_new(cs->service, cs->server_name, cs->realm,
	    cs->local, cs->remote, NULL, 0, &cs->conn);
	if (r != SASL_OK) {
		buf_printf(why, "SASL per-connection initialization failed: "
		    "%s", sasl_errstring(r, NULL, NULL));
		cs->conn = NULL;
		return -1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.min_ssf = 0;
	sp.max_ssf = 0;			/* no SASL security layer */
	sp.maxbufsize = 0;
	sp.security_flags = cyrus_security(cs->security);
	if ((r = sasl_setprop(cs->conn, SASL_SEC_PROPS, &sp)) != SASL_OK) {
		buf_printf(why, "SASL security properties: %s",
		    sasl_errdetail(cs->conn));
		sasl_dispose(&cs->conn);
		cs->conn = NULL;
		return -1;
	}
	return 0;
}

/* cyrus_endpoint - "addr;port" for the library, or NULL */
static char *
cyrus_endpoint(const char *addr, const char *port)
{
	if (addr == NULL || *addr == 0 || port == NULL || *port == 0)
		return NULL;
	return xasprintf("%s;%s", addr, port);
}

/* cyrus_free - end a session */
static void
cyrus_free(void *p)
{
	struct cyrus_server *cs = p;

	if (cs == NULL)
		return;
	if (cs->conn)
		sasl_dispose(&cs->conn);
	free(cs->service);
	free(cs->server_name);
	free(cs->realm);
	free(cs->local);
	free(cs->remote);
	free(cs);
}

/* cyrus_create - a session: connection and mechanism list */
static void *
cyrus_create(const struct xsasl_server_args *a, struct buf *mechs,
    struct buf *why)
{
	struct cyrus_server *cs = xcalloc(1, sizeof(*cs));
	const char *list = NULL;
	unsigned len = 0;
	int count = 0, r;

	cs->service = xstrdup(a->service && *a->service ? a->service : "smtp");
	cs->server_name = xstrdup(a->server_name ? a->server_name : "");
	cs->realm = a->realm && *a->realm ? xstrdup(a->realm) : NULL;
	cs->local = cyrus_endpoint(a->server_addr, a->server_port);
	cs->remote = cyrus_endpoint(a->client_addr, a->client_port);
	cs->security = a->security;
	if (cyrus_connect(cs, why) < 0) {
		cyrus_free(cs);
		return NULL;
	}
	r = sasl_listmech(cs->conn, NULL, "", " ", "", &list, &len, &count);
	if (r != SASL_OK && r != SASL_NOMECH) {
		buf_printf(why, "cannot list SASL mechanisms: %s",
		    sasl_errdetail(cs->conn));
		cyrus_free(cs);
		return NULL;
	}
	buf_reset(mechs);
	if (r == SASL_OK && list != NULL)
		buf_put(mechs, list, len);
	return cs;
}

/* cyrus_result - the library's answer as an XSASL_* result */
static int
cyrus_result(struct cyrus_server *cs, int r, const char *out,
    unsigned outlen, struct buf *reply)
{
	buf_reset(reply);
	switch (r) {
	case SASL_CONTINUE:
		if (out != NULL)
			buf_put(reply, out, outlen);
		else
			buf_puts(reply, "");
		return XSASL_CONTINUE;
	case SASL_OK:
		return XSASL_OK;
	case SASL_TRYAGAIN:
	case SASL_UNAVAIL:
		buf_sets(reply, sasl_errstring(r, NULL, NULL));
		return XSASL_TEMP;
	case SASL_NOUSER:
		/* The client must not learn which names exist. */
		buf_sets(reply, sasl_errstring(SASL_BADAUTH, NULL, NULL));
		return XSASL_FAIL;
	default:
		(void)cs;
		buf_sets(reply, sasl_errstring(r, NULL, NULL));
		return XSASL_FAIL;
	}
}

/* cyrus_start - sasl_server_start on a connection no attempt has used */
static int
cyrus_start(void *p, const char *mech, const void *init, size_t len,
    int have_init, struct buf *reply)
{
	struct cyrus_server *cs = p;
	const char *out = NULL;
	unsigned outlen = 0;
	int r;

	if (cs->used || cs->conn == NULL) {
		struct buf why = BUF_INIT;

		if (cyrus_connect(cs, &why) < 0) {
			buf_set(reply, why.p, why.len);
			buf_free(&why);
			return XSASL_TEMP;
		}
		buf_free(&why);
	}
	cs->used = 1;
	r = sasl_server_start(cs->conn, mech, have_init ? (init ? init : "") :
	    NULL, have_init ? (unsigned)len : 0, &out, &outlen);
	return cyrus_result(cs, r, out, outlen, reply);
}

/* cyrus_next - sasl_server_step */
static int
cyrus_next(void *p, const void *resp, size_t len, struct buf *reply)
{
	struct cyrus_server *cs = p;
	const char *out = NULL;
	unsigned outlen = 0;
	int r;

	if (cs->conn == NULL) {
		buf_sets(reply, "no SASL exchange in progress");
		return XSASL_FAIL;
	}
	r = sasl_server_step(cs->conn, resp ? resp : "", (unsigned)len, &out,
	    &outlen);
	return cyrus_result(cs, r, out, outlen, reply);
}

/* cyrus_username - SASL_USERNAME of the finished exchange */
static const char *
cyrus_username(void *p)
{
	struct cyrus_server *cs = p;
	const void *name = NULL;

	if (cs->conn == NULL || sasl_getprop(cs->conn, SASL_USERNAME,
	    &name) != SASL_OK)
		return NULL;
	return name;
}

const struct xsasl_backend xsasl_cyrus_backend = {
	.type = "cyrus",
	.init = cyrus_init,
	.done = cyrus_done,
	.create = cyrus_create,
	.free = cyrus_free,
	.start = cyrus_start,
	.next = cyrus_next,
	.username = cyrus_username,
};
