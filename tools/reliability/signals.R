# signals.R: SIGINTs at random moments into a child R process that loops
# over send / receive / poll with a peer (this process), a PAIR ping-pong
# with sequence numbers.
#
#   Rscript tools/reliability/signals.R [--signals=100] [--seed=1]
#
# The child's loop body runs each call inside allowInterrupts() within
# suspendInterrupts(), so an interrupt is raised either inside a call
# (receive.socket, poll.socket, receive.multipart, a send that waits at the
# high-water mark, send.messages waiting at a high-water mark, or
# receive.messages waiting for a pong) or, for a signal that lands between calls, after the
# bookkeeping of the call before it: nothing the child received or sent goes
# unrecorded. Every interrupt is caught by the loop's tryCatch(interrupt =),
# counted, and acknowledged to this process (which sends the next signal
# only after the acknowledgement, so no two signals merge into one).
#
# The protocol: the child sends ping k+1 once pong k is recorded, and
# waits for pong k+1; the peer answers every ping after a random 0-60 ms.
# A receive that times out (2 s) re-sends the same ping, which the peer
# answers again; the child then sees that pong twice (the second is
# "stale"). Pass, exactly:
#  - interrupts caught == signals sent, each within 1 s of its signal;
#  - every frame the child received is a whole pong (an integer) or "stop";
#  - fresh pongs are 1, 2, ..., K in order; a stale pong is always a repeat
#    of the previous one, and stale pongs == repeated pings at the peer ==
#    the child's receive timeouts (0 unless something was lost);
#  - pongs the child recorded == pongs the peer sent (none lost, none
#    duplicated by the transport);
#  - the batches: the child drains the batch reader between calls; what it
#    received is exactly 1..S in order, where S adds up the counts
#    send.messages() returned and the $sent of each rzmq_interrupt that
#    ended one (none lost, none duplicated);
#  - the child never wedges (deadline) and exits with status 0.

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})

n_signals <- arg("signals", 100L)
seed <- arg("seed", 1L)
deadline <- arg("deadline", 60 + 3 * n_signals)
started <- begin(sprintf("%d SIGINTs, seed %d, deadline %g s", n_signals, seed, deadline))
set.seed(seed)

child <- function(pair_ep, ctl_ep, seed) {
  library(rzmq)
  set.seed(seed)
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  ctl <- init.socket(ctx, "ZMQ_PUSH")
  connect.socket(s, pair_ep); connect.socket(ctl, ctl_ep)
  set.rcv.timeout(s, 2000L)
  # a PUSH whose reader never reads: a send there waits 300 ms at the mark
  stuck_pull <- init.socket(ctx, "ZMQ_PULL")
  stuck <- init.socket(ctx, "ZMQ_PUSH")
  set.sockopt(stuck_pull, "RCVHWM", 1L); set.sockopt(stuck, "SNDHWM", 1L)
  bind.socket(stuck_pull, "inproc://stuck"); connect.socket(stuck, "inproc://stuck")
  set.send.timeout(stuck, 300L)
  idle <- init.socket(ctx, "ZMQ_PULL")
  # batches: send.messages() into a PUSH that holds ~20 (its reader is
  # drained here between calls), so each batch waits 300 ms at the mark
  bpull <- init.socket(ctx, "ZMQ_PULL"); bpush <- init.socket(ctx, "ZMQ_PUSH")
  set.sockopt(bpull, "RCVHWM", 10L); set.sockopt(bpush, "SNDHWM", 10L)
  bind.socket(bpull, "inproc://batch"); connect.socket(bpush, "inproc://batch")
  set.send.timeout(bpush, 300L)
  bsent <- 0L; breceived <- integer(0); batches <- 0L
  batch_int <- c(counted = 0L, plain = 0L) # interrupts of a batch: with $sent, or raised outside it

  last <- 0L          # the last fresh pong recorded
  pending <- 0L       # the ping sent and not yet answered
  fresh <- integer(0); stale <- integer(0); garbled <- list()
  timeouts <- 0L; interrupts <- 0L; unacked <- FALSE
  where <- c(send = 0L, receive = 0L, poll = 0L, multipart = 0L, stuck_send = 0L, batch_send = 0L,
             batch_receive = 0L, compute = 0L, between = 0L)
  phase <- "between"; done <- FALSE; iterations <- 0L; raised_in <- ""
  record <- function(x) {
    if (identical(x, "stop")) { done <<- TRUE; return() }
    if (!is.integer(x) || length(x) != 1L || is.na(x)) { garbled[[length(garbled) + 1L]] <<- x; return() }
    if (x == pending && x == last + 1L) {
      fresh <<- c(fresh, x); last <<- x; pending <<- 0L
    } else stale <<- c(stale, x)
  }
  # The loop's back edges are inside the tryCatch (an interrupt raised at
  # one must still be caught); only the outer repeat is outside, and no
  # signal comes while the child has not acknowledged the last one.
  repeat {
    r <- tryCatch({
      while (!done) {
        suspendInterrupts({
          iterations <- iterations + 1L
          if (unacked) { # the handler only notes it: acknowledge here, inside the tryCatch
            send.socket(ctl, list("interrupt", interrupts, raised_in))
            unacked <- FALSE
          }
          if (pending == 0L) {
            phase <- "send"
            if (isTRUE(allowInterrupts(send.socket(s, last + 1L)))) pending <- last + 1L
          }
          # what the batch sender queued so far (never interrupted: suspended)
          breceived <- c(breceived, unlist(receive.messages(bpull, n = 1000L, dont.wait = TRUE)))
          op <- sample(c("receive", "poll", "multipart", "stuck_send", "batch_send", "batch_receive", "compute"),
                       1, prob = c(5, 3, 2, 1, 2, 3, 1))
          phase <- op
          if (op == "receive") {
            x <- allowInterrupts(receive.socket(s))
            if (is.null(x)) { timeouts <- timeouts + 1L; pending <- 0L } else record(x)
          } else if (op == "poll") {
            ev <- allowInterrupts(poll.socket(list(s), list("read"), timeout = if (runif(1) < 0.5) -1 else 5))
            if (isTRUE(ev[[1]]$read)) record(receive.socket(s, dont.wait = TRUE))
          } else if (op == "multipart") {
            parts <- allowInterrupts(receive.multipart(s))
            if (is.null(parts)) { timeouts <- timeouts + 1L; pending <- 0L }
            else if (length(parts) != 1L) garbled[[length(garbled) + 1L]] <- parts
            else record(unserialize(parts[[1]]))
          } else if (op == "stuck_send") {
            allowInterrupts(send.socket(stuck, 0L))
          } else if (op == "batch_send") {
            batches <- batches + 1L
            n <- allowInterrupts(send.messages(bpush, as.list(bsent + seq_len(50L))))
            bsent <- bsent + n
          } else if (op == "batch_receive") {
            got <- allowInterrupts(receive.messages(s, n = 10L))
            if (length(got) == 0L) { timeouts <- timeouts + 1L; pending <- 0L }
            for (x in got) record(x)
          } else {
            # R code and no call for ~20 ms: a signal now is deferred
            t_busy <- proc.time()[["elapsed"]]
            while (proc.time()[["elapsed"]] - t_busy < 0.02) invisible(sum(runif(1000)))
          }
          phase <- "between"
        })
        # a signal that came while interrupts were suspended (between calls,
        # or during a call that returned without waiting a whole slice) is
        # raised here: a 1 ms poll on a socket that never has anything to
        # read ends with an interrupt check
        poll.socket(list(idle), list("read"), timeout = 0.001)
      }
      "done"
    }, interrupt = function(e) {
      interrupts <<- interrupts + 1L
      where[[phase]] <<- where[[phase]] + 1L
      raised_in <<- phase
      unacked <<- TRUE
      if (phase == "batch_send") {
        # the batch says how many it queued before the interrupt; one
        # raised before it started queued none
        if (inherits(e, "rzmq_interrupt")) {
          bsent <<- bsent + e$sent
          batch_int[["counted"]] <<- batch_int[["counted"]] + 1L
        } else batch_int[["plain"]] <<- batch_int[["plain"]] + 1L
      }
      "interrupted"
    })
    if (identical(r, "done")) break
  }
  breceived <- c(breceived, unlist(receive.messages(bpull, n = 1e6, dont.wait = TRUE)))
  # report where each interrupt was raised, the counts, and exit
  list(interrupts = interrupts, where = where, fresh = fresh, stale = stale, garbled = garbled,
       timeouts = timeouts, iterations = iterations, last = last,
       bsent = bsent, breceived = breceived, batches = batches, batch_int = batch_int)
}

ctx <- init.context()
pair <- init.socket(ctx, "ZMQ_PAIR"); ctl <- init.socket(ctx, "ZMQ_PULL")
bind.socket(pair, "tcp://127.0.0.1:*"); bind.socket(ctl, "tcp://127.0.0.1:*")
invisible(set.send.timeout(pair, 5000L))
proc <- callr::r_bg(child, list(get.last.endpoint(pair), get.last.endpoint(ctl), seed), supervise = TRUE)

now <- function() as.numeric(Sys.time())
pings <- integer(0); pongs_sent <- 0L; due <- list()
signals_sent <- 0L; acks <- 0L; unacked_signals <- 0L; latencies <- numeric(0); lat_phase <- character(0)
waiting_ack <- FALSE; sent_at <- 0; next_signal <- now() + 1 # let the child start
stop_sent <- FALSE; pings_after_stop <- 0L
t_limit <- now() + deadline; wedged <- FALSE; last_ping_at <- now()
repeat {
  ev <- poll.socket(list(pair, ctl), list("read", "read"), timeout = 0.005)
  if (isTRUE(ev[[1]]$read)) {
    p <- receive.socket(pair)
    last_ping_at <- now()
    if (stop_sent) pings_after_stop <- pings_after_stop + 1L else {
      pings <- c(pings, p)
      due[[length(due) + 1L]] <- list(at = now() + runif(1, 0, 0.06), value = p)
    }
  }
  if (isTRUE(ev[[2]]$read)) {
    m <- receive.socket(ctl)
    if (is.list(m) && identical(m[[1]], "interrupt")) {
      acks <- acks + 1L
      if (waiting_ack) {
        latencies <- c(latencies, now() - sent_at)
        lat_phase <- c(lat_phase, m[[3]])
      }
      waiting_ack <- FALSE
      next_signal <- now() + runif(1, 0.01, 0.15)
    }
  }
  # answer the pings that are due; a pong is whichever form the child asks for
  # next, so send the value itself (receive.multipart reads a one-part message)
  if (length(due)) {
    is_due <- vapply(due, function(d) d$at <= now(), logical(1))
    for (d in due[is_due]) { send.socket(pair, d$value); pongs_sent <- pongs_sent + 1L }
    due <- due[!is_due]
  }
  if (!waiting_ack && signals_sent < n_signals && now() >= next_signal) {
    proc$interrupt()
    signals_sent <- signals_sent + 1L; waiting_ack <- TRUE; sent_at <- now()
  }
  if (waiting_ack && now() - sent_at > 5) { # no acknowledgement: say so, go on
    unacked_signals <- unacked_signals + 1L; waiting_ack <- FALSE; next_signal <- now()
  }
  if (signals_sent == n_signals && !waiting_ack && !stop_sent && length(due) == 0) {
    send.socket(pair, "stop"); stop_sent <- TRUE
  }
  if (!proc$is_alive()) break
  if (now() > t_limit) { wedged <- TRUE; break }
  if (!stop_sent && now() - last_ping_at > 10) { wedged <- TRUE; break } # no progress
}
proc$wait(10000)
if (proc$is_alive()) { wedged <- TRUE; proc$kill() }
status <- proc$get_exit_status()
res <- tryCatch(proc$get_result(), error = function(e) {
  cat("child failed:", conditionMessage(e), "\n", substr(tryCatch(proc$read_all_error(), error = function(e) ""), 1, 3000), "\n")
  NULL
})
destroy.context(ctx, linger = 0)

dup_pings <- sum(duplicated(pings))
say(sprintf("signals sent %d, interrupts acknowledged %d (unacknowledged %d); acknowledgement latency median %.0f ms, max %.0f ms",
            signals_sent, acks, unacked_signals, 1000 * stats::median(c(latencies, NA), na.rm = TRUE),
            1000 * max(c(latencies, 0))))
if (length(latencies)) {
  by_phase <- tapply(latencies, lat_phase, function(x) sprintf("n %d, median %.0f ms, max %.0f ms", length(x), 1000 * median(x), 1000 * max(x)))
  for (nm in names(by_phase)) say(sprintf("  latency, raised in %-10s %s", paste0(nm, ":"), by_phase[[nm]]))
}
check(!wedged, "the child never wedged (deadline, and pings kept coming)")
check(identical(status, 0L), "the child exited with status 0", status)
check(!is.null(res), "the child returned its record")
if (!is.null(res)) {
  say(sprintf("child: %d interrupts caught; raised in: %s", res$interrupts,
              paste(names(res$where), res$where, sep = " ", collapse = ", ")))
  say(sprintf("child: %d iterations, %d fresh pongs (1..%d), %d stale, %d garbled, %d receive timeouts; peer: %d pings (%d repeated), %d pongs sent, %d pings after stop",
              res$iterations, length(res$fresh), res$last, length(res$stale), length(res$garbled), res$timeouts,
              length(pings), dup_pings, pongs_sent, pings_after_stop))
  check(res$interrupts == signals_sent && acks == signals_sent,
        "every SIGINT raised exactly one interrupt, caught by the loop", c(signals = signals_sent, caught = res$interrupts, acks = acks))
  check(max(c(latencies, 0)) < 1, "each interrupt was raised within 1 s of its signal")
  check(length(res$garbled) == 0, "every frame received was a whole pong", res$garbled)
  check(identical(res$fresh, seq_len(res$last)), "fresh pongs are 1..K in order (none lost, none skipped)")
  check(all(res$stale %in% res$fresh), "stale pongs only repeat earlier ones")
  check(length(res$stale) == dup_pings && dup_pings == res$timeouts,
        "stale pongs == repeated pings == receive timeouts", c(stale = length(res$stale), dup = dup_pings, timeouts = res$timeouts))
  check(length(res$fresh) + length(res$stale) == pongs_sent,
        "pongs recorded by the child == pongs the peer sent (nothing half received or lost)",
        c(recorded = length(res$fresh) + length(res$stale), sent = pongs_sent))
  check(sum(res$where) == res$interrupts, "every interrupt is accounted for by where it was raised")
  say(sprintf("child: %d send.messages batches, %d messages counted as sent, %d received; interrupts in a batch: %d with $sent, %d before it started",
              res$batches, res$bsent, length(res$breceived), res$batch_int[["counted"]], res$batch_int[["plain"]]))
  check(identical(res$breceived, seq_len(res$bsent)),
        "batches: the messages received are exactly 1..(the counts returned and the interrupts' $sent), in order",
        list(sent = res$bsent, received = length(res$breceived)))
  # (with fewer signals, some runs have none there by chance: figures only)
  if (n_signals >= 100L) {
    check(res$batch_int[["counted"]] > 0L, "some interrupts landed in a waiting send.messages")
    check(res$where[["batch_receive"]] > 0L, "some interrupts landed in a waiting receive.messages")
  }
  check(res$where[["compute"]] == 0, "no interrupt raised inside suspendInterrupts (the harness defers them)")
}
finish("signals", started)
