/* poll.c: poll.socket. zmq_poll waits at most one slice (wait.c) at a time,
 * with a user-interrupt check in between; EINTR from other signals is
 * retried with the time that remains. */
#include "rzmq.h"
#include <errno.h>
#include <math.h>
#include <string.h>

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

/* "read", "write", "error", made once (released at unload) */
static SEXP event_names = NULL;

void rzmq_poll_unload(void) {
  if (event_names != NULL) R_ReleaseObject(event_names);
  event_names = NULL;
}

static SEXP poll_result(zmq_pollitem_t *items, R_xlen_t n) {
  static const short bits[3] = {ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLERR};
  static const char *names[3] = {"read", "write", "error"};
  SEXP out, shared;
  R_xlen_t i;
  int k;
  if (event_names == NULL) {
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, 3));
    for (k = 0; k < 3; k++) SET_STRING_ELT(nm, k, Rf_mkChar(names[k]));
    R_PreserveObject(nm);
    event_names = nm;
    UNPROTECT(1);
  }
  out = PROTECT(Rf_allocVector(VECSXP, n));
  shared = PROTECT(Rf_allocVector(VECSXP, 8)); /* names, by event mask */
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
        if (mask & (1 << k))
          SET_STRING_ELT(nm, j++, STRING_ELT(event_names, k));
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
  rzmq_sock *s = rzmq_handle_peek(x, RZMQ_SOCKET);
  if (s != NULL && !s->head.closed && !s->head.busy) return s->handle;
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
    SEXP one = PROTECT(Rf_allocVector(VECSXP, 1));
    SET_VECTOR_ELT(one, 0, sockets);
    sockets = one;
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
