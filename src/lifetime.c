/* lifetime.c: how everything we make ends, in one place. Who owns what,
 * the one order in which it stops, and which release paths may wait. Every
 * release path comes here: close.socket(), destroy.context(), the socket
 * and context finalizers, exit and unload (init.c), and monitor.c's
 * clean-up. The threads that do what a finalizer may not wait for are
 * threads.c's; a proxy's and an authenticator's own stop steps are theirs.
 *
 * Ownership:
 *
 *   this process --- contexts (all_contexts; a fork's child skips its parent's)
 *   context ------+- its open sockets (ctx->sockets)
 *                 +- its authenticator (ctx->auth: a thread with sockets of its own)
 *   socket -------+- the proxy it is lent to (s->proxy while head.busy: a
 *                 |  thread using the socket; handle.c's loan)
 *                 +- its monitor link (s->watcher / s->watched: libzmq's
 *                    monitor of one socket, read from a PAIR socket)
 *
 * The one stop order, owners last:
 *   socket:  1. the thread using it: the proxy it is lent to, or, for a
 *               monitor, the proxy the watched socket is lent to (libzmq's
 *               monitor is detached on the watched socket itself);
 *            2. its monitor links end (libzmq stops the monitor);
 *            3. zmq_close (returns at once; messages linger in libzmq);
 *            4. it leaves its context's list; a context waiting only for it
 *               starts terminating.
 *   context: 1. every socket, in the order above (linger set first if asked);
 *            2. its authenticator (handshakes ended with the sockets);
 *            3. zmq_ctx_term on a termination thread (threads.c): it waits
 *               for lingering messages, never on R's thread unless asked;
 *            4. the struct goes once its R handle and every socket are gone.
 *
 * A proxy and an authenticator own no handle: stop.proxy(),
 * destroy.authenticator() and their own finalizers run their stop steps
 * directly (proxy.c, authenticator.c), the same ones this order runs.
 *
 * Who waits: close.socket, stop.proxy and destroy.authenticator join the
 * threads they stop. destroy.context, exit and unload do not join a proxy's
 * thread (they hand it over, as a finalizer does: the context's termination
 * ends even a proxy stuck in a send) but wait for the termination itself,
 * interruptibly or for a bounded time. Finalizers never wait: they
 * tell a proxy or an authenticator to end and hand the join, and whatever
 * must follow it (closing a lent socket, detaching a monitor), to a
 * termination thread; sockets R still holds come back through their loan
 * (the first call that uses one waits for that, interruptibly), and one
 * closed meanwhile, by any path, is closed by that thread after the join.
 * Exit and unload wait a bounded time for every termination thread, and
 * unload keeps the library mapped if one is still running. */
#include "rzmq.h"
#include <stdlib.h>

static rzmq_ctx *all_contexts = NULL;

/* ---- the graph -------------------------------------------------------------- */

void rzmq_lifetime_add_context(rzmq_ctx *ctx) {
  ctx->holders = 1; /* its R handle */
  ctx->next = all_contexts;
  if (all_contexts) all_contexts->prev = ctx;
  all_contexts = ctx;
}

void rzmq_lifetime_add_socket(rzmq_sock *s) {
  rzmq_ctx *ctx = s->ctx;
  s->prev = NULL;
  s->next = ctx->sockets;
  if (ctx->sockets) ctx->sockets->prev = s;
  ctx->sockets = s;
}

static void unlink_socket(rzmq_ctx *ctx, rzmq_sock *s) {
  if (s->prev) s->prev->next = s->next;
  else if (ctx->sockets == s) ctx->sockets = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

/* Its R handle or one of its sockets' structs is gone. */
static void holder_gone(rzmq_ctx *ctx) {
  if (--ctx->holders > 0) return;
  if (ctx->prev) ctx->prev->next = ctx->next;
  else if (all_contexts == ctx) all_contexts = ctx->next;
  if (ctx->next) ctx->next->prev = ctx->prev;
  free(ctx);
}

/* Context step 3, once it was asked for and nothing of it is open. */
static rzmq_term_job *ctx_maybe_term(rzmq_ctx *ctx, int want_wait) {
  void *h = ctx->handle;
  if (!ctx->head.closed || ctx->sockets != NULL || ctx->auth != NULL ||
      h == NULL)
    return NULL;
  ctx->handle = NULL;
  return rzmq_term_start(h, want_wait);
}

/* ---- sockets ---------------------------------------------------------------- */

/* Socket step 1 for the proxy `s` is lent to. Waiting: stop it here. Not
 * waiting, or a finalizer ended it already: end it, and return the loan
 * whose return what follows must wait for (closing needs no wait for the
 * thread: a context terminating meanwhile even ends a thread stuck in a
 * send, with ETERM). */
static rzmq_loan *stop_lender(rzmq_sock *s, int wait) {
  rzmq_loan *l = s->head.loan;
  if (!s->head.busy) return NULL;
  if (l->ending) return l;
  rzmq_proxy_stop(s->proxy, wait);
  return wait ? NULL : l;
}

/* Socket step 2 for `w` and the monitor reading its events: libzmq's
 * monitor ends on `w` now, or, while `w` is still lent, once it comes back. */
static void end_link(rzmq_sock *w, rzmq_loan *w_later) {
  if (w_later == NULL || !rzmq_loan_defer(w_later, w->handle, 1))
    zmq_socket_monitor(w->handle, NULL, 0);
  w->watcher->watched = NULL;
  w->watcher = NULL;
}

static void release_socket(rzmq_sock *s, int wait) {
  rzmq_loan *own, *watched = NULL, *after;
  void *h = s->handle;
  if (h == NULL) return;
  own = stop_lender(s, wait);
  if (s->watched != NULL) watched = stop_lender(s->watched, wait);
  /* libzmq reports events with blocking sends: once a monitor is closed,
   * the next event of its socket would block the thread reporting it for
   * good, so the link ends first (MONITOR_STOPPED is its last event) */
  if (s->watcher != NULL) end_link(s, own);
  if (s->watched != NULL) end_link(s->watched, watched);
  s->handle = NULL;
  s->head.closed = 1;
  after = own != NULL ? own : watched;
  if (after == NULL || !rzmq_loan_defer(after, h, 0))
    zmq_close(h); /* returns at once; pending messages linger in libzmq */
  if (own != NULL) { /* its loan is over for R: the proxy's thread holds on */
    s->head.busy = 0;
    s->head.loan = NULL;
    s->proxy = NULL;
    rzmq_loan_drop(own);
  }
  rzmq_endpoints_free(s);
  unlink_socket(s->ctx, s);
  ctx_maybe_term(s->ctx, 0);
}

void rzmq_socket_release(rzmq_sock *s) { release_socket(s, 1); }

void rzmq_lifetime_socket_finalized(rzmq_sock *s) {
  release_socket(s, 0);
  holder_gone(s->ctx);
  free(s);
}

/* ---- contexts --------------------------------------------------------------- */

/* Steps 1 and 2; the caller starts step 3 (ctx_maybe_term). */
static void release_context(rzmq_ctx *ctx, int wait, int set_linger,
                            int linger) {
  while (ctx->sockets != NULL) {
    rzmq_sock *s = ctx->sockets;
    if (set_linger && s->handle)
      zmq_setsockopt(s->handle, ZMQ_LINGER, &linger, sizeof linger);
    /* a proxy's thread is told to end and not waited for: the context's
     * termination (ETERM) ends even a send it is stuck in, and its sockets
     * are closed once it gives them back */
    release_socket(s, 0); /* unlinks s from ctx->sockets */
  }
  if (wait) rzmq_auth_stop(ctx->auth);
  else rzmq_auth_end(ctx->auth);
  ctx->head.closed = 1;
}

void rzmq_lifetime_destroy_context(rzmq_ctx *ctx, int set_linger, int linger) {
  release_context(ctx, 1, set_linger, linger);
  rzmq_term_wait(ctx_maybe_term(ctx, 1));
}

/* Its R handle is gone: its sockets still open are closed by their own
 * finalizers (a socket's handle keeps its context's alive until then). */
void rzmq_lifetime_context_finalized(rzmq_ctx *ctx) {
  ctx->head.closed = 1;
  rzmq_auth_end(ctx->auth);
  ctx_maybe_term(ctx, 0);
  holder_gone(ctx);
}

void rzmq_lifetime_close_all(int drop) {
  rzmq_ctx *ctx, *next;
  for (ctx = all_contexts; ctx != NULL; ctx = next) {
    next = ctx->next;
    if (ctx->head.gen != rzmq_fork_gen) continue; /* the parent's */
    release_context(ctx, 1, drop, 0);
    ctx_maybe_term(ctx, 0);
  }
}
