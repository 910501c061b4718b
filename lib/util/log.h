/*
 * NAME		log - the one logging interface
 * DESCRIPTION	Severities are Postfix's: info, warning (bad input or
 *		environment; carry on), fatal (cannot go on; clean exit) and
 *		panic (a bug; abort for a core).  Lines go to syslog, to the
 *		maillog_file and/or to stderr, in Postfix's format:
 *		"Mmm dd hh:mm:ss host syslog_name/service[pid]: text".
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdarg.h>

#define LOG_TO_SYSLOG	(1 << 0)
#define LOG_TO_STDERR	(1 << 1)
#define LOG_TO_FILE	(1 << 2)

extern int log_verbose;

void	log_init(const char *, int);
void	log_set_name(const char *);
const char *log_name(void);
int	log_open_file(const char *);
void	log_open_syslog(const char *);
void	log_set_targets(int);
void	log_set_fatal_hook(void (*)(void));

void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_fatal_status(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
void	log_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_vmsg(int, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

#define LOG_SEV_INFO	0
#define LOG_SEV_WARN	1
#define LOG_SEV_FATAL	2
#define LOG_SEV_PANIC	3
#define LOG_SEV_ERROR	4	/* postlog -p error: logged, no exit */

#define ASSERT(x) do { \
	if (!(x)) \
		log_panic("%s:%d: assertion failed: %s", \
		    __FILE__, __LINE__, #x); \
} while (0)

#endif
