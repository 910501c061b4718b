/*
 * NAME		sock - UNIX-domain and TCP sockets
 * DESCRIPTION	Listening and connecting helpers with deadlines.  A UNIX
 *		listener replaces a stale socket file and sets its mode.
 *		sock_trigger() connects to a service socket (or writes to a
 *		FIFO) and sends a few bytes without waiting for a reply: this
 *		is how Postern wakes pickup and qmgr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sock.h"
#include "stream.h"
#include "strutil.h"
#include "events.h"

/* sock_nonblock - set or clear O_NONBLOCK */
int
sock_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* sock_cloexec - set or clear FD_CLOEXEC */
int
sock_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl);
}

/* sock_unix_addr - fill a sockaddr_un; -1 if the path is too long */
static int
sock_unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* sock_unix_listen - listen on a UNIX stream socket at path */
int
sock_unix_listen(const char *path, int backlog, mode_t mode)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (sock_unix_addr(path, &sun) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		goto bad;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto bad;
	if (chmod(path, mode) < 0)
		goto bad;
	if (listen(fd, backlog) < 0)
		goto bad;
	return fd;
bad:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * sock_unix_connect - connect to a UNIX stream socket within timeout.  A
 * full listen queue (EAGAIN) is retried until the deadline.
 */
int
sock_unix_connect(const char *path, int timeout)
{
	struct sockaddr_un sun;
	int64_t deadline;
	int fd, saved;

	if (sock_unix_addr(path, &sun) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return -1;
	deadline = time_mono_ms() + (int64_t)(timeout > 0 ? timeout : 1) * 1000;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || time_mono_ms() >= deadline)
			goto bad;
		usleep(10000);
	}
	if (sock_nonblock(fd, 0) < 0)
		goto bad;
	return fd;
bad:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * sock_endpoint_connect - connect to a service: kind "unix" with a path,
 * or "inet" with "host:port" where host is an IP address (IPv6 may be in
 * brackets) or "localhost"; no name is looked up.  The descriptor, or -1
 * with a reason in why.
 */
int
sock_endpoint_connect(const char *kind, const char *addr, int timeout,
    struct buf *why)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const char *colon;
	char host[256];
	size_t hl;
	long port = 0;
	int fd;

	if (strcmp(kind, "unix") == 0) {
		if ((fd = sock_unix_connect(addr, timeout)) < 0)
			buf_printf(why, "connect: %m");
		return fd;
	}
	if ((colon = strrchr(addr, ':')) == NULL ||
	    (hl = (size_t)(colon - addr)) == 0 || hl >= sizeof(host) ||
	    parse_long(colon + 1, &port) < 0 || port < 1 || port > 65535) {
		buf_printf(why, "bad address \"%s\" (need host:port)", addr);
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	if (strcasecmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		fd = sock_inet_connect((struct sockaddr *)&sin, sizeof(sin),
		    timeout);
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		fd = sock_inet_connect((struct sockaddr *)&sin6, sizeof(sin6),
		    timeout);
	} else {
		/* Host names would need lib/dns; addresses are enough. */
		buf_printf(why, "host \"%s\" is not an IP address", host);
		return -1;
	}
	if (fd < 0)
		buf_printf(why, "connect: %m");
	return fd;
}

/*
 * sock_inet_listen - listen on "host:port", "[v6]:port" or ":port" (any
 * address).  Returns the descriptor or -1 with a reason in why.
 */
int
sock_inet_listen(const char *spec, int backlog, char *why, size_t whylen)
{
	char host[256], port[32];
	const char *colon;
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, err;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':' ||
		    (size_t)(end - spec - 1) >= sizeof(host)) {
			snprintf(why, whylen, "bad address: %s", spec);
			return -1;
		}
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL) {
			host[0] = 0;
			colon = spec - 1;
		} else {
			if ((size_t)(colon - spec) >= sizeof(host)) {
				snprintf(why, whylen, "bad address: %s", spec);
				return -1;
			}
			memcpy(host, spec, (size_t)(colon - spec));
			host[colon - spec] = 0;
		}
	}
	strlcpy_trunc(port, colon + 1, sizeof(port));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if (host[0] == 0 || strcmp(host, "*") == 0) {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, port, &hints, &res);
	} else {
		err = getaddrinfo(host, port, &hints, &res);
	}
	if (err) {
		snprintf(why, whylen, "%s: %s", spec, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, backlog) == 0)
			break;
		snprintf(why, whylen, "bind %s: %s", spec, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* sock_inet_connect - TCP connect within timeout seconds */
int
sock_inet_connect(const struct sockaddr *sa, socklen_t len, int timeout)
{
	int fd, err = 0, saved;
	socklen_t elen = sizeof(err);

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS)
			goto bad;
		if (wait_fd(fd, 2, timeout) < 0)
			goto bad;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			goto bad;
		if (err) {
			errno = err;
			goto bad;
		}
	}
	if (sock_nonblock(fd, 0) < 0)
		goto bad;
	return fd;
bad:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * sock_trigger - send a short trigger to a service: connect to a UNIX
 * socket, or open a FIFO, write the bytes, close.  Returns 0 or -1.
 */
int
sock_trigger(const char *path, const char *bytes, size_t len, int timeout)
{
	struct stat st;
	int fd;
	ssize_t r;

	if (stat(path, &st) < 0)
		return -1;
	if (S_ISFIFO(st.st_mode)) {
		if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
			return -1;
	} else if ((fd = sock_unix_connect(path, timeout)) < 0) {
		return -1;
	}
	/* Never wait: a trigger that does not fit is not needed. */
	if (S_ISFIFO(st.st_mode))
		r = write(fd, bytes, len);
	else
		r = send(fd, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	return r == (ssize_t)len ? 0 : -1;
}

/* sock_addr_str - numeric address text and port of a socket address */
int
sock_addr_str(const struct sockaddr *sa, char *out, size_t len, int *port)
{
	const void *a;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		a = &in->sin_addr;
		if (port)
			*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		a = &in6->sin6_addr;
		if (port)
			*port = ntohs(in6->sin6_port);
		/* Show v4-mapped addresses as IPv4, as Postfix does. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			if (inet_ntop(AF_INET, (const char *)a + 12, out,
			    (socklen_t)len) == NULL)
				return -1;
			return 0;
		}
	} else {
		snprintf(out, len, "local");
		if (port)
			*port = 0;
		return 0;
	}
	return inet_ntop(sa->sa_family, a, out, (socklen_t)len) ? 0 : -1;
}
