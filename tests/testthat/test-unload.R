# Unloading: unloadNamespace() and library.dynam.unload(), as pkgload and
# devtools::load_all() do on every reload, must never crash R, whatever is
# still open, queued, lent to libzmq or alive in R. Each case runs in a child
# R process (scripts/unload-cases.R) with a deadline, then gc()s, forks, loads
# rzmq again and uses it.

unload_case <- function(case, timeout = 30) {
  proc <- rscript_bg("unload-cases.R", case)
  child_wait(proc, timeout)
  out <- strsplit(proc$read_all_output(), "\n")[[1]]
  secs <- grep("^unload_secs=", out, value = TRUE)
  list(status = proc$get_exit_status(), out = out,
       log = paste(c(out, proc$read_all_error()), collapse = "\n"),
       mapped = "mapped=TRUE" %in% out,
       secs = if (length(secs)) as.numeric(sub("unload_secs=", "", secs)) else NA)
}

expect_survives <- function(r, case) {
  expect_identical(r$status, 0L, info = r$log)
  expect_true(paste("OK", case) %in% trimws(r$out), info = r$log)
}

test_that("R exits cleanly after the package is unloaded, as pkgload::unload() does", {
  # pkgload::unload() (and so devtools::load_all() run again) unloads the
  # namespace and then the shared library; R must still gc and exit.
  proc <- rscript_bg("unload.R")
  child_wait(proc, 20)
  out <- proc$read_all_output()
  err <- proc$read_all_error()
  expect_identical(out, "unloaded\ngc done\n")
  expect_identical(proc$get_exit_status(), 0L, info = err)
})

test_that("the reported crash: a message queued for a dead peer, handles dropped", {
  r <- unload_case("dropped")
  expect_survives(r, "dropped")
  # its termination cannot end (infinite linger towards a peer that never
  # comes), so our code stays mapped for it
  expect_true(r$mapped)
})

test_that("the unload waits for a stuck termination only a bounded time", {
  skip_on_cran() # timing
  r <- unload_case("dropped")
  expect_survives(r, "dropped")
  expect_lt(r$secs, 3)
})

test_that("after destroy.context() with nothing left, the library is really unloaded", {
  r <- unload_case("destroyed")
  expect_survives(r, "destroyed")
  expect_false(r$mapped)
})

test_that("destroy.context(linger = 0) with queued messages, the handle kept", {
  r <- unload_case("destroyed_queued")
  expect_survives(r, "destroyed_queued")
})

test_that("sockets still open with queued messages are closed by the unload", {
  r <- unload_case("open_queued")
  expect_survives(r, "open_queued")
})

test_that("sockets closed by the unload (linger 0) leave nothing to wait for", {
  skip_on_cran() # timing
  r <- unload_case("open_queued")
  expect_survives(r, "open_queued")
  expect_lt(r$secs, 0.9)
})

test_that("large raw vectors lent to libzmq and queued at unload", {
  r <- unload_case("lent")
  expect_survives(r, "lent")
})

test_that("message objects alive across the unload are finalized after it", {
  r <- unload_case("message")
  expect_survives(r, "message")
  expect_true(r$mapped) # their finalizers are our code
})

test_that("a running authenticator is stopped by the unload", {
  r <- unload_case("authenticator")
  expect_survives(r, "authenticator")
})

test_that("a running proxy is stopped by the unload", {
  r <- unload_case("proxy")
  expect_survives(r, "proxy")
})

test_that("zero-copy frames alive at unload keep the library mapped, and work after it", {
  # one reads the sender's lent vector; they are read, written to and
  # collected with the package unloaded, then sent by it loaded again
  r <- unload_case("frames")
  expect_survives(r, "frames")
  expect_true(r$mapped) # their class's methods and finalizer are our code
})

test_that("a cached send buffer and its idle-freeing thread do not keep the library", {
  r <- unload_case("cache")
  expect_survives(r, "cache")
  expect_false(r$mapped) # the thread was stopped and joined, the buffer freed
})
