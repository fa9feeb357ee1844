# common.R: helpers shared by the R scripts of the reliability suite
# (sourced, never installed). Command-line parameters, a tally of checks,
# child R processes with deadlines, and /proc readings.

# --name=value arguments of the script, typed like the default.
arg <- function(name, default) {
  args <- commandArgs(trailingOnly = TRUE)
  hit <- grep(paste0("^--", name, "="), args, value = TRUE)
  if (length(hit) == 0) {
    env <- Sys.getenv(paste0("RZMQ_REL_", toupper(gsub("[.-]", "_", name))), "")
    if (!nzchar(env)) return(default)
    hit <- paste0("--", name, "=", env)
  }
  value <- sub(paste0("^--", name, "="), "", hit[length(hit)])
  switch(typeof(default),
         integer = as.integer(value),
         double = as.numeric(value),
         logical = as.logical(value),
         value)
}

say <- function(...) {
  cat(sprintf("[%s] %s\n", format(Sys.time(), "%H:%M:%S"), paste0(...)))
  flush(stdout())
}

# A tally of named checks: check() records, report() prints and gives the
# exit status. A failed check prints at once with its detail.
.tally <- new.env()
.tally$n <- 0L
.tally$failed <- character(0)
check <- function(ok, what, detail = NULL) {
  .tally$n <- .tally$n + 1L
  if (!isTRUE(ok)) {
    .tally$failed <- c(.tally$failed, what)
    cat("CHECK FAILED:", what, "\n")
    if (!is.null(detail)) {
      cat(paste0("  ", utils::capture.output(utils::str(detail)), collapse = "\n"), "\n")
    }
    flush(stdout())
  }
  invisible(isTRUE(ok))
}
report <- function(name, started = NULL) {
  nf <- length(.tally$failed)
  if (!is.null(started)) {
    cat(sprintf("%s runtime: %.1f s\n", name,
                as.numeric(difftime(Sys.time(), started, units = "secs"))))
  }
  cat(sprintf("%s: %d passed, %d failed\n", name, .tally$n - nf, nf))
  cat(sprintf("%s: %s\n", name, if (nf == 0) "PASS" else "FAIL"))
  invisible(if (nf == 0) 0L else 1L)
}
finish <- function(name, started = NULL) {
  quit(save = "no", status = report(name, started))
}

# Run fun(...) in a child R process (callr) and wait at most `timeout`
# seconds. Never hangs: a child past its deadline is killed. Returns
# list(ok, result, error, status, stderr, stdout, elapsed, timed_out).
run_child <- function(fun, args = list(), timeout = 60, env = NULL, ...) {
  t0 <- Sys.time()
  envv <- if (is.null(env)) callr::rcmd_safe_env() else c(callr::rcmd_safe_env(), env)
  proc <- callr::r_bg(fun, args = args, package = FALSE, supervise = TRUE,
                      env = envv, ...)
  proc$wait(timeout * 1000)
  timed_out <- proc$is_alive()
  if (timed_out) proc$kill()
  status <- proc$get_exit_status()
  out <- tryCatch(proc$read_all_output(), error = function(e) "")
  err <- tryCatch(proc$read_all_error(), error = function(e) "")
  res <- if (!timed_out && identical(status, 0L)) {
    tryCatch(list(ok = TRUE, value = proc$get_result()),
             error = function(e) list(ok = FALSE, value = NULL, error = conditionMessage(e)))
  } else {
    list(ok = FALSE, value = NULL,
         error = if (timed_out) sprintf("timed out after %g s", timeout)
                 else sprintf("exit status %s", format(status)))
  }
  list(ok = res$ok, result = res$value, error = res$error, status = status,
       stdout = out, stderr = err, timed_out = timed_out,
       elapsed = as.numeric(difftime(Sys.time(), t0, units = "secs")))
}

# Resident memory of this process, in kB.
vmrss_kb <- function(pid = "self") {
  st <- readLines(sprintf("/proc/%s/status", pid))
  as.numeric(gsub("[^0-9]", "", grep("^VmRSS:", st, value = TRUE)))
}

# The directory of the running script (for sourcing and child scripts).
script_dir <- function() {
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  if (length(f) == 0) return(getwd())
  dirname(normalizePath(f[1]))
}

# Which rzmq this run tests: printed first by every script.
describe_rzmq <- function() {
  sprintf("rzmq %s from %s, libzmq %s, %s", utils::packageVersion("rzmq"),
          dirname(find.package("rzmq")), rzmq::zmq.version(), R.version.string)
}

# The set-up every stress script starts with, after its parameters: rzmq
# attached, which rzmq is tested and `what` the run does said. Returns the
# start time, for finish().
begin <- function(what) {
  suppressPackageStartupMessages(library(rzmq))
  say(describe_rzmq())
  say(what)
  Sys.time()
}

`%||%` <- function(a, b) if (is.null(a)) b else a
