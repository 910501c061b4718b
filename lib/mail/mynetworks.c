/*
 * NAME		mynetworks - the computed default of mynetworks
 * DESCRIPTION	mynetworks_compute() makes the list that Postfix's
 *		mynetworks_style asks for from this machine's interfaces:
 *
 *		host	127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 and
 *			every other address of this machine's interfaces
 *			(as /32 or /128);
 *		subnet	the loopback networks and the networks of every
 *			interface (address and netmask);
 *		class	like subnet, but an IPv4 network is widened to its
 *			class A, B or C network (never narrowed).
 *
 *		mynetworks_default() makes that list the default of
 *		"mynetworks" in a conf (from its mynetworks_style), so that
 *		smtpd and "postconf -d" agree.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "util/argv.h"
#include "util/log.h"
#include "conf.h"
#include "mynetworks.h"

/* mynet_prefix_len - the number of leading one bits of a netmask */
static int
mynet_prefix_len(const unsigned char *mask, int bytes)
{
	int n = 0, i, b;

	for (i = 0; i < bytes; i++)
		for (b = 7; b >= 0; b--) {
			if (!(mask[i] & (1 << b)))
				return n;
			n++;
		}
	return n;
}

/* mynet_apply_len - clear the host bits after len */
static void
mynet_apply_len(unsigned char *a, int bytes, int len)
{
	int i;

	for (i = 0; i < bytes; i++) {
		int keep = len - i * 8;

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

/* mynet_net_text - "a.b.c.d/len" or "[v6]/len" */
static void
mynet_net_text(int family, const unsigned char *a, int len, struct buf *out)
{
	char ntop[INET6_ADDRSTRLEN];

	inet_ntop(family, a, ntop, sizeof(ntop));
	if (family == AF_INET6)
		buf_printf(out, "[%s]/%d", ntop, len);
	else
		buf_printf(out, "%s/%d", ntop, len);
}

/*
 * mynetworks_compute - the mynetworks default for a style ("host",
 * "subnet" or "class"; anything else is treated as "host", with a
 * warning).
 */
void
mynetworks_compute(const char *style, struct buf *out)
{
	struct ifaddrs *ifa = NULL, *i;
	struct argv seen;
	int mode = 0;

	if (style && strcasecmp(style, "subnet") == 0)
		mode = 1;
	else if (style && strcasecmp(style, "class") == 0)
		mode = 2;
	else if (style && *style && strcasecmp(style, "host") != 0)
		log_warn("unknown mynetworks_style \"%s\"; using host", style);
	buf_reset(out);
	buf_puts(out, "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128");
	argv_init(&seen);
	argv_add(&seen, "127.0.0.0/8");
	argv_add(&seen, "[::1]/128");
	if (getifaddrs(&ifa) < 0) {
		log_warn("getifaddrs: %m; mynetworks is the loopback networks");
		argv_clear(&seen);
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		unsigned char a[16], m[16];
		struct buf one = BUF_INIT;
		int family, bytes, len;

		if (i->ifa_addr == NULL)
			continue;
		family = i->ifa_addr->sa_family;
		if (family == AF_INET) {
			bytes = 4;
			memcpy(a, &((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, 4);
			if (i->ifa_netmask)
				memcpy(m, &((struct sockaddr_in *)(void *)
				    i->ifa_netmask)->sin_addr, 4);
			else
				memset(m, 0xff, 4);
			if (a[0] == 127)
				continue;	/* in 127.0.0.0/8 already */
		} else if (family == AF_INET6) {
			bytes = 16;
			memcpy(a, &((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, 16);
			if (i->ifa_netmask)
				memcpy(m, &((struct sockaddr_in6 *)(void *)
				    i->ifa_netmask)->sin6_addr, 16);
			else
				memset(m, 0xff, 16);
			if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)(void *)a))
				continue;
		} else {
			continue;
		}
		if (mode == 0) {
			len = bytes * 8;
		} else {
			len = mynet_prefix_len(m, bytes);
			if (mode == 2 && family == AF_INET) {
				int cls = a[0] < 128 ? 8 : a[0] < 192 ? 16 :
				    a[0] < 224 ? 24 : 32;

				if (cls < len)
					len = cls;
			}
		}
		mynet_apply_len(a, bytes, len);
		mynet_net_text(family, a, len, &one);
		if (argv_find(&seen, buf_str(&one)) < 0) {
			argv_add(&seen, buf_str(&one));
			buf_printf(out, " %s", buf_str(&one));
		}
		buf_free(&one);
	}
	freeifaddrs(ifa);
	argv_clear(&seen);
}

/*
 * mynetworks_default - make the computed list the default of mynetworks
 * in c (from c's mynetworks_style).
 */
void
mynetworks_default(struct conf *c)
{
	struct buf out = BUF_INIT;

	mynetworks_compute(conf_get(c, "mynetworks_style"), &out);
	conf_set_default(c, "mynetworks", buf_str(&out));
	buf_free(&out);
}
