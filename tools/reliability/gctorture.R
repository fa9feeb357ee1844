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
# pollers (init.poller / poll.poller, sockets held only by a poller, a
# closed socket under one), socket.endpoints, is.closed, message.size,
# init.message / send.message.object, options, errors raised mid-receive
# (malformed frames), sockets / contexts created, closed and collected, and
# security (keys, Z85, CURVE and PLAIN through an authenticator, its log,
# address ranges and a revocation with drop = TRUE,
# certificate files), and monitors (events read one by one and all at once,
# a monitor collected, replaced and stopped by closing its socket), and
# proxies (capture, pause/resume, statistics, a busy socket, stopped,
# destroyed and collected while running, their sockets kept; a monitor of a
# lent socket collected), a context collected with its authenticator.

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})

reps <- arg("reps", 2L)
deadline <- arg("deadline", 900)
started <- begin(sprintf("reps = %d, deadline = %g s", reps, deadline))

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
  # SIGINT to this process once its main thread has been asleep (waiting)
  # for 5 looks in a row, 50 ms apart: the interrupt lands in the wait
  interrupt_when_waiting <- function() {
    pid <- Sys.getpid()
    system(sprintf(paste("(sleep 0.3; n=0; while [ $n -lt 5 ] && [ -e /proc/%d ]; do",
                         "if [ \"$(cut -d' ' -f3 /proc/%d/stat)\" = S ]; then n=$((n+1)); else n=0; fi;",
                         "sleep 0.05; done; kill -INT %d) >/dev/null 2>&1 &"), pid, pid, pid))
  }
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
      ok("over inproc in one process: the sender's vector itself", rzmq:::same_bytes(got, big_raw))
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
    step("pollers, endpoints, is.closed, message.size", {
      pl <- init.poller(list(b, a), list(c("read", "write", "error"), "read"))
      send.socket(a, "poll me")
      p <- poll.poller(pl, timeout = 1)
      ok("poller result", identical(p, list(list(read = TRUE, write = TRUE, error = FALSE), list(read = FALSE))))
      invisible(receive.socket(b))
      ok("poller times out", identical(poll.poller(pl, timeout = 0.01),
                                       list(list(read = FALSE, write = TRUE, error = FALSE), list(read = FALSE))))
      ok("poller of one socket", identical(poll.poller(init.poller(b, "read")), list(list(read = FALSE))))
      # sockets held only by a poller survive the collector
      lone <- local({
        x <- init.socket(ctx, "ZMQ_PULL")
        bind.socket(x, "tcp://127.0.0.1:*")
        bind.socket(x, sprintf("inproc://torture-poller-%d", r))
        init.poller(list(x, init.socket(ctx, "ZMQ_PAIR")), c("read", "write"))
      })
      invisible(gc())
      ok("a poller keeps its sockets", identical(poll.poller(lone),
                                                 list(list(read = FALSE, write = FALSE), list(read = FALSE, write = FALSE))))
      closing <- init.socket(ctx, "ZMQ_PAIR")
      pc <- init.poller(list(a, closing), "read")
      destroy.socket(closing)
      e <- tryCatch(poll.poller(pc), error = function(e) conditionMessage(e))
      ok("a closed socket of a poller is named", grepl("socket 2 of `poller`", e))
      ok("is.closed of the poller", is.closed(pc) && !is.closed(pl) && is.closed(closing) && !is.closed(a))
      rm(lone, pc)
      invisible(gc())
      es <- init.socket(ctx, "ZMQ_PULL")
      bind.socket(es, "tcp://127.0.0.1:*")
      ep1 <- get.last.endpoint(es)
      bind.socket(es, sprintf("inproc://torture-ep-%d", r))
      connect.socket(es, "inproc://torture-nobody")
      e1 <- socket.endpoints(es)
      ok("socket.endpoints", identical(e1$endpoint[1], ep1) && identical(e1$mode, c("bind", "bind", "connect")))
      unbind.socket(es, ep1)
      disconnect.socket(es, "inproc://torture-nobody")
      ok("socket.endpoints after unbind/disconnect", nrow(socket.endpoints(es)) == 1L)
      destroy.socket(es)
      ok("message.size", message.size(init.message(big_raw, serialize = FALSE)) == length(big_raw))
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
      ok("get FD", is.integer(get.sockopt(a, "FD")))
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
        # revocation: the second key's connection is dropped, the first kept
        cl2 <- init.socket(cx, "ZMQ_PUSH"); set.send.timeout(cl2, 0L)
        set.curve.client(cl2, sk$public, sk)
        connect.socket(cl2, get.last.endpoint(srv))
        send.socket(cl2, "second key")
        ok("second key admitted", identical(receive.socket(srv), "second key"))
        configure.authenticator(auth, curve = ck$public, deny = c("10.0.0.0/8", "fd00::/8"), allow = NULL,
                                drop = TRUE)
        send.socket(cl2, "revoked")
        send.socket(cl, "kept")
        ok("drop = TRUE keeps the allowed peer only", identical(receive.socket(srv), "kept"))
        log <- authenticator.log(auth)
        ok("drop logged", any(grepl("^revoked", log$reason) & log$user == sk$public))
        f <- tempfile()
        write.curve.keys(sk, f)
        ok("certificate files", identical(read.curve.keys(f), sk))
        ok("the secret certificate's own path", identical(read.curve.keys(paste0(f, "_secret")), sk))
        unlink(c(f, paste0(f, "_secret")))
        e <- tryCatch(set.sockopt(srv, "CURVE_SERVER", 1L), error = function(e) conditionMessage(e))
        ok("a security option after bind is an R error", grepl("already bound or connected", e, fixed = TRUE))
        fresh <- init.socket(cx, "ZMQ_DEALER")
        e <- tryCatch(set.sockopt(fresh, "CURVE_SERVERKEY", strrep("#", 40)), error = function(e) conditionMessage(e))
        ok("an undecodable key is an R error", grepl("do not decode", e, fixed = TRUE))
        m <- tryCatch(unbind.socket(srv, "tcp://127.0.0.1:1"), message = function(m) conditionMessage(m))
        ok("unbinding what is not bound names it", grepl("tcp://127.0.0.1:1", m, fixed = TRUE))
        if (r %% 2 == 0) destroy.context(cx, linger = 0) # else only dropped
        rm(cx, auth, srv, cl, cl2, psrv, pcl, fresh)
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
      ok("proxy stats", identical(unname(st[c(1, 7, 9)]), c(2, 2, 0)) &&
           identical(names(st)[8], "backend.bytes.out") &&
           identical(names(st)[9], "capture.dropped"))
      e <- tryCatch(send.socket(bk, 1), error = function(e) conditionMessage(e))
      ok("a busy socket is an R error", grepl("running proxy", e, fixed = TRUE))
      stop.proxy(p)
      ok("socket usable after stop.proxy", isTRUE(send.socket(snd, "direct")) &&
           identical(receive.socket(fr), "direct"))
      # a capture with no room: its copies are dropped, the messages go on
      lone <- init.socket(cx, "ZMQ_PUSH")
      bind.socket(lone, paste0(ep, "lone"))
      p <- init.proxy(fr, bk, lone)
      for (i in 1:3) send.socket(snd, i)
      ok("proxy without its capture's room", identical(lapply(1:3, function(i) receive.socket(rcv)), as.list(1:3)) &&
           identical(proxy.stats(p)[["capture.dropped"]], 3))
      stop.proxy(p)
      # collected while running, its sockets kept: they come back at their
      # next use, whether or not a termination thread has joined it yet
      p <- init.proxy(fr, bk)
      rm(p)
      invisible(gc())
      ok("sockets of a collected proxy come back", isTRUE(send.socket(snd, "again")) &&
           identical(receive.socket(fr), "again"))
      # a monitor of a lent socket, collected: it ends the proxy, no wait
      mon <- monitor.socket(bk, "all")
      p <- init.proxy(fr, bk)
      rm(mon)
      invisible(gc())
      ok("a collected monitor ends its socket's proxy", is.closed(p) &&
           isTRUE(send.socket(bk, "b")) && identical(receive.socket(rcv), "b"))
      # a context collected with its authenticator running
      local({
        ax <- init.context()
        a <- init.authenticator(ax, curve = TRUE)
        s <- init.socket(ax, "ZMQ_PULL")
      })
      invisible(gc())
      p <- init.proxy(fr, bk)
      if (r %% 2 == 0) destroy.context(cx, linger = 0) # else only dropped
      rm(cx, fr, bk, cap, snd, rcv, tap, p, lone)
      invisible(gc())
    })
    step("batches: every kind, n limits, multipart in the queue", {
      pl <- init.socket(ctx, "ZMQ_PULL"); ph <- init.socket(ctx, "ZMQ_PUSH")
      ep <- sprintf("inproc://torture-batch-%d", r)
      bind.socket(pl, ep); connect.socket(ph, ep)
      set.rcv.timeout(pl, 10000L); set.send.timeout(ph, 10000L)
      for (xdr in c(FALSE, TRUE)) {
        ok("send.messages(objects) sends them all", identical(send.messages(ph, objs, xdr = xdr), length(objs)))
        got <- receive.messages(pl, n = 100L)
        ok(sprintf("receive.messages: every object back, in order (xdr = %s)", xdr), identical(got, objs))
      }
      frames <- list(raw(0), as.raw(1:3), big_raw, charToRaw("last"))
      ok("send.messages(raw frames)", identical(send.messages(ph, frames, serialize = FALSE), 4L))
      got <- receive.messages(pl, unserialize = FALSE)
      # (identical() asks R for write access to the bytes: it copies a frame)
      ok("a large frame of a batch is the sender's vector", rzmq:::same_bytes(got[[3]], big_raw))
      ok("receive.messages(unserialize = FALSE): the frames", identical(got, frames))
      send.messages(ph, as.list(1:10))
      ok("n = 3", identical(receive.messages(pl, n = 3), as.list(1:3)))
      ok("n = 0", identical(receive.messages(pl, n = 0), list()))
      ok("the rest", identical(receive.messages(pl, n = 100), as.list(4:10)))
      send.socket(ph, "before")
      send.multipart(ph, list(charToRaw("id"), raw(0), big_raw))
      send.socket(ph, "after")
      got <- receive.messages(pl)
      ok("its large frame is the sender's vector", rzmq:::same_bytes(got[[2]][[3]], big_raw))
      ok("a multipart message in a batch comes back whole, in its place",
         identical(got, list("before", list(charToRaw("id"), raw(0), big_raw), "after")))
      ok("nothing queued: an empty list, EAGAIN",
         identical(receive.messages(pl, dont.wait = TRUE), list()) && zmq.errno() == 11L)
      rm(got, frames)
      destroy.socket(pl); destroy.socket(ph)
      # growing the result list past its first 1024 places, twice: small
      # raw frames (one allocation each; unserializing costs dozens), more
      # than the default high-water marks hold
      pl <- init.socket(ctx, "ZMQ_PULL"); ph <- init.socket(ctx, "ZMQ_PUSH")
      set.hwm(pl, 0L); set.hwm(ph, 0L); set.send.timeout(ph, 10000L)
      ep <- sprintf("inproc://torture-batch-big-%d", r)
      bind.socket(pl, ep); connect.socket(ph, ep)
      gctorture(FALSE)
      tiny <- lapply(seq_len(2100), function(i) as.raw(i %% 256))
      gctorture(TRUE)
      ok("2100 in one batch", identical(send.messages(ph, tiny, serialize = FALSE), 2100L))
      got <- receive.messages(pl, n = 1e4, unserialize = FALSE)
      ok("2100 back in one batch", identical(got, tiny))
      rm(got, tiny)
      destroy.socket(pl); destroy.socket(ph)
    })
    step("batches that end early: the mark, an R error, libzmq refusing, a bad message", {
      pl <- init.socket(ctx, "ZMQ_PULL"); ph <- init.socket(ctx, "ZMQ_PUSH")
      set.sockopt(ph, "SNDHWM", 5L); set.sockopt(pl, "RCVHWM", 5L)
      set.send.timeout(ph, 50L); set.rcv.timeout(pl, 10000L)
      ep <- sprintf("inproc://torture-batch-end-%d", r)
      bind.socket(pl, ep); connect.socket(ph, ep)
      n <- send.messages(ph, as.list(1:100))
      ok("at the mark the batch returns its count, EAGAIN", n > 0L && n < 100L && zmq.errno() == 11L)
      got <- receive.messages(pl, n = 200)
      ok("exactly those arrived, once each", identical(unlist(got), seq_len(n)))
      set.send.timeout(ph, 10000L)
      # too deep for R to serialize; built without torture, and alive only
      # for this call (each collection would have to walk it)
      gctorture(FALSE)
      deep <- list()
      for (i in seq_len(1e5)) deep <- list(deep)
      gctorture(TRUE)
      e <- tryCatch(send.messages(ph, list(1, 2, deep, 4)), error = function(e) e)
      rm(deep)
      ok("a stack overflow mid-batch: rzmq_batch_error, sent = 2",
         inherits(e, "rzmq_batch_error") && identical(e$sent, 2L) && inherits(e$parent, "stackOverflowError"))
      ok("only the two before it went", identical(receive.messages(pl), list(1, 2)))
      # an R error while the batch waits (a time limit, raised by the
      # interrupt check) unwinds with a message held
      set.send.timeout(ph, 20000L)
      e <- tryCatch({
        setTimeLimit(elapsed = 1, transient = TRUE)
        send.messages(ph, as.list(1:100))
      }, error = function(e) e)
      setTimeLimit(elapsed = Inf)
      ok("a time limit while waiting at the mark: rzmq_batch_error with the count",
         inherits(e, "rzmq_batch_error") && e$sent > 0L && e$sent < 100L)
      got <- receive.messages(pl, n = 200)
      ok("exactly the messages counted arrived", identical(unlist(got), seq_len(e$sent)))
      destroy.socket(pl); destroy.socket(ph)
      rep_s <- init.socket(ctx, "ZMQ_REP"); req <- init.socket(ctx, "ZMQ_REQ")
      ep <- sprintf("inproc://torture-batch-req-%d", r)
      bind.socket(rep_s, ep); connect.socket(req, ep)
      set.rcv.timeout(rep_s, 10000L); set.rcv.timeout(req, 10000L)
      n <- suppressMessages(send.messages(req, list("q1", "q2")))
      ok("REQ: libzmq refuses the second request, count 1", identical(n, 1L) && zmq.errno() == 156384763L)
      ok("REP: the batch ends quietly after one request", identical(receive.messages(rep_s), list("q1")))
      send.socket(rep_s, "a1"); invisible(receive.socket(req))
      old <- options(rzmq.errors = "condition")
      e <- tryCatch(send.messages(req, list("r1", "r2")), error = function(e) e)
      options(old)
      ok("raised as a condition: rzmq_batch_error, sent = 1, parent rzmq_EFSM",
         inherits(e, "rzmq_batch_error") && identical(e$sent, 1L) && inherits(e$parent, "rzmq_EFSM"))
      ok("and the request went", identical(receive.messages(rep_s), list("r1")))
      destroy.socket(rep_s); destroy.socket(req)
      a2 <- init.socket(ctx, "ZMQ_PULL"); b2 <- init.socket(ctx, "ZMQ_PUSH")
      ep <- sprintf("inproc://torture-batch-bad-%d", r)
      bind.socket(a2, ep); connect.socket(b2, ep); set.rcv.timeout(a2, 10000L)
      send.messages(b2, list("a", big_list))
      send.socket(b2, charToRaw("not a serialization"), serialize = FALSE)
      send.messages(b2, list("c"))
      e <- tryCatch(receive.messages(a2), error = function(e) e)
      ok("a bad message: rzmq_unserialize_error with the values before it and its bytes",
         inherits(e, "rzmq_unserialize_error") && identical(e$received, list("a", big_list)) &&
           identical(e$data, charToRaw("not a serialization")))
      ok("the message after it stays queued", identical(receive.messages(a2), list("c")))
      send.socket(b2, c(charToRaw("X\n"), as.raw(rep(7, 70000))), serialize = FALSE)
      e <- tryCatch(receive.messages(a2), error = function(e) e)
      ok("a bad large message first: rzmq_unserialize_error, nothing before it",
         inherits(e, "rzmq_unserialize_error") && identical(e$received, list()) && length(e$data) == 70002L)
      rm(e)
      destroy.socket(a2); destroy.socket(b2)
    })
    step("interrupts (SIGINT) while a batch waits", {
      pl <- init.socket(ctx, "ZMQ_PULL"); ph <- init.socket(ctx, "ZMQ_PUSH")
      set.sockopt(ph, "SNDHWM", 5L); set.sockopt(pl, "RCVHWM", 5L)
      set.send.timeout(ph, 60000L); set.rcv.timeout(pl, 60000L)
      ep <- sprintf("inproc://torture-batch-int-%d", r)
      bind.socket(pl, ep); connect.socket(ph, ep)
      interrupt_when_waiting()
      e <- tryCatch(send.messages(ph, as.list(1:100)), interrupt = function(e) e)
      ok("an interrupt at the mark: rzmq_interrupt with the count",
         inherits(e, "rzmq_interrupt") && e$sent > 0L && e$sent < 100L)
      got <- receive.messages(pl, n = 200)
      ok("the messages counted arrived, once each, and no other",
         identical(unlist(got), seq_len(e$sent)) && identical(receive.messages(pl, dont.wait = TRUE), list()))
      interrupt_when_waiting()
      e <- tryCatch(receive.messages(pl), interrupt = function(e) "interrupted")
      ok("an interrupt while receive.messages waits", identical(e, "interrupted"))
      ok("the sockets still work", identical(send.messages(ph, list("after")), 1L) &&
           identical(receive.messages(pl), list("after")))
      destroy.socket(pl); destroy.socket(ph)
    })
    step("zero-copy frames: receive, read, modify, resend, serialize, gc, outlive the context", {
      fs <- rzmq:::frame_state
      x <- as.raw(rep_len(c(3:250, 1:2), 200000))
      keep <- as.raw(as.integer(x))
      lent0 <- rzmq:::lent_count()
      # inproc: the frame reads the sender's lent vector in place (with an
      # attribute it is not handed over as itself)
      send.socket(a, structure(x, note = "n"), serialize = FALSE)
      y <- receive.socket(b, unserialize = FALSE)
      ok("a large frame is read in place", identical(fs(y), "message"))
      ok("it reads the sender's lent vector", rzmq:::lent_count() == lent0 + 1L)
      rm(x)
      invisible(gc())
      ok("read after gc: length, elements, all of them", length(y) == 200000L &&
           identical(y[c(1, 2, 200000)], keep[c(1, 2, 200000)]) && all(y == keep))
      ok("sum of its bytes", sum(as.integer(y)) == sum(as.integer(keep)))
      ok("send.socket(frame) serialized (fast path)", send.socket(a, y))
      ok("the serialized frame back", identical(receive.socket(b), keep))
      ok("resent: shares the message", send.socket(b, y, serialize = FALSE) && identical(fs(y), "message"))
      y2 <- receive.socket(a, unserialize = FALSE)
      ok("the resent frame back", identical(fs(y2), "message") && identical(y2, keep))
      ok("resent in a multipart message and a batch",
         send.multipart(b, list(charToRaw("h"), y)) && identical(send.messages(b, list(y, y), serialize = FALSE), 2L))
      got <- list(receive.multipart(a), receive.socket(a, unserialize = FALSE), receive.socket(a, unserialize = FALSE))
      ok("those back", identical(got, list(list(charToRaw("h"), keep), keep, keep)))
      z <- y
      z[1] <- as.raw(0)
      ok("a second name changed: the first stays in place and unchanged",
         identical(fs(y), "message") && all(y == keep) && z[1] == as.raw(0) && identical(z[-1], keep[-1]))
      y[2] <- as.raw(0)
      ok("written to: copied first, the message untouched",
         fs(y) %in% c("copied", "ordinary") && y[2] == as.raw(0) && identical(y2, keep) && identical(got[[2]], keep))
      ok("a copied frame can be sent again", send.socket(b, y, serialize = FALSE) &&
           identical(receive.socket(a, unserialize = FALSE), y))
      ok("base serialize() of a frame (R asks to write: copied first)", identical(unserialize(serialize(y2, NULL)), keep))
      m <- init.message(y2, serialize = FALSE)
      ok("a frame into a message object", send.message.object(b, m) && identical(receive.socket(a, unserialize = FALSE), keep))
      rm(y, y2, z, got, m)
      invisible(gc())
      ok("the sender's vector is given back once the frames are collected", rzmq:::lent_count() == lent0)
      # tcp, and outliving the context
      cx <- init.context()
      p1 <- init.socket(cx, "ZMQ_PAIR"); p2 <- init.socket(cx, "ZMQ_PAIR")
      bind.socket(p1, "tcp://127.0.0.1:*"); connect.socket(p2, get.last.endpoint(p1))
      set.rcv.timeout(p1, 10000L)
      send.socket(p2, keep, serialize = FALSE)
      send.multipart(p2, list(keep, charToRaw("t")))
      send.messages(p2, list(keep, keep), serialize = FALSE)
      f1 <- receive.socket(p1, unserialize = FALSE)
      f2 <- receive.multipart(p1)
      f3 <- receive.messages(p1, unserialize = FALSE)
      while (length(f3) < 2L) f3 <- c(f3, receive.messages(p1, unserialize = FALSE))
      # a fresh tcp frame below 8 MB is copied (libzmq reuses its buffer at
      # once); from 8 MB on it is read in place
      ok("fresh frames over tcp below 8 MB are copied", identical(fs(f1), "ordinary") &&
           identical(fs(f2[[1]]), "ordinary") && identical(fs(f3[[2]]), "ordinary"))
      huge <- as.raw(rep_len(1:251, 9e6))
      send.socket(p2, huge, serialize = FALSE)
      f4 <- receive.socket(p1, unserialize = FALSE)
      ok("a 9 MB frame over tcp is read in place", identical(fs(f4), "message"))
      if (r %% 2 == 0) destroy.context(cx, linger = 0)
      rm(cx, p1, p2)
      invisible(gc()); invisible(gc())
      ok("frames outlive their socket and context", identical(f1, keep) && identical(f2, list(keep, charToRaw("t"))) &&
           identical(f3, list(keep, keep)) && identical(f4, huge))
      ok("and can be sent on another context's socket", send.socket(a, f1, serialize = FALSE) &&
           identical(receive.socket(b, unserialize = FALSE), keep))
      rm(f1, f2, f3, f4, huge)
      invisible(gc())
    })
    step("the large-buffer cache, freed when idle", {
      cache <- function() .Call(rzmq:::c_rzmq_cache_size)
      v <- seq(0.25, by = 1, length.out = 2e5) # 1.6 MB serialized (not an ALTREP sequence)
      # the janitor's second starts when the receiver lets the message go:
      # look at once (a collection at every allocation takes longer)
      gctorture(FALSE)
      ok("a large object round trip", send.socket(a, v) && identical(receive.socket(b), v))
      cached <- cache()
      gctorture(TRUE)
      ok("its buffer is cached", cached >= 1.6e6)
      t_end <- Sys.time() + 20
      while (cache() > 0 && Sys.time() < t_end) Sys.sleep(0.05)
      ok("and freed about a second later", cache() == 0)
      ok("large sends still work", send.socket(a, v) && identical(receive.socket(b), v))
      # a forked child has no janitor of the parent's: it starts its own
      gctorture(FALSE)
      job <- parallel::mcparallel({
        cx <- init.context()
        x <- init.socket(cx, "ZMQ_PAIR"); y <- init.socket(cx, "ZMQ_PAIR")
        bind.socket(y, "inproc://torture-fork-cache"); connect.socket(x, "inproc://torture-fork-cache")
        sent <- send.socket(x, v) && identical(receive.socket(y), v)
        cached <- cache()
        t_end <- Sys.time() + 20
        while (cache() > 0 && Sys.time() < t_end) Sys.sleep(0.05)
        destroy.context(cx)
        list(sent = sent, cached = cached, freed = cache() == 0)
      })
      got <- parallel::mccollect(job, wait = FALSE, timeout = 60)[[1]]
      gctorture(TRUE)
      ok("in a forked child: the cache fills, and the child's own janitor frees it",
         isTRUE(got$sent) && got$cached >= 1.6e6 && isTRUE(got$freed))
      t_end <- Sys.time() + 20
      while (cache() > 0 && Sys.time() < t_end) Sys.sleep(0.05)
      ok("and the parent's janitor still frees its own", cache() == 0)
      rm(v, job, got)
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
