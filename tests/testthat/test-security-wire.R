# What an eavesdropper sees: an R client and an R server talk through
# scripts/byte-relay.py, a TCP relay that keeps every byte it forwards, and
# the test looks for a known payload in those bytes. With CURVE it must not
# be there, in either direction; without security, and with PLAIN (which
# authenticates but does not encrypt), it must, which shows the search
# works. The relay needs python3 (no pyzmq): skipped on CRAN; elsewhere
# (NOT_CRAN=true) a missing python3 or a libzmq without CURVE is a failure.

# 64 bytes that nothing else on the wire contains
MARKER <- "rzmq-wire-test: this line must never be readable on the network!"
stopifnot(nchar(MARKER, "bytes") == 64L)

relay_python3 <- function() {
  py <- "/usr/bin/python3"
  if (!file.exists(py)) py <- unname(Sys.which("python3"))
  if (!nzchar(py)) {
    stop("python3 is required for the wire tests (apt-get install python3)",
         call. = FALSE)
  }
  py
}

need_wire <- function() {
  skip_on_cran()
  skip_if_not_installed("callr")
  relay_python3()
  if (!zmq.has("curve")) {
    stop("libzmq was built without CURVE: zmq.has(\"curve\") is FALSE",
         call. = FALSE)
  }
}

# One line from the relay's stdout within `timeout` seconds.
relay_line <- function(proc, timeout = 10) {
  deadline <- Sys.time() + timeout
  repeat {
    line <- proc$read_output_lines(n = 1)
    if (length(line)) return(line)
    left <- as.numeric(deadline - Sys.time(), units = "secs")
    if (left <= 0 || !proc$is_alive() && !proc$is_incomplete_output()) {
      stop("no line from the relay within ", timeout, " s",
           child_stderr(proc), call. = FALSE)
    }
    proc$poll_io(as.integer(ceiling(left * 1000)))
  }
}

# Start the relay in front of `endpoint` (tcp://127.0.0.1:PORT); killed when
# the calling test ends.
start_relay <- function(endpoint, env = parent.frame()) {
  prefix <- tempfile("rzmq-wire-")
  proc <- callr::process$new(
    relay_python3(),
    c(script_path("byte-relay.py"), sub(".*:", "", endpoint), prefix, "60"),
    stdin = "|", stdout = "|", stderr = "|"
  )
  do.call(on.exit, list(substitute({
    p$kill()
    unlink(paste0(f, c(".up", ".down")))
  }, list(p = proc, f = prefix)), add = TRUE), envir = env)
  port <- relay_line(proc)
  expect_match(port, "^[0-9]+$")
  list(proc = proc, prefix = prefix,
       endpoint = paste0("tcp://127.0.0.1:", port))
}

# Stop the relay; what it forwarded each way, as raw vectors.
stop_relay <- function(relay) {
  relay$proc$write_input("stop\n")
  summary <- relay_line(relay$proc)
  child_wait(relay$proc, 10)
  expect_identical(relay$proc$get_exit_status(), 0L,
                   info = relay$proc$read_all_error())
  read <- function(f) readBin(f, "raw", file.size(f))
  list(summary = summary,
       up = read(paste0(relay$prefix, ".up")),
       down = read(paste0(relay$prefix, ".down")))
}

# A REQ client and a REP server on one context, the client connected
# through the relay; `secure(ctx, server, client)` sets up security before
# bind and connect. Sends MARKER serialized and raw each way, checks it
# arrived, and returns the relay's log (and the context, to look at).
through_relay <- function(secure = function(ctx, server, client) NULL,
                          env = parent.frame()) {
  ctx <- init.context()
  do.call(on.exit, list(substitute(destroy.context(x, linger = 0),
                                   list(x = ctx)), add = TRUE), envir = env)
  server <- init.socket(ctx, "ZMQ_REP")
  client <- init.socket(ctx, "ZMQ_REQ")
  set.send.timeout(client, 10000L)
  extra <- secure(ctx, server, client)
  relay <- start_relay(bind_tcp(server), env = env)
  expect_true(connect.socket(client, relay$endpoint))

  expect_true(send.socket(client, MARKER))
  expect_identical(recv_within(server, proc = relay$proc), MARKER)
  expect_true(send.socket(server, charToRaw(MARKER), serialize = FALSE))
  expect_identical(recv_within(client, proc = relay$proc, unserialize = FALSE),
                   charToRaw(MARKER))
  expect_true(send.socket(client, charToRaw(MARKER), serialize = FALSE))
  expect_identical(recv_within(server, proc = relay$proc, unserialize = FALSE),
                   charToRaw(MARKER))
  expect_true(send.socket(server, MARKER))
  expect_identical(recv_within(client, proc = relay$proc), MARKER)

  wire <- stop_relay(relay)
  # the relay forwarded all of it: one connection, and more bytes each way
  # than the two markers
  expect_match(wire$summary, "^connections=1 up=[0-9]+ down=[0-9]+$")
  expect_gt(length(wire$up), 2 * 64)
  expect_gt(length(wire$down), 2 * 64)
  c(wire, list(extra = extra))
}

# Where `pattern` (a string) occurs in raw vector `x`.
found <- function(pattern, x) {
  grepRaw(charToRaw(pattern), x, fixed = TRUE, all = TRUE)
}

# The ZMTP 3 greeting names the mechanism in 20 bytes, padded with NULs.
mechanism_on_wire <- function(name, x) {
  length(grepRaw(c(charToRaw(name), raw(20 - nchar(name))), x,
                 fixed = TRUE)) > 0
}

test_that("CURVE: nothing readable on the wire", {
  need_wire()
  client_keys <- curve.keypair()
  wire <- through_relay(function(ctx, server, client) {
    server_keys <- curve.keypair()
    auth <- init.authenticator(ctx, curve = client_keys$public)
    set.curve.server(server, server_keys$secret)
    set.curve.client(client, server_keys$public, client_keys)
    auth
  })
  expect_true(mechanism_on_wire("CURVE", wire$up))
  expect_true(mechanism_on_wire("CURVE", wire$down))
  for (dir in c("up", "down")) {
    bytes <- wire[[dir]]
    expect_length(found(MARKER, bytes), 0L)
    # nor any 8 bytes of it in a row
    pieces <- substring(MARKER, 1:57, 8:64)
    hits <- pieces[vapply(pieces, function(p) length(found(p, bytes)) > 0,
                          logical(1))]
    expect_identical(hits, character(0), label = paste("marker pieces", dir))
    # nor the client's keys (the public key travels encrypted too)
    expect_length(found(client_keys$secret, bytes), 0L)
    expect_length(grepRaw(z85.decode(client_keys$secret), bytes, fixed = TRUE), 0L)
    expect_length(grepRaw(z85.decode(client_keys$public), bytes, fixed = TRUE), 0L)
  }
  # the server's authenticator saw the client come in through the relay
  log <- authenticator.log(wire$extra)
  expect_identical(log$user, client_keys$public)
  expect_identical(log$allowed, TRUE)
})

test_that("no security: the payload is readable on the wire", {
  need_wire()
  wire <- through_relay()
  expect_true(mechanism_on_wire("NULL", wire$up))
  expect_true(mechanism_on_wire("NULL", wire$down))
  # serialized and raw, each way
  expect_length(found(MARKER, wire$up), 2L)
  expect_length(found(MARKER, wire$down), 2L)
})

test_that("PLAIN: authenticated, but the payload and password are readable", {
  need_wire()
  password <- "not-a-secret-on-the-wire-6f1c"
  wire <- through_relay(function(ctx, server, client) {
    auth <- init.authenticator(ctx, plain = c(alice = password))
    set.plain.server(server)
    set.plain.client(client, "alice", password)
    auth
  })
  expect_true(mechanism_on_wire("PLAIN", wire$up))
  expect_length(found(password, wire$up), 1L)
  expect_length(found(MARKER, wire$up), 2L)
  expect_length(found(MARKER, wire$down), 2L)
  log <- authenticator.log(wire$extra)
  expect_identical(log$user, "alice")
  expect_identical(log$allowed, TRUE)
})
