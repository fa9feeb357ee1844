/* bufcache.c: large send buffers. The last large buffer libzmq releases is
 * kept for the next large message, for a short while: an idle-janitor
 * thread of ours frees it after CACHE_IDLE_MS, and R's next garbage
 * collection frees it too. serialize.c writes into these buffers. */
#include "rzmq.h"
#include <stdint.h>
#include <stdlib.h>

/* Large fresh memory (a vector, a send buffer) is about to be written once
 * from end to end: ask the kernel for huge pages there (where transparent
 * huge pages are set to "madvise"), so filling it takes a few hundred page
 * faults, not tens of thousands. Only advice: nothing changes if the kernel
 * declines. */
#define HUGE_MIN ((size_t)8 << 20)
void rzmq_advise_fresh(void *p, size_t n) {
  if (n >= HUGE_MIN) rzmq_advise_huge(p, n);
}

/* ---- the cache ---------------------------------------------------------------
 * Filling fresh memory costs a page fault per page, as much again as the
 * copy itself; so the last large buffer libzmq releases is cached for the
 * next large message instead of going back to the system. Not for long: a
 * cached buffer nobody takes within CACHE_IDLE_MS is freed by a small thread
 * of ours (it only ever frees memory), and R's next garbage collection frees
 * it too, so a session that is done with large messages gets the memory
 * back. */
#define CACHE_MIN (1u << 20)
#define CACHE_MAX ((size_t)256 << 20) /* never hold on to more than this */
#define CACHE_IDLE_MS 1000 /* ... or the next garbage collection */
static void *cached = NULL;   /* all of these under rzmq_io_mu */
static size_t cached_cap = 0;
static unsigned cached_seq = 0; /* changes whenever `cached` does */

static pthread_cond_t janitor_cv;
static pthread_t janitor_tid;
static int janitor_on = 0;      /* started, in fork generation janitor_gen */
static unsigned janitor_gen = 0;
static int janitor_stop = 0;

static void *janitor(void *unused) {
  (void)unused;
  pthread_mutex_lock(&rzmq_io_mu);
  while (!janitor_stop) {
    unsigned seen;
    struct timespec ts;
    if (cached == NULL) {
      pthread_cond_wait(&janitor_cv, &rzmq_io_mu);
      continue;
    }
    seen = cached_seq;
    rzmq_abstime_in(&ts, CACHE_IDLE_MS);
    while (!janitor_stop && cached_seq == seen &&
           pthread_cond_timedwait(&janitor_cv, &rzmq_io_mu, &ts) == 0) {
    }
    if (!janitor_stop && cached != NULL && cached_seq == seen) {
      void *p = cached; /* untouched for the whole wait: give it back */
      cached = NULL;
      cached_cap = 0;
      cached_seq++;
      pthread_mutex_unlock(&rzmq_io_mu);
      free(p);
      pthread_mutex_lock(&rzmq_io_mu);
    }
  }
  pthread_mutex_unlock(&rzmq_io_mu);
  return NULL;
}

/* R's garbage collection gives the cache back too: an object nothing refers
 * to, whose finalizer frees the cached buffer, made whenever a large buffer
 * may reach the cache. The next collection (gc(), or one R starts) runs it.
 * It counts as a live handle: its finalizer is our code. */
static int sentinel_armed = 0;

static void sentinel_fired(SEXP p) {
  void *buf;
  R_ClearExternalPtr(p);
  sentinel_armed = 0;
  rzmq_live_handles--;
  pthread_mutex_lock(&rzmq_io_mu);
  buf = cached;
  cached = NULL;
  cached_cap = 0;
  if (buf != NULL) cached_seq++;
  pthread_mutex_unlock(&rzmq_io_mu);
  free(buf);
}

static void sentinel_arm(void) {
  SEXP p;
  if (sentinel_armed) return;
  p = PROTECT(R_MakeExternalPtr(NULL, R_NilValue, R_NilValue));
  R_RegisterCFinalizerEx(p, sentinel_fired, FALSE);
  sentinel_armed = 1;
  rzmq_live_handles++;
  UNPROTECT(1);
}

/* Main thread, before a large buffer can reach the cache. In a forked child
 * the parent's janitor did not come along: start one of its own. */
static void janitor_ensure(void) {
  int started;
  sentinel_arm();
  /* only this thread writes these, so it may read them unlocked; libzmq's
   * threads read them in free_buffer, under the lock */
  if (janitor_on && janitor_gen == rzmq_fork_gen) return;
  pthread_mutex_lock(&rzmq_io_mu);
  pthread_cond_init(&janitor_cv, NULL);
  janitor_stop = 0;
  pthread_mutex_unlock(&rzmq_io_mu);
  started = pthread_create(&janitor_tid, NULL, janitor, NULL) == 0;
  pthread_mutex_lock(&rzmq_io_mu);
  janitor_on = started; /* without it no cache: free_buffer frees at once */
  janitor_gen = rzmq_fork_gen;
  pthread_mutex_unlock(&rzmq_io_mu);
}

/* Runs on whichever thread libzmq releases the message from: no R here.
 * The hint carries the buffer's capacity. */
static void free_buffer(void *data, void *hint) {
  size_t cap = (size_t)(uintptr_t)hint;
  if (cap >= CACHE_MIN && cap <= CACHE_MAX) {
    pthread_mutex_lock(&rzmq_io_mu);
    if (cached == NULL && janitor_on && janitor_gen == rzmq_fork_gen) {
      cached = data;
      cached_cap = cap;
      cached_seq++;
      data = NULL;
      pthread_cond_signal(&janitor_cv);
    }
    pthread_mutex_unlock(&rzmq_io_mu);
  }
  free(data);
}

void *rzmq_bufcache_take(size_t n, size_t *cap) {
  void *p;
  size_t c;
  if (n >= CACHE_MIN) janitor_ensure();
  pthread_mutex_lock(&rzmq_io_mu);
  p = cached;
  c = cached_cap;
  cached = NULL;
  cached_cap = 0;
  if (p != NULL) cached_seq++;
  pthread_mutex_unlock(&rzmq_io_mu);
  if (p != NULL && (c < n || c / 2 > n)) { /* too small, or far too large */
    free(p);
    p = NULL;
  }
  if (p == NULL) {
    p = malloc(n);
    c = n;
    if (p != NULL) rzmq_advise_fresh(p, n);
  }
  *cap = c;
  return p;
}

int rzmq_bufcache_msg(zmq_msg_t *msg, void *buf, size_t len, size_t cap) {
  if (cap >= CACHE_MIN) janitor_ensure();
  return zmq_msg_init_data(msg, buf, len, free_buffer, (void *)(uintptr_t)cap);
}

/* How many bytes the cache holds (for tests). */
SEXP rzmq_cache_size(void) {
  size_t c;
  pthread_mutex_lock(&rzmq_io_mu);
  c = cached == NULL ? 0 : cached_cap;
  pthread_mutex_unlock(&rzmq_io_mu);
  return Rf_ScalarReal((double)c);
}

/* ---- exit and unload -------------------------------------------------------- */

/* Stop and join the janitor (this process's, not a parent's): at unload,
 * and at exit so that no thread of ours outlives R. A later large message
 * starts it again. */
void rzmq_bufcache_stop(void) {
  if (janitor_on && janitor_gen == rzmq_fork_gen) {
    pthread_mutex_lock(&rzmq_io_mu);
    janitor_stop = 1;
    pthread_cond_signal(&janitor_cv);
    pthread_mutex_unlock(&rzmq_io_mu);
    pthread_join(janitor_tid, NULL);
  }
  pthread_mutex_lock(&rzmq_io_mu);
  janitor_on = 0; /* free_buffer frees at once from now on */
  pthread_mutex_unlock(&rzmq_io_mu);
}

void rzmq_bufcache_unload(void) {
  rzmq_bufcache_stop();
  pthread_mutex_lock(&rzmq_io_mu);
  free(cached);
  cached = NULL;
  cached_cap = 0;
  pthread_mutex_unlock(&rzmq_io_mu);
}
