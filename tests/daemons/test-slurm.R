# launch.slurm() against a real single-node SLURM (tests/daemons/run.sh starts
# munged, slurmctld and slurmd and sets SLURM_CONF).

if (!nzchar(Sys.getenv("SLURM_CONF")) || !file.exists(Sys.getenv("SLURM_CONF"))) {
  stop("SLURM_CONF is not set: run tests/daemons/run.sh")
}
options(rzmq.launch.dir = file.path(Sys.getenv("RZMQ_DAEMONS_DIR", tempdir()), "launch-slurm"))

# The ids of the jobs squeue lists (pending, running, completing).
squeue_jobs <- function() {
  out <- system2("squeue", c("-h", "-o", "%i"), stdout = TRUE)
  stopifnot(is.null(attr(out, "status")))
  trimws(out)
}

squeue_state <- function(job) {
  trimws(system2("squeue", c("-h", "-o", "%T", "-j", job), stdout = TRUE, stderr = FALSE))
}

test_that("a cluster of 2 SLURM jobs: parLapply, a worker scancel'led mid-task is lost, stopCluster empties the queue", {
  expect_identical(squeue_jobs(), character())
  t0 <- Sys.time()
  cl <- within_seconds(90, init.cluster(2, launch = launch.slurm(), heartbeat = 2,
                                        timeout = 60))
  on.exit(try(parallel::stopCluster(cl), silent = TRUE), add = TRUE)
  message(sprintf("  SLURM cluster up in %.2f s", as.numeric(Sys.time() - t0, units = "secs")))
  st <- the_state(cl)
  jobs <- vapply(st$processes, `[[`, "", "job")
  expect_match(jobs, "^[0-9]+$")
  expect_setequal(squeue_jobs(), jobs)
  expect_identical(unique(vapply(jobs, squeue_state, "")), "RUNNING")

  # each worker runs in its own job
  res <- within_seconds(30, parallel::parLapply(cl, 1:10, function(i)
    c(i * 2, as.integer(Sys.getenv("SLURM_JOB_ID")))))
  expect_identical(vapply(res, `[`, 1, 1), seq(2, 20, 2))
  expect_setequal(as.character(unique(vapply(res, `[`, 1, 2))), jobs)
  # the secret keys are in no command line or environment, and the 0600
  # files are gone once read
  for (k in st$worker_keys) expect_false(visible_in_proc(k$secret))
  expect_identical(list.files(getOption("rzmq.launch.dir"), pattern = "config$",
                              recursive = TRUE), character())

  # worker 1's job is cancelled while it runs a task: the call fails with
  # rzmq_worker_lost within about `heartbeat` seconds; worker 2 goes on
  job1 <- res[[1]][2]
  t0 <- Sys.time()
  err <- within_seconds(60, tryCatch(
    parallel::clusterApply(cl, 1:2, function(i) {
      if (i == 1) {
        system2("scancel", Sys.getenv("SLURM_JOB_ID"))
        Sys.sleep(60)
      }
      i
    }),
    error = function(e) e))
  lost_after <- as.numeric(Sys.time() - t0, units = "secs")
  message(sprintf("  rzmq_worker_lost after %.2f s", lost_after))
  expect_s3_class(err, "rzmq_worker_lost")
  expect_match(conditionMessage(err), as.character(st$pid[[1]]))
  expect_lt(lost_after, 20)
  wait_until(function() !(as.character(job1) %in% squeue_jobs()), 30, "the cancelled job to leave squeue")
  expect_output(print(cl), "lost")
  expect_identical(within_seconds(30, parallel::clusterEvalQ(cl[2], 6 * 7)), list(42))

  within_seconds(30, parallel::stopCluster(cl))
  wait_until(function() !length(squeue_jobs()), 30, "squeue to be empty")
  expect_identical(squeue_jobs(), character())
})

test_that("jobs that never start: init.cluster() names them, and cancels them", {
  expect_identical(squeue_jobs(), character())
  l <- launch.slurm(options = "--begin=now+1hour")
  err <- within_seconds(60, tryCatch(init.cluster(2, launch = l, timeout = 5),
                                     error = function(e) e))
  expect_s3_class(err, "rzmq_cluster_start_error")
  expect_match(conditionMessage(err), "2 workers did not connect within 5 s")
  expect_match(conditionMessage(err), "SLURM job [0-9]+.*SLURM job [0-9]+")
  wait_until(function() !length(squeue_jobs()), 30, "squeue to be empty")
  expect_identical(squeue_jobs(), character())
  expect_identical(list.files(getOption("rzmq.launch.dir"), pattern = "config$",
                              recursive = TRUE), character())
})
