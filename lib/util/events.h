/*
 * NAME		events - single-threaded event loop on epoll(7)
 * DESCRIPTION	File descriptor callbacks, one-shot timers keyed by
 *		(callback, context) as in Postfix's event_request_timer(), and
 *		pre-poll hooks that run once per loop iteration before the
 *		process sleeps (used for group commit).
 */
#ifndef UTIL_EVENTS_H
#define UTIL_EVENTS_H

#include <stdint.h>

#define EV_READ		1
#define EV_WRITE	2
#define EV_ERROR	4

typedef void (*event_fd_fn)(int, int, void *);
typedef void (*event_timer_fn)(void *);
typedef void (*event_hook_fn)(void *);

void	 event_init(void);
void	 event_fd(int, int, event_fd_fn, void *);
void	 event_fd_del(int);
void	 event_timer(event_timer_fn, void *, int64_t);
void	 event_timer_cancel(event_timer_fn, void *);
int	 event_timer_pending(event_timer_fn, void *);
void	 event_hook(event_hook_fn, void *);
void	 event_hook_del(event_hook_fn, void *);
int	 event_loop(int64_t);
int64_t	 event_now(void);
int64_t	 time_mono_ms(void);
int	 time_due(int64_t *, int64_t);

#endif
