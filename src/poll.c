/* poll.c: waiting. poll.socket waits with zmq_poll for at most 200 ms at a
 * time with a user-interrupt check in between, EINTR from other signals
 * retried with the time that remains; the same slices and check serve the
 * blocking sends and receives of message.c. */
#include "rzmq.h"
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define SLICE_MS 200

extern SEXP rzmq_unwind_token;

static double rzmq_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct {
  rzmq_cleanup_fn fn;
  void *data;
} cleanup_call;

static SEXP check_body(void *unused) {
  (void)unused;
  R_CheckUserInterrupt();
  return R_NilValue;
}

static void check_cleanup(void *d, Rboolean jump) {
  cleanup_call *c = d;
  if (jump) c->fn(c->data);
}

void rzmq_check_interrupt(rzmq_cleanup_fn cleanup, void *data) {
  cleanup_call c;
  if (cleanup == NULL) {
    R_CheckUserInterrupt();
    return;
  }
  /* something is held: release it before R's interrupt unwinds the call */
  c.fn = cleanup;
  c.data = data;
  R_UnwindProtect(check_body, NULL, check_cleanup, &c, rzmq_unwind_token);
}

void rzmq_msg_cleanup(void *msg) { zmq_msg_close((zmq_msg_t *)msg); }

/* Returns the slice to wait next, or -1 when the deadline has passed. */
long rzmq_next_slice(double deadline) {
  double left;
  if (deadline < 0) return SLICE_MS;
  left = deadline - rzmq_now_ms();
  if (left <= 0) return -1;
  return left < SLICE_MS ? (long)ceil(left) : SLICE_MS;
}

double rzmq_deadline(int timeout_ms) {
  return timeout_ms < 0 ? -1 : rzmq_now_ms() + timeout_ms;
}

/* ---- poll.socket ----------------------------------------------------------- */

static short event_bits(SEXP ev, R_xlen_t i) {
  short bits = 0;
  R_xlen_t j;
  if (TYPEOF(ev) != STRSXP || XLENGTH(ev) == 0)
    Rf_error("`events[[%d]]` must be a character vector of \"read\", "
             "\"write\" and/or \"error\"", (int)i + 1);
  for (j = 0; j < XLENGTH(ev); j++) {
    SEXP e = STRING_ELT(ev, j);
    const char *s = e == NA_STRING ? "NA" : CHAR(e);
    if (strcmp(s, "read") == 0) bits |= ZMQ_POLLIN;
    else if (strcmp(s, "write") == 0) bits |= ZMQ_POLLOUT;
    else if (strcmp(s, "error") == 0) bits |= ZMQ_POLLERR;
    else
      Rf_error("`events[[%d]]` has unknown poll event \"%s\"; use \"read\", "
               "\"write\" or \"error\"", (int)i + 1, s);
  }
  return bits;
}

static long poll_timeout_ms(SEXP timeout) {
  double t = rzmq_arg_number(timeout, "timeout");
  double ms;
  if (t == -1 || t == R_PosInf) return -1;
  if (t < 0)
    Rf_error("`timeout` must be seconds >= 0, or -1 to wait forever");
  ms = round(t * 1000);
  if (ms == 0 && t > 0) ms = 1;
  if (ms > 2147483647.0) return -1; /* longer than 24 days: forever */
  return (long)ms;
}

static SEXP poll_result(zmq_pollitem_t *items, R_xlen_t n) {
  static const short bits[3] = {ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLERR};
  static const char *names[3] = {"read", "write", "error"};
  static SEXP name[3] = {NULL, NULL, NULL};
  SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
  SEXP shared = PROTECT(Rf_allocVector(VECSXP, 8)); /* names, by event mask */
  R_xlen_t i;
  int k;
  /* symbols' print names: CHARSXPs that live for the session */
  if (name[0] == NULL)
    for (k = 0; k < 3; k++) name[k] = PRINTNAME(Rf_install(names[k]));
  for (i = 0; i < n; i++) {
    int m = 0, j = 0, mask = 0;
    SEXP el, nm;
    for (k = 0; k < 3; k++)
      if (items[i].events & bits[k]) {
        m++;
        mask |= 1 << k;
      }
    nm = VECTOR_ELT(shared, mask);
    if (nm == R_NilValue) {
      /* one names vector per event mask, shared (R copies before changes) */
      nm = Rf_allocVector(STRSXP, m);
      SET_VECTOR_ELT(shared, mask, nm);
      for (k = 0; k < 3; k++)
        if (mask & (1 << k)) SET_STRING_ELT(nm, j++, name[k]);
    }
    el = PROTECT(Rf_allocVector(VECSXP, m));
    for (k = 0, j = 0; k < 3; k++)
      if (mask & (1 << k))
        SET_VECTOR_ELT(el, j++,
                       Rf_ScalarLogical((items[i].revents & bits[k]) != 0));
    Rf_setAttrib(el, R_NamesSymbol, nm);
    SET_VECTOR_ELT(out, i, el);
    UNPROTECT(1);
  }
  UNPROTECT(2);
  return out;
}

/* The socket at sockets[[i]]: checked cheaply; the argument's name is only
 * formatted when there is an error to report. */
static void *poll_socket_handle(SEXP x, R_xlen_t i) {
  char what[32];
  if (TYPEOF(x) == EXTPTRSXP && R_ExternalPtrTag(x) == rzmq_tag_socket) {
    rzmq_sock *s = R_ExternalPtrAddr(x);
    if (s != NULL && s->gen == rzmq_fork_gen && s->handle != NULL)
      return s->handle;
  }
  snprintf(what, sizeof what, "sockets[[%d]]", (int)i + 1);
  return rzmq_socket_get(x, what)->handle;
}

SEXP rzmq_poll(SEXP sockets, SEXP events, SEXP timeout) {
  R_xlen_t n, i;
  zmq_pollitem_t *items;
  long ms;
  double deadline;
  rzmq_reclaim();
  if (TYPEOF(sockets) == EXTPTRSXP) { /* a lone socket: a list of one */
    sockets = PROTECT(Rf_list1(sockets));
    sockets = Rf_PairToVectorList(sockets);
    UNPROTECT(1);
  }
  PROTECT(sockets);
  if (TYPEOF(sockets) != VECSXP || XLENGTH(sockets) == 0)
    Rf_error("`sockets` must be a non-empty list of zmq sockets");
  n = XLENGTH(sockets);
  if (TYPEOF(events) == STRSXP) {
    /* one character vector: the same events for every socket */
  } else if (TYPEOF(events) != VECSXP || XLENGTH(events) != n) {
    Rf_error("`events` must be a list with one character vector per socket "
             "(%d sockets)", (int)n);
  }
  ms = poll_timeout_ms(timeout);
  items = (zmq_pollitem_t *)R_alloc(n, sizeof *items);
  for (i = 0; i < n; i++) {
    memset(&items[i], 0, sizeof items[i]);
    items[i].socket = poll_socket_handle(VECTOR_ELT(sockets, i), i);
    items[i].events =
        event_bits(TYPEOF(events) == STRSXP ? events : VECTOR_ELT(events, i), i);
  }
  deadline = rzmq_deadline((int)ms);
  for (;;) {
    long slice = ms == 0 ? 0 : rzmq_next_slice(deadline);
    int rc;
    if (slice < 0) slice = 0; /* time is up: one last look */
    rc = zmq_poll(items, (int)n, slice);
    if (rc < 0) {
      int err = zmq_errno();
      if (err != EINTR) {
        UNPROTECT(1);
        return rzmq_fail_null(err);
      }
      for (i = 0; i < n; i++) items[i].revents = 0;
    }
    if (rc > 0 || slice == 0) break;
    R_CheckUserInterrupt();
    /* an interrupt handler may have closed a socket and resumed */
    for (i = 0; i < n; i++)
      items[i].socket = poll_socket_handle(VECTOR_ELT(sockets, i), i);
  }
  UNPROTECT(1);
  return poll_result(items, n);
}
