/* handle.c: the handles R holds. External pointers tagged by kind (context,
 * socket, message object, authenticator, proxy, poller), one getter that validates
 * any kind (open, not lent to a proxy) and names the argument in its errors,
 * the fork generation they are made in, loans (sockets lent to a proxy's
 * thread) and the count of handles whose finalizers have not run yet (their
 * code must stay loaded, see init.c's unload). */
#include "rzmq.h"
#include <stdlib.h>
#include <string.h>

SEXP rzmq_tag[RZMQ_KINDS];
int rzmq_live_handles = 0;
unsigned rzmq_fork_gen = 0; /* threads.c's fork handler counts forks */

static const struct {
  const char *tag, *noun, *maker, *closed;
} kinds[RZMQ_KINDS] = {
    {"rzmq_context", "zmq context", "init.context()", "has been destroyed"},
    {"rzmq_socket", "zmq socket", "init.socket()", "has been closed"},
    {"rzmq_message", "zmq message", "init.message()", NULL},
    {"rzmq_authenticator", "zmq authenticator", "init.authenticator()",
     "has been destroyed"},
    {"rzmq_proxy", "zmq proxy", "init.proxy()", "has been stopped"},
    {"rzmq_poller", "zmq poller", "init.poller()", NULL},
};

void rzmq_handle_init(void) {
  int k;
  for (k = 0; k < RZMQ_KINDS; k++) rzmq_tag[k] = Rf_install(kinds[k].tag);
}

SEXP rzmq_handle_new(void *h, rzmq_kind kind, SEXP prot, R_CFinalizer_t fin,
                     Rboolean onexit) {
  rzmq_head *head = h;
  SEXP ptr = PROTECT(R_MakeExternalPtr(h, rzmq_tag[kind], prot));
  head->gen = rzmq_fork_gen;
  R_RegisterCFinalizerEx(ptr, fin, onexit);
  rzmq_live_handles++;
  UNPROTECT(1);
  return ptr;
}

void *rzmq_handle_peek(SEXP x, rzmq_kind kind) {
  rzmq_head *h;
  if (TYPEOF(x) != EXTPTRSXP || R_ExternalPtrTag(x) != rzmq_tag[kind])
    return NULL;
  h = R_ExternalPtrAddr(x);
  if (h == NULL || h->gen != rzmq_fork_gen) return NULL;
  return h;
}

int rzmq_handle_kind(SEXP x) {
  int k;
  if (TYPEOF(x) != EXTPTRSXP) return -1;
  for (k = 0; k < RZMQ_KINDS; k++)
    if (R_ExternalPtrTag(x) == rzmq_tag[k]) return k;
  return -1;
}

/* Say what is wrong with `x` as a handle of `kind`. */
static void handle_error(SEXP x, rzmq_kind kind, const char *name) {
  int k = rzmq_handle_kind(x);
  rzmq_head *h;
  if (k != (int)kind) {
    if (k >= 0)
      Rf_error("`%s` must be a %s, not a %s", name, kinds[kind].noun,
               kinds[k].noun);
    Rf_error("`%s` must be a %s made by %s", name, kinds[kind].noun,
             kinds[kind].maker);
  }
  h = R_ExternalPtrAddr(x);
  if (h != NULL && h->gen != rzmq_fork_gen)
    Rf_error("`%s` was created in another process and cannot be used here",
             name);
  if (h == NULL || kinds[kind].closed == NULL)
    Rf_error("`%s` is not a live %s (was it saved and restored?)", name,
             kinds[kind].noun);
  Rf_error("`%s` %s", name, kinds[kind].closed);
}

/* ---- loans -------------------------------------------------------------------
 * A loan outlives the proxy that made it: a finalizer that ends a proxy
 * cannot wait for its thread, so a termination thread joins it and marks the
 * loan returned; the handles R still holds are given back here, by the
 * first call that needs one (such a call may wait: the thread has been told
 * to end and does so at once). */

rzmq_loan *rzmq_loan_new(void) {
  rzmq_loan *l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  l->refs = 1; /* the lender's */
  return l;
}

void rzmq_loan_lend(rzmq_loan *l, rzmq_head *h) {
  pthread_mutex_lock(&l->mu);
  l->refs++;
  pthread_mutex_unlock(&l->mu);
  h->loan = l;
  h->busy = 1;
}

void rzmq_loan_drop(rzmq_loan *l) {
  int left;
  if (l == NULL) return;
  pthread_mutex_lock(&l->mu);
  left = --l->refs;
  pthread_mutex_unlock(&l->mu);
  if (left > 0) return;
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cv);
  free(l);
}

void rzmq_loan_end(rzmq_loan *l) {
  pthread_mutex_lock(&l->mu);
  l->returned = 1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

int rzmq_loan_defer(rzmq_loan *l, void *zsock, int unmonitor) {
  int later;
  pthread_mutex_lock(&l->mu);
  later = !l->returned && l->n_after < RZMQ_LOAN_AFTER;
  if (later) {
    l->after[l->n_after].zsock = zsock;
    l->after[l->n_after].unmonitor = unmonitor;
    l->n_after++;
  }
  pthread_mutex_unlock(&l->mu);
  return later;
}

void rzmq_loan_return(rzmq_loan *l) {
  pthread_mutex_lock(&l->mu);
  /* in order; a finalizer may add more while we work, so until none is left */
  while (l->n_after > 0) {
    struct rzmq_loan_after a[RZMQ_LOAN_AFTER];
    int n = l->n_after, i;
    memcpy(a, l->after, sizeof a[0] * (size_t)n);
    l->n_after = 0;
    pthread_mutex_unlock(&l->mu);
    for (i = 0; i < n; i++) {
      if (a[i].unmonitor) zmq_socket_monitor(a[i].zsock, NULL, 0);
      else zmq_close(a[i].zsock);
    }
    pthread_mutex_lock(&l->mu);
  }
  l->returned = 1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

int rzmq_loan_settle(rzmq_head *h, int wait) {
  rzmq_loan *l = h->loan;
  int back;
  if (!h->busy) return 1;
  for (;;) {
    struct timespec ts;
    pthread_mutex_lock(&l->mu);
    if (wait && l->ending && !l->returned) {
      rzmq_abstime_in(&ts, 100);
      pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    back = l->returned;
    pthread_mutex_unlock(&l->mu);
    if (back || !wait || !l->ending) break;
    rzmq_check_interrupt(NULL, NULL); /* nothing held */
  }
  if (!back) return 0;
  /* the mutex ordered the thread's last use of it before ours */
  h->busy = 0;
  h->loan = NULL;
  rzmq_loan_drop(l);
  return 1;
}

void *rzmq_handle_get(SEXP x, rzmq_kind kind, const char *name) {
  rzmq_head *h = rzmq_handle_peek(x, kind);
  if (h == NULL || h->closed) handle_error(x, kind, name);
  /* its libzmq socket belongs to a proxy's thread now */
  if (h->busy && !rzmq_loan_settle(h, 1))
    Rf_error("`%s` is in use by a running proxy: stop.proxy() it first", name);
  return h;
}

void *rzmq_handle_to_release(SEXP x, rzmq_kind kind, const char *name) {
  rzmq_head *h = rzmq_handle_peek(x, kind);
  if (h != NULL && h->closed) return NULL; /* releasing twice is harmless */
  return rzmq_handle_get(x, kind, name);
}

void *rzmq_handle_finalizing(SEXP x) {
  rzmq_head *h = R_ExternalPtrAddr(x);
  if (h == NULL) return NULL;
  R_ClearExternalPtr(x);
  rzmq_live_handles--;
  return h->gen == rzmq_fork_gen ? h : NULL;
}

