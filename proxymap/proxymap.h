/*
 * NAME		proxymap.h - private interface of proxymap(8)
 */
#ifndef PROXYMAP_H
#define PROXYMAP_H

#include <stddef.h>

#include "mail/conf.h"
#include "util/buf.h"

extern const struct param pm_params[];

void	 pm_access_init(const char *);
int	 pm_access_allowed(const char *);
void	 pm_serve(const char *, size_t, struct buf *);
const char *pm_tables_changed(void);
void	 pm_tables_free(void);

#endif
