/*
 * NAME		nexthop - where a delivery request goes
 * DESCRIPTION	smtp_dest_parse() reads the next hop that trivial-rewrite
 *		chose (a transport's ":nexthop", relayhost, or the
 *		recipient domain), or an smtp_fallback_relay entry:
 *
 *		domain		MX lookup (smtp); port smtp_tcp_port
 *		domain:port	MX lookup, that port
 *		[host]		no MX lookup: the host's addresses
 *		[host]:port	the same, that port
 *		[address]	an IPv4 or IPv6 address ("[ipv6:...]" too)
 *
 *		For LMTP there are never MX lookups, the default port is
 *		lmtp_tcp_port (24), and two more forms: "unix:/path" (a
 *		UNIX-domain socket, relative to the chroot when the process
 *		is chrooted) and "inet:host:port" (the same as "host:port").
 *		A port is a number or one of the names smtp, lmtp,
 *		submission, submissions and smtps.
 * SECURITY	The next hop comes from main.cf or a table through qmgr;
 *		it is still checked for length and syntax.
 * SEE ALSO	smtp(8), doc/smtp.md
 */
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "util/strutil.h"
#include "smtp.h"

/* smtp_port_parse - a port number or a well-known service name */
int
smtp_port_parse(const char *s, int *port)
{
	static const struct {
		const char *name;
		int	 port;
	} names[] = {
		{ "smtp", 25 }, { "lmtp", 24 }, { "submission", 587 },
		{ "submissions", 465 }, { "smtps", 465 },
	};
	size_t i;
	long n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*port = names[i].port;
			return 0;
		}
	}
	if (parse_long(s, &n) < 0 || n < 1 || n > 65535)
		return -1;
	*port = (int)n;
	return 0;
}

/*
 * smtp_dest_parse - parse a next hop.  lmtp selects the LMTP forms and
 * disables MX lookups; def_port is the port when none is given.
 * Returns 0, or -1 with a reason in why.
 */
int
smtp_dest_parse(const char *spec, int lmtp, int def_port,
    struct smtp_dest *d, struct buf *why)
{
	const char *p = spec, *end, *port = NULL;
	size_t len;

	memset(d, 0, sizeof(*d));
	d->port = def_port;
	d->mx = !lmtp;
	if (lmtp && str_caseprefix(p, "unix:")) {
		p += 5;
		len = strlen(p);
		if (len == 0 || len >= sizeof(((struct sockaddr_un *)0)->
		    sun_path)) {
			buf_printf(why, "bad UNIX-domain socket name in next "
			    "hop: %s", spec);
			return -1;
		}
		memcpy(d->host, p, len + 1);
		d->local = 1;
		return 0;
	}
	if (lmtp && str_caseprefix(p, "inet:"))
		p += 5;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL ||
		    (end[1] != 0 && end[1] != ':')) {
			buf_printf(why, "bad next hop: %s", spec);
			return -1;
		}
		len = (size_t)(end - p - 1);
		p++;
		if (end[1] == ':')
			port = end + 2;
		d->mx = 0;
	} else {
		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		if (end)
			port = end + 1;
	}
	if (len == 0 || len > DNS_NAME_MAX) {
		buf_printf(why, "bad host name in next hop: %s", spec);
		return -1;
	}
	memcpy(d->host, p, len);
	d->host[len] = 0;
	if (!str_allprint(d->host, len) || strpbrk(d->host, " []") != NULL) {
		buf_printf(why, "bad host name in next hop: %s", spec);
		return -1;
	}
	if (port && smtp_port_parse(port, &d->port) < 0) {
		buf_printf(why, "bad port in next hop: %s", spec);
		return -1;
	}
	return 0;
}
