/*
 * NAME		sock - UNIX-domain and TCP sockets
 */
#ifndef UTIL_SOCK_H
#define UTIL_SOCK_H

#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"

int	 sock_unix_listen(const char *, int, mode_t);
int	 sock_unix_connect(const char *, int);
int	 sock_inet_listen(const char *, int, char *, size_t);
int	 sock_inet_connect(const struct sockaddr *, socklen_t, int);
int	 sock_endpoint_connect(const char *, const char *, int, struct buf *);
int	 sock_nonblock(int, int);
int	 sock_cloexec(int, int);
int	 sock_trigger(const char *, const char *, size_t, int);
int	 sock_addr_str(const struct sockaddr *, char *, size_t, int *);

#endif
