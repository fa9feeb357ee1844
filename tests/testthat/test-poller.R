# init.poller()/poll.poller(): every shape of sockets and events that
# poll.socket() takes gives the result poll.socket() gives; timeouts; a long
# wait woken by a peer and interrupted by SIGINT (in a child R process with a
# deadline); sockets closed or lent to a proxy under it; gc() of its sockets
# while it lives; bad input.

all3 <- c("read", "write", "error")

test_that("each shape poll.socket() takes gives poll.socket()'s result, before and after a frame arrives", {
  p <- socket_pair()
  other <- socket_pair(ctx = p$ctx)
  shapes <- list(
    list(list(p$a, p$b), list(c("error", "read"), c("write", "read"))),
    list(list(p$a, p$b), list(all3, "read")),
    list(list(p$a, other$a), c("read", "write")),  # one vector for every socket
    list(p$a, "read"),                             # a lone socket
    list(p$a, list(all3)),
    list(list(p$a), list(c("read", "read"))),      # a repeated event
    list(list(p$a, p$a, other$b), "read")          # a socket twice
  )
  pollers <- lapply(shapes, function(s) init.poller(s[[1]], s[[2]]))
  check <- function() {
    for (i in seq_along(shapes)) {
      expect_identical(poll.poller(pollers[[i]]),
                       poll.socket(shapes[[i]][[1]], shapes[[i]][[2]]),
                       label = sprintf("shape %d", i))
    }
  }
  check()
  expect_identical(poll.poller(pollers[[1]]),
                   list(list(read = FALSE, error = FALSE), list(read = FALSE, write = TRUE)))
  expect_identical(poll.poller(pollers[[4]]), list(list(read = FALSE)))
  expect_true(send.socket(p$b, "frame"))
  expect_identical(poll.poller(pollers[[4]], timeout = 5), list(list(read = TRUE)))
  check()
  expect_identical(poll.poller(pollers[[7]]),
                   list(list(read = TRUE), list(read = TRUE), list(read = FALSE)))
  expect_identical(receive.socket(p$a), "frame")
  expect_identical(poll.poller(pollers[[4]]), list(list(read = FALSE)))
  check()
})

test_that("a result can be changed without changing the next one", {
  p <- socket_pair()
  poller <- init.poller(list(p$a, p$b), c("read", "write"))
  r1 <- poll.poller(poller)
  r1[[1]]$read <- TRUE
  r1[[2]][["write"]] <- NA
  names(r1[[1]]) <- c("x", "y")
  r2 <- poll.poller(poller)
  expect_identical(r2, list(list(read = FALSE, write = TRUE), list(read = FALSE, write = TRUE)))
  expect_identical(poll.socket(list(p$a), "read"), list(list(read = FALSE)))
})

test_that("timeouts are seconds: 0 returns at once, 0.3 waits about 0.3 s", {
  skip_on_cran()
  p <- socket_pair()
  poller <- init.poller(p$a, "read")
  elapsed <- system.time(for (i in 1:100) ev <- poll.poller(poller))[["elapsed"]]
  expect_identical(ev, list(list(read = FALSE)))
  expect_lt(elapsed, 0.5)
  elapsed <- system.time(ev <- poll.poller(poller, timeout = 0.3))[["elapsed"]]
  expect_identical(ev, list(list(read = FALSE)))
  expect_gte(elapsed, 0.25)
  expect_lte(elapsed, 1.5)
  send.socket(p$b, 1)
  elapsed <- system.time(ev <- poll.poller(poller, timeout = -1))[["elapsed"]]
  expect_identical(ev, list(list(read = TRUE)))
  expect_lt(elapsed, 1)
  expect_identical(poll.poller(poller, timeout = Inf), list(list(read = TRUE)))
})

test_that("a long poll (Inf) wakes when a peer in another process sends", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR")
  set.linger(a, 0L)
  ep <- bind_tcp(a)
  poller <- init.poller(a, "read")
  child <- child_r(function(ep) {
    ctx <- rzmq::init.context()
    s <- rzmq::init.socket(ctx, "ZMQ_PAIR")
    rzmq::set.rcv.timeout(s, 20000L)
    rzmq::connect.socket(s, ep)
    Sys.sleep(0.3) # let the parent sit in its poll first
    rzmq::send.socket(s, "one")
    stopifnot(identical(rzmq::receive.socket(s), "done"))
    "child finished"
  }, args = list(ep = ep))
  # a regression must fail, not hang: R's time limit interrupts the poll
  setTimeLimit(elapsed = 30, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
  expect_identical(poll.poller(poller, timeout = Inf), list(list(read = TRUE)))
  setTimeLimit(elapsed = Inf)
  expect_identical(receive.socket(a), "one")
  set.send.timeout(a, 5000L)
  expect_true(send.socket(a, "done"))
  child_wait(child, 30)
  expect_identical(child$get_result(), "child finished")
})

test_that("SIGINT interrupts a poll.poller() that waits forever; the poller still works", {
  skip_on_cran()
  ctl <- child_with_control(function(s, ctx) {
    idle <- init.socket(ctx, "ZMQ_PULL")
    bind.socket(idle, "inproc://idle")
    poller <- init.poller(list(idle, s), "read")
    t0 <- proc.time()[["elapsed"]]
    first <- tryCatch({
      send.socket(s, "about to poll")
      poll.poller(poller, timeout = -1)
    }, interrupt = function(e) "interrupted")
    blocked <- proc.time()[["elapsed"]] - t0
    send.socket(s, first)
    # the same poller, after the interrupt, sees the next frame
    again <- poll.poller(poller, timeout = 10)
    list(blocked = blocked, again = again, frame = receive.socket(s))
  }, rcv_timeout = 10000L)
  s <- ctl$socket
  proc <- ctl$proc
  # in poll.poller()'s wait
  expect_identical(interrupt_when_blocked(ctl, "about to poll"), "interrupted")
  expect_true(send.socket(s, "after"))
  child_wait(proc, 20)
  res <- proc$get_result()
  expect_gt(res$blocked, 0.14) # it was seen asleep for 0.15 s
  expect_identical(res$again, list(list(read = FALSE), list(read = TRUE)))
  expect_identical(res$frame, "after")
})

test_that("a socket closed under the poller makes the next poll an R error naming it", {
  p <- socket_pair()
  extra <- init.socket(p$ctx, "ZMQ_PULL")
  poller <- init.poller(list(p$a, p$b, extra), "read")
  expect_false(is.closed(poller))
  destroy.socket(p$b)
  expect_error(poll.poller(poller), "socket 2 of `poller` has been closed")
  expect_error(poll.poller(poller, timeout = 1), "socket 2 of `poller` has been closed")
  expect_true(is.closed(poller))
  # a poller of the other sockets still works
  rest <- init.poller(list(p$a, extra), "read")
  expect_identical(poll.poller(rest), list(list(read = FALSE), list(read = FALSE)))
  # destroying the context closes them all: the first is named
  destroy.context(p$ctx)
  expect_error(poll.poller(rest), "socket 1 of `poller` has been closed \\(or its context destroyed\\)")
  expect_true(is.closed(rest))
  # a closed socket is refused when the poller is made
  expect_error(init.poller(list(p$a), "read"), "`sockets\\[\\[1\\]\\]` has been closed")
})

test_that("a socket lent to a running proxy is refused until the proxy stops", {
  ctx <- init.context()
  front <- init.socket(ctx, "ZMQ_PULL")
  back <- init.socket(ctx, "ZMQ_PUSH")
  bind.socket(front, inproc())
  bind.socket(back, inproc())
  idle <- init.socket(ctx, "ZMQ_PULL")
  poller <- init.poller(list(idle, front), "read")
  proxy <- init.proxy(front, back)
  expect_error(poll.poller(poller), "socket 2 of `poller` is in use by a running proxy")
  expect_false(is.closed(poller))
  stop.proxy(proxy)
  expect_identical(poll.poller(poller), list(list(read = FALSE), list(read = FALSE)))
  destroy.context(ctx)
})

test_that("the poller keeps its sockets alive through gc(); they go when it goes", {
  ctx <- init.context()
  endpoint <- inproc()
  poller <- local({
    s <- init.socket(ctx, "ZMQ_PULL")
    bind.socket(s, endpoint)
    init.poller(list(s, init.socket(ctx, "ZMQ_PAIR")), "read")
  })
  gc()
  gc()
  expect_false(is.closed(poller))
  expect_identical(poll.poller(poller), list(list(read = FALSE), list(read = FALSE)))
  # the PULL socket is still bound and open: a frame sent to it is seen
  push <- init.socket(ctx, "ZMQ_PUSH")
  expect_true(connect.socket(push, endpoint))
  expect_true(send.socket(push, "still here"))
  expect_identical(poll.poller(poller, timeout = 5), list(list(read = TRUE), list(read = FALSE)))
  # once the poller is gone the sockets are collected, and the endpoint is free
  rm(poller)
  gc()
  gc()
  again <- init.socket(ctx, "ZMQ_PULL")
  expect_true(bind.socket(again, endpoint))
  destroy.context(ctx)
})

test_that("bad arguments are R errors naming the argument", {
  p <- socket_pair()
  expect_error(init.poller(list(), list()), "`sockets`")
  expect_error(init.poller("x", "read"), "`sockets`")
  expect_error(init.poller(list(p$a, "x"), "read"), "`sockets\\[\\[2\\]\\]`")
  expect_error(init.poller(list(p$ctx), "read"), "`sockets\\[\\[1\\]\\]` must be a zmq socket, not a zmq context")
  expect_error(init.poller(list(p$a), list("reed")), "`events\\[\\[1\\]\\]` has unknown poll event \"reed\"")
  expect_error(init.poller(list(p$a, p$b), list("read")), "`events`")
  expect_error(init.poller(list(p$a), 1L), "`events`")
  expect_error(init.poller(list(p$a), list(character(0))), "`events\\[\\[1\\]\\]`")
  poller <- init.poller(p$a, "read")
  expect_error(poll.poller(poller, timeout = -2), "`timeout`")
  expect_error(poll.poller(poller, timeout = NA), "`timeout`")
  expect_error(poll.poller(poller, timeout = "1"), "`timeout`")
  expect_error(poll.poller(p$a), "`poller` must be a zmq poller, not a zmq socket")
  expect_error(poll.poller(NULL), "`poller` must be a zmq poller made by init.poller\\(\\)")
  expect_error(poll.poller(restored_from_rds(poller)), "`poller` is not a live zmq poller")
  expect_true(is.closed(restored_from_rds(poller)))
  expect_identical(poll.poller(poller), list(list(read = FALSE)))
})

test_that("a poller polls a socket a collected proxy gives back, at once after gc()", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  for (i in 1:20) {
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_PUSH")
    out <- init.socket(ctx, "ZMQ_PULL")
    ep <- inproc(paste0("poller-loan-", i))
    expect_true(bind.socket(out, ep))
    expect_true(connect.socket(back, ep))
    pl <- init.poller(list(front), "read")
    p <- init.proxy(front, back)
    rm(p)
    invisible(gc())
    # the proxy's thread may not be joined yet: the poller waits for the
    # socket to come back instead of calling it in use
    r <- poll.poller(pl, 0)
    expect_false(r[[1]]$read)
    for (s in list(front, back, out)) destroy.socket(s)
  }
})
