#' Forward messages between two sockets: the proxy
#'
#' A proxy passes every message that arrives on `frontend` to `backend` and
#' every message that arrives on `backend` to `frontend`, as libzmq's
#' `zmq_proxy()` does: a ROUTER frontend and a DEALER backend make a broker
#' between clients and workers, an XSUB and an XPUB a forwarder for
#' publishers and subscribers, a PULL and a PUSH a streamer. If `capture` is
#' given, a copy of every frame either way is sent on it too: a PUB drops
#' copies no one subscribes to, a PUSH, DEALER or PAIR queues them for its
#' reader up to its high-water mark. The capture never holds up or costs a
#' message: a copy the capture socket cannot take at once (no reader, or
#' one that fell behind by the high-water mark) is dropped whole, the
#' message itself goes on, and `proxy.stats()` counts the dropped copies
#' (`capture.dropped`). Raise the capture socket's high-water mark
#' ([set.hwm()]) to let a slow reader fall further behind.
#'
#' The proxy works as libzmq's `zmq_proxy_steerable()` does, with two
#' differences: it never waits on the capture, and it never waits in a send
#' (a message whose destination is full waits in the proxy, one each way,
#' until there is room), so pause, statistics and stop are answered at once
#' however full the sockets are. Stopping it while a message waits sends
#' that message if its destination has room by then, and drops it if not.
#'
#' The proxy always runs on a C thread of its own. `zmq.proxy()` waits for
#' it, in slices of 200 ms that check for a user interrupt: Ctrl-C (or
#' SIGINT) stops the proxy, and then R's `interrupt` condition is raised
#' again, so `zmq.proxy()` does not return; catch it with
#' `tryCatch(..., interrupt = )` to go on. `init.proxy()` starts one and
#' returns at once with its handle. `pause.proxy()` holds the messages
#' where they are (they queue, up to the sockets' high-water marks) until
#' `resume.proxy()`; both return once the proxy has applied them.
#' `proxy.stats()` counts the messages and bytes each socket has received
#' (in) and sent (out). `stop.proxy()` stops it; stopping twice is harmless, and
#' the garbage collector, exit and unloading stop one that is still running.
#'
#' While a proxy runs, its sockets are its own (libzmq sockets may not be
#' used by two threads): using one from R is an error that says so, until
#' [stop.proxy()]. Closing one from elsewhere (destroying its context, its
#' garbage collection) stops the proxy first.
#'
#' @param frontend,backend the sockets to connect, already bound or
#'   connected; they may be one socket.
#' @param capture `NULL`, or a third socket that gets a copy of every frame.
#' @param p a proxy made by `init.proxy()`.
#' @return `zmq.proxy()`: only if the proxy fails (a libzmq error), `FALSE`
#'   with a message ([zmq.errno()] tells which); after an interrupt it does
#'   not return. `init.proxy()`: a proxy, an external pointer.
#'   `pause.proxy()`, `resume.proxy()`, `stop.proxy()`: `TRUE`, invisibly.
#'   A proxy that failed by itself keeps its sockets until `stop.proxy()`;
#'   `pause.proxy()`, `resume.proxy()` and `proxy.stats()` on it are R
#'   errors that say why it failed. `proxy.stats()`: a named numeric vector:
#'   `frontend.messages.in`, `frontend.bytes.in`, `frontend.messages.out`,
#'   `frontend.bytes.out`, and the same for `backend` (a multipart message
#'   counts once, with the bytes of all its frames), then
#'   `capture.dropped`, the messages whose copy the capture socket could not
#'   take (0 without one).
#' @examples
#' ctx <- init.context()
#' front <- init.socket(ctx, "ZMQ_PULL")
#' back <- init.socket(ctx, "ZMQ_PUSH")
#' bind.socket(front, "inproc://proxy-example-in")
#' bind.socket(back, "inproc://proxy-example-out")
#' sender <- init.socket(ctx, "ZMQ_PUSH")
#' connect.socket(sender, "inproc://proxy-example-in")
#' receiver <- init.socket(ctx, "ZMQ_PULL")
#' connect.socket(receiver, "inproc://proxy-example-out")
#' p <- init.proxy(front, back)
#' send.socket(sender, "through the proxy")
#' receive.socket(receiver)
#' proxy.stats(p)
#' stop.proxy(p)
#' destroy.context(ctx, linger = 0)
#' @export
zmq.proxy <- function(frontend, backend, capture = NULL) {
  invisible(.Call(c_rzmq_proxy_run, frontend, backend, capture))
}

#' @rdname zmq.proxy
#' @export
init.proxy <- function(frontend, backend, capture = NULL) {
  .Call(c_rzmq_proxy_new, frontend, backend, capture)
}

#' @rdname zmq.proxy
#' @export
pause.proxy <- function(p) {
  invisible(.Call(c_rzmq_proxy_pause, p, TRUE))
}

#' @rdname zmq.proxy
#' @export
resume.proxy <- function(p) {
  invisible(.Call(c_rzmq_proxy_pause, p, FALSE))
}

#' @rdname zmq.proxy
#' @export
proxy.stats <- function(p) {
  .Call(c_rzmq_proxy_stats, p)
}

#' @rdname zmq.proxy
#' @export
stop.proxy <- function(p) {
  invisible(.Call(c_rzmq_proxy_halt, p))
}
