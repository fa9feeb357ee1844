# The authenticator: a ZAP handler on its own thread that decides which
# CURVE keys, PLAIN users and addresses may connect, changes its lists while
# it runs, logs its decisions, and ends with its context (gc, exit) without
# hanging. Refused peers get nothing through: the server sees nothing.

# A CURVE server socket (REP unless `type`) on `ctx`, bound to loopback tcp.
curve_server <- function(ctx, keys, type = "ZMQ_REP") {
  s <- init.socket(ctx, type)
  set.curve.server(s, keys$secret)
  list(socket = s, endpoint = bind_tcp(s))
}

# A refused client loses its connection, and a send once it is gone waits
# for one that never comes: clients here give up sending after 2 s.
curve_client <- function(ctx, server_public, keys, endpoint, type = "ZMQ_REQ") {
  s <- init.socket(ctx, type)
  set.send.timeout(s, 2000L)
  set.curve.client(s, server_public, keys)
  connect.socket(s, endpoint)
  s
}

# Wait until the authenticator has logged `n` decisions (handshakes run on
# libzmq's threads); the log so far.
log_of <- function(auth, n, timeout = 5) {
  deadline <- Sys.time() + timeout
  repeat {
    log <- authenticator.log(auth)
    if (nrow(log) >= n || Sys.time() > deadline) return(log)
    Sys.sleep(0.01) # polling the log: no event to wait on
  }
}

test_that("an allowed key round-trips; a key not in `curve` gets no reply and the log says why", {
  ctx <- init.context()
  sk <- curve.keypair(); good <- curve.keypair(); bad <- curve.keypair()
  auth <- init.authenticator(ctx, curve = good$public)
  srv <- curve_server(ctx, sk)
  ok <- curve_client(ctx, sk$public, good, srv$endpoint)
  send.socket(ok, list(task = 1))
  expect_identical(recv_within(srv$socket), list(task = 1))
  send.socket(srv$socket, "done")
  expect_identical(recv_within(ok), "done")
  evil <- curve_client(ctx, sk$public, bad, srv$endpoint)
  send.socket(evil, list(task = "rm -rf"))
  expect_false(readable(srv$socket, 1)) # the server sees nothing
  expect_false(readable(evil, 0.2))     # and the client gets no reply
  log <- log_of(auth, 2)
  expect_named(log, c("time", "mechanism", "address", "user", "allowed", "reason"))
  expect_s3_class(log$time, "POSIXct")
  expect_identical(log$mechanism, c("CURVE", "CURVE"))
  expect_identical(log$address, c("127.0.0.1", "127.0.0.1"))
  expect_identical(log$user, c(good$public, bad$public))
  expect_identical(log$allowed, c(TRUE, FALSE))
  expect_identical(log$reason[2], "client key not allowed")
  expect_true(all(abs(as.numeric(Sys.time()) - as.numeric(log$time)) < 60))
  destroy.context(ctx, linger = 0)
})

test_that("curve = TRUE accepts any key (encryption only); curve = NULL refuses every CURVE client", {
  ctx <- init.context()
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE)
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  for (i in 1:3) {
    cl <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
    send.socket(cl, i)
    expect_identical(recv_within(srv$socket), i)
  }
  expect_identical(log_of(auth, 3)$allowed, rep(TRUE, 3))
  configure.authenticator(auth, curve = NULL)
  cl <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl, "no")
  expect_false(readable(srv$socket, 1))
  log <- log_of(auth, 4)
  expect_identical(log$allowed[4], FALSE)
  expect_match(log$reason[4], "CURVE is not configured")
  destroy.context(ctx, linger = 0)
})

test_that("deny and allow work by IP address", {
  ctx <- init.context()
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE, deny = "127.0.0.1")
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  cl <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl, "denied")
  expect_false(readable(srv$socket, 1))
  expect_identical(log_of(auth, 1)$reason, "address in the deny list")
  # an allow list without this address refuses it; with it, lets it in
  configure.authenticator(auth, allow = "10.9.8.7", deny = NULL)
  cl2 <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl2, "not allowed")
  expect_false(readable(srv$socket, 1))
  expect_identical(log_of(auth, 2)$reason[2], "address not in the allow list")
  configure.authenticator(auth, allow = c("10.9.8.7", "127.0.0.1"))
  cl3 <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl3, "allowed")
  expect_identical(recv_within(srv$socket), "allowed")
  # allow takes precedence over deny, as its name says
  configure.authenticator(auth, deny = "127.0.0.1")
  cl4 <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl4, "still allowed")
  expect_identical(recv_within(srv$socket), "still allowed")
  destroy.context(ctx, linger = 0)
})

test_that("PLAIN: the right password gets in; a wrong one or an unknown user is refused", {
  ctx <- init.context()
  auth <- init.authenticator(ctx, plain = c(alice = "wonderland", bob = "builder"))
  srv <- init.socket(ctx, "ZMQ_PULL")
  set.plain.server(srv)
  ep <- bind_tcp(srv)
  push <- function(user, pw) {
    s <- init.socket(ctx, "ZMQ_PUSH")
    set.send.timeout(s, 2000L)
    set.plain.client(s, user, pw)
    connect.socket(s, ep)
    send.socket(s, paste(user, pw))
    s
  }
  # every client stays referenced until destroy.context(linger = 0): one
  # collected earlier would be closed with its (infinite) linger
  clients <- list(push("alice", "wonderland"))
  expect_identical(recv_within(srv), "alice wonderland")
  clients <- c(clients, push("bob", "wrong"), push("mallory", "builder"),
               push("alice", "wonderland\u00e9")) # longer than the real one
  expect_false(readable(srv, 1))
  log <- log_of(auth, 4)
  expect_identical(log$mechanism, rep("PLAIN", 4))
  expect_identical(log$user, c("alice", "bob", "mallory", "alice"))
  expect_identical(log$allowed, c(TRUE, FALSE, FALSE, FALSE))
  expect_identical(log$reason[2:4], c("wrong password", "unknown user", "wrong password"))
  destroy.context(ctx, linger = 0)
})

test_that("configure.authenticator() changes only the lists it is given", {
  ctx <- init.context()
  sk <- curve.keypair(); k1 <- curve.keypair(); k2 <- curve.keypair()
  auth <- init.authenticator(ctx, curve = k1$public, plain = c(u = "p"))
  expect_identical(withVisible(configure.authenticator(auth, curve = c(k1$public, k2$public))),
                   list(value = TRUE, visible = FALSE))
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  for (k in list(k1, k2)) {
    cl <- curve_client(ctx, sk$public, k, srv$endpoint, "ZMQ_PUSH")
    send.socket(cl, k$public)
    expect_identical(recv_within(srv$socket), k$public)
  }
  # plain was kept
  psrv <- init.socket(ctx, "ZMQ_PULL"); set.plain.server(psrv); ep <- bind_tcp(psrv)
  pcl <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(pcl, 2000L)
  set.plain.client(pcl, "u", "p"); connect.socket(pcl, ep)
  send.socket(pcl, "plain kept")
  expect_identical(recv_within(psrv), "plain kept")
  destroy.context(ctx, linger = 0)
})

test_that("a ZAP domain: the authenticator serves only sockets of its domain", {
  ctx <- init.context()
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE, domain = "workers")
  mine <- init.socket(ctx, "ZMQ_PULL")
  set.sockopt(mine, "ZAP_DOMAIN", "workers")
  set.curve.server(mine, sk$secret)
  ep1 <- bind_tcp(mine)
  other <- init.socket(ctx, "ZMQ_PULL")
  set.sockopt(other, "ZAP_DOMAIN", "other")
  set.curve.server(other, sk$secret)
  ep2 <- bind_tcp(other)
  c1 <- curve_client(ctx, sk$public, curve.keypair(), ep1, "ZMQ_PUSH")
  c2 <- curve_client(ctx, sk$public, curve.keypair(), ep2, "ZMQ_PUSH")
  send.socket(c1, "in domain"); send.socket(c2, "other domain")
  expect_identical(recv_within(mine), "in domain")
  expect_false(readable(other, 1))
  log <- log_of(auth, 2)
  expect_true("domain \"other\" is not served" %in% log$reason)
  destroy.context(ctx, linger = 0)
})

test_that("destroy.authenticator() stops it: twice is harmless, its log stays readable", {
  ctx <- init.context()
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE)
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  cl <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl, 1)
  expect_identical(recv_within(srv$socket), 1)
  expect_identical(withVisible(destroy.authenticator(auth)), list(value = TRUE, visible = FALSE))
  expect_true(destroy.authenticator(auth))
  expect_identical(nrow(authenticator.log(auth)), 1L)
  expect_error(configure.authenticator(auth, curve = NULL), "`auth` has been destroyed")
  # a new one may start on the same context
  auth2 <- init.authenticator(ctx, curve = NULL)
  cl2 <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl2, 2)
  expect_false(readable(srv$socket, 1))
  expect_identical(log_of(auth2, 1)$allowed, FALSE)
  destroy.context(ctx, linger = 0)
  # the context took its authenticator down with it
  expect_error(configure.authenticator(auth2, curve = TRUE), "`auth` has been destroyed")
})

test_that("two authenticators on one context, or one on a destroyed context, are R errors", {
  ctx <- init.context()
  auth <- init.authenticator(ctx)
  expect_error(init.authenticator(ctx), "`context` already has an authenticator")
  dead <- init.context()
  destroy.context(dead)
  expect_error(init.authenticator(dead), "`context` has been destroyed")
  destroy.context(ctx)
})

test_that("handshakes are answered while R is busy (the handler does not need R's thread)", {
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    sk <- curve.keypair(); ck <- curve.keypair()
    auth <- init.authenticator(ctx, curve = ck$public)
    srv <- init.socket(ctx, "ZMQ_PULL")
    set.curve.server(srv, sk$secret)
    bind.socket(srv, "tcp://127.0.0.1:*")
    cl <- init.socket(ctx, "ZMQ_PUSH")
    set.curve.client(cl, sk$public, ck)
    connect.socket(cl, get.last.endpoint(srv))
    send.socket(cl, "while busy")
    busy_from <- Sys.time()
    while (Sys.time() - busy_from < 2) NULL # R computes; no rzmq call
    busy_to <- Sys.time()
    log <- authenticator.log(auth)
    got <- receive.socket(srv)
    list(log = log, busy_from = busy_from, busy_to = busy_to, got = got)
  })
  child_wait(proc, 30)
  r <- proc$get_result()
  expect_identical(r$got, "while busy")
  expect_identical(nrow(r$log), 1L)
  expect_true(r$log$allowed)
  # decided during the busy loop, not after it
  expect_lt(as.numeric(r$log$time), as.numeric(r$busy_to))
})

test_that("gc() and exit with a running authenticator neither hang nor crash", {
  proc <- child_r(function() {
    library(rzmq)
    t0 <- Sys.time()
    for (i in 1:20) {
      ctx <- init.context()
      auth <- init.authenticator(ctx, curve = TRUE)
      s <- init.socket(ctx, "ZMQ_PULL")
      set.curve.server(s, curve.keypair()$secret)
      bind.socket(s, "tcp://127.0.0.1:*")
      rm(ctx, auth, s)
      invisible(gc())
    }
    ctx <- init.context()
    auth <- init.authenticator(ctx, curve = TRUE) # left running at exit
    as.numeric(Sys.time() - t0, units = "secs")
  })
  child_wait(proc, 30)
  expect_identical(proc$get_exit_status(), 0L)
  expect_lt(proc$get_result(), 20)
})

test_that("sockets without encryption but with a ZAP domain are filtered by address", {
  ctx <- init.context()
  auth <- init.authenticator(ctx, deny = "127.0.0.1")
  srv <- init.socket(ctx, "ZMQ_PULL")
  set.sockopt(srv, "ZAP_DOMAIN", "global")
  ep <- bind_tcp(srv)
  cl <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(cl, 2000L)
  connect.socket(cl, ep)
  send.socket(cl, "denied")
  expect_false(readable(srv, 1))
  configure.authenticator(auth, deny = NULL)
  cl2 <- init.socket(ctx, "ZMQ_PUSH")
  connect.socket(cl2, ep)
  send.socket(cl2, "let in")
  expect_identical(recv_within(srv), "let in")
  log <- log_of(auth, 2)
  expect_identical(log$mechanism, c("NULL", "NULL"))
  expect_identical(log$allowed, c(FALSE, TRUE))
  destroy.context(ctx, linger = 0)
})
