# Shared test helpers for sockets and handles: fresh endpoints, connected
# pairs, a dead endpoint, readability with a deadline, handles through RDS.
# Child processes are in helper-child.R; the table of exported functions is
# in helper-exports.R.

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

# A loopback endpoint nobody listens on: bind a free port, then let it go.
dead_endpoint <- function() {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  endpoint <- bind_tcp(s)
  destroy.context(ctx, linger = 0)
  endpoint
}

# Two connected sockets on one context; `a` binds, `b` connects. Both get
# receive and send timeouts of `deadline` seconds, so a blocking call that
# should have returned (a receive that ignores dont.wait, a lost message)
# fails the test instead of hanging the run; a test that needs another
# timeout sets its own.
socket_pair <- function(type_a = "ZMQ_PAIR", type_b = "ZMQ_PAIR",
                        ctx = init.context(), endpoint = inproc(), deadline = 10) {
  a <- with_deadline(init.socket(ctx, type_a), deadline)
  b <- with_deadline(init.socket(ctx, type_b), deadline)
  stopifnot(isTRUE(bind.socket(a, endpoint)), isTRUE(connect.socket(b, endpoint)))
  list(ctx = ctx, a = a, b = b, endpoint = endpoint)
}

# `socket` with receive and send timeouts of `deadline` seconds.
with_deadline <- function(socket, deadline = 10) {
  ms <- as.integer(deadline * 1000)
  stopifnot(isTRUE(set.rcv.timeout(socket, ms)), isTRUE(set.send.timeout(socket, ms)))
  socket
}

# Wait up to `timeout` seconds for `socket` to be readable.
readable <- function(socket, timeout = 5) {
  isTRUE(poll.socket(list(socket), list("read"), timeout = timeout)[[1]]$read)
}

# `x` after a trip through saveRDS()/readRDS(): a handle comes back as an
# external pointer with no address.
restored_from_rds <- function(x) {
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(x, path)
  readRDS(path)
}

# A fresh temporary directory, removed when the calling test ends.
withr_tempdir <- function(env = parent.frame()) {
  dir <- tempfile("rzmq-test-")
  dir.create(dir)
  do.call(on.exit, list(substitute(unlink(d, recursive = TRUE), list(d = dir)), add = TRUE),
          envir = env)
  dir
}
