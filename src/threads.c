/* threads.c: work that outlives a call, off R's thread. The termination
 * threads (a context's zmq_ctx_term, and the joins that finalizers hand
 * over, so that gc() never blocks: lifetime.c says what goes there), the
 * fork handlers (a forked child never touches what its parent made), the
 * mutex guarding what libzmq's threads hand back, and pinning: keeping this
 * library mapped when some of its code must still run after R unloads it. */
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>

pthread_mutex_t rzmq_io_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- termination threads ---------------------------------------------------
 * Every thread is joinable and listed in `jobs` until joined, so unload can
 * know that none of them is still running our code. */

struct rzmq_term_job {
  rzmq_job_fn fn; /* first, if any: a join handed over by a finalizer */
  void *arg;
  void *zctx;     /* then, if any: the context to terminate */
  pthread_t tid;
  int done;    /* zmq_ctx_term returned */
  int waiting; /* destroy.context is waiting on it */
  struct rzmq_term_job *next;
};

static pthread_mutex_t term_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t term_cv = PTHREAD_COND_INITIALIZER;
static rzmq_term_job *jobs = NULL;
static int running = 0;

static void term_now(void *zctx) {
  /* zmq_ctx_term waits for every socket's linger; EINTR means try again */
  while (zmq_ctx_term(zctx) == -1 && zmq_errno() == EINTR) {
  }
}

static void *term_thread(void *arg) {
  rzmq_term_job *job = arg;
  if (job->fn != NULL) job->fn(job->arg);
  if (job->zctx != NULL) term_now(job->zctx);
  pthread_mutex_lock(&term_mu);
  job->done = 1;
  running--;
  pthread_cond_broadcast(&term_cv);
  pthread_mutex_unlock(&term_mu);
  return NULL;
}

/* Join and free the jobs that are over and that nobody waits on. A done
 * thread has only its return left to run, so the join is immediate. */
static void reap_locked(void) {
  rzmq_term_job **p = &jobs;
  while (*p != NULL) {
    rzmq_term_job *job = *p;
    if (job->done && !job->waiting) {
      *p = job->next;
      pthread_join(job->tid, NULL);
      free(job);
    } else {
      p = &job->next;
    }
  }
}

rzmq_term_job *rzmq_thread_job(rzmq_job_fn fn, void *arg, void *zctx,
                               int want_wait) {
  rzmq_term_job *job = calloc(1, sizeof *job);
  if (job != NULL) {
    job->fn = fn;
    job->arg = arg;
    job->zctx = zctx;
    job->waiting = want_wait;
    pthread_mutex_lock(&term_mu);
    reap_locked();
    if (pthread_create(&job->tid, NULL, term_thread, job) == 0) {
      job->next = jobs;
      jobs = job;
      running++;
      pthread_mutex_unlock(&term_mu);
      return want_wait ? job : NULL;
    }
    pthread_mutex_unlock(&term_mu);
    free(job);
  }
  /* out of memory or threads: here, then (the last resort: it may wait) */
  if (fn != NULL) fn(arg);
  if (zctx != NULL) term_now(zctx);
  return NULL;
}

rzmq_term_job *rzmq_term_start(void *zctx, int want_wait) {
  return rzmq_thread_job(NULL, NULL, zctx, want_wait);
}

void rzmq_later(rzmq_job_fn fn, void *arg) {
  rzmq_thread_job(fn, arg, NULL, 0);
}

static void job_release(void *data) {
  pthread_mutex_lock(&term_mu);
  ((rzmq_term_job *)data)->waiting = 0;
  reap_locked();
  pthread_mutex_unlock(&term_mu);
}

/* Checks for a user interrupt every 100 ms; an interrupt leaves the
 * termination running in the background. */
void rzmq_term_wait(rzmq_term_job *job) {
  if (job == NULL) return;
  for (;;) {
    struct timespec ts;
    int done;
    rzmq_abstime_in(&ts, 100);
    pthread_mutex_lock(&term_mu);
    if (!job->done) pthread_cond_timedwait(&term_cv, &term_mu, &ts);
    done = job->done;
    pthread_mutex_unlock(&term_mu);
    if (done) break;
    rzmq_check_interrupt(job_release, job);
  }
  job_release(job);
}

int rzmq_term_wait_all(double secs) {
  struct timespec ts;
  int left;
  rzmq_abstime_in(&ts, (long)(secs * 1000));
  pthread_mutex_lock(&term_mu);
  while (running > 0) {
    if (pthread_cond_timedwait(&term_cv, &term_mu, &ts) == ETIMEDOUT) break;
  }
  reap_locked();
  left = running;
  pthread_mutex_unlock(&term_mu);
  return left;
}

/* ---- fork ------------------------------------------------------------------ */

static void atfork_prepare(void) {
  pthread_mutex_lock(&rzmq_io_mu);
  pthread_mutex_lock(&term_mu);
}
static void atfork_parent(void) {
  pthread_mutex_unlock(&term_mu);
  pthread_mutex_unlock(&rzmq_io_mu);
}
static void atfork_child(void) {
  /* the termination threads did not come along; nothing inherited is ours */
  rzmq_fork_gen++;
  running = 0;
  jobs = NULL; /* the parent's to join, not ours (their memory leaks here) */
  pthread_mutex_unlock(&term_mu);
  pthread_mutex_unlock(&rzmq_io_mu);
}

static int pinned = 0;

void rzmq_threads_init(void) {
  static int registered = 0;
  /* a pinned library keeps its handlers: registering twice would make fork
   * lock the mutexes twice */
  if (registered) return;
  rzmq_platform_atfork(atfork_prepare, atfork_parent, atfork_child);
  registered = 1;
}

/* ---- pinning ------------------------------------------------------------------
 * A reference to ourselves that is never given back: R's dlclose then leaves
 * the code mapped for the threads, libzmq callbacks and finalizers that still
 * need it. */
void rzmq_threads_pin(void) {
  if (!pinned) pinned = rzmq_platform_pin();
}
