#' Is a handle closed?
#'
#' Tells whether a handle of this package can still be used: a context
#' after [destroy.context()], a socket (or a monitor, see
#' [monitor.socket()]) after [destroy.socket()] or the destruction of its
#' context, an authenticator after [destroy.authenticator()] or the
#' destruction of its context, a proxy after [stop.proxy()] (or once its
#' sockets are closed) are closed. A handle saved with [saveRDS()] and
#' read back, or inherited by a forked child process, is closed too: it
#' cannot be used there. A message object ([init.message()]) stays open
#' while it exists; a poller ([init.poller()]) is closed once one of its
#' sockets is; an [on.message()] watcher is closed once cancelled or once
#' its socket is closed. A socket lent to
#' a running proxy is not closed (it is given back when the proxy stops).
#'
#' @param handle a context, socket, message object, authenticator, proxy,
#'   poller or [on.message()] watcher.
#' @return `TRUE` if `handle` is closed, `FALSE` if it can be used. Anything
#'   that is not a handle of this package is an R error.
#' @examples
#' context <- init.context()
#' socket <- init.socket(context, "ZMQ_PAIR")
#' is.closed(socket)
#' destroy.context(context)
#' is.closed(socket)  # closed with its context
#' is.closed(context)
#' @export
is.closed <- function(handle) {
  if (inherits(handle, "rzmq_on_message") && is.environment(handle)) {
    return(!identical(handle$state, "active") || !socket_open(handle$socket))
  }
  .Call(c_rzmq_handle_closed, handle)
}
