# Shared test helpers for child processes: start R functions and scripts in
# a child (callr) with a deadline, talk to a child over a control socket
# (child_with_control() sets both ends up), interrupt a child once it is
# blocked, and receive with a deadline that reports the child's stderr on
# failure. callr is in Suggests: every helper that starts a child skips the
# test without it.

# Start `fun(...)` in a child R process (callr); `fun` loads rzmq itself.
child_r <- function(fun, args = list(), ...) {
  skip_if_not_installed("callr")
  callr::r_bg(fun, args = args, package = FALSE, supervise = TRUE, ...)
}

# Wait for a child to finish within `timeout` seconds; kill it and fail the
# test if it does not, so a regression fails instead of hanging the suite.
# The whole tree goes: a grandchild left holding the child's stdout or
# stderr would make every later read of them wait for good.
child_wait <- function(proc, timeout = 30) {
  proc$wait(timeout * 1000)
  if (proc$is_alive()) {
    proc$kill_tree()
    testthat::fail(sprintf("child R process still running after %g s", timeout))
  }
  invisible(proc)
}

# What a child (or no child: NULL) wrote to stderr so far, to explain a
# failure.
child_stderr <- function(proc) {
  if (is.null(proc)) return("")
  err <- tryCatch(
    if (proc$is_alive()) proc$read_error() else proc$read_all_error(),
    error = function(e) ""
  )
  if (nzchar(err)) paste0("; child stderr:\n", err) else ""
}

# Receive one message (`...` goes to receive.socket()), failing with the
# stderr of `proc` instead of hanging if none comes within `timeout` seconds.
recv_within <- function(socket, timeout = 10, proc = NULL, ...) {
  if (!readable(socket, timeout)) {
    stop(sprintf("nothing received within %g s%s", timeout,
                 child_stderr(proc)), call. = FALSE)
  }
  receive.socket(socket, ...)
}

# The same for a multipart message.
recv_multipart_within <- function(socket, timeout = 10, proc = NULL) {
  if (!readable(socket, timeout)) {
    stop(sprintf("nothing received within %g s%s", timeout,
                 child_stderr(proc)), call. = FALSE)
  }
  receive.multipart(socket)
}

# A PAIR socket bound here for talking to one child.
control_socket <- function() {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  set.send.timeout(s, 10000L)
  list(ctx = ctx, socket = s, endpoint = bind_tcp(s))
}

# Start `fun(control, ctx, ...)` in a child R process (rzmq loaded), with
# `args` as `...`: `control` is a PAIR socket of the child's context `ctx`,
# connected to `ctl` (a control_socket() here), with a send timeout of 10 s
# and the receive timeout `rcv_timeout` (ms; none if NULL). Returns `ctl`
# (`ctx`, `socket`, `endpoint`) with the child as `proc`. `fun` runs in the
# child: it may use only its arguments and packages, not the test's
# variables.
child_with_control <- function(fun, args = list(), rcv_timeout = NULL,
                               ctl = control_socket()) {
  environment(fun) <- globalenv()
  ctl$proc <- child_r(function(fun, endpoint, args, rcv_timeout) {
    library(rzmq)
    ctx <- init.context()
    control <- init.socket(ctx, "ZMQ_PAIR")
    set.send.timeout(control, 10000L)
    if (!is.null(rcv_timeout)) set.rcv.timeout(control, rcv_timeout)
    connect.socket(control, endpoint)
    do.call(fun, c(list(control, ctx), args))
  }, args = list(fun = fun, endpoint = ctl$endpoint, args = args,
                 rcv_timeout = rcv_timeout))
  ctl
}

# The child of child_with_control() `ctl` says `said` (within `timeout`
# seconds) just before it blocks: wait until it is blocked, interrupt it
# (SIGINT), and return what it says next.
interrupt_when_blocked <- function(ctl, said, timeout = 20) {
  expect_identical(recv_within(ctl$socket, timeout, ctl$proc), said)
  wait_blocked(ctl$proc)
  ctl$proc$interrupt()
  recv_within(ctl$socket, 10, ctl$proc)
}

# The Rscript of the R that runs the tests.
rscript <- function() file.path(R.home("bin"), "Rscript")

# A script in tests/testthat/scripts.
script_path <- function(name) {
  normalizePath(test_path("scripts", name), mustWork = TRUE)
}

# Run scripts/`name` in Rscript in the background, with arguments `...`;
# R_TESTS (set by R CMD check, a path relative to tests/) must not reach the
# child's startup.
rscript_bg <- function(name, ...) {
  skip_if_not_installed("callr")
  callr::process$new(rscript(), c(script_path(name), ...),
                     stdout = "|", stderr = "|",
                     env = c("current", R_TESTS = ""))
}

# Wait until child `proc` is asleep in a blocking call: its main thread
# seen sleeping (state S in /proc/<pid>/stat) in every sample for `stable`
# seconds. A process running R code is not asleep, so a child that said it
# is about to block is then inside the call (rzmq's waits wake only briefly,
# every 200 ms at most, to check for interrupts). Fails the test after
# `timeout` seconds. Without /proc (not Linux) it waits `stable` seconds.
wait_blocked <- function(proc, stable = 0.15, timeout = 10) {
  stat <- sprintf("/proc/%d/stat", proc$get_pid())
  if (!file.exists(stat)) {
    Sys.sleep(stable)
    return(invisible(TRUE))
  }
  state <- function() {
    line <- tryCatch(readLines(stat, warn = FALSE), error = function(e) "")
    sub("^.*\\) (.).*$", "\\1", line[1])
  }
  deadline <- Sys.time() + timeout
  since <- NULL
  while (Sys.time() < deadline) {
    if (state() == "S") {
      if (is.null(since)) since <- Sys.time()
      if (Sys.time() - since >= stable) return(invisible(TRUE))
    } else {
      since <- NULL
    }
    Sys.sleep(0.01)
  }
  testthat::fail(sprintf("child %d not blocked within %g s%s", proc$get_pid(), timeout,
                         child_stderr(proc)))
  invisible(FALSE)
}
