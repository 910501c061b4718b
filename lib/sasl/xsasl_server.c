/*
 * NAME		xsasl_server - SMTP AUTH server side, backend-independent part
 * DESCRIPTION	Chooses the backend named by smtpd_sasl_type, parses
 *		smtpd_sasl_security_options, keeps each session's announced
 *		mechanism list and refuses an exchange for a mechanism that
 *		is not on it ("Invalid authentication mechanism", as Postfix
 *		says) before the backend sees it.
 * SECURITY	Mechanism names come from the SMTP client: they are checked
 *		for RFC 4422 syntax (at most 20 of A-Z 0-9 - _) by the caller
 *		and here again.
 * SEE ALSO	xsasl.h, xsasl_cyrus.c, xsasl_dovecot.c, doc/sasl.md
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "xsasl.h"
#include "xsasl_impl.h"

struct xsasl_server {
	const struct xsasl_backend *be;
	void	*impl;
	struct buf mechs;		/* "PLAIN LOGIN" */
};

static const struct xsasl_backend *const xsasl_backends[] = {
	&xsasl_cyrus_backend,
	&xsasl_dovecot_backend,
	NULL,
};

static const struct xsasl_backend *xsasl_active;

static const struct {
	const char *name;
	int	 bit;
} xsasl_sec_names[] = {
	{ "noplaintext", XSASL_SEC_NOPLAINTEXT },
	{ "noactive", XSASL_SEC_NOACTIVE },
	{ "nodictionary", XSASL_SEC_NODICTIONARY },
	{ "noanonymous", XSASL_SEC_NOANONYMOUS },
	{ "forward_secrecy", XSASL_SEC_FORWARD_SECRECY },
	{ "mutual_auth", XSASL_SEC_MUTUAL_AUTH },
	{ NULL, 0 },
};

/*
 * xsasl_security_parse - smtpd_sasl_security_options: a list of the
 * names above (comma or white space separated; empty allows anything).
 * Returns 0, or -1 with the unknown word in why.
 */
int
xsasl_security_parse(const char *spec, int *flags, struct buf *why)
{
	char *copy = xstrdup(spec ? spec : ""), *cp = copy, *tok;
	int i, r = 0;

	*flags = 0;
	while ((tok = str_token(&cp, SEPARATORS)) != NULL) {
		for (i = 0; xsasl_sec_names[i].name; i++)
			if (strcasecmp(tok, xsasl_sec_names[i].name) == 0)
				break;
		if (xsasl_sec_names[i].name == NULL) {
			buf_printf(why, "unknown SASL security option \"%.64s\"",
			    tok);
			r = -1;
			break;
		}
		*flags |= xsasl_sec_names[i].bit;
	}
	free(copy);
	return r;
}

/*
 * xsasl_mech_valid - an RFC 4422 mechanism name: 1-20 characters of
 * upper-case letters, digits, "-" and "_" (lower case is accepted too:
 * SMTP is case-insensitive).
 */
int
xsasl_mech_valid(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > XSASL_MECH_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/*
 * xsasl_server_init - pick the backend and initialize it (before the
 * chroot).  type is smtpd_sasl_type, path smtpd_sasl_path, conf
 * cyrus_sasl_config_path.  Returns 0, or -1 with a reason.
 */
int
xsasl_server_init(const char *type, const char *path, const char *conf,
    struct buf *why)
{
	const struct xsasl_backend *const *be;

	if (xsasl_active != NULL) {
		buf_sets(why, "SASL server already initialized");
		return -1;
	}
	for (be = xsasl_backends; *be; be++)
		if (strcasecmp((*be)->type, type) == 0)
			break;
	if (*be == NULL) {
		buf_printf(why, "unsupported SASL server implementation: %.64s "
		    "(use cyrus or dovecot)", type);
		return -1;
	}
	if ((*be)->init(path, conf, why) < 0)
		return -1;
	xsasl_active = *be;
	return 0;
}

/* xsasl_server_done - release the backend's process state (at exit) */
void
xsasl_server_done(void)
{
	if (xsasl_active && xsasl_active->done)
		xsasl_active->done();
	xsasl_active = NULL;
}

/*
 * xsasl_server_create - one session's server.  NULL with a reason when
 * the backend cannot serve now (the caller answers AUTH with 454) or
 * offers no mechanism under the security options.
 */
struct xsasl_server *
xsasl_server_create(const struct xsasl_server_args *args, struct buf *why)
{
	struct xsasl_server *xs;

	if (xsasl_active == NULL) {
		buf_sets(why, "SASL server not initialized");
		return NULL;
	}
	xs = xcalloc(1, sizeof(*xs));
	xs->be = xsasl_active;
	buf_init(&xs->mechs);
	if ((xs->impl = xs->be->create(args, &xs->mechs, why)) == NULL) {
		buf_free(&xs->mechs);
		free(xs);
		return NULL;
	}
	if (xs->mechs.len == 0) {
		buf_sets(why, "no SASL authentication mechanisms (check the "
		    "backend configuration and smtpd_sasl_security_options)");
		xsasl_server_free(xs);
		return NULL;
	}
	return xs;
}

/* xsasl_server_free - end a session's server */
void
xsasl_server_free(struct xsasl_server *xs)
{
	if (xs == NULL)
		return;
	xs->be->free(xs->impl);
	buf_free(&xs->mechs);
	free(xs);
}

/* xsasl_server_mechs - the mechanisms to announce ("PLAIN LOGIN") */
const char *
xsasl_server_mechs(const struct xsasl_server *xs)
{
	return xs->mechs.p ? xs->mechs.p : "";
}

/* xsasl_mech_listed - is mech (case-insensitive) on the list? */
static int
xsasl_mech_listed(const char *list, const char *mech)
{
	size_t n = strlen(mech);

	while (*list) {
		size_t w;

		list += strspn(list, " ");
		w = strcspn(list, " ");
		if (w == n && strncasecmp(list, mech, n) == 0)
			return 1;
		list += w;
	}
	return 0;
}

/*
 * xsasl_server_start - begin an exchange: mechanism, and the decoded
 * initial response when have_init (possibly empty).
 */
int
xsasl_server_start(struct xsasl_server *xs, const char *mech,
    const void *init, size_t len, int have_init, struct buf *reply)
{
	buf_reset(reply);
	if (!xsasl_mech_valid(mech, strlen(mech)) ||
	    !xsasl_mech_listed(xsasl_server_mechs(xs), mech)) {
		buf_sets(reply, "Invalid authentication mechanism");
		return XSASL_FAIL;
	}
	if (len > XSASL_DATA_MAX) {
		buf_sets(reply, "initial response too long");
		return XSASL_FAIL;
	}
	return xs->be->start(xs->impl, mech, init, len, have_init, reply);
}

/* xsasl_server_next - the client's next (decoded) response */
int
xsasl_server_next(struct xsasl_server *xs, const void *resp, size_t len,
    struct buf *reply)
{
	buf_reset(reply);
	if (len > XSASL_DATA_MAX) {
		buf_sets(reply, "response too long");
		return XSASL_FAIL;
	}
	return xs->be->next(xs->impl, resp, len, reply);
}

/* xsasl_server_username - the authenticated name, after XSASL_OK */
const char *
xsasl_server_username(const struct xsasl_server *xs)
{
	return xs->be->username(xs->impl);
}
