# poll.socket(): the manual's REQ/REP walk-through, the result's shape,
# timeouts in seconds, argument errors, and a long poll woken by a peer.
# The tests that assert how long a poll took are skipped on CRAN.

all3 <- c("read", "write", "error")

# read/write states of one socket, polled at once
state <- function(socket) {
  r <- poll.socket(list(socket), list(c("read", "write")), timeout = 0L)[[1]]
  c(read = r$read, write = r$write)
}

test_that("the manual's REQ/REP walk-through over tcp shows every state", {
  ctx <- init.context()
  rep <- init.socket(ctx, "ZMQ_REP")
  req <- init.socket(ctx, "ZMQ_REQ")
  set.linger(rep, 0L)
  set.linger(req, 0L)
  set.rcv.timeout(rep, 5000L)
  set.rcv.timeout(req, 5000L)
  ep <- bind_tcp(rep)
  expect_true(connect.socket(req, ep))

  # before anything is sent: only REQ can be written
  ev <- poll.socket(list(rep, req), list(all3, all3), timeout = 0L)
  expect_identical(ev, list(
    list(read = FALSE, write = FALSE, error = FALSE),
    list(read = FALSE, write = TRUE, error = FALSE)
  ))

  # REQ sends: once it has arrived, REP can be read, and nobody can write
  expect_true(send.socket(req, "Hello World"))
  expect_true(readable(rep))
  expect_identical(state(rep), c(read = TRUE, write = FALSE))
  expect_identical(state(req), c(read = FALSE, write = FALSE))

  # REP receives: now REP must answer; REQ still waits
  expect_identical(receive.socket(rep), "Hello World")
  expect_identical(state(rep), c(read = FALSE, write = TRUE))
  expect_identical(state(req), c(read = FALSE, write = FALSE))

  # REP replies: the answer reaches REQ
  expect_true(send.socket(rep, "Greetings"))
  ev <- poll.socket(list(req), list("read"), timeout = 5)
  expect_identical(ev, list(list(read = TRUE)))
  expect_identical(state(rep), c(read = FALSE, write = FALSE))
  expect_identical(state(req), c(read = TRUE, write = FALSE))

  # REQ receives: the cycle is complete, REQ can write again
  expect_identical(receive.socket(req), "Greetings")
  expect_identical(state(req), c(read = FALSE, write = TRUE))
  expect_identical(state(rep), c(read = FALSE, write = FALSE))
})

test_that("the result holds only the requested events, in the order read, write, error", {
  p <- socket_pair()
  ev <- poll.socket(list(p$a, p$b), list(c("error", "read"), c("write", "read")))
  expect_type(ev, "list")
  expect_length(ev, 2L)
  expect_null(names(ev))
  expect_identical(names(ev[[1]]), c("read", "error"))
  expect_identical(names(ev[[2]]), c("read", "write"))
  expect_identical(ev[[1]], list(read = FALSE, error = FALSE))
  expect_identical(ev[[2]], list(read = FALSE, write = TRUE))
  ev <- poll.socket(list(p$a), list(c("error", "write", "read")))
  expect_identical(names(ev[[1]]), c("read", "write", "error"))
  ev <- poll.socket(list(p$a), list("write"))
  expect_identical(ev, list(list(write = TRUE)))
  # a repeated event is reported once
  ev <- poll.socket(list(p$a), list(c("read", "read")))
  expect_identical(ev, list(list(read = FALSE)))
  # read turns TRUE once a frame is waiting
  send.socket(p$b, 1)
  expect_identical(poll.socket(list(p$a), list("read"), timeout = 5), list(list(read = TRUE)))
})

test_that("a single character vector of events applies to every socket", {
  p <- socket_pair()
  ev <- poll.socket(list(p$a, p$b), c("read", "write"))
  expect_identical(ev, list(list(read = FALSE, write = TRUE), list(read = FALSE, write = TRUE)))
})

test_that("timeout = 0.3 with nothing ready waits about 0.3 s", {
  skip_on_cran()
  p <- socket_pair()
  elapsed <- system.time(ev <- poll.socket(list(p$a), list("read"), timeout = 0.3))[["elapsed"]]
  expect_identical(ev, list(list(read = FALSE)))
  expect_gte(elapsed, 0.25)
  expect_lte(elapsed, 1.5)
  # an integer number of seconds is seconds, not milliseconds
  elapsed <- system.time(ev <- poll.socket(list(p$a), list("read"), timeout = 1L))[["elapsed"]]
  expect_identical(ev, list(list(read = FALSE)))
  expect_gte(elapsed, 0.9)
  expect_lte(elapsed, 2.5)
})

test_that("timeout = 0 returns at once", {
  skip_on_cran()
  p <- socket_pair()
  elapsed <- system.time(for (i in 1:20) ev <- poll.socket(list(p$a), list("read"), timeout = 0))[["elapsed"]]
  expect_identical(ev, list(list(read = FALSE)))
  expect_lt(elapsed, 0.5)
  elapsed <- system.time(ev <- poll.socket(list(p$a), list("read")))[["elapsed"]]
  expect_lt(elapsed, 0.2)
})

test_that("a ready socket ends a long poll at once", {
  skip_on_cran()
  p <- socket_pair()
  send.socket(p$b, "ready")
  expect_true(readable(p$a))
  elapsed <- system.time(ev <- poll.socket(list(p$a), list("read"), timeout = 10))[["elapsed"]]
  expect_true(ev[[1]]$read)
  expect_lt(elapsed, 1)
  elapsed <- system.time(ev <- poll.socket(list(p$a), list("read"), timeout = -1L))[["elapsed"]]
  expect_true(ev[[1]]$read)
  expect_lt(elapsed, 1)
})

test_that("unknown events and mismatched lengths are R errors naming events", {
  p <- socket_pair()
  expect_error(poll.socket(list(p$a), list("reed")), "`events\\[\\[1\\]\\]` has unknown poll event \"reed\"")
  expect_error(poll.socket(list(p$a, p$b), list("read", c("write", "oops"))), "`events\\[\\[2\\]\\]`.*\"oops\"")
  expect_error(poll.socket(list(p$a), list(NA_character_)), "`events\\[\\[1\\]\\]`")
  expect_error(poll.socket(list(p$a), list(character(0))), "`events\\[\\[1\\]\\]`")
  expect_error(poll.socket(list(p$a), list(1L)), "`events\\[\\[1\\]\\]`")
  expect_error(poll.socket(list(p$a, p$b), list("read")), "`events`")
  expect_error(poll.socket(list(p$a), list("read", "read")), "`events`")
  expect_error(poll.socket(list(p$a), 1L), "`events`")
})

test_that("bad sockets and timeouts are R errors naming the argument", {
  p <- socket_pair()
  expect_error(poll.socket(list(), list()), "`sockets`")
  expect_error(poll.socket(list(p$a, "x"), list("read", "read")), "`sockets\\[\\[2\\]\\]`")
  expect_error(poll.socket(list(p$ctx), list("read")), "`sockets\\[\\[1\\]\\]` must be a zmq socket, not a zmq context")
  expect_error(poll.socket(list(p$a), list("read"), timeout = -2), "`timeout`")
  expect_error(poll.socket(list(p$a), list("read"), timeout = NA), "`timeout`")
  expect_error(poll.socket(list(p$a), list("read"), timeout = "1"), "`timeout`")
})

test_that("a long poll (timeout -1 and Inf) wakes when a peer in another process sends", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR")
  set.linger(a, 0L)
  set.send.timeout(a, 5000L)
  ep <- bind_tcp(a)
  child <- child_r(function(ep) {
    ctx <- rzmq::init.context()
    s <- rzmq::init.socket(ctx, "ZMQ_PAIR")
    rzmq::set.rcv.timeout(s, 20000L)
    rzmq::connect.socket(s, ep)
    # each message carries the time it was sent (the same clock as the
    # parent's): the parent's poll must have been waiting, and wake for it
    rzmq::send.socket(s, list("one", as.numeric(Sys.time())))
    stopifnot(identical(rzmq::receive.socket(s), "ack"))
    Sys.sleep(1) # the parent is in its second poll by now
    rzmq::send.socket(s, list("two", as.numeric(Sys.time())))
    stopifnot(identical(rzmq::receive.socket(s), "done"))
    "child finished"
  }, args = list(ep = ep))
  # a regression must fail, not hang: R's time limit interrupts the poll,
  # and `a` has a receive timeout
  set.rcv.timeout(a, 10000L)
  setTimeLimit(elapsed = 30, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
  # the child takes a while to start R: the poll waits for it
  t0 <- as.numeric(Sys.time())
  ev <- poll.socket(list(a), list("read"), timeout = -1)
  woke <- as.numeric(Sys.time())
  expect_identical(ev, list(list(read = TRUE)))
  one <- receive.socket(a, dont.wait = TRUE)
  expect_identical(one[[1]], "one")
  expect_lt(t0, one[[2]])                 # it was waiting before the send ...
  expect_gte(woke, one[[2]] - 0.05)       # ... until the send (clock rounding) ...
  expect_lt(woke - one[[2]], 2)           # ... and woke for it, not much later
  expect_true(send.socket(a, "ack"))
  t0 <- as.numeric(Sys.time())
  ev <- poll.socket(list(a), list("read"), timeout = Inf)
  woke <- as.numeric(Sys.time())
  expect_identical(ev, list(list(read = TRUE)))
  # it woke for the child's second send: the frame is there at once
  two <- receive.socket(a, dont.wait = TRUE)
  expect_identical(two[[1]], "two")
  expect_gt(woke - t0, 0.8)               # it waited the child's 1 s ...
  expect_lt(woke - two[[2]], 2)           # ... and woke for the send
  expect_true(send.socket(a, "done"))
  setTimeLimit(elapsed = Inf)
  child_wait(child, 30)
  expect_identical(child$get_result(), "child finished")
})
