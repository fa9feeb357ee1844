# zmqbench.R: the R columns of bench/run.R, for one binding per process.
#
#   Rscript zmqbench.R BINDING MODE ARGS...
#
# BINDING: "this" or "rzmq-0.9.16" (both library(rzmq); R_LIBS picks which
# one is found first) or "pbdZMQ" (its rzmq-style functions). MODE and ARGS
# as in zmqbench.c, plus the R-only modes:
#   serial BUDGET_S              one double (runif(1)), serialize = TRUE
#   bigobj NDOUBLES ROUNDS       NDOUBLES doubles serialized, sent, received,
#                                unserialized; time per object and peak RSS
#   floor BUDGET_S               R's own floor for workload 1: two empty
#                                closures shaped like send/receive.socket
# TRANSPORT "tcp+curve" (pair, reqrep) is tcp with CURVE, as in zmqbench.c:
# this package only (set.curve.server/set.curve.client); where it or its
# libzmq lacks CURVE the mode prints "RESULT unavailable=curve".
# Figures are printed as "RESULT key=value ..." lines; "INFO" lines say
# which package was loaded from where.
args <- commandArgs(TRUE)
if (length(args) < 2) stop("usage: Rscript zmqbench.R BINDING MODE ARGS...")
binding <- args[1]
mode <- args[2]
margs <- args[-(1:2)]
script <- normalizePath(sub("^--file=", "",
  grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
CHILD_TIMEOUT_S <- as.numeric(Sys.getenv("BENCH_CHILD_TIMEOUT", "120"))

is_pbd <- binding == "pbdZMQ"
pkg <- if (is_pbd) "pbdZMQ" else "rzmq"
suppressMessages(library(pkg, character.only = TRUE))
pkg_path <- find.package(pkg)
cat(sprintf("INFO binding=%s package=%s version=%s path=%s\n", binding, pkg,
            as.character(packageVersion(pkg, lib.loc = dirname(pkg_path))),
            pkg_path))
expect <- Sys.getenv("BENCH_EXPECT_LIB")
if (nzchar(expect) &&
    !startsWith(pkg_path, normalizePath(expect, mustWork = FALSE))) {
  stop(sprintf("loaded %s from %s, expected it under %s", pkg, pkg_path, expect))
}

now <- function() as.numeric(Sys.time())

# ---- what differs between the bindings --------------------------------------
last_endpoint <- function(s) {
  if (!is_pbd) return(get.last.endpoint(s))
  # pbdZMQ hands back the whole buffer, NULs and all
  r <- charToRaw(zmq.getsockopt(s, ZMQ.SO()$LAST_ENDPOINT, strrep(" ", 256)))
  rawToChar(r[seq_len(match(as.raw(0), r, nomatch = length(r) + 1) - 1)])
}

bind_any <- function(s, transport, name) {
  ep <- if (startsWith(transport, "tcp")) "tcp://127.0.0.1:*" else paste0("inproc://", name)
  bind.socket(s, ep)
  last_endpoint(s)
}

set_hwm <- function(s, n) {
  if (is_pbd) {
    zmq.setsockopt(s, ZMQ.SO()$SNDHWM, as.integer(n))
    zmq.setsockopt(s, ZMQ.SO()$RCVHWM, as.integer(n))
    return(TRUE)
  }
  ok <- tryCatch(isTRUE(set.hwm(s, n)), error = function(e) FALSE)
  if (!ok) cat("INFO hwm=default: set.hwm() fails with this binding\n")
  ok
}

# Close everything so that queued messages leave before the process exits.
# env is the caller's frame, holding the context `ctx` and the socket `s`.
flush_close <- function(env) {
  if (is_pbd) {
    zmq.setsockopt(env$s, ZMQ.SO()$LINGER, -1L)
    zmq.close(env$s)
    zmq.ctx.destroy(env$ctx)
  } else if (exists("destroy.context")) {
    destroy.context(env$ctx, linger = -1)
  } else {
    # rzmq 0.9.16 has no close: the socket's finalizer closes it, then the
    # context's terminates the context (waiting for queued messages)
    set.linger(env$s, -1L)
    rm(list = "s", envir = env); invisible(gc())
    rm(list = "ctx", envir = env); invisible(gc())
  }
  invisible()
}

# CURVE (workload 9): only this package has it
no_curve <- function() {
  if (!is_pbd && exists("zmq.has") && isTRUE(zmq.has("curve"))) return(FALSE)
  cat("RESULT unavailable=curve\n")
  TRUE
}

start_child <- function(...) {
  rscript <- file.path(R.home("bin"), "Rscript")
  # stdout/stderr go where ours go: the caller sees the child's errors and
  # waits for the child's end when it reads our output to its end; quoted,
  # as Z85 keys hold shell characters
  system2("timeout", c("-k", "5", CHILD_TIMEOUT_S, shQuote(rscript),
                       shQuote(script), binding, vapply(c(...), shQuote, "")),
          wait = FALSE, stdout = "", stderr = "")
}

# Batches double, but no more than the rest of the budget needs.
next_batch <- function(batch, n, t, budget, min_n) {
  left <- budget - t
  if (left <= 0) return(max(min_n - n, 1))
  per <- t / n
  want <- if (per > 0) left / per else 2 * batch
  max(1, min(want, 2 * batch), min_n - n) %/% 1
}

timed <- function(fn, budget, min_n = 1) {
  n <- 0; t <- 0; batch <- 1
  while (t < budget || n < min_n) {
    t0 <- now()
    fn(batch)
    t <- t + now() - t0
    n <- n + batch
    batch <- next_batch(batch, n, t, budget, min_n)
  }
  c(n = n, t = t)
}

pair_sockets <- function(ctx, transport, name) {
  a <- init.socket(ctx, "ZMQ_PAIR")
  b <- init.socket(ctx, "ZMQ_PAIR")
  if (transport == "tcp+curve") {  # b binds: the CURVE server
    keys <- curve.keypair()
    set.curve.server(b, keys$secret)
    set.curve.client(a, keys$public)
  }
  connect.socket(a, bind_any(b, transport, name))
  list(a = a, b = b)
}

# ---- modes ---------------------------------------------------------------------
mode_pair <- function(transport, budget, min_n, ...) {
  if (transport == "tcp+curve" && no_curve()) return()
  ctx <- init.context()
  p <- pair_sockets(ctx, transport, "bench-pair")
  a <- p$a; b <- p$b
  for (sz in as.numeric(c(...))) {
    payload <- as.raw(rep(7L, sz))
    send.socket(a, payload, serialize = FALSE)
    invisible(receive.socket(b, unserialize = FALSE))
    last <- NULL
    run <- function(k) {
      for (i in seq_len(k)) {
        send.socket(a, payload, serialize = FALSE)
        r <- receive.socket(b, unserialize = FALSE)
      }
      last <<- r
    }
    nt <- timed(run, as.numeric(budget), as.numeric(min_n))
    if (!identical(last, payload)) stop("received frame differs, size ", sz)
    cat(sprintf("RESULT size=%.0f n=%.0f us=%.6f\n", sz, nt[["n"]],
                nt[["t"]] / nt[["n"]] * 1e6))
    rm(payload, last); invisible(gc())
  }
}

mode_serial <- function(budget) {
  ctx <- init.context()
  p <- pair_sockets(ctx, "inproc", "bench-serial")
  a <- p$a; b <- p$b
  payload <- runif(1)
  send.socket(a, payload); invisible(receive.socket(b))
  last <- NULL
  run <- function(k) {
    for (i in seq_len(k)) {
      send.socket(a, payload)
      r <- receive.socket(b)
    }
    last <<- r
  }
  nt <- timed(run, as.numeric(budget))
  if (!identical(last, payload)) stop("received object differs")
  cat(sprintf("RESULT n=%.0f us=%.6f\n", nt[["n"]], nt[["t"]] / nt[["n"]] * 1e6))
}

# What R itself costs for workload 1: two empty closures with the
# signatures of send.socket() and receive.socket(), called the same way.
mode_floor <- function(budget) {
  snd <- function(socket, data, send.more = FALSE, serialize = TRUE, xdr = FALSE) invisible(NULL)
  rcv <- function(socket, unserialize = TRUE, dont.wait = FALSE) NULL
  a <- b <- NULL
  payload <- as.raw(7L)
  run <- function(k) {
    for (i in seq_len(k)) {
      snd(a, payload, serialize = FALSE)
      r <- rcv(b, unserialize = FALSE)
    }
  }
  nt <- timed(run, as.numeric(budget))
  cat(sprintf("RESULT n=%.0f us=%.6f\n", nt[["n"]], nt[["t"]] / nt[["n"]] * 1e6))
}

proc_status_kb <- function(field) {
  st <- readLines("/proc/self/status")
  as.numeric(sub("^[^0-9]*([0-9]+).*$", "\\1", grep(paste0("^", field, ":"), st, value = TRUE)))
}

mode_bigobj <- function(nd, rounds) {
  nd <- as.numeric(nd); rounds <- as.integer(rounds)
  ctx <- init.context()
  p <- pair_sockets(ctx, "inproc", "bench-big")
  a <- p$a; b <- p$b
  x <- runif(nd)
  obj_bytes <- as.numeric(object.size(x))
  invisible(gc())
  rss_before <- proc_status_kb("VmRSS")
  # warm-up round
  send.socket(a, x); y <- receive.socket(b)
  if (!identical(x, y)) stop("received object differs (warm-up)")
  rm(y); invisible(gc())
  base <- proc_status_kb("VmRSS")
  # one round with the peak reset: VmHWM then is the peak of this round
  writeLines("5", "/proc/self/clear_refs")
  hwm0 <- proc_status_kb("VmHWM")
  send.socket(a, x); y <- receive.socket(b)
  hwm <- proc_status_kb("VmHWM")
  rm(y); invisible(gc())
  if (hwm0 > base + 1024) cat(sprintf("INFO VmHWM not reset (%.0f kB after reset, RSS %.0f kB)\n", hwm0, base))
  times <- numeric(rounds)
  for (r in seq_len(rounds)) {
    t0 <- now()
    send.socket(a, x); y <- receive.socket(b)
    times[r] <- now() - t0
    if (r == rounds && !identical(x, y)) stop("received object differs")
    rm(y); invisible(gc())
  }
  cat(sprintf(paste0("RESULT ms=%.3f peak_x=%.3f peak_mb=%.1f base_mb=%.1f ",
                     "retained_mb=%.1f obj_mb=%.1f rounds=%d times_ms=%s\n"),
              median(times) * 1e3, (hwm - base) * 1024 / obj_bytes,
              (hwm - base) / 1024, base / 1024, (base - rss_before) / 1024,
              obj_bytes / 2^20, rounds, paste(sprintf("%.1f", times * 1e3), collapse = "/")))
}

mode_reqrep_server <- function(ep, count, server_public = NULL) {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_REP")
  if (!is.null(server_public)) set.curve.client(s, server_public)  # the parent's key
  connect.socket(s, ep)
  for (i in seq_len(as.numeric(count))) {
    r <- receive.socket(s, unserialize = FALSE)
    send.socket(s, r, serialize = FALSE)
  }
  flush_close(environment())  # the last reply leaves before we exit
}

mode_reqrep <- function(n, warm, transport = "tcp") {
  n <- as.numeric(n); warm <- as.numeric(warm)
  curve <- transport == "tcp+curve"
  if (curve && no_curve()) return()
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_REQ")
  if (curve) {  # the binding side is the CURVE server
    keys <- curve.keypair()
    set.curve.server(s, keys$secret)
  }
  ep <- bind_any(s, "tcp", "")
  start_child("reqrep-server", ep, format(1 + warm + n, scientific = FALSE),
              if (curve) keys$public)
  payload <- as.raw(7L)
  for (i in seq_len(1 + warm)) {  # the first round trip waits for the server
    send.socket(s, payload, serialize = FALSE)
    r <- receive.socket(s, unserialize = FALSE)
  }
  run <- function() {
    for (i in seq_len(n)) {
      send.socket(s, payload, serialize = FALSE)
      r <- receive.socket(s, unserialize = FALSE)
    }
    r
  }
  t0 <- now()
  r <- run()
  t <- now() - t0
  if (!identical(r, payload)) stop("reply differs")
  cat(sprintf("RESULT n=%.0f us=%.4f\n", n, t / n * 1e6))
}

mode_push_client <- function(ep, n, sz, hwm) {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  set_hwm(s, as.numeric(hwm))
  connect.socket(s, ep)
  payload <- as.raw(rep(7L, as.numeric(sz)))
  for (i in seq_len(as.numeric(n))) send.socket(s, payload, serialize = FALSE)
  flush_close(environment())  # every message delivered before exit
}

mode_pushpull <- function(n, sz, hwm) {
  n <- as.numeric(n); szn <- as.numeric(sz)
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  set_hwm(s, as.numeric(hwm))
  ep <- bind_any(s, "tcp", "")
  start_child("push-client", ep, format(n, scientific = FALSE), sz, hwm)
  if (length(receive.socket(s, unserialize = FALSE)) != szn) stop("bad frame")
  run <- function() {
    for (i in seq_len(n - 1)) r <- receive.socket(s, unserialize = FALSE)
    r
  }
  t0 <- now()
  r <- run()
  t <- now() - t0
  if (length(r) != szn) stop("bad frame")
  cat(sprintf("RESULT n=%.0f msgs_per_s=%.1f\n", n, (n - 1) / t))
}

mode_poll <- function(budget, nsock) {
  nsock <- as.integer(nsock)
  ctx <- init.context()
  socks <- lapply(seq_len(nsock), function(i) {
    s <- init.socket(ctx, "ZMQ_PULL")
    bind.socket(s, sprintf("inproc://bench-poll-%d", i))
    s
  })
  if (is_pbd) {
    types <- rep(ZMQ.PO()$POLLIN, nsock)
    run <- function(k) for (i in seq_len(k)) zmq.poll(socks, types, timeout = 0L)
    zmq.poll(socks, types, timeout = 0L)
    if (any(vapply(seq_len(nsock), function(i) bitwAnd(zmq.poll.get.revents(i), 1L) != 0, NA)))
      stop("a socket is ready")
  } else {
    ev <- rep(list("read"), nsock)
    run <- function(k) for (i in seq_len(k)) poll.socket(socks, ev, timeout = 0)
    res <- poll.socket(socks, ev, timeout = 0)
    if (any(vapply(res, function(e) isTRUE(e$read), NA))) stop("a socket is ready")
  }
  nt <- timed(run, as.numeric(budget))
  cat(sprintf("RESULT n=%.0f us=%.6f\n", nt[["n"]], nt[["t"]] / nt[["n"]] * 1e6))
}

modes <- list(pair = mode_pair, serial = mode_serial, bigobj = mode_bigobj, floor = mode_floor,
              reqrep = mode_reqrep, "reqrep-server" = mode_reqrep_server,
              pushpull = mode_pushpull, "push-client" = mode_push_client,
              poll = mode_poll)
if (is.null(modes[[mode]])) stop("unknown mode ", mode)
invisible(do.call(modes[[mode]], as.list(margs)))
