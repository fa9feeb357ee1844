# rzmq talking to pyzmq (Debian's python3-zmq) over tcp://127.0.0.1, both
# ways: raw bytes, UTF-8 strings, multipart messages with empty frames and
# packed numbers. The Python side is scripts/interop-peer.py; it checks what
# R sent and replies "ok" or the mismatch. CRAN machines lack pyzmq, so every
# test is skipped on CRAN; elsewhere (NOT_CRAN=true, as in CI, which installs
# python3-zmq) a missing pyzmq is a failure, not a skip.

peer_script <- script_path("interop-peer.py")

# pyzmq for interop tests: Debian's python3 with python3-zmq.
python3 <- function() {
  py <- "/usr/bin/python3"
  if (!file.exists(py)) py <- Sys.which("python3")
  py
}

TEXT <- "h\u00e9llo \u2713" # "héllo ✓", as in the Python script

pyzmq_status <- local({
  status <- NULL
  function() {
    if (is.null(status)) {
      out <- suppressWarnings(system2(
        python3(), c("-c", shQuote("import zmq; print(zmq.zmq_version())")),
        stdout = TRUE, stderr = TRUE, timeout = 30
      ))
      status <<- list(ok = is.null(attr(out, "status")) && nzchar(python3()),
                      out = paste(out, collapse = "\n"))
    }
    status
  }
})

# Start the pyzmq peer in `mode`, connected to a PAIR socket bound here, and
# wait for its "ready".
py_peer <- function(mode) {
  if (!pyzmq_status()$ok) {
    stop("python3 with pyzmq is required for the interop tests ",
         "(apt-get install python3-zmq): ", pyzmq_status()$out, call. = FALSE)
  }
  skip_if_not_installed("callr")
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  set.send.timeout(s, 10000L)
  set.rcv.timeout(s, 10000L)
  endpoint <- bind_tcp(s)
  proc <- callr::process$new(python3(), c(peer_script, mode, endpoint),
                             stdout = "|", stderr = "|")
  peer <- list(ctx = ctx, socket = s, proc = proc)
  expect_identical(py_raw(peer), charToRaw("ready"))
  peer
}

# Fail, with the peer's stderr, unless a frame arrives within 10 s.
py_wait <- function(peer) {
  if (!readable(peer$socket, 10)) {
    stop("nothing from the Python peer within 10 s", child_stderr(peer$proc),
         call. = FALSE)
  }
  peer$socket
}

py_raw <- function(peer) receive.socket(py_wait(peer), unserialize = FALSE)
py_string <- function(peer) receive.string(py_wait(peer))

# Tell the peer we are done; it must exit cleanly within 10 s.
py_finish <- function(peer) {
  expect_true(send.socket(peer$socket, charToRaw("bye"), serialize = FALSE))
  child_wait(peer$proc, 10)
  err <- peer$proc$read_all_error()
  expect_identical(peer$proc$get_exit_status(), 0L, info = err)
}

test_that("python3 with pyzmq is installed (CI installs python3-zmq)", {
  skip_on_cran()
  expect_true(pyzmq_status()$ok, info = pyzmq_status()$out)
  expect_match(pyzmq_status()$out, "^[0-9]+\\.[0-9]+\\.[0-9]+")
})

test_that("raw bytes from Python arrive unchanged", {
  skip_on_cran()
  peer <- py_peer("bytes-to-r")
  expect_identical(py_raw(peer), as.raw(0:255))
  expect_identical(py_raw(peer), raw(16))
  py_wait(peer)
  expect_true(receive.null.msg(peer$socket))
  expect_identical(py_raw(peer), as.raw(c(0x61, 0x00, 0x62)))
  py_finish(peer)
})

test_that("raw bytes from R arrive unchanged in Python", {
  skip_on_cran()
  peer <- py_peer("bytes-from-r")
  s <- peer$socket
  expect_true(send.socket(s, as.raw(0:255), serialize = FALSE))
  expect_true(send.socket(s, raw(16), serialize = FALSE))
  expect_true(send.null.msg(s))
  expect_true(send.socket(s, as.raw(c(0x61, 0x00, 0x62)), serialize = FALSE))
  for (what in c("0x00..0xff", "zeros", "empty", "embedded NUL")) {
    expect_identical(py_string(peer), "ok", label = what)
  }
  py_finish(peer)
})

test_that("UTF-8 strings from Python arrive as UTF-8-marked R strings", {
  skip_on_cran()
  peer <- py_peer("strings-to-r")
  x <- py_string(peer)
  expect_identical(x, TEXT)
  expect_identical(Encoding(x), "UTF-8")
  expect_identical(utf8ToInt(x), c(104L, 233L, 108L, 108L, 111L, 32L, 10003L))
  expect_identical(py_string(peer), "plain ascii")
  expect_identical(py_string(peer), "")
  # bytes that are not UTF-8 keep their bytes and are not marked UTF-8
  x <- py_string(peer)
  expect_identical(charToRaw(x), as.raw(c(0xff, 0xfe)))
  expect_false(Encoding(x) == "UTF-8")
  py_finish(peer)
})

test_that("send.raw.string sends UTF-8 that Python decodes", {
  skip_on_cran()
  peer <- py_peer("strings-from-r")
  s <- peer$socket
  expect_true(send.raw.string(s, TEXT))
  latin1 <- iconv("h\u00e9llo", "UTF-8", "latin1")
  expect_identical(Encoding(latin1), "latin1")
  expect_true(send.raw.string(s, latin1))
  wide <- "\u00dcn\u00efc\u00f6d\u00e9 \u2713 \u65e5\u672c \U0001f389"
  expect_true(send.raw.string(s, wide))
  expect_identical(py_string(peer), "ok")
  expect_identical(py_string(peer), "ok")
  expect_identical(py_string(peer), paste(utf8ToInt(wide), collapse = ","))
  py_finish(peer)
})

test_that("multipart messages with empty frames arrive from Python", {
  skip_on_cran()
  peer <- py_peer("multipart-to-r")
  expect_identical(
    receive.multipart(py_wait(peer)),
    list(raw(0), charToRaw("head"), raw(0), as.raw(0:1), raw(0))
  )
  expect_identical(receive.multipart(py_wait(peer)), list(raw(0), raw(0)))
  expect_identical(receive.multipart(py_wait(peer)), list(charToRaw("single")))
  py_finish(peer)
})

test_that("multipart messages with empty frames arrive in Python", {
  skip_on_cran()
  peer <- py_peer("multipart-from-r")
  s <- peer$socket
  expect_true(send.multipart(
    s, list(raw(0), charToRaw("head"), raw(0), as.raw(0:1), raw(0))
  ))
  expect_true(send.multipart(s, list(raw(0), raw(0))))
  # send.socket(send.more = TRUE) + the bytes of serialize(): equal frames
  obj <- list(a = 1:3, b = "x", f = factor("q"), d = c(pi, NA))
  expect_true(send.socket(s, obj, send.more = TRUE))
  expect_true(send.socket(s, serialize(obj, NULL, xdr = FALSE),
                          serialize = FALSE))
  expect_identical(py_string(peer), "ok")
  expect_identical(py_string(peer), "ok")
  expect_identical(py_string(peer), "ok")
  # the bytes came back from Python and unserialize to the same object
  expect_identical(receive.socket(py_wait(peer)), obj)
  py_finish(peer)
})

test_that("packed ints and doubles from Python: receive.int and receive.double", {
  skip_on_cran()
  peer <- py_peer("numbers-to-r")
  s <- peer$socket
  ints <- c(0L, 1L, -1L, -123456789L, 2147483647L, -2147483647L)
  for (i in ints) {
    py_wait(peer)
    expect_identical(receive.int(s), i)
  }
  doubles <- c(pi, -0, 1e308, 5e-324, Inf, -Inf)
  for (d in doubles) {
    py_wait(peer)
    got <- receive.double(s)
    expect_identical(got, d)
    expect_identical(sign(1 / got), sign(1 / d)) # -0 stays negative
  }
  py_wait(peer)
  expect_true(is.nan(receive.double(s)))
  py_finish(peer)
})

test_that("writeBin() ints and doubles from R unpack in Python", {
  skip_on_cran()
  peer <- py_peer("numbers-from-r")
  s <- peer$socket
  ints <- c(0L, 1L, -1L, -123456789L, 2147483647L, -2147483647L)
  for (i in ints) {
    expect_true(send.socket(s, writeBin(i, raw(), endian = "little"),
                            serialize = FALSE))
  }
  doubles <- c(pi, -0, 1e308, 5e-324, Inf, -Inf)
  expect_true(send.socket(s, writeBin(doubles, raw(), endian = "little"),
                          serialize = FALSE))
  expect_identical(py_string(peer), "ok")
  expect_identical(py_string(peer), "ok")
  py_finish(peer)
})

# CURVE between rzmq and pyzmq: keys and certificates made on one side and
# used on the other, each side's authenticator letting in exactly the keys
# it was given. The Python side is scripts/curve-peer.py.

curve_script <- script_path("curve-peer.py")

# Like py_peer(): without pyzmq (or a libzmq with CURVE) the test fails
# rather than skips.
need_curve_peer <- function() {
  if (!pyzmq_status()$ok) {
    stop("python3 with pyzmq is required for the interop tests ",
         "(apt-get install python3-zmq): ", pyzmq_status()$out, call. = FALSE)
  }
  if (!zmq.has("curve")) {
    stop("libzmq was built without CURVE: zmq.has(\"curve\") is FALSE",
         call. = FALSE)
  }
  skip_if_not_installed("callr")
}

# Start scripts/curve-peer.py with `args`; it is killed when the calling
# test ends, so a failed expectation cannot leave it behind.
curve_peer <- function(..., env = parent.frame()) {
  proc <- callr::process$new(python3(), c(curve_script, ...),
                             stdout = "|", stderr = "|")
  do.call(on.exit, list(substitute(p$kill(), list(p = proc)), add = TRUE),
          envir = env)
  proc
}

# The peer must exit with status 0 within `timeout` seconds.
curve_peer_done <- function(proc, timeout = 10) {
  child_wait(proc, timeout)
  expect_identical(proc$get_exit_status(), 0L, info = proc$read_all_error())
}

# A fresh directory, removed when the calling test ends.
curve_dir <- function(env = parent.frame()) {
  dir <- tempfile("rzmq-curve-")
  dir.create(dir)
  do.call(on.exit, list(substitute(unlink(d, recursive = TRUE), list(d = dir)),
                        add = TRUE), envir = env)
  dir
}

# receive.string() with a deadline.
recv_string_within <- function(socket, proc, timeout = 10) {
  if (!readable(socket, timeout)) {
    stop(sprintf("nothing received within %g s%s", timeout,
                 child_stderr(proc)), call. = FALSE)
  }
  receive.string(socket)
}

test_that("pyzmq CURVE client, keys from write.curve.keys(); R server, authenticator", {
  skip_on_cran()
  need_curve_peer()
  dir <- curve_dir()
  server_keys <- curve.keypair()
  client_keys <- curve.keypair()
  client_cert <- file.path(dir, "client.key")
  server_cert <- file.path(dir, "server.key")
  write.curve.keys(client_keys, client_cert)
  write.curve.keys(list(public = server_keys$public), server_cert)

  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0), add = TRUE)
  auth <- init.authenticator(ctx, curve = client_keys$public)
  server <- init.socket(ctx, "ZMQ_REP")
  set.curve.server(server, server_keys$secret)
  endpoint <- bind_tcp(server)
  proc <- curve_peer("client", endpoint, server_cert, client_cert)

  # what zmq.auth.load_certificate() read from R's files
  expect_identical(
    recv_multipart_within(server, proc = proc),
    list(charToRaw("keys"), charToRaw(client_keys$public),
         charToRaw(server_keys$public))
  )
  expect_true(send.raw.string(server, "welcome"))
  expect_identical(recv_within(server, proc = proc, unserialize = FALSE),
                   as.raw(0:255))
  expect_true(send.socket(server, as.raw(255:0), serialize = FALSE))
  got <- recv_string_within(server, proc)
  expect_identical(got, TEXT)
  expect_identical(Encoding(got), "UTF-8")
  expect_true(send.raw.string(server, paste(TEXT, "back")))
  # an R object out to Python and back, through the encryption both ways
  expect_identical(recv_within(server, proc = proc, unserialize = FALSE),
                   charToRaw("object please"))
  obj <- list(a = 1:3, b = TEXT, d = c(pi, NA))
  expect_true(send.socket(server, obj))
  expect_identical(recv_within(server, proc = proc), obj)
  expect_true(send.raw.string(server, "same object"))
  # Python's second client, with a key R was not given, is refused before
  # its request reaches the server: the next request is the first client's
  expect_identical(recv_within(server, proc = proc, unserialize = FALSE),
                   charToRaw("bye"))
  expect_true(send.raw.string(server, "bye"))
  curve_peer_done(proc)
  stranger <- proc$read_all_output_lines()
  expect_length(stranger, 1L)
  expect_identical(nchar(stranger), 40L)

  log <- authenticator.log(auth)
  mine <- log[log$user == client_keys$public, ]
  expect_gte(nrow(mine), 1L)
  expect_true(all(mine$allowed))
  expect_identical(unique(mine$mechanism), "CURVE")
  expect_identical(unique(mine$address), "127.0.0.1")
  expect_identical(unique(mine$reason), "client key is allowed")
  theirs <- log[log$user == stranger, ]
  expect_gte(nrow(theirs), 1L)
  expect_false(any(theirs$allowed))
  expect_identical(unique(theirs$reason), "client key not allowed")
  # nobody else was let in
  expect_identical(unique(log$user[log$allowed]), client_keys$public)
})

test_that("R CURVE client; pyzmq server, ThreadAuthenticator with its certificate", {
  skip_on_cran()
  need_curve_peer()
  dir <- curve_dir()
  own <- file.path(dir, "client")        # the R client's certificates
  allowed <- file.path(dir, "allowed")   # what the Python server lets in
  server_dir <- file.path(dir, "server") # the Python server's certificates
  for (d in c(own, allowed, server_dir)) dir.create(d)
  write.curve.keys(curve.keypair(), file.path(own, "r-client.key"))
  # the server gets the public certificate only
  expect_true(file.copy(file.path(own, "r-client.key"), allowed))

  control <- control_socket()
  on.exit(destroy.context(control$ctx, linger = 0), add = TRUE)
  set.rcv.timeout(control$socket, 10000L)
  proc <- curve_peer("server", control$endpoint, allowed, server_dir)
  ready <- recv_multipart_within(control$socket, proc = proc)
  expect_length(ready, 3L)
  expect_identical(ready[[1]], charToRaw("ready"))
  endpoint <- rawToChar(ready[[2]])
  server_public <- rawToChar(ready[[3]])
  expect_match(endpoint, "^tcp://127\\.0\\.0\\.1:[0-9]+$")
  # the server's own certificate, made by create_certificates(), read in R
  # (pyzmq leaves the secret file as the umask allows; R would warn)
  Sys.chmod(file.path(server_dir, "server.key_secret"), "600", use_umask = FALSE)
  expect_identical(read.curve.keys(file.path(server_dir, "server.key"))$public,
                   server_public)

  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0), add = TRUE)
  client <- init.socket(ctx, "ZMQ_REQ")
  set.curve.client(client, server_public,
                   keys = read.curve.keys(file.path(own, "r-client.key")))
  expect_true(connect.socket(client, endpoint))
  expect_true(send.socket(client, as.raw(0:255), serialize = FALSE))
  expect_identical(recv_within(client, proc = proc, unserialize = FALSE),
                   c(charToRaw("echo:"), as.raw(0:255)))
  expect_true(send.raw.string(client, TEXT))
  expect_identical(recv_string_within(client, proc), paste0("echo:", TEXT))

  # a fresh key pair that is not in the directory: the handshake is refused
  # (the server says so) and no reply comes
  stranger <- init.socket(ctx, "ZMQ_REQ")
  set.linger(stranger, 0L)
  # once the handshake has failed the REQ socket has no connection to
  # queue on and a send would block: give up on it after 1 s
  set.send.timeout(stranger, 1000L)
  set.curve.client(stranger, server_public, keys = curve.keypair())
  expect_true(connect.socket(stranger, endpoint))
  send.socket(stranger, charToRaw("let me in"), serialize = FALSE)
  expect_identical(recv_within(control$socket, proc = proc, unserialize = FALSE),
                   charToRaw("refused"))
  expect_false(readable(stranger, 1))
  # the server echoed the two requests of the known client, nothing else
  expect_true(send.socket(control$socket, charToRaw("bye"), serialize = FALSE))
  expect_identical(recv_string_within(control$socket, proc), "2")
  curve_peer_done(proc)
})

test_that("read.curve.keys() reads zmq.auth.create_certificates() files", {
  skip_on_cran()
  need_curve_peer()
  dir <- curve_dir()
  proc <- curve_peer("create", dir, "py-made")
  curve_peer_done(proc, 30)
  out <- proc$read_all_output_lines()
  expect_length(out, 4L)
  public <- out[1]
  secret <- out[2]
  expect_identical(normalizePath(out[3]),
                   normalizePath(file.path(dir, "py-made.key")))
  expect_identical(out[4], paste0(out[3], "_secret"))
  # pyzmq writes its secret file as the umask allows (0644 under 022): R
  # reads it and says that others can read it
  expect_true(Sys.chmod(out[4], "644", use_umask = FALSE))
  expect_warning(got <- read.curve.keys(out[3]),
                 "can be read by its group and others (mode 644)", fixed = TRUE)
  expect_identical(got, list(public = public, secret = secret))
  # its secret file's metadata holds a public-key-previous: not the key
  expect_true(any(grepl("public-key-previous", readLines(out[4]), fixed = TRUE)))
  # the secret certificate by its own name; private now: no warning
  expect_true(Sys.chmod(out[4], "600", use_umask = FALSE))
  expect_silent(got <- read.curve.keys(out[4]))
  expect_identical(got, list(public = public, secret = secret))
  expect_identical(curve.public(secret), public)
  # the public certificate on its own, as a peer would get it
  alone <- file.path(dir, "alone")
  dir.create(alone)
  expect_true(file.copy(out[3], alone))
  expect_identical(read.curve.keys(file.path(alone, "py-made.key")),
                   list(public = public, secret = NULL))
})
