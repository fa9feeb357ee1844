/* context.c: context handles: create, destroy. How a context ends (its
 * sockets, its authenticator, termination on a thread of its own so that
 * gc() never blocks) is lifetime.c's stop order; destroy.context() waits
 * for the termination, and can be interrupted. */
#include "rzmq.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static void ctx_finalize(SEXP x) {
  rzmq_ctx *ctx = rzmq_handle_finalizing(x);
  if (ctx != NULL) rzmq_lifetime_context_finalized(ctx);
}

SEXP rzmq_context_new(SEXP threads) {
  double n = rzmq_arg_number(threads, "threads");
  rzmq_ctx *ctx;
  SEXP ptr;
  if (n < 0 || n > 65536 || n != floor(n))
    Rf_error("`threads` must be a whole number from 0 to 65536");
  /* the owner first, so the GC can clean up whatever follows */
  ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) rzmq_fail_stop(ENOMEM, "cannot allocate a zmq context");
  ptr = PROTECT(rzmq_handle_new(ctx, RZMQ_CONTEXT, R_NilValue, ctx_finalize,
                                TRUE));
  rzmq_lifetime_add_context(ctx);
  ctx->handle = zmq_ctx_new();
  if (ctx->handle == NULL)
    rzmq_fail_stop(zmq_errno(), "cannot create a zmq context");
  if (zmq_ctx_set(ctx->handle, ZMQ_IO_THREADS, (int)n) != 0)
    rzmq_fail_stop(zmq_errno(), "cannot set `threads` to %d", (int)n);
  UNPROTECT(1);
  return ptr;
}

SEXP rzmq_context_destroy(SEXP x, SEXP linger) {
  rzmq_ctx *ctx = rzmq_handle_to_release(x, RZMQ_CONTEXT, "context");
  int set_linger = 0, ms = 0;
  if (ctx == NULL) return Rf_ScalarLogical(TRUE);
  if (linger != R_NilValue) {
    double v = rzmq_arg_number(linger, "linger");
    if (v != floor(v) || v < -1 || v > 2147483647.0)
      Rf_error("`linger` must be whole milliseconds >= -1");
    ms = (int)v;
    set_linger = 1;
  }
  rzmq_lifetime_destroy_context(ctx, set_linger, ms);
  return Rf_ScalarLogical(TRUE);
}

