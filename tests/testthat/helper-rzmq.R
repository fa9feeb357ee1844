# Shared test helpers: fresh endpoints, connected pairs, child R processes.

# A fresh inproc endpoint, unique within this process.
inproc <- local({
  n <- 0L
  function(what = "t") {
    n <<- n + 1L
    sprintf("inproc://%s-%d-%d", what, Sys.getpid(), n)
  }
})

# Bind `socket` to a free loopback TCP port; returns the resolved endpoint.
bind_tcp <- function(socket) {
  stopifnot(isTRUE(bind.socket(socket, "tcp://127.0.0.1:*")))
  get.last.endpoint(socket)
}

# Two connected sockets on one context; `a` binds, `b` connects.
socket_pair <- function(type_a = "ZMQ_PAIR", type_b = "ZMQ_PAIR",
                        ctx = init.context(), endpoint = inproc()) {
  a <- init.socket(ctx, type_a)
  b <- init.socket(ctx, type_b)
  stopifnot(isTRUE(bind.socket(a, endpoint)), isTRUE(connect.socket(b, endpoint)))
  list(ctx = ctx, a = a, b = b, endpoint = endpoint)
}

# Wait up to `timeout` seconds for `socket` to be readable.
readable <- function(socket, timeout = 5) {
  isTRUE(poll.socket(list(socket), list("read"), timeout = timeout)[[1]]$read)
}

# Start `fun(...)` in a child R process that has rzmq loaded (callr).
child_r <- function(fun, args = list(), ...) {
  callr::r_bg(fun, args = args, package = FALSE, supervise = TRUE, ...)
}

# Wait for a child to finish within `timeout` seconds; kill it and fail the
# test if it does not, so a regression fails instead of hanging the suite.
child_wait <- function(proc, timeout = 30) {
  proc$wait(timeout * 1000)
  if (proc$is_alive()) {
    proc$kill()
    testthat::fail(sprintf("child R process still running after %g s", timeout))
  }
  invisible(proc)
}

# The Rscript of the R that runs the tests.
rscript <- function() file.path(R.home("bin"), "Rscript")

# pyzmq for interop tests: Debian's python3 with python3-zmq.
python3 <- function() {
  py <- "/usr/bin/python3"
  if (!file.exists(py)) py <- Sys.which("python3")
  py
}
