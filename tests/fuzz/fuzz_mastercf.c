/*
 * NAME		fuzz_mastercf - libFuzzer target for master.cf parsing
 * DESCRIPTION	Parses the input as master.cf text; on success checks the
 *		invariants every entry promises to the master (known type,
 *		bounded counts, a command name without '/'), looks up each
 *		entry and frees the result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mastercf.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;
	struct mcf m;
	size_t i;

	if (mcf_parse((const char *)data, size, "master.cf", &m, &why) == 0) {
		if (m.n > MCF_ENT_MAX)
			abort();
		for (i = 0; i < m.n; i++) {
			const struct mcf_ent *e = &m.v[i];

			if (e->args->n < 1 || e->args->n > MCF_ARGS_MAX ||
			    strchr(e->args->v[0], '/') != NULL ||
			    e->maxproc < -1 || e->wakeup < 0 ||
			    mcf_find(&m, e->service, e->type) != e)
				abort();
		}
	} else if (m.n != 0)
		abort();
	mcf_free(&m);
	buf_free(&why);
	return 0;
}
