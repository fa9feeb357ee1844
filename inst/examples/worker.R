## Worker for worker-pool.R.
##
## Pulls tasks from the ventilator, runs them and pushes the results to the
## sink.  Started by worker-pool.R as
##   Rscript worker.R <ventilator endpoint> <sink endpoint>
## or, with worker-pool.R --secure, as
##   Rscript worker.R <ventilator endpoint> <sink endpoint> \
##     <own key file> <server key file>
## where the key files are certificates from write.curve.keys(): the
## worker's own (with its _secret file beside it) and the main process's
## public one. Both connections are then CURVE clients.
## A task is list(type = "task", id =, fun =, args =); a message with
## type "stop" makes the worker exit.
library(rzmq)

args <- commandArgs(trailingOnly = TRUE)
if (!length(args) %in% c(2L, 4L))
  stop("usage: Rscript worker.R <ventilator endpoint> <sink endpoint> ",
       "[<own key file> <server key file>]")
endpoints <- args[1:2]

idle_timeout <- 300  # seconds without any message before giving up

ctx <- init.context()
tasks <- init.socket(ctx, "ZMQ_PULL")
results <- init.socket(ctx, "ZMQ_PUSH")
if (length(args) == 4L) {
  own_keys <- read.curve.keys(args[3])
  server_public <- read.curve.keys(args[4])$public
  set.curve.client(tasks, server_public, own_keys)   # before connect
  set.curve.client(results, server_public, own_keys)
}
connect.socket(tasks, endpoints[1])  # connect to the ventilator first, so it
connect.socket(results, endpoints[2]) # is likely to know us when we say hello

## Tell the main process we are here; it waits for every worker's "ready"
## before sending out tasks.
send.socket(results, list(type = "ready", worker = Sys.getpid()))

repeat {
  # Wait with a timeout, so an orphaned worker does not hang around forever.
  ready <- poll.socket(list(tasks), list("read"), timeout = idle_timeout)
  if (!ready[[1]]$read)
    break
  task <- receive.socket(tasks)
  if (identical(task$type, "stop"))
    break
  # Errors are sent back rather than killing the worker.
  value <- tryCatch(do.call(task$fun, task$args), error = function(e) e)
  send.socket(results, list(type = "result", id = task$id,
                            worker = Sys.getpid(), result = value))
}

invisible(set.linger(results, 1000L))  # let the last result leave before closing
destroy.socket(tasks)
destroy.socket(results)
destroy.context(ctx)
