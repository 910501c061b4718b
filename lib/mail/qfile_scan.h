/*
 * NAME		qfile_scan - tolerant envelope reader for listings
 * DESCRIPTION	qfile_scan_env() reads the envelope of a queue file or of a
 *		maildrop submission (which has no version and size records)
 *		up to the start of the message content, accepting envelope
 *		records in any order.  It fills the same struct qfile_env as
 *		qfile_read_env() (data_size only when a size record is
 *		present; data_offset is the offset of the M record).  Meant
 *		for showq, which reports what it can; delivery code uses the
 *		strict qfile_read_env().
 */
#ifndef MAIL_QFILE_SCAN_H
#define MAIL_QFILE_SCAN_H

#include "util/buf.h"
#include "qfile.h"

int	 qfile_scan_env(int, struct qfile_env *, struct buf *);

#endif
