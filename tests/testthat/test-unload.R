# Unloading: unloadNamespace() and library.dynam.unload(), as pkgload and
# devtools::load_all() do on every reload, must never crash R, whatever is
# still open, queued, lent or alive. Each case runs in a child R process
# (scripts/unload-cases.R) with a deadline.

unload_case <- function(case, timeout = 30) {
  skip_if_not_installed("callr")
  script <- test_path("scripts", "unload-cases.R")
  proc <- callr::process$new(rscript(), c(script, case),
                             stdout = "|", stderr = "2>&1")
  proc$wait(timeout * 1000)
  if (proc$is_alive()) {
    proc$kill()
    fail(sprintf("unload case '%s' still running after %g s", case, timeout))
  }
  out <- proc$read_all_output_lines()
  list(status = proc$get_exit_status(), out = out,
       mapped = any(out == "mapped=TRUE"),
       secs = as.numeric(sub("unload_secs=", "", grep("^unload_secs=", out, value = TRUE))))
}

expect_survives <- function(r, case) {
  expect_identical(r$status, 0L, info = paste(r$out, collapse = "\n"))
  expect_true(paste("OK", case) %in% trimws(r$out), info = paste(r$out, collapse = "\n"))
}

test_that("the reported crash: a message queued for a dead peer, handles dropped", {
  r <- unload_case("dropped")
  expect_survives(r, "dropped")
  # the termination cannot end (infinite linger): our code stays mapped,
  # after a bounded wait
  expect_true(r$mapped)
  expect_lt(r$secs, 5)
})

test_that("after destroy.context() with nothing left, the library is really unloaded", {
  r <- unload_case("destroyed")
  expect_survives(r, "destroyed")
  expect_false(r$mapped)
  expect_lt(r$secs, 1)
})

test_that("destroy.context(linger = 0) with queued messages, the handle kept", {
  r <- unload_case("destroyed_queued")
  expect_survives(r, "destroyed_queued")
})

test_that("sockets still open with queued messages are closed by the unload", {
  r <- unload_case("open_queued")
  expect_survives(r, "open_queued")
  expect_lt(r$secs, 1) # closed with linger 0: nothing to wait for
})

test_that("large raw vectors lent to libzmq and queued at unload", {
  r <- unload_case("lent")
  expect_survives(r, "lent")
})

test_that("message objects alive across the unload are finalized after it", {
  r <- unload_case("message")
  expect_survives(r, "message")
  expect_true(r$mapped) # their finalizers are ours
})
