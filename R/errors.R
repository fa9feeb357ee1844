#' Get libzmq error numbers and error strings
#'
#' The error number and text of the last failure of an rzmq call (a bind
#' that found the address in use, a receive that timed out, ...). The value
#' is stored when the failure happens, so later calls that succeed do not
#' clobber it. A non-blocking receive that found nothing sets it to 11
#' (`EAGAIN`).
#'
#' @return `zmq.errno()`: an integer; `zmq.strerror()`: a string.
#' @examples
#' ctx <- init.context()
#' s <- init.socket(ctx, "ZMQ_PULL")
#' receive.socket(s, dont.wait = TRUE)
#' zmq.errno()
#' zmq.strerror()
#' @export
zmq.errno <- function() .Call(c_rzmq_errno_get)

#' @rdname zmq.errno
#' @export
zmq.strerror <- function() .Call(c_rzmq_strerror_get)

#' Get the version of libzmq
#'
#' @return The version of the libzmq library in use, as a string
#'   `"major.minor.patch"`.
#' @examples
#' zmq.version()
#' @export
zmq.version <- function() .Call(c_rzmq_version_get)
