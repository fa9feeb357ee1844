## Worker for worker-pool.R.
##
## Pulls tasks from the ventilator, runs them and pushes the results to the
## sink.  Started by worker-pool.R as
##   Rscript worker.R <ventilator endpoint> <sink endpoint>
## A task is list(type = "task", id =, fun =, args =); a message with
## type "stop" makes the worker exit.
library(rzmq)

endpoints <- commandArgs(trailingOnly = TRUE)
if (length(endpoints) != 2L)
  stop("usage: Rscript worker.R <ventilator endpoint> <sink endpoint>")

idle_timeout <- 300  # seconds without any message before giving up

ctx <- init.context()
tasks <- init.socket(ctx, "ZMQ_PULL")
results <- init.socket(ctx, "ZMQ_PUSH")
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
