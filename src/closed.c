/* closed.c: is.closed(). Whether a handle of any kind can still be used:
 * its own closed flag, and for a poller its sockets' (poller.c). */
#include "rzmq.h"

SEXP rzmq_handle_closed(SEXP x) {
  int k = rzmq_handle_kind(x);
  rzmq_head *h;
  if (k < 0)
    Rf_error("`handle` must be a handle of rzmq (a context, socket, message, "
             "authenticator, proxy, poller or on.message() watcher)");
  if (k == RZMQ_POLLER) return Rf_ScalarLogical(rzmq_poller_closed(x));
  /* NULL: restored from a file, or made in another process */
  h = rzmq_handle_peek(x, (rzmq_kind)k);
  return Rf_ScalarLogical(h == NULL || h->closed);
}
