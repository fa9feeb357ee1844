#' Set and get socket options
#'
#' Each function sets or reads one libzmq socket option. Values are checked
#' in R terms first (a whole number, a string or raw vector for identities
#' and subscriptions); a value libzmq rejects makes the setter return
#' `FALSE` with libzmq's error text as a message.
#'
#' \tabular{ll}{
#'   `set.hwm` \tab high-water mark, in messages: sets both `ZMQ_SNDHWM` and `ZMQ_RCVHWM` \cr
#'   `set.affinity` \tab I/O thread affinity bitmask (`ZMQ_AFFINITY`) \cr
#'   `set.identity` \tab the socket's identity for ROUTER peers (`ZMQ_IDENTITY`), a string or raw vector \cr
#'   `subscribe`, `unsubscribe` \tab add or remove a message prefix filter on a SUB socket \cr
#'   `set.rate` \tab multicast data rate, in kilobits per second \cr
#'   `set.recovery.ivl`, `set.recovery.ivl.msec` \tab multicast recovery interval (`ZMQ_RECOVERY_IVL`), in milliseconds in libzmq >= 3 \cr
#'   `set.sndbuf`, `set.rcvbuf` \tab kernel transmit and receive buffer sizes, in bytes \cr
#'   `set.linger` \tab how long queued messages are kept after close, in milliseconds (-1: until delivered) \cr
#'   `set.reconnect.ivl`, `set.reconnect.ivl.max` \tab reconnection interval and its maximum, in milliseconds \cr
#'   `set.zmq.backlog` \tab maximum length of the queue of pending connections \cr
#'   `set.send.timeout`, `set.rcv.timeout` \tab how long a send or receive waits, in milliseconds (-1: forever) \cr
#'   `get.send.timeout`, `get.rcv.timeout` \tab those timeouts, in milliseconds \cr
#'   `get.rcvmore` \tab `TRUE` if the last frame received has more frames after it \cr
#'   `get.last.endpoint` \tab the endpoint last bound or connected, resolved (`"tcp://127.0.0.1:40077"`) \cr
#' }
#'
#' `set.swap()` and `set.mcast.loop()` set options that libzmq 3 removed
#' and raise an R error saying so.
#'
#' @param socket a zmq socket.
#' @param option.value the new value of the option.
#' @return Setters: `TRUE` on success, `FALSE` on failure (`subscribe()`
#'   invisibly). Getters: the option's value, or `NULL` on failure.
#' @seealso [set.sockopt()] for every other libzmq option.
#' @examples
#' context <- init.context()
#' socket <- init.socket(context, "ZMQ_REQ")
#' set.hwm(socket, 1000)
#' set.identity(socket, "worker-1")
#' set.linger(socket, 0L)
#' set.rcv.timeout(socket, 2500)
#' get.rcv.timeout(socket)
#' bind.socket(socket, "tcp://127.0.0.1:*")
#' get.last.endpoint(socket)
#' destroy.context(context)
#' @name socket.options
NULL

# The setters and getters below are made from one table, as options.c holds
# every option in one: a line names the function and the libzmq option (the
# help page's table says what each one is for). option_setter() and
# option_getter() write each as the function a hand-written one would be,
# with the option's name in its body: set.rate is
# function(socket, option.value) {
#   .Call(c_rzmq_option_set, socket, "RATE", option.value, "option.value")
# }

# A setter of libzmq option(s) `options`: TRUE if each was set (set.hwm()
# sets two, stopping at the first FALSE); invisible if `visible` is FALSE.
option_setter <- function(options, visible = TRUE) {
  calls <- lapply(options, function(o) {
    bquote(.Call(c_rzmq_option_set, socket, .(o), option.value, "option.value"))
  })
  body <- Reduce(function(a, b) call("&&", a, b), calls)
  if (!visible) body <- call("invisible", body)
  make_function(alist(socket = , option.value = ), call("{", body))
}

# A getter of libzmq option `option`: its value, or NULL on failure.
option_getter <- function(option) {
  make_function(alist(socket = ), bquote({
    .Call(c_rzmq_option_get, socket, .(option))
  }))
}

# A function of `formals` and `body` in the package's namespace.
make_function <- function(formals, body) {
  f <- function() NULL
  formals(f) <- formals
  body(f) <- body
  environment(f) <- environment(make_function)
  f
}

#' @rdname socket.options
#' @export
set.hwm <- option_setter(c("SNDHWM", "RCVHWM"))

#' @rdname socket.options
#' @export
set.swap <- option_setter("SWAP")

#' @rdname socket.options
#' @export
set.affinity <- option_setter("AFFINITY")

#' @rdname socket.options
#' @export
set.identity <- option_setter("IDENTITY")

#' @rdname socket.options
#' @export
subscribe <- option_setter("SUBSCRIBE", visible = FALSE)

#' @rdname socket.options
#' @export
unsubscribe <- option_setter("UNSUBSCRIBE")

#' @rdname socket.options
#' @export
set.rate <- option_setter("RATE")

#' @rdname socket.options
#' @export
set.recovery.ivl <- option_setter("RECOVERY_IVL")

#' @rdname socket.options
#' @export
set.recovery.ivl.msec <- option_setter("RECOVERY_IVL")

#' @rdname socket.options
#' @export
set.mcast.loop <- option_setter("MCAST_LOOP")

#' @rdname socket.options
#' @export
set.sndbuf <- option_setter("SNDBUF")

#' @rdname socket.options
#' @export
set.rcvbuf <- option_setter("RCVBUF")

#' @rdname socket.options
#' @export
set.linger <- option_setter("LINGER")

#' @rdname socket.options
#' @export
set.reconnect.ivl <- option_setter("RECONNECT_IVL")

#' @rdname socket.options
#' @export
set.zmq.backlog <- option_setter("BACKLOG")

#' @rdname socket.options
#' @export
set.reconnect.ivl.max <- option_setter("RECONNECT_IVL_MAX")

#' @rdname socket.options
#' @export
get.rcvmore <- option_getter("RCVMORE")

#' @rdname socket.options
#' @export
get.last.endpoint <- option_getter("LAST_ENDPOINT")

#' @rdname socket.options
#' @export
get.send.timeout <- option_getter("SNDTIMEO")

#' @rdname socket.options
#' @export
set.send.timeout <- option_setter("SNDTIMEO")

#' @rdname socket.options
#' @export
get.rcv.timeout <- option_getter("RCVTIMEO")

#' @rdname socket.options
#' @export
set.rcv.timeout <- option_setter("RCVTIMEO")

#' Set or get any socket option by name
#'
#' Reaches every libzmq socket option, by its libzmq name with or without
#' the `ZMQ_` prefix, in any case: `"ZMQ_SNDHWM"`, `"sndhwm"`,
#' `"TCP_KEEPALIVE"`, `"CURVE_SERVERKEY"` ... `sockopt.names()` lists them.
#' Numbers are whole numbers, flags `TRUE`/`FALSE`, identities, keys and
#' subscriptions strings or raw vectors. A CURVE key (`"key"` options) is 40
#' characters of Z85 text that decode to 32 bytes, or 32 raw bytes; anything
#' else is an R error naming `value`.
#'
#' **Security options only before bind or connect.** libzmq applies
#' `ZMQ_CURVE_SERVER`, `ZMQ_CURVE_PUBLICKEY`, `ZMQ_CURVE_SECRETKEY`,
#' `ZMQ_CURVE_SERVERKEY`, `ZMQ_PLAIN_SERVER`, `ZMQ_PLAIN_USERNAME`,
#' `ZMQ_PLAIN_PASSWORD` and `ZMQ_ZAP_DOMAIN` when it makes a connection, so
#' setting one on a socket that is already bound or connected would claim a
#' protection its endpoints lack: it is an R error, the same one
#' [set.curve.server()] gives, and the socket is left as it was. Once every
#' endpoint of the socket is unbound or disconnected ([unbind.socket()],
#' [disconnect.socket()]) they may be set again, for the endpoints that come
#' next.
#'
#' @param socket a zmq socket.
#' @param option the option's name.
#' @param value the new value.
#' @return `set.sockopt()`: `TRUE`, or `FALSE` with a message if libzmq
#'   rejects the value; an R error for a security option on a bound or
#'   connected socket. `get.sockopt()`: the value (an integer, logical,
#'   number, string or raw vector, by option), or `NULL` on failure.
#'   `sockopt.names()`: a data frame with one row per option and the columns
#'   `name` (`"ZMQ_LINGER"`), `type` (the C type libzmq takes: `"int"`,
#'   `"bool"`, `"int64"`, `"uint64"`, `"bytes"`, `"string"` or `"key"`),
#'   `read` and `write` (logicals: whether `get.sockopt()` and
#'   `set.sockopt()` accept it).
#' @seealso [socket.options], [set.ctxopt()] for context options
#' @examples
#' ctx <- init.context()
#' s <- init.socket(ctx, "ZMQ_DEALER")
#' set.sockopt(s, "ZMQ_SNDHWM", 10)
#' get.sockopt(s, "sndhwm")
#' get.sockopt(s, "TYPE")
#' opts <- sockopt.names()
#' head(opts)
#' opts$name[opts$write & !opts$read] # options that can only be set
#' destroy.context(ctx)
#' @export
set.sockopt <- function(socket, option, value) {
  .Call(c_rzmq_option_set, socket, option, value, "value")
}

#' @rdname set.sockopt
#' @export
get.sockopt <- function(socket, option) {
  .Call(c_rzmq_option_get, socket, option)
}

#' @rdname set.sockopt
#' @export
sockopt.names <- function() option_table("socket")

# The option table of `which` ("socket" or "context") as a data frame.
option_table <- function(which) {
  as.data.frame(.Call(c_rzmq_option_names, which), stringsAsFactors = FALSE)
}

#' Set or get a context option
#'
#' Context options tune a whole context: its I/O threads, how many sockets
#' it may hold, IPv6, the largest message, the threads' names and
#' scheduling. Names are libzmq's, with or without the `ZMQ_` prefix, in any
#' case (`"ZMQ_MAX_SOCKETS"`, `"max_sockets"`); `ctxopt.names()` lists them:
#'
#' \tabular{lll}{
#'   `ZMQ_IO_THREADS` \tab int \tab the number of I/O threads (as `init.context(threads)`) \cr
#'   `ZMQ_MAX_SOCKETS` \tab int \tab how many sockets the context may hold (1023 by default; each socket also holds a file descriptor, so `ulimit -n` must allow as many) \cr
#'   `ZMQ_SOCKET_LIMIT` \tab int, read only \tab the largest `ZMQ_MAX_SOCKETS` libzmq accepts \cr
#'   `ZMQ_IPV6` \tab bool \tab new sockets use IPv6 \cr
#'   `ZMQ_BLOCKY` \tab bool \tab terminating waits for queued messages unless the linger says otherwise \cr
#'   `ZMQ_MAX_MSGSZ` \tab int \tab the largest message, in bytes \cr
#'   `ZMQ_MSG_T_SIZE` \tab int, read only \tab the size of libzmq's `zmq_msg_t` \cr
#'   `ZMQ_THREAD_PRIORITY` \tab int, set only \tab the scheduling priority of the context's threads \cr
#'   `ZMQ_THREAD_SCHED_POLICY` \tab int \tab their scheduling policy (`SCHED_OTHER` = 0, `SCHED_FIFO` = 1, `SCHED_RR` = 2 on Linux; -1: unchanged) \cr
#'   `ZMQ_THREAD_NAME_PREFIX` \tab int \tab a number the threads' names start with (`"42/ZMQbg/IO/0"`) \cr
#' }
#'
#' `ZMQ_IO_THREADS`, `ZMQ_MAX_SOCKETS` and the thread options apply to
#' threads libzmq starts later: a context starts its threads when its first
#' socket is made, so set them before that. `ZMQ_THREAD_PRIORITY` cannot be
#' read back: libzmq 4.3 gives `ZMQ_SOCKET_LIMIT` the same number, and
#' `zmq_ctx_get()` answers with that. libzmq without its draft API takes
#' `ZMQ_THREAD_NAME_PREFIX` as a number only.
#'
#' **Thread scheduling can end the R process.** libzmq applies
#' `ZMQ_THREAD_PRIORITY` and `ZMQ_THREAD_SCHED_POLICY` as each thread
#' starts and aborts the process if the system refuses them (a real-time
#' policy or a raised priority without the privileges for it). Set them only
#' where you know they are allowed.
#'
#' An option this libzmq lacks is an R error saying so.
#'
#' @param context a zmq context made by [init.context()].
#' @param name the option's name.
#' @param value the new value: a whole number, or `TRUE`/`FALSE` for the
#'   `bool` options.
#' @return `set.ctxopt()`: `TRUE` invisibly, or `FALSE` with libzmq's error
#'   text as a message if libzmq rejects the value (`ZMQ_IO_THREADS` below
#'   0, ...). `get.ctxopt()`: the value, an integer or (`bool` options) a
#'   logical (`NULL` with a message if libzmq cannot read it). `ctxopt.names()`: a data frame like [sockopt.names()]'s, with
#'   the columns `name`, `type`, `read` and `write`.
#' @seealso [init.context()], [set.sockopt()]
#' @examples
#' ctx <- init.context()
#' get.ctxopt(ctx, "ZMQ_MAX_SOCKETS")
#' set.ctxopt(ctx, "max_sockets", 4096)
#' get.ctxopt(ctx, "MAX_SOCKETS")
#' set.ctxopt(ctx, "IPV6", TRUE)
#' get.ctxopt(ctx, "ipv6")
#' ctxopt.names()
#' destroy.context(ctx)
#' @export
set.ctxopt <- function(context, name, value) {
  invisible(.Call(c_rzmq_ctxopt_set, context, name, value))
}

#' @rdname set.ctxopt
#' @export
get.ctxopt <- function(context, name) .Call(c_rzmq_ctxopt_get, context, name)

#' @rdname set.ctxopt
#' @export
ctxopt.names <- function() option_table("context")
