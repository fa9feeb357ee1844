# launch.ssh() against a real OpenSSH server on 127.0.0.1 (tests/daemons/run.sh
# starts it and sets RZMQ_SSH_CONFIG to its client configuration).

ssh_config <- Sys.getenv("RZMQ_SSH_CONFIG")
if (!nzchar(ssh_config) || !file.exists(ssh_config)) {
  stop("RZMQ_SSH_CONFIG is not set: run tests/daemons/run.sh")
}
options(rzmq.launch.dir = file.path(Sys.getenv("RZMQ_DAEMONS_DIR", tempdir()), "launch-ssh"))

for (tunnel in c(FALSE, TRUE)) {
  test_that(sprintf("a cluster of 2 workers over ssh (tunnel = %s): parLapply, stopCluster, nothing left", tunnel), {
    l <- launch.ssh(args = c("-F", ssh_config), rscript = file.path(R.home("bin"), "Rscript"),
                    tunnel = tunnel)
    t0 <- Sys.time()
    cl <- within_seconds(60, init.cluster(c("127.0.0.1", "localhost"), launch = l,
                                          heartbeat = 2, timeout = 30))
    on.exit(try(parallel::stopCluster(cl), silent = TRUE), add = TRUE)
    message(sprintf("  ssh cluster (tunnel = %s) up in %.2f s", tunnel,
                    as.numeric(Sys.time() - t0, units = "secs")))
    st <- the_state(cl)
    expect_length(cl, 2L)
    if (tunnel) expect_match(st$endpoint, "^tcp://127\\.0\\.0\\.1:")

    res <- within_seconds(30, parallel::parLapply(cl, 1:20, function(i) c(i^2, Sys.getpid())))
    expect_identical(vapply(res, `[`, 1, 1), (1:20)^2)
    worker_pids <- unique(vapply(res, `[`, 1, 2))
    expect_length(worker_pids, 2L)
    expect_false(Sys.getpid() %in% worker_pids)
    expect_true(all(vapply(worker_pids, alive, TRUE)))
    expect_output(print(cl), "idle")
    # the workers are the remote side's processes, not the master's children
    ppids <- vapply(worker_pids, function(p) as.integer(strsplit(
      readLines(file.path("/proc", p, "stat")), " ")[[1]][4]), 1L)
    expect_false(any(ppids == Sys.getpid()))

    # no secret key on any command line or in any environment
    secrets <- vapply(st$worker_keys, `[[`, "", "secret")
    expect_length(secrets, 2L)
    for (s in secrets) expect_false(visible_in_proc(s))
    expect_false(visible_in_proc(st$server_keys$secret))

    ssh_pids <- vapply(st$processes, `[[`, 1L, "pid")
    expect_true(all(vapply(ssh_pids, alive, TRUE)))
    if (tunnel) {
      # the launcher's shell runs ssh -R <remote port>:127.0.0.1:<master's port>
      expect_match(paste(cmdline_args(ssh_pids[1]), collapse = " "),
                   "-R '?[0-9]+:127\\.0\\.0\\.1:[0-9]+")
    }

    # a worker killed in the middle of a task: the call fails with
    # rzmq_worker_lost naming it; the other worker goes on
    t0 <- Sys.time()
    err <- within_seconds(30, tryCatch(
      parallel::clusterApply(cl, 1:2, function(i) {
        if (i == 1) tools::pskill(Sys.getpid(), tools::SIGKILL)
        Sys.getpid()
      }), error = function(e) e))
    expect_s3_class(err, "rzmq_worker_lost")
    expect_match(conditionMessage(err), as.character(st$pid[[1]]))
    expect_lt(as.numeric(Sys.time() - t0, units = "secs"), 15)
    expect_identical(within_seconds(30, parallel::clusterEvalQ(cl[2], Sys.getpid()))[[1]],
                     st$pid[[2]])
    expect_output(print(cl), "lost")

    # a worker busy with a long task when the cluster stops: after the grace
    # period its ssh is killed, and the remote side kills the worker
    parallel:::sendCall(cl[[2]], Sys.sleep, list(120))
    t0 <- Sys.time()
    within_seconds(30, parallel::stopCluster(cl))
    wait_until(function() !any(vapply(c(worker_pids, ssh_pids), alive, TRUE)), 15,
               "the workers and ssh clients to exit")
    expect_false(any(vapply(c(worker_pids, ssh_pids), alive, TRUE)))
    expect_lt(as.numeric(Sys.time() - t0, units = "secs"), 20)
    expect_identical(list.files(getOption("rzmq.launch.dir"), pattern = "config$",
                                recursive = TRUE), character())
  })
}

test_that("a worker whose ssh fails: init.cluster() names it and leaves nothing", {
  # port 1 on 127.0.0.1: connection refused
  l <- launch.ssh(args = c("-F", ssh_config, "-p", "1"))
  t0 <- Sys.time()
  err <- within_seconds(60, tryCatch(init.cluster("127.0.0.1", launch = l, timeout = 5),
                                     error = function(e) e))
  expect_s3_class(err, "rzmq_cluster_start_error")
  # its ssh exits at once, so the start fails at once, not at the timeout
  expect_match(conditionMessage(err), "1 worker ended before connecting: 1 ")
  expect_lt(as.numeric(Sys.time() - t0, units = "secs"), 5)
  expect_match(conditionMessage(err), "ssh \\(pid [0-9]+\\) to 127\\.0\\.0\\.1")
  log <- sub("^.*its output: ([^ ,)]+).*$", "\\1", conditionMessage(err))
  expect_true(file.exists(log))
  expect_match(paste(readLines(log), collapse = "\n"), "refused|port 1")
})
