/* poll.c: poll.socket, and what poll.poller (poller.c) shares with it: the
 * sockets and events as given, the timeout, the wait and the result. The
 * wait looks at the sockets' ZMQ_EVENTS first, then zmq_poll waits at most
 * one slice (wait.c) at a time, with a user-interrupt check in between; EINTR
 * from other signals is retried with the time that remains. */
#include "rzmq.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- arguments ----------------------------------------------------------- */

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

long rzmq_poll_timeout(SEXP timeout) {
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

/* The socket at sockets[[i]]: checked cheaply; the argument's name is only
 * formatted when there is an error to report. */
static void *poll_socket_handle(SEXP x, R_xlen_t i) {
  char what[32];
  rzmq_sock *s = rzmq_handle_peek(x, RZMQ_SOCKET);
  if (s != NULL && !s->head.closed && !s->head.busy) return s->handle;
  snprintf(what, sizeof what, "sockets[[%d]]", (int)i + 1);
  return rzmq_socket_get(x, what)->handle;
}

SEXP rzmq_poll_items(SEXP sockets, SEXP events, zmq_pollitem_t **items_out) {
  R_xlen_t n, i;
  zmq_pollitem_t *items;
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
  if (n > INT_MAX) Rf_error("`sockets` has too many sockets");
  if (TYPEOF(events) == STRSXP) {
    /* one character vector: the same events for every socket */
  } else if (TYPEOF(events) != VECSXP || XLENGTH(events) != n) {
    Rf_error("`events` must be a list with one character vector per socket "
             "(%d sockets)", (int)n);
  }
  items = (zmq_pollitem_t *)R_alloc(n, sizeof *items);
  for (i = 0; i < n; i++) {
    memset(&items[i], 0, sizeof items[i]);
    items[i].socket = poll_socket_handle(VECTOR_ELT(sockets, i), i);
    items[i].events =
        event_bits(TYPEOF(events) == STRSXP ? events : VECTOR_ELT(events, i), i);
  }
  *items_out = items;
  UNPROTECT(1);
  return sockets;
}

/* ---- the wait ------------------------------------------------------------ */

/* What zmq_poll reports for a zmq socket is its ZMQ_EVENTS; asked directly
 * it spares zmq_poll's poll() over every socket's descriptor. The number
 * of sockets with an event, or -1 (errno in *err). */
static int events_now(zmq_pollitem_t *items, int n, int *err) {
  int i, ready = 0;
  for (i = 0; i < n; i++) {
    int ev = 0;
    size_t len = sizeof ev;
    if (zmq_getsockopt(items[i].socket, ZMQ_EVENTS, &ev, &len) != 0) {
      *err = zmq_errno();
      return -1;
    }
    items[i].revents = (short)(ev & items[i].events);
    if (items[i].revents) ready++;
  }
  return ready;
}

int rzmq_poll_wait(zmq_pollitem_t *items, int n, long ms,
                   rzmq_poll_recheck recheck, void *data) {
  double deadline;
  int i, err = 0, rc = events_now(items, n, &err);
  if (rc < 0 && err != EINTR) return err;
  if (rc > 0 || ms == 0) {
    if (rc < 0) /* a signal, and no time to look again */
      for (i = 0; i < n; i++) items[i].revents = 0;
    return 0;
  }
  deadline = rzmq_deadline((int)ms);
  for (;;) {
    long slice = rzmq_next_slice(deadline);
    if (slice < 0) slice = 0; /* time is up: one last look */
    rc = zmq_poll(items, n, slice);
    if (rc < 0) {
      err = zmq_errno();
      if (err != EINTR) return err;
      for (i = 0; i < n; i++) items[i].revents = 0;
    }
    if (rc > 0 || slice == 0) return 0;
    R_CheckUserInterrupt();
    /* an interrupt handler may have closed a socket and resumed */
    recheck(items, data);
  }
}

/* ---- the result ---------------------------------------------------------- */

/* One socket's element of the result depends only on the events asked for
 * and those that happened: the 64 possible ones are made once (released at
 * unload) and shared, not mutable, so a poll allocates only its list. */
static SEXP elements = NULL;

void rzmq_poll_unload(void) {
  if (elements != NULL) R_ReleaseObject(elements);
  elements = NULL;
}

static SEXP make_element(int asked, int got) {
  static const char *events[3] = {"read", "write", "error"};
  const char *names[4];
  int m = 0, k;
  SEXP el;
  for (k = 0; k < 3; k++)
    if (asked & (1 << k)) names[m++] = events[k];
  names[m] = "";
  el = PROTECT(rzmq_named(VECSXP, names));
  for (k = 0, m = 0; k < 3; k++)
    if (asked & (1 << k))
      SET_VECTOR_ELT(el, m++, Rf_ScalarLogical((got & (1 << k)) != 0));
  MARK_NOT_MUTABLE(el);
  UNPROTECT(1);
  return el;
}

static int event_index(short bits) { /* read, write, error: bits 0, 1, 2 */
  return ((bits & ZMQ_POLLIN) ? 1 : 0) | ((bits & ZMQ_POLLOUT) ? 2 : 0) |
         ((bits & ZMQ_POLLERR) ? 4 : 0);
}

SEXP rzmq_poll_result(const zmq_pollitem_t *items, R_xlen_t n) {
  SEXP out;
  R_xlen_t i;
  if (elements == NULL) {
    SEXP e = PROTECT(Rf_allocVector(VECSXP, 64));
    R_PreserveObject(e);
    elements = e;
    UNPROTECT(1);
  }
  out = PROTECT(Rf_allocVector(VECSXP, n));
  for (i = 0; i < n; i++) {
    int asked = event_index(items[i].events);
    int k = asked * 8 + (event_index(items[i].revents) & asked);
    SEXP el = VECTOR_ELT(elements, k);
    if (el == R_NilValue) {
      el = make_element(asked, k & 7);
      SET_VECTOR_ELT(elements, k, el);
    }
    SET_VECTOR_ELT(out, i, el);
  }
  UNPROTECT(1);
  return out;
}

/* ---- poll.socket --------------------------------------------------------- */

typedef struct {
  SEXP sockets;
} listed;

static void recheck_listed(zmq_pollitem_t *items, void *data) {
  SEXP sockets = ((listed *)data)->sockets;
  R_xlen_t i;
  for (i = 0; i < XLENGTH(sockets); i++)
    items[i].socket = poll_socket_handle(VECTOR_ELT(sockets, i), i);
}

SEXP rzmq_poll(SEXP sockets, SEXP events, SEXP timeout) {
  zmq_pollitem_t *items;
  listed l;
  long ms;
  int err;
  rzmq_reclaim();
  sockets = PROTECT(rzmq_poll_items(sockets, events, &items));
  ms = rzmq_poll_timeout(timeout);
  l.sockets = sockets;
  err = rzmq_poll_wait(items, (int)XLENGTH(sockets), ms, recheck_listed, &l);
  UNPROTECT(1);
  if (err != 0) return rzmq_fail_null(err);
  return rzmq_poll_result(items, XLENGTH(sockets));
}
