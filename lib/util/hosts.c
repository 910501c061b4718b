/*
 * NAME		hosts - the hosts(5) file, read once
 * DESCRIPTION	Lines are "address name [aliases...]" with '#' comments.
 *		Addresses are kept in canonical text form (inet_pton then
 *		inet_ntop), so "::1" and "0:0::1" compare equal.  hosts_name()
 *		gives the first name listed for an address (the canonical
 *		name, as the C library does); hosts_has_addr() says whether a
 *		name (or alias) lists an address.
 * SECURITY	The file is bounded to 1 MB and 100000 entries.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "hosts.h"
#include "mem.h"
#include "strutil.h"

struct host_ent {
	char	*addr;
	char	*name;		/* canonical name */
	char	*names;		/* all names, space separated, folded */
};

static struct host_ent *hosts_v;
static size_t hosts_n;

/* hosts_canon - canonical text form of an address, or NULL */
static int
hosts_canon(const char *in, char *out, size_t len)
{
	unsigned char bin[16];

	if (inet_pton(AF_INET, in, bin) == 1)
		return inet_ntop(AF_INET, bin, out, (socklen_t)len) ? 0 : -1;
	if (inet_pton(AF_INET6, in, bin) == 1)
		return inet_ntop(AF_INET6, bin, out, (socklen_t)len) ? 0 : -1;
	return -1;
}

/* hosts_load - read a hosts file; 0 or -1 (missing file: 0 entries) */
int
hosts_load(const char *path)
{
	struct buf text = BUF_INIT;
	char *cp, *line;

	if (file_read(path, &text, 1024 * 1024) < 0) {
		buf_free(&text);
		return -1;
	}
	cp = text.p ? text.p : "";
	while ((line = str_token(&cp, "\n")) != NULL && hosts_n < 100000) {
		char *hash = strchr(line, '#'), *addr, *name, canon[64];
		struct buf names = BUF_INIT;

		if (hash)
			*hash = 0;
		if ((addr = str_token(&line, " \t\r")) == NULL ||
		    (name = str_token(&line, " \t\r")) == NULL ||
		    hosts_canon(addr, canon, sizeof(canon)) < 0)
			continue;
		hosts_v = xreallocarray(hosts_v, hosts_n + 1,
		    sizeof(*hosts_v));
		hosts_v[hosts_n].addr = xstrdup(canon);
		hosts_v[hosts_n].name = xstrdup(name);
		buf_printf(&names, " %s ", name);
		while ((name = str_token(&line, " \t\r")) != NULL)
			buf_printf(&names, "%s ", name);
		hosts_v[hosts_n].names = str_lower(buf_steal(&names));
		hosts_n++;
	}
	buf_free(&text);
	return 0;
}

/* hosts_name - the canonical name of an address, or NULL */
const char *
hosts_name(const char *addr)
{
	char canon[64];
	size_t i;

	if (hosts_canon(addr, canon, sizeof(canon)) < 0)
		return NULL;
	for (i = 0; i < hosts_n; i++)
		if (strcmp(hosts_v[i].addr, canon) == 0)
			return hosts_v[i].name;
	return NULL;
}

/* hosts_has_addr - does name (or an alias) list addr? */
int
hosts_has_addr(const char *name, const char *addr)
{
	char canon[64], key[300];
	size_t i;

	if (hosts_canon(addr, canon, sizeof(canon)) < 0 ||
	    strlen(name) > 255)
		return 0;
	snprintf(key, sizeof(key), " %s ", name);
	str_lower(key);
	for (i = 0; i < hosts_n; i++)
		if (strcmp(hosts_v[i].addr, canon) == 0 &&
		    strstr(hosts_v[i].names, key) != NULL)
			return 1;
	return 0;
}
