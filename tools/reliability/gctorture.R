# gctorture.R: the send / receive and lifetime behaviours under
# gctorture(TRUE) (a garbage collection at every allocation, so an object
# the C code forgot to protect is collected at once and the results
# below come out wrong, or the process crashes). Runs in a child R process
# with a deadline; every result is checked.
#
#   Rscript tools/reliability/gctorture.R [--reps=2] [--deadline=900]
#
# Covers: round trips of serialized objects (plain vectors on the fast
# path, lists and attributes on R's serializer, small and > 64 KB, xdr and
# native), raw frames (small, and > 64 KB which are lent to libzmq without
# copying, then changed in R before the peer reads them), multipart (with a
# ROUTER identity), receive.string / int / double / null.msg, poll.socket,
# init.message / send.message.object, options, errors raised mid-receive
# (malformed frames), sockets / contexts created, closed and collected, and
# security (keys, Z85, CURVE and PLAIN through an authenticator, its log,
# certificate files), and monitors (events read one by one and all at once,
# a monitor collected, replaced and stopped by closing its socket), and
# proxies (capture, pause/resume, statistics, a busy socket, stopped,
# destroyed and collected while running).

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})

reps <- arg("reps", 2L)
deadline <- arg("deadline", 900)
started <- Sys.time()
suppressPackageStartupMessages(library(rzmq))
say(describe_rzmq())
say(sprintf("reps = %d, deadline = %g s", reps, deadline))

torture_body <- function(reps) {
  library(rzmq)
  results <- list()
  ok <- function(what, cond) results[[length(results) + 1L]] <<- list(what = what, ok = isTRUE(cond))
  timings <- c()
  step <- function(name, expr) {
    t0 <- proc.time()[["elapsed"]]
    gctorture(TRUE)
    r <- tryCatch({ force(expr); NULL }, error = function(e) conditionMessage(e))
    gctorture(FALSE)
    timings[name] <<- sum(timings[name], proc.time()[["elapsed"]] - t0, na.rm = TRUE) # over all reps
    ok(paste(name, "ran without an unexpected error", if (!is.null(r)) paste0("(", r, ")") else ""),
       is.null(r))
  }
  big_raw <- as.raw(rep_len(0:255, 70000))        # > 64 KB: lent to libzmq
  big_dbl <- seq(0.5, by = 1, length.out = 9000)   # > 64 KB serialized: fast path
  big_list <- list(a = big_dbl, b = letters)       # > 64 KB through R_Serialize
  objs <- list(1:10 + 0L, c(1.5, NA, Inf), c(TRUE, NA), as.raw(1:5), complex(real = 1, imaginary = 2),
               "text", c(a = 1, b = 2), list(x = 1, y = list("z", NULL)), factor(c("u", "v")),
               data.frame(p = 1:2, q = c("a", "b")), NULL, big_dbl, big_list, quote(f(x)))

  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(b, "inproc://torture"); connect.socket(a, "inproc://torture")
  set.rcv.timeout(b, 10000L); set.rcv.timeout(a, 10000L)

  for (r in seq_len(reps)) {
    step("serialized objects round trip", {
      for (o in objs) for (xdr in c(FALSE, TRUE)) {
        ok("send.socket(object)", send.socket(a, o, xdr = xdr))
        got <- receive.socket(b)
        ok(sprintf("object of type %s (xdr = %s) came back identical", typeof(o), xdr), identical(got, o))
      }
    })
    step("raw frames, small and lent", {
      small <- as.raw(1:100)
      ok("send small raw", send.socket(a, small, serialize = FALSE))
      ok("small raw back", identical(receive.socket(b, unserialize = FALSE), small))
      lent <- big_raw
      ok("send large raw", send.socket(a, lent, serialize = FALSE))
      lent[1] <- as.raw(0xff) # R must copy: the message still points at the original
      got <- receive.socket(b, unserialize = FALSE)
      ok("large raw back unchanged by the later change in R", identical(got, big_raw))
      rm(lent, got)
      invisible(gc())
      ok("nothing still lent after the peer read it", rzmq:::lent_count() == 0L)
    })
    step("multipart, and a ROUTER's identity", {
      parts <- list(charToRaw("head"), raw(0), big_raw, "a string part")
      ok("send.multipart", send.multipart(a, parts))
      got <- receive.multipart(b)
      ok("multipart back", identical(got, list(charToRaw("head"), raw(0), big_raw, charToRaw("a string part"))))
      router <- init.socket(ctx, "ZMQ_ROUTER"); dealer <- init.socket(ctx, "ZMQ_DEALER")
      set.identity(dealer, "dealer-1")
      bind.socket(router, "inproc://torture-router"); connect.socket(dealer, "inproc://torture-router")
      set.rcv.timeout(router, 10000L); set.rcv.timeout(dealer, 10000L)
      send.multipart(dealer, list(charToRaw("x"), serialize(1:3, NULL)))
      got <- receive.multipart(router)
      ok("router sees identity + frames", identical(got, list(charToRaw("dealer-1"), charToRaw("x"), serialize(1:3, NULL))))
      send.multipart(router, list(charToRaw("dealer-1"), charToRaw("reply")))
      ok("dealer gets the reply", identical(receive.socket(dealer, unserialize = FALSE), charToRaw("reply")))
      destroy.socket(router); destroy.socket(dealer)
    })
    step("receive.string / int / double / null.msg", {
      send.raw.string(a, "h\u00e9llo")
      s <- receive.string(b)
      ok("receive.string", identical(s, "h\u00e9llo") && Encoding(s) == "UTF-8")
      send.socket(a, writeBin(42L, raw()), serialize = FALSE)
      ok("receive.int", identical(receive.int(b), 42L))
      send.socket(a, writeBin(2.5, raw()), serialize = FALSE)
      ok("receive.double", identical(receive.double(b), 2.5))
      send.socket(a, as.raw(1:3), serialize = FALSE)
      ok("receive.int of 3 bytes is NULL", is.null(suppressMessages(receive.int(b))))
      send.null.msg(a)
      ok("receive.null.msg", identical(receive.null.msg(b), TRUE))
      send.socket(a, strrep("long string ", 300))
      ok("receive.socket of a string > 2 KB", identical(receive.socket(b), strrep("long string ", 300)))
    })
    step("errors in the middle of a receive", {
      send.socket(a, c(charToRaw("X\n"), as.raw(rep(7, 5000))), serialize = FALSE)
      e <- tryCatch(receive.socket(b), error = function(e) "error")
      ok("a malformed large frame is an R error", identical(e, "error"))
      send.socket(a, charToRaw("B\n\1"), serialize = FALSE)
      e <- tryCatch(receive.socket(b), error = function(e) "error")
      ok("a malformed small frame is an R error", identical(e, "error"))
      send.socket(a, as.raw(c(65, 0, 66)), serialize = FALSE)
      e <- tryCatch(receive.string(b), error = function(e) "error")
      ok("a string frame with a NUL is an R error", identical(e, "error"))
      ok("the socket still works", send.socket(a, "after") && identical(receive.socket(b), "after"))
    })
    step("poll.socket", {
      send.socket(a, "poll me")
      p <- poll.socket(list(b, a), list(c("read", "write", "error"), "read"), timeout = 1)
      ok("poll result", identical(p, list(list(read = TRUE, write = TRUE, error = FALSE), list(read = FALSE))))
      invisible(receive.socket(b))
      p <- poll.socket(list(b), list("read"), timeout = 0.01)
      ok("poll times out", identical(p, list(list(read = FALSE))))
    })
    step("message objects", {
      m <- init.message(big_list)
      m2 <- init.message(big_raw, serialize = FALSE)
      for (k in 1:3) ok("send.message.object", send.message.object(a, m))
      ok("send raw message object", send.message.object(a, m2))
      for (k in 1:3) ok("message object back", identical(receive.socket(b), big_list))
      ok("raw message object back", identical(receive.socket(b, unserialize = FALSE), big_raw))
      rm(m, m2)
      invisible(gc())
    })
    step("options", {
      ok("set.hwm", set.hwm(a, 50))
      ok("get SNDHWM", identical(get.sockopt(a, "ZMQ_SNDHWM"), 50L))
      ok("set.identity raw", set.identity(a, as.raw(1:4)))
      ok("get IDENTITY", identical(get.sockopt(a, "IDENTITY"), as.raw(1:4)))
      ok("set.send.timeout", set.send.timeout(a, 1000))
      ok("get.send.timeout", identical(get.send.timeout(a), 1000L))
      ok("get.last.endpoint", identical(get.last.endpoint(b), "inproc://torture"))
      ok("sockopt.names", length(sockopt.names()$name) > 50)
      e <- tryCatch(set.sockopt(a, "nope", 1), error = function(e) "error")
      ok("unknown option is an R error", identical(e, "error"))
      ok("set.linger", set.linger(a, 0))
    })
    step("context options and failures raised as conditions", {
      cx <- init.context()
      ok("set.ctxopt", set.ctxopt(cx, "MAX_SOCKETS", 2000))
      ok("get.ctxopt", identical(get.ctxopt(cx, "max_sockets"), 2000L))
      ok("ctxopt.names", nrow(ctxopt.names()) >= 4L)
      old <- options(rzmq.errors = "condition")
      e <- tryCatch(set.linger(a, -5), rzmq_EINVAL = function(e) e)
      ok("rzmq_EINVAL raised", inherits(e, "rzmq_EINVAL") && identical(e$errno, 22L))
      ok("EAGAIN quiet", is.null(receive.socket(b, dont.wait = TRUE)))
      options(rzmq.errors = "condition-all")
      e <- tryCatch(receive.socket(b, dont.wait = TRUE), rzmq_EAGAIN = function(e) e)
      ok("rzmq_EAGAIN raised", inherits(e, "rzmq_EAGAIN"))
      options(old)
      destroy.context(cx)
    })
    step("security: keys, Z85, CURVE and PLAIN through an authenticator, its log", {
      if (zmq.has("curve")) {
        sk <- curve.keypair(); ck <- curve.keypair()
        ok("curve.public", identical(curve.public(sk$secret), sk$public))
        ok("z85 round trip", identical(z85.decode(z85.encode(big_raw[1:400])), big_raw[1:400]))
        cx <- init.context()
        auth <- init.authenticator(cx, curve = ck$public, plain = c(u = "p"), deny = "10.0.0.1")
        srv <- init.socket(cx, "ZMQ_PULL")
        set.curve.server(srv, sk$secret)
        bind.socket(srv, "tcp://127.0.0.1:*")
        set.rcv.timeout(srv, 10000L)
        cl <- init.socket(cx, "ZMQ_PUSH")
        set.curve.client(cl, sk$public, ck)
        connect.socket(cl, get.last.endpoint(srv))
        send.socket(cl, big_list)
        ok("CURVE round trip", identical(receive.socket(srv), big_list))
        configure.authenticator(auth, curve = c(ck$public, sk$public), allow = "127.0.0.1")
        psrv <- init.socket(cx, "ZMQ_PULL"); set.plain.server(psrv)
        bind.socket(psrv, "tcp://127.0.0.1:*"); set.rcv.timeout(psrv, 10000L)
        pcl <- init.socket(cx, "ZMQ_PUSH"); set.plain.client(pcl, "u", "p")
        connect.socket(pcl, get.last.endpoint(psrv))
        send.socket(pcl, "plain")
        ok("PLAIN round trip", identical(receive.socket(psrv), "plain"))
        log <- authenticator.log(auth)
        ok("authenticator log", nrow(log) == 2L && all(log$allowed))
        f <- tempfile()
        write.curve.keys(sk, f)
        ok("certificate files", identical(read.curve.keys(f), sk))
        unlink(c(f, paste0(f, "_secret")))
        if (r %% 2 == 0) destroy.context(cx, linger = 0) # else only dropped
        rm(cx, auth, srv, cl, psrv, pcl)
        invisible(gc())
      }
    })
    step("monitor events", {
      srv <- init.socket(ctx, "ZMQ_PULL")
      ms <- monitor.socket(srv)
      bind.socket(srv, "tcp://127.0.0.1:*")
      ep <- get.last.endpoint(srv)
      set.rcv.timeout(ms, 10000L)
      ev <- receive.event(ms)
      ok("receive.event: LISTENING", identical(ev, list(event = "LISTENING", value = ev$value, endpoint = ep)))
      cl <- init.socket(ctx, "ZMQ_PUSH")
      mc <- monitor.socket(cl, c("connected", "ZMQ_EVENT_HANDSHAKE_SUCCEEDED"))
      connect.socket(cl, ep)
      send.socket(cl, "monitored")
      ok("the monitored pair works", identical(receive.socket(srv), "monitored"))
      got <- read.events(ms)
      while (!("HANDSHAKE_SUCCEEDED" %in% got$event) && isTRUE(poll.socket(list(ms), "read", timeout = 5)[[1]]$read))
        got <- rbind(got, read.events(ms))
      ok("read.events: ACCEPTED, HANDSHAKE_SUCCEEDED", identical(got$event, c("ACCEPTED", "HANDSHAKE_SUCCEEDED")) &&
           identical(got$endpoint, c(ep, ep)))
      got <- read.events(mc)
      while (!("HANDSHAKE_SUCCEEDED" %in% got$event) && isTRUE(poll.socket(list(mc), "read", timeout = 5)[[1]]$read))
        got <- rbind(got, read.events(mc))
      ok("only the events asked for", identical(got$event, c("CONNECTED", "HANDSHAKE_SUCCEEDED")))
      ok("nothing queued: NULL", is.null(receive.event(mc, dont.wait = TRUE)) && zmq.errno() == 11L)
      e <- tryCatch(monitor.socket(srv, "NOPE"), error = function(e) "error")
      ok("an unknown event is an R error", identical(e, "error"))
      e <- tryCatch(receive.event(srv), error = function(e) "error")
      ok("an ordinary socket is not a monitor", identical(e, "error"))
      destroy.socket(cl)
      rm(mc) # collected with its link to the closed client
      invisible(gc())
      local(monitor.socket(srv)) # replaces ms, then dropped
      invisible(gc())
      ok("the replaced monitor ends with MONITOR_STOPPED", identical(tail(read.events(ms)$event, 1), "MONITOR_STOPPED"))
      m2 <- monitor.socket(srv)
      destroy.socket(srv)
      ok("closing the socket ends its monitor", identical(read.events(m2)$event, "MONITOR_STOPPED"))
      destroy.socket(ms); destroy.socket(m2)
    })
    step("proxies", {
      cx <- init.context()
      fr <- init.socket(cx, "ZMQ_PULL"); bk <- init.socket(cx, "ZMQ_PUSH")
      cap <- init.socket(cx, "ZMQ_PUSH")
      snd <- init.socket(cx, "ZMQ_PUSH"); rcv <- init.socket(cx, "ZMQ_PULL")
      tap <- init.socket(cx, "ZMQ_PULL")
      ep <- sprintf("inproc://proxy-%d-", r)
      bind.socket(fr, paste0(ep, "in")); bind.socket(bk, paste0(ep, "out"))
      bind.socket(cap, paste0(ep, "cap"))
      connect.socket(snd, paste0(ep, "in")); connect.socket(rcv, paste0(ep, "out"))
      connect.socket(tap, paste0(ep, "cap"))
      set.rcv.timeout(rcv, 10000L); set.rcv.timeout(tap, 10000L)
      p <- init.proxy(fr, bk, cap)
      send.socket(snd, big_list)
      ok("proxy round trip", identical(receive.socket(rcv), big_list))
      ok("proxy capture", identical(receive.socket(tap), big_list))
      pause.proxy(p)
      send.socket(snd, "held")
      resume.proxy(p)
      ok("proxy after resume", identical(receive.socket(rcv), "held"))
      st <- proxy.stats(p)
      ok("proxy stats", identical(unname(st[c(1, 7)]), c(2, 2)) &&
           identical(names(st)[8], "backend.bytes.out"))
      e <- tryCatch(send.socket(bk, 1), error = function(e) conditionMessage(e))
      ok("a busy socket is an R error", grepl("running proxy", e, fixed = TRUE))
      stop.proxy(p)
      ok("socket usable after stop.proxy", isTRUE(send.socket(snd, "direct")) &&
           identical(receive.socket(fr), "direct"))
      p <- init.proxy(fr, bk)
      if (r %% 2 == 0) destroy.context(cx, linger = 0) # else only dropped
      rm(cx, fr, bk, cap, snd, rcv, tap, p)
      invisible(gc())
    })
    step("sockets and contexts created, closed and collected", {
      for (k in 1:3) {
        cx <- init.context()
        s1 <- init.socket(cx, "ZMQ_PUSH"); s2 <- init.socket(cx, "ZMQ_PULL")
        ep <- sprintf("inproc://life-%d-%d", r, k)
        bind.socket(s2, ep); connect.socket(s1, ep)
        set.rcv.timeout(s2, 10000L)
        send.socket(s1, big_raw, serialize = FALSE)
        ok("lifetime round trip", identical(receive.socket(s2, unserialize = FALSE), big_raw))
        if (k == 1) { destroy.socket(s1); destroy.socket(s2); destroy.context(cx) }
        if (k == 2) destroy.context(cx)
        # k == 3: only dropped, for the collector
        rm(cx, s1, s2)
        invisible(gc())
      }
      # a socket keeps its dropped context alive
      keep <- local({ cx <- init.context(); init.socket(cx, "ZMQ_PAIR") })
      invisible(gc())
      ok("a socket whose context was dropped still works", bind.socket(keep, "inproc://keep"))
      rm(keep)
      invisible(gc())
    })
  }
  destroy.context(ctx)
  list(results = results, timings = timings)
}

res <- run_child(torture_body, args = list(reps = reps), timeout = deadline)
say(sprintf("child finished in %.1f s (exit status %s%s)", res$elapsed, format(res$status),
            if (res$timed_out) ", TIMED OUT" else ""))
if (!res$ok) {
  cat("child error:", res$error, "\n")
  cat("child stderr:\n", substr(res$stderr, max(1, nchar(res$stderr) - 3000), nchar(res$stderr)), "\n")
}
check(res$ok, "the gctorture child finished within the deadline without crashing", res$error)
if (res$ok) {
  out <- res$result
  for (nm in names(out$timings)) say(sprintf("  %-52s %7.1f s", nm, out$timings[[nm]]))
  n_ok <- sum(vapply(out$results, `[[`, logical(1), "ok"))
  say(sprintf("checks inside the child under gctorture: %d of %d passed", n_ok, length(out$results)))
  for (x in out$results) check(x$ok, paste("gctorture:", x$what))
}
finish("gctorture", started)
