# Queue messages for a peer that never comes, then end without closing
# anything: R must still exit within a few seconds.
# Usage: Rscript exit-queued.R ENDPOINT   (an endpoint nobody listens on)
library(rzmq)
endpoint <- commandArgs(trailingOnly = TRUE)[1]
ctx <- init.context()
push <- init.socket(ctx, "ZMQ_PUSH")
stopifnot(isTRUE(connect.socket(push, endpoint)))
for (i in 1:100) stopifnot(isTRUE(send.socket(push, list(i = i, x = runif(100)))))
cat("queued\n")
