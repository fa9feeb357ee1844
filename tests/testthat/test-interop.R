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
