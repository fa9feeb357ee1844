#' A poller: poll the same sockets many times
#'
#' `init.poller()` takes the sockets and events of a [poll.socket()] call
#' and checks them once; `poll.poller()` then waits for those events as
#' `poll.socket(sockets, events, timeout)` would, and returns the same
#' list, for less work per call. A loop that polls the same sockets again
#' and again (an event loop, a broker) makes one poller and polls it.
#'
#' The poller holds its sockets: while it exists they are not collected by
#' [gc()], even if nothing else refers to them. A socket of the poller that
#' is closed later (by [destroy.socket()], or with its context by
#' [destroy.context()]) makes the next `poll.poller()` an R error that
#' names it by its place in `sockets`; the poller cannot be used again,
#' make a new one. Ctrl-C interrupts a long wait, as for `poll.socket()`.
#'
#' @inheritParams poll.socket
#' @param poller a poller made by `init.poller()`.
#' @return `init.poller()`: a zmq poller (an external pointer).
#'   `poll.poller()`: a list with one element per socket, a named list of
#'   logicals holding the requested events, in the order read, write,
#'   error, exactly as [poll.socket()] returns it; `NULL` (with a message)
#'   if libzmq fails.
#' @seealso [poll.socket()]; [is.closed()]
#' @examples
#' context <- init.context()
#' jobs <- init.socket(context, "ZMQ_PULL")
#' bind.socket(jobs, "inproc://poller-jobs")
#' control <- init.socket(context, "ZMQ_PULL")
#' bind.socket(control, "inproc://poller-control")
#' poller <- init.poller(list(jobs, control), "read")
#'
#' sender <- init.socket(context, "ZMQ_PUSH")
#' connect.socket(sender, "inproc://poller-jobs")
#' stopper <- init.socket(context, "ZMQ_PUSH")
#' connect.socket(stopper, "inproc://poller-control")
#' for (i in 1:3) send.socket(sender, i)
#' send.socket(stopper, "stop")
#'
#' # serve jobs until told to stop (waiting at most 2 s for each event)
#' repeat {
#'   ready <- poll.poller(poller, timeout = 2)
#'   if (ready[[1]]$read) print(receive.socket(jobs))
#'   else if (ready[[2]]$read) break
#'   else stop("nothing came")
#' }
#' receive.socket(control)
#' destroy.context(context)
#' @export
init.poller <- function(sockets, events) {
  .Call(c_rzmq_poller_new, sockets, events)
}

#' @rdname init.poller
#' @export
poll.poller <- function(poller, timeout = 0) {
  .Call(c_rzmq_poller_poll, poller, timeout)
}
