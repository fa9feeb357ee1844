# on.message(), cancel.on.message() and receive.promise(): messages handed to
# callbacks and promises from later's event loop. Each test runs its own
# private loop, driven with later::run_now() until an outcome or a deadline;
# streams over TCP come from a child R process that publishes. The Shiny
# example is tested in test-shiny-example.R.

skip_without_later <- function() skip_if_not_installed("later", "1.4.0")

skip_without_promises <- function() {
  skip_without_later()
  skip_if_not_installed("promises", "1.2.0")
}

# Watchers look at their socket every rzmq.watch.tick seconds anyway, which
# would hide a message left unseen. With the tick far beyond every deadline,
# a test passes only if ZMQ_FD and the ZMQ_EVENTS checks bring every message.
no_tick <- function(env = parent.frame()) {
  old <- options(rzmq.watch.tick = 600)
  do.call(on.exit, list(substitute(options(o), list(o = old)), add = TRUE), envir = env)
}

# A private event loop for the calling test, destroyed when it ends.
local_loop <- function(env = parent.frame()) {
  loop <- later::create_loop(parent = NULL)
  do.call(on.exit, list(substitute(later::destroy_loop(l), list(l = loop)), add = TRUE),
          envir = env)
  loop
}

# The start of most tests here: later (and promises, if `promises`) there or
# the test skipped, the tick out of the way (no_tick()) and a private loop,
# for the calling test.
watch_test_loop <- function(promises = FALSE, env = parent.frame()) {
  if (promises) skip_without_promises() else skip_without_later()
  no_tick(env)
  local_loop(env)
}

# Run `loop` until `done()` is TRUE or `timeout` seconds pass; done()'s value.
run_until <- function(loop, done, timeout = 10) {
  deadline <- Sys.time() + timeout
  while (!done() && Sys.time() < deadline) later::run_now(0.05, loop = loop)
  done()
}

# Run `loop` for `seconds`, for what must not happen.
run_for <- function(loop, seconds) {
  deadline <- Sys.time() + seconds
  while (Sys.time() < deadline) later::run_now(0.05, loop = loop)
}

# Warnings signalled while evaluating `expr`, muffled; the value of `expr` is
# dropped.
warnings_of <- function(expr) {
  msgs <- character()
  withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  msgs
}

# A collector: `add(x)` appends, `n()` counts, `all()` gives the list.
collector <- function() {
  items <- vector("list", 1024L)
  k <- 0L
  list(
    add = function(x) {
      if (k == length(items)) length(items) <<- 2L * length(items)
      k <<- k + 1L
      items[k] <<- list(x)
    },
    n = function() k,
    all = function() items[seq_len(k)]
  )
}

# A child R process with a PUB socket connected to `endpoint`: it publishes
# "hello" until told "go" on the control socket `control` (a
# control_socket()), so the subscriber has joined and the slow joiner loses
# nothing after that, then runs `publish(pub)`, says "sent" and waits for
# "bye".
start_publisher <- function(endpoint, control, publish) {
  environment(publish) <- globalenv()
  child_with_control(function(ctl, ctx, endpoint, publish) {
    pub <- init.socket(ctx, "ZMQ_PUB")
    set.hwm(pub, 0L) # a PUB socket drops messages at the high-water mark
    connect.socket(pub, endpoint)
    deadline <- Sys.time() + 30
    repeat {
      send.socket(pub, "hello")
      if (isTRUE(poll.socket(list(ctl), list("read"), timeout = 0.02)[[1]]$read)) break
      if (Sys.time() > deadline) stop("no go from the parent within 30 s")
    }
    stopifnot(identical(receive.socket(ctl), "go"))
    publish(pub)
    send.socket(ctl, "sent")
    receive.socket(ctl)
    destroy.context(ctx)
  }, args = list(endpoint = endpoint, publish = publish), rcv_timeout = 60000L,
  ctl = control)$proc
}

# A SUB socket that keeps everything, bound to a free port, and a control
# socket for a publisher.
subscriber <- function() {
  ctx <- init.context()
  sub <- init.socket(ctx, "ZMQ_SUB")
  set.hwm(sub, 0L)
  subscribe(sub, "")
  list(ctx = ctx, sub = sub, endpoint = bind_tcp(sub), control = control_socket())
}

# The messages after the publisher's leading hellos, checking that no hello
# comes after the first of them.
after_hellos <- function(msgs, is_hello) {
  hello <- vapply(msgs, is_hello, logical(1))
  first <- match(FALSE, hello)
  expect_false(is.na(first))
  expect_false(any(hello[first:length(hello)]))
  msgs[!hello]
}

test_that("on.message() passes 10,000 messages from a publishing child, complete and in order", {
  loop <- watch_test_loop()
  s <- subscriber()
  n <- 10000L
  child <- start_publisher(s$endpoint, s$control,
                           function(pub) for (i in seq_len(10000L)) send.socket(pub, i))
  on.exit(child$kill(), add = TRUE)
  expect_identical(recv_within(s$sub, 30, child), "hello")
  got <- collector()
  numbers <- 0L
  w <- later::with_loop(loop, on.message(s$sub, function(msg) {
    got$add(msg)
    if (is.numeric(msg)) numbers <<- numbers + 1L
  }))
  expect_s3_class(w, "rzmq_on_message")
  expect_true(send.socket(s$control$socket, "go"))
  expect_identical(recv_within(s$control$socket, 60, child), "sent")
  expect_true(run_until(loop, function() numbers >= n, 60))
  run_for(loop, 0.3) # nothing repeated, nothing more
  data <- after_hellos(got$all(), function(m) identical(m, "hello"))
  expect_identical(unlist(data), seq_len(n))
  expect_output(print(w), "watcher: active; [0-9]+ messages delivered, 0 errors")
  expect_true(cancel.on.message(w))
  send.socket(s$control$socket, "bye")
  child_wait(child)
  expect_identical(child$get_exit_status(), 0L)
})

test_that("on.message(multipart = TRUE) passes each whole message as its raw frames", {
  loop <- watch_test_loop()
  s <- subscriber()
  child <- start_publisher(s$endpoint, s$control, function(pub) {
    for (i in 1:50) {
      send.multipart(pub, list(charToRaw("topic"), serialize(i, NULL), raw(0)))
    }
  })
  on.exit(child$kill(), add = TRUE)
  expect_identical(recv_within(s$sub, 30, child), "hello")
  got <- collector()
  w <- later::with_loop(loop, on.message(s$sub, got$add, multipart = TRUE))
  send.socket(s$control$socket, "go")
  expect_identical(recv_within(s$control$socket, 30, child), "sent")
  three <- function() sum(vapply(got$all(), length, integer(1)) == 3L)
  expect_true(run_until(loop, function() three() >= 50L, 30))
  run_for(loop, 0.2)
  data <- after_hellos(got$all(), function(m) length(m) == 1L)
  expect_length(data, 50L)
  for (i in seq_along(data)) {
    expect_identical(data[[i]], list(charToRaw("topic"), serialize(i, NULL), raw(0)))
  }
  # the hellos that came after the watcher started, one raw frame each
  for (m in Filter(function(m) length(m) == 1L, got$all())) {
    expect_identical(unserialize(m[[1]]), "hello")
  }
  cancel.on.message(w)
  send.socket(s$control$socket, "bye")
  child_wait(child)
})

test_that("on.message() delivers single frames unserialized or raw, and what was queued before it", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  # queued before the watcher: its ZMQ_FD signal may be spent already
  send.socket(p$b, list(a = 1))
  expect_true(readable(p$a)) # polling uses up the signal
  got <- collector()
  w <- later::with_loop(loop, on.message(p$a, got$add))
  send.socket(p$b, "two")
  send.socket(p$b, NULL)
  expect_true(run_until(loop, function() got$n() == 3L))
  expect_identical(got$all(), list(list(a = 1), "two", NULL))
  expect_true(cancel.on.message(w))

  raw_got <- collector()
  w2 <- later::with_loop(loop, on.message(p$a, raw_got$add, unserialize = FALSE))
  send.raw.string(p$b, "bytes")
  send.null.msg(p$b)
  # a multipart message without multipart = TRUE: one call per frame
  send.multipart(p$b, list(charToRaw("x"), charToRaw("y")))
  expect_true(run_until(loop, function() raw_got$n() == 4L))
  expect_identical(raw_got$all(), list(charToRaw("bytes"), raw(0), charToRaw("x"), charToRaw("y")))
  cancel.on.message(w2)
})

test_that("cancel.on.message() stops delivery; later messages stay in the socket", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  got <- collector()
  w <- later::with_loop(loop, on.message(p$a, got$add))
  for (i in 1:3) send.socket(p$b, i)
  expect_true(run_until(loop, function() got$n() == 3L))
  expect_identical(withVisible(cancel.on.message(w)), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(cancel.on.message(w)), list(value = FALSE, visible = FALSE))
  expect_output(print(w), "watcher: cancelled; 3 messages delivered")
  # after the cancel: the loop runs (a sentinel watcher on another socket
  # sees its message), and the cancelled watcher takes nothing
  for (i in 4:5) send.socket(p$b, i)
  q <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  sentinel <- collector()
  ws <- later::with_loop(loop, on.message(q$a, sentinel$add))
  send.socket(q$b, "sentinel")
  expect_true(run_until(loop, function() sentinel$n() == 1L))
  run_for(loop, 0.3)
  expect_identical(got$n(), 3L)
  expect_identical(recv_within(p$a), 4L)
  expect_identical(recv_within(p$a), 5L)
  cancel.on.message(ws)
  # cancelled, the watchers leave nothing in the loop (after later's fd
  # threads notice the cancel, within about a second)
  expect_true(run_until(loop, function() later::loop_empty(loop), 5))
})

test_that("a callback can cancel its own watcher; the rest stays in the socket", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  got <- collector()
  w <- later::with_loop(loop, on.message(p$a, function(msg) {
    got$add(msg)
    if (msg == 2) cancel.on.message(w)
  }))
  for (i in 1:5) send.socket(p$b, i)
  expect_true(run_until(loop, function() got$n() >= 2L))
  run_for(loop, 0.3)
  expect_identical(unlist(got$all()), 1:2)
  expect_false(cancel.on.message(w))
  for (i in 3:5) expect_identical(recv_within(p$a), i)
})

test_that("closing the socket stops the watcher without an error", {
  skip_without_later()
  for (how in c("destroy.socket", "destroy.context")) {
    loop <- local_loop()
    p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
    got <- collector()
    w <- later::with_loop(loop, on.message(p$a, got$add))
    send.socket(p$b, 1)
    expect_true(run_until(loop, function() got$n() == 1L))
    if (how == "destroy.socket") destroy.socket(p$a) else destroy.context(p$ctx)
    expect_output(print(w), "stopped: its socket was closed; 1 message delivered", info = how)
    # the watcher notices on its own, within about a second, and is gone
    ws <- warnings_of(expect_no_error(
      expect_true(run_until(loop, function() identical(w$state, "closed"), 5), label = how)
    ))
    expect_identical(ws, character())
    expect_true(run_until(loop, function() later::loop_empty(loop), 5), label = how)
    expect_false(cancel.on.message(w))
    expect_identical(got$n(), 1L)
  }
})

test_that("a callback that fails is reported, and the next messages are still delivered", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  got <- collector()
  w <- later::with_loop(loop, on.message(p$a, function(msg) {
    if (identical(msg, 2)) stop("boom at 2")
    got$add(msg)
  }))
  send.socket(p$b, 1)
  send.socket(p$b, 2)
  send.raw.string(p$b, "not serialized R") # fails to unserialize
  send.socket(p$b, 3)
  ws <- warnings_of(expect_true(run_until(loop, function() got$n() == 2L)))
  expect_identical(unlist(got$all()), c(1, 3))
  expect_length(ws, 2L)
  expect_match(ws[1], "on.message: the callback failed: boom at 2", fixed = TRUE)
  expect_match(ws[2], "^on.message: a message could not be read: .+")
  expect_output(print(w), "active; 3 messages delivered, 2 errors")
  # the warning is classed
  send.socket(p$b, 2)
  cls <- NULL
  withCallingHandlers(run_until(loop, function() !is.null(cls)),
                      warning = function(wn) {
                        cls <<- class(wn)
                        invokeRestart("muffleWarning")
                      })
  expect_true("rzmq_callback_warning" %in% cls)
  cancel.on.message(w)
})

test_that("on.error gets the errors instead, and can stop the watcher", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  got <- collector()
  errors <- collector()
  w <- later::with_loop(loop, on.message(p$a, function(msg) {
    if (msg %% 2 == 0) stop("even: ", msg)
    got$add(msg)
  }, on.error = function(e) errors$add(conditionMessage(e))))
  for (i in 1:5) send.socket(p$b, i)
  ws <- warnings_of(run_until(loop, function() got$n() == 3L))
  expect_identical(ws, character())
  expect_identical(unlist(got$all()), c(1L, 3L, 5L))
  expect_identical(unlist(errors$all()), c("even: 2", "even: 4"))
  cancel.on.message(w)

  # stop at the first error: the rest stays in the socket
  got2 <- collector()
  w2 <- later::with_loop(loop, on.message(p$a, function(msg) {
    if (msg == 2) stop("two")
    got2$add(msg)
  }, on.error = function(e) cancel.on.message(w2)))
  for (i in 1:4) send.socket(p$b, i)
  expect_true(run_until(loop, function() identical(w2$state, "cancelled")))
  run_for(loop, 0.2)
  expect_identical(unlist(got2$all()), 1L)
  expect_identical(recv_within(p$a), 3L)
  expect_identical(recv_within(p$a), 4L)

  # an on.error that fails is reported as a warning
  w3 <- later::with_loop(loop, on.message(p$a, function(msg) stop("first"),
                                          on.error = function(e) stop("second")))
  send.socket(p$b, 1)
  ws <- warnings_of(run_until(loop, function() w3$errors == 1))
  expect_match(ws, "on.message: `on.error` failed: second", fixed = TRUE, all = FALSE)
  cancel.on.message(w3)
})

test_that("a callback can send from the event loop without blocking", {
  loop <- watch_test_loop()
  # a DEALER watched and answering on the same socket: every request is seen
  # even though each answer is sent from within the callback
  ctx <- init.context()
  router <- init.socket(ctx, "ZMQ_ROUTER")
  dealer <- init.socket(ctx, "ZMQ_DEALER")
  ep <- inproc()
  bind.socket(router, ep)
  connect.socket(dealer, ep)
  set.send.timeout(dealer, 0L)
  w <- later::with_loop(loop, on.message(dealer, function(msg) send.socket(dealer, msg * 10)))
  send.socket(dealer, 0) # so the router learns the dealer's identity
  first <- recv_multipart_within(router)
  id <- first[[1]]
  for (i in 1:20) send.multipart(router, list(id, serialize(i, NULL)))
  answers <- integer()
  deadline <- Sys.time() + 10
  while (length(answers) < 20 && Sys.time() < deadline) {
    later::run_now(0.05, loop = loop)
    while (readable(router, 0)) answers <- c(answers, unserialize(receive.multipart(router)[[2]]))
  }
  expect_identical(answers, (1:20) * 10)
  cancel.on.message(w)
  # a send timeout of 0: a send that would wait returns FALSE at once
  lonely <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(lonely, 0L)
  expect_false(send.socket(lonely, "nobody there"))
  expect_identical(zmq.errno(), 11L)
  destroy.context(ctx, linger = 0)
})

test_that("receive.promise() resolves with the next message, unserialized or raw", {
  loop <- watch_test_loop(promises = TRUE)
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  value <- NULL
  later::with_loop(loop, promises::then(receive.promise(p$a), function(v) value <<- list(v)))
  run_for(loop, 0.1)
  expect_null(value)
  send.socket(p$b, list(x = 1:3))
  expect_true(run_until(loop, function() !is.null(value)))
  expect_identical(value[[1]], list(x = 1:3))

  value <- NULL
  later::with_loop(loop, promises::then(receive.promise(p$a, unserialize = FALSE, timeout = 5),
                                        function(v) value <<- list(v)))
  send.raw.string(p$b, "raw bytes")
  expect_true(run_until(loop, function() !is.null(value)))
  expect_identical(value[[1]], charToRaw("raw bytes"))

  # a message already waiting, its signal spent by a poll
  send.socket(p$b, "waiting")
  expect_true(readable(p$a))
  value <- NULL
  later::with_loop(loop, promises::then(receive.promise(p$a, timeout = 0), function(v) value <<- list(v)))
  expect_true(run_until(loop, function() !is.null(value)))
  expect_identical(value[[1]], "waiting")

  expect_true(run_until(loop, function() later::loop_empty(loop), 5))
})

test_that("promises on one socket take one message each, in the order they were made", {
  skip_without_promises()
  # with the tick far off: every promise must be served by ZMQ_FD and the
  # ZMQ_EVENTS checks alone, none waiting for its own wait to time out
  no_tick()
  loop <- local_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  values <- collector()
  later::with_loop(loop, {
    for (i in 1:3) local({
      k <- i
      promises::then(receive.promise(p$a, timeout = 10), function(v) values$add(list(k, v)))
    })
  })
  for (m in c("m1", "m2", "m3")) send.socket(p$b, m)
  started <- Sys.time()
  expect_true(run_until(loop, function() values$n() == 3L))
  expect_lt(as.numeric(Sys.time() - started, units = "secs"), 2)
  got <- values$all()
  expect_identical(vapply(got, function(x) x[[2]], ""), c("m1", "m2", "m3"))
  # each promise in the order made got the message in the order sent
  expect_setequal(vapply(got, function(x) paste(x[[1]], x[[2]]), ""),
                  c("1 m1", "2 m2", "3 m3"))
  # the queue is gone once it is empty, and nothing is left in the loop
  expect_length(ls(rzmq:::promise_queues), 0L)
  expect_true(run_until(loop, function() later::loop_empty(loop), 5))

  # one waiting with no limit, one after it with a short timeout: the second
  # is rejected on time, and the first still takes the next message
  first <- NULL
  second <- NULL
  later::with_loop(loop, {
    promises::then(receive.promise(p$a), function(v) first <<- list(v))
    promises::catch(receive.promise(p$a, unserialize = FALSE, timeout = 0.3),
                    function(e) second <<- e)
  })
  started <- Sys.time()
  expect_true(run_until(loop, function() !is.null(second)))
  expect_lt(as.numeric(Sys.time() - started, units = "secs"), 2)
  expect_s3_class(second, "rzmq_promise_timeout")
  expect_null(first)
  send.socket(p$b, "for the first")
  expect_true(run_until(loop, function() !is.null(first)))
  expect_identical(first[[1]], "for the first")

  # each promise its own unserialize setting
  got <- collector()
  later::with_loop(loop, {
    promises::then(receive.promise(p$a, unserialize = FALSE, timeout = 5), got$add)
    promises::then(receive.promise(p$a, timeout = 5), got$add)
  })
  send.raw.string(p$b, "raw")
  send.socket(p$b, 2L)
  expect_true(run_until(loop, function() got$n() == 2L))
  expect_identical(got$all(), list(charToRaw("raw"), 2L))

  # closing the socket rejects every promise still waiting (seen at the next
  # tick: nothing comes on ZMQ_FD)
  options(rzmq.watch.tick = 0.2)
  fails <- collector()
  later::with_loop(loop, for (i in 1:2)
    promises::catch(receive.promise(p$a), function(e) fails$add(class(e)[1])))
  run_for(loop, 0.1)
  destroy.socket(p$a)
  expect_true(run_until(loop, function() fails$n() == 2L, 5))
  expect_identical(unlist(fails$all()), rep("rzmq_promise_closed", 2))
  expect_length(ls(rzmq:::promise_queues), 0L)

  # a queue whose loop is destroyed is let go of by the next receive.promise
  q <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  gone <- later::create_loop(parent = NULL)
  later::with_loop(gone, receive.promise(q$a, timeout = 60))
  expect_length(ls(rzmq:::promise_queues), 1L)
  later::destroy_loop(gone)
  value <- NULL
  later::with_loop(loop, promises::then(receive.promise(q$a, timeout = 5),
                                        function(v) value <<- list(v)))
  send.socket(q$b, "to the live loop")
  expect_true(run_until(loop, function() !is.null(value)))
  expect_identical(value[[1]], "to the live loop")
  expect_length(ls(rzmq:::promise_queues), 0L)
})

test_that("receive.promise() rejects on timeout and when the socket is closed", {
  skip_without_promises()
  loop <- local_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  failure <- NULL
  started <- Sys.time()
  later::with_loop(loop, promises::catch(receive.promise(p$a, timeout = 0.3),
                                         function(e) failure <<- e))
  expect_true(run_until(loop, function() !is.null(failure)))
  expect_gte(as.numeric(Sys.time() - started, units = "secs"), 0.25)
  expect_s3_class(failure, c("rzmq_promise_timeout", "rzmq_promise_error", "error"))
  expect_identical(conditionMessage(failure), "receive.promise: no message within 0.3 s")

  failure <- NULL
  later::with_loop(loop, promises::catch(receive.promise(p$a, timeout = 0),
                                         function(e) failure <<- e))
  expect_true(run_until(loop, function() !is.null(failure)))
  expect_s3_class(failure, "rzmq_promise_timeout")

  # nothing was taken: a message sent now is received normally
  send.socket(p$b, "after")
  expect_identical(recv_within(p$a), "after")

  failure <- NULL
  later::with_loop(loop, promises::catch(receive.promise(p$a), function(e) failure <<- e))
  run_for(loop, 0.1)
  destroy.socket(p$a)
  expect_true(run_until(loop, function() !is.null(failure), 5))
  expect_s3_class(failure, c("rzmq_promise_closed", "rzmq_promise_error", "error"))
  expect_match(conditionMessage(failure), "receive.promise: the socket was closed", fixed = TRUE)

  # a message that does not unserialize rejects with the error of reading it
  q <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  failure <- NULL
  later::with_loop(loop, promises::catch(receive.promise(q$a, timeout = 5),
                                         function(e) failure <<- e))
  send.raw.string(q$b, "not R")
  expect_true(run_until(loop, function() !is.null(failure)))
  expect_s3_class(failure, "error")
  expect_false(inherits(failure, "rzmq_promise_error"))
})

test_that("a second on.message() on a watched socket is an R error naming cancel.on.message()", {
  loop <- watch_test_loop()
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  first <- collector()
  w1 <- later::with_loop(loop, on.message(p$a, first$add))
  expect_error(later::with_loop(loop, on.message(p$a, function(msg) NULL)),
               "`socket` is already watched by on.message(): a socket has one watcher at a time; cancel the first with cancel.on.message()",
               fixed = TRUE)
  # the same socket in another loop is the same socket
  other <- local_loop()
  expect_error(later::with_loop(other, on.message(p$a, function(msg) NULL)),
               "already watched", fixed = TRUE)
  # the first watcher still gets everything
  for (i in 1:3) send.socket(p$b, i)
  expect_true(run_until(loop, function() first$n() == 3L))
  expect_identical(first$all(), list(1L, 2L, 3L))
  # other sockets are not affected
  q <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  wq <- later::with_loop(loop, on.message(q$a, function(msg) NULL))
  cancel.on.message(wq)
  # once cancelled, the socket may be watched again, and the new watcher
  # gets what comes
  cancel.on.message(w1)
  second <- collector()
  w2 <- later::with_loop(loop, on.message(p$a, second$add))
  send.socket(p$b, 4L)
  expect_true(run_until(loop, function() second$n() == 1L))
  expect_identical(second$all(), list(4L))
  expect_identical(first$n(), 3L)
  cancel.on.message(w2)
  # a watcher whose loop was destroyed no longer counts
  gone <- later::create_loop(parent = NULL)
  later::with_loop(gone, on.message(p$a, function(msg) NULL))
  later::destroy_loop(gone)
  w3 <- later::with_loop(loop, on.message(p$a, function(msg) NULL))
  cancel.on.message(w3)
})

test_that("receive.promise() on a REQ socket that has sent nothing is rejected at once (EFSM)", {
  skip_without_promises()
  loop <- local_loop()
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0), add = TRUE)
  rep <- init.socket(ctx, "ZMQ_REP")
  req <- init.socket(ctx, "ZMQ_REQ")
  ep <- inproc("promise-req")
  bind.socket(rep, ep)
  connect.socket(req, ep)
  failure <- NULL
  started <- Sys.time()
  later::with_loop(loop, promises::catch(receive.promise(req, timeout = 30),
                                         function(e) failure <<- e))
  expect_true(run_until(loop, function() !is.null(failure), 5))
  expect_lt(as.numeric(Sys.time() - started, units = "secs"), 2)
  expect_s3_class(failure, c("rzmq_promise_state", "rzmq_promise_error", "rzmq_EFSM", "rzmq_error", "error"))
  expect_match(conditionMessage(failure), "this REQ socket has sent no request", fixed = TRUE)
  expect_type(failure$errno, "integer")
  # after a request the reply comes through a promise as usual
  expect_true(send.socket(req, "question"))
  expect_identical(recv_within(rep, 5), "question")
  reply <- NULL
  later::with_loop(loop, promises::then(receive.promise(req, timeout = 10),
                                        function(msg) reply <<- msg))
  expect_true(send.socket(rep, "answer"))
  expect_true(run_until(loop, function() !is.null(reply), 5))
  expect_identical(reply, "answer")
  # the reply taken, it owes none again: the next promise is rejected at once
  failure <- NULL
  later::with_loop(loop, promises::catch(receive.promise(req, timeout = 30),
                                         function(e) failure <<- e))
  expect_true(run_until(loop, function() !is.null(failure), 5))
  expect_s3_class(failure, "rzmq_EFSM")
})

test_that("on.message() and receive.promise() reject bad input with clear errors", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  f <- function(msg) NULL
  for (bad in list(NULL, 1, "tcp://127.0.0.1:5555", ctx)) {
    expect_error(on.message(bad, f), "`socket` must be a zmq socket")
    expect_error(receive.promise(bad), "`socket` must be a zmq socket")
  }
  for (bad in list(NULL, 1, "print", list(f))) {
    expect_error(on.message(s, bad), "`callback` must be a function of one argument, the message",
                 fixed = TRUE)
  }
  # flags as args.c takes them: TRUE/FALSE or a single number (1/0)
  for (bad in list(NULL, NA, "yes", c(TRUE, FALSE), NA_real_, list(TRUE))) {
    expect_error(on.message(s, f, unserialize = bad), "`unserialize` must be TRUE or FALSE", fixed = TRUE)
    expect_error(on.message(s, f, multipart = bad), "`multipart` must be TRUE or FALSE", fixed = TRUE)
    expect_error(receive.promise(s, unserialize = bad), "`unserialize` must be TRUE or FALSE", fixed = TRUE)
  }
  expect_error(on.message(s, f, on.error = "warn"), "`on.error` must be NULL or a function", fixed = TRUE)
  for (bad in list(NULL, NA, "1", c(1, 2), -2, list(1))) {
    expect_error(receive.promise(s, timeout = bad), "`timeout` must be a single number of seconds",
                 fixed = TRUE)
  }
  for (bad in list(NULL, 1, s, new.env(), structure(list(), class = "rzmq_on_message"))) {
    expect_error(cancel.on.message(bad), "`handle` must be a watcher made by on.message()", fixed = TRUE)
  }
  destroy.socket(s)
  expect_error(on.message(s, f), "`socket` has been closed", fixed = TRUE)
  expect_error(receive.promise(s), "`socket` has been closed", fixed = TRUE)
})

# -- without later or promises --------------------------------------------------

# A library holding links to rzmq and to `pkgs` (with what they import).
library_with <- function(dir, pkgs = character()) {
  base <- rownames(utils::installed.packages(priority = "base"))
  todo <- c("rzmq", pkgs)
  done <- character()
  while (length(todo)) {
    pkg <- todo[1]
    todo <- todo[-1]
    if (pkg %in% c(done, base)) next
    file.symlink(find.package(pkg), file.path(dir, pkg))
    done <- c(done, pkg)
    if (pkg != "rzmq") {
      desc <- utils::packageDescription(pkg)
      deps <- unlist(strsplit(paste(desc$Imports, desc$Depends, sep = ","), ","))
      deps <- trimws(sub("\\(.*", "", deps))
      todo <- c(todo, setdiff(deps[nzchar(deps) & deps != "R" & deps != "NA"], done))
    }
  }
  dir
}

# Run R `code` in Rscript with only the library `lib` (and R's own); its output.
rscript_in_library <- function(lib, code) {
  skip_if_not_installed("processx")
  env <- c(R_LIBS = lib, R_LIBS_SITE = lib, R_LIBS_USER = lib, R_TESTS = "")
  # --no-environ: the site Renviron would put the site libraries back
  res <- processx::run(rscript(), c("--no-environ", "-e", code), env = c("current", env),
                       error_on_status = FALSE, timeout = 60)
  expect_identical(res$status, 0L, info = res$stderr)
  res$stdout
}

probe_code <- '
  library(rzmq)
  cat("later:", requireNamespace("later", quietly = TRUE), "\n")
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(a, "inproc://no-later"); connect.socket(b, "inproc://no-later")
  send.socket(b, "still works"); cat("received:", receive.socket(a), "\n")
  cat("on.message:", tryCatch(format(on.message(a, print)), error = conditionMessage), "\n")
  cat("receive.promise:", tryCatch(receive.promise(a), error = conditionMessage), "\n")
'

test_that("without later, rzmq works and the event-loop functions say what to install", {
  lib <- library_with(withr_tempdir())
  out <- rscript_in_library(lib, probe_code)
  expect_match(out, "later: FALSE", fixed = TRUE)
  expect_match(out, "received: still works", fixed = TRUE)
  expect_match(out, paste0("on.message: on.message() needs the 'later' package (>= 1.4.0), ",
                           "which is not installed: install it with install.packages(\"later\")"),
               fixed = TRUE)
  expect_match(out, "receive.promise: receive.promise() needs the 'later' package (>= 1.4.0)",
               fixed = TRUE)
})

test_that("with a later older than 1.4.0, on.message says which version it needs", {
  skip_if_not_installed("processx")
  lib <- library_with(withr_tempdir())
  # a stand-in 'later' 1.3.0, installed into the temporary library
  src <- file.path(withr_tempdir(), "later")
  dir.create(src)
  writeLines(c("Package: later", "Version: 1.3.0", "Title: Stand-in", "License: GPL-3",
               "Description: A stand-in for tests.", "Author: rzmq tests",
               "Maintainer: rzmq tests <rzmq@example.org>"), file.path(src, "DESCRIPTION"))
  writeLines("", file.path(src, "NAMESPACE"))
  inst <- processx::run(file.path(R.home("bin"), "R"), c("CMD", "INSTALL", "-l", lib, src),
                        error_on_status = FALSE, timeout = 120, env = c("current", R_TESTS = ""))
  expect_identical(inst$status, 0L, info = inst$stderr)
  out <- rscript_in_library(lib, probe_code)
  expect_match(out, "on.message() needs the 'later' package (>= 1.4.0), but 1.3.0 is installed",
               fixed = TRUE)
})

test_that("with later but without promises, receive.promise says to install promises", {
  skip_without_later()
  lib <- library_with(withr_tempdir(), "later")
  out <- rscript_in_library(lib, probe_code)
  expect_match(out, "later: TRUE", fixed = TRUE)
  expect_match(out, "on.message: <rzmq on.message watcher: active", fixed = TRUE)
  expect_match(out, "receive.promise() needs the 'promises' package (>= 1.2.0), which is not installed",
               fixed = TRUE)
})
