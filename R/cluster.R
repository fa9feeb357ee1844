#' A parallel cluster over ZeroMQ
#'
#' `init.cluster()` starts `workers` R processes through a launcher and
#' returns a cluster that every function of the `parallel` package takes
#' (`parLapply()`, `clusterApplyLB()`, `clusterExport()`, ...), and with it
#' `foreach` (`doParallel::registerDoParallel(cl)`) and `future`
#' (`future::plan(future::cluster, workers = cl)`). The master binds one
#' ZeroMQ ROUTER socket; each worker ([run.worker()]) connects to it with a
#' DEALER socket and runs the tasks it is sent exactly as `parallel`'s own
#' workers do.
#'
#' **Security.** With `secure = TRUE` (the default) every connection is
#' encrypted and authenticated with CURVE: the cluster makes a fresh key
#' pair for the master and one for each worker, and an authenticator on the
#' master's context admits exactly those workers' keys. Nobody else who
#' reaches the master's port can connect, send it tasks' results or read
#' what goes over the wire; each worker's secret key reaches it on its
#' standard input (or in a file only its owner can read), never on a
#' command line or in an environment variable. With `secure = FALSE` the
#' connections are plain tcp: anyone who can reach the port can read the
#' tasks and their results, and a peer that learned a worker's token could
#' take its place; use it only on a network you trust (it is somewhat
#' faster). Either way the workers run whatever the master sends them, as
#' with any `parallel` cluster.
#'
#' **Liveness.** Master and workers exchange heartbeats (libzmq's, answered
#' by its I/O threads even while R is busy). A worker that dies or is cut
#' off makes the call waiting for it fail within about `heartbeat` seconds
#' with an error of class `rzmq_worker_lost` that names the worker (host and
#' pid) and the task; the other workers go on, and the lost node says so in
#' `print(cl)` and errors when it is sent more work. A worker exits when
#' the master stops the cluster, ends, or stops answering heartbeats. If a
#' call is interrupted (Ctrl-C) or fails, the results of its tasks that
#' come later are discarded, so the next call on the cluster gets only its
#' own.
#'
#' `stopCluster()` tells the workers to exit, kills any that have not
#' exited within `getOption("rzmq.cluster.grace", 2)` seconds (a worker
#' busy with a task) and frees the master's socket. `print()` shows each
#' worker's host, pid, state (`"idle"`, `"busy"`, `"lost"`, `"stopped"`)
#' and the number of tasks it did.
#'
#' The master binds to `127.0.0.1` for workers on this machine; for other
#' launchers it binds to every interface and tells the workers to connect
#' to `getOption("rzmq.cluster.host")` (by default this machine's name),
#' unless the launcher says otherwise.
#'
#' @param workers the number of workers (a whole number >= 1); for
#'   launchers that start workers on other hosts (`launch.ssh()`) a
#'   character vector of host names, one per worker (repeat a host for
#'   several workers there).
#' @param launch a launcher: [launch.local()] (the default), or another
#'   `launch.*()`.
#' @param secure `TRUE` to encrypt and authenticate every connection with
#'   CURVE (see Details); `FALSE` for plain tcp.
#' @param heartbeat seconds (> 0) after which a silent worker or master is
#'   taken for lost.
#' @param timeout seconds (> 0) to wait for all workers to connect.
#' @param cl a cluster made by `init.cluster()`.
#' @param x a cluster, or one of its nodes.
#' @param ... not used.
#' @return `init.cluster()`: a cluster, a list of `workers` nodes of class
#'   `"rzmq_node"`, of class `c("rzmq_cluster", "cluster")`. It fails, with
#'   an error naming the workers that did not connect within `timeout`
#'   seconds, and stops every process it started, if any worker does not
#'   connect in time.
#' @seealso [launch.local()], [run.worker()], [worker.command()];
#'   `vignette("remote-execution", package = "rzmq")`
#' @examples
#' cl <- init.cluster(2L)
#' cl
#' parallel::parSapply(cl, 1:10, function(i) i^2)
#' parallel::clusterEvalQ(cl, Sys.getpid())
#' parallel::stopCluster(cl)
#' @importFrom parallel stopCluster
#' @export
init.cluster <- function(workers = 2L, launch = launch.local(), secure = TRUE,
                         heartbeat = 5, timeout = 60) {
  if (!inherits(launch, "rzmq_launcher") || !is.function(launch$start) ||
      !is.function(launch$cleanup)) {
    stop("`launch` must be a launcher, such as launch.local()", call. = FALSE)
  }
  hosts <- check_workers(workers, launch)
  secure <- arg_flag(secure, "secure")
  heartbeat <- check_seconds(heartbeat, "heartbeat")
  timeout <- check_seconds(timeout, "timeout")
  if (secure && !zmq.has("curve")) {
    stop("secure = TRUE needs libzmq with CURVE support, which this one ",
         "lacks; use secure = FALSE only on a network you trust",
         call. = FALSE)
  }
  st <- master_state(length(hosts), launch, secure, heartbeat, timeout)
  ok <- FALSE
  on.exit(if (!ok) master_close(st), add = TRUE)
  for (i in seq_along(hosts)) {
    st$processes[[i]] <- launch$start(worker_spec(st, i, hosts[[i]]))
  }
  wait_hellos(st)
  ok <- TRUE
  nodes <- lapply(seq_along(hosts), function(i) {
    structure(list(index = i, cluster = st$name, host = st$host[[i]]),
              class = "rzmq_node")
  })
  # future tells clusters apart by their "name", or else by a digest of the
  # whole object, which for us would change with every task
  structure(nodes, class = c("rzmq_cluster", "cluster"), name = st$name)
}

check_workers <- function(workers, launch) {
  if (is.character(workers)) {
    if (identical(launch$kind, "local"))
      stop("`workers` must be a number of workers for launch.local()",
           call. = FALSE)
    if (!length(workers) || anyNA(workers) || !all(nzchar(workers)))
      stop("`workers` must be host names (non-empty strings)", call. = FALSE)
    return(as.list(workers))
  }
  n <- as_number(workers)
  if (is.na(n) || n < 1 || n != round(n) || !is.finite(n)) {
    stop("`workers` must be a whole number >= 1 (or host names)",
         call. = FALSE)
  }
  as.list(rep(NA_character_, n))
}

# `x` as a number of seconds > 0; an R error naming `name` otherwise.
check_seconds <- function(x, name) {
  v <- as_number(x)
  if (is.na(v) || !is.finite(v) || v <= 0) {
    stop(sprintf("`%s` must be a positive number of seconds", name),
         call. = FALSE)
  }
  v
}

# 16 random bytes as 32 hex digits, without touching R's random numbers.
random_token <- function() {
  b <- if (file.exists("/dev/urandom")) {
    con <- file("/dev/urandom", "rb", raw = TRUE)
    on.exit(close(con))
    readBin(con, "raw", 16L)
  } else {
    z85.decode(curve.keypair()$secret)[1:16]
  }
  paste(format(as.hexmode(as.integer(b)), width = 2L), collapse = "")
}

# The masters of this session's clusters, by name. A node holds only its
# cluster's name, so that a node or cluster captured in a task's closure
# serializes to a few bytes (and carries no keys to the workers).
masters <- new.env(parent = emptyenv())

node_master <- function(node) {
  st <- masters[[.subset2(node, "cluster")]]
  if (is.null(st)) {
    stop("this node belongs to a cluster of another R session", call. = FALSE)
  }
  st
}

# The master: its context, ROUTER socket, keys, authenticator and what it
# knows of each worker (vectors indexed by worker number).
master_state <- function(n, launch, secure, heartbeat, timeout) {
  st <- new.env(parent = emptyenv())
  st$n <- n
  st$launch <- launch
  st$secure <- secure
  st$heartbeat <- heartbeat
  st$timeout <- timeout
  st$probe <- min(1, heartbeat / 4)
  st$processes <- vector("list", n)
  st$tokens <- vapply(seq_len(n), function(i) random_token(), "")
  st$ids <- lapply(st$tokens, charToRaw)
  st$state <- rep("starting", n)
  st$host <- rep(NA_character_, n)
  st$pid <- rep(NA_integer_, n)
  st$done <- integer(n)
  st$pending <- integer(n)       # results waiting in `results`
  st$results <- vector("list", n)
  # A worker runs its tasks in the order sent and answers each EXEC once,
  # so results need no numbers: each worker's count of tasks outstanding,
  # and of results still to come that belong to an abandoned call (skip).
  st$outstanding <- integer(n)
  st$tags <- vector("list", n)   # list(tag, number) of each outstanding task
  st$busy <- logical(n)          # outstanding > 0
  st$skip <- integer(n)
  st$seq <- 0L                   # tasks sent, to name those without a tag
  st$cache_data <- NULL
  st$cache_msg <- NULL
  st$name <- paste0("rzmq-", random_token())
  masters[[st$name]] <- st
  st$last_probe <- now()
  st$npump <- 0L
  st$closed <- FALSE
  # two I/O threads: the workers' connections are served (and, with CURVE,
  # encrypted) in parallel; measured faster for 2 workers on 2 cores, both
  # for many small tasks and for large arguments
  st$ctx <- init.context(threads = if (n > 1L) 2L else 1L)
  s <- init.socket(st$ctx, "ZMQ_ROUTER")
  st$router <- s
  set.sockopt(s, "ZMQ_ROUTER_MANDATORY", TRUE)
  set.sockopt(s, "ZMQ_LINGER", 0L)
  set_heartbeat(s, heartbeat)
  set.rcv.timeout(s, as.integer(st$probe * 1000))
  if (secure) {
    st$server_keys <- curve.keypair()
    st$worker_keys <- lapply(seq_len(n), function(i) curve.keypair())
    st$auth <- init.authenticator(
      st$ctx, curve = vapply(st$worker_keys, `[[`, "", "public"))
    set.curve.server(s, st$server_keys$secret)
  }
  address <- launch$address
  if (is.null(address)) {
    address <- if (identical(launch$kind, "local")) "127.0.0.1" else
      getOption("rzmq.cluster.host", Sys.info()[["nodename"]])
  }
  bind <- if (identical(launch$kind, "local") || address %in%
              c("127.0.0.1", "localhost")) "tcp://127.0.0.1:*" else "tcp://*:*"
  if (!isTRUE(bind.socket(s, bind))) {
    destroy.context(st$ctx, linger = 0L)
    stop("the cluster's master cannot bind ", bind, call. = FALSE)
  }
  port <- sub(".*:", "", get.last.endpoint(s))
  st$endpoint <- sprintf("tcp://%s:%s", address, port)
  st
}

# The one line a worker reads (format: see launch.R).
worker_config <- function(st, i, endpoint = st$endpoint) {
  keys <- if (st$secure) {
    c(st$server_keys$public, st$worker_keys[[i]]$public,
      st$worker_keys[[i]]$secret)
  } else c("-", "-", "-")
  sprintf(paste("rzmq-worker 1 endpoint=%s id=%d token=%s heartbeat=%s",
                "timeout=%s server=%s public=%s secret=%s"),
          endpoint, i, st$tokens[[i]], format(st$heartbeat),
          format(st$timeout), keys[[1L]], keys[[2L]], keys[[3L]])
}

worker_spec <- function(st, i, host) {
  list(index = i, host = host, config = worker_config(st, i),
       endpoint = st$endpoint,
       config_for = function(endpoint) worker_config(st, i, endpoint),
       expr = function(config_file = NULL) {
         if (is.null(config_file)) "rzmq::run.worker()" else
           sprintf("rzmq::run.worker(config = %s)", deparse(config_file))
       })
}

# Wait until every worker said hello, or fail naming those that did not.
wait_hellos <- function(st) {
  deadline <- now() + st$timeout
  look <- now() + 0.5
  while (any(st$state == "starting")) {
    # a worker whose process (the worker, its ssh, its srun) ended before
    # it said hello will not say it: no need to wait for the timeout
    dead <- if (now() > look) gone_before_hello(st) else integer()
    if (now() > look) look <- now() + 0.5
    if (length(dead) || now() > deadline) {
      late <- if (length(dead)) dead else which(st$state == "starting")
      what <- vapply(late, function(i) {
        p <- st$processes[[i]]
        d <- if (is.list(p) && is.character(p$describe)) p$describe else ""
        sprintf("%d (%s)", i, d)
      }, "")
      stop(structure(class = c("rzmq_cluster_start_error", "error",
                               "condition"),
        list(message = if (length(dead)) sprintf(
          "%s ended before connecting: %s (launch.local(outfile = \"\") shows a local worker's output)",
          plural(length(late), "worker"), paste(what, collapse = ", ")) else
          sprintf("%s did not connect within %g s: %s",
                  plural(length(late), "worker"), st$timeout,
                  paste(what, collapse = ", ")),
          call = NULL, workers = late)))
    }
    pump(st)
  }
}

gone_before_hello <- function(st) {
  starting <- which(st$state == "starting")
  starting[vapply(starting, function(i) {
    p <- st$processes[[i]]
    pid <- if (is.list(p) && length(p$pid) == 1L) suppressWarnings(as.integer(p$pid)) else NA
    !is.na(pid) && !process_alive(pid)
  }, TRUE)]
}

# Receive one message (waiting up to the router's receive timeout, the
# probe interval) and file it under its worker. Returns whether one came.
pump <- function(st, wait = TRUE, want = NULL) {
  s <- st$router
  # the clock is read every 64 messages (and whenever a wait times out)
  n <- st$npump + 1L
  if (n == 64L) {
    n <- 0L
    if (now() - st$last_probe > st$probe) probe(st)
  }
  st$npump <- n
  id <- .Call(c_rzmq_receive, s, FALSE, !wait)
  if (is.null(id)) {
    if (wait && now() - st$last_probe > st$probe) probe(st)
    return(FALSE)
  }
  msg <- .Call(c_rzmq_receive, s, TRUE, FALSE)
  # our workers send one frame; anything more is not theirs
  if (isTRUE(.Call(c_rzmq_option_get, s, "RCVMORE"))) {
    while (isTRUE(.Call(c_rzmq_option_get, s, "RCVMORE")))
      .Call(c_rzmq_receive, s, FALSE, FALSE)
    return(TRUE)
  }
  i <- match(rawToChar(id), st$tokens)
  if (is.na(i) || !is.list(msg)) return(TRUE)
  file_message(st, i, msg, want)
}

# Book a message from worker i. A result the caller waits for (a worker in
# `want` with nothing queued before it) is returned as list(i, value);
# anything else is queued under its worker, and TRUE is returned.
file_message <- function(st, i, msg, want = NULL) {
  interim <- inherits(msg, "rzmq_interim")
  if (!interim && !identical(.subset2(msg, "type"), "VALUE")) {
    if (identical(.subset2(msg, "type"), "HELLO")) hello(st, i, msg)
    return(TRUE)
  }
  if (st$skip[[i]] > 0L) {
    # the answer to a task of an abandoned call (or a message sent during
    # that task): nobody's
    if (!interim) st$skip[[i]] <- st$skip[[i]] - 1L
    return(TRUE)
  }
  n <- st$outstanding[[i]]
  if (n == 0L) return(TRUE) # nothing was asked of it
  if (interim) {
    # a message sent during a task (future's immediate conditions): the
    # task's result is still to come
    value <- .subset2(msg, "value")
  } else {
    value <- msg
    st$outstanding[[i]] <- n - 1L
    st$tags[[i]] <- st$tags[[i]][-1L]
    st$done[[i]] <- st$done[[i]] + 1L
    if (n == 1L) {
      st$busy[[i]] <- FALSE
      # nothing left to send it again to: let the cached message go
      if (!any(st$busy)) st$cache_data <- st$cache_msg <- NULL
    }
  }
  if (!is.null(want) && st$pending[[i]] == 0L && i %in% want)
    return(list(i, value))
  queue_result(st, i, value)
  TRUE
}

hello <- function(st, i, h) {
  if (st$state[[i]] == "starting" && identical(h$token, st$tokens[[i]])) {
    st$host[[i]] <- as.character(h$host)
    st$pid[[i]] <- as.integer(h$pid)
    st$state[[i]] <- "live"
    send_frames(st, i, list(type = "WELCOME"))
  }
}

# A message to worker i: its routing id, then the payload.
send_frames <- function(st, i, data) {
  send.socket(st$router, st$ids[[i]], send.more = TRUE, serialize = FALSE)
  send.socket(st$router, data)
}

queue_result <- function(st, i, value) {
  st$results[[i]] <- c(st$results[[i]], list(value))
  st$pending[[i]] <- st$pending[[i]] + 1L
}

# Find lost workers: a send to a worker whose connection is gone fails at
# once (ROUTER_MANDATORY); libzmq's heartbeats drop a silent connection.
probe <- function(st) {
  st$last_probe <- now()
  live <- which(st$state == "live")
  for (i in live) {
    ok <- suppressMessages(send.socket(st$router, st$ids[[i]],
                                       send.more = TRUE, serialize = FALSE))
    if (isTRUE(ok)) {
      send.socket(st$router, list(type = "PING"))
    } else {
      st$state[[i]] <- "lost"
    }
  }
}

lost_error <- function(st, i) {
  tasks <- st$tags[[i]]
  # a task is named by its tag (clusterApplyLB: the element's number), or
  # else by the cluster's count of tasks sent
  tags <- vapply(tasks, function(t) {
    if (is.null(t[[1L]])) paste0("#", t[[2L]]) else
      paste(format(t[[1L]]), collapse = " ")
  }, "")
  task <- paste(tags, collapse = ", ")
  structure(class = c("rzmq_worker_lost", "error", "condition"),
    list(message = sprintf(
      "worker %d (pid %s on host %s) was lost%s", i, st$pid[[i]],
      st$host[[i]], if (length(tasks)) paste(" during task", task) else ""),
      call = NULL, worker = i, host = st$host[[i]], pid = st$pid[[i]],
      task = tags))
}

# After a call is interrupted or fails, the results it still waits for are
# not anybody's: forget them and what is already received.
abandon <- function(st) {
  if (st$closed) return()
  st$skip <- st$skip + st$outstanding
  st$outstanding <- integer(st$n)
  st$tags <- vector("list", st$n)
  st$busy <- logical(st$n)
  st$cache_data <- st$cache_msg <- NULL
  st$results <- vector("list", st$n)
  st$pending <- integer(st$n)
  # a receive interrupted between the frames of one message
  while (isTRUE(get.rcvmore(st$router))) receive.socket(st$router, FALSE)
}

#' @exportS3Method parallel::sendData
sendData.rzmq_node <- function(node, data) {
  st <- node_master(node)
  i <- .subset2(node, "index")
  if (st$state[[i]] == "starting") wait_node(st, i)
  if (st$state[[i]] != "live") {
    if (identical(data$type, "DONE")) return(invisible(NULL))
    abandon(st)
    if (st$state[[i]] == "lost") stop(lost_error(st, i))
    stop(sprintf("worker %d of the cluster is %s", i, st$state[[i]]),
         call. = FALSE)
  }
  seq <- st$seq + 1L
  st$seq <- seq
  s <- st$router
  if (!isTRUE(.Call(c_rzmq_send, s, st$ids[[i]], TRUE, FALSE, native_xdr))) {
    st$state[[i]] <- "lost"
    abandon(st)
    stop(lost_error(st, i))
  }
  # the same data sent to one worker after another (clusterCall(),
  # clusterExport(), a task with the same arguments) is serialized once:
  # the message object is shared, not copied
  if (identical(data, st$cache_data)) {
    msg <- st$cache_msg
  } else {
    msg <- .Call(c_rzmq_message_new, data, TRUE, native_xdr)
    st$cache_data <- data
    st$cache_msg <- msg
  }
  .Call(c_rzmq_message_send, s, msg, FALSE)
  type <- data$type
  if (identical(type, "EXEC")) {
    st$outstanding[[i]] <- st$outstanding[[i]] + 1L
    st$tags[[i]] <- c(st$tags[[i]], list(list(data$data$tag, seq)))
    st$busy[[i]] <- TRUE
  } else if (identical(type, "DONE")) {
    st$state[[i]] <- "stopped"
  }
  invisible(NULL)
}

take_result <- function(st, i) {
  r <- st$results[[i]]
  st$results[i] <- list(r[-1L])
  st$pending[[i]] <- st$pending[[i]] - 1L
  r[[1L]]
}

#' @exportS3Method parallel::recvData
recvData.rzmq_node <- function(node) {
  st <- node_master(node)
  i <- .subset2(node, "index")
  done <- FALSE
  on.exit(if (!done) abandon(st))
  repeat {
    if (st$pending[[i]] > 0L) {
      done <- TRUE
      r <- take_result(st, i)
      if (!is.null(st$bell)) doorbell_sync(st, i)
      return(r)
    }
    if (st$state[[i]] == "lost") stop(lost_error(st, i))
    if (!st$busy[[i]])
      stop(sprintf("worker %d has no task whose result could come", i),
           call. = FALSE)
    got <- pump(st, want = i)
    if (is.list(got)) {
      done <- TRUE
      if (!is.null(st$bell)) doorbell_sync(st, i)
      return(got[[2L]])
    }
  }
}

#' @exportS3Method parallel::recvOneData
recvOneData.rzmq_cluster <- function(cl) {
  st <- node_master(cl[[1L]])
  # parallel asks again and again with the same cluster
  if (identical(cl, st$last_cl)) {
    idx <- st$last_idx
  } else {
    idx <- vapply(cl, .subset2, 1L, "index")
    st$last_cl <- cl
    st$last_idx <- idx
  }
  done <- FALSE
  on.exit(if (!done) abandon(st))
  repeat {
    ready <- st$pending[idx] > 0L
    if (any(ready)) {
      k <- which.max(ready)
      done <- TRUE
      return(list(node = k, value = take_result(st, idx[[k]])))
    }
    waiting <- st$busy[idx]
    gone <- waiting & st$state[idx] == "lost"
    if (any(gone)) stop(lost_error(st, idx[[which.max(gone)]]))
    if (!any(waiting))
      stop("no worker of the cluster has a task whose result could come",
           call. = FALSE)
    got <- pump(st, want = idx)
    if (is.list(got)) {
      done <- TRUE
      return(list(node = match(got[[1L]], idx), value = got[[2L]]))
    }
  }
}

#' @rdname init.cluster
#' @exportS3Method parallel::stopCluster
stopCluster.rzmq_cluster <- function(cl = NULL) {
  if (!length(cl)) return(invisible(NULL))
  st <- node_master(cl[[1L]])
  if (st$closed) return(invisible(NULL))
  for (node in cl) {
    i <- .subset2(node, "index")
    if (st$state[[i]] == "live") {
      if (isTRUE(suppressMessages(send.socket(
        st$router, st$ids[[i]], send.more = TRUE, serialize = FALSE))))
        send.socket(st$router, list(type = "DONE"))
    }
    if (st$state[[i]] != "lost") st$state[[i]] <- "stopped"
  }
  if (!any(st$state == "live")) master_close(st)
  invisible(NULL)
}

cluster_state <- function(cl) node_master(cl[[1L]])

# Stop everything the master started; safe to call twice.
master_close <- function(st) {
  if (st$closed) return(invisible())
  st$closed <- TRUE
  started <- Filter(Negate(is.null), st$processes)
  tryCatch(st$launch$cleanup(started), error = function(e) {
    for (p in started) try(p$kill(), silent = TRUE)
  })
  doorbell_close(st)
  destroy.context(st$ctx, linger = 0L)
  # what print() shows stays; the rest goes
  for (f in c("processes", "launch", "results", "worker_keys", "server_keys",
              "auth", "router", "ctx", "cache_data", "cache_msg", "last_cl"))
    st[[f]] <- NULL
  invisible()
}

# "starting", "idle", "busy", "lost" or "stopped"
node_state <- function(st, i) {
  s <- st$state[i]
  live <- s == "live"
  s[live] <- ifelse(st$busy[i][live], "busy", "idle")
  s
}

#' @rdname init.cluster
#' @export
print.rzmq_cluster <- function(x, ...) {
  if (!length(x)) {
    cat("<rzmq cluster with no workers>\n")
    return(invisible(x))
  }
  st <- node_master(x[[1L]])
  idx <- vapply(x, .subset2, 1L, "index")
  cat(sprintf("<rzmq cluster of %s, %s, %s>\n",
              plural(length(x), "worker"),
              if (st$secure) "CURVE-encrypted" else "plain tcp",
              st$endpoint))
  df <- data.frame(worker = idx, host = st$host[idx], pid = st$pid[idx],
                   state = node_state(st, idx), tasks = st$done[idx])
  print(df, row.names = FALSE)
  invisible(x)
}

#' @rdname init.cluster
#' @export
print.rzmq_node <- function(x, ...) {
  st <- node_master(x)
  i <- .subset2(x, "index")
  cat(sprintf("<rzmq cluster node %d: pid %s on host %s, %s, %d tasks done>\n",
              i, st$pid[[i]], st$host[[i]], node_state(st, i), st$done[[i]]))
  invisible(x)
}

# A worker added by worker.command(): wait up to `timeout` s for it.
wait_node <- function(st, i) {
  deadline <- now() + st$timeout
  while (st$state[[i]] == "starting" && now() < deadline) pump(st)
  if (st$state[[i]] == "starting") {
    stop(sprintf("worker %d did not connect within %g s", i, st$timeout),
         call. = FALSE)
  }
}

#' The command that starts one more worker by hand
#'
#' `worker.command()` adds a worker to a cluster made by [init.cluster()]
#' and prints the shell command that starts it: run it on a machine that
#' can reach the master's endpoint (for a cluster of [launch.local()]
#' workers, this machine: the master listens on `127.0.0.1`). The
#' configuration, with the new worker's own secret key, goes to the
#' worker's standard input, as every launcher gives it. The secret is
#' printed only with `secret = TRUE`: otherwise it shows as `<secret>` (copy
#' the command with `secret = TRUE` where nobody looks over your shoulder).
#' The authenticator admits the new worker's key from now on.
#'
#' The new node is the last of the cluster returned; use that cluster from
#' then on. A call that sends it a task waits up to the cluster's `timeout`
#' for the worker to connect.
#'
#' @param cl a cluster made by [init.cluster()].
#' @param secret `TRUE` to print the secret key in the command.
#' @param rscript the `Rscript` to name in the command.
#' @return The cluster with one more node, invisibly; the command is
#'   printed (and is the `"command"` attribute of the result).
#' @seealso [init.cluster()], [run.worker()]
#' @examples
#' cl <- init.cluster(1L)
#' cl <- worker.command(cl)
#' parallel::stopCluster(cl)
#' @export
worker.command <- function(cl, secret = FALSE, rscript = "Rscript") {
  if (!inherits(cl, "rzmq_cluster") || !length(cl))
    stop("`cl` must be a cluster made by init.cluster()", call. = FALSE)
  secret <- arg_flag(secret, "secret")
  if (!is_string(rscript, allow_empty = TRUE))
    stop("`rscript` must be a string", call. = FALSE)
  st <- node_master(cl[[1L]])
  if (st$closed) stop("`cl` was stopped", call. = FALSE)
  i <- st$n + 1L
  st$n <- i
  st$tokens[[i]] <- random_token()
  st$ids[[i]] <- charToRaw(st$tokens[[i]])
  st$state[[i]] <- "starting"
  st$host[[i]] <- NA_character_
  st$pid[[i]] <- NA_integer_
  st$done[[i]] <- 0L
  st$pending[[i]] <- 0L
  st$busy[[i]] <- FALSE
  st$results[i] <- list(NULL)
  st$outstanding[[i]] <- 0L
  st$skip[[i]] <- 0L
  st$tags[i] <- list(NULL)
  st$processes[i] <- list(NULL)
  if (st$secure) {
    st$worker_keys[[i]] <- curve.keypair()
    configure.authenticator(
      st$auth, curve = vapply(st$worker_keys, `[[`, "", "public"))
  }
  config <- worker_config(st, i)
  if (!secret) {
    config <- sub("secret=[^ ]+", if (st$secure) "secret=<secret>" else
      "secret=-", config)
  }
  cmd <- sprintf("echo %s | %s -e %s", shQuote(config), rscript,
                 shQuote("rzmq::run.worker()"))
  cat(cmd, "\n", sep = "")
  node <- structure(list(index = i, cluster = st$name, host = NA_character_),
                    class = "rzmq_node")
  out <- structure(c(unclass(cl), list(node)), class = class(cl),
                   name = paste0(st$name, "-", i))
  attr(out, "command") <- cmd
  invisible(out)
}
