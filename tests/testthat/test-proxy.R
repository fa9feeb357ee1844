# The proxy: zmq.proxy() as a ROUTER/DEALER broker between processes and
# stopped by SIGINT; init.proxy() with capture, pause/resume and statistics;
# sockets lent to a running proxy; gc, destroy.context and exit with a
# proxy still running. What could hang runs in a child R process with a
# deadline.

# A PULL -> proxy -> PUSH line on inproc: `sender` pushes into `front`,
# `receiver` pulls from `back`.
proxy_line <- function(ctx = init.context()) {
  front <- init.socket(ctx, "ZMQ_PULL")
  back <- init.socket(ctx, "ZMQ_PUSH")
  sender <- init.socket(ctx, "ZMQ_PUSH")
  receiver <- init.socket(ctx, "ZMQ_PULL")
  a <- inproc("proxy-in")
  b <- inproc("proxy-out")
  stopifnot(isTRUE(bind.socket(front, a)), isTRUE(bind.socket(back, b)),
            isTRUE(connect.socket(sender, a)), isTRUE(connect.socket(receiver, b)))
  list(ctx = ctx, front = front, back = back, sender = sender,
       receiver = receiver)
}

test_that("zmq.proxy brokers 1,000 requests from an R client to two R workers in other processes", {
  skip_on_cran()
  ctl <- child_with_control(function(s, ctx) {
    front <- init.socket(ctx, "ZMQ_ROUTER")
    back <- init.socket(ctx, "ZMQ_DEALER")
    bind.socket(front, "tcp://127.0.0.1:*")
    bind.socket(back, "tcp://127.0.0.1:*")
    send.socket(s, c(get.last.endpoint(front), get.last.endpoint(back)))
    tryCatch(zmq.proxy(front, back), interrupt = function(e) "interrupted")
  })
  broker <- ctl$proc
  eps <- recv_within(ctl$socket, 20, broker)
  ready <- init.socket(ctl$ctx, "ZMQ_PULL")
  ready_ep <- bind_tcp(ready)
  worker <- function(backend, ready) {
    library(rzmq)
    ctx <- init.context()
    rep <- init.socket(ctx, "ZMQ_REP")
    connect.socket(rep, backend)
    r <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(r, ready)
    send.socket(r, Sys.getpid())
    served <- 0L
    # until no request comes for 5 s
    while (isTRUE(poll.socket(list(rep), list("read"), timeout = 5)[[1]]$read)) {
      req <- receive.socket(rep)
      send.socket(rep, list(req, Sys.getpid()))
      served <- served + 1L
    }
    served
  }
  workers <- lapply(1:2, function(i) {
    child_r(worker, args = list(backend = eps[2], ready = ready_ep))
  })
  pids <- c(recv_within(ready, 20, workers[[1]]), recv_within(ready, 20, workers[[2]]))
  expect_setequal(pids, c(workers[[1]]$get_pid(), workers[[2]]$get_pid()))

  client <- init.socket(ctl$ctx, "ZMQ_REQ")
  expect_true(connect.socket(client, eps[1]))
  replies <- vector("list", 1000)
  for (i in 1:1000) {
    expect_true(send.socket(client, i))
    replies[[i]] <- recv_within(client, 10, broker)
  }
  expect_identical(vapply(replies, `[[`, integer(1), 1), 1:1000)
  by_pid <- table(vapply(replies, `[[`, integer(1), 2))
  expect_setequal(names(by_pid), as.character(pids))

  broker$interrupt()
  child_wait(broker, 10)
  expect_identical(broker$get_result(), "interrupted")
  served <- vapply(workers, function(w) child_wait(w, 20)$get_result(), integer(1))
  expect_identical(sum(served), 1000L)
  expect_true(all(served > 0L))
})

test_that("SIGINT stops a blocking zmq.proxy within 0.3 s; its sockets work afterwards", {
  skip_on_cran()
  ctl <- child_with_control(function(s, ctx) {
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_PUSH")
    bind.socket(front, "tcp://127.0.0.1:*")
    bind.socket(back, "tcp://127.0.0.1:*")
    send.socket(s, c(get.last.endpoint(front), get.last.endpoint(back)))
    t0 <- proc.time()[["elapsed"]]
    out <- tryCatch({
      zmq.proxy(front, back)
      "returned"
    }, interrupt = function(e) "interrupted")
    blocked <- proc.time()[["elapsed"]] - t0
    send.socket(s, out)
    # the sockets are R's again
    set.rcv.timeout(front, 10000L)
    set.send.timeout(back, 10000L)
    got <- receive.socket(front)
    sent <- send.socket(back, paste("direct:", got))
    send.socket(s, sent)
    receive.socket(s)
    blocked
  })
  s <- ctl$socket
  proc <- ctl$proc
  eps <- recv_within(s, 20, proc)
  push <- init.socket(ctl$ctx, "ZMQ_PUSH")
  pull <- init.socket(ctl$ctx, "ZMQ_PULL")
  set.send.timeout(push, 10000L)
  expect_true(connect.socket(push, eps[1]))
  expect_true(connect.socket(pull, eps[2]))
  # the proxy forwards, so it is running and blocking the child
  expect_true(send.socket(push, "through"))
  expect_identical(recv_within(pull, 10, proc), "through")
  wait_blocked(proc) # back in zmq.proxy()'s wait
  t0 <- proc.time()[["elapsed"]]
  proc$interrupt()
  expect_identical(recv_within(s, 10, proc), "interrupted")
  expect_lt(proc.time()[["elapsed"]] - t0, 0.3)
  expect_true(send.socket(push, "after"))
  expect_true(recv_within(s, 10, proc))
  expect_identical(recv_within(pull, 10, proc), "direct: after")
  send.socket(s, "done")
  child_wait(proc, 10)
  expect_gt(proc$get_result(), 0.14) # it was seen asleep for 0.15 s
})

test_that("a storm of SIGINTs: each stops zmq.proxy, and the next one on the same sockets forwards again", {
  skip_on_cran()
  ctl <- child_with_control(function(s, ctx, rounds) {
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_PUSH")
    bind.socket(front, "tcp://127.0.0.1:*")
    bind.socket(back, "tcp://127.0.0.1:*")
    send.socket(s, c(get.last.endpoint(front), get.last.endpoint(back)))
    caught <- 0L
    for (k in seq_len(rounds)) {
      caught <- caught + tryCatch({
        zmq.proxy(front, back)
        0L
      }, interrupt = function(e) 1L)
      send.socket(s, k)
    }
    caught
  }, args = list(rounds = 20L))
  s <- ctl$socket
  proc <- ctl$proc
  eps <- recv_within(s, 20, proc)
  push <- init.socket(ctl$ctx, "ZMQ_PUSH")
  pull <- init.socket(ctl$ctx, "ZMQ_PULL")
  set.send.timeout(push, 10000L)
  connect.socket(push, eps[1])
  connect.socket(pull, eps[2])
  for (k in 1:20) {
    # forwarded: the child is inside zmq.proxy
    expect_true(send.socket(push, k))
    expect_identical(recv_within(pull, 10, proc), k)
    proc$interrupt()
    expect_identical(recv_within(s, 10, proc), k)
  }
  child_wait(proc, 10)
  expect_identical(proc$get_result(), 20L)
})

test_that("init.proxy with capture: the capture socket sees every frame", {
  l <- proxy_line()
  cap <- init.socket(l$ctx, "ZMQ_PUSH")
  tap <- init.socket(l$ctx, "ZMQ_PULL")
  ep <- inproc("proxy-capture")
  expect_true(bind.socket(cap, ep))
  expect_true(connect.socket(tap, ep))
  p <- init.proxy(l$front, l$back, cap)
  expect_identical(typeof(p), "externalptr")
  sent <- lapply(1:50, function(i) list(charToRaw(paste0("head", i)), raw(0), as.raw(seq_len(i) %% 256)))
  for (parts in sent) expect_true(send.multipart(l$sender, parts))
  for (parts in sent) {
    expect_true(readable(l$receiver, 10))
    expect_identical(receive.multipart(l$receiver), parts)
    expect_true(readable(tap, 10))
    expect_identical(receive.multipart(tap), parts)
  }
  expect_false(readable(tap, 0))
  st <- proxy.stats(p)
  # libzmq counts a multipart message once, and the bytes of all its frames
  expect_identical(st[["frontend.messages.in"]], 50)
  expect_identical(st[["frontend.bytes.in"]],
                   sum(vapply(sent, function(x) sum(lengths(x)), numeric(1))))
  expect_true(stop.proxy(p))
  destroy.context(l$ctx, linger = 0)
})

test_that("pause.proxy holds the traffic, resume.proxy lets it through with nothing lost", {
  l <- proxy_line()
  p <- init.proxy(l$front, l$back)
  expect_true(send.socket(l$sender, 0L))
  expect_identical(recv_within(l$receiver, 10), 0L)
  expect_identical(withVisible(pause.proxy(p)), list(value = TRUE, visible = FALSE))
  for (i in 1:100) expect_true(send.socket(l$sender, i))
  expect_false(readable(l$receiver, 0.3))
  expect_true(resume.proxy(p))
  got <- vapply(1:100, function(i) recv_within(l$receiver, 10), integer(1))
  expect_identical(got, 1:100)
  expect_false(readable(l$receiver, 0))
  # pausing twice, resuming a running proxy: harmless
  expect_true(pause.proxy(p))
  expect_true(pause.proxy(p))
  expect_true(resume.proxy(p))
  expect_true(resume.proxy(p))
  expect_true(send.socket(l$sender, 101L))
  expect_identical(recv_within(l$receiver, 10), 101L)
  stop.proxy(p)
  destroy.context(l$ctx, linger = 0)
})

test_that("proxy.stats counts the messages and bytes each way", {
  ctx <- init.context()
  f <- socket_pair(ctx = ctx)
  b <- socket_pair(ctx = ctx)
  p <- init.proxy(f$a, b$a)
  st <- proxy.stats(p)
  expect_type(st, "double")
  expect_named(st, c("frontend.messages.in", "frontend.bytes.in",
                     "frontend.messages.out", "frontend.bytes.out",
                     "backend.messages.in", "backend.bytes.in",
                     "backend.messages.out", "backend.bytes.out",
                     "capture.dropped"))
  expect_true(all(st == 0))
  up <- strrep("u", 1:30)   # 30 messages, 465 bytes, frontend -> backend
  down <- strrep("d", 1:12) # 12 messages, 78 bytes, backend -> frontend
  for (x in up) expect_true(send.raw.string(f$b, x))
  for (x in down) expect_true(send.raw.string(b$b, x))
  for (x in up) expect_identical(recv_within(b$b, 10, unserialize = FALSE), charToRaw(x))
  for (x in down) expect_identical(recv_within(f$b, 10, unserialize = FALSE), charToRaw(x))
  st <- proxy.stats(p)
  expect_identical(unname(st), c(30, 465, 12, 78, 12, 78, 30, 465, 0))
  stop.proxy(p)
  destroy.context(ctx, linger = 0)
})

test_that("a background proxy survives children killed while it runs (signals go to R's thread)", {
  # processx blocks SIGCHLD on R's thread while it kills a child, so the
  # kernel hands the SIGCHLD to another thread; on the proxy's it ended
  # libzmq's proxy with EINTR (about 3 kills in 4). Five kills in a row.
  line <- proxy_line()
  p <- init.proxy(line$front, line$back)
  for (i in 1:5) {
    kid <- child_r(function() Sys.sleep(30))
    kid$kill()
    child_wait(kid, 10)
    expect_false(kid$is_alive())
    expect_type(proxy.stats(p), "double")   # an R error once the proxy ended
    expect_true(send.socket(line$sender, i))
    expect_identical(recv_within(line$receiver, 10), i)
  }
  expect_identical(proxy.stats(p)[["frontend.messages.in"]], 5)
  stop.proxy(p)
  destroy.context(line$ctx, linger = 0)
})

test_that("a socket lent to a running proxy is an R error naming the proxy until stop.proxy", {
  l <- proxy_line()
  spare <- init.socket(l$ctx, "ZMQ_PUSH")
  p <- init.proxy(l$front, l$back)
  busy <- "`socket` is in use by a running proxy: stop.proxy() it first"
  expect_error(send.socket(l$back, 1), busy, fixed = TRUE)
  expect_error(receive.socket(l$front, dont.wait = TRUE), busy, fixed = TRUE)
  expect_error(set.linger(l$front, 0L), busy, fixed = TRUE)
  expect_error(get.last.endpoint(l$back), busy, fixed = TRUE)
  expect_error(destroy.socket(l$front), busy, fixed = TRUE)
  expect_error(bind.socket(l$front, inproc()), busy, fixed = TRUE)
  expect_error(poll.socket(list(l$receiver, l$front), list("read", "read"), 0),
               "`sockets[[2]]` is in use by a running proxy", fixed = TRUE)
  expect_error(init.proxy(spare, l$back),
               "`backend` is in use by a running proxy", fixed = TRUE)
  expect_error(zmq.proxy(l$front, spare),
               "`frontend` is in use by a running proxy", fixed = TRUE)
  # a failed start lends nothing
  expect_true(set.linger(spare, 0L))
  expect_true(stop.proxy(p))
  expect_identical(withVisible(stop.proxy(p)), list(value = TRUE, visible = FALSE))
  expect_error(pause.proxy(p), "`p` has been stopped", fixed = TRUE)
  expect_error(proxy.stats(p), "`p` has been stopped", fixed = TRUE)
  # the sockets are R's again
  expect_true(send.socket(l$sender, "x"))
  expect_identical(recv_within(l$front, 10), "x")
  expect_true(send.socket(l$back, "y"))
  expect_identical(recv_within(l$receiver, 10), "y")
  # and can be lent again
  p2 <- init.proxy(l$front, l$back)
  expect_true(send.socket(l$sender, "z"))
  expect_identical(recv_within(l$receiver, 10), "z")
  stop.proxy(p2)
  destroy.context(l$ctx, linger = 0)
})

test_that("destroying the context or collecting the proxy stops it; the sockets come back", {
  l <- proxy_line()
  p <- init.proxy(l$front, l$back)
  expect_true(destroy.context(l$ctx, linger = 0))
  expect_error(proxy.stats(p), "`p` has been stopped", fixed = TRUE)
  expect_error(send.socket(l$back, 1), "`socket` has been closed", fixed = TRUE)
  expect_true(stop.proxy(p))

  l <- proxy_line()
  p <- init.proxy(l$front, l$back)
  rm(p)
  gc()
  expect_true(send.socket(l$sender, "after gc"))
  expect_identical(recv_within(l$front, 10), "after gc")
  destroy.context(l$ctx, linger = 0)
})

test_that("gc() and exit with a running background proxy neither hang nor crash", {
  skip_on_cran()
  proc <- child_r(function() {
    library(rzmq)
    line <- function() {
      ctx <- init.context()
      front <- init.socket(ctx, "ZMQ_PULL")
      back <- init.socket(ctx, "ZMQ_PUSH")
      bind.socket(front, "tcp://127.0.0.1:*")
      bind.socket(back, "tcp://127.0.0.1:*")
      sender <- init.socket(ctx, "ZMQ_PUSH")
      connect.socket(sender, get.last.endpoint(front))
      for (i in 1:100) send.socket(sender, i)
      list(ctx = ctx, p = init.proxy(front, back))
    }
    # the proxy, its sockets and their context, all garbage in one gc
    for (i in 1:5) {
      x <- line()
      rm(x)
      gc()
    }
    # one still running at exit, with messages queued for nobody
    assign("kept", line(), globalenv())
    "done"
  })
  child_wait(proc, 30)
  expect_identical(proc$get_result(), "done")
  expect_identical(proc$get_exit_status(), 0L)
})

test_that("a running proxy used in a forked child is an R error there and keeps running here", {
  skip_on_os("windows")
  # the fork is made in a callr child, so that nothing is left to the test
  # process's parallel package; the deadline covers a fork that hangs
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    front <- init.socket(ctx, "ZMQ_PULL"); back <- init.socket(ctx, "ZMQ_PUSH")
    sender <- init.socket(ctx, "ZMQ_PUSH"); receiver <- init.socket(ctx, "ZMQ_PULL")
    bind.socket(front, "inproc://in"); bind.socket(back, "inproc://out")
    connect.socket(sender, "inproc://in"); connect.socket(receiver, "inproc://out")
    set.rcv.timeout(receiver, 10000L)
    p <- init.proxy(front, back)
    job <- parallel::mcparallel({
      c(stats = tryCatch({proxy.stats(p); NA_character_}, error = conditionMessage),
        stop = tryCatch({stop.proxy(p); NA_character_}, error = conditionMessage),
        pause = tryCatch({pause.proxy(p); NA_character_}, error = conditionMessage),
        send = tryCatch({send.socket(back, 1); NA_character_}, error = conditionMessage),
        gc = {invisible(gc()); "gc"})
    }, silent = TRUE)
    res <- parallel::mccollect(job)[[1]]
    send.socket(sender, "still forwarding")
    list(fork = res, received = receive.socket(receiver),
         n = proxy.stats(p)[["frontend.messages.in"]], stopped = stop.proxy(p))
  })
  child_wait(proc, 30)
  r <- proc$get_result()
  for (f in c("stats", "stop", "pause")) {
    expect_match(r$fork[[f]], "`p` was created in another process", fixed = TRUE, label = f)
  }
  expect_match(r$fork[["send"]], "`socket` was created in another process", fixed = TRUE)
  expect_identical(r$fork[["gc"]], "gc")
  expect_identical(r$received, "still forwarding")
  expect_identical(r$n, 1)
  expect_true(r$stopped)
})

test_that("a capture socket no one reads never costs a message: its copies are dropped and counted", {
  l <- proxy_line()
  on.exit(destroy.context(l$ctx, linger = 0))
  # a capture whose reader never reads, with room for a few copies only
  cap <- init.socket(l$ctx, "ZMQ_PUSH")
  tap <- init.socket(l$ctx, "ZMQ_PULL")
  set.hwm(cap, 5L)
  set.hwm(tap, 5L)
  ep <- inproc("proxy-unread-capture")
  expect_true(bind.socket(cap, ep))
  expect_true(connect.socket(tap, ep))
  set.send.timeout(l$sender, 5000L)
  p <- init.proxy(l$front, l$back, cap)
  n <- 3000L
  got <- vector("list", n)
  # in batches, so the line never fills up while nobody reads the receiver
  for (start in seq(1L, n, by = 100L)) {
    idx <- start:(start + 99L)
    for (i in idx) {
      parts <- if (i %% 3L == 0L) list(charToRaw(paste0("m", i)), as.raw(i %% 256L))
               else list(charToRaw(paste0("m", i)))
      expect_true(send.multipart(l$sender, parts))
    }
    for (i in idx) {
      if (!readable(l$receiver, 5)) break
      got[[i]] <- receive.multipart(l$receiver)
    }
    if (is.null(got[[i]])) break # lost: no point waiting for the rest
  }
  want <- lapply(seq_len(n), function(i) {
    if (i %% 3L == 0L) list(charToRaw(paste0("m", i)), as.raw(i %% 256L))
    else list(charToRaw(paste0("m", i)))
  })
  # every message reached the backend, whole and in order
  expect_identical(sum(!vapply(got, is.null, NA)), n)
  expect_identical(got, want)
  st <- proxy.stats(p)
  expect_identical(names(st)[9], "capture.dropped")
  expect_identical(st[["frontend.messages.in"]], as.numeric(n))
  expect_identical(st[["backend.messages.out"]], as.numeric(n))
  expect_gt(st[["capture.dropped"]], 0)
  # the copies that were not dropped are whole messages, in order
  expect_true(stop.proxy(p))
  kept <- list()
  while (readable(tap, 0.2)) kept[[length(kept) + 1L]] <- receive.multipart(tap)
  expect_identical(length(kept) + st[["capture.dropped"]], as.numeric(n))
  expect_identical(kept, want[seq_along(kept)])
})

test_that("a capture socket with no peer at all: the proxy keeps forwarding, every copy dropped", {
  l <- proxy_line()
  on.exit(destroy.context(l$ctx, linger = 0))
  cap <- init.socket(l$ctx, "ZMQ_PUSH") # bound, never connected: no room ever
  expect_true(bind.socket(cap, inproc("proxy-no-capture-peer")))
  p <- init.proxy(l$front, l$back, cap)
  for (i in 1:50) {
    expect_true(send.socket(l$sender, i))
    expect_identical(recv_within(l$receiver, 5), i)
  }
  st <- proxy.stats(p) # an R error if the proxy had ended
  expect_identical(st[["capture.dropped"]], 50)
  expect_identical(st[["backend.messages.out"]], 50)
  expect_true(stop.proxy(p))
  # the capture socket's own send timeout was never touched
  expect_identical(get.send.timeout(cap), -1L)
})

test_that("a full destination never holds up the proxy's commands, and nothing is lost", {
  skip_on_cran()
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_PUSH")
    sender <- init.socket(ctx, "ZMQ_PUSH")
    receiver <- init.socket(ctx, "ZMQ_PULL")
    for (s in list(back, receiver)) set.hwm(s, 1L)
    bind.socket(front, "inproc://in"); bind.socket(back, "inproc://out")
    connect.socket(sender, "inproc://in"); connect.socket(receiver, "inproc://out")
    set.send.timeout(sender, 5000L)
    p <- init.proxy(front, back)
    # far more than the line between the proxy and the receiver holds
    sent <- all(vapply(1:200, function(i) send.multipart(sender, list(charToRaw("k"), as.raw(i))), NA))
    # while nothing is read, the proxy answers at once (libzmq's own proxy
    # waits in its send, deaf to commands)
    t0 <- proc.time()[["elapsed"]]
    st <- proxy.stats(p)
    paused <- pause.proxy(p)
    resumed <- resume.proxy(p)
    answered <- proc.time()[["elapsed"]] - t0
    got <- list()
    set.rcv.timeout(receiver, 5000L)
    for (i in 1:200) {
      m <- receive.multipart(receiver)
      if (is.null(m)) break
      got[[i]] <- m
    }
    list(sent = sent, st = st, paused = paused, resumed = resumed, answered = answered,
         got = got, after = proxy.stats(p), stopped = stop.proxy(p))
  })
  child_wait(proc, 60)
  r <- proc$get_result()
  expect_true(r$sent)
  expect_lt(r$answered, 2)
  expect_lt(r$st[["backend.messages.out"]], 200)
  expect_true(r$paused)
  expect_true(r$resumed)
  expect_identical(r$got, lapply(1:200, function(i) list(charToRaw("k"), as.raw(i))))
  expect_identical(r$after[["backend.messages.out"]], 200)
  expect_true(r$stopped)
})

test_that("a ROUTER_MANDATORY backend whose one peer is full: commands answered, no busy loop, nothing lost", {
  skip_on_cran()
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_ROUTER")
    set.sockopt(back, "ROUTER_MANDATORY", TRUE)
    set.hwm(back, 1L)
    bind.socket(front, "inproc://in"); bind.socket(back, "inproc://out")
    # two peers: "x" always has room (so the ROUTER says it can send), "w"
    # is full and read only at the end
    peers <- lapply(c("w", "x"), function(id) {
      s <- init.socket(ctx, "ZMQ_DEALER")
      set.identity(s, id); set.hwm(s, 1L)
      connect.socket(s, "inproc://out")
      send.socket(s, "hello")
      s
    })
    set.rcv.timeout(back, 5000L)
    hellos <- replicate(2, receive.multipart(back)[[1]], simplify = FALSE)
    sender <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(sender, "inproc://in")
    set.send.timeout(sender, 5000L)
    p <- init.proxy(front, back)
    sent <- all(vapply(1:50, function(i) send.multipart(sender, list(charToRaw("w"), as.raw(i))), NA))
    # the proxy waits for "w": it must neither spin nor stop answering
    t0 <- proc.time()
    Sys.sleep(1) # measuring the CPU the process uses while it waits
    used <- sum((proc.time() - t0)[c("user.self", "sys.self")])
    t1 <- proc.time()[["elapsed"]]
    st <- proxy.stats(p)
    answered <- proc.time()[["elapsed"]] - t1
    w <- peers[[1]]
    set.rcv.timeout(w, 5000L)
    got <- lapply(1:50, function(i) receive.socket(w, unserialize = FALSE))
    list(hellos = hellos, sent = sent, used = used, answered = answered,
         held = st[["backend.messages.out"]], got = got,
         after = proxy.stats(p), stopped = stop.proxy(p))
  })
  child_wait(proc, 60)
  r <- proc$get_result()
  expect_setequal(vapply(r$hellos, rawToChar, ""), c("w", "x"))
  expect_true(r$sent)
  expect_lt(r$used, 0.3)
  expect_lt(r$answered, 1)
  expect_lt(r$held, 50)
  expect_identical(r$got, lapply(1:50, as.raw))
  expect_identical(r$after[["backend.messages.out"]], 50)
  expect_true(r$stopped)
})

test_that("finalizers never wait for a proxy's thread (stuck capture, or waiting for room); the threads still end", {
  skip_if_not(dir.exists("/proc/self/task"), "counts threads in /proc/self/task")
  proc <- child_r(function() {
    library(rzmq)
    threads <- function() length(list.files("/proc/self/task"))
    back_to <- function(n, secs = 10) {
      deadline <- Sys.time() + secs
      while (threads() > n && Sys.time() < deadline) {
        invisible(gc())
        Sys.sleep(0.02) # polling a count: there is no event to wait for
      }
      threads()
    }
    timed_gc <- function() {
      t0 <- proc.time()[["elapsed"]]
      invisible(gc())
      proc.time()[["elapsed"]] - t0
    }
    base <- threads()

    # (a) a capture socket that takes nothing; everything dropped at once
    local({
      ctx <- init.context()
      front <- init.socket(ctx, "ZMQ_PULL")
      back <- init.socket(ctx, "ZMQ_PUSH")
      cap <- init.socket(ctx, "ZMQ_PUSH")
      sender <- init.socket(ctx, "ZMQ_PUSH")
      bind.socket(front, "inproc://fin-in")
      bind.socket(back, "inproc://fin-out")
      bind.socket(cap, "inproc://fin-cap") # no peer: no room, ever
      connect.socket(sender, "inproc://fin-in")
      for (s in list(front, back, cap, sender)) set.linger(s, 0L)
      p <- init.proxy(front, back, cap)
      for (i in 1:20) send.socket(sender, i)
      proxy.stats(p) # the proxy is running
    })
    gc_a <- timed_gc()
    left_a <- back_to(base)

    # (b) frontend = backend, sending back to a peer that never reads: the
    # proxy's thread waits for room that never comes
    keep <- new.env()
    keep$ctx <- init.context()
    keep$peer <- init.socket(keep$ctx, "ZMQ_DEALER")
    set.linger(keep$peer, 0L)
    set.hwm(keep$peer, 1L)
    set.send.timeout(keep$peer, 200L)
    base_b <- threads() # with the peer's context running
    stuck <- local({
      ctx <- init.context()
      d <- init.socket(ctx, "ZMQ_DEALER")
      set.linger(d, 0L)
      set.hwm(d, 1L)
      ep <- "tcp://127.0.0.1:*"
      bind.socket(d, ep)
      connect.socket(keep$peer, get.last.endpoint(d))
      p <- init.proxy(d, d)
      # once the proxy's send back blocks it reads no more: our sends stop
      # (large messages, so the kernel's buffers fill soon)
      payload <- as.raw(rep_len(1:255, 1e6))
      sent <- 0
      while (sent < 2000 && isTRUE(send.socket(keep$peer, payload, serialize = FALSE)))
        sent <- sent + 1
      sent < 2000
    })
    gc_b <- timed_gc()
    left_b <- back_to(base_b)
    destroy.context(keep$ctx, linger = 0)
    list(base = base, gc_a = gc_a, left_a = left_a, stuck = stuck,
         base_b = base_b, gc_b = gc_b, left_b = left_b, end = back_to(base))
  })
  child_wait(proc, 40)
  r <- proc$get_result()
  expect_lt(r$gc_a, 0.2)
  expect_identical(r$left_a, r$base)
  expect_true(r$stuck)
  expect_lt(r$gc_b, 0.2) # a finalizer that joined would never return
  expect_identical(r$left_b, r$base_b) # its thread ended
  expect_identical(r$end, r$base)
})

test_that("a proxy whose destination's peer goes away mid-message drops the rest of it and still stops at once", {
  # libzmq refuses a later frame only when the peer is gone; the proxy's
  # thread used to wait in that send for good, deaf to stop.proxy()
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    front <- init.socket(ctx, "ZMQ_PULL")
    sender <- init.socket(ctx, "ZMQ_PUSH")
    back <- init.socket(ctx, "ZMQ_PAIR")
    peer <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(front, "inproc://mid-in")
    connect.socket(sender, "inproc://mid-in")
    bind.socket(back, "inproc://mid-out")
    connect.socket(peer, "inproc://mid-out")
    set.rcv.timeout(peer, 5000L)
    send.socket(sender, charToRaw("one"), serialize = FALSE)
    # a message of 2e6 frames: the thread is still forwarding it when the
    # peer is gone
    big <- send.multipart(sender, rep(list(as.raw(1)), 2e6))
    p <- init.proxy(front, back)
    one <- identical(receive.socket(peer, unserialize = FALSE), charToRaw("one"))
    destroy.socket(peer)
    t0 <- proc.time()[["elapsed"]]
    stopped <- stop.proxy(p)
    secs <- proc.time()[["elapsed"]] - t0
    # `back` is R's again; a new peer gets whole messages only
    again <- init.socket(ctx, "ZMQ_PAIR")
    set.rcv.timeout(again, 5000L)
    connect.socket(again, "inproc://mid-out")
    sent <- send.socket(back, charToRaw("after"), serialize = FALSE)
    got <- receive.multipart(again)
    destroy.context(ctx, linger = 0)
    list(big = big, one = one, stopped = stopped, secs = secs, sent = sent, got = got)
  })
  child_wait(proc, 30)
  r <- proc$get_result()
  expect_true(r$big)
  expect_true(r$one)
  expect_true(r$stopped)
  expect_lt(r$secs, 10) # the rest of the message is read and dropped first
  expect_true(r$sent)
  expect_identical(r$got, list(charToRaw("after")))
})

test_that("a socket given back by a collected proxy is usable at once; a collected monitor ends its socket's proxy without waiting", {
  l <- proxy_line()
  on.exit(destroy.context(l$ctx, linger = 0))
  p <- init.proxy(l$front, l$back)
  expect_true(send.socket(l$sender, "through"))
  expect_identical(recv_within(l$receiver, 10), "through")
  rm(p)
  invisible(gc())
  # both come back through their loan, whether or not the thread is joined yet
  expect_true(send.socket(l$back, "back is ours"))
  expect_identical(recv_within(l$receiver, 10), "back is ours")
  expect_true(send.socket(l$sender, "front is ours"))
  expect_identical(recv_within(l$front, 10), "front is ours")

  # a monitor of a lent socket, collected while the proxy runs
  mon <- monitor.socket(l$back, "all")
  p <- init.proxy(l$front, l$back)
  rm(mon)
  invisible(gc())
  expect_true(is.closed(p)) # ended, as stop.proxy() would have
  expect_true(stop.proxy(p))
  expect_true(send.socket(l$back, "after the monitor"))
  expect_identical(recv_within(l$receiver, 10), "after the monitor")
})

test_that("under rzmq.errors = \"condition\" a proxy that cannot start is rzmq_EMFILE; its sockets stay R's", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  set.ctxopt(ctx, "ZMQ_MAX_SOCKETS", 2L) # no room for the control sockets
  front <- init.socket(ctx, "ZMQ_PULL")
  back <- init.socket(ctx, "ZMQ_PUSH")
  old <- options(rzmq.errors = "condition")
  on.exit(options(old), add = TRUE)
  e <- tryCatch(init.proxy(front, back), error = identity)
  expect_identical(class(e), c("rzmq_EMFILE", "rzmq_error", "error", "condition"))
  expect_identical(e$errno, 24L)
  expect_identical(zmq.errno(), 24L)
  expect_identical(deparse(conditionCall(e)), "init.proxy(front, back)")
  expect_match(conditionMessage(e), "^cannot start a zmq proxy: ")
  expect_true(bind.socket(front, inproc("proxy-emfile")))
  options(old)
  expect_error(init.proxy(front, back), "^cannot start a zmq proxy: ")
})

test_that("a one-socket proxy whose peer never reads still hears R: stop.proxy() and destroy.context() (held or collected) end it at once", {
  for (how in c("stop", "destroy held", "destroy collected")) {
    proc <- child_r(function(how) {
      library(rzmq)
      far <- init.context()
      peer <- init.socket(far, "ZMQ_DEALER")
      set.linger(peer, 0L)
      set.hwm(peer, 1L)
      set.send.timeout(peer, 200L)
      ctx <- init.context()
      d <- init.socket(ctx, "ZMQ_DEALER")
      set.hwm(d, 1L)
      bind.socket(d, "tcp://127.0.0.1:*")
      connect.socket(peer, get.last.endpoint(d))
      p <- init.proxy(d, d) # sends each message back to `peer`
      set.rcv.timeout(peer, 5000L)
      send.socket(peer, charToRaw("ping"), serialize = FALSE)
      echo <- identical(receive.socket(peer, unserialize = FALSE), charToRaw("ping"))
      # now `peer` reads no more
      payload <- as.raw(rep_len(1:255, 1e6))
      sent <- 0
      while (sent < 2000 && isTRUE(send.socket(peer, payload, serialize = FALSE)))
        sent <- sent + 1
      if (how == "destroy collected") {
        rm(p)
        invisible(gc()) # its thread is told to end
      }
      t0 <- proc.time()[["elapsed"]]
      ended <- if (how == "stop") stop.proxy(p) else destroy.context(ctx, linger = 0)
      secs <- proc.time()[["elapsed"]] - t0
      # stopped: the socket is R's again; destroyed: a proxy R still holds is
      # closed, and stopping it again is harmless
      after <- switch(how,
        "stop" = !is.closed(d) && is.closed(p) && identical(get.rcv.timeout(d), -1L),
        "destroy held" = is.closed(d) && is.closed(p) && stop.proxy(p),
        "destroy collected" = is.closed(d))
      list(echo = echo, full = sent < 2000, ended = ended, after = after, secs = secs,
           far = destroy.context(far, linger = 0))
    }, args = list(how = how))
    child_wait(proc, 30)
    r <- proc$get_result()
    expect_true(r$echo, label = how)
    expect_true(r$full, label = how) # the proxy waited for room
    expect_true(r$ended, label = how)
    expect_true(r$after, label = how)
    expect_lt(r$secs, 5, label = how)
    expect_true(r$far, label = how)
  }
})
