/* proxy.c: libzmq's steerable proxy, always on a C thread of its own, for
 * zmq.proxy() (R waits in slices and stops it on an interrupt) and for
 * init.proxy() (R goes on; pause, resume, statistics, stop). While it runs
 * its sockets are lent to it (head.busy): R cannot use them, and closing
 * one from anywhere (socket.c) stops the proxy first. */
#include "rzmq.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libzmq's proxy sends to the capture socket without polling it first: a
 * capture no one reads would hold the thread in that send for good, deaf
 * to TERMINATE. So while it runs, such a send gives up after this long and
 * the proxy ends with EAGAIN. */
#define CAPTURE_SNDTIMEO_MS 1000

struct rzmq_proxy {
  rzmq_head head;     /* closed: stopped, its sockets given back */
  rzmq_sock *sock[3]; /* frontend, backend, capture (NULL) while running */
  void *zsock[3];     /* their libzmq sockets, for the thread */
  void *ctl_main;     /* ours: commands go out, statistics come back */
  void *ctl_thread;   /* the thread's, closed by it */
  pthread_t tid;
  pthread_mutex_t mu; /* guards done, rc, err */
  pthread_cond_t cv;  /* signalled when the thread is done */
  int done, rc, err;
  int pending; /* statistics frames still to come (some of them abandoned) */
};

static void *proxy_thread(void *arg) {
  rzmq_proxy *p = arg;
  int linger = 0;
  int rc = zmq_proxy_steerable(p->zsock[0], p->zsock[1], p->zsock[2],
                               p->ctl_thread);
  int err = rc != 0 ? zmq_errno() : 0;
  zmq_setsockopt(p->ctl_thread, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(p->ctl_thread);
  pthread_mutex_lock(&p->mu);
  p->done = 1;
  p->rc = rc;
  p->err = err;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static int proxy_done(rzmq_proxy *p) {
  int d;
  pthread_mutex_lock(&p->mu);
  d = p->done;
  pthread_mutex_unlock(&p->mu);
  return d;
}

void rzmq_proxy_stop(rzmq_proxy *p) {
  int i, linger = 0;
  if (p == NULL || p->head.closed) return;
  /* unread if the thread already ended on its own (a failure) */
  zmq_send(p->ctl_main, "TERMINATE", 9, ZMQ_DONTWAIT);
  pthread_join(p->tid, NULL);
  if (p->sock[2] != NULL) /* what R's sends expect libzmq to hold */
    zmq_setsockopt(p->zsock[2], ZMQ_SNDTIMEO, &p->sock[2]->applied_sndtimeo,
                   sizeof(int));
  zmq_setsockopt(p->ctl_main, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(p->ctl_main);
  p->ctl_main = NULL;
  /* the join ordered the thread's last use of them before R's next one */
  for (i = 0; i < 3; i++)
    if (p->sock[i] != NULL) {
      p->sock[i]->head.busy = 0;
      p->sock[i]->proxy = NULL;
      p->sock[i] = NULL;
    }
  p->head.closed = 1;
}

static void proxy_stop_cb(void *p) { rzmq_proxy_stop(p); }

static void proxy_finalize(SEXP x) {
  rzmq_proxy *p = rzmq_handle_finalizing(x);
  if (p == NULL) return;
  rzmq_proxy_stop(p);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

static void ctl_close(void **s) {
  int linger = 0;
  if (*s == NULL) return;
  zmq_setsockopt(*s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(*s);
  *s = NULL;
}

/* A running proxy behind a new handle whose prot holds the sockets'. */
static SEXP proxy_start(SEXP frontend, SEXP backend, SEXP capture) {
  static long seq = 0;
  rzmq_sock *s[3];
  rzmq_proxy *p;
  SEXP prot, ptr;
  char ep[64];
  int i, err = 0;
  s[0] = rzmq_socket_get(frontend, "frontend");
  s[1] = rzmq_socket_get(backend, "backend");
  s[2] = capture == R_NilValue ? NULL : rzmq_socket_get(capture, "capture");
  if (s[2] != NULL && (s[2] == s[0] || s[2] == s[1]))
    Rf_error("`capture` must be another socket than `frontend` and "
             "`backend`");
  prot = PROTECT(Rf_allocVector(VECSXP, 3));
  SET_VECTOR_ELT(prot, 0, frontend);
  SET_VECTOR_ELT(prot, 1, backend);
  SET_VECTOR_ELT(prot, 2, capture);
  p = calloc(1, sizeof *p);
  if (p == NULL) Rf_error("cannot allocate a zmq proxy");
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->head.closed = 1; /* until the thread runs */
  ptr = PROTECT(rzmq_handle_new(p, RZMQ_PROXY, prot, proxy_finalize, TRUE));
  snprintf(ep, sizeof ep, "inproc://rzmq-proxy-%u-%ld", rzmq_fork_gen, ++seq);
  /* inproc needs one context for both ends: the frontend's, open while the
   * frontend is */
  p->ctl_thread = zmq_socket(s[0]->ctx->handle, ZMQ_PAIR);
  p->ctl_main = zmq_socket(s[0]->ctx->handle, ZMQ_PAIR);
  if (p->ctl_thread == NULL || p->ctl_main == NULL) err = zmq_errno();
  if (err == 0 && zmq_bind(p->ctl_thread, ep) != 0) err = zmq_errno();
  if (err == 0 && zmq_connect(p->ctl_main, ep) != 0) err = zmq_errno();
  for (i = 0; i < 3; i++) p->zsock[i] = s[i] != NULL ? s[i]->handle : NULL;
  if (err == 0 && s[2] != NULL) {
    int ms = s[2]->sndtimeo >= 0 && s[2]->sndtimeo < CAPTURE_SNDTIMEO_MS
                 ? s[2]->sndtimeo : CAPTURE_SNDTIMEO_MS;
    if (zmq_setsockopt(p->zsock[2], ZMQ_SNDTIMEO, &ms, sizeof ms) != 0)
      err = zmq_errno();
  }
  /* the thread takes the sockets from here: pthread_create is the full
   * memory barrier libzmq asks of a socket moving between threads. It
   * starts with every signal blocked: a signal handled on it (SIGCHLD while
   * R's thread blocks it, as processx does when it kills a child) would end
   * libzmq's proxy with EINTR; blocked here, the kernel gives it to R's. */
  if (err == 0 && rzmq_thread_start_masked(&p->tid, proxy_thread, p) != 0)
    err = EAGAIN;
  if (err != 0) {
    if (s[2] != NULL)
      zmq_setsockopt(p->zsock[2], ZMQ_SNDTIMEO, &s[2]->applied_sndtimeo,
                     sizeof(int));
    ctl_close(&p->ctl_thread);
    ctl_close(&p->ctl_main);
    rzmq_set_errno(err);
    Rf_error("cannot start a zmq proxy: %s", zmq_strerror(err));
  }
  for (i = 0; i < 3; i++)
    if (s[i] != NULL) {
      p->sock[i] = s[i];
      s[i]->head.busy = 1;
      s[i]->proxy = p;
    }
  p->head.closed = 0;
  UNPROTECT(2);
  return ptr;
}

SEXP rzmq_proxy_run(SEXP frontend, SEXP backend, SEXP capture) {
  SEXP ptr = PROTECT(proxy_start(frontend, backend, capture));
  rzmq_proxy *p = R_ExternalPtrAddr(ptr);
  int rc, err;
  for (;;) {
    struct timespec ts;
    int done;
    rzmq_abstime_in(&ts, rzmq_next_slice(-1));
    pthread_mutex_lock(&p->mu);
    if (!p->done) pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    done = p->done;
    pthread_mutex_unlock(&p->mu);
    if (done) break;
    /* on an interrupt: stop it (sockets back to R), then unwind */
    rzmq_check_interrupt(proxy_stop_cb, p);
  }
  rc = p->rc;
  err = p->err;
  rzmq_proxy_stop(p);
  UNPROTECT(1);
  if (rc != 0) return rzmq_fail_false(err);
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_proxy_new(SEXP frontend, SEXP backend, SEXP capture) {
  return proxy_start(frontend, backend, capture);
}

static rzmq_proxy *proxy_get(SEXP x) {
  return rzmq_handle_get(x, RZMQ_PROXY, "p");
}

/* Ask for statistics and wait for them, in slices. The proxy answers its
 * commands in order, so the reply also means every earlier command was
 * applied. Frames of a reply abandoned by an interrupt are read first and
 * dropped. Returns 0, or an errno (the thread has ended). */
static int proxy_roundtrip(rzmq_proxy *p, uint64_t out[8]) {
  if (zmq_send(p->ctl_main, "STATISTICS", 10, ZMQ_DONTWAIT) < 0)
    return zmq_errno();
  p->pending += 8;
  while (p->pending > 0) {
    zmq_pollitem_t item;
    int n;
    memset(&item, 0, sizeof item);
    item.socket = p->ctl_main;
    item.events = ZMQ_POLLIN;
    n = zmq_poll(&item, 1, rzmq_next_slice(-1));
    if (n < 0 && zmq_errno() != EINTR) return zmq_errno();
    if (n > 0) {
      zmq_msg_t m;
      int k = 8 - p->pending;
      zmq_msg_init(&m);
      if (zmq_msg_recv(&m, p->ctl_main, ZMQ_DONTWAIT) >= 0) {
        if (k >= 0) {
          uint64_t v = 0;
          if (zmq_msg_size(&m) == sizeof v)
            memcpy(&v, zmq_msg_data(&m), sizeof v);
          out[k] = v;
        }
        p->pending--;
      }
      zmq_msg_close(&m);
      continue;
    }
    if (proxy_done(p)) return ETERM;
    rzmq_check_interrupt(NULL, NULL); /* nothing held: pending counts */
  }
  return 0;
}

static void check_running(rzmq_proxy *p) {
  if (proxy_done(p))
    Rf_error("`p` is no longer running (its proxy failed: %s); stop.proxy() "
             "it to use its sockets again", zmq_strerror(p->err));
}

SEXP rzmq_proxy_pause(SEXP x, SEXP pause) {
  rzmq_proxy *p = proxy_get(x);
  int on = rzmq_arg_flag(pause, "pause");
  uint64_t st[8];
  const char *cmd = on ? "PAUSE" : "RESUME";
  int err;
  check_running(p);
  if (zmq_send(p->ctl_main, cmd, strlen(cmd), ZMQ_DONTWAIT) < 0)
    return rzmq_fail_false(zmq_errno());
  /* returns once the proxy has applied it */
  err = proxy_roundtrip(p, st);
  if (err != 0) return rzmq_fail_false(err);
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_proxy_stats(SEXP x) {
  static const char *names[8] = {
      "frontend.messages.in", "frontend.bytes.in", "frontend.messages.out",
      "frontend.bytes.out",   "backend.messages.in", "backend.bytes.in",
      "backend.messages.out", "backend.bytes.out"};
  rzmq_proxy *p = proxy_get(x);
  uint64_t st[8];
  int err, i;
  SEXP out, nm;
  check_running(p);
  err = proxy_roundtrip(p, st);
  if (err != 0) return rzmq_fail_null(err);
  out = PROTECT(Rf_allocVector(REALSXP, 8));
  nm = PROTECT(Rf_allocVector(STRSXP, 8));
  for (i = 0; i < 8; i++) {
    REAL(out)[i] = (double)st[i];
    SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
  }
  Rf_setAttrib(out, R_NamesSymbol, nm);
  UNPROTECT(2);
  return out;
}

SEXP rzmq_proxy_halt(SEXP x) {
  rzmq_proxy *p = rzmq_handle_peek(x, RZMQ_PROXY);
  if (p != NULL && p->head.closed) return Rf_ScalarLogical(TRUE);
  rzmq_proxy_stop(proxy_get(x));
  return Rf_ScalarLogical(TRUE);
}
