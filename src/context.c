/* context.c: context handles and everything about lifetime. Contexts are
 * terminated on a helper thread so that gc() never blocks; explicit destroy
 * waits for it interruptibly; at exit we wait a bounded time for delivery.
 * A forked child never touches what its parent created. */
#include "rzmq.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

SEXP rzmq_tag_context, rzmq_tag_socket, rzmq_tag_message;
unsigned rzmq_fork_gen = 0;

static rzmq_ctx *all_contexts = NULL;

/* ---- termination jobs ---------------------------------------------------- */

typedef struct term_job {
  void *handle;
  int done;
  int refs; /* the thread, plus the waiter if there is one */
} term_job;

static pthread_mutex_t term_mu = PTHREAD_MUTEX_INITIALIZER;
/* Guards what libzmq's threads hand back: lent vectors, spare buffers. */
pthread_mutex_t rzmq_io_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t term_cv = PTHREAD_COND_INITIALIZER;
static int term_pending = 0;

static void job_unref_locked(term_job *job) {
  if (--job->refs == 0) free(job);
}

static void *term_thread(void *arg) {
  term_job *job = arg;
  /* zmq_ctx_term waits for every socket's linger; EINTR means try again */
  while (zmq_ctx_term(job->handle) == -1 && zmq_errno() == EINTR) {
  }
  pthread_mutex_lock(&term_mu);
  job->done = 1;
  term_pending--;
  job_unref_locked(job);
  pthread_cond_broadcast(&term_cv);
  pthread_mutex_unlock(&term_mu);
  return NULL;
}

/* Hand a zmq context to a detached thread; returns a job to wait on when
 * `want_job`, else NULL. Never blocks unless no thread can be started. */
static term_job *term_start(void *handle, int want_job) {
  term_job *job = malloc(sizeof *job);
  pthread_t tid;
  pthread_attr_t attr;
  int ok = 0;
  if (job != NULL) {
    job->handle = handle;
    job->done = 0;
    job->refs = want_job ? 2 : 1;
    pthread_mutex_lock(&term_mu);
    term_pending++;
    pthread_mutex_unlock(&term_mu);
    if (pthread_attr_init(&attr) == 0) {
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      ok = pthread_create(&tid, &attr, term_thread, job) == 0;
      pthread_attr_destroy(&attr);
    }
    if (!ok) {
      pthread_mutex_lock(&term_mu);
      term_pending--;
      pthread_mutex_unlock(&term_mu);
      free(job);
      job = NULL;
    }
  }
  if (!ok) { /* out of threads: terminate here, sockets are already closed */
    while (zmq_ctx_term(handle) == -1 && zmq_errno() == EINTR) {
    }
    return NULL;
  }
  return want_job ? job : NULL;
}

static void job_release(void *data) {
  pthread_mutex_lock(&term_mu);
  job_unref_locked((term_job *)data);
  pthread_mutex_unlock(&term_mu);
}

static void deadline_in(struct timespec *ts, long ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Wait for one job, checking for a user interrupt every 100 ms. An interrupt
 * leaves the termination running in the background. */
static void job_wait(term_job *job) {
  for (;;) {
    struct timespec ts;
    int done;
    deadline_in(&ts, 100);
    pthread_mutex_lock(&term_mu);
    if (!job->done) pthread_cond_timedwait(&term_cv, &term_mu, &ts);
    done = job->done;
    pthread_mutex_unlock(&term_mu);
    if (done) break;
    rzmq_check_interrupt(job_release, job);
  }
  job_release(job);
}

/* ---- fork safety ---------------------------------------------------------- */

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
  term_pending = 0;
  all_contexts = NULL;
  pthread_mutex_unlock(&term_mu);
  pthread_mutex_unlock(&rzmq_io_mu);
}

void rzmq_lifetime_init(DllInfo *dll) {
  (void)dll;
  rzmq_tag_context = Rf_install("rzmq_context");
  rzmq_tag_socket = Rf_install("rzmq_socket");
  rzmq_tag_message = Rf_install("rzmq_message");
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- context structs ------------------------------------------------------ */

static void ctx_maybe_free(rzmq_ctx *ctx) {
  if (ctx->holders > 0) return;
  if (ctx->prev) ctx->prev->next = ctx->next;
  else if (all_contexts == ctx) all_contexts = ctx->next;
  if (ctx->next) ctx->next->prev = ctx->prev;
  free(ctx);
}

/* Start termination once it was asked for and no socket is open. */
static term_job *ctx_maybe_term(rzmq_ctx *ctx, int want_job) {
  void *h = ctx->handle;
  if (!ctx->term_requested || ctx->sockets != NULL || h == NULL) return NULL;
  ctx->handle = NULL;
  return term_start(h, want_job);
}

void rzmq_context_link(rzmq_ctx *ctx, rzmq_sock *s) {
  s->prev = NULL;
  s->next = ctx->sockets;
  if (ctx->sockets) ctx->sockets->prev = s;
  ctx->sockets = s;
}

void rzmq_context_unlink(rzmq_ctx *ctx, rzmq_sock *s) {
  if (s->prev) s->prev->next = s->next;
  else if (ctx->sockets == s) ctx->sockets = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

void rzmq_context_socket_closed(rzmq_ctx *ctx) { ctx_maybe_term(ctx, 0); }

void rzmq_context_holder_gone(rzmq_ctx *ctx) {
  ctx->holders--;
  ctx_maybe_free(ctx);
}

static void ctx_finalize(SEXP x) {
  rzmq_ctx *ctx = R_ExternalPtrAddr(x);
  if (ctx == NULL) return;
  R_ClearExternalPtr(x);
  if (ctx->gen != rzmq_fork_gen) return; /* the parent's: not ours to touch */
  ctx->term_requested = 1;
  ctx_maybe_term(ctx, 0);
  rzmq_context_holder_gone(ctx);
}

rzmq_ctx *rzmq_context_get(SEXP x, const char *name) {
  rzmq_ctx *ctx;
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != rzmq_tag_context) {
    if (TYPEOF(x) == EXTPTRSXP && R_ExternalPtrTag(x) == rzmq_tag_socket)
      Rf_error("`%s` must be a zmq context, not a zmq socket", name);
    Rf_error("`%s` must be a zmq context made by init.context()", name);
  }
  ctx = R_ExternalPtrAddr(x);
  if (ctx == NULL)
    Rf_error("`%s` is not a live zmq context (was it saved and restored?)",
             name);
  if (ctx->gen != rzmq_fork_gen)
    Rf_error("`%s` was created in another process and cannot be used here",
             name);
  if (ctx->handle == NULL || ctx->term_requested)
    Rf_error("`%s` has been destroyed", name);
  return ctx;
}

SEXP rzmq_context_new(SEXP threads) {
  double n = rzmq_arg_number(threads, "threads");
  rzmq_ctx *ctx;
  SEXP ptr;
  if (n < 0 || n > 65536 || n != floor(n))
    Rf_error("`threads` must be a whole number from 0 to 65536");
  /* the owner first, so the GC can clean up whatever follows */
  ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) Rf_error("cannot allocate a zmq context");
  ptr = PROTECT(R_MakeExternalPtr(ctx, rzmq_tag_context, R_NilValue));
  ctx->gen = rzmq_fork_gen;
  ctx->holders = 1;
  ctx->next = all_contexts;
  if (all_contexts) all_contexts->prev = ctx;
  all_contexts = ctx;
  R_RegisterCFinalizerEx(ptr, ctx_finalize, TRUE);
  ctx->handle = zmq_ctx_new();
  if (ctx->handle == NULL) {
    int err = zmq_errno();
    rzmq_set_errno(err);
    Rf_error("cannot create a zmq context: %s", zmq_strerror(err));
  }
  if (zmq_ctx_set(ctx->handle, ZMQ_IO_THREADS, (int)n) != 0) {
    int err = zmq_errno();
    rzmq_set_errno(err);
    Rf_error("cannot set `threads` to %d: %s", (int)n, zmq_strerror(err));
  }
  UNPROTECT(1);
  return ptr;
}

static void ctx_close_sockets(rzmq_ctx *ctx, int linger, int set_linger) {
  while (ctx->sockets != NULL) {
    rzmq_sock *s = ctx->sockets;
    if (set_linger && s->handle)
      zmq_setsockopt(s->handle, ZMQ_LINGER, &linger, sizeof linger);
    rzmq_socket_release(s); /* unlinks s from ctx->sockets */
  }
}

SEXP rzmq_context_destroy(SEXP x, SEXP linger) {
  rzmq_ctx *ctx;
  int set_linger = 0, ms = 0;
  term_job *job;
  if (TYPEOF(x) == EXTPTRSXP && R_ExternalPtrTag(x) == rzmq_tag_context) {
    rzmq_ctx *c = R_ExternalPtrAddr(x);
    if (c != NULL && c->gen == rzmq_fork_gen && c->term_requested)
      return Rf_ScalarLogical(TRUE); /* destroying twice is harmless */
  }
  ctx = rzmq_context_get(x, "context");
  if (linger != R_NilValue) {
    double v = rzmq_arg_number(linger, "linger");
    if (v != floor(v) || v < -1 || v > 2147483647.0)
      Rf_error("`linger` must be whole milliseconds >= -1");
    ms = (int)v;
    set_linger = 1;
  }
  ctx_close_sockets(ctx, ms, set_linger);
  ctx->term_requested = 1;
  job = ctx_maybe_term(ctx, 1);
  if (job != NULL) job_wait(job);
  return Rf_ScalarLogical(TRUE);
}

/* Run once at exit (an R finalizer registered by .onLoad; an R closure, so
 * that it cannot call into an unloaded library): close what is still
 * open, terminate every context, and give queued messages up to `timeout`
 * seconds to leave, so a script's last results are delivered but a peer
 * that never comes cannot keep the process alive. */
SEXP rzmq_exit_cleanup(SEXP timeout) {
  double secs = 3;
  struct timespec ts;
  rzmq_ctx *ctx, *next;
  if (TYPEOF(timeout) == REALSXP || TYPEOF(timeout) == INTSXP) {
    double v = Rf_asReal(timeout);
    if (!ISNAN(v) && v >= 0) secs = v > 3600 ? 3600 : v;
  }
  for (ctx = all_contexts; ctx != NULL; ctx = next) {
    next = ctx->next;
    if (ctx->gen != rzmq_fork_gen) continue;
    ctx_close_sockets(ctx, 0, 0);
    ctx->term_requested = 1;
    ctx_maybe_term(ctx, 0);
  }
  deadline_in(&ts, (long)(secs * 1000));
  pthread_mutex_lock(&term_mu);
  while (term_pending > 0) {
    if (pthread_cond_timedwait(&term_cv, &term_mu, &ts) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&term_mu);
  return R_NilValue;
}
