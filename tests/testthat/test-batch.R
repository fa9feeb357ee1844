# send.messages() and receive.messages(): many messages per call, none lost
# or repeated when a batch ends early (a full queue, a timeout, an error, an
# interrupt).

values <- list(1L, 2.5, "text", NULL, NA, c(a = 1, b = 2), list(x = 1:3, y = "z"),
               data.frame(a = 1:2, b = c("u", "v")), factor(c("lo", "hi")),
               3 + 2i, as.raw(0:255), function(x) x + 1, quote(a + b),
               matrix(1:6, 2), seq_len(1e5), character(0))

test_that("every kind of value goes through a batch and back, in order", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  for (xdr in c(FALSE, TRUE)) {
    expect_identical(send.messages(p$b, values, xdr = xdr), length(values))
    got <- receive.messages(p$a)
    expect_length(got, length(values))
    for (i in seq_along(values)) {
      if (is.function(values[[i]])) {
        expect_identical(got[[i]](1), 2)
      } else {
        expect_identical(got[[i]], values[[i]])
      }
    }
  }
  # the bytes are those of send.socket(): any receiver can read them
  send.messages(p$b, list(list(k = "v")))
  expect_identical(receive.socket(p$a), list(k = "v"))
  send.socket(p$b, 42)
  expect_identical(receive.messages(p$a), list(42))
})

test_that("raw frames go as they are with serialize = FALSE", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  frames <- list(raw(0), as.raw(1:3), as.raw(rep(7L, 70000)), charToRaw("last"))
  expect_identical(send.messages(p$b, frames, serialize = FALSE), 4L)
  expect_identical(receive.messages(p$a, unserialize = FALSE), frames)
  # one at a time they are the same frames
  send.messages(p$b, frames, serialize = FALSE)
  for (f in frames) expect_identical(receive.socket(p$a, unserialize = FALSE), f)
})

test_that("n limits a batch and the rest stays queued", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  send.messages(p$b, as.list(1:10))
  expect_identical(receive.messages(p$a, n = 3), as.list(1:3))
  expect_identical(receive.messages(p$a, n = 0), list())
  expect_identical(receive.messages(p$a, n = 1L), list(4L))
  expect_identical(receive.messages(p$a, n = 100), as.list(5:10))
  # more than one growth of the result list (within the high-water marks)
  set.send.timeout(p$b, 5000L)
  expect_identical(send.messages(p$b, as.list(seq_len(1800))), 1800L)
  got <- receive.messages(p$a, n = 1e4)
  expect_identical(unlist(got), seq_len(1800))
  expect_identical(send.messages(p$b, list()), 0L)
  expect_identical(send.messages(p$b, NULL), 0L)
})

test_that("an empty queue gives an empty list: dont.wait and the receive timeout", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  t0 <- proc.time()[["elapsed"]] # at once, not after socket_pair()'s 10 s timeout
  expect_identical(receive.messages(p$a, dont.wait = TRUE), list())
  expect_lt(proc.time()[["elapsed"]] - t0, 2)
  expect_identical(zmq.errno(), 11L)
  set.rcv.timeout(p$a, 100L)
  t0 <- proc.time()[["elapsed"]]
  expect_identical(receive.messages(p$a), list())
  expect_gte(proc.time()[["elapsed"]] - t0, 0.09)
  expect_identical(zmq.errno(), 11L)
  # it waits for the first message, then takes only what is there
  send.socket(p$b, "one")
  expect_identical(receive.messages(p$a), list("one"))
})

test_that("multipart messages in the queue come back whole, in their place", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  send.socket(p$b, "before")
  send.multipart(p$b, list(charToRaw("id"), raw(0), serialize(1:3, NULL)))
  send.socket(p$b, "after")
  got <- receive.messages(p$a)
  expect_length(got, 3)
  expect_identical(got[[1]], "before")
  expect_identical(got[[2]], list(charToRaw("id"), raw(0), serialize(1:3, NULL)))
  expect_identical(got[[3]], "after")
  # the same with unserialize = FALSE, and a multipart message first
  send.multipart(p$b, list(charToRaw("a"), charToRaw("b")))
  send.messages(p$b, list(as.raw(9)), serialize = FALSE)
  expect_identical(receive.messages(p$a, unserialize = FALSE),
                   list(list(charToRaw("a"), charToRaw("b")), as.raw(9)))
})

test_that("a send stops at the first message that cannot be queued", {
  ctx <- init.context()
  push <- with_deadline(init.socket(ctx, "ZMQ_PUSH"))
  pull <- with_deadline(init.socket(ctx, "ZMQ_PULL"))
  set.sockopt(push, "ZMQ_SNDHWM", 5L)
  set.sockopt(pull, "ZMQ_RCVHWM", 5L)
  set.send.timeout(push, 100L)
  endpoint <- inproc()
  bind.socket(pull, endpoint)
  connect.socket(push, endpoint)
  n <- send.messages(push, as.list(1:1000))
  expect_gt(n, 0L)
  expect_lt(n, 1000L)
  expect_identical(zmq.errno(), 11L)
  # exactly the first n arrived, once each
  got <- unlist(receive.messages(pull, n = 2000))
  expect_identical(got, seq_len(n))
  expect_identical(receive.messages(pull, dont.wait = TRUE), list())
  # with no peer at all nothing can be queued
  lone <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(lone, 50L)
  expect_identical(send.messages(lone, list(1, 2)), 0L)
})

test_that("a REP socket's batch ends after the one request it may take", {
  p <- socket_pair("ZMQ_REP", "ZMQ_REQ")
  send.socket(p$b, "question")
  expect_silent(got <- receive.messages(p$a))
  expect_identical(got, list("question"))
  expect_true(send.socket(p$a, "answer"))
  expect_identical(receive.messages(p$b), list("answer"))
})

test_that("libzmq refusing a send ends the batch with a message and the count", {
  p <- socket_pair("ZMQ_REP", "ZMQ_REQ")
  # a REQ socket may send one request, then must wait for the reply
  expect_message(n <- send.messages(p$b, list("q1", "q2", "q3")),
                 "Operation cannot be accomplished in current state")
  expect_identical(n, 1L)
  expect_identical(receive.socket(p$a), "q1")
  # and the REP socket, now owing a reply, may not receive
  expect_message(got <- receive.messages(p$a, dont.wait = TRUE),
                 "Operation cannot be accomplished in current state")
  expect_identical(got, list())
  expect_identical(zmq.errno(), 156384763L)
})

test_that("an R error part way through says how many were sent, and nothing more went", {
  # with classed errors, libzmq refusing the second request is an R error
  p <- socket_pair("ZMQ_REP", "ZMQ_REQ")
  old <- options(rzmq.errors = "condition")
  on.exit(options(old))
  err <- tryCatch(send.messages(p$b, list("q1", "q2", "q3")), error = function(e) e)
  expect_s3_class(err, "rzmq_batch_error")
  expect_identical(err$sent, 1L)
  expect_s3_class(err$parent, "rzmq_EFSM")
  expect_match(conditionMessage(err), "after 1 message\\(s\\) were sent")
  # handlers for the original class still get it when nobody takes ours
  expect_error(send.messages(p$b, list("q4")), class = "rzmq_EFSM")
  expect_identical(receive.messages(p$a), list("q1"))
  options(old)
  # an object too deep to serialize stops the batch where it is
  q <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  deep <- list()
  for (i in seq_len(1e5)) deep <- list(deep)
  msg <- tryCatch(send.messages(q$b, list(1, 2, deep, 4)),
                  error = function(e) conditionMessage(e))
  expect_match(msg, "C stack")
  expect_identical(receive.messages(q$a), list(1, 2))
  expect_identical(receive.messages(q$a, dont.wait = TRUE), list())
})

test_that("a message that will not unserialize keeps the ones before and after it", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  send.messages(p$b, list("a", "b"))
  send.socket(p$b, charToRaw("not a serialization"), serialize = FALSE)
  send.messages(p$b, list("c"))
  err <- tryCatch(receive.messages(p$a), error = function(e) e)
  expect_s3_class(err, "rzmq_unserialize_error")
  expect_identical(err$received, list("a", "b"))
  expect_identical(err$data, charToRaw("not a serialization"))
  expect_match(conditionMessage(err), "message 3 of the batch")
  expect_identical(receive.messages(p$a), list("c"))
})

test_that("misuse is an R error and nothing is sent", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  expect_error(send.messages(p$b, 1:3), "`data` must be a list")
  expect_error(send.messages(p$b, list(as.raw(1), "x"), serialize = FALSE),
               "`data\\[\\[2\\]\\]` must be a raw vector when serialize = FALSE")
  expect_error(send.messages(p$b, list(1), serialize = NA), "serialize")
  expect_error(send.messages("socket", list(1)), "socket")
  expect_error(receive.messages(p$a, n = -1), "`n` must be a whole number")
  expect_error(receive.messages(p$a, n = 1.5), "`n` must be a whole number")
  expect_error(receive.messages(p$a, n = NA), "`n`")
  expect_error(receive.messages(p$a, n = "5"), "`n`")
  expect_error(receive.messages(p$a, unserialize = "yes"), "unserialize")
  expect_error(receive.messages(p$a, dont.wait = NULL), "dont.wait")
  expect_identical(receive.messages(p$a, dont.wait = TRUE), list())
  destroy.socket(p$a)
  expect_error(receive.messages(p$a), "socket")
})

test_that("an interrupt mid-batch loses and repeats nothing", {
  skip_on_cran()
  ctl <- control_socket()
  pull <- with_deadline(init.socket(ctl$ctx, "ZMQ_PULL"))
  set.sockopt(pull, "ZMQ_RCVHWM", 10L)
  endpoint <- bind_tcp(pull)
  ctl <- child_with_control(function(s, ctx, endpoint) {
    push <- init.socket(ctx, "ZMQ_PUSH")
    set.sockopt(push, "ZMQ_SNDHWM", 10L)
    connect.socket(push, endpoint)
    got <- tryCatch({
      send.socket(s, "sending")
      send.messages(push, as.list(seq_len(1e6))) # the parent does not read
      list("finished")
    }, interrupt = function(e) list(class(e)[1], e$sent))
    send.socket(s, got)
    # a receive batch waiting for its first message is interrupted too
    got <- tryCatch({
      send.socket(s, "receiving")
      receive.messages(s)
    }, interrupt = function(e) "interrupted")
    send.socket(s, got)
    receive.socket(s) # until the parent has everything
  }, args = list(endpoint = endpoint), ctl = ctl)
  s <- ctl$socket
  proc <- ctl$proc
  expect_identical(recv_within(s, 20, proc), "sending")
  # the first messages have arrived, so the batch has started (and soon
  # waits at the high-water mark: the parent does not read)
  expect_true(readable(pull, 20))
  proc$interrupt()
  res <- recv_within(s, 10, proc)
  expect_identical(res[[1]], "rzmq_interrupt")
  sent <- res[[2]]
  expect_gt(sent, 0L)
  expect_lt(sent, 1e6)
  # every message counted as sent arrives, once, in order, and no other
  got <- integer()
  while (length(got) < sent && readable(pull, 10)) {
    got <- c(got, unlist(receive.messages(pull)))
  }
  expect_identical(got, seq_len(sent))
  expect_false(readable(pull, 0.3))
  # in receive.messages(), waiting
  expect_identical(interrupt_when_blocked(ctl, "receiving"), "interrupted")
  send.socket(s, "done")
  child_wait(proc)
})
