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
#   alloc SIZE BUDGET_S          R's own cost of making a raw vector of SIZE
#                                bytes (raw(SIZE)), its share of garbage
#                                collection included: workload 3's reference
#   floor BUDGET_S               R's own floor for workload 1: two empty
#                                closures shaped like send/receive.socket
#   pushpull-batch N SIZE HWM    workload 6 through send.messages() and
#                                receive.messages() (this package only; until
#                                they exist: "RESULT unavailable=batch")
#   remote NW N_SMALL N_MB WARM  workload 8: remote execution, a master and NW
#                                worker processes; BINDING "mirai" runs it
#                                with mirai's daemons (R_LIBS holds mirai)
#   cluster SYSTEM N_LB N_PAR N_BIG BIG_MB EXPORT_MB STARTS
#                                workload 10: a parallel cluster of 2 local
#                                workers (SYSTEM: psock, rzmq-plain,
#                                rzmq-secure, mirai, future)
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
is_mirai <- binding == "mirai"
pkg <- if (is_pbd) "pbdZMQ" else if (is_mirai) "mirai" else "rzmq"
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

mode_alloc <- function(size, budget) {
  sz <- as.numeric(size)
  run <- function(k) for (i in seq_len(k)) r <- raw(sz)
  nt <- timed(run, as.numeric(budget))
  cat(sprintf("RESULT size=%.0f n=%.0f us=%.6f\n", sz, nt[["n"]], nt[["t"]] / nt[["n"]] * 1e6))
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

# ---- workload 6 through the batch API (this package) ----------------------------
has_batch <- function() {
  ok <- !is_pbd && !is_mirai && exists("receive.messages", asNamespace("rzmq")) &&
    exists("send.messages", asNamespace("rzmq"))
  if (!ok) cat("RESULT unavailable=batch\n")
  ok
}

mode_push_client_batch <- function(ep, n, sz, hwm) {
  n <- as.numeric(n)
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  set_hwm(s, as.numeric(hwm))
  connect.socket(s, ep)
  batch <- rep(list(as.raw(rep(7L, as.numeric(sz)))), 1000)
  left <- n
  while (left > 0) {
    k <- min(left, length(batch))
    sent <- rzmq::send.messages(s, if (k == length(batch)) batch else batch[seq_len(k)],
                                serialize = FALSE)
    if (!identical(as.integer(sent), as.integer(k))) stop("send.messages sent ", sent, " of ", k)
    left <- left - k
  }
  flush_close(environment())  # every message delivered before exit
}

mode_pushpull_batch <- function(n, sz, hwm) {
  if (!has_batch()) return()
  n <- as.numeric(n); szn <- as.numeric(sz)
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  set_hwm(s, as.numeric(hwm))
  ep <- bind_any(s, "tcp", "")
  start_child("push-client-batch", ep, format(n, scientific = FALSE), sz, hwm)
  first <- rzmq::receive.messages(s, n = 1L, unserialize = FALSE)
  if (length(first) != 1 || length(first[[1]]) != szn) stop("bad frame")
  got <- 1
  t0 <- now()
  while (got < n) {
    r <- rzmq::receive.messages(s, n = as.integer(min(1000, n - got)), unserialize = FALSE)
    got <- got + length(r)
  }
  t <- now() - t0
  if (got != n || length(r[[length(r)]]) != szn) stop("bad frame or count")
  cat(sprintf("RESULT n=%.0f msgs_per_s=%.1f\n", n, (n - 1) / t))
}

# ---- workload 8: remote execution ----------------------------------------------
# A task is list(fun =, args =), serialized by the binding; the worker returns
# do.call(task$fun, task$args). Both functions live in the global environment,
# so serializing them carries no enclosing frame (and, under Rscript, no source
# references). run.R computes the raw C column's frame sizes from the same code.
task_small_fun <- function(x) x + 1
task_mb_fun <- function(x) length(x)
MB_DOUBLES <- 131072  # 1 MB argument

# 1 worker: this process REQ (bound) <-> worker REP.
# 2 workers: this process ROUTER (bound) <-> workers REQ; a worker's first
# message says it is ready, each result asks for the next task, so every
# worker holds one task while any are left (the load-balancing pattern).
mode_remote_worker <- function(ep, type) {
  ctx <- init.context()
  s <- init.socket(ctx, if (type == "rep") "ZMQ_REP" else "ZMQ_REQ")
  connect.socket(s, ep)
  if (type == "req") send.socket(s, NULL)  # ready
  repeat {
    task <- receive.socket(s)
    if (is.null(task)) break
    send.socket(s, do.call(task$fun, task$args))
  }
  flush_close(environment())
}

# Runs n tasks made by make_task(i) through the workers; check(i, result)
# stops on a wrong result. Returns the wall time and, with one worker, each
# task's round trip.
remote_master <- function(nw, ep_socket) {
  s <- ep_socket
  idle <- list()  # ROUTER: identities of the workers waiting for a task
  send_task <- function(id, task) {
    send.socket(s, id, send.more = TRUE, serialize = FALSE)
    send.socket(s, raw(0), send.more = TRUE, serialize = FALSE)
    send.socket(s, task)
  }
  receive_reply <- function() {
    id <- receive.socket(s, unserialize = FALSE)
    receive.socket(s, unserialize = FALSE)  # the REQ envelope's empty frame
    list(id = id, value = receive.socket(s))
  }
  if (nw > 1) for (k in seq_len(nw)) {
    r <- receive_reply()
    if (!is.null(r$value)) stop("worker's first message is not 'ready'")
    idle[[length(idle) + 1]] <- r$id
  }
  run <- function(n, make_task, check) {
    if (nw == 1) {
      lat <- numeric(n)
      t_all <- now()
      for (i in seq_len(n)) {
        t0 <- now()
        send.socket(s, make_task(i))
        r <- receive.socket(s)
        lat[i] <- now() - t0
        check(i, r)
      }
      return(list(t = now() - t_all, lat = lat))
    }
    t_all <- now()
    sent <- 0
    while (sent < n && length(idle)) {  # one task to each waiting worker
      sent <- sent + 1
      send_task(idle[[1]], make_task(sent))
      idle <<- idle[-1]
    }
    done <- 0
    while (done < n) {
      r <- receive_reply()
      done <- done + 1
      if (is.null(r$value)) stop("a worker lost its task")
      if (sent < n) {
        sent <- sent + 1
        send_task(r$id, make_task(sent))
      } else {
        idle[[length(idle) + 1]] <<- r$id
      }
      check(NA, r$value)
    }
    list(t = now() - t_all, lat = NULL)
  }
  stop_workers <- function() {
    if (nw == 1) send.socket(s, NULL) else for (id in idle) send_task(id, NULL)
  }
  list(run = run, stop = stop_workers)
}

# The two kinds of task, each: make_task(i), check(i, result), what the
# mirai side maps over.
remote_kinds <- function() {
  x <- runif(MB_DOUBLES)
  list(
    small = list(fun = task_small_fun,
                 make = function(i) list(fun = task_small_fun, args = list(as.numeric(i))),
                 arg = function(i) as.numeric(i),
                 check = function(i, r) if (!is.numeric(r) || length(r) != 1 ||
                                           (!is.na(i) && r != i + 1)) stop("wrong result ", format(r))),
    mb = list(fun = task_mb_fun, x = x,
              make = function(i) list(fun = task_mb_fun, args = list(x)),
              arg = function(i) x,
              check = function(i, r) if (!identical(r, as.integer(MB_DOUBLES)))
                stop("wrong result ", format(r))))
}

report_remote <- function(kind, nw, n, res) {
  cat(sprintf("RESULT kind=%s workers=%d n=%d tasks_per_s=%.2f lat_us=%s\n", kind, nw, n,
              n / res$t, if (is.null(res$lat)) "NA" else sprintf("%.3f", median(res$lat) * 1e6)))
}

# R's own cost of the 1 MB argument: serialize + unserialize (base R, the
# native format that send.socket() writes by default on little-endian machines)
serialize_cost <- function(x, reps) {
  t <- vapply(seq_len(reps), function(i) {
    t0 <- now()
    y <- unserialize(serialize(x, NULL, xdr = FALSE))
    now() - t0
  }, 0)
  cat(sprintf("RESULT kind=serialize n=%d us=%.3f\n", reps, median(t) * 1e6))
}

mode_remote <- function(nw, n_small, n_mb, warm) {
  nw <- as.integer(nw); n_small <- as.integer(n_small); n_mb <- as.integer(n_mb)
  warm <- as.integer(warm)
  kinds <- remote_kinds()
  counts <- c(small = n_small, mb = n_mb)
  if (is_mirai) return(mode_remote_mirai(nw, kinds, counts, warm))
  ctx <- init.context()
  s <- init.socket(ctx, if (nw == 1) "ZMQ_REQ" else "ZMQ_ROUTER")
  ep <- bind_any(s, "tcp", "")
  for (k in seq_len(nw)) start_child("remote-worker", ep, if (nw == 1) "rep" else "req")
  m <- remote_master(nw, s)
  for (kind in names(kinds)) {
    kd <- kinds[[kind]]
    m$run(max(1L, if (kind == "mb") warm %/% 4L else warm), kd$make, kd$check)  # warm-up
    report_remote(kind, nw, counts[[kind]], m$run(counts[[kind]], kd$make, kd$check))
  }
  m$stop()
  if (nw == 1) serialize_cost(kinds$mb$x, max(10L, n_mb %/% 5L))
  # m's closures hold the socket too: rzmq 0.9.16 closes it (and then can
  # terminate the context) only when nothing refers to it any more
  rm(m)
  flush_close(environment())
}

# mirai: daemons(nw) (with mirai's default dispatcher); tasks/s from
# mirai_map() over all the tasks, collected with []; with one daemon also the
# round trip of one mirai() at a time, collected with [].
mode_remote_mirai <- function(nw, kinds, counts, warm) {
  daemons(nw)
  on.exit(daemons(0))
  for (kind in names(kinds)) {
    kd <- kinds[[kind]]
    n <- counts[[kind]]
    nwarm <- max(1L, if (kind == "mb") warm %/% 4L else warm)
    f <- kd$fun
    map_run <- function(k) {
      t0 <- now()
      r <- mirai_map(lapply(seq_len(k), kd$arg), f)[]
      t <- now() - t0
      if (length(r) != k) stop("mirai_map returned ", length(r), " results for ", k)
      for (i in seq_len(k)) kd$check(i, r[[i]])
      t
    }
    map_run(nwarm)  # warm-up: waits for the daemons to connect
    t <- map_run(n)
    lat <- NULL
    if (nw == 1) {
      one <- function(i) {
        a <- kd$arg(i)
        t0 <- now()
        m <- mirai(f(x), f = f, x = a)
        r <- m[]
        d <- now() - t0
        kd$check(i, r)
        d
      }
      invisible(vapply(seq_len(nwarm), one, 0))
      lat <- vapply(seq_len(n), one, 0)
    }
    report_remote(kind, nw, n, list(t = t, lat = lat))
  }
}

# ---- workload 10: a parallel cluster ----------------------------------------
# SYSTEM: "psock" (parallel::makePSOCKcluster), "rzmq-plain" / "rzmq-secure"
# (init.cluster(secure = FALSE / TRUE)), "mirai" (mirai::make_cluster; R_LIBS
# holds mirai), "future" (future's multisession; start-up, parLapply-like
# and 10 MB rows only). 2 local workers throughout.
cluster_system <- function(system) {
  switch(system,
    psock = list(start = function() parallel::makePSOCKcluster(2L)),
    "rzmq-plain" = list(start = function() rzmq::init.cluster(2L, secure = FALSE)),
    "rzmq-secure" = list(start = function() rzmq::init.cluster(2L, secure = TRUE)),
    mirai = list(start = function() mirai::make_cluster(2L)),
    stop("unknown cluster system ", system))
}

mode_cluster <- function(system, n_lb, n_par, n_big, big_mb, export_mb, starts) {
  n_lb <- as.integer(n_lb); n_par <- as.numeric(n_par); n_big <- as.integer(n_big)
  big_mb <- as.numeric(big_mb); export_mb <- as.numeric(export_mb)
  starts <- as.integer(starts)
  if (system == "future") return(cluster_future(n_par, n_big, big_mb, starts))
  sys <- cluster_system(system)
  # start-up until both workers answered a call: median of `starts` starts
  # (each cluster stopped at once)
  t_start <- vapply(seq_len(starts), function(i) {
    t0 <- now()
    cl <- sys$start()
    parallel::clusterEvalQ(cl, NULL)
    t <- now() - t0
    parallel::stopCluster(cl)
    t
  }, 0)
  cat(sprintf("RESULT kind=start secs=%.4f\n", median(t_start)))
  cl <- sys$start()
  on.exit(parallel::stopCluster(cl))
  parallel::clusterApplyLB(cl, 1:200, function(i) i)  # warm-up
  t0 <- now()
  r <- parallel::clusterApplyLB(cl, seq_len(n_lb), function(i) i)
  t <- now() - t0
  stopifnot(identical(r, as.list(seq_len(n_lb))))
  cat(sprintf("RESULT kind=lb tasks_per_s=%.1f\n", n_lb / t))
  x <- seq_len(n_par) + 0
  t0 <- now()
  r <- parallel::parLapply(cl, x, function(v) v + 1)
  t <- now() - t0
  stopifnot(length(r) == n_par, r[[n_par]] == n_par + 1)
  cat(sprintf("RESULT kind=par secs=%.4f\n", t))
  big <- runif(big_mb * 2^20 / 8)
  t0 <- now()
  r <- parallel::clusterApplyLB(cl, rep(list(big), n_big), length)
  t <- now() - t0
  stopifnot(all(unlist(r) == length(big)))
  cat(sprintf("RESULT kind=big secs=%.4f\n", t))
  rm(big)
  obj <- runif(export_mb * 2^20 / 8)
  e <- new.env()
  assign("obj", obj, envir = e)
  t0 <- now()
  parallel::clusterExport(cl, "obj", envir = e)
  t <- now() - t0
  stopifnot(all(unlist(parallel::clusterEvalQ(cl, length(obj))) == length(obj)))
  cat(sprintf("RESULT kind=export secs=%.4f\n", t))
}

cluster_future <- function(n_par, n_big, big_mb, starts) {
  t_start <- vapply(seq_len(starts), function(i) {
    t0 <- now()
    future::plan(future::multisession, workers = 2L)
    stopifnot(future::value(future::future(TRUE)))
    t <- now() - t0
    future::plan(future::sequential)
    t
  }, 0)
  cat(sprintf("RESULT kind=start secs=%.4f\n", median(t_start)))
  future::plan(future::multisession, workers = 2L)
  on.exit(future::plan(future::sequential))
  invisible(future.apply::future_lapply(1:10, function(v) v))  # warm-up
  x <- seq_len(n_par) + 0
  t0 <- now()
  r <- future.apply::future_lapply(x, function(v) v + 1)
  t <- now() - t0
  stopifnot(length(r) == n_par, r[[n_par]] == n_par + 1)
  cat(sprintf("RESULT kind=par secs=%.4f\n", t))
  big <- runif(big_mb * 2^20 / 8)
  t0 <- now()
  r <- future.apply::future_lapply(rep(list(big), n_big), length,
                                   future.chunk.size = 1L)
  t <- now() - t0
  stopifnot(all(unlist(r) == length(big)))
  cat(sprintf("RESULT kind=big secs=%.4f\n", t))
}

modes <- list(cluster = mode_cluster, pair = mode_pair, serial = mode_serial, bigobj = mode_bigobj, floor = mode_floor,
              alloc = mode_alloc,
              reqrep = mode_reqrep, "reqrep-server" = mode_reqrep_server,
              pushpull = mode_pushpull, "push-client" = mode_push_client,
              poll = mode_poll, "pushpull-batch" = mode_pushpull_batch,
              "push-client-batch" = mode_push_client_batch,
              remote = mode_remote, "remote-worker" = mode_remote_worker)
if (is.null(modes[[mode]])) stop("unknown mode ", mode)
invisible(do.call(modes[[mode]], as.list(margs)))
