#' Initialize a zmq context and zmq sockets
#'
#' A context holds libzmq's I/O threads; sockets are made on a context. A
#' socket keeps its context alive, so dropping every reference to a context
#' while its sockets are in use is safe.
#'
#' @param threads number of I/O threads for the context (a whole number,
#'   0 is allowed for inproc-only contexts).
#' @param context a zmq context made by `init.context()`.
#' @param socket.type the socket type: one of `"ZMQ_PAIR"`, `"ZMQ_PUB"`,
#'   `"ZMQ_SUB"`, `"ZMQ_REQ"`, `"ZMQ_REP"`, `"ZMQ_DEALER"`, `"ZMQ_ROUTER"`,
#'   `"ZMQ_PULL"`, `"ZMQ_PUSH"`, `"ZMQ_XPUB"`, `"ZMQ_XSUB"`, `"ZMQ_STREAM"`,
#'   and the old names `"ZMQ_XREQ"` (a DEALER) and `"ZMQ_XREP"` (a ROUTER).
#'   The `ZMQ_` prefix may be left out, and case does not matter (`"req"`).
#' @return `init.context()` returns a zmq context, `init.socket()` a zmq
#'   socket: external pointers.
#' @seealso [set.ctxopt()] for context options, [destroy.context()], [bind.socket()], [connect.socket()],
#'   [send.socket()], [receive.socket()], [poll.socket()]
#' @examples
#' context <- init.context()
#' in.socket <- init.socket(context, "ZMQ_PULL")
#' out.socket <- init.socket(context, "ZMQ_PUSH")
#' destroy.context(context)
#' @export
init.context <- function(threads = 1L) .Call(c_rzmq_context_new, threads)

#' @rdname init.context
#' @export
init.socket <- function(context, socket.type) {
  .Call(c_rzmq_socket_new, context, socket.type)
}

#' Close sockets and destroy contexts
#'
#' `destroy.socket()` closes a socket at once; messages it still has queued
#' are delivered in the background for as long as its linger period allows.
#' `destroy.context()` closes every socket still open on the context and
#' then terminates it, waiting until queued messages are delivered or their
#' linger period ends (Ctrl-C stops the wait; termination then finishes in
#' the background). Both are optional: the garbage collector releases
#' handles that are no longer reachable, without blocking. Closing or
#' destroying twice is harmless; using a closed handle is an R error.
#'
#' @param socket a zmq socket.
#' @param context a zmq context.
#' @param linger `NULL` to keep each socket's linger period, or a number of
#'   milliseconds (0: drop queued messages; -1: wait for them) set on every
#'   socket before it is closed.
#' @return `TRUE`, invisibly.
#' @examples
#' ctx <- init.context()
#' s <- init.socket(ctx, "ZMQ_PUSH")
#' destroy.socket(s)
#' destroy.context(ctx)
#' @export
destroy.socket <- function(socket) {
  invisible(.Call(c_rzmq_socket_close, socket))
}

#' @rdname destroy.socket
#' @export
destroy.context <- function(context, linger = NULL) {
  invisible(.Call(c_rzmq_context_destroy, context, linger))
}
