## A demo publisher for app.R: binds a PUB socket and sends a random walk,
## one number every 0.2 s, until stopped (Ctrl-C).
##   Rscript publisher.R [endpoint]     (default tcp://127.0.0.1:5556)
library(rzmq)

args <- commandArgs(trailingOnly = TRUE)
endpoint <- if (length(args)) args[1] else "tcp://127.0.0.1:5556"

context <- init.context()
pub <- init.socket(context, "ZMQ_PUB")
bind.socket(pub, endpoint)
cat("publishing on", get.last.endpoint(pub), "\n")

value <- 0
repeat {
  value <- round(value + stats::rnorm(1), 2)
  send.socket(pub, value)
  Sys.sleep(0.2)
}
