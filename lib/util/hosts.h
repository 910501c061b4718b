/*
 * NAME		hosts - the hosts(5) file, read once
 * DESCRIPTION	Daemons that run chrooted read /etc/hosts before the jail
 *		and answer address-to-name and name-to-address questions from
 *		memory, the "files" half of a name service lookup.
 */
#ifndef UTIL_HOSTS_H
#define UTIL_HOSTS_H

int	 hosts_load(const char *);
const char *hosts_name(const char *);
int	 hosts_has_addr(const char *, const char *);

#endif
