#' Send a message
#'
#' Queues a message on the socket. Success means libzmq has taken
#' responsibility for the message, not that it has reached a peer. A send
#' that cannot be queued at once (no peer yet, or the high-water mark
#' reached) waits, for at most the socket's send timeout
#' ([set.send.timeout()]); Ctrl-C interrupts the wait. Only a message's
#' first frame waits: libzmq refuses a later frame (after
#' `send.more = TRUE`) only when the peer went away mid-message, and that
#' is `FALSE` at once (errno 11); the peer gets none of that message.
#'
#' `send.socket()` with `serialize = TRUE` sends exactly the bytes of
#' `serialize(data, NULL, xdr = xdr)`, so any R peer (or rzmq 0.9.16) can
#' read it. With `serialize = FALSE`, `data` must be a raw vector and is
#' sent as it is. `send.null.msg()` sends an empty frame and
#' `send.raw.string()` the bytes of the string `data[1]` (UTF-8, no
#' terminating NUL). `send.message.object()` sends a message made once by
#' [init.message()]; it may be sent any number of times.
#'
#' @param socket a zmq socket.
#' @param data the R object to send.
#' @param send.more `TRUE` if more frames of the same message follow.
#' @param serialize whether to serialize `data` first.
#' @param xdr passed to serialize: `TRUE` for big-endian (XDR) format,
#'   `FALSE` for the native little-endian format, which is faster.
#' @param msg a message object made by [init.message()].
#' @return `TRUE` on success; `FALSE` on failure (the error text is written
#'   as a message, except for a send timeout, which is silent and sets
#'   [zmq.errno()] to 11); invisibly, except for `send.null.msg()`,
#'   `send.raw.string()` and `send.message.object()`.
#' @seealso [receive.socket()], [send.multipart()], [init.message()]
#' @examples
#' ctx <- init.context()
#' a <- init.socket(ctx, "ZMQ_PAIR")
#' b <- init.socket(ctx, "ZMQ_PAIR")
#' bind.socket(a, "inproc://send-example")
#' connect.socket(b, "inproc://send-example")
#' send.socket(b, list(x = 1:3, f = "any R object"))
#' receive.socket(a)
#' send.raw.string(b, "hello")
#' receive.string(a)
#' destroy.context(ctx)
#' @export
send.socket <- function(socket, data, send.more = FALSE, serialize = TRUE,
                        xdr = .Platform$endian == "big") {
  # the default is computed once at load, not on every call
  invisible(.Call(c_rzmq_send, socket, data, send.more, serialize,
                  if (missing(xdr)) native_xdr else xdr))
}

#' @rdname send.socket
#' @export
send.null.msg <- function(socket, send.more = FALSE) {
  .Call(c_rzmq_send_null, socket, send.more)
}

#' @rdname send.socket
#' @export
send.raw.string <- function(socket, data, send.more = FALSE) {
  .Call(c_rzmq_send_string, socket, data, send.more)
}

#' @rdname send.socket
#' @export
send.message.object <- function(socket, msg, send.more = FALSE) {
  .Call(c_rzmq_message_send, socket, msg, send.more)
}

#' Create a message object
#'
#' Builds a message once so that it can be sent many times with
#' [send.message.object()], for example large common data sent to many
#' workers: the object is serialized once and every send shares the same
#' buffer.
#'
#' @inheritParams send.socket
#' @return `init.message()`: a zmq message object (an external pointer).
#'   `message.size()`: its size in bytes, a number.
#' @examples
#' ctx <- init.context()
#' a <- init.socket(ctx, "ZMQ_PAIR")
#' b <- init.socket(ctx, "ZMQ_PAIR")
#' bind.socket(a, "inproc://message-example")
#' connect.socket(b, "inproc://message-example")
#' msg <- init.message(list(x = 5))
#' message.size(msg)
#' send.message.object(b, msg)
#' send.message.object(b, msg)
#' receive.socket(a)
#' receive.socket(a)
#' destroy.context(ctx)
#' @export
init.message <- function(data, serialize = TRUE,
                         xdr = .Platform$endian == "big") {
  .Call(c_rzmq_message_new, data, serialize,
        if (missing(xdr)) native_xdr else xdr)
}

#' @rdname init.message
#' @param message a message object made by `init.message()`.
#' @details `message.size()` gives the message's size in bytes: the length
#'   of the raw vector, or of the serialized object.
#' @export
message.size <- function(message) .Call(c_rzmq_message_size, message)

#' Receive a message
#'
#' Receives one frame from the socket. By default the call blocks until a
#' frame arrives, or until the socket's receive timeout
#' ([set.rcv.timeout()]) passes; Ctrl-C interrupts the wait and leaves the
#' socket usable. With `dont.wait = TRUE` it returns `NULL` at once if no
#' frame is waiting, and [zmq.errno()] then returns 11 (`EAGAIN`).
#'
#' `receive.socket()` unserializes the frame (anything base [unserialize()]
#' accepts), or with `unserialize = FALSE` returns its bytes as a raw vector.
#' `receive.null.msg()` returns `TRUE` for an empty frame and `FALSE` for a
#' non-empty one (which is consumed). `receive.string()` returns the frame
#' as a UTF-8 string; `receive.int()` and `receive.double()` read exactly 4
#' or 8 native-endian bytes (a frame of another size gives `NULL` and a
#' message).
#'
#' Large frames received with `unserialize = FALSE` are not copied where
#' that pays. A raw vector of 64 KB or more that this same process sent over
#' `inproc://` comes back as itself, as `y <- x` would give it (a vector with
#' attributes comes back as a plain one, read in place as below; with many
#' thousands in flight at once, the older ones may be copied). From 64 KB
#' when the bytes exist anyway (a message object or a message shared by
#' several receivers), and from 8 MB for any frame, the raw vector reads the
#' message where libzmq holds it, and lets it go when R collects the vector.
#' It is an ordinary raw vector in every other way; the first time R writes
#' to it, it copies itself, so the message (which others may share) never
#' changes. Sending it again shares the message instead of copying it. A
#' fresh frame below 8 MB is copied: libzmq then reuses its buffer at once,
#' where R would give it back only at its next garbage collection (and the
#' package asks for one when such frames hold more than 512 MB).
#'
#' @param socket a zmq socket.
#' @param unserialize whether to unserialize the received frame.
#' @param dont.wait `TRUE` for a non-blocking receive.
#' @return The value received, or `NULL` on failure (the error text is
#'   written as a message, except for a timeout or an empty non-blocking
#'   receive, which are silent).
#' @seealso [send.socket()], [receive.multipart()], [poll.socket()];
#'   [receive.messages()] for many messages in one call
#' @examples
#' remote.exec <- function(out.socket, in.socket, fun, ...) {
#'   send.socket(out.socket, data = list(fun = fun, args = list(...)))
#'   receive.socket(in.socket)
#' }
#' context <- init.context()
#' out.socket <- init.socket(context, "ZMQ_PUSH")
#' bind.socket(out.socket, "inproc://receive-example")
#' in.socket <- init.socket(context, "ZMQ_PULL")
#' connect.socket(in.socket, "inproc://receive-example")
#' msg <- remote.exec(out.socket, in.socket, sum, 1:10)
#' do.call(msg$fun, msg$args)
#' receive.socket(in.socket, dont.wait = TRUE)
#' zmq.errno()
#' destroy.context(context)
#' @export
receive.socket <- function(socket, unserialize = TRUE, dont.wait = FALSE) {
  .Call(c_rzmq_receive, socket, unserialize, dont.wait)
}

#' @rdname receive.socket
#' @export
receive.null.msg <- function(socket) .Call(c_rzmq_receive_null, socket)

#' @rdname receive.socket
#' @export
receive.string <- function(socket) .Call(c_rzmq_receive_string, socket)

#' @rdname receive.socket
#' @export
receive.int <- function(socket) .Call(c_rzmq_receive_int, socket)

#' @rdname receive.socket
#' @export
receive.double <- function(socket) .Call(c_rzmq_receive_double, socket)

#' Receive a multipart message
#'
#' Receives every frame of the next message. A `ZMQ_ROUTER` socket puts the
#' sending peer's identity first. Large frames are not copied where that
#' pays (see [receive.socket()]).
#'
#' @param socket a zmq socket.
#' @return A list of raw vectors, one per frame, or `NULL` on failure.
#' @seealso [send.multipart()]
#' @examples
#' ctx <- init.context()
#' a <- init.socket(ctx, "ZMQ_PAIR")
#' b <- init.socket(ctx, "ZMQ_PAIR")
#' bind.socket(a, "inproc://multipart-example")
#' connect.socket(b, "inproc://multipart-example")
#' send.multipart(b, list(charToRaw("header"), raw(0), serialize(1:3, NULL)))
#' parts <- receive.multipart(a)
#' rawToChar(parts[[1]])
#' unserialize(parts[[3]])
#' destroy.context(ctx)
#' @export
receive.multipart <- function(socket) {
  .Call(c_rzmq_receive_multipart, socket)
}

#' Send a multipart message
#'
#' Sends the elements of `parts` as the frames of one message: every frame
#' but the last carries the more-flag, and peers receive all of them or none.
#' Only the first frame waits for room (as [send.socket()] does); if the
#' peer goes away while the later frames are queued, the result is `FALSE`
#' at once (errno 11) and the peer gets none of the message.
#'
#' @param socket a zmq socket.
#' @param parts a non-empty list of raw vectors (a single string is sent as
#'   its UTF-8 bytes), one per frame, in order.
#' @return `TRUE` on success, `FALSE` on failure, invisibly.
#' @seealso [receive.multipart()]
#' @inherit receive.multipart examples
#' @export
send.multipart <- function(socket, parts) {
  invisible(.Call(c_rzmq_send_multipart, socket, parts))
}

# How many raw vectors libzmq still points into (see src/lend.c).
lent_count <- function() .Call(c_rzmq_lent_count)
