# Lifetime, exit, signals and fork. Each case runs in a child R process with
# a deadline, because the failures these tests guard against are hangs (gc,
# exit, context termination) and crashes (fork, signals).

# What a child wrote to stderr so far, to explain a failure.
child_stderr <- function(proc) {
  err <- tryCatch(
    if (proc$is_alive()) proc$read_error() else proc$read_all_error(),
    error = function(e) ""
  )
  if (nzchar(err)) paste0("; child stderr:\n", err) else ""
}

# Receive one message, failing (not hanging) if none comes within `timeout`
# seconds.
recv_within <- function(socket, timeout = 10, proc = NULL) {
  if (!readable(socket, timeout)) {
    stop(sprintf("nothing received within %g s%s", timeout,
                 if (is.null(proc)) "" else child_stderr(proc)), call. = FALSE)
  }
  receive.socket(socket)
}

# A loopback endpoint nobody listens on: bind a free port, then let it go.
dead_endpoint <- function() {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  endpoint <- bind_tcp(s)
  destroy.context(ctx, linger = 0)
  endpoint
}

# A PAIR socket bound here for talking to one child.
control_socket <- function() {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  set.send.timeout(s, 10000L)
  list(ctx = ctx, socket = s, endpoint = bind_tcp(s))
}

script_path <- function(name) {
  normalizePath(test_path("scripts", name), mustWork = TRUE)
}

# Run an R script file in Rscript; R_TESTS (set by R CMD check, a path
# relative to tests/) must not reach the child's startup.
rscript_bg <- function(name, ...) {
  callr::process$new(rscript(), c(script_path(name), ...),
                     stdout = "|", stderr = "|",
                     env = c("current", R_TESTS = ""))
}

test_that("an unreachable context keeps working; dropping everything never blocks gc()", {
  proc <- child_r(function(dead) {
    library(rzmq)
    ctx_finalized <- FALSE
    push_finalized <- FALSE
    make_pair <- function() {
      ctx <- init.context()
      reg.finalizer(ctx, function(x) ctx_finalized <<- TRUE)
      a <- init.socket(ctx, "ZMQ_PAIR")
      b <- init.socket(ctx, "ZMQ_PAIR")
      bind.socket(a, "tcp://127.0.0.1:*")
      connect.socket(b, get.last.endpoint(a))
      list(a = a, b = b) # the context is unreachable from here on
    }
    p <- make_pair()
    invisible(gc())
    invisible(gc())
    after_gc <- ctx_finalized
    set.rcv.timeout(p$a, 5000L)
    set.rcv.timeout(p$b, 5000L)
    sent <- c(send.socket(p$b, "after gc"), send.socket(p$a, 1:3))
    got <- list(receive.socket(p$a), receive.socket(p$b))

    # a PUSH on another unreachable context, with messages queued for a
    # peer that never comes (libzmq's default linger waits forever)
    push <- init.socket(init.context(), "ZMQ_PUSH")
    reg.finalizer(push, function(x) push_finalized <<- TRUE)
    connect.socket(push, dead)
    queued <- vapply(1:50, function(i) isTRUE(send.socket(push, runif(100))),
                     logical(1))

    t0 <- proc.time()[["elapsed"]]
    rm(p, push)
    invisible(gc())
    invisible(gc())
    elapsed <- proc.time()[["elapsed"]] - t0

    options(rzmq.exit.timeout = 1) # the queued messages never leave
    list(after_gc = after_gc, sent = sent, got = got, queued = queued,
         elapsed = elapsed, ctx_finalized = ctx_finalized,
         push_finalized = push_finalized)
  }, args = list(dead = dead_endpoint()))
  child_wait(proc, 15)
  res <- proc$get_result()

  # a socket keeps its context alive ...
  expect_false(res$after_gc)
  # ... and working
  expect_identical(res$sent, c(TRUE, TRUE))
  expect_identical(res$got, list("after gc", 1:3))
  expect_identical(res$queued, rep(TRUE, 50))
  # everything was collected, promptly
  expect_true(res$ctx_finalized)
  expect_true(res$push_finalized)
  expect_lt(res$elapsed, 1)
})

test_that("a script that ends with messages queued for an absent peer exits within 5 s", {
  t0 <- Sys.time()
  proc <- rscript_bg("exit-queued.R", dead_endpoint())
  child_wait(proc, 20)
  elapsed <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  err <- proc$read_all_error()
  expect_identical(proc$get_exit_status(), 0L, info = err)
  expect_identical(proc$read_all_output(), "queued\n")
  expect_lt(elapsed, 5)
})

test_that("a script that sends 2000 messages and ends at once delivers them all, in order", {
  ctx <- init.context()
  pull <- init.socket(ctx, "ZMQ_PULL")
  endpoint <- bind_tcp(pull)
  proc <- rscript_bg("exit-deliver.R", endpoint)
  payload <- as.raw(rep_len(0:255, 10000))
  ids <- integer(0)
  intact <- 0L
  while (length(ids) < 2000L && readable(pull, 15)) {
    msg <- receive.socket(pull)
    ids <- c(ids, msg$i)
    intact <- intact + identical(msg$payload, payload)
  }
  child_wait(proc, 20)
  err <- proc$read_all_error()
  expect_identical(proc$get_exit_status(), 0L, info = err)
  expect_identical(proc$read_all_output(), "sent\n")
  expect_identical(ids, 1:2000)
  expect_identical(intact, 2000L)
  expect_false(readable(pull, 0.1))
})

test_that("SIGINT interrupts a blocking receive, poll and send; the sockets still work", {
  ctl <- control_socket()
  sink <- init.socket(ctl$ctx, "ZMQ_PULL")
  sink_endpoint <- bind_tcp(sink)
  proc <- child_r(function(endpoint, dead, sink) {
    library(rzmq)
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PAIR")
    set.send.timeout(s, 10000L)
    connect.socket(s, endpoint)
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
  }, args = list(endpoint = ctl$endpoint, dead = dead_endpoint(),
                 sink = sink_endpoint))
  s <- ctl$socket

  expect_identical(recv_within(s, 20, proc), "about to block")
  # Let the child get into the wait; the result is the same if it has not.
  Sys.sleep(0.3)
  proc$interrupt()
  expect_identical(recv_within(s, 10, proc), "interrupted")
  expect_true(send.socket(s, "ping"))
  expect_identical(recv_within(s, 10, proc), "echo: ping")

  expect_identical(recv_within(s, 10, proc), "about to poll")
  Sys.sleep(0.3)
  proc$interrupt()
  expect_identical(recv_within(s, 10, proc), "interrupted")
  parts <- list(charToRaw("a"), raw(0), as.raw(0:255))
  expect_true(send.multipart(s, parts))
  expect_true(readable(s, 10))
  expect_identical(receive.multipart(s), parts)

  expect_identical(recv_within(s, 10, proc), "about to send")
  Sys.sleep(0.3)
  proc$interrupt()
  third <- recv_within(s, 10, proc)
  expect_identical(third[[1]], "interrupted")
  expect_gte(third[[2]], 1L)   # the PUSH took some messages ...
  expect_lt(third[[2]], 10000L) # ... and then was full
  expect_true(recv_within(s, 10, proc))
  expect_identical(recv_within(sink, 10, proc), "after the interrupt")
  send.socket(s, "done")

  child_wait(proc, 10)
  expect_gt(proc$get_result()$blocked, 0.25)
})

test_that("SIGCHLD during a timed receive, poll or send neither ends nor extends the wait", {
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

test_that("forked children (mcparallel) do not disturb the parent's sockets", {
  skip_on_os("windows")
  proc <- child_r(function() {
    library(rzmq)
    library(parallel)
    box <- new.env()
    local({
      ctx <- init.context()
      a <- init.socket(ctx, "ZMQ_PAIR")
      b <- init.socket(ctx, "ZMQ_PAIR")
      bind.socket(a, "tcp://127.0.0.1:*")
      connect.socket(b, get.last.endpoint(a))
      set.rcv.timeout(a, 5000L)
      set.rcv.timeout(b, 5000L)
      box$ctx <- ctx
      box$a <- a
      box$b <- b
    })
    send.socket(box$b, "sent before the forks")
    msg_obj <- init.message(list(common = 1:10))

    jobs <- list(
      nothing = mcparallel(1 + 1),
      gc = mcparallel({
        invisible(gc())
        Sys.getpid()
      }),
      drop = mcparallel({
        # the parent's handles become garbage here: their finalizers run
        # in the child and must leave the parent's sockets alone
        finalized <- 0L
        for (h in c(mget(ls(box), box), list(msg_obj))) {
          reg.finalizer(h, function(x) finalized <<- finalized + 1L)
        }
        rm(h)
        rm(list = ls(box), envir = box)
        rm(msg_obj)
        invisible(gc())
        invisible(gc())
        finalized
      }),
      use = mcparallel(list(
        send = tryCatch(send.socket(box$b, "from the fork"),
                        error = conditionMessage),
        receive = tryCatch(receive.socket(box$a), error = conditionMessage),
        socket = tryCatch(init.socket(box$ctx, "ZMQ_PAIR"),
                          error = conditionMessage),
        message = tryCatch(send.message.object(box$b, msg_obj),
                           error = conditionMessage),
        close = tryCatch(destroy.socket(box$a), error = conditionMessage),
        destroy = tryCatch(destroy.context(box$ctx),
                           error = conditionMessage)
      )),
      own = mcparallel({
        # a context of its own works in the child
        ctx <- init.context()
        x <- init.socket(ctx, "ZMQ_PAIR")
        y <- init.socket(ctx, "ZMQ_PAIR")
        bind.socket(x, "inproc://fork-own")
        connect.socket(y, "inproc://fork-own")
        set.rcv.timeout(x, 5000L)
        send.socket(y, "own")
        got <- receive.socket(x)
        rm(ctx, x, y)
        invisible(gc())
        got
      })
    )
    results <- mccollect(jobs, wait = TRUE)
    names(results) <- names(jobs)

    after <- list(
      queued = receive.socket(box$a),
      sent = send.socket(box$b, "after the forks"),
      received = receive.socket(box$a),
      back = send.socket(box$a, 1:3),
      back_received = receive.socket(box$b),
      message = send.message.object(box$b, msg_obj),
      message_received = receive.socket(box$a),
      stray = receive.socket(box$a, dont.wait = TRUE)
    )
    list(results = results, after = after, pid = Sys.getpid())
  })
  child_wait(proc, 30)
  res <- proc$get_result()

  r <- res$results
  expect_identical(r$nothing, 2)
  expect_true(is.numeric(r$gc) && r$gc != res$pid)
  expect_identical(r$drop, 4L) # context, two sockets, message: all collected
  expect_identical(r$own, "own")
  for (what in c("send", "receive", "socket", "message", "close", "destroy")) {
    expect_type(r$use[[what]], "character")
    expect_match(r$use[[what]], "another process", info = what)
  }

  a <- res$after
  expect_identical(a$queued, "sent before the forks")
  expect_true(a$sent)
  expect_identical(a$received, "after the forks")
  expect_true(a$back)
  expect_identical(a$back_received, 1:3)
  expect_true(a$message)
  expect_identical(a$message_received, list(common = 1:10))
  expect_null(a$stray) # nothing from the forks got through
})

test_that("destroy.context(linger = 0) with queued messages returns promptly", {
  proc <- child_r(function(dead) {
    library(rzmq)
    queue_for_nobody <- function(ctx) {
      push <- init.socket(ctx, "ZMQ_PUSH")
      connect.socket(push, dead)
      for (i in 1:100) send.socket(push, runif(100))
      push
    }
    time <- function(expr) {
      t0 <- proc.time()[["elapsed"]]
      force(expr)
      proc.time()[["elapsed"]] - t0
    }

    ctx <- init.context()
    push <- queue_for_nobody(ctx)
    e1 <- time(destroy.context(ctx, linger = 0))
    closed <- tryCatch(send.socket(push, 1), error = conditionMessage)
    again <- destroy.context(ctx)

    # linger 0 set on the socket itself
    ctx2 <- init.context()
    push2 <- queue_for_nobody(ctx2)
    set.linger(push2, 0L)
    e2 <- time(destroy.context(ctx2))

    list(e1 = e1, e2 = e2, closed = closed, again = again)
  }, args = list(dead = dead_endpoint()))
  child_wait(proc, 15)
  res <- proc$get_result()
  expect_lt(res$e1, 1)
  expect_lt(res$e2, 1)
  expect_match(res$closed, "closed")
  expect_true(res$again)
})

test_that("SIGINT interrupts destroy.context waiting for undeliverable messages", {
  ctl <- control_socket()
  proc <- child_r(function(endpoint, dead) {
    library(rzmq)
    options(rzmq.exit.timeout = 0.5) # the queued messages never leave
    control <- init.socket(init.context(), "ZMQ_PAIR")
    set.send.timeout(control, 10000L)
    connect.socket(control, endpoint)

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
  }, args = list(endpoint = ctl$endpoint, dead = dead_endpoint()))
  s <- ctl$socket

  expect_identical(recv_within(s, 20, proc), "about to destroy")
  Sys.sleep(0.3) # let it get into the wait; the result is the same if not
  proc$interrupt()
  expect_identical(recv_within(s, 10, proc), "interrupted")
  child_wait(proc, 10)
  res <- proc$get_result()
  expect_gt(res$elapsed, 0.25)
  expect_true(res$again)
  expect_match(res$socket, "destroyed")
})

test_that("R exits cleanly after the package is unloaded, as pkgload::unload() does", {
  # pkgload::unload() (and so devtools::load_all() run again) unloads the
  # namespace and then the shared library; R must still gc and exit.
  proc <- rscript_bg("unload.R")
  child_wait(proc, 20)
  out <- proc$read_all_output()
  err <- proc$read_all_error()
  expect_identical(out, "unloaded\ngc done\n")
  expect_identical(proc$get_exit_status(), 0L, info = err)
})

test_that("an interrupt handler that closes the socket and resumes gets NULL, not a crash", {
  ctl <- control_socket()
  proc <- child_r(function(endpoint) {
    library(rzmq)
    ctx <- init.context()
    ctl <- init.socket(ctx, "ZMQ_PAIR")
    connect.socket(ctl, endpoint)
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
  }, args = list(endpoint = ctl$endpoint))
  expect_identical(recv_within(ctl$socket, 20, proc), "about to block")
  Sys.sleep(0.3) # let it get into the wait; a signal just before is resumed too
  proc$interrupt()
  child_wait(proc, 30)
  expect_identical(proc$get_result(), list(res = NULL, errno = 88L))
})
