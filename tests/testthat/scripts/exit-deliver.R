# Send 2000 messages to a connected peer and end at once: no destroy, no
# sleep. Every message must still reach the peer.
# Usage: Rscript exit-deliver.R ENDPOINT   (a PULL socket bound by the test)
library(rzmq)
endpoint <- commandArgs(trailingOnly = TRUE)[1]
ctx <- init.context()
push <- init.socket(ctx, "ZMQ_PUSH")
stopifnot(isTRUE(connect.socket(push, endpoint)))
payload <- as.raw(rep_len(0:255, 10000))
for (i in 1:2000) stopifnot(isTRUE(send.socket(push, list(i = i, payload = payload))))
cat("sent\n")
