# Launchers: how init.cluster() starts its worker processes.
#
# A launcher is a list of class c("rzmq_launcher_<kind>", "rzmq_launcher")
# (kind: "local", "ssh", "command", "slurm") with:
#
# - $kind: "local" | "ssh" | "command" | "slurm".
# - $stdin: TRUE if the launcher hands the worker its secret configuration on
#   the worker's standard input (local, ssh); FALSE if it writes it to a 0600
#   file the worker reads and deletes (command, slurm).
# - $start(spec): starts ONE worker and returns at once (it never waits for
#   the worker to connect). `spec` is a list made by init.cluster():
#     index     integer, the worker's number in the cluster (1..n)
#     host      character(1): the host for ssh; NA otherwise
#     config    character(1): the worker's secret configuration, ONE line of
#               text (format below). It holds a CURVE secret key: it never
#               goes on a command line or into an environment variable.
#               stdin launchers write it, then a newline, to the process's
#               standard input (the worker reads exactly one line and does
#               not wait for end of file); file launchers write it to a file
#               made 0600 before any byte is written.
#     expr      function(config_file = NULL): the R expression (text) the
#               worker runs: "rzmq::run.worker()" (configuration on stdin) or
#               'rzmq::run.worker(config = "<config_file>")' (read, then
#               deleted). The launcher builds `<rscript> -e <quoted expr>`.
#     endpoint  character(1): the master's endpoint written in `config`
#               (e.g. "tcp://127.0.0.1:40123"), for launchers that forward
#               it (ssh -R)
#     config_for function(endpoint): the same configuration with another
#               endpoint for the worker to connect to (e.g. the remote end
#               of a reverse tunnel, "tcp://127.0.0.1:<remote port>")
#   and returns a process record: a list with
#     host      character(1)
#     pid       integer(1) or NA: the local process launched (the worker, the
#               ssh client, srun)
#     job       character(1) or NA: a scheduler's job id
#     kill()    forcibly stops the worker if it still runs; safe to call
#               twice and after the worker exited
#     describe  character(1), e.g. "pid 1234 on host x", "SLURM job 17"
# - $cleanup(processes): called once by stopCluster() and by a failed
#   init.cluster() with the list of process records; makes sure nothing is
#   left (kill what still runs, cancel jobs that never started, reap
#   children).
# - $address (optional): the host name or IP address workers connect to.
#   NULL: "127.0.0.1" for kind "local" (the master binds 127.0.0.1 only),
#   else getOption("rzmq.cluster.host", Sys.info()[["nodename"]]) with the
#   master bound to every interface. "127.0.0.1"/"localhost" bind loopback
#   only (e.g. ssh with tunnel = TRUE, whose spec$config_for() points the
#   worker at the tunnel's far end).
#
# The worker reports its own host name and pid when it connects, so print()
# and rzmq_worker_lost errors name them whatever the launcher.
#
# The worker configuration (made by worker_config() in cluster.R, read by
# read_worker_config() in worker.R) is one line of space-separated fields,
# the first two fixed, the others name=value in any order (values never
# hold spaces: Z85 keys and tcp endpoints have none):
#
#   rzmq-worker 1 endpoint=tcp://10.0.0.1:40123 id=3 token=<32 hex digits>
#     heartbeat=5 timeout=60 server=<Z85 public key of the master, or ->
#     public=<Z85 public key of this worker, or -> secret=<Z85 secret key, or ->
#
# "-" for the three keys means secure = FALSE (plain tcp). `id` is the
# worker's index, `token` a random value that is the worker's routing id
# and that it sends back when it says hello, so the master knows which
# worker connected; `timeout`: how long the worker tries to reach the
# master before it gives up.
#
# The protocol (cluster.R, worker.R): the master's ROUTER, the workers'
# DEALERs, one serialized R object per message. Worker -> master:
# list(type = "HELLO", id, token, host, pid, r) once, then one answer per
# EXEC task, in order (parallel's list(type = "VALUE", value, success,
# time, tag)), and, while a task runs, messages of class "rzmq_interim"
# (future's immediate conditions). Master -> worker: list(type =
# "WELCOME"), parallel's messages (list(type = "EXEC" | "DONE", data,
# tag)) and list(type = "PING") probes, which need no answer.

#' Start cluster workers on this machine
#'
#' A launcher tells [init.cluster()] how to start its worker processes.
#' `launch.local()` starts each worker as an `Rscript` process on this
#' machine, running [run.worker()]; the worker's configuration, with its
#' secret key, is written to its standard input, never to its command line
#' or environment. Each worker runs in the background, in a session of its
#' own where the system has `setsid` (Linux), so a Ctrl-C typed in the
#' master's terminal interrupts the master only.
#'
#' @param rscript the `Rscript` program to run (by default this R's own).
#' @param outfile where the workers' standard output and error go: a file
#'   name (appended to), or `"/dev/null"` (the default, as for
#'   [parallel::makePSOCKcluster()]) to discard them. `""` leaves them on the
#'   master's own output.
#' @return A launcher: a list of class `c("rzmq_launcher_local",
#'   "rzmq_launcher")`, to give to [init.cluster()].
#' @seealso [init.cluster()], [run.worker()]
#' @examples
#' launch.local()
#' \donttest{
#' cl <- init.cluster(2L, launch = launch.local())
#' parallel::parSapply(cl, 1:4, function(i) i^2)
#' parallel::stopCluster(cl)
#' }
#' @export
launch.local <- function(rscript = file.path(R.home("bin"), "Rscript"),
                         outfile = "/dev/null") {
  if (!is.character(rscript) || length(rscript) != 1L || is.na(rscript) ||
      !nzchar(rscript)) {
    stop("`rscript` must be the path of an Rscript program (a string)",
         call. = FALSE)
  }
  if (!is.character(outfile) || length(outfile) != 1L || is.na(outfile)) {
    stop("`outfile` must be a file name, \"/dev/null\" or \"\"", call. = FALSE)
  }
  setsid <- Sys.which("setsid")
  start <- function(spec) {
    pidfile <- tempfile("rzmq-worker-", fileext = ".pid")
    on.exit(unlink(pidfile), add = TRUE)
    redirect <- if (nzchar(outfile)) {
      sprintf(" >>%s 2>&1", shQuote(outfile))
    } else ""
    # The shell starts Rscript in the background with this pipe as its stdin
    # (fd 3: an asynchronous command's stdin would otherwise be /dev/null),
    # writes its pid and exits; the worker is then nobody's zombie, and it
    # keeps the pipe's read end, so the configuration written below waits
    # in the pipe until the worker reads it.
    # in a session of its own (setsid, where there is one: it execs in the
    # same process, so $! is the worker's pid), a Ctrl-C typed in the
    # master's terminal reaches the master only
    cmd <- sprintf("exec 3<&0; %s%s -e %s <&3 3<&-%s & echo $! >%s",
                   if (nzchar(setsid)) paste0(shQuote(setsid), " ") else "",
                   shQuote(rscript), shQuote(spec$expr()), redirect,
                   shQuote(pidfile))
    con <- pipe(cmd, open = "w")
    wrote <- tryCatch({
      writeLines(spec$config, con)
      TRUE
    }, error = function(e) FALSE)
    close(con) # waits for the shell only, which has exited by now
    pid <- suppressWarnings(as.integer(readLines(pidfile, n = 1L, warn = FALSE)))
    if (!length(pid) || is.na(pid)) {
      stop(sprintf("could not start worker %d with %s", spec$index, rscript),
           call. = FALSE)
    }
    if (!wrote) tools::pskill(pid, tools::SIGKILL)
    host <- Sys.info()[["nodename"]]
    list(host = host, pid = pid, job = NA_character_,
         kill = function() {
           if (process_alive(pid)) tools::pskill(pid, tools::SIGKILL)
           invisible(NULL)
         },
         describe = sprintf("pid %d on host %s", pid, host))
  }
  cleanup <- function(processes) {
    # workers told to stop exit within moments; a worker still busy with a
    # task (or stuck) is killed after a short grace
    pids <- vapply(processes, function(p) as.integer(p$pid), 1L)
    deadline <- Sys.time() + getOption("rzmq.cluster.grace", 2)
    repeat {
      alive <- vapply(pids, process_alive, TRUE)
      if (!any(alive) || Sys.time() > deadline) break
      Sys.sleep(0.01)
    }
    for (p in processes[alive]) p$kill()
    invisible(NULL)
  }
  structure(list(kind = "local", stdin = TRUE, start = start,
                 cleanup = cleanup, rscript = rscript, outfile = outfile),
            class = c("rzmq_launcher_local", "rzmq_launcher"))
}

#' @export
print.rzmq_launcher <- function(x, ...) {
  cat(sprintf("<rzmq launcher: %s>\n", x$kind))
  invisible(x)
}

# Whether a process still runs (signal 0 checks without sending anything).
# A worker that exited stays a zombie until init reaps it, which some inits
# (in containers) do late: on Linux, /proc tells a zombie from the living.
process_alive <- function(pid) {
  if (is.na(pid) || !isTRUE(suppressWarnings(tools::pskill(pid, 0L))))
    return(FALSE)
  stat <- sprintf("/proc/%d/stat", as.integer(pid))
  if (!file.exists(stat)) return(TRUE)
  line <- tryCatch(readLines(stat, n = 1L, warn = FALSE),
                   error = function(e) "")
  # the state follows the command name, which is in parentheses
  state <- substr(sub("^.*\\) ", "", line), 1L, 1L)
  !state %in% c("Z", "X", "")
}
