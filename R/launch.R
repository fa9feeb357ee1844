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
  if (!is_string(rscript)) {
    stop("`rscript` must be the path of an Rscript program (a string)",
         call. = FALSE)
  }
  if (!is_string(outfile, allow_empty = TRUE)) {
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
  # workers told to stop exit within moments; a worker still busy with a
  # task (or stuck) is killed after a short grace
  structure(list(kind = "local", stdin = TRUE, start = start,
                 cleanup = launch_stop_processes, rscript = rscript, outfile = outfile),
            class = c("rzmq_launcher_local", "rzmq_launcher"))
}

#' @export
print.rzmq_launcher <- function(x, ...) {
  cat(sprintf("<rzmq launcher: %s>\n", x$kind))
  invisible(x)
}

# Whether process `pid` still runs, for every launcher. A worker that
# exited stays a zombie until init reaps it, which some inits (in
# containers) do late: on Linux /proc tells a zombie from the living (the
# state follows the command name, which is in parentheses); elsewhere
# signal 0 checks without sending anything.
process_alive <- function(pid) {
  if (length(pid) != 1L || is.na(pid)) return(FALSE)
  if (file.exists("/proc/self/stat")) {
    stat <- sprintf("/proc/%d/stat", as.integer(pid))
    line <- tryCatch(suppressWarnings(readLines(stat, n = 1L, warn = FALSE)),
                     error = function(e) "")
    if (!length(line) || !nzchar(line)) return(FALSE)
    return(!sub("^.*\\) ([A-Za-z]).*$", "\\1", line) %in% c("Z", "X"))
  }
  isTRUE(suppressWarnings(tools::pskill(pid, 0L)))
}

# Wait up to `grace` seconds for the processes `pids` to end: whether each
# is still alive then.
await_exit <- function(pids, grace = getOption("rzmq.cluster.grace", 2)) {
  deadline <- Sys.time() + grace
  repeat {
    alive <- vapply(pids, process_alive, TRUE)
    if (!any(alive) || Sys.time() > deadline) return(alive)
    Sys.sleep(0.01)
  }
}

# ---- Launchers for other machines: ssh, any scheduler's command, SLURM ----
#
# Each start() runs one shell command in the background in a process group
# of its own (so Ctrl-C in the master's terminal does not reach it) and
# returns at once; the secret configuration goes to the command's stdin
# (ssh) or into a 0600 file in a 0700 directory that only the worker reads
# (command, slurm). Nothing secret is ever part of a command line.

# Check a single string argument; `lines` allows newlines.
launch_check_string <- function(x, name, lines = FALSE) {
  if (!is_string(x)) {
    stop(sprintf("'%s' must be a single non-empty string", name), call. = FALSE)
  }
  if (!lines && grepl("[\n\r]", x)) {
    stop(sprintf("'%s' must not contain a newline", name), call. = FALSE)
  }
  x
}

launch_check_strings <- function(x, name) {
  if (!is.character(x) || anyNA(x) || any(grepl("[\n\r\001]", x))) {
    stop(sprintf("'%s' must be a character vector without NA or newlines", name),
         call. = FALSE)
  }
  x
}

# The worker command line: <rscript> -e '<expression>'. `rscript` is a
# command for a shell and is inserted as given (a path with spaces must be
# quoted by the caller); the expression is one quoted word.
launch_worker_command <- function(rscript, expr) {
  paste(rscript, "-e", shQuote(expr, type = "sh"))
}

# Shell-quote the words that need it (a command line that reads well).
launch_quote <- function(x) {
  plain <- grepl("^[A-Za-z0-9_./=:@%+,-]+$", x)
  x[!plain] <- vapply(x[!plain], shQuote, "", type = "sh")
  x
}

# Unique names for files and tunnel ports in this process, without touching
# the user's random number stream (.Random.seed).
launch_state <- new.env(parent = emptyenv())
launch_state$counter <- 0L
launch_unique <- function() {
  launch_state$counter <- launch_state$counter + 1L
  sprintf("%d-%.0f-%d", Sys.getpid(), (as.numeric(Sys.time()) * 1e6) %% 1e12,
          launch_state$counter)
}

# A port for the remote end of a reverse tunnel, in 61000-65535: above
# Linux's range of ephemeral ports (32768-60999), so no outgoing connection
# on the remote host holds it. Spread by pid, time and a counter, without
# the user's random number stream.
launch_tunnel_port <- function() {
  launch_state$counter <- launch_state$counter + 1L
  mix <- (Sys.getpid() * 7919 + floor(as.numeric(Sys.time()) * 1000) +
    launch_state$counter * 1009) %% 4536
  as.integer(61000 + mix)
}

# Where launchers make their private directories.
launch_dir_root <- function() {
  getOption("rzmq.launch.dir", tools::R_user_dir("rzmq", "cache"))
}

# The private directory of one launcher: created at the first start(), mode
# 0700, under getOption("rzmq.launch.dir") or the user's cache directory (a
# file system that the nodes of a cluster usually share). Refuses to go on
# if the directory does not end up private.
launch_private_dir <- function(state) {
  if (!is.null(state$dir) && dir.exists(state$dir)) return(state$dir)
  root <- launch_dir_root()
  if (!is_string(root)) {
    stop("option 'rzmq.launch.dir' must be a single directory path", call. = FALSE)
  }
  if (!dir.exists(root) && !dir.create(root, recursive = TRUE, showWarnings = FALSE)) {
    stop(sprintf("cannot create the launch directory '%s'", root), call. = FALSE)
  }
  path <- file.path(normalizePath(root, mustWork = TRUE),
                    paste0("launch-", launch_unique()))
  old <- Sys.umask("077")
  on.exit(Sys.umask(old))
  if (!dir.create(path, mode = "0700", showWarnings = FALSE)) {
    stop(sprintf("cannot create the private directory '%s'", path), call. = FALSE)
  }
  mode <- file.info(path)$mode
  if (.Platform$OS.type == "unix" && (is.na(mode) || (as.integer(mode) %% 64L) != 0L)) {
    unlink(path, recursive = TRUE)
    stop(sprintf("'%s' is not private to this user (mode %s); refusing to write a secret key there",
                 path, format(mode)), call. = FALSE)
  }
  state$dir <- path
  path
}

# Write `text` to a new file readable by this user only: the file is made
# under umask 077 (so it is 0600 before its first byte) and must not exist.
launch_secret_file <- function(path, text) {
  if (file.exists(path)) stop(sprintf("'%s' exists already", path), call. = FALSE)
  old <- Sys.umask("077")
  on.exit(Sys.umask(old))
  con <- file(path, open = "wb")
  ok <- FALSE
  on.exit(if (!ok) unlink(path), add = TRUE)
  tryCatch(writeBin(charToRaw(paste0(text, "\n")), con), finally = close(con))
  Sys.chmod(path, "0600", use_umask = FALSE)
  ok <- TRUE
  path
}

# Run the shell command line `line` with sh in the background, stdout and
# stderr to `log`, `input` (or nothing) on its stdin and then EOF. It runs
# in a session and process group of its own (see launch_session()), so
# Ctrl-C in the master's terminal does not reach it and kill() stops
# everything it started. Returns the pid of the background process.
launch_spawn <- function(line, log, pidfile, input = NULL) {
  session <- launch_session()
  job <- paste(session, "sh -c", shQuote(line, type = "sh"))
  redirect <- paste0(" > ", shQuote(log), " 2>&1")
  if (is.null(input)) {
    script <- paste0(job, " < /dev/null", redirect, " & echo $! > ", shQuote(pidfile))
    status <- system(script)
  } else {
    # stdin of the background job is the pipe from R, through fd 3 (an
    # asynchronous command's own stdin is /dev/null before any redirection);
    # sh exits at once, the job reads the input.
    script <- paste0("exec 3<&0; ", job, " <&3 3<&-", redirect, " & echo $! > ",
                     shQuote(pidfile))
    con <- pipe(script, open = "wb")
    status <- tryCatch({
      writeBin(charToRaw(paste0(input, "\n")), con)
      0L
    }, error = function(e) 1L, finally = close(con))
  }
  pid <- if (file.exists(pidfile)) {
    suppressWarnings(as.integer(readLines(pidfile, n = 1L, warn = FALSE)))
  }
  unlink(pidfile)
  if (!identical(as.integer(status), 0L) || length(pid) != 1L || is.na(pid)) {
    stop("could not start: ", line, call. = FALSE)
  }
  structure(pid, group = nzchar(session))
}

# The prefix that runs a command in a new session (and process group):
# setsid(1) (Linux), else perl's POSIX::setsid (macOS, BSDs); "" if neither.
launch_session <- function() {
  setsid <- Sys.which("setsid")
  if (nzchar(setsid)) return(shQuote(setsid))
  perl <- Sys.which("perl")
  if (nzchar(perl)) {
    return(paste(shQuote(perl), "-MPOSIX -e", shQuote("POSIX::setsid() or die; exec @ARGV or die")))
  }
  ""
}

# Stop what launch_spawn() started (its process group where it has one):
# TERM, then KILL after `grace` seconds. Safe after it exited, and twice.
launch_kill <- function(pid, grace = 2) {
  if (!process_alive(pid)) return(invisible(FALSE))
  group <- isTRUE(attr(pid, "group"))
  signal <- function(sig) {
    # tools::pskill() does not signal process groups; kill(1) does
    if (group) system(sprintf("kill -%s -%d 2>/dev/null", sig, as.integer(pid)))
    else tools::pskill(as.integer(pid), if (sig == "TERM") tools::SIGTERM else tools::SIGKILL)
  }
  signal("TERM")
  if (await_exit(pid, grace)) signal("KILL")
  invisible(TRUE)
}

# A process record for a background process (see ?init.cluster's launchers).
launch_process <- function(host, pid, describe, files = character(), job = NA_character_,
                           kill = NULL) {
  if (is.null(kill)) kill <- function() launch_kill(pid)
  list(host = host, pid = as.integer(pid), job = job, kill = kill, describe = describe,
       files = files)
}

# Give the processes a moment to end by themselves (workers told to stop
# exit within moments; through a tunnel the ssh client must outlive its
# worker's goodbye), then kill those left. Every launcher's cleanup.
launch_stop_processes <- function(processes) {
  pids <- vapply(processes, function(p) as.integer(p$pid), 1L)
  alive <- await_exit(pids)
  for (p in processes[alive]) if (is.function(p$kill)) p$kill()
  invisible()
}

# Remove the files that start() made for these processes (configuration
# files a worker never read; empty logs) and the directory once empty.
launch_remove_files <- function(state, processes) {
  for (p in processes) {
    f <- p$files
    if (!length(f)) next
    unlink(f[names(f) != "log"])
    logs <- f[names(f) == "log"]
    logs <- logs[file.exists(logs)]
    unlink(logs[file.size(logs) == 0])
  }
  if (!is.null(state$dir) && dir.exists(state$dir) &&
      !length(list.files(state$dir, all.files = TRUE, no.. = TRUE))) {
    unlink(state$dir, recursive = TRUE)
  }
  invisible()
}

# Replace {{name}} in `template` by values[[name]]; every {{...}} must be known.
launch_fill <- function(template, values, argname = "template") {
  keys <- regmatches(template, gregexpr("\\{\\{[A-Za-z_]+\\}\\}", template))[[1]]
  unknown <- setdiff(unique(gsub("[{}]", "", keys)), names(values))
  if (length(unknown)) {
    stop(sprintf("'%s' has unknown placeholder(s): %s (known: %s)", argname,
                 paste0("{{", unknown, "}}", collapse = ", "),
                 paste0("{{", names(values), "}}", collapse = ", ")), call. = FALSE)
  }
  for (k in names(values)) {
    template <- gsub(paste0("{{", k, "}}"), values[[k]], template, fixed = TRUE)
  }
  template
}

# ---- ssh ----

# The command ssh runs on the remote host (through the user's login shell,
# so one single-quoted word for sh): it hands the first line of its stdin
# (the configuration) to the worker's stdin, and kills the worker when the
# rest of its stdin ends, that is when the ssh connection goes (the ssh
# client killed, the master gone), so no worker outlives its master, not
# even one in the middle of a task; it exits with the worker. The secret is
# only in a variable of this sh (builtins read and printf: no command line).
ssh_remote_command <- function(rscript, expr) {
  q <- if (grepl("^[^\"$`\\\\']*$", expr)) paste0("\"", expr, "\"") else shQuote(expr)
  inner <- paste0("exec 3<&0; IFS= read -r c <&3; printf \"%s\\n\" \"$c\" | ", rscript,
                  " -e ", q, " & w=$!; { cat <&3; kill $w; } >/dev/null 2>&1 & wait $w")
  paste("sh -c", shQuote(inner, type = "sh"))
}

#' Start cluster workers on other machines over ssh
#'
#' A launcher for [init.cluster()] that starts each worker with one
#' `ssh host rscript -e 'rzmq::run.worker()'`, its hosts given as
#' `init.cluster(workers = c("node1", "node2", "node2"), launch = launch.ssh())`
#' (a host named twice runs two workers).
#'
#' The worker's configuration, which holds its CURVE secret key, is written
#' to the ssh client's standard input and so travels inside the encrypted
#' ssh connection; it is never on a command line (local or remote) or in an
#' environment variable. ssh must log in without asking anything: a key
#' with an agent or without a passphrase, and a known host key (the client
#' runs with `BatchMode=yes`, so a prompt fails instead of hanging). The
#' remote host needs R with this package installed, and its firewall must let
#' it connect to the master's port, unless `tunnel = TRUE`.
#'
#' With `tunnel = TRUE` each ssh also opens a reverse tunnel (`ssh -R
#' port:master:port`): the worker connects to a port on its own loopback
#' interface, and ssh carries the connection back to the master. Use it when
#' the remote host cannot reach the master's address (the master behind NAT
#' or a firewall, a laptop); the master then listens on its loopback
#' interface only. The remote port is picked at random among 61000-65535
#' (above Linux's ephemeral ports); if it is taken there, that worker does
#' not connect and `init.cluster()` says so after its `timeout`.
#'
#' On the remote host a small `sh` runs the worker and watches the ssh
#' connection: when it goes (the worker killed here, `stopCluster()` ending a
#' worker still busy after its grace period, the master's R gone, the network
#' cut), it kills the worker, even one in the middle of a long task, so no
#' worker outlives its master. The remote host needs a POSIX `sh`; this
#' machine needs `setsid` (Linux) or `perl` to run each ssh in a process
#' group of its own, out of reach of a Ctrl-C typed in the master.
#'
#' @param user User name on the remote hosts (`ssh -l user`); `NULL` for
#'   ssh's default (your own, or what `~/.ssh/config` says).
#' @param rscript The command that runs `Rscript` on the remote hosts,
#'   inserted as is into the remote shell's command line (e.g.
#'   `"/opt/R/4.4/bin/Rscript"`).
#' @param ssh The ssh client on this machine.
#' @param args More arguments for ssh, before the host, e.g.
#'   `c("-p", "2222", "-i", "~/.ssh/cluster_key")` or `c("-F", "ssh_config")`.
#' @param tunnel `TRUE` to make the workers connect back through a reverse
#'   ssh tunnel instead of directly to the master's address.
#' @return A launcher: a list of class `c("rzmq_launcher_ssh",
#'   "rzmq_launcher")` for `init.cluster(launch = )`. Its `command(host)`
#'   returns the command line that would start a worker on `host` (with
#'   `tunnel = TRUE`, for a master at `endpoint`).
#' @seealso [init.cluster()], [launch.local()], [launch.slurm()],
#'   [launch.command()]
#' @examples
#' l <- launch.ssh(user = "analyst", args = c("-p", "2222"), tunnel = TRUE)
#' l
#' # the command that starts one worker (its secret goes to ssh's stdin)
#' l$command("node1.example.org")
#' \dontrun{
#' cl <- init.cluster(c("node1", "node2"), launch = launch.ssh())
#' parallel::parLapply(cl, 1:10, sqrt)
#' parallel::stopCluster(cl)
#' }
#' @export
launch.ssh <- function(user = NULL, rscript = "Rscript", ssh = "ssh",
                       args = character(), tunnel = FALSE) {
  if (!is.null(user)) {
    launch_check_string(user, "user")
    if (startsWith(user, "-")) stop("'user' must not start with '-'", call. = FALSE)
  }
  launch_check_string(rscript, "rscript")
  launch_check_string(ssh, "ssh")
  launch_check_strings(args, "args")
  tunnel <- arg_flag(tunnel, "tunnel")
  state <- new.env(parent = emptyenv())

  check_host <- function(host) {
    if (!is_string(host) || startsWith(host, "-") ||
        grepl("[[:space:][:cntrl:]'\"`$;&|<>()\\\\]", host)) {
      stop(sprintf("not a host name for ssh: %s", format(host)), call. = FALSE)
    }
    host
  }

  # The master's endpoint as seen from this machine, for the tunnel's far end.
  tunnel_target <- function(endpoint) {
    if (!is.character(endpoint) || length(endpoint) != 1L ||
        !grepl("^tcp://.+:[0-9]+$", endpoint)) {
      stop("launch.ssh(tunnel = TRUE) needs the master's tcp endpoint (spec$endpoint), got: ",
           format(endpoint), call. = FALSE)
    }
    hostport <- sub("^tcp://", "", endpoint)
    port <- sub("^.*:", "", hostport)
    host <- sub(":[0-9]+$", "", hostport)
    host <- gsub("^\\[|\\]$", "", host)
    if (host %in% c("*", "0.0.0.0", "::", "")) host <- "127.0.0.1"
    list(host = host, port = port)
  }

  # argv (before the remote command), the remote command and the endpoint
  # the worker connects to (NULL: the one in its configuration)
  build <- function(host, expr, endpoint = NULL) {
    check_host(host)
    argv <- c(args, "-T", "-o", "BatchMode=yes")
    if (!is.null(user)) argv <- c(argv, "-l", user)
    worker_endpoint <- NULL
    if (tunnel) {
      target <- tunnel_target(endpoint)
      rport <- launch_tunnel_port()
      fwd <- if (grepl(":", target$host, fixed = TRUE)) {
        sprintf("%d:[%s]:%s", rport, target$host, target$port)
      } else {
        sprintf("%d:%s:%s", rport, target$host, target$port)
      }
      argv <- c(argv, "-o", "ExitOnForwardFailure=yes", "-R", fwd)
      worker_endpoint <- sprintf("tcp://127.0.0.1:%d", rport)
    }
    list(argv = c(argv, "--", host), remote = ssh_remote_command(rscript, expr),
         endpoint = worker_endpoint)
  }

  command_line <- function(b) {
    paste(c(launch_quote(c(ssh, b$argv)), shQuote(b$remote, type = "sh")), collapse = " ")
  }

  # What runs here: ssh reading a FIFO, and a feeder that writes the
  # configuration line into the FIFO and then keeps it open (sleep) for as
  # long as the worker may live: the remote side kills the worker when its
  # stdin ends. When ssh ends (the worker exited, or ssh failed) the feeder
  # goes too; a TERM to the shell stops both.
  local_line <- function(b, fifo) {
    paste0("f=", shQuote(fifo), "; mkfifo -m 600 \"$f\" || exit 1; exec 3<&0; ",
           "trap 'kill $s $k 2>/dev/null; rm -f \"$f\"; exit 143' TERM; ",
           command_line(b), " < \"$f\" & s=$!; ",
           "{ IFS= read -r c <&3; exec 3<&-; printf \"%s\\n\" \"$c\"; ",
           "exec sleep 2147483647; } > \"$f\" & k=$!; ",
           "wait $s; r=$?; kill $k 2>/dev/null; rm -f \"$f\"; exit $r")
  }

  structure(list(
    kind = "ssh",
    stdin = TRUE,
    # through tunnels every worker comes from this machine's ssh client: the
    # master listens on loopback only
    address = if (tunnel) "127.0.0.1",
    user = user, rscript = rscript, ssh = ssh, args = args, tunnel = tunnel,
    start = function(spec) {
      if (tunnel && !is.function(spec$config_for)) {
        stop("launch.ssh(tunnel = TRUE) needs spec$config_for()", call. = FALSE)
      }
      b <- build(spec$host, spec$expr(), spec$endpoint)
      # through a tunnel the worker connects to the tunnel's remote end
      config <- if (is.null(b$endpoint)) spec$config else spec$config_for(b$endpoint)
      dir <- launch_private_dir(state)
      base <- file.path(dir, sprintf("worker-%d-%s", spec$index, launch_unique()))
      log <- paste0(base, ".log")
      fifo <- paste0(base, ".fifo")
      pid <- launch_spawn(local_line(b, fifo), log = log,
                          pidfile = paste0(base, ".pid"), input = config)
      launch_process(spec$host, pid,
                     sprintf("ssh (pid %d) to %s; its output: %s", pid, spec$host, log),
                     files = c(log = log, fifo = fifo))
    },
    cleanup = function(processes) {
      launch_stop_processes(processes)
      launch_remove_files(state, processes)
    },
    command = function(host, endpoint = "tcp://master:5555") {
      command_line(build(host, "rzmq::run.worker()", endpoint))
    }
  ), class = c("rzmq_launcher_ssh", "rzmq_launcher"))
}

#' @export
print.rzmq_launcher_ssh <- function(x, ...) {
  cat("<rzmq launcher: ssh>\n",
      "  ssh:     ", paste(launch_quote(c(x$ssh, x$args)), collapse = " "), "\n",
      "  user:    ", if (is.null(x$user)) "(ssh's default)" else x$user, "\n",
      "  rscript: ", x$rscript, "\n",
      "  tunnel:  ", if (x$tunnel) "yes (ssh -R: workers connect back through ssh)" else
        "no (workers connect to the master's address)", "\n",
      "  secret:  on ssh's stdin\n", sep = "")
  invisible(x)
}

# ---- any command ----

#' Start cluster workers with any command (srun, qsub, bsub, sbatch ...)
#'
#' A launcher for [init.cluster()] that runs `template` once per worker
#' with `{{command}}` replaced by the worker's command line, e.g.
#' `launch.command("srun --ntasks=1 --time=60 {{command}}")`: a scheduler's
#' or a container's way to start a program.
#'
#' The placeholders:
#' * `{{command}}`: the worker command as separate shell words, e.g.
#'   `Rscript -e 'rzmq::run.worker(config = "/home/me/.cache/R/rzmq/...")'`,
#'   for commands that take a program and its arguments (srun, mpirun,
#'   `qsub --`, `docker run image`);
#' * `{{command_line}}`: the same command as ONE shell-quoted word, for
#'   options that take a command line as a single argument:
#'   `sbatch --wrap={{command_line}}`, `bsub {{command_line}}`;
#' * `{{index}}`: the worker's number in the cluster, e.g. for a job name.
#'
#' The template is run by `sh` on this machine, in the background, in a
#' process group of its own, its output going to a log file. The worker's
#' configuration (with its CURVE secret key) is written to a file of mode
#' 0600 in a private (0700) directory, which the worker reads and deletes
#' when it starts; only the file's path is on the command line. That
#' directory is under `getOption("rzmq.launch.dir")`, by default
#' `tools::R_user_dir("rzmq", "cache")` in your home directory, which the
#' nodes of a cluster usually share: the worker must be able to read it.
#' Files a worker never read are deleted when the cluster stops.
#'
#' Killing a worker kills the process that the template started (and its
#' process group). A command that only submits a job and returns (like
#' `sbatch --wrap`) leaves nothing to kill: use [launch.slurm()], which
#' cancels its jobs, for SLURM.
#'
#' @param template A shell command line with `{{command}}` or
#'   `{{command_line}}` in it.
#' @param rscript The command that runs `Rscript` where the worker runs,
#'   inserted as is.
#' @return A launcher: a list of class `c("rzmq_launcher_command",
#'   "rzmq_launcher")` for `init.cluster(launch = )`. Its `command(index)`
#'   returns the command line it would run for worker `index` (with a
#'   placeholder for the configuration file).
#' @seealso [init.cluster()], [launch.slurm()], [launch.ssh()]
#' @examples
#' l <- launch.command("srun --ntasks=1 --job-name=rzmq-{{index}} {{command}}")
#' l
#' l$command(1)
#' launch.command("sbatch --wrap={{command_line}}")$command(2)
#' @export
launch.command <- function(template, rscript = "Rscript") {
  if (missing(template)) stop("'template' is missing: a command with {{command}} in it",
                              call. = FALSE)
  launch_check_string(template, "template")
  launch_check_string(rscript, "rscript")
  launch_fill(template, list(command = "", command_line = "", index = ""))
  if (!grepl("{{command}}", template, fixed = TRUE) &&
      !grepl("{{command_line}}", template, fixed = TRUE)) {
    stop("'template' must contain {{command}} or {{command_line}}", call. = FALSE)
  }
  state <- new.env(parent = emptyenv())

  build <- function(index, expr) {
    worker <- launch_worker_command(rscript, expr)
    launch_fill(template, list(command = worker,
                               command_line = shQuote(worker, type = "sh"),
                               index = as.character(index)))
  }

  structure(list(
    kind = "command",
    stdin = FALSE,
    template = template, rscript = rscript,
    start = function(spec) {
      dir <- launch_private_dir(state)
      base <- file.path(dir, sprintf("worker-%d-%s", spec$index, launch_unique()))
      config <- launch_secret_file(paste0(base, ".config"), spec$config)
      log <- paste0(base, ".log")
      line <- build(spec$index, spec$expr(config_file = config))
      pid <- tryCatch(
        launch_spawn(line, log = log, pidfile = paste0(base, ".pid")),
        error = function(e) { unlink(config); stop(e) })
      launch_process(NA_character_, pid,
                     sprintf("worker %d started by '%s' (pid %d); its output: %s",
                             spec$index, strtrim(template, 40), pid, log),
                     files = c(config = config, log = log))
    },
    cleanup = function(processes) {
      launch_stop_processes(processes)
      launch_remove_files(state, processes)
    },
    command = function(index = 1L) {
      build(index, "rzmq::run.worker(config = \"<private directory>/worker.config\")")
    }
  ), class = c("rzmq_launcher_command", "rzmq_launcher"))
}

#' @export
print.rzmq_launcher_command <- function(x, ...) {
  cat("<rzmq launcher: command>\n",
      "  template: ", x$template, "\n",
      "  rscript:  ", x$rscript, "\n",
      "  secret:   in a 0600 file under ", launch_dir_root(), "\n", sep = "")
  invisible(x)
}

# ---- SLURM ----

slurm_default_template <- paste(
  "#!/bin/sh",
  "#SBATCH --job-name={{job_name}}",
  "#SBATCH --output={{log}}",
  "#SBATCH --ntasks=1",
  "{{command}}",
  sep = "\n")

#' Start cluster workers as SLURM jobs
#'
#' A launcher for [init.cluster()] that submits one SLURM batch job per
#' worker with `sbatch`: `init.cluster(8, launch = launch.slurm(c("--time=60",
#' "--mem=4G")))`. [parallel::stopCluster()] cancels (`scancel`) the jobs
#' that never started or still run, so nothing stays in the queue.
#'
#' Each job runs a batch script made from `template`, by default
#' ```
#' #!/bin/sh
#' #SBATCH --job-name={{job_name}}
#' #SBATCH --output={{log}}
#' #SBATCH --ntasks=1
#' {{command}}
#' ```
#' where `{{command}}` is the worker command (`Rscript -e
#' 'rzmq::run.worker(config = "...")'`), `{{job_name}}` is `rzmq-` and the
#' worker's number, `{{index}}` that number and `{{log}}` a file in the
#' launcher's private directory. Give your own template for `module load`
#' lines, a container or a conda environment; `options` go on `sbatch`'s
#' command line (`--partition=`, `--time=`, `--mem=`, `--account=` ...).
#'
#' The worker's configuration, with its CURVE secret key, is written to a
#' file of mode 0600 in a private (0700) directory, under
#' `getOption("rzmq.launch.dir")`, by default
#' `tools::R_user_dir("rzmq", "cache")` in your home directory: it must be on
#' a file system the compute nodes see (a shared home directory usually is).
#' The worker deletes it when it starts; the cluster deletes those of jobs
#' that never started. The jobs' ids are in the processes' `job` fields and
#' in `print(cl)`. `sbatch`, `squeue` and `scancel` must be on the PATH.
#'
#' @param options Arguments for `sbatch`, e.g. `c("--partition=short",
#'   "--time=30")`.
#' @param template The batch script, with `{{command}}`; `NULL` for the
#'   default above.
#' @param rscript The command that runs `Rscript` on the compute nodes,
#'   inserted as is (the job inherits your `PATH` unless `options` say
#'   otherwise).
#' @return A launcher: a list of class `c("rzmq_launcher_slurm",
#'   "rzmq_launcher")` for `init.cluster(launch = )`. Its `script(index)`
#'   returns the batch script for worker `index` (with a placeholder for the
#'   configuration file) and `sbatch` the submit command's arguments.
#' @seealso [init.cluster()], [launch.command()], [launch.ssh()]
#' @examples
#' l <- launch.slurm(c("--partition=short", "--time=30"))
#' l
#' cat(l$script(1), sep = "\n")
#' # a template of your own
#' l <- launch.slurm(template = paste(
#'   "#!/bin/bash",
#'   "#SBATCH --job-name={{job_name}} --output={{log}} --cpus-per-task=1",
#'   "module load R/4.4",
#'   "{{command}}", sep = "\n"))
#' cat(l$script(2), sep = "\n")
#' \dontrun{
#' cl <- init.cluster(4, launch = launch.slurm("--time=10"))
#' parallel::parSapply(cl, 1:100, function(i) Sys.info()[["nodename"]])
#' parallel::stopCluster(cl)
#' }
#' @export
launch.slurm <- function(options = character(), template = NULL, rscript = "Rscript") {
  launch_check_strings(options, "options")
  if (any(grepl("^--(parsable|wrap)", options))) {
    stop("'options' must not contain --parsable or --wrap (the launcher sets them)",
         call. = FALSE)
  }
  if (is.null(template)) template <- slurm_default_template
  launch_check_string(template, "template", lines = TRUE)
  launch_check_string(rscript, "rscript")
  launch_fill(template, list(command = "", job_name = "", log = "", index = ""))
  if (!grepl("{{command}}", template, fixed = TRUE)) {
    stop("'template' must contain {{command}}", call. = FALSE)
  }
  state <- new.env(parent = emptyenv())

  script <- function(index, expr, log) {
    launch_fill(template, list(command = launch_worker_command(rscript, expr),
                               job_name = paste0("rzmq-", index),
                               log = log, index = as.character(index)))
  }

  scancel <- function(jobs) {
    jobs <- jobs[!is.na(jobs)]
    if (!length(jobs)) return(invisible())
    suppressWarnings(system2("scancel", c("--quiet", jobs), stdout = FALSE, stderr = FALSE))
    invisible()
  }

  # The jobs among `jobs` that squeue still lists (pending, running, ending);
  # NULL if squeue failed.
  queued <- function(jobs) {
    out <- suppressWarnings(tryCatch(
      system2("squeue", c("-h", "-o", "%i", "-j", paste(jobs, collapse = ",")),
              stdout = TRUE, stderr = FALSE),
      error = function(e) NULL))
    if (!is.null(attr(out, "status"))) {
      # squeue exits non-zero when none of the jobs is known any more
      return(character())
    }
    intersect(trimws(out), jobs)
  }

  structure(list(
    kind = "slurm",
    stdin = FALSE,
    options = options, template = template, rscript = rscript,
    start = function(spec) {
      dir <- launch_private_dir(state)
      base <- file.path(dir, sprintf("worker-%d-%s", spec$index, launch_unique()))
      config <- launch_secret_file(paste0(base, ".config"), spec$config)
      log <- paste0(base, ".log")
      text <- script(spec$index, spec$expr(config_file = config), log)
      out <- suppressWarnings(tryCatch(
        system2("sbatch", c("--parsable", shQuote(options)), input = strsplit(text, "\n")[[1]],
                stdout = TRUE, stderr = TRUE),
        error = function(e) structure(conditionMessage(e), status = 127L)))
      job <- sub(";.*$", "", trimws(out[length(out)]))
      if (!is.null(attr(out, "status")) || !length(job) || !grepl("^[0-9_]+$", job)) {
        unlink(config)
        stop(sprintf("sbatch failed for worker %d: %s", spec$index,
                     paste(out, collapse = "\n")), call. = FALSE)
      }
      launch_process(NA_character_, NA_integer_, sprintf("SLURM job %s", job),
                     files = c(config = config, log = log), job = job,
                     kill = function() scancel(job))
    },
    cleanup = function(processes) {
      jobs <- unlist(lapply(processes, function(p) p$job))
      jobs <- jobs[!is.na(jobs)]
      if (length(jobs)) {
        # let workers told to stop end by themselves for a moment, then cancel
        deadline <- Sys.time() + getOption("rzmq.cluster.grace", 2)
        left <- queued(jobs)
        while (length(left) && Sys.time() < deadline) {
          Sys.sleep(0.1)
          left <- queued(left)
        }
        if (is.null(left) || length(left)) scancel(if (is.null(left)) jobs else left)
      }
      launch_remove_files(state, processes)
    },
    script = function(index = 1L) {
      script(index, "rzmq::run.worker(config = \"<private directory>/worker.config\")",
             "<private directory>/worker.log")
    },
    sbatch = c("sbatch", "--parsable", options)
  ), class = c("rzmq_launcher_slurm", "rzmq_launcher"))
}

#' @export
print.rzmq_launcher_slurm <- function(x, ...) {
  cat("<rzmq launcher: SLURM>\n",
      "  submit:   ", paste(launch_quote(x$sbatch), collapse = " "), " < batch script\n",
      "  template: ", if (identical(x$template, slurm_default_template)) "default" else
        "your own", "\n",
      "  rscript:  ", x$rscript, "\n",
      "  secret:   in a 0600 file under ", launch_dir_root(), "\n", sep = "")
  invisible(x)
}
