/*
 * NAME		qid - queue IDs
 * DESCRIPTION	The base-51 alphabet has no vowels (no accidental words) and
 *		is in ASCII order, so that IDs with equal-width time fields
 *		sort by arrival.  'z' is not in the alphabet and separates the
 *		time part from the inode part.
 * SECURITY	qid_valid() bounds length and character set; every program
 *		that takes a queue ID from outside (a file name, a client)
 *		checks it before using it in a path.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "qid.h"

static const char qid_digits[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy";
#define QID_BASE	51
#define QID_SEC_LEN	6
#define QID_USEC_LEN	4

/* qid_encode - fixed-width base-51 encoding of v into out[0..width) */
static void
qid_encode(char *out, unsigned long long v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		out[i] = qid_digits[v % QID_BASE];
		v /= QID_BASE;
	}
}

/* qid_make - format an ID for arrival time tv and inode ino */
void
qid_make(char *out, const struct timeval *tv, ino_t ino, int long_ids)
{
	if (long_ids) {
		char tmp[16];
		unsigned long long v = (unsigned long long)ino;
		int n = 0, i;

		qid_encode(out, (unsigned long long)tv->tv_sec, QID_SEC_LEN);
		qid_encode(out + QID_SEC_LEN,
		    (unsigned long long)tv->tv_usec, QID_USEC_LEN);
		out[QID_SEC_LEN + QID_USEC_LEN] = 'z';
		do {
			tmp[n++] = qid_digits[v % QID_BASE];
			v /= QID_BASE;
		} while (v && n < (int)sizeof(tmp));
		for (i = 0; i < n; i++)
			out[QID_SEC_LEN + QID_USEC_LEN + 1 + i] =
			    tmp[n - 1 - i];
		out[QID_SEC_LEN + QID_USEC_LEN + 1 + n] = 0;
	} else {
		snprintf(out, QID_MAX, "%05lX%lX",
		    (unsigned long)tv->tv_usec & 0xfffff,
		    (unsigned long)ino);
	}
}

/* qid_is_digit - member of the long-ID alphabet? */
static int
qid_is_digit(int c)
{
	return c != 0 && strchr(qid_digits, c) != NULL;
}

/* qid_valid - is s[0..len) a well-formed queue ID of either form? */
int
qid_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 6 || len >= QID_MAX)
		return 0;
	if (len >= QID_SEC_LEN + QID_USEC_LEN + 2 &&
	    s[QID_SEC_LEN + QID_USEC_LEN] == 'z') {
		for (i = 0; i < len; i++) {
			if (i == QID_SEC_LEN + QID_USEC_LEN)
				continue;
			if (!qid_is_digit((unsigned char)s[i]))
				return 0;
		}
		return 1;
	}
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    islower((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * qid_hash_char - the character that names the hash subdirectory at the
 * given level: fast-changing microsecond digits, last first.
 */
int
qid_hash_char(const char *id, int level)
{
	size_t len = strlen(id);

	if (len > QID_SEC_LEN + QID_USEC_LEN &&
	    id[QID_SEC_LEN + QID_USEC_LEN] == 'z')
		return id[QID_SEC_LEN + QID_USEC_LEN - 1 - level];
	/* Short IDs: hex microseconds. */
	return id[4 - level];
}

/* qid_time - arrival seconds encoded in a long ID; -1 for short IDs */
int
qid_time(const char *id, long *sec)
{
	long v = 0;
	int i;

	if (strlen(id) <= QID_SEC_LEN + QID_USEC_LEN ||
	    id[QID_SEC_LEN + QID_USEC_LEN] != 'z')
		return -1;
	for (i = 0; i < QID_SEC_LEN; i++) {
		const char *p = strchr(qid_digits, id[i]);

		if (p == NULL || *p == 0)
			return -1;
		v = v * QID_BASE + (p - qid_digits);
	}
	*sec = v;
	return 0;
}
