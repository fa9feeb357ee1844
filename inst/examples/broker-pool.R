## A load-balancing broker: clients talk to a ROUTER (the frontend), workers
## to a DEALER (the backend), and a proxy running on its own thread
## (init.proxy) moves messages between them while R does other work. A
## monitor on the backend tells workers joining and leaving.
## Run it with
##   Rscript inst/examples/broker-pool.R
library(rzmq)

here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1])) else system.file("examples", package = "rzmq")
})
timeout <- 30 # seconds to wait for anything before giving up

ctx <- init.context()
frontend <- init.socket(ctx, "ZMQ_ROUTER")
backend <- init.socket(ctx, "ZMQ_DEALER")
stopifnot(bind.socket(frontend, "tcp://127.0.0.1:*"),
          bind.socket(backend, "tcp://127.0.0.1:*"))
front_ep <- get.last.endpoint(frontend)
back_ep <- get.last.endpoint(backend)
# who joins and leaves: a monitor on the backend, made before the proxy owns it
monitor <- monitor.socket(backend, c("ACCEPTED", "DISCONNECTED"))
proxy <- init.proxy(frontend, backend)

rscript <- file.path(R.home("bin"), "Rscript")
start_worker <- function() {
  system2(rscript, c(file.path(here, "broker-worker.R"), back_ep), wait = FALSE)
}
# report monitor events as they come, until `n` of them have been seen
watch <- function(n) {
  seen <- 0
  while (seen < n && isTRUE(poll.socket(list(monitor), list("read"), timeout)[[1]]$read)) {
    ev <- read.events(monitor)
    for (i in seq_len(nrow(ev))) {
      cat(sprintf("  backend: %s (%s)\n", ev$event[i],
                  if (ev$event[i] == "ACCEPTED") "a worker joined" else "a worker left"))
    }
    seen <- seen + nrow(ev)
  }
}

cat("starting 2 workers\n")
for (i in 1:2) start_worker()
watch(2)

# the client: a DEALER, so that it can have many requests in flight; each
# request is an empty delimiter frame and the task, as a REQ socket would send
client <- init.socket(ctx, "ZMQ_DEALER")
invisible(set.rcv.timeout(client, timeout * 1000L))
connect.socket(client, front_ep)
ask <- function(task) send.multipart(client, list(raw(0), serialize(task, NULL)))
answer <- function() {
  parts <- receive.multipart(client)
  if (is.null(parts)) stop("no answer within ", timeout, " s")
  unserialize(parts[[2]])
}

n <- 30
for (i in 1:n) ask(list(fun = function(k) sum(sqrt(seq_len(k))), args = list(1e5 + i)))
cat("a third worker joins while tasks run\n")
start_worker()
watch(1)
for (i in 1:n) ask(list(fun = function(k) sum(sqrt(seq_len(k))), args = list(2e5 + i)))
results <- lapply(seq_len(2 * n), function(i) answer())
cat(sprintf("%d answers; tasks per worker:\n", length(results)))
print(table(pid = vapply(results, `[[`, numeric(1), "pid")))

s <- proxy.stats(proxy)
cat(sprintf("the proxy moved %.0f messages from clients to workers and %.0f back\n",
            s[["frontend.messages.in"]], s[["backend.messages.in"]]))

cat("telling the workers to leave\n")
for (i in 1:3) ask("stop")
for (i in 1:3) stopifnot(identical(answer(), "bye"))
watch(3)
stop.proxy(proxy)
destroy.context(ctx, linger = 0)
