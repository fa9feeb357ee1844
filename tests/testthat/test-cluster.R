# init.cluster(): a parallel cluster over ZeroMQ. Every case that starts
# workers runs in a child R process with a deadline (in_child(), see
# helper-cluster.R) and checks that the workers are gone afterwards.

test_that("bad arguments to init.cluster() are R errors naming the argument", {
  expect_error(init.cluster(0), "`workers` must be a whole number >= 1")
  expect_error(init.cluster(-1), "`workers` must be a whole number >= 1")
  expect_error(init.cluster(NA), "`workers` must be a whole number >= 1")
  expect_error(init.cluster(1.5), "`workers` must be a whole number >= 1")
  expect_error(init.cluster(Inf), "`workers` must be a whole number >= 1")
  expect_error(init.cluster(1:2), "`workers` must be a whole number >= 1")
  expect_error(init.cluster("x"), "`workers` must be a number of workers for launch.local()")
  expect_error(init.cluster(2, launch = list()), "`launch` must be a launcher")
  expect_error(init.cluster(2, launch = "local"), "`launch` must be a launcher")
  expect_error(init.cluster(2, launch = launch.local), "`launch` must be a launcher")
  for (v in list(0, -1, NA, "a", Inf, c(1, 2), NULL)) {
    expect_error(init.cluster(2, heartbeat = v), "`heartbeat` must be a positive number")
    expect_error(init.cluster(2, timeout = v), "`timeout` must be a positive number")
  }
  expect_error(init.cluster(2, secure = NA), "`secure` must be TRUE or FALSE")
  expect_error(init.cluster(2, secure = "yes"), "`secure` must be TRUE or FALSE")
  expect_error(launch.local(rscript = NA), "`rscript` must be")
  expect_error(launch.local(rscript = 1), "`rscript` must be")
  expect_error(launch.local(outfile = NULL), "`outfile` must be")
  expect_error(worker.command(list()), "`cl` must be a cluster made by init.cluster()")
  expect_s3_class(launch.local(), c("rzmq_launcher_local", "rzmq_launcher"))
})

test_that("everything in parallel works on a secure cluster; errors come back as try-error", {
  skip_on_cran()
  res <- on_cluster_in_child(function(cl) {
    x <- 10
    clusterExport(cl, "x", envir = environment())
    clusterSetRNGStream(cl, 123)
    rng1 <- parSapply(cl, 1:4, function(i) runif(1))
    clusterSetRNGStream(cl, 123)
    rng2 <- parSapply(cl, 1:4, function(i) runif(1))
    # one task per node, sent straight with parallel's own internals
    parallel:::sendCall(cl[[1]], function() stop("kaput"), list())
    raw_error <- parallel:::recvResult(cl[[1]])
    out <- list(
      apply = clusterApply(cl, 1:3, function(i) i + x),
      applyLB = clusterApplyLB(cl, 1:20, function(i) i * 2),
      parLapply = parLapply(cl, 1:7, function(i) i^2),
      parLapplyLB = parLapplyLB(cl, 1:7, function(i) -i),
      parSapply = parSapply(cl, 1:5, function(i) i + 0.5),
      map = clusterMap(cl, function(a, b) a * b, 1:4, 5:8),
      call = clusterCall(cl, function(a) a + 1, 41),
      sub = parSapply(cl[2], 1:3, function(i) Sys.getpid()),
      rng_same = identical(rng1, rng2), rng_distinct = length(unique(rng1)),
      error = tryCatch(clusterApply(cl, 1:2, function(i) stop("boom ", i)),
                       error = conditionMessage),
      raw_error = raw_error,
      after_error = parSapply(cl, 1:4, function(i) i),
      print = capture.output(print(cl)),
      node = capture.output(print(cl[[1]])),
      class = class(cl), node_class = class(cl[[1]]))
    stopCluster(cl)
    out$print_stopped <- capture.output(print(cl))
    out$stop_again <- stopCluster(cl)
    out
  }, timeout = 30)
  expect_length(res$pids, 2L)
  expect_identical(res$class, c("rzmq_cluster", "cluster"))
  expect_identical(res$node_class, "rzmq_node")
  expect_identical(res$apply, list(11, 12, 13))
  expect_identical(res$applyLB, as.list((1:20) * 2))
  expect_identical(res$parLapply, as.list((1:7)^2))
  expect_identical(res$parLapplyLB, as.list(-(1:7)))
  expect_identical(res$parSapply, (1:5) + 0.5)
  expect_identical(res$map, list(5L, 12L, 21L, 32L))
  expect_identical(res$call, list(42, 42))
  expect_identical(res$sub, rep(res$pids[[2]], 3))
  expect_true(res$rng_same)
  expect_identical(res$rng_distinct, 4L)
  expect_match(res$error, "2 nodes produced errors; first error: boom 1")
  expect_s3_class(res$raw_error, "try-error")
  expect_match(as.character(res$raw_error), "kaput")
  expect_identical(res$after_error, 1:4)
  expect_match(res$print[1], "rzmq cluster of 2 workers, CURVE-encrypted, tcp://127.0.0.1:")
  expect_true(any(grepl(paste0("^ +1 .* ", res$pids[[1]], " +idle +[0-9]+$"), res$print)))
  expect_true(any(grepl(paste0("^ +2 .* ", res$pids[[2]], " +idle +[0-9]+$"), res$print)))
  expect_match(res$node, paste0("node 1: pid ", res$pids[[1]], " on host .*, idle, [0-9]+ tasks done"))
  expect_true(all(grepl("stopped", res$print_stopped[-(1:2)])))
  expect_null(res$stop_again)
})

test_that("secure = FALSE runs over plain tcp", {
  skip_on_cran()
  res <- in_child(function() {
    library(rzmq)
    cl <- init.cluster(2L, secure = FALSE, timeout = 30)
    out <- list(pids = unlist(parallel::clusterEvalQ(cl, Sys.getpid())),
                sq = parallel::parSapply(cl, 1:6, function(i) i^2),
                print = capture.output(print(cl)))
    parallel::stopCluster(cl)
    out
  })
  expect_identical(res$sq, (1:6)^2)
  expect_match(res$print[1], "plain tcp")
  expect_true(pids_gone(res$pids))
})

test_that("workers' secret keys are on no command line and in no environment", {
  skip_on_cran()
  skip_if_not(dir.exists("/proc/self"), "no /proc on this system")
  res <- in_child(function() {
    library(rzmq)
    cl <- init.cluster(2L, timeout = 30)
    st <- rzmq:::cluster_state(cl)
    secrets <- vapply(st$worker_keys, `[[`, "", "secret")
    pids <- unlist(parallel::clusterEvalQ(cl, Sys.getpid()))
    read <- function(f) {
      x <- readBin(f, "raw", 1e6)
      rawToChar(x[x != as.raw(0)])
    }
    seen <- lapply(pids, function(p) {
      c(cmdline = read(sprintf("/proc/%d/cmdline", p)),
        environ = read(sprintf("/proc/%d/environ", p)))
    })
    # while a task runs
    found <- parallel::parSapply(cl, 1:2, function(i, secrets) {
      f <- sprintf("/proc/%d/%s", Sys.getpid(), c("cmdline", "environ"))
      any(vapply(f, function(p) {
        x <- readBin(p, "raw", 1e6)
        any(vapply(secrets, grepl, TRUE, rawToChar(x[x != as.raw(0)]),
                   fixed = TRUE))
      }, TRUE))
    }, secrets)
    parallel::stopCluster(cl)
    list(secrets = secrets, seen = seen, found = found, pids = pids)
  })
  expect_length(res$secrets, 2L)
  expect_true(all(nchar(res$secrets) == 40L))
  for (s in res$seen) {
    expect_match(s[["cmdline"]], "run.worker", fixed = TRUE)
    for (k in res$secrets) {
      expect_false(grepl(k, s[["cmdline"]], fixed = TRUE))
      expect_false(grepl(k, s[["environ"]], fixed = TRUE))
    }
  }
  expect_identical(res$found, c(FALSE, FALSE))
  expect_true(pids_gone(res$pids))
})

test_that("a client without the cluster's keys gets nothing; the cluster goes on", {
  skip_on_cran()
  res <- in_child(function() {
    library(rzmq)
    cl <- init.cluster(1L, timeout = 30)
    st <- rzmq:::cluster_state(cl)
    ctx <- init.context()
    # knows the master's public key, but its own key is not admitted
    intruder <- init.socket(ctx, "ZMQ_DEALER")
    set.curve.client(intruder, st$server_keys$public, curve.keypair())
    set.rcv.timeout(intruder, 1000L)
    set.send.timeout(intruder, 1000L)
    connect.socket(intruder, st$endpoint)
    hello <- list(type = "HELLO", id = 1L, token = st$tokens[[1]])
    sent <- send.socket(intruder, hello)
    # and one without CURVE at all
    plain <- init.socket(ctx, "ZMQ_DEALER")
    set.rcv.timeout(plain, 1000L)
    set.send.timeout(plain, 1000L)
    connect.socket(plain, st$endpoint)
    send.socket(plain, hello)
    got <- list(receive.socket(intruder), receive.socket(plain))
    work <- parallel::parSapply(cl, 1:3, function(i) i * 3)
    log <- authenticator.log(st$auth)
    pids <- unlist(parallel::clusterEvalQ(cl, Sys.getpid()))
    parallel::stopCluster(cl)
    destroy.context(ctx, linger = 0)
    list(got = got, work = work, refused = sum(!log$allowed), pids = pids)
  })
  expect_identical(res$got, list(NULL, NULL))
  expect_identical(res$work, c(3, 6, 9))
  expect_gte(res$refused, 1L)
  expect_true(pids_gone(res$pids))
})

test_that("a worker that dies during a task fails the call within about `heartbeat` s, naming it; the others go on", {
  skip_on_cran()
  res <- in_child(function() {
    library(rzmq)
    library(parallel)
    cl <- init.cluster(2L, heartbeat = 2, timeout = 30)
    pids <- unlist(clusterEvalQ(cl, Sys.getpid()))
    t0 <- proc.time()[["elapsed"]]
    err <- tryCatch(
      clusterApply(cl, 1:2, function(i) {
        if (i == 2) tools::pskill(Sys.getpid(), tools::SIGKILL)
        Sys.sleep(0.5)
        i
      }),
      error = function(e) e)
    elapsed <- proc.time()[["elapsed"]] - t0
    # the other worker goes on; the lost one says so
    after <- parSapply(cl[1], 1:4, function(i) i + 1)
    lb <- tryCatch(clusterApplyLB(cl, 1:4, identity), error = function(e) e)
    printed <- capture.output(print(cl))
    stopCluster(cl)
    list(err = err, elapsed = elapsed, after = after, lb = lb,
         printed = printed, pids = pids)
  })
  expect_s3_class(res$err, "rzmq_worker_lost")
  expect_match(conditionMessage(res$err),
               sprintf("worker 2 \\(pid %d on host .+\\) was lost during task #[0-9]+", res$pids[[2]]))
  expect_identical(res$err$pid, res$pids[[2]])
  expect_identical(res$err$worker, 2L)
  expect_lt(res$elapsed, 2 + 2)
  expect_identical(res$after, c(2, 3, 4, 5))
  expect_s3_class(res$lb, "rzmq_worker_lost")
  expect_true(any(grepl(paste0(res$pids[[2]], " +lost"), res$printed)))
  expect_true(pids_gone(res$pids))
})

test_that("workers exit when the master stops answering heartbeats, and when it dies", {
  skip_on_cran()
  skip_on_os("windows")
  for (how in c("SIGSTOP", "SIGKILL")) {
    pidfile <- tempfile("cluster-pids-")
    proc <- child_r(function(pidfile) {
      library(rzmq)
      cl <- init.cluster(2L, heartbeat = 1, timeout = 30)
      writeLines(as.character(unlist(parallel::clusterEvalQ(cl, Sys.getpid()))),
                 paste0(pidfile, ".tmp"))
      file.rename(paste0(pidfile, ".tmp"), pidfile)
      Sys.sleep(60)
    }, args = list(pidfile = pidfile))
    deadline <- Sys.time() + 30
    while (!file.exists(pidfile) && proc$is_alive() && Sys.time() < deadline)
      Sys.sleep(0.05)
    expect_true(file.exists(pidfile), label = paste(how, "cluster started"))
    pids <- as.integer(readLines(pidfile))
    expect_length(pids, 2L)
    expect_true(all(pids_alive(pids)))
    t0 <- Sys.time()
    tools::pskill(proc$get_pid(), if (how == "SIGSTOP") tools::SIGSTOP else tools::SIGKILL)
    gone <- pids_gone(pids, timeout = 15)
    took <- as.numeric(Sys.time() - t0, units = "secs")
    proc$kill()
    unlink(pidfile)
    expect_true(gone, label = paste("workers gone after", how))
    expect_lt(took, 10)
  }
})

test_that("a cluster captured in a task's closure travels as a few bytes, without keys", {
  skip_on_cran()
  res <- in_child(function() {
    library(rzmq)
    cl <- init.cluster(1L, timeout = 30)
    secret <- rzmq:::cluster_state(cl)$server_keys$secret
    bytes <- serialize(cl, NULL)
    f <- local({ keep <- cl; function(i) i })
    ok <- parallel::parSapply(cl, 1:2, f)
    parallel::stopCluster(cl)
    list(size = length(bytes), ok = ok,
         secret_inside = grepl(secret, rawToChar(bytes[bytes != 0]), fixed = TRUE))
  })
  expect_lt(res$size, 2000)
  expect_false(res$secret_inside)
  expect_identical(res$ok, 1:2)
})

test_that("Ctrl-C while parLapply() waits: R's interrupt, and the next call gets its own results", {
  skip_on_cran()
  flag <- tempfile("cluster-interrupt-")
  proc <- child_r(function(flag) {
    library(rzmq)
    library(parallel)
    cl <- init.cluster(2L, timeout = 30)
    pids <- unlist(clusterEvalQ(cl, Sys.getpid()))
    first <- tryCatch(
      parLapply(cl, 1:2, function(i, flag) {
        file.create(paste0(flag, i))
        Sys.sleep(2)
        -i
      }, flag),
      interrupt = function(e) "interrupted")
    # the late results (-1, -2) come while this call waits
    second <- parLapply(cl, 1:4, function(i) i * 10)
    third <- clusterApplyLB(cl, 1:6, function(i) i)
    stopCluster(cl)
    list(first = first, second = second, third = third, pids = pids)
  }, args = list(flag = flag))
  deadline <- Sys.time() + 30
  while (!all(file.exists(paste0(flag, 1:2))) && proc$is_alive() &&
         Sys.time() < deadline) Sys.sleep(0.05)
  expect_true(all(file.exists(paste0(flag, 1:2))))
  tools::pskill(proc$get_pid(), tools::SIGINT)
  child_wait(proc, 30)
  res <- proc$get_result()
  unlink(paste0(flag, 1:2))
  expect_identical(res$first, "interrupted")
  expect_identical(res$second, list(10, 20, 30, 40))
  expect_identical(res$third, as.list(1:6))
  expect_true(pids_gone(res$pids))
})

test_that("SIGINT to a worker ends its task with a try-error; the worker goes on", {
  skip_on_cran()
  skip_on_os("windows")
  res <- in_child(function() {
    library(rzmq)
    library(parallel)
    cl <- init.cluster(1L, timeout = 30)
    pid <- clusterEvalQ(cl, Sys.getpid())[[1]]
    flag <- tempfile()
    parallel:::sendCall(cl[[1]], function(f) {
      file.create(f)
      Sys.sleep(20)
      "finished"
    }, list(flag))
    deadline <- Sys.time() + 20
    while (!file.exists(flag) && Sys.time() < deadline) Sys.sleep(0.02)
    tools::pskill(pid, tools::SIGINT)
    t0 <- proc.time()[["elapsed"]]
    interrupted <- parallel:::recvResult(cl[[1]])
    took <- proc.time()[["elapsed"]] - t0
    after <- parSapply(cl, 1:3, function(i) i * 2)
    same <- clusterEvalQ(cl, Sys.getpid())[[1]] == pid
    stopCluster(cl)
    list(interrupted = interrupted, took = took, after = after, same = same,
         pid = pid)
  })
  expect_s3_class(res$interrupted, "try-error")
  expect_identical(as.character(res$interrupted), "interrupted")
  expect_lt(res$took, 10)
  expect_identical(res$after, c(2, 4, 6))
  expect_true(res$same)
  expect_true(pids_gone(res$pid))
})

test_that("a start that fails names the workers that did not connect and leaves nothing running", {
  skip_on_cran()
  fake <- tempfile("not-rscript-")
  writeLines(c("#!/bin/sh", "exec sleep 60"), fake)
  Sys.chmod(fake, "0700")
  t0 <- Sys.time()
  err <- tryCatch(init.cluster(2L, launch = launch.local(rscript = fake),
                               timeout = 1),
                  error = function(e) e)
  elapsed <- as.numeric(Sys.time() - t0, units = "secs")
  unlink(fake)
  expect_s3_class(err, "rzmq_cluster_start_error")
  expect_match(conditionMessage(err),
               "2 workers did not connect within 1 s: 1 \\(pid [0-9]+ on host .+\\), 2 \\(pid [0-9]+")
  expect_identical(err$workers, 1:2)
  expect_lt(elapsed, 10)
  pids <- as.integer(regmatches(conditionMessage(err),
                                gregexpr("(?<=pid )[0-9]+", conditionMessage(err), perl = TRUE))[[1]])
  expect_length(pids, 2L)
  expect_true(pids_gone(pids, timeout = 5))
})

test_that("workers whose processes end before connecting fail the start at once", {
  skip_on_cran()
  fake <- tempfile("not-rscript-")
  writeLines(c("#!/bin/sh", "exit 3"), fake)
  Sys.chmod(fake, "0700")
  t0 <- Sys.time()
  err <- tryCatch(init.cluster(2L, launch = launch.local(rscript = fake), timeout = 30),
                  error = function(e) e)
  elapsed <- as.numeric(Sys.time() - t0, units = "secs")
  unlink(fake)
  expect_s3_class(err, "rzmq_cluster_start_error")
  expect_match(conditionMessage(err), "ended before connecting: 1 \\(pid [0-9]+ on host")
  expect_lt(elapsed, 10)
})

test_that("worker.command() adds a worker started by hand", {
  skip_on_cran()
  res <- in_child(function() {
    library(rzmq)
    cl <- init.cluster(1L, timeout = 30)
    shown <- capture.output(cl2 <- worker.command(cl))
    cl2 <- worker.command(cl, secret = TRUE)
    cmd <- attr(cl2, "command")
    # start it as a user would, with this R's Rscript
    cmd <- sub(" Rscript ", sprintf(" %s ", shQuote(file.path(R.home("bin"), "Rscript"))),
               cmd, fixed = TRUE)
    capture.output(system(paste(cmd, ">/dev/null 2>&1 &")))
    pids <- unlist(parallel::clusterEvalQ(cl2, Sys.getpid()))
    parallel::stopCluster(cl2)
    list(shown = shown, n = length(cl2), pids = pids)
  })
  expect_match(res$shown, "secret=<secret>", fixed = TRUE)
  expect_match(res$shown, "| Rscript -e 'rzmq::run.worker()'", fixed = TRUE)
  expect_identical(res$n, 2L)
  expect_length(unique(res$pids), 2L)
  expect_true(pids_gone(res$pids))
})

test_that("foreach runs on the cluster through doParallel", {
  skip_on_cran()
  skip_if_not_installed("foreach")
  skip_if_not_installed("doParallel")
  res <- on_cluster_in_child(function(cl) {
    doParallel::registerDoParallel(cl)
    `%dopar%` <- foreach::`%dopar%`
    out <- list(
      squares = foreach::foreach(i = 1:6, .combine = c) %dopar% i^2,
      where = unique(unlist(foreach::foreach(i = 1:6) %dopar% Sys.getpid())),
      error = tryCatch(foreach::foreach(i = 1:2) %dopar% stop("no ", i),
                       error = conditionMessage),
      workers = foreach::getDoParWorkers())
    foreach::registerDoSEQ()
    out
  }, timeout = 30)
  expect_identical(res$squares, (1:6)^2)
  expect_true(all(res$where %in% res$pids))
  expect_match(res$error, "no 1")
  expect_identical(res$workers, 2L)
})

test_that("future and future.apply run on the cluster without warnings; resolved() does not wait", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  res <- on_cluster_in_child(function(cl) {
    warnings <- character()
    out <- withCallingHandlers({
      future::plan(future::cluster, workers = cl)
      slow <- future::future({ Sys.sleep(1.5); Sys.getpid() })
      t0 <- proc.time()[["elapsed"]]
      early <- future::resolved(slow)
      asked <- proc.time()[["elapsed"]] - t0
      other <- future::future(Sys.getpid())
      list(
        early = early, asked = asked,
        values = c(future::value(slow), future::value(other)),
        apply = future.apply::future_sapply(1:10, function(i) i * 3),
        lapply = future.apply::future_lapply(1:3, function(i) Sys.getpid()),
        error = tryCatch(future::value(future::future(stop("inside"))),
                         error = conditionMessage),
        message = tryCatch(future::value(future::future(message("note"))),
                           message = conditionMessage))
    }, warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
    future::plan(future::sequential)
    out$warnings <- warnings
    out
  }, timeout = 30)
  expect_identical(res$warnings, character())
  expect_false(res$early)
  expect_lt(res$asked, 1)
  expect_setequal(res$values, res$pids)
  expect_identical(res$apply, (1:10) * 3)
  expect_true(all(unlist(res$lapply) %in% res$pids))
  expect_match(res$error, "inside")
  expect_match(res$message, "note")
})
