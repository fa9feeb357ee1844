/* poller.c: init.poller and poll.poller. A poller is the sockets and events
 * of a poll.socket() call, checked once; each poll then only reads its
 * sockets' closed flags before poll.c's wait. The poller's handle holds its
 * sockets' handles, so they live at least as long as it does. */
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  rzmq_head head;
  int n;
  SEXP *socks; /* the sockets' handles, kept alive by the poller's */
  zmq_pollitem_t *items;
} rzmq_poller;

static void poller_finalize(SEXP x) {
  rzmq_poller *p = rzmq_handle_finalizing(x);
  /* its sockets may be finalized in the same collection: not touched */
  if (p != NULL) free(p);
}

SEXP rzmq_poller_new(SEXP sockets, SEXP events) {
  zmq_pollitem_t *items;
  rzmq_poller *p;
  SEXP held, ptr;
  R_xlen_t n, i;
  size_t bytes;
  sockets = PROTECT(rzmq_poll_items(sockets, events, &items));
  n = XLENGTH(sockets);
  /* a list of its own, which no one else can change */
  held = PROTECT(Rf_allocVector(VECSXP, n));
  for (i = 0; i < n; i++) SET_VECTOR_ELT(held, i, VECTOR_ELT(sockets, i));
  bytes = sizeof *p + (size_t)n * (sizeof *p->items + sizeof *p->socks);
  p = calloc(1, bytes);
  if (p == NULL) rzmq_fail_stop(ENOMEM, "cannot allocate a zmq poller");
  ptr = PROTECT(rzmq_handle_new(p, RZMQ_POLLER, held, poller_finalize, FALSE));
  p->n = (int)n;
  p->items = (zmq_pollitem_t *)(p + 1);
  p->socks = (SEXP *)(p->items + n);
  memcpy(p->items, items, (size_t)n * sizeof *items);
  for (i = 0; i < n; i++) p->socks[i] = VECTOR_ELT(held, i);
  UNPROTECT(3);
  return ptr;
}

/* Every socket still open, and its libzmq handle in the items; an R error
 * naming the first one that is not. */
static void poller_sockets(zmq_pollitem_t *items, void *data) {
  rzmq_poller *p = data;
  int i;
  for (i = 0; i < p->n; i++) {
    rzmq_sock *s = R_ExternalPtrAddr(p->socks[i]);
    /* a socket a collected proxy is giving back: wait for it, as the
     * getter does */
    if (s != NULL && !s->head.closed &&
        (!s->head.busy || rzmq_loan_settle(&s->head, 1))) {
      items[i].socket = s->handle;
      continue;
    }
    if (s == NULL) /* only at exit, when every finalizer runs */
      Rf_error("socket %d of `poller` is gone", i + 1);
    if (s->head.busy)
      Rf_error("socket %d of `poller` is in use by a running proxy: "
               "stop.proxy() it first", i + 1);
    Rf_error("socket %d of `poller` has been closed (or its context "
             "destroyed)", i + 1);
  }
}

SEXP rzmq_poller_poll(SEXP poller, SEXP timeout) {
  rzmq_poller *p = rzmq_handle_get(poller, RZMQ_POLLER, "poller");
  long ms = rzmq_poll_timeout(timeout);
  int err;
  rzmq_reclaim();
  poller_sockets(p->items, p);
  err = rzmq_poll_wait(p->items, p->n, ms, poller_sockets, p);
  if (err != 0) return rzmq_fail_null(err);
  return rzmq_poll_result(p->items, p->n);
}

int rzmq_poller_closed(SEXP poller) {
  rzmq_poller *p = rzmq_handle_peek(poller, RZMQ_POLLER);
  int i;
  if (p == NULL) return 1;
  for (i = 0; i < p->n; i++) {
    rzmq_sock *s = R_ExternalPtrAddr(p->socks[i]);
    if (s == NULL || s->head.closed) return 1;
  }
  return 0;
}
