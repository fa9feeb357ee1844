# Helpers for the cluster tests: run cluster code in a child R process with
# a deadline (a regression fails instead of hanging the suite, and the
# child's workers go with it), and check that processes are gone.

# Run `fun(...)` in a child R process (which loads rzmq and parallel
# itself) and return its value; fail if it takes longer than `timeout` s.
in_child <- function(fun, args = list(), timeout = 60) {
  proc <- child_r(fun, args = args)
  child_wait(proc, timeout)
  tryCatch(proc$get_result(), error = function(e) {
    stop(conditionMessage(e), child_stderr(proc), call. = FALSE)
  })
}

# Whether each pid still names a running process.
# (a zombie that init has yet to reap counts as ended)
pids_alive <- function(pids) {
  vapply(pids, rzmq:::process_alive, logical(1))
}

# Wait up to `timeout` s for every pid to end; TRUE if they all did.
pids_gone <- function(pids, timeout = 10) {
  deadline <- Sys.time() + timeout
  while (any(pids_alive(pids)) && Sys.time() < deadline) Sys.sleep(0.05)
  !any(pids_alive(pids))
}

# The worker pids of a cluster, as the workers reported them.
cluster_pids <- function(cl) {
  unlist(parallel::clusterEvalQ(cl, Sys.getpid()))
}
