# Socket monitors: a socket's connection events (listening, accepting,
# handshakes, disconnecting, closing) read from the monitor socket with
# receive.event() and read.events(), waited for with poll.socket(); event
# masks, replacing a monitor, MONITOR_STOPPED, malformed messages and bad
# arguments.

# The events of `monitor` (a data frame) until one named `until` has
# arrived or `timeout` seconds have passed. `also` are polled with the
# monitor: libzmq works through a socket's commands (a disconnect, say) only
# when the socket is used, and polling uses it.
events_until <- function(monitor, until, timeout = 5, also = list()) {
  deadline <- Sys.time() + timeout
  got <- read.events(monitor)
  while (!(until %in% got$event)) {
    left <- as.numeric(difftime(deadline, Sys.time(), units = "secs"))
    if (left <= 0) break
    poll.socket(c(list(monitor), also), "read", timeout = min(left, 0.5))
    got <- rbind(got, read.events(monitor))
  }
  got
}

# A monitor (a PAIR socket) talking to `fake`, a PAIR socket bound on the
# same context, so that a test can send it any message. The monitored socket
# is closed first, which ends the monitor's own peer; libzmq lets the old
# connection go on its threads, so until it has, the monitor refuses the new
# one: a probe tells, and a refused attempt is made again with a new socket.
monitor_with_fake_peer <- function(ctx) {
  s <- init.socket(ctx, "ZMQ_PAIR")
  m <- monitor.socket(s, "MONITOR_STOPPED")
  destroy.socket(s)
  stopifnot(identical(events_until(m, "MONITOR_STOPPED")$event, "MONITOR_STOPPED"))
  deadline <- Sys.time() + 10
  repeat {
    fake <- init.socket(ctx, "ZMQ_PAIR")
    set.send.timeout(fake, 200L)
    ep <- inproc("fake-monitor")
    stopifnot(isTRUE(bind.socket(fake, ep)), isTRUE(connect.socket(m, ep)))
    send.multipart(fake, event_message(0x0001, 1, "probe"))
    if (readable(m, 0.5)) break
    destroy.socket(fake)
    if (Sys.time() > deadline) stop("the monitor never took a new peer")
  }
  stopifnot(identical(receive.event(m)$endpoint, "probe"))
  list(monitor = m, fake = fake)
}

# An event message as libzmq writes it: uint16 id, uint32 value, endpoint.
event_message <- function(id, value, endpoint) {
  value <- if (value >= 2^31) value - 2^32 else value
  list(c(writeBin(as.integer(id), raw(), size = 2), writeBin(as.integer(value), raw())),
       endpoint)
}

test_that("a tcp listen, connect, accept and disconnect are reported in order", {
  skip_on_cran() # waits on libzmq's I/O threads with deadlines
  ctx <- init.context()
  srv <- init.socket(ctx, "ZMQ_PULL")
  ms <- monitor.socket(srv)
  ep <- bind_tcp(srv)
  # LISTENING makes the monitor readable: through poll.socket and receive.event
  expect_true(readable(ms, 5))
  ev <- receive.event(ms)
  expect_identical(names(ev), c("event", "value", "endpoint"))
  expect_identical(ev$event, "LISTENING")
  expect_identical(ev$endpoint, ep)
  expect_type(ev$value, "double")
  cl <- init.socket(ctx, "ZMQ_PUSH")
  mc <- monitor.socket(cl)
  expect_true(connect.socket(cl, ep))
  expect_true(send.socket(cl, "hello"))
  expect_identical(recv_within(srv), "hello")
  # through read.events: a data frame, oldest first
  got <- events_until(ms, "HANDSHAKE_SUCCEEDED")
  expect_named(got, c("event", "value", "endpoint"))
  expect_identical(got$event, c("ACCEPTED", "HANDSHAKE_SUCCEEDED"))
  expect_identical(got$endpoint, c(ep, ep))
  accepted_fd <- got$value[1]
  expect_gte(accepted_fd, 0)
  got <- events_until(mc, "HANDSHAKE_SUCCEEDED")
  # CONNECT_DELAYED comes first when the connect did not complete at once
  expect_identical(setdiff(got$event, "CONNECT_DELAYED"), c("CONNECTED", "HANDSHAKE_SUCCEEDED"))
  expect_identical(unique(got$endpoint), ep)
  # the client disconnects: the server sees the connection it accepted go
  expect_true(disconnect.socket(cl, ep))
  got <- events_until(ms, "DISCONNECTED", also = list(cl))
  expect_identical(got$event, "DISCONNECTED")
  expect_identical(got$value, accepted_fd)
  expect_identical(got$endpoint, ep)
  # nothing more is queued: NULL, silently, EAGAIN
  expect_silent(expect_null(receive.event(ms, dont.wait = TRUE)))
  expect_identical(zmq.errno(), 11L)
  empty <- read.events(ms)
  expect_identical(empty, data.frame(event = character(0), value = numeric(0),
                                     endpoint = character(0)))
  expect_identical(zmq.errno(), 11L)
  destroy.context(ctx, linger = 0)
})

test_that("`events` keeps only the events asked for; names take the prefix and any case", {
  skip_on_cran()
  ctx <- init.context()
  srv <- init.socket(ctx, "ZMQ_PULL")
  ms <- monitor.socket(srv, c("zmq_event_Accepted", "HANDSHAKE_SUCCEEDED"))
  ep <- bind_tcp(srv) # LISTENING is not asked for
  cl <- init.socket(ctx, "ZMQ_PUSH")
  mc <- monitor.socket(cl, "ZMQ_EVENT_CONNECTED")
  connect.socket(cl, ep)
  send.socket(cl, 1)
  expect_identical(recv_within(srv), 1)
  expect_identical(events_until(ms, "HANDSHAKE_SUCCEEDED")$event,
                   c("ACCEPTED", "HANDSHAKE_SUCCEEDED"))
  got <- events_until(mc, "CONNECTED")
  expect_identical(got$event, "CONNECTED")
  # its handshake came before the message did: it would be queued by now
  expect_identical(nrow(read.events(mc)), 0L)
  destroy.context(ctx, linger = 0)
})

test_that("a refused CURVE client is HANDSHAKE_FAILED_AUTH on the server's monitor, an allowed one HANDSHAKE_SUCCEEDED", {
  skip_on_cran()
  skip_if_not(zmq.has("curve"))
  ctx <- init.context()
  sk <- curve.keypair(); good <- curve.keypair()
  auth <- init.authenticator(ctx, curve = good$public)
  srv <- init.socket(ctx, "ZMQ_PULL")
  set.curve.server(srv, sk$secret)
  ms <- monitor.socket(srv, c("HANDSHAKE_SUCCEEDED", "HANDSHAKE_FAILED_AUTH",
                              "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_NO_DETAIL"))
  ep <- bind_tcp(srv)
  ok <- init.socket(ctx, "ZMQ_PUSH")
  set.curve.client(ok, sk$public, good)
  connect.socket(ok, ep)
  got <- events_until(ms, "HANDSHAKE_SUCCEEDED")
  expect_identical(got$event, "HANDSHAKE_SUCCEEDED")
  expect_identical(got$endpoint, ep)
  evil <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(evil, 2000L) # refused: a send would wait for a peer forever
  set.curve.client(evil, sk$public, curve.keypair())
  me <- monitor.socket(evil, "HANDSHAKE_FAILED_AUTH")
  connect.socket(evil, ep)
  got <- events_until(ms, "HANDSHAKE_FAILED_AUTH")
  expect_identical(got$event, "HANDSHAKE_FAILED_AUTH")
  expect_identical(got$value, 400) # the ZAP status: the authenticator said no
  expect_identical(got$endpoint, ep)
  # the client is told too
  expect_identical(events_until(me, "HANDSHAKE_FAILED_AUTH")$value, 400)
  destroy.context(ctx, linger = 0)
})

test_that("closing the monitored socket ends with MONITOR_STOPPED", {
  skip_on_cran()
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  m <- monitor.socket(s)
  ep <- bind_tcp(s)
  expect_identical(receive.event(m)$event, "LISTENING")
  destroy.socket(s)
  got <- events_until(m, "MONITOR_STOPPED")
  expect_identical(got$event, "MONITOR_STOPPED")
  expect_identical(got$value, 0)
  expect_null(receive.event(m, dont.wait = TRUE))
  expect_identical(zmq.errno(), 11L)
  # the monitor stays an open socket until it is closed itself
  expect_true(destroy.socket(m))
  destroy.context(ctx, linger = 0)
})

test_that("a closed or collected monitor stops libzmq reporting: the socket goes on", {
  # libzmq's reports block once nobody reads them: in a child, with a deadline
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    s <- init.socket(ctx, "ZMQ_PULL")
    m <- monitor.socket(s)
    destroy.socket(m)
    local(monitor.socket(s)) # dropped at once
    invisible(gc())
    ep <- "tcp://127.0.0.1:*"
    bind.socket(s, ep)
    ep <- get.last.endpoint(s)
    m2 <- monitor.socket(s) # replaces nothing that still runs
    cl <- init.socket(ctx, "ZMQ_PUSH")
    connect.socket(cl, ep)
    send.socket(cl, "through")
    set.rcv.timeout(s, 5000L)
    got <- receive.socket(s)
    destroy.socket(s)
    destroy.context(ctx, linger = 0)
    got
  })
  child_wait(proc, 30)
  expect_identical(proc$get_result(), "through")
})

test_that("unread events queue without limit and never stall the socket", {
  skip_on_cran() # > 2,000 events from reconnects every millisecond
  ctx <- init.context() # one I/O thread: a stalled report would stall it all
  retrying <- init.socket(ctx, "ZMQ_PUSH")
  m <- monitor.socket(retrying, c("CONNECT_RETRIED", "CONNECT_DELAYED", "CLOSED"))
  set.reconnect.ivl(retrying, 1L)
  set.reconnect.ivl.max(retrying, 1L)
  connect.socket(retrying, dead_endpoint())
  srv <- init.socket(ctx, "ZMQ_PULL")
  ep <- bind_tcp(srv)
  cl <- init.socket(ctx, "ZMQ_PUSH")
  connect.socket(cl, ep)
  # the socket keeps working while its events pile up unread
  n <- 0L
  deadline <- Sys.time() + 20
  while (n < 30L && Sys.time() < deadline) {
    expect_true(send.socket(cl, n))
    expect_identical(recv_within(srv), n)
    n <- n + 1L
    poll.socket(list(retrying), "read", timeout = 0.1)
  }
  got <- events_until(m, "never", timeout = 0.2)
  expect_gt(nrow(got), 2000L)
  destroy.context(ctx, linger = 0)
})

test_that("a second monitor on a socket replaces the first, which gets MONITOR_STOPPED", {
  skip_on_cran()
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  m1 <- monitor.socket(s)
  m2 <- monitor.socket(s)
  ep <- bind_tcp(s)
  expect_identical(events_until(m1, "MONITOR_STOPPED")$event, "MONITOR_STOPPED")
  got <- events_until(m2, "LISTENING")
  expect_identical(got$event, "LISTENING")
  expect_identical(got$endpoint, ep)
  # the first one hears nothing more
  expect_false(readable(m1, 0.2))
  destroy.context(ctx, linger = 0)
})

test_that("receive.event waits for at most the monitor's receive timeout", {
  skip_on_cran() # timings
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  m <- monitor.socket(s)
  set.rcv.timeout(m, 150L)
  t0 <- Sys.time()
  expect_silent(expect_null(receive.event(m)))
  waited <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  expect_identical(zmq.errno(), 11L)
  expect_gte(waited, 0.14)
  expect_lt(waited, 3)
  destroy.context(ctx, linger = 0)
})

test_that("event messages are decoded whole; a malformed one is an R error and is read to its end", {
  ctx <- init.context()
  f <- monitor_with_fake_peer(ctx)
  m <- f$monitor
  # native byte order, the full uint32 range, an event libzmq adds later
  send.multipart(f$fake, event_message(0x0001, 2^32 - 1, "tcp://10.0.0.1:7"))
  expect_true(readable(m, 5))
  expect_identical(receive.event(m), list(event = "CONNECTED", value = 2^32 - 1,
                                          endpoint = "tcp://10.0.0.1:7"))
  send.multipart(f$fake, event_message(0x8000, 7, ""))
  expect_true(readable(m, 5))
  expect_identical(receive.event(m), list(event = "0x8000", value = 7, endpoint = ""))
  bad <- list(list(raw(6)), list(raw(5), "x"), list(raw(7), "x"),
              list(raw(6), "x", "y"), list(raw(2), raw(6), "x"))
  for (b in bad) {
    send.multipart(f$fake, b)
    expect_true(readable(m, 5))
    expect_error(receive.event(m), "not a monitor event")
    # the whole message was read: the next one is a good event
    send.multipart(f$fake, event_message(0x0200, 12, "tcp://x:1"))
    expect_true(readable(m, 5))
    expect_identical(receive.event(m)$event, "DISCONNECTED")
  }
  # read.events reads a queue of several; a malformed one among them is an
  # R error after which the rest are still there
  for (id in c(0x0008, 0x0020, 0x0080)) send.multipart(f$fake, event_message(id, id, "e"))
  send.multipart(f$fake, list(raw(6)))
  send.multipart(f$fake, event_message(0x0400, 0, ""))
  send.multipart(f$fake, event_message(0x0001, 0, "")) # a mark: everything before is queued
  expect_true(readable(m, 5))
  deadline <- Sys.time() + 5
  expect_error(read.events(m), "not a monitor event")
  got <- read.events(m)
  while (!("CONNECTED" %in% got$event) && Sys.time() < deadline) {
    poll.socket(list(m), "read", timeout = 0.5)
    got <- rbind(got, read.events(m))
  }
  expect_identical(got$event, c("MONITOR_STOPPED", "CONNECTED"))
  destroy.context(ctx, linger = 0)
})

test_that("unknown event names are an R error listing the valid ones", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  err <- error_of_call("monitor.socket", list(socket = s, events = c("CONNECTED", "CONNECTING")))
  expect_match(err, "`events` has unknown event \"CONNECTING\"", fixed = TRUE)
  valid <- c("CONNECTED", "CONNECT_DELAYED", "CONNECT_RETRIED", "LISTENING", "BIND_FAILED",
             "ACCEPTED", "ACCEPT_FAILED", "CLOSED", "CLOSE_FAILED", "DISCONNECTED",
             "MONITOR_STOPPED", "HANDSHAKE_FAILED_NO_DETAIL", "HANDSHAKE_SUCCEEDED",
             "HANDSHAKE_FAILED_PROTOCOL", "HANDSHAKE_FAILED_AUTH")
  expect_match(err, paste0("\"all\" or any of ", paste(valid, collapse = ", ")), fixed = TRUE)
  destroy.context(ctx, linger = 0)
})

test_that("a monitor on a closed socket, and bad arguments, are R errors naming the argument", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  closed <- init.socket(ctx, "ZMQ_PAIR")
  destroy.socket(closed)
  expect_error(monitor.socket(closed), "`socket` has been closed", fixed = TRUE)
  for (v in list(NULL, 1, character(0), NA_character_, c("all", NA), list("all"), TRUE)) {
    expect_match(error_of_call("monitor.socket", list(socket = s, events = v)), "`events`",
                 fixed = TRUE, label = sprintf("monitor.socket(events = %s)", deparse1(v)))
  }
  m <- monitor.socket(s)
  for (v in list(NULL, NA, "yes", c(TRUE, FALSE), list(TRUE))) {
    expect_match(error_of_call("receive.event", list(monitor = m, dont.wait = v)), "`dont.wait`",
                 fixed = TRUE, label = sprintf("receive.event(dont.wait = %s)", deparse1(v)))
  }
  # only a monitor's messages are events: an ordinary socket is refused
  # before anything is read from it
  for (f in c("receive.event", "read.events")) {
    expect_error(do.call(f, list(s)), "`monitor` must be a socket made by monitor.socket()",
                 fixed = TRUE)
    expect_error(do.call(f, list(ctx)), "`monitor` must be a zmq socket, not a zmq context",
                 fixed = TRUE)
  }
  destroy.socket(m)
  expect_error(receive.event(m), "`monitor` has been closed", fixed = TRUE)
  expect_error(read.events(m), "`monitor` has been closed", fixed = TRUE)
  destroy.context(ctx, linger = 0)
})
