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

# Run `fun(cl)` in a child R process (in_child(), within `deadline`
# seconds) on a cluster made there by init.cluster(2L, ...), with rzmq and
# parallel attached, and stop the cluster afterwards. Returns `fun`'s value
# (a list) with the workers' pids added as `pids`, and fails the test
# unless those processes are gone then. `fun` runs in the child: it may use
# only its argument and packages.
on_cluster_in_child <- function(fun, ..., deadline = 60) {
  environment(fun) <- globalenv()
  res <- in_child(function(fun, cluster_args) {
    library(rzmq)
    library(parallel)
    cl <- do.call(init.cluster, c(list(2L), cluster_args))
    pids <- unlist(clusterEvalQ(cl, Sys.getpid()))
    out <- fun(cl)
    stopCluster(cl)
    c(out, list(pids = pids))
  }, args = list(fun = fun, cluster_args = list(...)), timeout = deadline)
  expect_true(pids_gone(res$pids), label = "the workers gone after stopCluster()")
  res
}
