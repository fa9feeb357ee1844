#' rzmq: R bindings for ZeroMQ
#'
#' Contexts, sockets, poll, socket options and message transfer for the
#' 'ZeroMQ' messaging library, with the API of rzmq 0.9.16: programs written
#' for it run unchanged. R objects are serialized straight into message
#' buffers; every blocking call can be interrupted with Ctrl-C.
#'
#' Handles (contexts, sockets, message objects) are plain external pointers.
#' A socket keeps its context alive; both are released by the garbage
#' collector without ever blocking, or explicitly with [destroy.socket()] and
#' [destroy.context()]. At exit, messages still queued get up to
#' `getOption("rzmq.exit.timeout", 3)` seconds to be delivered.
#'
#' Unloading the package (`unloadNamespace("rzmq")`, as `devtools::load_all()`
#' does on every reload) closes every socket with linger 0, so queued
#' messages are dropped, and terminates every context, waiting up to
#' `getOption("rzmq.unload.timeout", 1)` seconds for libzmq to finish.
#' Handles kept across an unload are closed: using one is an R error.
#'
#' Failures of libzmq make the call return `FALSE` (receives: `NULL`) and
#' write libzmq's error text as an R message; see [zmq.errno()]. Misuse in R
#' terms (a wrong argument type, an unknown socket type, a closed socket) is
#' an R error.
#'
#' @keywords internal
#' @useDynLib rzmq, .registration = TRUE, .fixes = "c_"
"_PACKAGE"
