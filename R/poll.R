#' Poll sockets for events
#'
#' Waits until at least one of the sockets can be read without blocking,
#' written without blocking, or has an error, whichever events were asked
#' for, or until the timeout passes. Ctrl-C interrupts a long wait.
#'
#' @param sockets a list of zmq sockets.
#' @param events a list of character vectors, one per socket, each holding
#'   one or more of `"read"`, `"write"` and `"error"`. A single character
#'   vector applies to every socket.
#' @param timeout seconds to wait; fractions are allowed (0.3 waits 300 ms;
#'   libzmq resolves milliseconds). `0` returns at once; `-1` (or `Inf`)
#'   waits until an event occurs.
#' @return A list with one element per socket: a named list of logicals
#'   holding the requested events, in the order read, write, error.
#'   `NULL` (with a message) if libzmq fails.
#' @examples
#' # A REQ/REP pair goes send, receive, send, receive, ...
#' context <- init.context()
#' in.socket <- init.socket(context, "ZMQ_REP")
#' bind.socket(in.socket, "tcp://127.0.0.1:*")
#' out.socket <- init.socket(context, "ZMQ_REQ")
#' connect.socket(out.socket, get.last.endpoint(in.socket))
#' all3 <- c("read", "write", "error")
#'
#' # Only the REQ socket can be written to.
#' str(poll.socket(list(in.socket, out.socket), list(all3, all3)))
#'
#' # Once REQ has sent, REP is readable (wait up to 2 s for it).
#' send.socket(out.socket, "Hello World")
#' events <- poll.socket(list(in.socket), list("read"), timeout = 2)
#' events[[1]]$read
#' receive.socket(in.socket)
#'
#' # REP must answer before either can go on.
#' send.socket(in.socket, "Greetings")
#' events <- poll.socket(list(out.socket), list("read"), timeout = 2)
#' events[[1]]$read
#' receive.socket(out.socket)
#' destroy.context(context)
#' @export
poll.socket <- function(sockets, events, timeout = 0L) {
  .Call(c_rzmq_poll, sockets, events, timeout)
}
