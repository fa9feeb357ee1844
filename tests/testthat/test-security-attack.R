# A CURVE server with an authenticator under attack: a raw-socket client
# (scripts/zmtp-attacker.py, python3 without pyzmq) sends random bytes,
# truncated greetings, frames that declare 2^62 bytes, forged HELLOs and
# leaves connections half open, while a legitimate client keeps asking the
# server (in a child R) for replies. Every request must be answered in
# time, and the server's resident memory must stay bounded.

attack_python3 <- function() {
  py <- "/usr/bin/python3"
  if (!file.exists(py)) py <- unname(Sys.which("python3"))
  if (!nzchar(py)) {
    stop("python3 is required for the attack test (apt-get install python3)",
         call. = FALSE)
  }
  py
}

test_that("a CURVE server keeps serving a real client, in bounded memory, through garbage and forged handshakes", {
  skip_on_cran()
  skip_if_not_installed("callr")
  py <- attack_python3()
  expect_true(zmq.has("curve"))
  sk <- curve.keypair(); ck <- curve.keypair()
  endpoint <- dead_endpoint()
  server <- child_r(function(secret, client_public, endpoint) {
    library(rzmq)
    rss_kb <- function() {
      line <- grep("^VmRSS:", readLines("/proc/self/status"), value = TRUE)
      as.numeric(gsub("[^0-9]", "", line))
    }
    ctx <- init.context()
    auth <- init.authenticator(ctx, curve = client_public)
    s <- init.socket(ctx, "ZMQ_REP")
    set.curve.server(s, secret)
    set.rcv.timeout(s, 60000L)
    stopifnot(bind.socket(s, endpoint))
    repeat {
      req <- receive.socket(s)
      if (is.null(req)) break
      if (identical(req, "stop")) { send.socket(s, "bye"); break }
      send.socket(s, list(echo = req, rss_kb = rss_kb()))
    }
    log <- authenticator.log(auth)
    destroy.context(ctx, linger = 0)
    list(admitted = sum(log$allowed), refused = sum(!log$allowed))
  }, args = list(secret = sk$secret, client_public = ck$public, endpoint = endpoint))
  on.exit(if (server$is_alive()) server$kill(), add = TRUE)

  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0), add = TRUE)
  client <- init.socket(ctx, "ZMQ_REQ")
  set.curve.client(client, sk$public, ck)
  set.send.timeout(client, 5000L)
  connect.socket(client, endpoint)
  ask <- function(x) {
    send.socket(client, x)
    recv_within(client, timeout = 5, proc = server)
  }
  # warm up, then the baseline
  expect_identical(lapply(1:20, function(i) ask(i)$echo), as.list(1:20))
  base_kb <- ask("rss")$rss_kb

  # Under AddressSanitizer (tools/reliability/sanitize.sh) a 2^62-byte
  # malloc aborts where glibc's returns NULL, and freed memory is held in
  # quarantine: no huge frames there, and resident memory is not judged.
  sanitized <- nzchar(Sys.getenv("ASAN_OPTIONS")) || grepl("asan", Sys.getenv("LD_PRELOAD"))
  port <- sub(".*:", "", endpoint)
  attacker <- callr::process$new(py, c(script_path("zmtp-attacker.py"), "127.0.0.1", port,
                                       Sys.getenv("RZMQ_ATTACK_SECONDS", "6"),
                                       if (sanitized) "--no-huge"),
                                 stdout = "|", stderr = "|")
  on.exit(if (attacker$is_alive()) attacker$kill(), add = TRUE)
  served <- 0L
  echoes <- list()
  max_kb <- base_kb
  latest <- 0
  # the attacker ends by its own clock; this loop ends by ours too
  give_up <- Sys.time() + as.numeric(Sys.getenv("RZMQ_ATTACK_SECONDS", "6")) + 60
  while (attacker$is_alive() && Sys.time() < give_up) {
    t0 <- Sys.time()
    r <- ask(served)
    latest <- max(latest, as.numeric(Sys.time() - t0, units = "secs"))
    echoes[[served + 1L]] <- r$echo
    max_kb <- max(max_kb, r$rss_kb)
    served <- served + 1L
  }
  expect_identical(echoes, as.list(seq_len(served) - 1L))
  attacker$wait(10000)
  expect_false(attacker$is_alive()) # it ended within its time
  if (attacker$is_alive()) attacker$kill()
  counts <- trimws(attacker$read_all_output())
  # the attack happened: every kind of hostile connection was made, many times
  for (kind in c("garbage", "truncated", if (!sanitized) "huge", "hello", "halfopen")) {
    n <- as.numeric(sub(".*=", "", regmatches(counts, regexpr(paste0(kind, "=[0-9]+"), counts))))
    expect_gt(n, 10, label = paste(kind, "connections"))
  }
  expect_gt(served, 50)        # served throughout
  expect_lt(latest, 2)         # none waited long
  if (!sanitized) expect_lt(max_kb - base_kb, 64 * 1024) # bounded: under 64 MB more than before
  expect_identical(ask("after")$echo, "after")
  send.socket(client, "stop")
  expect_identical(recv_within(client, timeout = 5, proc = server), "bye")
  child_wait(server, 30)
  res <- server$get_result()
  if (nzchar(Sys.getenv("RZMQ_ATTACK_REPORT"))) {
    message(sprintf("attack: %s; served %d, slowest %.3f s, RSS %.0f -> %.0f MB max",
                    counts, served, latest, base_kb / 1024, max_kb / 1024))
  }
  expect_identical(res$admitted, 1L) # the real client; hostile ones never reached ZAP with a key
})
