/* socket.c: socket handles: create, bind/connect, close. A socket's external
 * pointer protects its context's, so the context cannot be collected first;
 * closing never blocks (libzmq lingers in the background). What closing
 * stops first (a proxy, a monitor link) is lifetime.c's stop order. */
#include "rzmq.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  int type;
} socket_types[] = {
    {"PAIR", ZMQ_PAIR},     {"PUB", ZMQ_PUB},       {"SUB", ZMQ_SUB},
    {"REQ", ZMQ_REQ},       {"REP", ZMQ_REP},       {"DEALER", ZMQ_DEALER},
    {"ROUTER", ZMQ_ROUTER}, {"PULL", ZMQ_PULL},     {"PUSH", ZMQ_PUSH},
    {"XPUB", ZMQ_XPUB},     {"XSUB", ZMQ_XSUB},     {"STREAM", ZMQ_STREAM},
    {"XREQ", ZMQ_DEALER},   {"XREP", ZMQ_ROUTER},
};

static int socket_type_from_name(const char *name) {
  size_t i;
  /* "ZMQ_REQ", "REQ" and "req" all name the same type */
  if (strncasecmp(name, "ZMQ_", 4) == 0) name += 4;
  for (i = 0; i < sizeof socket_types / sizeof socket_types[0]; i++)
    if (strcasecmp(name, socket_types[i].name) == 0) return socket_types[i].type;
  return -1;
}

static void sock_finalize(SEXP x) {
  rzmq_sock *s = rzmq_handle_finalizing(x);
  if (s != NULL) rzmq_lifetime_socket_finalized(s);
}

SEXP rzmq_socket_new(SEXP context, SEXP type) {
  rzmq_ctx *ctx = rzmq_context_get(context, "context");
  const char *tname = rzmq_arg_string(type, "socket.type", 0);
  int t = socket_type_from_name(tname);
  rzmq_sock *s;
  SEXP ptr;
  if (t < 0)
    Rf_error("`socket.type` \"%s\" is not a zmq socket type; use one of "
             "ZMQ_PAIR, ZMQ_PUB, ZMQ_SUB, ZMQ_REQ, ZMQ_REP, ZMQ_DEALER, "
             "ZMQ_ROUTER, ZMQ_PULL, ZMQ_PUSH, ZMQ_XPUB, ZMQ_XSUB, ZMQ_STREAM",
             tname);
  s = calloc(1, sizeof *s);
  if (s == NULL) rzmq_fail_stop(ENOMEM, "cannot allocate a zmq socket");
  s->ctx = ctx;
  s->type = t;
  s->rcvtimeo = s->applied_rcvtimeo = -1; /* libzmq's defaults */
  s->sndtimeo = s->applied_sndtimeo = -1;
  /* not open until zmq_socket succeeds; prot = the context's handle, so it
   * stays reachable while the socket is */
  s->head.closed = 1;
  ptr = PROTECT(rzmq_handle_new(s, RZMQ_SOCKET, context, sock_finalize, TRUE));
  ctx->holders++; /* given back by sock_finalize, even if zmq_socket fails */
  s->handle = zmq_socket(ctx->handle, t);
  if (s->handle == NULL)
    rzmq_fail_stop(zmq_errno(), "cannot create a %s socket", tname);
  s->head.closed = 0;
  rzmq_lifetime_add_socket(s);
  UNPROTECT(1);
  return ptr;
}

typedef int (*endpoint_fn)(void *, const char *);

static SEXP socket_endpoint(SEXP sock, SEXP addr, endpoint_fn fn) {
  rzmq_sock *s = rzmq_socket_get(sock, "socket");
  const char *a = rzmq_arg_string(addr, "address", 0);
  int adding = fn == zmq_bind || fn == zmq_connect;
  if (fn(s->handle, a) != 0) {
    int err = zmq_errno();
    /* libzmq's own text, "No such file or directory", names no endpoint */
    if (err == ENOENT && !adding) {
      const char *what = fn == zmq_unbind ? "bound" : "connected";
      size_t n = strlen(a) + 128;
      char *text = R_alloc(n, 1);
      snprintf(text, n, "`address` \"%s\" is not %s on this socket (%s)", a,
               what, zmq_strerror(err));
      rzmq_report_text(err, text);
      return Rf_ScalarLogical(FALSE);
    }
    return rzmq_fail_false(err);
  }
  /* one disconnect may end several connects of one address: the count
   * only ever errs high, keeping security options refused */
  if (adding) s->attached++;
  else if (s->attached > 0) s->attached--;
  rzmq_endpoints_note(s, a, fn == zmq_bind || fn == zmq_unbind, adding);
  return Rf_ScalarLogical(TRUE);
}

SEXP rzmq_socket_bind(SEXP sock, SEXP addr) {
  return socket_endpoint(sock, addr, zmq_bind);
}
SEXP rzmq_socket_connect(SEXP sock, SEXP addr) {
  return socket_endpoint(sock, addr, zmq_connect);
}
SEXP rzmq_socket_disconnect(SEXP sock, SEXP addr) {
  return socket_endpoint(sock, addr, zmq_disconnect);
}
SEXP rzmq_socket_unbind(SEXP sock, SEXP addr) {
  return socket_endpoint(sock, addr, zmq_unbind);
}

SEXP rzmq_socket_close(SEXP sock) {
  rzmq_sock *s = rzmq_handle_to_release(sock, RZMQ_SOCKET, "socket");
  if (s != NULL) rzmq_socket_release(s);
  return Rf_ScalarLogical(TRUE);
}
