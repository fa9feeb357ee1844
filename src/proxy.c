/* proxy.c: a proxy like libzmq's steerable one (same commands, same
 * statistics), always on a C thread of its own, for zmq.proxy() (R waits in
 * slices and stops it on an interrupt) and for init.proxy() (R goes on;
 * pause, resume, statistics, stop). While it runs its sockets are lent to it
 * (a loan, handle.c): R cannot use them; destroy.context(), a finalizer
 * or closing a monitor of one stops the proxy first (lifetime.c). */
#include "rzmq.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libzmq's own proxy sends to the capture socket with a blocking send and
 * loses the message it is forwarding when that send fails. This one never
 * waits for the capture: a copy it cannot take at once is dropped (and
 * counted), and the message itself goes on. */
#define N_STATS 9    /* libzmq's eight, then the capture copies dropped */
#define BURST 1000   /* messages forwarded one way before looking around */

/* One way through the proxy (frontend to backend, or back). */
typedef struct {
  zmq_msg_t first; /* while held: a first frame waiting for room */
  int held, more;  /* more: frames of that message still to come */
  int cstate;      /* its capture copy (capture_frame) */
  uint64_t bytes;  /* its size so far */
} proxy_way;

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
  rzmq_loan *loan; /* its sockets', while lent */
  int ending, joined, handle_gone; /* a termination thread joins it (under mu) */
  /* the thread's own: frontend in, bytes in, out, bytes out, the same for
   * the backend, capture copies dropped */
  uint64_t stats[N_STATS];
  proxy_way way[2]; /* the thread's: 0 frontend to backend, 1 back */
};

/* A copy of frame `m` for the capture socket, never waiting. `state`: 0 the
 * copy of this message goes through so far; 1 its first frame was refused,
 * so the rest of it is not offered; 2 a later frame was refused, so the
 * rest is offered anyway (libzmq drops it, and so keeps the capture's next
 * message whole). Returns 1 when this message's copy was just lost. */
static int capture_frame(void *cap, zmq_msg_t *m, int first, int more,
                         int *state) {
  zmq_msg_t c;
  int rc;
  if (first) *state = 0;
  if (*state == 1) return 0;
  zmq_msg_init(&c);
  if (zmq_msg_copy(&c, m) != 0) {
    zmq_msg_close(&c);
    rc = -1;
  } else {
    rc = zmq_msg_send(&c, cap, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT);
    if (rc < 0) zmq_msg_close(&c);
  }
  if (rc >= 0 || *state == 2) return 0;
  *state = first ? 1 : 2;
  return 1;
}

/* The rest of the message whose first frame just went: its frames are
 * there already (a message arrives whole), and `to`, having taken its
 * first frame, takes the others, unless its peer went away mid-message
 * (libzmq checks the high-water mark on first frames only): then the rest
 * is read and dropped, as libzmq drops the part it took, and the thread
 * never waits in that send. */
static int forward_rest(rzmq_proxy *p, proxy_way *w, void *from, void *to) {
  int more = w->more, gone = 0;
  while (more) {
    zmq_msg_t m;
    int err;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, from, 0) < 0) goto fail;
    more = zmq_msg_more(&m);
    w->bytes += zmq_msg_size(&m);
    if (p->zsock[2] != NULL &&
        capture_frame(p->zsock[2], &m, 0, more, &w->cstate))
      p->stats[8]++;
    if (gone) {
      zmq_msg_close(&m);
    } else if (zmq_msg_send(&m, to, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
      if (zmq_errno() != EAGAIN) goto fail;
      zmq_msg_close(&m);
      gone = 1;
    }
    continue;
  fail:
    err = zmq_errno();
    zmq_msg_close(&m);
    errno = err;
    return -1;
  }
  return 0;
}

/* Forward up to BURST whole messages from `from` to `to` (way `d`). A
 * first frame `to` cannot take at once waits in the way (*blocked set)
 * until it can: the thread never waits in a send, where it would not hear
 * R's commands, and loses nothing. How many went, or -1 with errno. */
static int forward(rzmq_proxy *p, int d, void *from, void *to, int *blocked) {
  proxy_way *w = &p->way[d];
  int in = d ? 4 : 0, out = d ? 2 : 6, i, err;
  *blocked = 0;
  for (i = 0; i < BURST; i++) {
    if (!w->held) {
      zmq_msg_init(&w->first);
      if (zmq_msg_recv(&w->first, from, ZMQ_DONTWAIT) < 0) {
        err = zmq_errno();
        zmq_msg_close(&w->first);
        errno = err;
        return err == EAGAIN ? i : -1;
      }
      w->held = 1;
      w->more = zmq_msg_more(&w->first);
      w->bytes = zmq_msg_size(&w->first);
      if (p->zsock[2] != NULL &&
          capture_frame(p->zsock[2], &w->first, 1, w->more, &w->cstate))
        p->stats[8]++;
    }
    if (zmq_msg_send(&w->first, to,
                     (w->more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0) {
      err = zmq_errno();
      if (err == EAGAIN) {
        *blocked = 1;
        return i;
      }
      zmq_msg_close(&w->first);
      w->held = 0;
      errno = err;
      return -1;
    }
    w->held = 0;
    if (forward_rest(p, w, from, to) != 0) return -1;
    p->stats[in]++;
    p->stats[in + 1] += w->bytes;
    p->stats[out]++;
    p->stats[out + 1] += w->bytes;
  }
  return i;
}

/* As the proxy ends: a message still waiting for room goes if it can now,
 * else it is dropped (its destination was full when the proxy stopped). */
static void release_held(rzmq_proxy *p) {
  int d;
  for (d = 0; d < 2; d++) {
    proxy_way *w = &p->way[d];
    void *from = p->zsock[d], *to = p->zsock[1 - d];
    if (!w->held) continue;
    w->held = 0;
    if (zmq_msg_send(&w->first, to, (w->more ? ZMQ_SNDMORE : 0) |
                                        ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&w->first);
      /* its other frames must not stay behind as a message of their own */
      while (w->more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, from, ZMQ_DONTWAIT) < 0) w->more = 0;
        else w->more = zmq_msg_more(&m);
        zmq_msg_close(&m);
      }
    } else {
      forward_rest(p, w, from, to);
    }
  }
}

/* One command from R: 1 for TERMINATE, 0 for the others, -1 on failure. */
static int command(rzmq_proxy *p, int *paused) {
  zmq_msg_t m;
  size_t n;
  const char *c;
  int i, rc = 0;
  zmq_msg_init(&m);
  if (zmq_msg_recv(&m, p->ctl_thread, ZMQ_DONTWAIT) < 0) {
    int err = zmq_errno();
    zmq_msg_close(&m);
    errno = err;
    return err == EAGAIN ? 0 : -1;
  }
  n = zmq_msg_size(&m);
  c = zmq_msg_data(&m);
  if (n == 5 && memcmp(c, "PAUSE", 5) == 0) *paused = 1;
  else if (n == 6 && memcmp(c, "RESUME", 6) == 0) *paused = 0;
  else if (n == 9 && memcmp(c, "TERMINATE", 9) == 0) rc = 1;
  else if (n == 10 && memcmp(c, "STATISTICS", 10) == 0)
    for (i = 0; i < N_STATS && rc == 0; i++)
      if (zmq_send(p->ctl_thread, &p->stats[i], sizeof p->stats[i],
                   i < N_STATS - 1 ? ZMQ_SNDMORE : 0) < 0)
        rc = -1;
  zmq_msg_close(&m);
  return rc;
}

/* Wait on the control socket and on each way a message can go: its source
 * for input, or, once a message waits for it, its destination for room.
 * One socket both ways (frontend = backend) is one way, 0, to itself: it
 * waits for room the same way, so the thread hears R's commands even when
 * the peers never read (libzmq's own proxy waits in that send for good).
 * A destination that says it has room and still takes nothing (a ROUTER
 * with ZMQ_ROUTER_MANDATORY whose one peer is full) is tried again every
 * millisecond instead, not in a busy loop. */
static int proxy_loop(rzmq_proxy *p) {
  void *f = p->zsock[0], *b = p->zsock[1];
  int paused = 0, blocked[2] = {0, 0}, stalled[2] = {0, 0};
  for (;;) {
    zmq_pollitem_t it[3];
    int n = 1, rc, d, out[2];
    memset(it, 0, sizeof it);
    it[0].socket = p->ctl_thread;
    it[0].events = ZMQ_POLLIN;
    for (d = 0; d < 2; d++) out[d] = blocked[d] && !stalled[d];
    if (!paused) {
      it[1].socket = f;
      it[1].events = (short)((out[f != b ? 1 : 0] ? ZMQ_POLLOUT : 0) |
                             (blocked[0] ? 0 : ZMQ_POLLIN));
      n = 2;
      if (f != b) {
        it[2].socket = b;
        it[2].events = (short)((out[0] ? ZMQ_POLLOUT : 0) |
                               (blocked[1] ? 0 : ZMQ_POLLIN));
        n = 3;
      }
    }
    if (zmq_poll(it, n, !paused && (stalled[0] || stalled[1]) ? 1 : -1) < 0) {
      if (zmq_errno() == EINTR) continue;
      return -1;
    }
    if (it[0].revents & ZMQ_POLLIN) {
      rc = command(p, &paused);
      if (rc != 0) return rc > 0 ? 0 : -1;
      if (paused) continue;
    }
    if (n < 2) continue;
    for (d = 0; d < (f != b ? 2 : 1); d++) {
      zmq_pollitem_t *src = &it[1 + d], *dst = &it[f != b ? 2 - d : 1];
      int room = out[d] && (dst->revents & ZMQ_POLLOUT);
      if ((src->revents & ZMQ_POLLIN) || room || stalled[d]) {
        int sent = forward(p, d, src->socket, dst->socket, &blocked[d]);
        if (sent < 0) return -1;
        stalled[d] = blocked[d] && sent == 0 && (room || stalled[d]);
      }
    }
  }
}

static void ctl_close(void **s) {
  int linger = 0;
  if (*s == NULL) return;
  zmq_setsockopt(*s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(*s);
  *s = NULL;
}

static void *proxy_thread(void *arg) {
  rzmq_proxy *p = arg;
  int rc = proxy_loop(p);
  int err = rc != 0 ? zmq_errno() : 0;
  release_held(p);
  ctl_close(&p->ctl_thread);
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

static void proxy_free(rzmq_proxy *p) {
  rzmq_loan_drop(p->loan);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

/* A termination thread's part of a stop that may not wait: join, do what
 * waited for the join (the loan's deferred work), free it if R is done. */
static void proxy_end_job(void *arg) {
  rzmq_proxy *p = arg;
  int free_now;
  pthread_join(p->tid, NULL);
  ctl_close(&p->ctl_main);
  rzmq_loan_return(p->loan);
  pthread_mutex_lock(&p->mu);
  p->joined = 1;
  free_now = p->handle_gone;
  pthread_mutex_unlock(&p->mu);
  if (free_now) proxy_free(p);
}

void rzmq_proxy_stop(rzmq_proxy *p, int wait) {
  int i;
  if (p == NULL || p->head.closed) return;
  /* unread if the thread already ended on its own (a failure) */
  zmq_send(p->ctl_main, "TERMINATE", 9, ZMQ_DONTWAIT);
  if (wait) {
    pthread_join(p->tid, NULL);
    ctl_close(&p->ctl_main);
    rzmq_loan_end(p->loan);
  } else {
    p->loan->ending = p->ending = 1; /* R's thread alone writes them */
  }
  /* the join ordered the thread's last use of them before R's next one;
   * without it, they come back through their loan (s->proxy is stale) */
  for (i = 0; i < 3 && wait; i++)
    if (p->sock[i] != NULL) rzmq_loan_settle(&p->sock[i]->head, 0);
  p->head.closed = 1;
  if (!wait) rzmq_later(proxy_end_job, p);
}

static void proxy_stop_cb(void *p) { rzmq_proxy_stop(p, 1); }

static void proxy_finalize(SEXP x) {
  rzmq_proxy *p = rzmq_handle_finalizing(x);
  int free_now;
  if (p == NULL) return;
  rzmq_proxy_stop(p, 0); /* never waits: a termination thread joins it */
  pthread_mutex_lock(&p->mu);
  p->handle_gone = 1;
  free_now = !p->ending || p->joined;
  pthread_mutex_unlock(&p->mu);
  if (free_now) proxy_free(p);
}

/* A running proxy behind a new handle whose prot holds the sockets'. */
SEXP rzmq_proxy_new(SEXP frontend, SEXP backend, SEXP capture) {
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
  if (p == NULL || (p->loan = rzmq_loan_new()) == NULL) {
    free(p);
    rzmq_fail_stop(ENOMEM, "cannot allocate a zmq proxy");
  }
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
  /* the thread takes the sockets from here: pthread_create is the full
   * memory barrier libzmq asks of a socket moving between threads. It
   * starts with every signal blocked: a signal handled on it (SIGCHLD while
   * R's thread blocks it, as processx does when it kills a child) would end
   * libzmq's proxy with EINTR; blocked here, the kernel gives it to R's. */
  if (err == 0 && rzmq_thread_start_masked(&p->tid, proxy_thread, p) != 0)
    err = EAGAIN;
  if (err != 0) {
    ctl_close(&p->ctl_thread);
    ctl_close(&p->ctl_main);
    rzmq_fail_stop(err, "cannot start a zmq proxy");
  }
  for (i = 0; i < 3; i++)
    if (s[i] != NULL) {
      p->sock[i] = s[i];
      /* one socket both ways is lent once: one reference, given back once */
      if (i != 1 || s[1] != s[0]) rzmq_loan_lend(p->loan, &s[i]->head);
      s[i]->proxy = p;
    }
  p->head.closed = 0;
  UNPROTECT(2);
  return ptr;
}

SEXP rzmq_proxy_run(SEXP frontend, SEXP backend, SEXP capture) {
  SEXP ptr = PROTECT(rzmq_proxy_new(frontend, backend, capture));
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
  rzmq_proxy_stop(p, 1);
  UNPROTECT(1);
  if (rc != 0) return rzmq_fail_false(err);
  return Rf_ScalarLogical(TRUE);
}

static rzmq_proxy *proxy_get(SEXP x) {
  return rzmq_handle_get(x, RZMQ_PROXY, "p");
}

/* Ask for statistics and wait for them, in slices. The proxy answers its
 * commands in order, so the reply also means every earlier command was
 * applied. Frames of a reply abandoned by an interrupt are read first and
 * dropped. Returns 0, or an errno (the thread has ended). */
static int proxy_roundtrip(rzmq_proxy *p, uint64_t out[N_STATS]) {
  if (zmq_send(p->ctl_main, "STATISTICS", 10, ZMQ_DONTWAIT) < 0)
    return zmq_errno();
  p->pending += N_STATS;
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
      int k = N_STATS - p->pending;
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
    rzmq_fail_stop(p->err, "`p` is no longer running (stop.proxy() it to "
                   "use its sockets again); its proxy failed");
}

SEXP rzmq_proxy_pause(SEXP x, SEXP pause) {
  rzmq_proxy *p = proxy_get(x);
  int on = rzmq_arg_flag(pause, "pause");
  uint64_t st[N_STATS];
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
  static const char *names[N_STATS + 1] = {
      "frontend.messages.in", "frontend.bytes.in", "frontend.messages.out",
      "frontend.bytes.out",   "backend.messages.in", "backend.bytes.in",
      "backend.messages.out", "backend.bytes.out", "capture.dropped", ""};
  rzmq_proxy *p = proxy_get(x);
  uint64_t st[N_STATS];
  int err, i;
  SEXP out;
  check_running(p);
  err = proxy_roundtrip(p, st);
  if (err != 0) return rzmq_fail_null(err);
  out = PROTECT(rzmq_named(REALSXP, names));
  for (i = 0; i < N_STATS; i++) REAL(out)[i] = (double)st[i];
  UNPROTECT(1);
  return out;
}

SEXP rzmq_proxy_halt(SEXP x) {
  rzmq_proxy_stop(rzmq_handle_to_release(x, RZMQ_PROXY, "p"), 1);
  return Rf_ScalarLogical(TRUE);
}
