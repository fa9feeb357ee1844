# load.R: 1,000,000 messages from 4 producer processes to 1 consumer process
# over tcp://127.0.0.1 (PUSH -> PULL). Each message carries the producer's
# id, a sequence number and a check value; every 1000th also carries 100 KB
# (the large-message paths). Pass: no message lost, none duplicated, each
# producer's stream in order; per producer the count and checksum the
# consumer computed equal what the producer says it sent; and the
# consumer's resident memory (VmRSS, after gc()) after 1,000,000 messages
# within 10% of its value after 100,000.
#
#   Rscript tools/reliability/load.R [--messages=1000000] [--producers=4]
#       [--deadline=900]

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})

n_total <- arg("messages", 1000000L)
n_prod <- arg("producers", 4L)
deadline <- arg("deadline", 900)
per_prod <- n_total %/% n_prod
n_total <- per_prod * n_prod
started <- begin(sprintf("%d producers x %d messages = %d messages over tcp://127.0.0.1",
                         n_prod, per_prod, n_total))

# depends on the producer too, so a message credited to the wrong producer shows
check_value <- function(id, seq) ((seq + id * 1e6) * 2654435761) %% 2147483647

consumer <- function(n_prod, n_total, endpoint_file, check_value) {
  library(rzmq)
  rss <- function() as.numeric(gsub("[^0-9]", "", grep("^VmRSS:", readLines("/proc/self/status"), value = TRUE)))
  ctx <- init.context()
  pull <- init.socket(ctx, "ZMQ_PULL")
  set.rcv.timeout(pull, 60000L) # a producer that stops sending fails the run, not hangs it
  bind.socket(pull, "tcp://127.0.0.1:*")
  writeLines(get.last.endpoint(pull), endpoint_file)
  count <- numeric(n_prod); sum_seq <- numeric(n_prod); sum_chk <- numeric(n_prod)
  last <- rep(0, n_prod); out_of_order <- numeric(n_prod); bad_check <- 0; bad_big <- 0
  reported <- vector("list", n_prod)
  received <- 0
  marks <- c(1e5, 2e5, 5e5, 1e6)
  marks <- marks[marks <= n_total]
  rss_marks <- c(); rss_raw <- c()
  t0 <- proc.time()[["elapsed"]]
  while (length(Filter(Negate(is.null), reported)) < n_prod) {
    m <- receive.socket(pull)
    if (is.null(m)) break # 60 s without a message
    id <- m[1]
    if (m[2] < 0) { # done: the producer's own count and checksums
      reported[[id]] <- m[3:5]
      next
    }
    s <- m[2]
    received <- received + 1
    count[id] <- count[id] + 1
    sum_seq[id] <- sum_seq[id] + s
    sum_chk[id] <- sum_chk[id] + m[3]
    if (s != last[id] + 1) out_of_order[id] <- out_of_order[id] + 1
    last[id] <- s
    if (m[3] != check_value(id, s)) bad_check <- bad_check + 1
    if (s %% 1000 == 0 && (length(m) != 25003 || any(m[4:25003] != s %% 1000000))) bad_big <- bad_big + 1
    if (received %in% marks) {
      mark <- sprintf("%.0f", received)
      rss_raw[mark] <- rss()
      invisible(gc())
      rss_marks[mark] <- rss()
    }
  }
  list(received = received, count = count, sum_seq = sum_seq, sum_chk = sum_chk,
       out_of_order = out_of_order, bad_check = bad_check, bad_big = bad_big,
       reported = reported, rss = rss_marks, rss_raw = rss_raw,
       seconds = proc.time()[["elapsed"]] - t0,
       extra = is.null(receive.socket(pull, dont.wait = TRUE)))
}

producer <- function(id, n, endpoint, check_value) {
  library(rzmq)
  ctx <- init.context()
  push <- init.socket(ctx, "ZMQ_PUSH")
  connect.socket(push, endpoint)
  sent <- 0; sum_seq <- 0; sum_chk <- 0; failed <- 0
  for (s in seq_len(n)) {
    chk <- check_value(id, s)
    msg <- if (s %% 1000 == 0) c(id, s, chk, rep(s %% 1000000, 25000)) else c(id, s, chk)
    if (isTRUE(send.socket(push, as.integer(msg)))) {
      sent <- sent + 1; sum_seq <- sum_seq + s; sum_chk <- sum_chk + chk
    } else failed <- failed + 1
  }
  # done: what this producer sent, as doubles (the sums pass 2^31)
  send.socket(push, c(id, -1, sent, sum_seq, sum_chk))
  destroy.context(ctx) # waits until everything queued has been delivered
  list(sent = sent, failed = failed)
}

work <- tempfile("rzmq-load")
dir.create(work)
ep_file <- file.path(work, "endpoint")
cons <- callr::r_bg(consumer, args = list(n_prod = n_prod, n_total = n_total, endpoint_file = ep_file,
                                          check_value = check_value), supervise = TRUE)
t_wait <- Sys.time()
while (!file.exists(ep_file) && cons$is_alive() && difftime(Sys.time(), t_wait, units = "secs") < 60) Sys.sleep(0.05)
Sys.sleep(0.05)
endpoint <- readLines(ep_file)
say("consumer bound ", endpoint)
t0 <- Sys.time()
prods <- lapply(seq_len(n_prod), function(id) {
  callr::r_bg(producer, args = list(id = id, n = per_prod, endpoint = endpoint, check_value = check_value),
              supervise = TRUE)
})
# wait for all, within the deadline
all_procs <- c(list(cons), prods)
while (any(vapply(all_procs, function(p) p$is_alive(), logical(1))) &&
       difftime(Sys.time(), started, units = "secs") < deadline) {
  Sys.sleep(0.2)
}
elapsed <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
timed_out <- any(vapply(all_procs, function(p) p$is_alive(), logical(1)))
for (p in all_procs) if (p$is_alive()) p$kill()
get <- function(p) tryCatch(p$get_result(), error = function(e) {
  cat("child failed:", conditionMessage(e), "\n", tryCatch(p$read_all_error(), error = function(e) ""), "\n")
  NULL
})
pres <- lapply(prods, get)
cres <- get(cons)
unlink(work, recursive = TRUE)

check(!timed_out, sprintf("every process finished within %g s", deadline))
check(!any(vapply(pres, is.null, logical(1))), "every producer finished")
check(!is.null(cres), "the consumer finished")
if (!is.null(cres)) {
  say(sprintf("consumer received %d messages in %.1f s (%.0f messages/s); wall time %.1f s",
              as.integer(cres$received), cres$seconds, cres$received / cres$seconds, elapsed))
  for (id in seq_len(n_prod)) {
    rep_ <- cres$reported[[id]]
    say(sprintf("producer %d: sent %s (send failures %s), received %d, checksum seq %s / %s, checksum check %s / %s, out of order %d",
                id, if (is.null(rep_)) "?" else format(rep_[1]), format(pres[[id]]$failed %||% NA),
                as.integer(cres$count[id]), format(cres$sum_seq[id], scientific = FALSE),
                if (is.null(rep_)) "?" else format(rep_[2], scientific = FALSE),
                format(cres$sum_chk[id], scientific = FALSE),
                if (is.null(rep_)) "?" else format(rep_[3], scientific = FALSE),
                as.integer(cres$out_of_order[id])))
    check(!is.null(rep_), sprintf("producer %d's done message arrived", id))
    if (!is.null(rep_)) {
      check(rep_[1] == per_prod && cres$count[id] == per_prod,
            sprintf("producer %d: all %d messages sent and received (none lost)", id, per_prod))
      check(cres$sum_seq[id] == rep_[2] && cres$sum_seq[id] == per_prod * (per_prod + 1) / 2,
            sprintf("producer %d: sequence checksum (no duplicates, none lost)", id))
      check(cres$sum_chk[id] == rep_[3], sprintf("producer %d: check-value checksum", id))
    }
    check(cres$out_of_order[id] == 0, sprintf("producer %d: every message in sequence (no gap, no duplicate)", id))
  }
  check(cres$bad_check == 0, "every message's check value matches its sequence number")
  check(cres$bad_big == 0, "every 100 KB message intact")
  check(isTRUE(cres$extra), "nothing after the done messages")
  check(cres$received == n_total, sprintf("%d messages received in all", n_total))
  say("consumer VmRSS after gc() (kB): ", paste(names(cres$rss), cres$rss, sep = " msgs: ", collapse = ", "))
  say("consumer VmRSS before gc() (kB): ", paste(names(cres$rss_raw), cres$rss_raw, sep = " msgs: ", collapse = ", "))
  if (length(cres$rss) >= 2) {
    first <- cres$rss[[1]]; final <- cres$rss[[length(cres$rss)]]
    growth <- (final - first) / first
    say(sprintf("VmRSS growth from %s to %s messages: %+.1f%%", names(cres$rss)[1],
                names(cres$rss)[length(cres$rss)], 100 * growth))
    check(abs(growth) <= 0.10, "consumer VmRSS after the last mark within 10% of after 100,000")
  }
}
finish("load", started)
