# Interrupts and signals during blocking calls. Each case runs in a child R
# process (callr) that the test signals (SIGINT through processx, SIGCHLD with
# tools::pskill) while the child waits in receive, poll, send or
# destroy.context; a control socket tells the test when the child is about to
# block, and every wait has a deadline, so a regression fails instead of
# hanging. The cases depend on when the signal lands and assert how long the
# waits took, so they are skipped on CRAN.

test_that("SIGINT interrupts a blocking receive, poll and send; the sockets still work", {
  skip_on_cran()
  ctl <- control_socket()
  sink <- init.socket(ctl$ctx, "ZMQ_PULL")
  sink_endpoint <- bind_tcp(sink)
  ctl <- child_with_control(function(s, ctx, dead, sink) {
    t0 <- proc.time()[["elapsed"]]
    first <- tryCatch({
      send.socket(s, "about to block")
      receive.socket(s) # no timeout: only the interrupt ends this
    }, interrupt = function(e) "interrupted")
    blocked <- proc.time()[["elapsed"]] - t0
    send.socket(s, first)

    set.rcv.timeout(s, 10000L)
    echo <- receive.socket(s)
    send.socket(s, paste("echo:", echo))

    second <- tryCatch({
      send.socket(s, "about to poll")
      poll.socket(list(s), list("read"), timeout = -1)
    }, interrupt = function(e) "interrupted")
    send.socket(s, second)
    parts <- receive.multipart(s)
    send.multipart(s, parts)

    # a send waiting at the high-water mark, for a peer that never comes
    push <- init.socket(ctx, "ZMQ_PUSH")
    set.linger(push, 0L)
    set.hwm(push, 1L)
    connect.socket(push, dead)
    set.send.timeout(push, 0L)
    n <- 0L
    while (n < 10000L && isTRUE(send.socket(push, n))) n <- n + 1L
    set.send.timeout(push, -1L)
    third <- tryCatch({
      send.socket(s, "about to send")
      send.socket(push, "no room") # waits for room forever
      "sent"
    }, interrupt = function(e) "interrupted")
    send.socket(s, list(third, n))
    # the PUSH still works: given a live peer, it delivers there
    connect.socket(push, sink)
    set.send.timeout(push, 10000L)
    send.socket(s, send.socket(push, "after the interrupt"))
    receive.socket(s) # until it has arrived: linger 0 would drop it
    list(blocked = blocked)
  }, args = list(dead = dead_endpoint(), sink = sink_endpoint), ctl = ctl)
  s <- ctl$socket
  proc <- ctl$proc

  expect_identical(interrupt_when_blocked(ctl, "about to block"), "interrupted")
  expect_true(send.socket(s, "ping"))
  expect_identical(recv_within(s, 10, proc), "echo: ping")

  expect_identical(interrupt_when_blocked(ctl, "about to poll"), "interrupted")
  parts <- list(charToRaw("a"), raw(0), as.raw(0:255))
  expect_true(send.multipart(s, parts))
  expect_true(readable(s, 10))
  expect_identical(receive.multipart(s), parts)

  third <- interrupt_when_blocked(ctl, "about to send")
  expect_identical(third[[1]], "interrupted")
  expect_gte(third[[2]], 1L)   # the PUSH took some messages ...
  expect_lt(third[[2]], 10000L) # ... and then was full
  expect_true(recv_within(s, 10, proc))
  expect_identical(recv_within(sink, 10, proc), "after the interrupt")
  send.socket(s, "done")

  child_wait(proc, 10)
  expect_gt(proc$get_result()$blocked, 0.14) # it was seen asleep for 0.15 s
})

test_that("SIGCHLD during a timed receive, poll or send neither ends nor extends the wait", {
  skip_on_cran()
  skip_if_not(file.exists("/proc/self/status"), "needs /proc/self/status")
  ctl <- control_socket()
  proc <- child_r(function(endpoint, dead) {
    library(rzmq)
    # Run a subprocess: processx installs a SIGCHLD handler, as in any R
    # session that runs children, so the signals below interrupt poll().
    callr::process$new(Sys.which("true"))$wait(5000)
    sigcgt <- sub("^SigCgt:\\s*", "",
                  grep("^SigCgt:", readLines("/proc/self/status"), value = TRUE))
    handled <- bitwAnd(strtoi(substring(sigcgt, nchar(sigcgt) - 4L), 16L),
                       bitwShiftL(1L, 17L - 1L)) != 0L

    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PAIR")
    set.send.timeout(s, 10000L)
    connect.socket(s, endpoint)

    # Tell the parent, then time `expr` (evaluated lazily, here) and report.
    timed <- function(label, expr) {
      send.socket(s, list(msg = label, handled = handled))
      t0 <- proc.time()[["elapsed"]]
      value <- expr
      elapsed <- proc.time()[["elapsed"]] - t0
      send.socket(s, list(value = value, elapsed = elapsed,
                          errno = zmq.errno()))
    }

    set.rcv.timeout(s, 1500L)
    timed("receive", receive.socket(s))
    timed("receive again", receive.socket(s))
    set.rcv.timeout(s, 10000L)
    timed("poll", poll.socket(list(s), list("read"), timeout = 1.5))

    # a PUSH at its high-water mark: queued for a peer that never comes
    push <- init.socket(ctx, "ZMQ_PUSH")
    set.linger(push, 0L)
    set.hwm(push, 1L)
    connect.socket(push, dead)
    set.send.timeout(push, 0L)
    n <- 0L
    while (n < 10000L && isTRUE(send.socket(push, n))) n <- n + 1L
    set.send.timeout(push, 1500L)
    timed("send", send.socket(push, "no room"))
    n
  }, args = list(endpoint = ctl$endpoint, dead = dead_endpoint()))
  s <- ctl$socket
  pid <- proc$get_pid()

  # Signal the child during the first 0.8 s of its 1.5 s wait; it must not
  # answer early, and must answer after the whole wait, not a fresh one.
  signal_during <- function(label) {
    hello <- recv_within(s, 20, proc)
    expect_identical(hello$msg, label)
    expect_true(hello$handled) # otherwise the signals prove nothing
    for (i in 1:4) {
      expect_true(tools::pskill(pid, tools::SIGCHLD))
      expect_false(readable(s, 0.2), label = paste(label, "answered early"))
    }
    report <- recv_within(s, 10, proc)
    expect_gte(report$elapsed, 1.45)
    expect_lt(report$elapsed, 2)
    report
  }

  report <- signal_during("receive")
  expect_null(report$value)
  expect_identical(report$errno, 11L)

  # a message that arrives after a signal is received
  hello <- recv_within(s, 10, proc)
  expect_identical(hello$msg, "receive again")
  expect_true(tools::pskill(pid, tools::SIGCHLD))
  expect_false(readable(s, 0.15))
  expect_true(tools::pskill(pid, tools::SIGCHLD))
  expect_true(send.socket(s, "late but in time"))
  report <- recv_within(s, 10, proc)
  expect_identical(report$value, "late but in time")
  expect_lt(report$elapsed, 1.5)

  report <- signal_during("poll")
  expect_identical(report$value, list(list(read = FALSE)))

  report <- signal_during("send")
  expect_false(report$value)
  expect_identical(report$errno, 11L)

  child_wait(proc, 10)
  n <- proc$get_result()
  expect_gte(n, 1L)   # the PUSH took some messages ...
  expect_lt(n, 10000L) # ... and then was full
})

test_that("SIGINT interrupts destroy.context waiting for undeliverable messages", {
  skip_on_cran()
  ctl <- child_with_control(function(control, control_ctx, dead) {
    options(rzmq.exit.timeout = 0.5) # the queued messages never leave
    ctx <- init.context()
    push <- init.socket(ctx, "ZMQ_PUSH") # default linger: wait forever
    connect.socket(push, dead)
    for (i in 1:10) send.socket(push, i)
    t0 <- proc.time()[["elapsed"]]
    res <- tryCatch({
      send.socket(control, "about to destroy")
      destroy.context(ctx)
      "returned"
    }, interrupt = function(e) "interrupted")
    elapsed <- proc.time()[["elapsed"]] - t0
    send.socket(control, res)
    list(elapsed = elapsed,
         again = destroy.context(ctx),
         socket = tryCatch(init.socket(ctx, "ZMQ_PAIR"),
                           error = conditionMessage))
  }, args = list(dead = dead_endpoint()))
  proc <- ctl$proc

  # in destroy.context()'s wait
  expect_identical(interrupt_when_blocked(ctl, "about to destroy"), "interrupted")
  child_wait(proc, 10)
  res <- proc$get_result()
  expect_gt(res$elapsed, 0.14) # it was seen asleep for 0.15 s
  expect_true(res$again)
  expect_match(res$socket, "destroyed")
})

test_that("an interrupt handler that closes the socket and resumes gets NULL, not a crash", {
  skip_on_cran()
  ctl <- child_with_control(function(ctl, ctx) {
    s <- init.socket(ctx, "ZMQ_PULL")
    bind.socket(s, "inproc://resume")
    send.socket(ctl, "about to block")
    res <- withCallingHandlers(
      suppressMessages(receive.socket(s)), # nothing is ever sent
      interrupt = function(cond) {
        destroy.socket(s)
        invokeRestart("resume")
      })
    list(res = res, errno = zmq.errno())
  })
  proc <- ctl$proc
  expect_identical(recv_within(ctl$socket, 20, proc), "about to block")
  wait_blocked(proc) # in the receive
  proc$interrupt()
  child_wait(proc, 30)
  expect_identical(proc$get_result(), list(res = NULL, errno = 88L))
})
