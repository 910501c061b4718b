/*
 * NAME		log - the one logging interface
 * DESCRIPTION	Formats a line once and writes it to each target that is
 *		enabled: syslog(3) (facility mail), a plain file opened with
 *		O_APPEND before the process enters its chroot jail (Postfix's
 *		maillog_file), and stderr for commands.  Each file line is one
 *		write(2), so lines from many processes do not interleave.
 *		Control characters in the text are replaced by '?' so that
 *		peer data cannot forge log lines.
 * SECURITY	Lines are truncated at LOG_LINE_MAX bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	4096

int log_verbose;

static char log_prog[128] = "postern";
static char log_host[256] = "localhost";
static int log_targets = LOG_TO_STDERR;
static int log_fd = -1;
static int log_syslog_open;
static int log_syslog_tried;
static void (*log_fatal_hook)(void);
static int log_in_fatal;

/* log_init - set the program name and targets */
void
log_init(const char *name, int targets)
{
	char *dot;

	log_set_name(name);
	log_targets = targets;
	if (gethostname(log_host, sizeof(log_host) - 1) < 0)
		strcpy(log_host, "localhost");
	log_host[sizeof(log_host) - 1] = 0;
	if ((dot = strchr(log_host, '.')) != NULL)
		*dot = 0;
	tzset();
}

/* log_set_name - change the name shown in log lines */
void
log_set_name(const char *name)
{
	snprintf(log_prog, sizeof(log_prog), "%s", name);
}

/* log_name - the name shown in log lines */
const char *
log_name(void)
{
	return log_prog;
}

/* log_set_targets - choose where lines go */
void
log_set_targets(int targets)
{
	log_targets = targets;
}

/* log_open_file - open maillog_file for appending (call before chroot) */
int
log_open_file(const char *path)
{
	int fd;

	if (path == NULL || *path == 0)
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0644)) < 0) {
		log_warn("open maillog_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_targets |= LOG_TO_FILE;
	return 0;
}

/* log_open_syslog - connect to syslog now, so that it works in a chroot */
void
log_open_syslog(const char *facility_unused)
{
	struct stat st;

	(void)facility_unused;
	log_syslog_tried = 1;
	/*
	 * Without a syslog daemon the C library would try (and fail) to
	 * connect again for every line: use syslog only if it listens.
	 */
	if (stat(_PATH_LOG, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		log_targets &= ~LOG_TO_SYSLOG;
		return;
	}
	openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog_open = 1;
	log_targets |= LOG_TO_SYSLOG;
}

/* log_set_fatal_hook - run a cleanup function before a fatal exit */
void
log_set_fatal_hook(void (*fn)(void))
{
	log_fatal_hook = fn;
}

/* log_sanitize - replace control characters in place */
static void
log_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}


/*
 * The process ID of each log line, asked of the kernel once per process:
 * a child made by fork() forgets the parent's (pthread_atfork).
 */
static pid_t log_pid;
static int log_pid_hooked;

/* log_forgetpid - in a new child */
static void
log_forgetpid(void)
{
	log_pid = 0;
}

/* log_getpid - getpid(), cached */
static pid_t
log_getpid(void)
{
	if (!log_pid_hooked) {
		log_pid_hooked = 1;
		(void)pthread_atfork(NULL, NULL, log_forgetpid);
	}
	if (log_pid == 0)
		log_pid = getpid();
	return log_pid;
}

/* log_vmsg - format and emit one line */
void
log_vmsg(int sev, const char *fmt, va_list ap)
{
	static const char *const tag[] = {"", "warning: ", "fatal: ",
	    "panic: ", "error: "};
	static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_CRIT, LOG_CRIT,
	    LOG_ERR};
	char text[LOG_LINE_MAX];
	char line[LOG_LINE_MAX + 512];
	int saved = errno;
	size_t n;

	if (sev < 0 || sev > LOG_SEV_ERROR)
		sev = LOG_SEV_PANIC;
	n = strlen(tag[sev]);
	memcpy(text, tag[sev], n);
	errno = saved;
	(void)vsnprintf(text + n, sizeof(text) - n, fmt, ap);
	log_sanitize(text);

	if ((log_targets & LOG_TO_SYSLOG) && !log_syslog_open &&
	    !log_syslog_tried) {
		log_syslog_tried = 1;
		log_open_syslog(NULL);
	}
	if ((log_targets & LOG_TO_SYSLOG) && log_syslog_open)
		syslog(prio[sev], "%s", text);
	if ((log_targets & LOG_TO_FILE) && log_fd >= 0) {
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];
		int len;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		len = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n",
		    stamp, log_host, log_prog, (long)log_getpid(), text);
		if (len > (int)sizeof(line) - 1)
			len = (int)sizeof(line) - 1;
		(void)!write(log_fd, line, (size_t)len);
	}
	if (log_targets & LOG_TO_STDERR) {
		const char *base = strrchr(log_prog, '/');

		base = base ? base + 1 : log_prog;
		fprintf(stderr, "%s: %s\n", base, text);
		fflush(stderr);
	}
	errno = saved;
}

/* log_info - informational message */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_SEV_INFO, fmt, ap);
	va_end(ap);
}

/* log_debug - message shown only with -v */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_SEV_INFO, fmt, ap);
	va_end(ap);
}

/* log_warn - bad input or environment; the caller carries on */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_SEV_WARN, fmt, ap);
	va_end(ap);
}

/* log_fatal_status - log and exit with the given status */
void
log_fatal_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_SEV_FATAL, fmt, ap);
	va_end(ap);
	if (log_fatal_hook && !log_in_fatal++)
		log_fatal_hook();
	exit(status);
}

/* log_fatal - cannot go on; clean exit with status 1 */
void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_SEV_FATAL, fmt, ap);
	va_end(ap);
	if (log_fatal_hook && !log_in_fatal++)
		log_fatal_hook();
	exit(1);
}

/* log_panic - a bug: abort for a core dump */
void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_SEV_PANIC, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * __lsan_is_turned_off - LeakSanitizer hook (used only in SANITIZE=1
 * builds): the leak checker cannot inspect a set-gid process, so it
 * stays off there instead of failing the process at exit.
 */
int	__lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return getegid() != getgid() || geteuid() != getuid();
}
