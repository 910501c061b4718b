/*
 * NAME		feedback - destination concurrency: slow start and dead
 *		destinations
 * DESCRIPTION	Each destination has a concurrency window, adjusted by
 *		Postfix's feedback algorithm with its default settings
 *		(positive and negative feedback 1/concurrency, hysteresis 1):
 *
 *		- a new destination starts with
 *		  <transport>_initial_destination_concurrency, at most its
 *		  concurrency limit;
 *		- a delivery that reached the next hop adds 1/window to a
 *		  success credit; each whole credit widens the window by one,
 *		  up to the limit.  From 1 the window becomes 2 after the
 *		  first success, 3 after two more, 4 after three more.  The
 *		  window grows only while it is in use (smaller than the
 *		  deliveries in progress plus the initial concurrency): a
 *		  destination that gets one message at a time does not build
 *		  up a large window that a later burst would use at once;
 *		- a delivery that found no usable next hop (connection
 *		  refused, lost, timed out; greeting or handshake refused)
 *		  takes 1/window from a failure credit (which starts at 0, so
 *		  the first failure narrows the window at once), to no less
 *		  than 1, and adds 1/window to the failed cohorts: a window's
 *		  worth of failures is one failed "pseudo-cohort".  When the
 *		  failed cohorts reach
 *		  <transport>_destination_concurrency_failed_cohort_limit (0:
 *		  never) the destination is dead.  A success starts that
 *		  count again.
 *
 *		The arithmetic is kept apart from the scheduler so that unit
 *		tests can drive it (tests/unit/test_qmgr_feedback.c).
 */
#include "mail/conf.h"
#include "qmgr.h"

/* qm_window_init - a new destination */
void
qm_window_init(struct qm_window *w, int init, int limit)
{
	w->window = init < limit ? init : limit;
	if (w->window < 1)
		w->window = 1;
	w->success = w->failure = w->fail_cohorts = 0;
}

/*
 * qm_window_revive - a dead destination gets another chance: as many
 * deliveries as are still in progress, else the initial concurrency.
 */
void
qm_window_revive(struct qm_window *w, int inflight, int init, int limit)
{
	qm_window_init(w, inflight > 0 ? inflight : init, limit);
}

/* qm_window_allowed - deliveries the window allows at once (>= 1) */
int
qm_window_allowed(const struct qm_window *w)
{
	return w->window < 1 ? 1 : w->window;
}

/*
 * qm_window_feedback - one delivery finished.  ok: it reached the next
 * hop; inflight: deliveries in progress, this one included.  Returns 1
 * when the destination is now dead (the window is then left alone),
 * else 0.
 */
int
qm_window_feedback(struct qm_window *w, int ok, int inflight, int init,
    int limit, int cohort_limit)
{
	double fb = 1.0 / (w->window < 1 ? 1 : w->window);

	if (ok) {
		w->fail_cohorts = 0;
		if (w->window < limit && w->window < inflight + init) {
			w->success += fb;
			/* Half a step of slack against rounding. */
			while (w->success + fb / 2 >= 1) {
				w->window++;
				w->success -= 1;
				w->failure = 0;
			}
			if (w->window > limit)
				w->window = limit;
		}
		return 0;
	}
	w->fail_cohorts += fb;
	if (cohort_limit > 0 && w->fail_cohorts >= cohort_limit)
		return 1;
	w->failure -= fb;
	while (w->failure - fb / 2 < 0) {
		w->window--;
		w->success = 0;
		w->failure += 1;
	}
	if (w->window < 1)
		w->window = 1;
	return 0;
}
