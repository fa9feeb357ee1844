## A worker for broker-pool.R: a REP socket connected to the broker's
## backend; it answers each task list(fun =, args =) with the result, and
## leaves when it gets "stop" or has been idle for a minute.
##   Rscript broker-worker.R <backend endpoint>
library(rzmq)
endpoint <- commandArgs(trailingOnly = TRUE)[1]
if (is.na(endpoint)) stop("usage: Rscript broker-worker.R <backend endpoint>")
ctx <- init.context()
rep <- init.socket(ctx, "ZMQ_REP")
invisible(set.rcv.timeout(rep, 60000L))
connect.socket(rep, endpoint)
repeat {
  task <- receive.socket(rep)
  if (is.null(task) || identical(task, "stop")) break
  send.socket(rep, list(pid = Sys.getpid(), value = do.call(task$fun, task$args)))
}
if (identical(task, "stop")) send.socket(rep, "bye")
destroy.context(ctx)
