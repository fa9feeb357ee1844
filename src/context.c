/* context.c: context handles. A context is terminated on a thread of its own
 * (lifetime.c) once it is destroyed or collected and its last socket is
 * closed, so gc() never blocks; destroy.context() waits for it, and can be
 * interrupted. A context closes its own sockets (socket.c). */
#include "rzmq.h"
#include <math.h>
#include <stdlib.h>

static rzmq_ctx *all_contexts = NULL;

static void ctx_maybe_free(rzmq_ctx *ctx) {
  if (ctx->holders > 0) return;
  if (ctx->prev) ctx->prev->next = ctx->next;
  else if (all_contexts == ctx) all_contexts = ctx->next;
  if (ctx->next) ctx->next->prev = ctx->prev;
  free(ctx);
}

/* Start termination once it was asked for and no socket is open. */
static rzmq_term_job *ctx_maybe_term(rzmq_ctx *ctx, int want_wait) {
  void *h = ctx->handle;
  if (!ctx->head.closed || ctx->sockets != NULL || ctx->auth != NULL ||
      h == NULL)
    return NULL;
  ctx->handle = NULL;
  return rzmq_term_start(h, want_wait);
}

void rzmq_context_link(rzmq_ctx *ctx, rzmq_sock *s) {
  s->prev = NULL;
  s->next = ctx->sockets;
  if (ctx->sockets) ctx->sockets->prev = s;
  ctx->sockets = s;
}

void rzmq_context_unlink(rzmq_ctx *ctx, rzmq_sock *s) {
  if (s->prev) s->prev->next = s->next;
  else if (ctx->sockets == s) ctx->sockets = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

void rzmq_context_socket_closed(rzmq_ctx *ctx) { ctx_maybe_term(ctx, 0); }

void rzmq_context_holder_gone(rzmq_ctx *ctx) {
  ctx->holders--;
  ctx_maybe_free(ctx);
}

static void ctx_finalize(SEXP x) {
  rzmq_ctx *ctx = rzmq_handle_finalizing(x);
  if (ctx == NULL) return;
  ctx->head.closed = 1;
  rzmq_auth_stop(ctx->auth);
  ctx_maybe_term(ctx, 0);
  rzmq_context_holder_gone(ctx);
}

SEXP rzmq_context_new(SEXP threads) {
  double n = rzmq_arg_number(threads, "threads");
  rzmq_ctx *ctx;
  SEXP ptr;
  if (n < 0 || n > 65536 || n != floor(n))
    Rf_error("`threads` must be a whole number from 0 to 65536");
  /* the owner first, so the GC can clean up whatever follows */
  ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) Rf_error("cannot allocate a zmq context");
  ptr = PROTECT(rzmq_handle_new(ctx, RZMQ_CONTEXT, R_NilValue, ctx_finalize,
                                TRUE));
  ctx->holders = 1;
  ctx->next = all_contexts;
  if (all_contexts) all_contexts->prev = ctx;
  all_contexts = ctx;
  ctx->handle = zmq_ctx_new();
  if (ctx->handle == NULL) {
    int err = zmq_errno();
    rzmq_set_errno(err);
    Rf_error("cannot create a zmq context: %s", zmq_strerror(err));
  }
  if (zmq_ctx_set(ctx->handle, ZMQ_IO_THREADS, (int)n) != 0) {
    int err = zmq_errno();
    rzmq_set_errno(err);
    Rf_error("cannot set `threads` to %d: %s", (int)n, zmq_strerror(err));
  }
  UNPROTECT(1);
  return ptr;
}

/* Every socket, then the authenticator (handshakes end with the sockets). */
static void ctx_close_sockets(rzmq_ctx *ctx, int linger, int set_linger) {
  while (ctx->sockets != NULL) {
    rzmq_sock *s = ctx->sockets;
    if (set_linger && s->handle)
      zmq_setsockopt(s->handle, ZMQ_LINGER, &linger, sizeof linger);
    rzmq_socket_release(s); /* unlinks s from ctx->sockets */
  }
  rzmq_auth_stop(ctx->auth);
}

SEXP rzmq_context_destroy(SEXP x, SEXP linger) {
  rzmq_ctx *ctx = rzmq_handle_peek(x, RZMQ_CONTEXT);
  int set_linger = 0, ms = 0;
  if (ctx != NULL && ctx->head.closed)
    return Rf_ScalarLogical(TRUE); /* destroying twice is harmless */
  ctx = rzmq_context_get(x, "context");
  if (linger != R_NilValue) {
    double v = rzmq_arg_number(linger, "linger");
    if (v != floor(v) || v < -1 || v > 2147483647.0)
      Rf_error("`linger` must be whole milliseconds >= -1");
    ms = (int)v;
    set_linger = 1;
  }
  ctx_close_sockets(ctx, ms, set_linger);
  ctx->head.closed = 1;
  rzmq_term_wait(ctx_maybe_term(ctx, 1));
  return Rf_ScalarLogical(TRUE);
}

void rzmq_context_close_all(int drop) {
  rzmq_ctx *ctx, *next;
  for (ctx = all_contexts; ctx != NULL; ctx = next) {
    next = ctx->next;
    if (ctx->head.gen != rzmq_fork_gen) continue; /* the parent's */
    ctx_close_sockets(ctx, 0, drop);
    ctx->head.closed = 1;
    ctx_maybe_term(ctx, 0);
  }
}
