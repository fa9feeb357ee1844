## Ventilator / workers / sink with rzmq.
##
## The main R process binds a PUSH socket (the ventilator, handing out tasks)
## and a PULL socket (the sink, collecting results), starts worker R
## processes running worker.R, and uses them to bootstrap a linear model.
## Run it with
##   Rscript -e 'source(system.file("examples", "worker-pool.R", package = "rzmq"))'
## or, from a source tree, Rscript inst/examples/worker-pool.R.
##
## With --secure (Rscript inst/examples/worker-pool.R --secure) every
## connection is CURVE-encrypted: the main process and each worker get a key
## pair, saved as certificate files in a temporary directory, and an
## authenticator lets in the workers' public keys and nobody else.
library(rzmq)

secure <- "--secure" %in% commandArgs(trailingOnly = TRUE)

## One worker per core (at least 2, at most 8): more workers than cores
## only take turns on the same cores.
n_workers <- max(2L, min(8L, parallel::detectCores(), na.rm = TRUE))
n_tasks <- 60L     # bootstrap tasks ...
reps <- 50L        # ... of this many refits each
timeout <- 60      # seconds to wait for any one message before giving up

## The work: refit lm(mpg ~ wt + hp) on `reps` resamples of the data.
## Seeding inside the task makes the result independent of who runs it.
boot_fit <- function(data, seed, reps) {
  set.seed(seed)
  t(replicate(reps, {
    rows <- sample(nrow(data), replace = TRUE)
    coef(lm(mpg ~ wt + hp, data = data[rows, ]))
  }))
}

ctx <- init.context()
vent <- init.socket(ctx, "ZMQ_PUSH")
sink <- init.socket(ctx, "ZMQ_PULL")

## --secure: keys for the main process (the CURVE server) and for each
## worker, as certificate files; a worker is given its own key pair and the
## main process's public certificate, as it would be on another machine.
## The authenticator runs on its own thread and answers every handshake on
## this context; it allows exactly the workers' public keys.
worker_args <- vector("list", n_workers)
if (secure) {
  if (!zmq.has("curve"))
    stop("--secure needs a libzmq built with CURVE (zmq.has(\"curve\"))")
  key_dir <- tempfile("worker-pool-keys-")
  dir.create(key_dir, mode = "0700")
  master_keys <- curve.keypair()
  write.curve.keys(master_keys, file.path(key_dir, "master.key"))
  master_public <- file.path(key_dir, "master-public.key")
  write.curve.keys(list(public = master_keys$public), master_public)
  worker_keys <- character(n_workers)
  for (i in seq_len(n_workers)) {
    path <- file.path(key_dir, sprintf("worker-%d.key", i))
    keys <- curve.keypair()
    write.curve.keys(keys, path)
    worker_keys[i] <- keys$public
    worker_args[[i]] <- c(path, master_public)
  }
  secrets <- list.files(key_dir, "_secret$", full.names = TRUE)
  stopifnot(length(secrets) == n_workers + 1L,
            all(file.mode(secrets) == as.octmode("600")))
  auth <- init.authenticator(ctx, curve = worker_keys)
  set.curve.server(vent, master_keys$secret)  # before bind
  set.curve.server(sink, master_keys$secret)
  cat(sprintf("CURVE on: %d key pairs in %s (secret files mode 0600)\n",
              n_workers + 1L, key_dir))
}

stopifnot(bind.socket(vent, "tcp://127.0.0.1:*"),
          bind.socket(sink, "tcp://127.0.0.1:*"))
vent_endpoint <- get.last.endpoint(vent)  # the ports the OS picked
sink_endpoint <- get.last.endpoint(sink)

worker_script <- system.file("examples", "worker.R", package = "rzmq")
if (!nzchar(worker_script))
  stop("worker.R not found: is rzmq installed?")

pids <- integer(0)  # workers that have said hello

## Receive one message from `socket`, or stop (killing the workers) if
## nothing arrives within `timeout` seconds, e.g. because a worker died.
receive_or_fail <- function(socket, what) {
  ready <- poll.socket(list(socket), list("read"), timeout = timeout)
  if (!ready[[1]]$read) {
    if (length(pids)) tools::pskill(pids)
    stop("no ", what, " within ", timeout, " s; did a worker die?",
         call. = FALSE)
  }
  receive.socket(socket)
}

## Start the workers and wait until each has connected.  A PUSH socket only
## hands messages to peers that are already connected, so sending tasks
## before this would give them all to the first worker to show up.
t0 <- proc.time()[["elapsed"]]
for (i in seq_len(n_workers))
  system2(file.path(R.home("bin"), "Rscript"),
          c(shQuote(worker_script), vent_endpoint, sink_endpoint,
            shQuote(worker_args[[i]])),
          wait = FALSE)
while (length(pids) < n_workers) {
  msg <- receive_or_fail(sink, "ready message")
  if (identical(msg$type, "ready"))
    pids <- c(pids, msg$worker)
}
t_start <- proc.time()[["elapsed"]] - t0
cat(sprintf("%d workers ready after %.1f s (pids %s)\n",
            n_workers, t_start, paste(pids, collapse = ", ")))

## Farm out the tasks: each is the function, its arguments and an id.
t0 <- proc.time()[["elapsed"]]
for (id in seq_len(n_tasks))
  send.socket(vent, list(type = "task", id = id, fun = boot_fit,
                         args = list(data = mtcars, seed = id, reps = reps)))

## Collect the results, in whatever order they come back.
results <- vector("list", n_tasks)
done_by <- integer(n_tasks)
for (k in seq_len(n_tasks)) {
  msg <- receive_or_fail(sink, "result")
  if (inherits(msg$result, "error")) {
    tools::pskill(pids)
    stop("task ", msg$id, " failed on worker ", msg$worker, ": ",
         conditionMessage(msg$result), call. = FALSE)
  }
  results[[msg$id]] <- msg$result
  done_by[msg$id] <- msg$worker
}
t_parallel <- proc.time()[["elapsed"]] - t0

## One stop message per worker: the ventilator deals them out round-robin
## and each worker exits after its first one.
for (i in seq_len(n_workers))
  send.socket(vent, list(type = "stop"))

## The same work serially in this process, for comparison.
t0 <- proc.time()[["elapsed"]]
serial <- lapply(seq_len(n_tasks), function(id)
  boot_fit(data = mtcars, seed = id, reps = reps))
t_serial <- proc.time()[["elapsed"]] - t0

boot <- do.call(rbind, results)
stopifnot(all.equal(boot, do.call(rbind, serial)))  # same seeds, same fits

cat(sprintf("\nBootstrap of lm(mpg ~ wt + hp, data = mtcars), %d refits:\n",
            nrow(boot)))
print(round(t(apply(boot, 2, function(b)
  c(mean = mean(b), quantile(b, c(0.025, 0.975))))), 4))

cat("\nTasks done per worker:\n")
print(table(pid = done_by))

cat(sprintf("\nWall time: %.2f s with %d workers (plus %.1f s start-up), %.2f s serially\n",
            t_parallel, n_workers, t_start, t_serial))
## What the two times mean: the workers share this machine's cores with
## this process and with each other, so the best the pool can do is the
## serial time divided by the number of cores free for it. On a machine
## already busy, or with as many workers as cores, it may do no better.
cores <- parallel::detectCores()
cat(sprintf(paste0("Speed-up %.1f x with %d workers on %s core(s): at best about ",
                   "min(workers, idle cores) x; less when other work keeps the cores busy\n"),
            t_serial / t_parallel, n_workers, if (is.na(cores)) "?" else cores))

if (secure) {
  ## Each worker made two connections (tasks and results): two handshakes.
  handshakes <- authenticator.log(auth)
  cat(sprintf(paste0("\nAuthenticated and encrypted (CURVE): the authenticator ",
                     "allowed %d handshakes from %d worker keys and refused %d\n"),
              sum(handshakes$allowed),
              length(unique(handshakes$user[handshakes$allowed])),
              sum(!handshakes$allowed)))
}

invisible(set.linger(vent, 1000L))  # make sure the stop messages get out
destroy.socket(vent)
destroy.socket(sink)
destroy.context(ctx)
if (secure)
  unlink(key_dir, recursive = TRUE)
