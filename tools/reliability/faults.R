# faults.R: the R side of faults.sh (each part also runs alone).
#
#   Rscript tools/reliability/faults.R --part=kill   # (a) a worker SIGKILLed mid-stream
#   Rscript tools/reliability/faults.R --part=hwm    # (b) the high-water mark reached
#   --role=netpull / --role=netpush                  # (c) the two ends of faults.sh's
#                                                    #     network-namespace test
#
# (a) The parent streams sequence numbers through a PUSH to a worker (a child
#     R process) that echoes each back through a PUSH to the parent's PULL,
#     with at most 20 unanswered. The worker is killed with SIGKILL in the
#     middle; the parent keeps going (its sends time out with FALSE while no
#     worker is there); a new worker connects and the stream picks up again.
#     Pass: the parent's sockets never fail; what was lost is only what was
#     in flight to the dead worker (at most the window); every number sent
#     after the new worker connected comes back exactly once.
# (b) A PUSH whose peer does not read, with small high-water marks: the send
#     that finds the queue full returns FALSE after about the send timeout,
#     silently (no message) with zmq.errno() 11; with timeout 0 at once; the
#     same for send.multipart (no half message), send.raw.string,
#     send.null.msg and send.message.object; after the peer reads, sending
#     works again and everything queued arrives in order. Over tcp and inproc.

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})
suppressPackageStartupMessages(library(rzmq))
started <- Sys.time()
now <- function() as.numeric(Sys.time())

# ---- (a) a worker killed mid-stream -------------------------------------------------

echo_worker <- function(task_ep, result_ep, id) {
  library(rzmq)
  ctx <- init.context()
  pull <- init.socket(ctx, "ZMQ_PULL"); push <- init.socket(ctx, "ZMQ_PUSH")
  connect.socket(pull, task_ep); connect.socket(push, result_ep)
  repeat {
    x <- receive.socket(pull)
    send.socket(push, c(id, x))
  }
}

part_kill <- function() {
  say("(a) a worker killed with SIGKILL in the middle of a stream")
  ctx <- init.context()
  tasks <- init.socket(ctx, "ZMQ_PUSH"); results <- init.socket(ctx, "ZMQ_PULL")
  set.send.timeout(tasks, 200L); set.rcv.timeout(results, 50L)
  task_ep <- { bind.socket(tasks, "tcp://127.0.0.1:*"); get.last.endpoint(tasks) }
  result_ep <- { bind.socket(results, "tcp://127.0.0.1:*"); get.last.endpoint(results) }
  W <- 20
  start_worker <- function(id) callr::r_bg(echo_worker, list(task_ep, result_ep, id), supervise = TRUE)

  sent <- list()            # seq -> time sent (TRUE returned)
  echoed <- integer(0); echoed_by <- integer(0)
  send_false <- 0; errors <- 0
  next_seq <- 1L; last_echo <- now()
  outstanding <- integer(0)
  pump <- function() {
    # send while fewer than W are unanswered; a second of silence writes
    # the unanswered off as lost with the worker they went to
    if (length(outstanding) > 0 && now() - last_echo > 1) outstanding <<- integer(0)
    if (length(outstanding) < W) {
      r <- tryCatch(send.socket(tasks, next_seq), error = function(e) { errors <<- errors + 1; NA })
      if (isTRUE(r)) {
        sent[[next_seq]] <<- now(); outstanding <<- c(outstanding, next_seq); next_seq <<- next_seq + 1L
      } else if (identical(r, FALSE)) {
        send_false <<- send_false + 1
        if (zmq.errno() != 11L) errors <<- errors + 1
      }
    }
    m <- tryCatch(receive.socket(results), error = function(e) { errors <<- errors + 1; NULL })
    if (!is.null(m)) {
      echoed <<- c(echoed, as.integer(m[2])); echoed_by <<- c(echoed_by, as.integer(m[1]))
      outstanding <<- setdiff(outstanding, as.integer(m[2])); last_echo <<- now()
    }
  }
  w1 <- start_worker(1L)
  t_end <- now() + 60
  while (sum(echoed_by == 1L) < 2000 && now() < t_end) pump()
  # in the middle of the stream: a full window on its way, then SIGKILL
  for (k in seq_len(W - length(outstanding))) {
    if (isTRUE(send.socket(tasks, next_seq))) {
      sent[[next_seq]] <- now(); outstanding <- c(outstanding, next_seq); next_seq <- next_seq + 1L
    }
  }
  w1$kill() # SIGKILL, at once: some of the window is still on its way
  t_kill <- now()
  in_flight <- length(outstanding)
  seq_at_kill <- next_seq - 1L
  while (now() - t_kill < 0.3) pump() # echoes already on their way still come in
  say(sprintf("    worker 1 killed with SIGKILL with %d messages unanswered", in_flight))
  while (now() - t_kill < 1.5) pump() # no worker for a while: the parent carries on
  seq_before_w2 <- next_seq - 1L
  false_without_worker <- send_false
  w2 <- start_worker(2L)
  t_w2 <- now()
  first_w2 <- NA
  while (sum(echoed_by == 2L) < 2000 && now() < t_w2 + 60) {
    pump()
    if (is.na(first_w2) && any(echoed_by == 2L)) first_w2 <- now() - t_w2
  }
  # let the last ones come back
  t_drain <- now()
  while (length(outstanding) > 0 && now() - t_drain < 5) {
    m <- receive.socket(results)
    if (!is.null(m)) {
      echoed <- c(echoed, as.integer(m[2])); echoed_by <- c(echoed_by, as.integer(m[1]))
      outstanding <- setdiff(outstanding, as.integer(m[2]))
    }
  }
  w2$kill()
  total_sent <- next_seq - 1L
  lost <- setdiff(seq_len(total_sent), echoed)
  after <- sum(echoed_by == 2L)
  say(sprintf("    sent %d; echoed by the killed worker %d, by the new worker %d (the first %.2f s after it started); sends that timed out while no worker was connected: %d",
              total_sent, sum(echoed_by == 1L), after, first_w2, false_without_worker))
  say(sprintf("    lost (in flight to the killed worker): %d: %s", length(lost), paste(utils::head(lost, 25), collapse = " ")))
  check(errors == 0, "(a) the parent's sockets never raised an error or a non-EAGAIN failure")
  check(sum(echoed_by == 1L) >= 2000, "(a) worker 1 echoed 2000 messages before the kill")
  check(after >= 2000, "(a) the stream picked up again: the new worker echoed 2000 messages")
  check(!anyDuplicated(echoed), "(a) no message echoed twice")
  check(length(lost) <= W, sprintf("(a) no more lost than the %d in flight", W))
  check(all(lost > seq_at_kill - W & lost <= seq_at_kill), "(a) only messages in flight at the kill were lost", lost)
  check(all(seq(seq_before_w2 + 1L, total_sent) %in% echoed), "(a) every message sent after the new worker started came back")
  check(false_without_worker >= 1, "(a) with no worker, sends returned FALSE after their timeout instead of blocking")
  destroy.context(ctx, linger = 0)
}

# ---- (b) the high-water mark ------------------------------------------------------------

part_hwm <- function(transport) {
  say(sprintf("(b) the high-water mark, over %s", transport))
  ctx <- init.context()
  push <- init.socket(ctx, "ZMQ_PUSH"); pull <- init.socket(ctx, "ZMQ_PULL")
  set.sockopt(push, "SNDHWM", 5L); set.sockopt(pull, "RCVHWM", 5L)
  if (transport == "tcp") {
    set.sndbuf(push, 4096); set.rcvbuf(pull, 4096)
  }
  ep <- if (transport == "tcp") "tcp://127.0.0.1:*" else "inproc://hwm"
  bind.socket(pull, ep); connect.socket(push, get.last.endpoint(pull))
  timeout <- 300L
  set.send.timeout(push, timeout)
  payload <- as.raw(rep_len(1:255, 1000))
  queued <- 0L
  repeat {
    t0 <- now()
    msgs <- utils::capture.output(r <- send.socket(push, list(queued + 1L, payload)), type = "message")
    took <- now() - t0
    if (!isTRUE(r)) break
    queued <- queued + 1L
    if (queued > 100000L) break
  }
  err <- zmq.errno()
  say(sprintf("    %d messages queued, then send.socket returned %s after %.0f ms (timeout %d ms), zmq.errno() %d, messages %d",
              queued, format(r), 1000 * took, timeout, err, length(msgs)))
  tag <- sprintf("(b, %s)", transport)
  check(identical(r, FALSE) && queued < 100000L, paste(tag, "the send at the high-water mark returned FALSE"))
  check(took >= 0.9 * timeout / 1000 && took < timeout / 1000 + 1, paste(tag, "after about the send timeout"), took)
  check(err == 11L, paste(tag, "zmq.errno() is 11 (EAGAIN)"), err)
  check(length(msgs) == 0, paste(tag, "silently (no message)"), msgs)

  # every other kind of send at the mark: FALSE, silent, EAGAIN
  set.send.timeout(push, 0L)
  m <- init.message("object")
  kinds <- list(
    send.socket = function() send.socket(push, "x"),
    send.multipart = function() send.multipart(push, list(charToRaw("a"), charToRaw("b"))),
    send.raw.string = function() send.raw.string(push, "s"),
    send.null.msg = function() send.null.msg(push),
    send.message.object = function() send.message.object(push, m))
  for (nm in names(kinds)) {
    t0 <- now()
    msgs <- utils::capture.output(r <- kinds[[nm]](), type = "message")
    took <- now() - t0
    check(identical(r, FALSE) && zmq.errno() == 11L && length(msgs) == 0 && took < 0.1,
          sprintf("%s %s with timeout 0: FALSE at once, silently, errno 11", tag, nm),
          list(r = r, errno = zmq.errno(), msgs = msgs, took = took))
  }
  # the peer reads: everything queued arrives in order, then sending works again
  set.rcv.timeout(pull, 5000L)
  got <- vapply(seq_len(queued), function(i) { x <- receive.socket(pull); if (is.list(x)) x[[1]] else NA_integer_ }, 1L)
  check(identical(got, seq_len(queued)), paste(tag, "everything queued arrived, in order"))
  check(is.null(receive.socket(pull, dont.wait = TRUE)), paste(tag, "and no half message or extra"))
  set.send.timeout(push, 2000L)
  check(isTRUE(send.socket(push, "again")) && identical(receive.socket(pull), "again"),
        paste(tag, "after the peer read, sending works again"))
  destroy.context(ctx, linger = 0)
}

# ---- (c) the two ends of the network-namespace test ----------------------------------------

# Receives until the sender's "end" marker or 60 s of silence; writes the
# count received so far to `progress` every 100 ms; prints the verdict.
role_netpull <- function() {
  endpoint <- arg("endpoint", ""); progress <- arg("progress", "")
  ctx <- init.context()
  pull <- init.socket(ctx, "ZMQ_PULL")
  set.rcv.timeout(pull, 100L)
  stopifnot(isTRUE(bind.socket(pull, endpoint)))
  got <- integer(0); n_expected <- NA; last_write <- 0; silent_since <- now()
  tmp <- paste0(progress, ".tmp")
  report_count <- function() { # atomically: the shell reads it at any moment
    writeLines(as.character(length(got)), tmp)
    file.rename(tmp, progress)
  }
  repeat {
    m <- receive.socket(pull)
    if (!is.null(m)) {
      silent_since <- now()
      if (is.character(m)) { n_expected <- as.integer(sub("end ", "", m)); break }
      got <- c(got, as.integer(m))
    }
    if (now() - last_write > 0.1) { report_count(); last_write <- now() }
    if (now() - silent_since > 60) break
  }
  report_count()
  lost <- if (is.na(n_expected)) NA else length(setdiff(seq_len(n_expected), got))
  cat(sprintf("received %d of %s; lost %s; duplicates %d; in order %s\n", length(got), format(n_expected),
              format(lost), sum(duplicated(got)), !is.unsorted(got, strictly = TRUE)))
  ok <- !is.na(n_expected) && identical(got, seq_len(n_expected))
  cat(if (ok) "netpull: PASS\n" else "netpull: FAIL\n")
  quit(save = "no", status = if (ok) 0 else 1)
}

# Sends 1..n at `rate` per second, then "end n"; waits until delivered.
role_netpush <- function() {
  endpoint <- arg("endpoint", ""); n <- arg("n", 3000L); rate <- arg("rate", 200)
  ctx <- init.context()
  push <- init.socket(ctx, "ZMQ_PUSH")
  stopifnot(isTRUE(connect.socket(push, endpoint)))
  t0 <- now(); failed <- 0L
  for (i in seq_len(n)) {
    wait <- t0 + i / rate - now()
    if (wait > 0) Sys.sleep(wait)
    if (!isTRUE(send.socket(push, i))) failed <- failed + 1L
  }
  send.socket(push, sprintf("end %d", n))
  destroy.context(ctx) # waits for delivery (linger -1)
  cat(sprintf("sent %d (failed sends %d) in %.1f s\n", n, failed, now() - t0))
  quit(save = "no", status = if (failed == 0) 0 else 1)
}

role <- arg("role", "")
if (role == "netpull") role_netpull()
if (role == "netpush") role_netpush()

say(describe_rzmq())
part <- arg("part", "kill,hwm")
if (grepl("kill", part)) part_kill()
if (grepl("hwm", part)) { part_hwm("tcp"); part_hwm("inproc") }
finish(sprintf("faults (%s)", part), started)
