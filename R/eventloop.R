# Sockets in R's event loop: on.message() runs a callback for every message
# as it arrives, receive.promise() gives a promise of the next one. Both watch
# the socket's ZMQ_FD with later::later_fd() and read with the ordinary
# non-blocking receives; later and promises are suggested, not imported.

#' Handle messages from R's event loop
#'
#' `on.message()` arranges for `callback` to be called with every message
#' that arrives on `socket`, from R's event loop: whenever the loop of the
#' 'later' package runs (at the console while R waits for input, in 'Shiny'
#' and 'httpuv' servers, in [later::run_now()]). Messages are passed on R's
#' main thread, one call per message, in the order they arrived, none lost
#' and none repeated. `cancel.on.message()` stops it.
#'
#' Each time the loop runs, the watcher reads every message waiting on the
#' socket and calls `callback` for each, checking after every call whether
#' more have come (libzmq's `ZMQ_FD` signals only a change, not that
#' messages are waiting, so nothing is left for the next message to
#' reveal). Between runs it waits on `ZMQ_FD` with `later::later_fd()` and
#' costs nothing. A long stream is delivered in slices of about 50 ms, so
#' that the rest of the loop (a Shiny app's other work) gets its turn in
#' between.
#'
#' With `multipart = FALSE` each frame is one message, unserialized unless
#' `unserialize = FALSE` (then a raw vector). With `multipart = TRUE` the
#' callback gets every frame of one whole message as a list of raw vectors,
#' as [receive.multipart()] returns them (`unserialize` is then not used).
#'
#' A socket has one watcher at a time: `on.message()` on a socket that an
#' active watcher already watches is an R error that names
#' `cancel.on.message()` (cancel the first, then watch it again; a watcher
#' whose socket was closed no longer counts). Do not mix
#' `on.message()` with [receive.promise()] on the same socket. The watcher
#' keeps the socket open (the garbage collector does not take it) until it
#' is cancelled. Closing the socket ([destroy.socket()], or
#' [destroy.context()] of its context) stops the watcher without an error,
#' within about a second. Do not read from a watched socket otherwise
#' (receive, poll) while the watcher runs: what you read is not passed to
#' `callback`, and reading may use up libzmq's signal, so that messages
#' wait up to a second to be seen. (That second is
#' `getOption("rzmq.watch.tick", 1)`: how long a watcher waits on `ZMQ_FD`
#' before it looks at the socket anyway.)
#'
#' @section Errors in the callback:
#' An error in `callback` does not stop the watcher: by default it is
#' reported as a warning of class `rzmq_callback_warning`, `"on.message:
#' the callback failed: <the error's message>"`, and the next message is
#' delivered as usual. A message that cannot be unserialized is reported
#' the same way (`"on.message: a message could not be read: ..."`) and
#' skipped. To handle errors yourself, give `on.error`, a function called
#' with the error condition instead of the warning (for both kinds). To
#' stop at the first error, cancel the watcher there (or anywhere in
#' `callback`):
#'
#' ```
#' w <- on.message(socket, handle_message,
#'                 on.error = function(e) cancel.on.message(w))
#' ```
#'
#' Messages that come after a cancel stay in the socket and can be
#' received normally.
#'
#' @section Sending from a callback:
#' [send.socket()] stays synchronous: a send that cannot be queued at once
#' (no peer yet, the high-water mark reached) waits, for at most the
#' socket's send timeout, and while it waits the event loop and everything
#' else in R waits with it. So in a callback (and anywhere in Shiny) give
#' the socket you send on a send timeout of 0 with
#' `set.send.timeout(out, 0L)`: a send that would wait then returns `FALSE`
#' at once, silently, with [zmq.errno()] 11 (`EAGAIN`), and you can keep the
#' message and try again from a later run (`later::later(retry, 0.1)`). A
#' short timeout (`set.send.timeout(out, 50L)`) bounds the wait instead.
#' Sockets that never wait to send (`ZMQ_PUB`, a `ZMQ_ROUTER` to a known
#' peer) need nothing. Sending on the watched socket itself (a `ZMQ_DEALER`
#' answering its peer) is fine from within `callback`: the watcher looks at
#' the socket again after every call.
#'
#' @param socket a zmq socket.
#' @param callback a function of one argument, the message.
#' @param unserialize whether to unserialize each message (single frames
#'   only).
#' @param multipart `TRUE` to pass each whole message as a list of raw
#'   frames.
#' @param on.error `NULL` (report errors in `callback` as warnings), or a
#'   function of one argument, the error condition, called instead.
#' @return `on.message()`: a watcher, an object of class `rzmq_on_message`
#'   whose print method says whether it is active and how many messages it
#'   has delivered. `cancel.on.message()`: invisibly, `TRUE` if the watcher
#'   was active, `FALSE` if it had already been cancelled or its socket
#'   closed.
#' @seealso [receive.promise()] for one message as a promise; the
#'   "Event loops" vignette (`vignette("event-loops", package = "rzmq")`);
#'   `system.file("examples", "shiny-feed", package = "rzmq")`, a Shiny app
#'   showing a live feed.
#' @examples
#' if (requireNamespace("later", quietly = TRUE) &&
#'     utils::packageVersion("later") >= "1.4.0") {
#'   ctx <- init.context()
#'   inbox <- init.socket(ctx, "ZMQ_PULL")
#'   bind.socket(inbox, "inproc://on-message-example")
#'   outbox <- init.socket(ctx, "ZMQ_PUSH")
#'   connect.socket(outbox, "inproc://on-message-example")
#'
#'   got <- list()
#'   w <- on.message(inbox, function(msg) got[[length(got) + 1]] <<- msg)
#'   for (i in 1:3) send.socket(outbox, list(i = i, sq = i^2))
#'   # at the console the loop runs by itself; in a script, run it:
#'   deadline <- Sys.time() + 2
#'   while (length(got) < 3 && Sys.time() < deadline) later::run_now(0.1)
#'   str(got)
#'   print(w)
#'   cancel.on.message(w)
#'   destroy.context(ctx)
#' }
#' @export
on.message <- function(socket, callback, unserialize = TRUE, multipart = FALSE,
                       on.error = NULL) {
  fd <- socket_fd(socket)
  if (!is.function(callback)) {
    stop("`callback` must be a function of one argument, the message", call. = FALSE)
  }
  unserialize <- arg_flag(unserialize, "unserialize")
  multipart <- arg_flag(multipart, "multipart")
  if (!is.null(on.error) && !is.function(on.error)) {
    stop("`on.error` must be NULL or a function of one argument, the error", call. = FALSE)
  }
  need_package("on.message", "later", "1.4.0")
  key <- as.character(fd)
  # a second watcher would never see a message (the first takes them all);
  # one whose socket was closed or whose loop was destroyed no longer counts
  others <- Filter(function(o) identical(o$state, "active") && socket_open(o$socket) &&
                     later::exists_loop(o$loop), watchers[[key]])
  for (o in others) {
    if (identical(o$socket, socket)) {
      stop("`socket` is already watched by on.message(): a socket has one watcher ",
           "at a time; cancel the first with cancel.on.message() before watching it again",
           call. = FALSE)
    }
  }
  w <- new.env(parent = emptyenv())
  w$socket <- socket
  w$fd <- fd
  w$callback <- callback
  w$unserialize <- unserialize
  w$multipart <- multipart
  w$on.error <- on.error
  w$loop <- later::current_loop()
  w$state <- "active"
  w$delivered <- 0
  w$errors <- 0
  w$cancel <- NULL
  w$running <- FALSE
  class(w) <- "rzmq_on_message"
  w$key <- key
  assign(key, c(others, w), envir = watchers)
  # Messages may be waiting already, their signal used up: look at once.
  watch_again(w, at_once = TRUE)
  w
}

#' @rdname on.message
#' @param handle a watcher returned by `on.message()`.
#' @export
cancel.on.message <- function(handle) {
  if (!inherits(handle, "rzmq_on_message") || !is.environment(handle)) {
    stop("`handle` must be a watcher made by on.message()", call. = FALSE)
  }
  was_active <- identical(handle$state, "active") && socket_open(handle$socket)
  if (identical(handle$state, "active")) {
    handle$state <- if (was_active) "cancelled" else "closed"
  }
  if (is.function(handle$cancel)) handle$cancel()
  handle$cancel <- NULL
  watcher_forget(handle)
  invisible(was_active)
}

# The active watchers, by their socket's ZMQ_FD (told apart by the socket:
# a closed socket's descriptor may come back for a new one).
watchers <- new.env(parent = emptyenv())

watcher_forget <- function(w) {
  if (is.null(w$key)) return(invisible())
  others <- Filter(function(o) !identical(o, w), watchers[[w$key]])
  if (length(others)) assign(w$key, others, envir = watchers)
  else if (exists(w$key, envir = watchers, inherits = FALSE)) rm(list = w$key, envir = watchers)
  invisible()
}

#' @export
format.rzmq_on_message <- function(x, ...) {
  state <- x$state
  if (identical(state, "active") && !socket_open(x$socket)) state <- "closed"
  state <- switch(state,
    active = "active",
    cancelled = "cancelled",
    closed = "stopped: its socket was closed"
  )
  sprintf("<rzmq on.message watcher: %s; %s delivered, %s>", state,
          plural(x$delivered, "message"), plural(x$errors, "error"))
}

#' @export
print.rzmq_on_message <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

#' Receive the next message as a promise
#'
#' Returns a promise (of the 'promises' package) of the next message on
#' `socket`: it is resolved with the message when one arrives, or rejected
#' when `timeout` seconds pass first or the socket is closed. Nothing
#' blocks; the message is read from R's event loop (the loop of the 'later'
#' package, which runs at the console, in 'Shiny' and 'httpuv', and in
#' [later::run_now()]), so handlers chained with [promises::then()] or
#' `%...>%` run there too. In Shiny, a promise can be returned from an
#' output's render function or handled in an observer.
#'
#' The rejection is an R error condition: on timeout of class
#' `c("rzmq_promise_timeout", "rzmq_promise_error", "error", "condition")`
#' and message `"receive.promise: no message within <timeout> s"`; when
#' the socket is closed before a message came, of class
#' `c("rzmq_promise_closed", "rzmq_promise_error", "error", "condition")`.
#' A message that cannot be unserialized rejects the promise with the
#' error of unserializing it (the message is used up). On a `ZMQ_REQ`
#' socket that has not sent a request (so no reply can come) the promise is
#' rejected at once, with a condition of class
#' `c("rzmq_promise_state", "rzmq_promise_error", "rzmq_EFSM", "rzmq_error",
#' "error", "condition")`, instead of waiting out its timeout.
#'
#' Each promise takes one message. Several promises waiting on one socket
#' take one message each, in the order they were made, as soon as the
#' messages arrive; each is rejected if its own timeout passes before a
#' message comes for it. For a stream, use
#' [on.message()]. Do not mix the two on the same socket.
#'
#' @inheritParams on.message
#' @param timeout seconds to wait, as for [poll.socket()]: fractions are
#'   allowed, `0` looks once, `Inf` (or `-1`) waits as long as it takes.
#' @return A promise.
#' @seealso [on.message()] for every message.
#' @examples
#' if (requireNamespace("later", quietly = TRUE) &&
#'     utils::packageVersion("later") >= "1.4.0" &&
#'     requireNamespace("promises", quietly = TRUE)) {
#'   ctx <- init.context()
#'   inbox <- init.socket(ctx, "ZMQ_PULL")
#'   bind.socket(inbox, "inproc://promise-example")
#'   outbox <- init.socket(ctx, "ZMQ_PUSH")
#'   connect.socket(outbox, "inproc://promise-example")
#'
#'   result <- NULL
#'   p <- receive.promise(inbox, timeout = 2)
#'   promises::then(p, function(msg) result <<- msg$answer)
#'   send.socket(outbox, list(answer = 42))
#'   deadline <- Sys.time() + 2
#'   while (is.null(result) && Sys.time() < deadline) later::run_now(0.1)
#'   print(result)
#'
#'   # nothing comes: the promise is rejected after the timeout
#'   failure <- NULL
#'   promises::catch(receive.promise(inbox, timeout = 0.1),
#'                   function(e) failure <<- conditionMessage(e))
#'   while (is.null(failure) && Sys.time() < deadline) later::run_now(0.1)
#'   print(failure)
#'   destroy.context(ctx)
#' }
#' @export
receive.promise <- function(socket, unserialize = TRUE, timeout = Inf) {
  fd <- socket_fd(socket)
  unserialize <- arg_flag(unserialize, "unserialize")
  timeout <- as_number(timeout)
  if (is.na(timeout) || (timeout < 0 && timeout != -1)) {
    stop("`timeout` must be a single number of seconds, >= 0, or Inf (or -1) for no limit",
         call. = FALSE)
  }
  need_package("receive.promise", "later", "1.4.0")
  need_package("receive.promise", "promises", "1.2.0")
  loop <- later::current_loop()
  deadline <- if (timeout < 0 || is.infinite(timeout)) Inf else now() + timeout
  promises::promise(function(resolve, reject) {
    q <- promise_queue(socket, fd, loop)
    q$waiting[[length(q$waiting) + 1L]] <- list(
      resolve = resolve, reject = reject, unserialize = unserialize,
      deadline = deadline, timeout = timeout)
    # look at once: a message may be waiting, and this deadline may be the
    # first to come
    if (!is.null(q$cancel)) {
      q$cancel()
      q$cancel <- NULL
    }
    queue_look_safely(q)
  })
}

# -- the promises waiting on a socket ------------------------------------------
# All the promises of one socket (in one loop) wait in one queue, served in
# the order they were made, by one wait on ZMQ_FD: several separate waits
# would race for libzmq's edge-triggered signal. Queues are found by the
# socket's file descriptor, and told apart by the socket itself (a closed
# socket's descriptor may come back for a new one).
promise_queues <- new.env(parent = emptyenv())

promise_queue <- function(socket, fd, loop) {
  # a queue whose loop was destroyed is never served: let go of it (and of
  # its socket), as later let go of its wait
  for (k in ls(promise_queues)) for (q in promise_queues[[k]]) {
    if (!later::exists_loop(q$loop)) {
      q$cancel <- NULL
      queue_drop(q)
    }
  }
  key <- as.character(fd)
  for (q in promise_queues[[key]]) {
    if (identical(q$socket, socket) && identical(q$loop, loop)) return(q)
  }
  q <- new.env(parent = emptyenv())
  q$socket <- socket
  q$fd <- fd
  q$loop <- loop
  q$key <- key
  q$waiting <- list()
  q$cancel <- NULL
  # a REQ socket that owes no reply can never receive: it says so with EFSM
  q$req <- identical(.Call(c_rzmq_option_get, socket, "TYPE"), 3L)
  promise_queues[[key]] <- c(promise_queues[[key]], q)
  q
}

# A non-blocking receive for the first promise of a REQ socket's queue, with
# libzmq's failures as conditions: list(value =), list(efsm =) (it has not
# sent a request), or list() (nothing yet).
req_receive <- function(q, w) {
  old <- options(rzmq.errors = "condition-all")
  on.exit(options(old))
  tryCatch(list(value = receive.socket(q$socket, w$unserialize, dont.wait = TRUE)),
           rzmq_EAGAIN = function(e) list(),
           rzmq_EFSM = function(e) list(efsm = e))
}

queue_drop <- function(q) {
  if (!is.null(q$cancel)) q$cancel()
  q$cancel <- NULL
  others <- Filter(function(o) !identical(o, q), promise_queues[[q$key]])
  if (length(others)) assign(q$key, others, envir = promise_queues)
  else if (exists(q$key, envir = promise_queues, inherits = FALSE)) rm(list = q$key, envir = promise_queues)
  invisible()
}

# Serve the queue: a message to each promise in turn while messages are
# there, reject those whose time is up, then wait for ZMQ_FD (or the first
# deadline, or the tick) and look again.
queue_look <- function(q) {
  q$cancel <- NULL
  repeat {
    if (length(q$waiting) == 0L) return(queue_drop(q))
    ev <- socket_events(q$socket)
    if (is.null(ev)) {
      waiting <- q$waiting
      q$waiting <- list()
      queue_drop(q)
      for (w in waiting) w$reject(promise_condition("closed",
        "receive.promise: the socket was closed before a message arrived"))
      return(invisible())
    }
    w <- q$waiting[[1L]]
    if (!bitwAnd(ev, 1L)) {
      if (!q$req) break
      # nothing to read: a REQ socket may also be one that sent nothing
      got <- tryCatch(req_receive(q, w), error = function(e) list(error = e))
      if (!is.null(got$efsm)) {
        waiting <- q$waiting
        q$waiting <- list()
        queue_drop(q)
        e <- promise_condition("state", paste0(
          "receive.promise: this REQ socket has sent no request, so no reply can ",
          "come (EFSM): send.socket() the request first"))
        class(e) <- c(class(e)[1:2], "rzmq_EFSM", "rzmq_error", "error", "condition")
        e$errno <- got$efsm$errno
        for (x in waiting) x$reject(e)
        return(invisible())
      }
      if (length(got) == 0L) break
    } else {
      got <- tryCatch(take_one(q$socket, w$unserialize, FALSE),
                      error = function(e) list(error = e))
      if (length(got) == 0L) break # dropped (a revoked peer's): wait on
    }
    q$waiting[[1L]] <- NULL
    if (is.null(got$error)) w$resolve(got$value) else w$reject(got$error)
  }
  t <- now()
  late <- vapply(q$waiting, function(w) w$deadline <= t, NA)
  for (w in q$waiting[late]) w$reject(promise_condition("timeout", sprintf(
    "receive.promise: no message within %s s", format(w$timeout))))
  q$waiting <- q$waiting[!late]
  if (length(q$waiting) == 0L) return(queue_drop(q))
  left <- min(vapply(q$waiting, function(w) w$deadline, 0)) - t
  q$cancel <- later::later_fd(function(ready) queue_look_safely(q), readfds = q$fd,
                              timeout = min(left, watch_tick()), loop = q$loop)
  invisible()
}

# An error in a later callback would escape into the loop: reject instead.
queue_look_safely <- function(q) {
  tryCatch(queue_look(q), error = function(e) {
    waiting <- q$waiting
    q$waiting <- list()
    queue_drop(q)
    for (w in waiting) w$reject(e)
  })
}

# -- the watcher --------------------------------------------------------------

# How long a wait on ZMQ_FD lasts before the socket is looked at anyway (it
# may have been closed, or its signal used up by another reader), in seconds.
watch_tick <- function() {
  tick <- as_number(getOption("rzmq.watch.tick", 1))
  if (is.na(tick) || tick <= 0) {
    stop("options(rzmq.watch.tick) must be a number of seconds > 0", call. = FALSE)
  }
  tick
}

# How long one run delivers messages before letting the loop do other work.
watch_slice <- 0.05

# One run of a watcher: deliver every message waiting, then wait again.
watch_run <- function(w) {
  w$cancel <- NULL
  if (!identical(w$state, "active") || w$running) return(invisible())
  w$running <- TRUE
  started <- now()
  # Left at TRUE if the run ends early (an interrupt, the slice used up):
  # then the next run comes at once, as the signal may be spent.
  at_once <- TRUE
  on.exit({
    w$running <- FALSE
    watch_again(w, at_once)
  })
  repeat {
    ev <- socket_events(w$socket)
    if (is.null(ev)) {
      w$state <- "closed"
      watcher_forget(w)
      break
    }
    if (!bitwAnd(ev, 1L)) {
      at_once <- FALSE
      break
    }
    deliver(w)
    if (!identical(w$state, "active") || now() - started > watch_slice) break
  }
  invisible()
}

# Arrange the watcher's next run: at once, or when ZMQ_FD is readable.
watch_again <- function(w, at_once) {
  if (!identical(w$state, "active")) return(invisible())
  run <- function(...) watch_run(w)
  w$cancel <- if (at_once) {
    later::later(run, 0, loop = w$loop)
  } else {
    later::later_fd(run, readfds = w$fd, timeout = watch_tick(), loop = w$loop)
  }
  invisible()
}

# The message ZMQ_EVENTS said is there, as list(value = ); list() if there
# is none after all: the authenticator dropped it, its peer being revoked
# (configure.authenticator(drop = TRUE)). A frame is taken as raw bytes,
# never waiting, so that "none" cannot be mistaken for a NULL sent.
take_one <- function(socket, unserialize, multipart) {
  if (multipart) {
    got <- receive.messages(socket, 1L, FALSE, dont.wait = TRUE)
    if (length(got) == 0L) return(list())
    m <- got[[1L]]
    return(list(value = if (is.raw(m)) list(m) else m))
  }
  raw <- receive.socket(socket, FALSE, dont.wait = TRUE)
  if (is.null(raw)) return(list())
  list(value = if (unserialize) unserialize(raw) else raw)
}

# Receive one message (ZMQ_EVENTS said one is there) and pass it on.
deliver <- function(w) {
  failure <- NULL
  got <- tryCatch(take_one(w$socket, w$unserialize, w$multipart),
                  error = function(e) failure <<- e)
  if (!is.null(failure)) return(report_failure(w, failure, "a message could not be read"))
  if (length(got) == 0L) return(invisible())
  msg <- got$value
  w$delivered <- w$delivered + 1
  tryCatch(w$callback(msg), error = function(e) failure <<- e)
  if (!is.null(failure)) report_failure(w, failure, "the callback failed")
  invisible()
}

report_failure <- function(w, e, what) {
  w$errors <- w$errors + 1
  if (is.function(w$on.error)) {
    tryCatch(w$on.error(e), error = function(e2) {
      warning(warningCondition(
        paste0("on.message: `on.error` failed: ", conditionMessage(e2)),
        class = "rzmq_callback_warning"))
    })
  } else {
    warning(warningCondition(
      paste0("on.message: ", what, ": ", conditionMessage(e)),
      class = "rzmq_callback_warning"))
  }
  invisible()
}

# -- helpers ------------------------------------------------------------------

# The socket's ZMQ_FD; validates `socket` (R errors name the argument).
socket_fd <- function(socket) {
  fd <- .Call(c_rzmq_option_get, socket, "FD")
  if (is.null(fd)) stop("cannot read the socket's ZMQ_FD: ", zmq.strerror(), call. = FALSE)
  fd
}

# ZMQ_EVENTS of a watched socket, or NULL once it is closed or unusable.
# Reading it also resets ZMQ_FD's signal, so only the watcher reads it.
socket_events <- function(socket) {
  tryCatch(suppressMessages(.Call(c_rzmq_option_get, socket, "EVENTS")),
           error = function(e) NULL)
}

# Whether the socket is still open, without touching its signal (ZMQ_TYPE is
# a plain read in libzmq, unlike ZMQ_EVENTS).
socket_open <- function(socket) {
  !is.null(tryCatch(suppressMessages(.Call(c_rzmq_option_get, socket, "TYPE")),
                    error = function(e) NULL))
}

# The installed version of `pkg`, or NULL if it cannot be loaded.
package_version_of <- function(pkg) {
  if (!requireNamespace(pkg, quietly = TRUE)) return(NULL)
  utils::packageVersion(pkg)
}

need_package <- function(fun, pkg, min) {
  have <- package_version_of(pkg)
  if (is.null(have) || have < min) {
    stop(sprintf("%s() needs the '%s' package (>= %s)%s: install it with install.packages(\"%s\")",
                 fun, pkg, min,
                 if (is.null(have)) ", which is not installed" else sprintf(", but %s is installed", have),
                 pkg),
         call. = FALSE)
  }
}

promise_condition <- function(what, message) {
  structure(class = c(paste0("rzmq_promise_", what), "rzmq_promise_error", "error", "condition"),
            list(message = message, call = NULL))
}

plural <- function(n, what) sprintf("%d %s%s", as.integer(n), what, if (n == 1) "" else "s")

now <- function() proc.time()[[3L]]
