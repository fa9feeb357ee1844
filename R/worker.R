#' Run a cluster worker
#'
#' The worker loop of an [init.cluster()] cluster: what every launcher
#' starts, as `Rscript -e 'rzmq::run.worker()'`. It reads its configuration
#' (one line written by the master: the master's endpoint, its public key,
#' this worker's own key pair and the heartbeat) from standard input, or
#' from the file `config` (which it deletes once read), connects to the
#' master, and runs the tasks it is sent exactly as the workers of
#' [parallel::makePSOCKcluster()] do: each call's value goes back with its
#' tag and the time it took, and an error comes back as a `"try-error"`
#' value with `success = FALSE` instead of stopping the worker. An interrupt
#' (SIGINT) stops the current task the same way (its value is the
#' try-error `"interrupted"`) and the worker goes on.
#'
#' The worker returns (and its R process ends) when the master stops the
#' cluster, when the connection to the master is lost (the master's process
#' ended, or it did not answer heartbeats for `heartbeat` seconds), or when
#' it could not reach the master within `timeout` seconds of starting.
#' Nothing secret is ever passed on the command line or in the environment,
#' where other users could read it (`ps`, `/proc`).
#'
#' You only call it yourself to start a worker by hand: [worker.command()]
#' prints the command line.
#'
#' @param endpoint `NULL` to connect to the endpoint in the configuration,
#'   or another endpoint of the same master (e.g. the near end of a tunnel).
#' @param config `NULL` to read the configuration from standard input, or
#'   the name of a file that holds it (readable by its owner only); the file
#'   is deleted as soon as it has been read.
#' @param ... not used; must be empty.
#' @return `NULL`, invisibly, once the master let the worker go.
#' @seealso [init.cluster()], [launch.local()], [worker.command()]
#' @examples
#' # a worker is normally started by init.cluster(); this is what it runs:
#' run.worker
#' @export
run.worker <- function(endpoint = NULL, config = NULL, ...) {
  if (...length())
    stop("run.worker() takes only `endpoint` and `config`", call. = FALSE)
  if (!is.null(endpoint) && !is_string(endpoint))
    stop("`endpoint` must be NULL or an endpoint (a string)", call. = FALSE)
  cfg <- read_worker_config(config)
  if (!is.null(endpoint)) cfg$endpoint <- endpoint
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 1000L), add = TRUE)
  s <- worker_socket(ctx, cfg)
  serve_master(s$socket, s$monitor, cfg)
  invisible(NULL)
}

# Read the one-line configuration (format: see launch.R) from `file` (then
# delete it) or from standard input.
read_worker_config <- function(file = NULL) {
  if (is.null(file)) {
    con <- file("stdin")
    on.exit(close(con))
    line <- readLines(con, n = 1L, warn = FALSE)
  } else {
    if (!is_string(file))
      stop("`config` must be NULL or a file name", call. = FALSE)
    line <- readLines(file, n = 1L, warn = FALSE)
    unlink(file)
  }
  parse_worker_config(line)
}

parse_worker_config <- function(line) {
  bad <- function(why) stop("not an rzmq worker configuration: ", why,
                            call. = FALSE)
  if (length(line) != 1L || is.na(line)) bad("no line read")
  fields <- strsplit(line, " ", fixed = TRUE)[[1L]]
  if (length(fields) < 2L || fields[1L] != "rzmq-worker") bad("no header")
  if (fields[2L] != "1") bad(sprintf("version %s", fields[2L]))
  kv <- fields[-(1:2)]
  eq <- regexpr("=", kv, fixed = TRUE)
  if (any(eq < 2L)) bad("a field is not name=value")
  values <- as.list(substring(kv, eq + 1L))
  names(values) <- substring(kv, 1L, eq - 1L)
  need <- c("endpoint", "id", "token", "heartbeat", "timeout", "server",
            "public", "secret")
  if (!all(need %in% names(values)))
    bad(paste("missing", paste(setdiff(need, names(values)), collapse = ", ")))
  values$id <- suppressWarnings(as.integer(values$id))
  values$heartbeat <- suppressWarnings(as.numeric(values$heartbeat))
  values$timeout <- suppressWarnings(as.numeric(values$timeout))
  if (is.na(values$id) || is.na(values$heartbeat) || is.na(values$timeout))
    bad("id, heartbeat and timeout must be numbers")
  values$secure <- values$secret != "-"
  values
}

# The worker's DEALER: its routing id is its token; CURVE client if secure;
# libzmq's heartbeats find a master that is gone or cut off; a monitor tells
# when the connection is lost.
worker_socket <- function(ctx, cfg) {
  s <- init.socket(ctx, "ZMQ_DEALER")
  set.sockopt(s, "ZMQ_ROUTING_ID", charToRaw(cfg$token))
  set_heartbeat(s, cfg$heartbeat)
  set.sockopt(s, "ZMQ_LINGER", 1000L)
  if (cfg$secure) {
    set.curve.client(s, cfg$server,
                     list(public = cfg$public, secret = cfg$secret))
  }
  mon <- monitor.socket(s, c("DISCONNECTED", "HANDSHAKE_FAILED_AUTH",
                             "HANDSHAKE_FAILED_PROTOCOL",
                             "HANDSHAKE_FAILED_NO_DETAIL"))
  if (!isTRUE(connect.socket(s, cfg$endpoint)))
    stop("cannot connect to ", cfg$endpoint, call. = FALSE)
  list(socket = s, monitor = mon)
}

set_heartbeat <- function(s, heartbeat) {
  ms <- as.integer(max(1, round(heartbeat * 1000)))
  set.sockopt(s, "ZMQ_HEARTBEAT_IVL", max(1L, ms %/% 2L))
  set.sockopt(s, "ZMQ_HEARTBEAT_TIMEOUT", max(1L, ms %/% 2L))
  set.sockopt(s, "ZMQ_HEARTBEAT_TTL", ms)
}

# Say hello, then run tasks until told to stop or the master is gone.
serve_master <- function(s, mon, cfg) {
  host <- Sys.info()[["nodename"]]
  hello <- list(type = "HELLO", id = cfg$id, token = cfg$token, host = host,
                pid = Sys.getpid(), r = R.version.string)
  send.socket(s, hello)
  # the master answers at once; no answer in `timeout` s: nobody is there
  # (or the master refused our key)
  if (!wait_master(s, mon, cfg$timeout)) return(invisible(FALSE))
  welcome <- receive.socket(s)
  if (!identical(welcome$type, "WELCOME")) return(invisible(FALSE))
  # waits for a task end every heartbeat/2 s to look at the monitor
  set.rcv.timeout(s, as.integer(max(100, cfg$heartbeat * 500)))
  # future's workers look for a `master` node (SOCK0node) in the frames of
  # the call to send conditions while a task runs; these go to the master
  # as messages of the task that are not its result
  master <- structure(list(socket = s), class = c("rzmq_master", "SOCK0node"))
  now_running <- new.env(parent = emptyenv())
  now_running$task <- FALSE
  repeat {
    # an interrupt (SIGINT) between tasks is ignored; during a task it
    # makes the task's answer a try-error, as an error would
    how <- tryCatch(task_loop(s, mon, master, now_running),
                    interrupt = function(e) NA)
    if (!is.na(how)) return(invisible(how))
    if (now_running$task) {
      now_running$task <- FALSE
      .Call(c_rzmq_send, s, list(
        type = "VALUE", success = FALSE, time = NULL, tag = now_running$tag,
        value = structure("interrupted", class = c("snow-try-error", "try-error"))),
        FALSE, TRUE, native_xdr)
    }
  }
}

# Run tasks; TRUE when told to stop, FALSE when the master is lost.
task_loop <- function(s, mon, master, now_running) {
  repeat {
    task <- .Call(c_rzmq_receive, s, TRUE, FALSE)
    if (is.null(task)) {
      if (lost_master(mon)) return(FALSE)
      next
    }
    type <- task$type
    if (identical(type, "EXEC")) {
      # one answer per EXEC, in the order the tasks came: the master
      # counts on it
      data <- task$data
      now_running$tag <- data$tag
      now_running$task <- TRUE
      answer <- run_task(data, master)
      now_running$task <- FALSE
      .Call(c_rzmq_send, s, answer, FALSE, TRUE, native_xdr)
    } else if (identical(type, "DONE")) {
      return(TRUE)
    }
    # anything else (a probe) needs no answer
  }
}

# Wait up to `timeout` s for the master's first message.
wait_master <- function(s, mon, timeout) {
  deadline <- now() + timeout
  repeat {
    left <- deadline - now()
    if (left <= 0) return(FALSE)
    ready <- poll.socket(list(s, mon), list("read", "read"), timeout = left)
    if (is.null(ready)) return(FALSE)
    if (ready[[1L]]$read) return(TRUE)
    if (ready[[2L]]$read && lost_master(mon)) return(FALSE)
  }
}

# Whether the monitor reports the connection lost or refused.
lost_master <- function(mon) {
  ev <- read.events(mon)
  nrow(ev) > 0L
}

# One task, as parallel's workers run it: list(type = "VALUE", value,
# success, time, tag); an error becomes a try-error value. `master` is
# here for future (see serve_master()).
run_task <- function(data, master = NULL) {
  success <- TRUE
  t0 <- proc.time()
  value <- tryCatch(do.call(data$fun, data$args, quote = TRUE),
                    error = function(e) {
                      success <<- FALSE
                      structure(conditionMessage(e),
                                class = c("snow-try-error", "try-error"))
                    })
  list(type = "VALUE", value = value, success = success,
       time = proc.time() - t0, tag = data$tag)
}

#' @exportS3Method parallel::sendData
sendData.rzmq_master <- function(node, data) {
  s <- .subset2(node, "socket")
  if (!is.null(s))
    send.socket(s, structure(list(value = data), class = "rzmq_interim"))
  invisible(NULL)
}
