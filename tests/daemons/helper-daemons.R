# Shared by test-ssh.R and test-slurm.R (loaded by testthat::test_dir()).
library(rzmq)

# Run `expr`, failing if it takes more than `seconds` (R's elapsed time
# limit, which rzmq's waits see at their interrupt checks).
within_seconds <- function(seconds, expr) {
  setTimeLimit(elapsed = seconds, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
  expr
}

# Poll `cond()` every 100 ms until TRUE; fail after `timeout` seconds.
wait_until <- function(cond, timeout = 30, what = "condition") {
  deadline <- Sys.time() + timeout
  while (!isTRUE(cond())) {
    if (Sys.time() > deadline) stop("timed out after ", timeout, " s waiting for ", what,
                                    call. = FALSE)
    Sys.sleep(0.1)
  }
  invisible(TRUE)
}

# Is `pid` running (not a zombie)?
alive <- function(pid) {
  stat <- suppressWarnings(tryCatch(readLines(file.path("/proc", pid, "stat"), n = 1L),
                                    error = function(e) ""))
  length(stat) == 1L && nzchar(stat) && !grepl("^[0-9]+ \\(.*\\) [ZX] ", stat)
}

# The command lines and environments of every process now, as text.
all_cmdlines <- function() {
  pids <- list.files("/proc", pattern = "^[0-9]+$")
  suppressWarnings(unlist(lapply(pids, function(p) {
    c(tryCatch(paste(readBin(file.path("/proc", p, "cmdline"), "raw", 65536L),
                     collapse = ""), error = function(e) character()),
      tryCatch(paste(readBin(file.path("/proc", p, "environ"), "raw", 65536L),
                     collapse = ""), error = function(e) character()))
  })))
}

# TRUE if `text` (hex-encoded as all_cmdlines() gives) is in any process's
# command line or environment.
visible_in_proc <- function(text) {
  hex <- paste(as.character(charToRaw(text)), collapse = "")
  any(grepl(hex, all_cmdlines(), fixed = TRUE))
}

# The master's state of a cluster (internal: keys, processes, endpoint).
the_state <- function(cl) rzmq:::cluster_state(cl)

# The argument vector of process `pid`.
cmdline_args <- function(pid) {
  raw <- readBin(file.path("/proc", pid, "cmdline"), "raw", 65536L)
  ends <- which(raw == as.raw(0L))
  starts <- c(1L, head(ends, -1L) + 1L)
  vapply(seq_along(ends), function(i) {
    if (ends[i] > starts[i]) rawToChar(raw[starts[i]:(ends[i] - 1L)]) else ""
  }, "")
}
