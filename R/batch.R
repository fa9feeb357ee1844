#' Send or receive many messages in one call
#'
#' `send.messages()` sends each element of the list `data` as a message of
#' its own (one frame each), in order, in one call. `receive.messages()`
#' waits for one message as [receive.socket()] does, then takes whatever
#' else is already queued, up to `n` messages, without waiting again. One
#' call moves a whole batch, so the cost of calling R functions is paid once
#' per batch instead of once per message: the fastest way to move many small
#' messages (see the package's benchmarks).
#'
#' `send.messages()` waits for each message as [send.socket()] does: for at
#' most the socket's send timeout ([set.send.timeout()]). It stops at the
#' first message that cannot be queued in that time, or that libzmq refuses,
#' and returns how many were sent; those are not sent again by a later call
#' unless you send them, and the one that failed is not half sent. With
#' `serialize = FALSE` every element must be a raw vector; that is checked
#' before anything is sent.
#'
#' `receive.messages()` returns a list of 0 to `n` values, oldest first. A
#' message of several frames in the queue comes back as one element: the
#' list of its frames as raw vectors, exactly what [receive.multipart()]
#' returns (it is never unserialized, whatever `unserialize` says). If no
#' message comes within the receive timeout ([set.rcv.timeout()]), or none
#' is waiting with `dont.wait = TRUE`, the list is empty and [zmq.errno()]
#' is 11 (`EAGAIN`). On a REQ or REP socket a batch ends after one message,
#' as the next cannot be received before a send. A libzmq failure after some
#' messages were taken ends the batch with them, quietly ([zmq.errno()] says
#' which); the next call reports it if it persists.
#'
#' Nothing is lost when a batch ends early:
#' * An interrupt (Ctrl-C) while `send.messages()` waits raises R's
#'   interrupt as usual; a handler established with `tryCatch(...,
#'   interrupt = function(e) e$sent)` first receives a condition of class
#'   `rzmq_interrupt` (also an `interrupt`) whose `sent` field says how many
#'   messages had been queued. An R error while serializing (or sending) is
#'   offered the same way, once some messages were sent: as an
#'   `rzmq_batch_error` (also an `error`) with `sent` and the original
#'   condition as `parent`. An object nested too deeply to serialize (a C
#'   stack overflow, which R shows to exiting handlers only) is raised again
#'   as an `rzmq_batch_error` that keeps the overflow's classes.
#' * If a message in a `receive.messages()` batch cannot be unserialized,
#'   the call raises an error of class `rzmq_unserialize_error` whose
#'   `received` field holds the values received before it and whose `data`
#'   field holds that message's bytes; the messages after it stay queued.
#'
#' @inheritParams send.socket
#' @param data a list: each element is sent as one message.
#' @param n the most messages to return (a whole number).
#' @param unserialize whether to unserialize each (single-frame) message.
#' @param dont.wait `TRUE` to return at once (an empty list) if no message
#'   is waiting.
#' @return `send.messages()`: the number of messages sent, an integer.
#'   `receive.messages()`: a list of the messages received.
#' @seealso [send.socket()], [receive.socket()], [receive.multipart()]
#' @examples
#' ctx <- init.context()
#' push <- init.socket(ctx, "ZMQ_PUSH")
#' pull <- init.socket(ctx, "ZMQ_PULL")
#' bind.socket(pull, "inproc://batch-example")
#' connect.socket(push, "inproc://batch-example")
#' send.messages(push, lapply(1:5, function(i) list(task = i, x = rnorm(2))))
#' got <- receive.messages(pull, n = 3)
#' length(got)
#' got[[1]]$task
#' length(receive.messages(pull))  # the other 2
#' # raw frames, and a multipart message in the same queue
#' send.messages(push, list(charToRaw("a"), charToRaw("b")), serialize = FALSE)
#' send.multipart(push, list(charToRaw("head"), charToRaw("body")))
#' str(receive.messages(pull, unserialize = FALSE))
#' receive.messages(pull, dont.wait = TRUE)  # nothing left
#' zmq.errno()
#' destroy.context(ctx)
#' @export
send.messages <- function(socket, data, serialize = TRUE,
                          xdr = .Platform$endian == "big") {
  sent <- integer(1L) # written by C as the batch goes
  call <- sys.call()
  batch_error <- function(e, classes = "error") structure(
    class = unique(c("rzmq_batch_error", classes, "error", "condition")),
    list(message = sprintf("%s (after %d message(s) were sent)",
                           conditionMessage(e), sent[[1L]]),
         call = call, sent = sent[[1L]], parent = e))
  tryCatch(withCallingHandlers(
    .Call(c_rzmq_send_messages, socket, data, serialize,
          if (missing(xdr)) native_xdr else xdr, sent),
    interrupt = function(e) {
      # offered to the caller's handlers first; if none takes it, R's own
      # interrupt goes on as usual
      signalCondition(structure(
        class = c("rzmq_interrupt", "interrupt", "condition"),
        list(message = sprintf("interrupted after %d message(s) were sent",
                               sent[[1L]]),
             call = call, sent = sent[[1L]])))
    },
    error = function(e) {
      # only a batch that got part of the way has something to add
      if (sent[[1L]] > 0L) signalCondition(batch_error(e))
    }),
    stackOverflowError = function(e) {
      # R shows a too deeply nested object's error to exiting handlers only
      # (calling handlers are skipped): raised again here, with the count,
      # keeping its own classes for handlers of those
      if (sent[[1L]] > 0L) stop(batch_error(e, class(e))) else stop(e)
    })
}

#' @rdname send.messages
#' @export
receive.messages <- function(socket, n = 1000L, unserialize = TRUE,
                             dont.wait = FALSE) {
  out <- .Call(c_rzmq_receive_messages, socket, n, unserialize, dont.wait)
  if (!is.null(attr(out, "rzmq_failed"))) {
    stop(structure(
      class = c("rzmq_unserialize_error", "error", "condition"),
      list(message = sprintf(
             "message %d of the batch could not be unserialized: %s",
             length(out[[1L]]) + 1L, conditionMessage(out[[3L]])),
           call = sys.call(), received = out[[1L]], data = out[[2L]],
           parent = out[[3L]])))
  }
  out
}

# Where a raw vector's bytes are: "message" (a received frame read in
# place), "copied" (it was, until R asked to write) or "ordinary".
frame_state <- function(x) .Call(c_rzmq_frame_state, x)

# Whether two raw vectors are the same bytes in memory: a frame received
# from a vector this process lent over inproc is that very vector.
same_bytes <- function(x, y) .Call(c_rzmq_same_bytes, x, y)

# Write byte `i` of raw vector `x` in place through C's writable pointer
# (DATAPTR), as any C code may: a received frame must copy itself out first.
frame_poke <- function(x, i, value) .Call(c_rzmq_frame_poke, x, as.numeric(i), value)
