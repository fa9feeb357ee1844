# Lifetime, exit and fork: contexts and sockets that become garbage, scripts
# that end with messages queued, the package unloaded before exit, handles
# used in forked children (every socket-taking function, through the table
# in helper-exports.R), destroy.context() with undeliverable messages. Cases
# that could hang or crash run in a child R process with a deadline (the
# failures guarded against are hangs in gc, exit and context termination, and
# crashes in forks); those that assert how long gc, exit or destroy took are
# skipped on CRAN. Interrupts and signals are in test-interrupt.R.

test_that("an unreachable context keeps working; dropping everything never blocks gc()", {
  skip_on_cran()
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
  skip_on_cran()
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

test_that("handles used in a forked child are R errors there and stay usable here", {
  skip_on_os("windows")
  p <- socket_pair()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  job <- parallel::mcparallel({
    socket_msgs <- vapply(names(tab), function(f) error_of_call(f, c(list(socket = p$a), tab[[f]])), "")
    ctx_msgs <- c(
      init.socket = tryCatch({init.socket(p$ctx, "ZMQ_PAIR"); NA_character_}, error = conditionMessage),
      destroy.context = tryCatch({destroy.context(p$ctx); NA_character_}, error = conditionMessage),
      poll.socket = tryCatch({poll.socket(list(p$a), list("read")); NA_character_}, error = conditionMessage),
      send.message.object = tryCatch({send.message.object(p$b, msg); NA_character_}, error = conditionMessage)
    )
    list(socket = socket_msgs, ctx = ctx_msgs)
  }, silent = TRUE)
  res <- parallel::mccollect(job, wait = FALSE, timeout = 30)
  if (is.null(res)) {
    tools::pskill(job$pid)
    parallel::mccollect(job, wait = FALSE)
    fail("forked child did not finish within 30 s")
  } else {
    res <- res[[1]]
    expect_type(res, "list")
    for (f in names(tab)) {
      expect_match(res$socket[[f]], "`socket` was created in another process", fixed = TRUE,
                   label = sprintf("%s(<parent's socket>) in a fork", f))
    }
    expect_match(res$ctx[["init.socket"]], "`context` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["destroy.context"]], "`context` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["poll.socket"]], "`sockets[[1]]` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["send.message.object"]], "created in another process", fixed = TRUE)
  }
  # the child neither closed nor used the parent's handles
  expect_true(send.socket(p$b, "still mine"))
  expect_true(readable(p$a))
  expect_identical(receive.socket(p$a), "still mine")
  expect_true(send.message.object(p$b, msg))
  expect_identical(receive.socket(p$a), "m")
})

test_that("destroy.context(linger = 0) with queued messages returns promptly", {
  skip_on_cran()
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

