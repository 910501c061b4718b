/*
 * NAME		fuzz_qfile - libFuzzer target for the queue file readers
 * DESCRIPTION	Writes the input to a memory file and reads its envelope
 *		with the strict qfile_read_env() (qmgr, showq) and the
 *		tolerant qfile_scan_env() (showq for maildrop files); when the
 *		strict reader accepts the file, walks the content lines as a
 *		delivery agent would.  Checks the invariants the callers rely
 *		on: offsets inside the file, done counts, recipient fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mail/qfile.h"
#include "mail/qfile_scan.h"
#include "util/buf.h"
#include "util/files.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_env - what every reader of a struct qfile_env assumes */
static void
check_env(const struct qfile_env *e, size_t size)
{
	size_t i, done = 0;

	if (e->sender == NULL || e->nrcpt > QFILE_RCPT_MAX)
		abort();
	for (i = 0; i < e->nrcpt; i++) {
		if (e->rcpts[i].addr == NULL || e->rcpts[i].orig == NULL ||
		    e->rcpts[i].offset < 0 ||
		    (size_t)e->rcpts[i].offset >= size)
			abort();
		done += e->rcpts[i].done != 0;
	}
	if (done != e->ndone || e->data_offset < 0 ||
	    (size_t)e->data_offset >= size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qfile_env e;
	struct buf why = BUF_INIT, line = BUF_INIT;
	int fd;

	if ((fd = memfd_create("fuzz", 0)) < 0)
		abort();
	if (write_all(fd, data, size) < 0)
		abort();
	if (qfile_read_env(fd, &e, &why) == 0) {
		struct qfile_content c;
		int partial, n = 0;

		check_env(&e, size);
		if (qfile_content_open(&c, fd, &e, &why) == 0) {
			while (qfile_content_line(&c, &line, &partial) > 0 &&
			    n++ < 100000)
				;
			qfile_content_close(&c);
		}
		qfile_env_free(&e);
	} else if (why.len == 0) {
		abort();
	}
	buf_reset(&why);
	if (qfile_scan_env(fd, &e, &why) == 0) {
		check_env(&e, size);
		qfile_env_free(&e);
	} else if (why.len == 0) {
		abort();
	}
	close(fd);
	buf_free(&why);
	buf_free(&line);
	return 0;
}
