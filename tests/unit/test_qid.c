/*
 * NAME		test_qid - unit tests for mail/qid
 * DESCRIPTION	Long and short queue IDs: format, validity, sorting by
 *		arrival, hash characters, time round trip; IDs from outside
 *		with wrong characters, wrong lengths (limit-1, limit,
 *		limit+1) and path characters are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/qid.h"
#include "unit.h"

static const char alphabet[] =
    "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy";

/* b51 - decode n base-51 digits, independently of the library */
static unsigned long long
b51(const char *s, size_t n)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *p = strchr(alphabet, s[i]);

		assert_non_null(p);
		assert_int_not_equal(s[i], 0);
		v = v * 51 + (unsigned long long)(p - alphabet);
	}
	return v;
}

static void
test_qid_long_format(void **state)
{
	static const struct {
		long	 sec;
		long	 usec;
		unsigned long long ino;
	} t[] = {
		{0, 0, 0},
		{1, 1, 1},
		{1700000000, 999999, 12345},
		{17596287800L, 0, 50},		/* 51^6 - 1: widest time */
		{1234567890, 500000, 51},
		{1234567890, 500000, (unsigned long long)-1},
	};
	char id[QID_MAX];
	size_t i, len;
	long sec;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct timeval tv = {t[i].sec, t[i].usec};

		memset(id, '#', sizeof(id));
		qid_make(id, &tv, (ino_t)t[i].ino, 1);
		len = strlen(id);
		assert_true(len >= 12 && len < QID_MAX);
		assert_int_equal(id[10], 'z');
		assert_true(qid_valid(id, len));
		assert_true(b51(id, 6) == (unsigned long long)t[i].sec);
		assert_true(b51(id + 6, 4) == (unsigned long long)t[i].usec);
		assert_true(b51(id + 11, len - 11) == t[i].ino);
		assert_int_equal(qid_time(id, &sec), 0);
		assert_true(sec == t[i].sec);
		/* Hash levels use the fast-changing microsecond digits. */
		assert_int_equal(qid_hash_char(id, 0), id[9]);
		assert_int_equal(qid_hash_char(id, 1), id[8]);
		assert_int_equal(qid_hash_char(id, 3), id[6]);
	}
	{
		struct timeval tv = {0, 0};

		qid_make(id, &tv, 0, 1);
		assert_string_equal(id, "0000000000z0");
	}
}

static void
test_qid_short_format(void **state)
{
	static const struct {
		long	 usec;
		unsigned long ino;
		const char *id;
	} t[] = {
		{0, 0, "000000"},
		{0x12345, 0xabc, "12345ABC"},
		{999999, 1, "F423F1"},
		{0xfffff, 0xffffffffUL, "FFFFFFFFFFFFF"},
	};
	char id[QID_MAX];
	size_t i;
	long sec = -5;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct timeval tv = {1700000000, t[i].usec};

		qid_make(id, &tv, (ino_t)t[i].ino, 0);
		assert_string_equal(id, t[i].id);
		assert_true(qid_valid(id, strlen(id)));
		assert_int_equal(qid_time(id, &sec), -1);
		assert_int_equal(qid_hash_char(id, 0), id[4]);
		assert_int_equal(qid_hash_char(id, 3), id[1]);
	}
	assert_int_equal(sec, -5);
}

static void
test_qid_sortable(void **state)
{
	/* Increasing arrival times; inodes vary in width on purpose. */
	static const struct {
		long	 sec;
		long	 usec;
		unsigned long ino;
	} t[] = {
		{0, 0, 99999999},
		{0, 1, 1},
		{0, 50, 0},
		{0, 51, 123456789},
		{0, 999999, 5},
		{1, 0, 7},
		{50, 0, 7},
		{51, 0, 7},
		{999999999, 999999, 1},
		{1000000000, 0, 100000},
		{1700000000, 123456, 2},
		{1700000001, 0, 1},
		{17596287800L, 999999, 1},
	};
	char prev[QID_MAX], id[QID_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		struct timeval tv = {t[i].sec, t[i].usec};

		qid_make(id, &tv, (ino_t)t[i].ino, 1);
		if (i > 0 && strcmp(prev, id) >= 0)
			fail_msg("%s does not sort before %s", prev, id);
		strcpy(prev, id);
	}
}

static void
test_qid_valid(void **state)
{
	static const struct {
		const char *id;
		int	 ok;
	} t[] = {
		/* Short IDs: upper-case hex, 6 to 31 characters. */
		{"12345", 0},
		{"123456", 1},
		{"ABCDEF0123456789ABCDEF012345678", 1},		/* 31 */
		{"ABCDEF0123456789ABCDEF0123456789", 0},	/* 32 */
		{"abcdef", 0},
		{"ABCDEG", 0},
		{"ABCDE ", 0},
		{" ABCDE", 0},
		{"ABCDE\n", 0},
		/* Long IDs: 10 digits, 'z', at least one inode digit. */
		{"0000000000z0", 1},
		{"0000000000z", 0},
		{"000000000z0", 0},
		{"0000000000z0123456789BCDFGHJKL", 1},		/* 30 */
		{"0000000000z0123456789BCDFGHJKLM", 1},		/* 31 */
		{"0000000000z0123456789BCDFGHJKLMN", 0},	/* 32 */
		{"Bcdfg00000zxy", 1},
		{"A000000000z0", 0},		/* vowel */
		{"a000000000z0", 0},
		{"000000000Az0", 0},
		{"0000000000z0A", 0},
		{"0000000000zz", 0},		/* 'z' only as separator */
		{"z000000000z0", 0},
		{"0000000000Z0", 0},
		/* Path characters. */
		{"", 0},
		{"..", 0},
		{"../../etc/passwd", 0},
		{"ABCDEF/..", 0},
		{"ABC/DEF", 0},
		{"0000000000z/", 0},
		{"0000000000z..", 0},
		{"0000000000z0/x", 0},
		{".ABCDEF", 0},
		{"ABCDEF.", 0},
		{"ABC\\DEF", 0},
		{"ABC*DEF", 0},
		{"-ABCDEF", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		if (qid_valid(t[i].id, strlen(t[i].id)) != t[i].ok)
			fail_msg("qid_valid(\"%s\") != %d", t[i].id, t[i].ok);
	/* Length is the truth: a NUL inside or a short length. */
	assert_false(qid_valid("ABC\0DEF", 7));
	assert_false(qid_valid("0000000000z\0", 12));
	assert_true(qid_valid("123456789", 6));
	assert_false(qid_valid("123456789", 5));
	/* Every byte value in every position of a valid ID. */
	{
		char id[] = "0123456789zBC";
		int c;
		size_t pos;

		for (pos = 0; pos < strlen(id); pos++) {
			char save = id[pos];

			for (c = 1; c < 256; c++) {
				int want;

				id[pos] = (char)c;
				/* At 10, hex makes it a short ID. */
				want = pos == 10 ? c == 'z' ||
				    strchr("0123456789ABCDEF", c) != NULL :
				    strchr(alphabet, c) != NULL;
				if (qid_valid(id, 13) != want)
					fail_msg("byte 0x%02x at %zu", c, pos);
			}
			id[pos] = save;
		}
	}
}

static void
test_qid_time_bad(void **state)
{
	long sec = -3;

	(void)state;
	assert_int_equal(qid_time("", &sec), -1);
	assert_int_equal(qid_time("0000000000", &sec), -1);
	assert_int_equal(qid_time("0000000000y0", &sec), -1);
	assert_int_equal(qid_time("00A0000000z0", &sec), -1);
	assert_int_equal(sec, -3);
	assert_int_equal(qid_time("0000100000z0", &sec), 0);
	assert_int_equal(sec, 51);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qid_long_format),
		cmocka_unit_test(test_qid_short_format),
		cmocka_unit_test(test_qid_sortable),
		cmocka_unit_test(test_qid_valid),
		cmocka_unit_test(test_qid_time_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
