# Unload rzmq the way pkgload::unload() does (unloadNamespace, then
# library.dynam.unload) in one of several states, then keep using R: gc(),
# fork, run the remaining finalizers, load rzmq again. R must survive it all.
# Usage: Rscript unload-cases.R CASE
# Prints unload_secs=, mapped= (is rzmq.so still mapped?) and "OK CASE".
case <- commandArgs(trailingOnly = TRUE)[[1]]
library(rzmq)
dead <- "tcp://127.0.0.1:1" # nothing listens on port 1

# Each case sets up its state in a function of its own (so that nothing it
# made stays reachable unless returned) and returns what is to stay alive
# across the unload; `after` then uses that with the package loaded again.
setup <- list(
  # the reported crash: a message queued for a dead peer, handles dropped
  dropped = function() {
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(s, dead)
    send.socket(s, 1:10)
    NULL
  },
  # destroyed first, nothing queued, nothing kept: the library really goes
  destroyed = function() {
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://u"); connect.socket(b, "inproc://u")
    send.socket(b, "x"); stopifnot(identical(receive.socket(a), "x"))
    destroy.context(ctx, linger = 0)
    NULL
  },
  # destroyed with queued messages dropped (linger 0), the handle kept
  destroyed_queued = function() {
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(s, dead)
    for (i in 1:100) send.socket(s, i)
    destroy.context(ctx, linger = 0)
    list(ctx = ctx)
  },
  # sockets still open with queued messages: unload closes them (linger 0)
  open_queued = function() {
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(s, dead)
    for (i in 1:100) send.socket(s, i)
    list(s = s)
  },
  # large raw vectors lent to libzmq, still queued at unload
  lent = function() {
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(s, dead)
    big <- lapply(1:5, function(i) as.raw(rep_len(0:255, 1e6)))
    for (b in big) send.socket(s, b, serialize = FALSE)
    list(s = s, big = big)
  },
  # message objects alive across the unload; their finalizers run after it
  message = function() {
    ctx <- init.context()
    m <- init.message(runif(1e5))
    s <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(s, dead)
    send.message.object(s, m)
    list(m = m, small = init.message("x"))
  },
  # an authenticator's thread running at unload, its handle kept
  authenticator = function() {
    ctx <- init.context()
    auth <- init.authenticator(ctx, curve = TRUE)
    s <- init.socket(ctx, "ZMQ_PULL")
    set.curve.server(s, curve.keypair()$secret)
    bind.socket(s, "tcp://127.0.0.1:*")
    list(auth = auth)
  },
  # a proxy's thread forwarding at unload, its handle and sockets kept
  proxy = function() {
    ctx <- init.context()
    front <- init.socket(ctx, "ZMQ_PULL")
    back <- init.socket(ctx, "ZMQ_PUSH")
    bind.socket(front, "tcp://127.0.0.1:*")
    bind.socket(back, "tcp://127.0.0.1:*")
    snd <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(snd, get.last.endpoint(front))
    p <- init.proxy(front, back)
    for (i in 1:100) send.socket(snd, i)
    list(p = p, front = front)
  },
  # zero-copy frames alive at unload: one reading the sender's lent vector
  # (inproc; with an attribute, so that it is read in place rather than
  # handed over itself), others libzmq's own buffers (tcp: single,
  # multipart, batch); the frame class's methods and finalizer are our code
  frames = function() {
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://frames"); connect.socket(b, "inproc://frames")
    send.socket(b, structure(frame_bytes(), note = "n"), serialize = FALSE)
    lent <- receive.socket(a, unserialize = FALSE)
    stopifnot(rzmq:::lent_count() == 1L)
    p <- init.socket(ctx, "ZMQ_PULL"); q <- init.socket(ctx, "ZMQ_PUSH")
    bind.socket(p, "tcp://127.0.0.1:*"); connect.socket(q, get.last.endpoint(p))
    set.rcv.timeout(p, 10000L)
    # over tcp a fresh frame is read in place from 8 MB on
    send.socket(q, tcp_bytes(), serialize = FALSE)
    send.multipart(q, list(charToRaw("h"), tcp_bytes()))
    send.messages(q, list(tcp_bytes(), tcp_bytes()), serialize = FALSE)
    own <- receive.socket(p, unserialize = FALSE)
    parts <- receive.multipart(p)
    batch <- receive.messages(p, unserialize = FALSE)
    while (length(batch) < 2L) batch <- c(batch, receive.messages(p, unserialize = FALSE))
    keep <- list(lent = lent, own = own, part = parts[[2]], batch1 = batch[[1]], batch2 = batch[[2]])
    stopifnot(all(vapply(keep, rzmq:::frame_state, "") == "message"))
    keep
  },
  # a large send buffer cached, and the thread that frees it when idle
  # running, nothing else left: the unload stops the thread, frees the
  # buffer, and the library really goes
  cache = function() {
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://cache"); connect.socket(b, "inproc://cache")
    x <- runif(3e5) # 2.4 MB
    send.socket(b, x)
    stopifnot(identical(receive.socket(a), x), .Call(rzmq:::c_rzmq_cache_size) >= 2.4e6)
    destroy.context(ctx)
    NULL
  }
)

# the bytes of every frame in the frames case
frame_bytes <- function() as.raw(rep_len(c(7:255, 0:6), 200000))
tcp_bytes <- function() as.raw(rep_len(c(7:255, 0:6), 9e6))

# Optional: with the package unloaded (before it is loaded again).
between <- list(
  frames = function(keep) {
    # read in place, written to (copied by the class's method), collected
    stopifnot(identical(keep$lent[c(1, 200000)], frame_bytes()[c(1, 200000)]),
              sum(as.integer(keep$own)) == sum(as.integer(tcp_bytes())))
    keep$part[1] <- as.raw(0)
    stopifnot(keep$part[1] == as.raw(0), identical(keep$part[-1], tcp_bytes()[-1]))
    keep$batch2 <- NULL
    invisible(gc())
    keep
  }
)

after <- list(
  destroyed_queued = function(keep) {
    msg <- tryCatch(init.socket(keep$ctx, "ZMQ_PAIR"), error = conditionMessage)
    stopifnot(grepl("has been destroyed", msg))
  },
  open_queued = function(keep) {
    msg <- tryCatch(send.socket(keep$s, 1), error = conditionMessage)
    stopifnot(grepl("has been closed", msg))
  },
  authenticator = function(keep) {
    msg <- tryCatch(configure.authenticator(keep$auth, curve = NULL), error = conditionMessage)
    stopifnot(grepl("has been destroyed", msg))
  },
  proxy = function(keep) {
    msg <- tryCatch(proxy.stats(keep$p), error = conditionMessage)
    stopifnot(grepl("has been stopped", msg))
    msg <- tryCatch(send.socket(keep$front, 1), error = conditionMessage)
    stopifnot(grepl("has been closed", msg))
  },
  lent = function(keep) {
    stopifnot(identical(keep$big[[5]][1:3], as.raw(0:2)))
  },
  cache = function(keep) {
    # the thread of the new load caches and frees as before
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://cache-again"); connect.socket(b, "inproc://cache-again")
    x <- runif(3e5)
    send.socket(b, x)
    stopifnot(identical(receive.socket(a), x), .Call(rzmq:::c_rzmq_cache_size) >= 2.4e6)
    deadline <- Sys.time() + 10
    while (.Call(rzmq:::c_rzmq_cache_size) > 0 && Sys.time() < deadline) Sys.sleep(0.05)
    stopifnot(.Call(rzmq:::c_rzmq_cache_size) == 0)
    destroy.context(ctx)
  },
  frames = function(keep) {
    stopifnot(identical(keep$lent, frame_bytes()), identical(keep$own, tcp_bytes()),
              identical(keep$batch1, tcp_bytes()))
    # sent again by the package loaded anew (a frame of the old load is an
    # ordinary raw vector to it)
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://frames-again"); connect.socket(b, "inproc://frames-again")
    send.socket(b, keep$batch1, serialize = FALSE)
    send.socket(b, keep$own)
    stopifnot(identical(receive.socket(a, unserialize = FALSE), tcp_bytes()),
              identical(receive.socket(a), tcp_bytes()))
    destroy.context(ctx)
  }
)

keep <- setup[[case]]()
invisible(gc())
lib <- find.package("rzmq")
t0 <- Sys.time()
unloadNamespace("rzmq")
library.dynam.unload("rzmq", lib)
cat(sprintf("unload_secs=%.2f\n", as.numeric(Sys.time() - t0, units = "secs")))
maps <- readLines("/proc/self/maps")
cat(sprintf("mapped=%s\n", any(grepl("/rzmq.so", maps, fixed = TRUE))))
invisible(gc())
Sys.sleep(0.3)     # libzmq's threads, if any, get to run
system("true")     # a fork: no atfork handler of ours may dangle
if (!is.null(between[[case]])) keep <- between[[case]](keep)
library(rzmq)      # load it again and use it
if (!is.null(after[[case]])) after[[case]](keep)
rm(keep)
invisible(gc())    # the finalizers of what was kept
ctx <- init.context()
p <- init.socket(ctx, "ZMQ_PAIR"); q <- init.socket(ctx, "ZMQ_PAIR")
bind.socket(p, "inproc://again"); connect.socket(q, "inproc://again")
send.socket(q, list(case = case))
stopifnot(identical(receive.socket(p), list(case = case)))
cat("OK", case, "\n")
