#' Get libzmq error numbers and error strings; failures as R errors
#'
#' The error number and text of the last failure of an rzmq call (a bind
#' that found the address in use, a receive that timed out, ...). The value
#' is stored when the failure happens, so later calls that succeed do not
#' clobber it. A non-blocking receive that found nothing sets it to 11
#' (`EAGAIN`).
#'
#' @section Failures as R errors: `options(rzmq.errors = ...)`:
#' By default (the option unset, or `"message"`), a call that libzmq fails
#' returns `FALSE` (receives and getters `NULL`) and writes libzmq's error
#' text as a message, as rzmq 0.9.16 did; nothing to receive with
#' `dont.wait = TRUE` and an expired timeout (`EAGAIN`) are silent.
#'
#' With `options(rzmq.errors = "condition")` the same failures raise an R
#' error instead, of class `c("rzmq_<NAME>", "rzmq_error", "error",
#' "condition")`, where `<NAME>` is the errno's symbolic name:
#' `rzmq_EADDRINUSE`, `rzmq_EINVAL`, `rzmq_EPROTONOSUPPORT`, `rzmq_ENOENT`,
#' `rzmq_EFSM` (a REQ socket sending twice), `rzmq_EMSGSIZE`
#' (`receive.int()` of a frame of another size), `rzmq_ETERM`,
#' `rzmq_EHOSTUNREACH`, `rzmq_ENOTSUP`, `rzmq_ENOCOMPATPROTO`,
#' `rzmq_EMTHREAD`, `rzmq_EAGAIN`, `rzmq_EINTR` ...; an errno without a
#' name here gives `rzmq_E<number>`. The condition's message is libzmq's
#' text, its `call` the call of the rzmq function that failed, and its
#' `errno` the error number (an integer); `zmq.errno()` is set as well. So
#' `tryCatch(bind.socket(s, ep), rzmq_EADDRINUSE = function(e) ...)`
#' handles one kind of failure and lets the others through.
#'
#' A failure that ends a call, whatever the option says (a context or
#' socket that libzmq cannot make, a security option it refuses, memory
#' that cannot be had), is an R error with the text `"cannot ...: "` and
#' libzmq's text; under `"condition"` it has the same classes, `errno` and
#' call, so `tryCatch(init.context(), rzmq_EMFILE = function(e) ...)`
#' catches a process out of file descriptors.
#'
#' `EAGAIN` stays a quiet `NULL` / `FALSE` under `"condition"`, as it is
#' no failure for a poller; `options(rzmq.errors = "condition-all")` raises
#' `rzmq_EAGAIN` for it too. Misuse in R terms (a wrong argument) is an R
#' error whatever the option says. The option is read only when a call
#' fails.
#'
#' @return `zmq.errno()`: an integer; `zmq.strerror()`: a string.
#' @aliases rzmq.errors rzmq_error
#' @examples
#' ctx <- init.context()
#' s <- init.socket(ctx, "ZMQ_PULL")
#' receive.socket(s, dont.wait = TRUE)
#' zmq.errno()
#' zmq.strerror()
#'
#' # failures as classed R errors
#' a <- init.socket(ctx, "ZMQ_PULL")
#' b <- init.socket(ctx, "ZMQ_PULL")
#' bind.socket(a, "inproc://rzmq-errors-example")
#' old <- options(rzmq.errors = "condition")
#' tryCatch(bind.socket(b, "inproc://rzmq-errors-example"),
#'          rzmq_EADDRINUSE = function(e) {
#'            cat("in use:", conditionMessage(e), "errno", e$errno, "\n")
#'            print(conditionCall(e))
#'          })
#' options(old)
#' destroy.context(ctx)
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

# Called from C (errors.c) to raise a failure under options(rzmq.errors =
# "condition"): an error of class rzmq_<name> whose call is that of the
# exported function that failed, the nearest of this namespace's closures
# below this frame on the stack.
rzmq_raise <- function(errno, name, text) {
  ns <- topenv()
  call <- NULL
  for (i in rev(seq_len(sys.nframe() - 1L))) {
    if (identical(environment(sys.function(i)), ns)) {
      call <- sys.call(i)
      break
    }
  }
  stop(structure(
    class = c(paste0("rzmq_", name), "rzmq_error", "error", "condition"),
    list(message = text, call = call, errno = errno)
  ))
}
