/* authenticator.c: a ZAP handler (ZeroMQ RFC 27) for one context, on a C
 * thread of its own, so that handshakes are answered while R is busy or
 * blocked. It decides from lists the R side can replace at any time (CURVE
 * keys, PLAIN users, allowed and denied addresses) and keeps a log of its
 * recent decisions; each admission goes out as metadata on the connection
 * (revoke.c reads it back). The lists and decisions are authlists.c's. The
 * thread owns the ZAP socket; R talks to it only through the mutex-guarded
 * lists and a control socket that wakes it. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup */
#endif
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_CAP 1000
#define MAX_FRAMES 8

typedef struct {
  double time;
  char mechanism[8];
  char address[64];
  char user[256];
  int allowed;
  char reason[160];
} auth_entry;

/* Lives while its R handle or its context needs it: a collected handle does
 * not stop it (only destroy.authenticator() or the context's end does), and
 * a stopped one stays readable while its handle lives. */
struct rzmq_auth {
  rzmq_head head;
  rzmq_ctx *ctx; /* NULL once stopped */
  int handle_gone; /* its R handle was collected: freed once stopped */
  int ending, joined; /* a termination thread joins it (rzmq_auth_end) */
  pthread_t tid;
  void *zap, *ctl_thread; /* the thread's */
  void *ctl_main;         /* ours: one byte on it stops the thread */
  pthread_mutex_t mu;     /* guards cfg, adm_seq and the log */
  rzmq_lists *cfg;
  long adm_seq;           /* admissions made */
  rzmq_revoke *revoke;    /* R's thread only */
  auth_entry *log;
  int log_start, log_n;
  long seq; /* a name for the control endpoint; in each admission */
};

/* ---- the log ----------------------------------------------------------------- */

/* Append a decision; the caller holds a->mu. */
static void log_locked(struct rzmq_auth *a, const char *mech,
                       const char *address, const char *user, int allowed,
                       const char *reason) {
  auth_entry *e = &a->log[(a->log_start + a->log_n) % LOG_CAP];
  struct timespec now;
  if (a->log_n < LOG_CAP) a->log_n++;
  else a->log_start = (a->log_start + 1) % LOG_CAP;
  rzmq_clock_realtime(&now);
  e->time = now.tv_sec + now.tv_nsec / 1e9;
  snprintf(e->mechanism, sizeof e->mechanism, "%s", mech);
  snprintf(e->address, sizeof e->address, "%s", address);
  snprintf(e->user, sizeof e->user, "%s", user);
  e->allowed = allowed;
  snprintf(e->reason, sizeof e->reason, "%s", reason);
}

/* revoke.c's report of a dropped connection */
static void log_revoked(void *ud, const char *mech, const char *address,
                        const char *user, const char *reason) {
  struct rzmq_auth *a = ud;
  pthread_mutex_lock(&a->mu);
  log_locked(a, mech, address, user, 0, reason);
  pthread_mutex_unlock(&a->mu);
}

/* ---- the handler thread ------------------------------------------------------ */

static void frame_text(zmq_msg_t *m, char *out, size_t cap) {
  rzmq_printable(out, cap, zmq_msg_data(m), zmq_msg_size(m));
}

static void send_text(void *sock, const char *s, int more) {
  zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

/* The metadata frame of a ZAP reply: one property, the admission. */
static size_t admission_frame(unsigned char *out, size_t cap, const char *v) {
  size_t nn = strlen(RZMQ_ADMISSION), vn = strlen(v);
  if (1 + nn + 4 + vn > cap) return 0;
  out[0] = (unsigned char)nn;
  memcpy(out + 1, RZMQ_ADMISSION, nn);
  out[1 + nn] = (unsigned char)(vn >> 24);
  out[2 + nn] = (unsigned char)(vn >> 16);
  out[3 + nn] = (unsigned char)(vn >> 8);
  out[4 + nn] = (unsigned char)vn;
  memcpy(out + 5 + nn, v, vn);
  return 5 + nn + vn;
}

static void handle_request(struct rzmq_auth *a) {
  zmq_msg_t f[MAX_FRAMES];
  int n = 0, more = 1, ok, i;
  char domain[256] = "", mech[8] = "", address[64] = "", reason[96] = "";
  char text[512];
  unsigned char meta[600];
  size_t meta_n = 0;
  rzmq_auth_request q;
  /* read every frame of the request (frames past MAX_FRAMES are dropped) */
  while (more) {
    zmq_msg_t tmp, *m = n < MAX_FRAMES ? &f[n] : &tmp;
    zmq_msg_init(m);
    if (zmq_msg_recv(m, a->zap, 0) < 0) {
      zmq_msg_close(m);
      break;
    }
    more = zmq_msg_more(m);
    if (m == &tmp) zmq_msg_close(m);
    else n++;
  }
  if (n < 6) { /* not a ZAP request: answer so the REP socket can go on */
    send_text(a->zap, "1.0", 1);
    if (n >= 2) zmq_send(a->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else send_text(a->zap, "", 1);
    send_text(a->zap, "500", 1);
    send_text(a->zap, "malformed ZAP request", 1);
    send_text(a->zap, "", 1);
    send_text(a->zap, "", 0);
    for (i = 0; i < n; i++) zmq_msg_close(&f[i]);
    return;
  }
  frame_text(&f[2], domain, sizeof domain);
  frame_text(&f[3], address, sizeof address);
  frame_text(&f[5], mech, sizeof mech);
  memset(&q, 0, sizeof q);
  q.domain = domain;
  q.address = address;
  q.mechanism = mech;
  if (n > 6) {
    q.user = zmq_msg_data(&f[6]);
    q.user_len = zmq_msg_size(&f[6]);
  }
  if (n > 7) {
    q.password = zmq_msg_data(&f[7]);
    q.password_len = zmq_msg_size(&f[7]);
  }
  /* a PLAIN request with no password frame must not pass as a re-check */
  if (strcmp(mech, "PLAIN") == 0 && n < 8) q.user = NULL;
  pthread_mutex_lock(&a->mu);
  ok = rzmq_lists_decide(a->cfg, &q, reason, sizeof reason);
  if (ok) {
    /* the connection's admission, on every message it sends (revoke.c) */
    rzmq_admission_text(text, sizeof text, a->seq, ++a->adm_seq,
                        rzmq_lists_gen(a->cfg), &q);
    meta_n = admission_frame(meta, sizeof meta, text);
  }
  log_locked(a, mech, address, q.shown_user, ok, reason);
  pthread_mutex_unlock(&a->mu);
  /* reply: version, request id, status, text, user id, metadata */
  send_text(a->zap, "1.0", 1);
  zmq_send(a->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
  send_text(a->zap, ok ? "200" : "400", 1);
  send_text(a->zap, ok ? "OK" : reason, 1);
  send_text(a->zap, ok ? q.user_id : "", 1);
  zmq_send(a->zap, meta, meta_n, 0);
  for (i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

static void *auth_thread(void *arg) {
  struct rzmq_auth *a = arg;
  int linger = 0;
  zmq_pollitem_t items[2];
  memset(items, 0, sizeof items);
  items[0].socket = a->zap;
  items[0].events = ZMQ_POLLIN;
  items[1].socket = a->ctl_thread;
  items[1].events = ZMQ_POLLIN;
  for (;;) {
    if (zmq_poll(items, 2, -1) < 0) {
      if (zmq_errno() == EINTR) continue;
      break; /* ETERM: the context is going */
    }
    if (items[1].revents & ZMQ_POLLIN) break; /* asked to stop */
    if (items[0].revents & ZMQ_POLLIN) handle_request(a);
  }
  zmq_setsockopt(a->zap, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(a->ctl_thread, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(a->zap);
  zmq_close(a->ctl_thread);
  return NULL;
}

/* ---- handles --------------------------------------------------------------------- */

static void auth_free(struct rzmq_auth *a) {
  rzmq_lists_free(a->cfg);
  rzmq_revoke_free(a->revoke);
  free(a->log);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

static void ctl_main_close(struct rzmq_auth *a) {
  int linger = 0;
  zmq_setsockopt(a->ctl_main, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close(a->ctl_main);
  a->ctl_main = NULL;
}

/* Off its context, for R: closed (its log stays readable). */
static void detach(struct rzmq_auth *a) {
  a->ctx->auth = NULL;
  a->ctx = NULL;
  a->head.closed = 1;
}

void rzmq_auth_stop(struct rzmq_auth *a) {
  if (a == NULL || a->ctx == NULL) return;
  /* wake the thread; it closes its sockets and ends at once (a thread that
   * ended already, on ETERM, has no pipe left: the send must not wait) */
  zmq_send(a->ctl_main, "", 0, ZMQ_DONTWAIT);
  pthread_join(a->tid, NULL);
  ctl_main_close(a);
  detach(a);
  if (a->handle_gone) auth_free(a);
}

/* The termination thread's part of rzmq_auth_end. */
static void auth_end_job(void *arg) {
  struct rzmq_auth *a = arg;
  int free_now;
  pthread_join(a->tid, NULL);
  ctl_main_close(a);
  pthread_mutex_lock(&a->mu);
  a->joined = 1;
  free_now = a->handle_gone;
  pthread_mutex_unlock(&a->mu);
  if (free_now) auth_free(a);
}

void rzmq_auth_end(struct rzmq_auth *a) {
  if (a == NULL || a->ctx == NULL) return;
  /* a full queue means the thread has been told already */
  zmq_send(a->ctl_main, "", 0, ZMQ_DONTWAIT);
  a->ending = 1;
  detach(a);
  rzmq_later(auth_end_job, a);
}

/* Its R handle is gone: it runs on for its context, which frees it when it
 * stops it; a stopped one goes now (once joined, if a thread joins it). */
static void auth_finalize(SEXP x) {
  struct rzmq_auth *a = rzmq_handle_finalizing(x);
  int free_now;
  if (a == NULL) return;
  pthread_mutex_lock(&a->mu);
  a->handle_gone = 1;
  free_now = a->ctx == NULL && (!a->ending || a->joined);
  pthread_mutex_unlock(&a->mu);
  if (free_now) auth_free(a);
}

/* Sockets made here before the thread exists; closed again on failure. */
static void auth_sockets_close(struct rzmq_auth *a) {
  int linger = 0;
  void **s[3];
  int i;
  s[0] = &a->zap;
  s[1] = &a->ctl_thread;
  s[2] = &a->ctl_main;
  for (i = 0; i < 3; i++)
    if (*s[i] != NULL) {
      zmq_setsockopt(*s[i], ZMQ_LINGER, &linger, sizeof linger);
      zmq_close(*s[i]);
      *s[i] = NULL;
    }
}

SEXP rzmq_auth_new(SEXP context, SEXP curve, SEXP plain, SEXP allow,
                   SEXP deny, SEXP domain) {
  static long seq = 0;
  static const int set_all[4] = {1, 1, 1, 1};
  rzmq_ctx *ctx = rzmq_context_get(context, "context");
  const char *dom = rzmq_arg_string(domain, "domain", 0);
  struct rzmq_auth *a;
  rzmq_lists *cfg;
  char ep[64];
  SEXP ptr;
  int err;
  if (ctx->auth != NULL)
    Rf_error("`context` already has an authenticator: configure it with "
             "configure.authenticator(), or destroy.authenticator() it first");
  cfg = rzmq_lists_make(NULL, set_all, curve, plain, allow, deny, dom);
  a = calloc(1, sizeof *a);
  if (a != NULL) {
    a->seq = ++seq;
    a->log = calloc(LOG_CAP, sizeof *a->log);
    a->revoke = rzmq_revoke_new(a->seq);
  }
  if (a == NULL || a->log == NULL || a->revoke == NULL) {
    rzmq_lists_free(cfg);
    if (a != NULL) {
      free(a->log);
      rzmq_revoke_free(a->revoke);
      free(a);
    }
    rzmq_fail_stop(ENOMEM, "cannot allocate an authenticator");
  }
  a->cfg = cfg;
  pthread_mutex_init(&a->mu, NULL);
  a->head.closed = 1; /* until the thread runs */
  /* the owner first; prot = the context's handle, kept alive with it */
  ptr = PROTECT(rzmq_handle_new(a, RZMQ_AUTH, context, auth_finalize, TRUE));
  snprintf(ep, sizeof ep, "inproc://rzmq-authenticator-%ld-%ld",
           (long)rzmq_fork_gen, a->seq);
  a->zap = zmq_socket(ctx->handle, ZMQ_REP);
  a->ctl_thread = zmq_socket(ctx->handle, ZMQ_PAIR);
  a->ctl_main = zmq_socket(ctx->handle, ZMQ_PAIR);
  err = a->zap && a->ctl_thread && a->ctl_main ? 0 : zmq_errno();
  if (err == 0 && zmq_bind(a->zap, "inproc://zeromq.zap.01") != 0) {
    err = zmq_errno();
    auth_sockets_close(a);
    if (err == EADDRINUSE)
      rzmq_fail_stop(err, "cannot start an authenticator on `context` "
                     "(another ZAP handler is bound to inproc://zeromq.zap.01)");
    rzmq_fail_stop(err, "cannot start an authenticator on `context`");
  }
  if (err == 0 && zmq_bind(a->ctl_thread, ep) != 0) err = zmq_errno();
  if (err == 0 && zmq_connect(a->ctl_main, ep) != 0) err = zmq_errno();
  /* the thread takes the ZAP socket from here: pthread_create is a full
   * memory barrier, as libzmq asks of a socket moving between threads */
  if (err == 0 && pthread_create(&a->tid, NULL, auth_thread, a) != 0)
    err = EAGAIN;
  if (err != 0) {
    auth_sockets_close(a);
    rzmq_fail_stop(err, "cannot start an authenticator");
  }
  a->ctx = ctx;
  ctx->auth = a;
  a->head.closed = 0;
  UNPROTECT(1);
  return ptr;
}

static struct rzmq_auth *auth_get(SEXP x) {
  return rzmq_handle_get(x, RZMQ_AUTH, "auth");
}

SEXP rzmq_auth_configure(SEXP auth, SEXP set, SEXP curve, SEXP plain,
                         SEXP allow, SEXP deny, SEXP drop) {
  struct rzmq_auth *a = auth_get(auth);
  int dropping = rzmq_arg_flag(drop, "drop");
  rzmq_lists *fresh, *old;
  int given[4], i;
  if (TYPEOF(set) != LGLSXP || XLENGTH(set) != 4)
    Rf_error("internal: `set` must be 4 logicals");
  for (i = 0; i < 4; i++) given[i] = LOGICAL(set)[i];
  /* R alone replaces cfg (the thread only reads it): no lock to read it here */
  fresh = rzmq_lists_make(a->cfg, given, curve, plain, allow, deny, NULL);
  pthread_mutex_lock(&a->mu);
  old = a->cfg;
  a->cfg = fresh;
  pthread_mutex_unlock(&a->mu);
  rzmq_lists_free(old);
  /* handshakes decide by the new lists from here; connections admitted
   * before are checked by them at each message, and closed if known */
  if (dropping) {
    rzmq_sock *s;
    rzmq_revoke_drop(a->revoke, fresh, log_revoked, a);
    for (s = a->ctx->sockets; s != NULL; s = s->next)
      if (s->head.busy) { /* lent to a proxy */
        Rf_warning("drop = TRUE: a running proxy forwards messages without R "
                   "seeing them, so revoked peers of its sockets are refused "
                   "only at their next handshake; stop.proxy() to check "
                   "every message");
        break;
      }
  }
  return Rf_ScalarLogical(TRUE);
}

int rzmq_auth_admits(rzmq_sock *s, zmq_msg_t *msg) {
  struct rzmq_auth *a = s->ctx->auth;
  if (a == NULL) return 1;
  return rzmq_revoke_admits(a->revoke, s->handle, msg, log_revoked, a);
}

SEXP rzmq_auth_destroy(SEXP auth) {
  rzmq_auth_stop(rzmq_handle_to_release(auth, RZMQ_AUTH, "auth"));
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_auth_log(SEXP auth) {
  struct rzmq_auth *a = rzmq_handle_peek(auth, RZMQ_AUTH);
  auth_entry *copy;
  int n, i;
  SEXP out, col[6];
  static const char *names[7] = {"time", "mechanism", "address",
                                 "user", "allowed", "reason", ""};
  if (a == NULL) a = auth_get(auth); /* raises */
  /* a destroyed authenticator still shows what it decided */
  copy = (auth_entry *)R_alloc(LOG_CAP, sizeof *copy);
  pthread_mutex_lock(&a->mu);
  n = a->log_n;
  for (i = 0; i < n; i++) copy[i] = a->log[(a->log_start + i) % LOG_CAP];
  pthread_mutex_unlock(&a->mu);
  out = PROTECT(rzmq_named(VECSXP, names));
  col[0] = Rf_allocVector(REALSXP, n);
  SET_VECTOR_ELT(out, 0, col[0]);
  for (i = 1; i < 6; i++) {
    col[i] = Rf_allocVector(i == 4 ? LGLSXP : STRSXP, n);
    SET_VECTOR_ELT(out, i, col[i]);
  }
  for (i = 0; i < n; i++) {
    REAL(col[0])[i] = copy[i].time;
    SET_STRING_ELT(col[1], i, Rf_mkCharCE(copy[i].mechanism, CE_UTF8));
    SET_STRING_ELT(col[2], i, Rf_mkCharCE(copy[i].address, CE_UTF8));
    SET_STRING_ELT(col[3], i, Rf_mkCharCE(copy[i].user, CE_UTF8));
    LOGICAL(col[4])[i] = copy[i].allowed;
    SET_STRING_ELT(col[5], i, Rf_mkCharCE(copy[i].reason, CE_UTF8));
  }
  UNPROTECT(1);
  return out;
}
