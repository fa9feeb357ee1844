/* wait.c: how a blocking call waits. Deadlines on the monotonic clock,
 * slices of at most 200 ms, and between slices a user-interrupt check that
 * first releases whatever the caller holds. EINTR from other signals is the
 * callers' to retry with the time that remains. On Windows the same check
 * sees Ctrl-C or Esc (and lets R's GUI process its events). */
#include "rzmq.h"
#include <math.h>

#define SLICE_MS 200

static double now_ms(void) { return rzmq_clock_monotonic_ms(); }

double rzmq_deadline(int timeout_ms) {
  return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

long rzmq_next_slice(double deadline) {
  double left;
  if (deadline < 0) return SLICE_MS;
  left = deadline - now_ms();
  if (left <= 0) return -1;
  return left < SLICE_MS ? (long)ceil(left) : SLICE_MS;
}

void rzmq_abstime_in(struct timespec *ts, long ms) {
  rzmq_clock_realtime(ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

typedef struct {
  rzmq_cleanup_fn fn;
  void *data;
} held;

static SEXP check_body(void *unused) {
  (void)unused;
  R_CheckUserInterrupt();
  return R_NilValue;
}

static void release_held(void *d, Rboolean jump) {
  held *h = d;
  if (jump) h->fn(h->data);
}

void rzmq_check_interrupt(rzmq_cleanup_fn cleanup, void *data) {
  held h;
  if (cleanup == NULL) {
    R_CheckUserInterrupt();
    return;
  }
  /* something is held: release it before R's interrupt unwinds the call */
  h.fn = cleanup;
  h.data = data;
  rzmq_protect(check_body, NULL, release_held, &h, 0);
}
