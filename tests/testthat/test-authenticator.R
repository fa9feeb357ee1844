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
  # alice came first; the three refused clients connect at once, in any order
  expect_identical(log$user[1], "alice")
  expect_true(log$allowed[1])
  i <- 1L + order(log$user[2:4])
  expect_identical(log$user[i], c("alice", "bob", "mallory"))
  expect_identical(log$allowed[i], c(FALSE, FALSE, FALSE))
  expect_identical(log$reason[i], c("wrong password", "wrong password", "unknown user"))
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

# ---- issue 15: lifetime, address lists, empty lists, revocation ----------------

test_that("an authenticator whose handle is collected keeps running as long as its context", {
  ctx <- init.context()
  sk <- curve.keypair(); good <- curve.keypair(); bad <- curve.keypair()
  secure <- function(ctx) {
    init.authenticator(ctx, curve = good$public) # the handle is not kept
    invisible()
  }
  secure(ctx)
  for (i in 1:5) invisible(gc(full = TRUE))
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  set.rcv.timeout(srv$socket, 2000L)
  evil <- curve_client(ctx, sk$public, bad, srv$endpoint, "ZMQ_PUSH")
  send.socket(evil, "unlisted")
  expect_false(readable(srv$socket, 1))
  ok <- curve_client(ctx, sk$public, good, srv$endpoint, "ZMQ_PUSH")
  send.socket(ok, "listed")
  expect_identical(recv_within(srv$socket), "listed")
  expect_error(init.authenticator(ctx), "already has an authenticator")
  destroy.context(ctx, linger = 0)
  # the context's end stopped it: a new context starts a new one
  ctx2 <- init.context()
  auth2 <- init.authenticator(ctx2)
  expect_true(destroy.authenticator(auth2))
  destroy.context(ctx2)
})

# A CURVE PULL server on a dual-stack socket (IPV6 = 1, bound to every
# address): an IPv4 client arrives as ::ffff:127.0.0.1.
dual_stack_server <- function(ctx, keys) {
  s <- init.socket(ctx, "ZMQ_PULL")
  set.rcv.timeout(s, 2000L)
  set.sockopt(s, "IPV6", 1L)
  set.curve.server(s, keys$secret)
  stopifnot(isTRUE(bind.socket(s, "tcp://*:*")))
  port <- sub(".*:", "", get.last.endpoint(s))
  list(socket = s, endpoint = paste0("tcp://127.0.0.1:", port))
}

# Is a fresh CURVE client from 127.0.0.1 let in by an authenticator with
# `...` (and curve = TRUE)? Waits for the decision, then for the message.
admitted_from_loopback <- function(..., dual_stack = TRUE) {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE, ...)
  srv <- if (dual_stack) dual_stack_server(ctx, sk) else curve_server(ctx, sk, "ZMQ_PULL")
  set.rcv.timeout(srv$socket, 2000L)
  cl <- curve_client(ctx, sk$public, curve.keypair(), srv$endpoint, "ZMQ_PUSH")
  send.socket(cl, "hello")
  log <- log_of(auth, 1)
  stopifnot(nrow(log) == 1)
  got <- readable(srv$socket, if (log$allowed) 5 else 0.3)
  if (got) stopifnot(identical(receive.socket(srv$socket), "hello"))
  list(admitted = got, log = log)
}

test_that("allow and deny compare addresses, not text: v4, v4-mapped v6 and CIDR ranges", {
  skip_if_not(zmq.has("curve"))
  # on a dual-stack socket the peer is ::ffff:127.0.0.1; every spelling of it matches
  for (d in c("127.0.0.1", "::ffff:7f00:1", "::ffff:127.0.0.1", "127.0.0.0/8",
              "127.0.0.1/32", "::ffff:127.0.0.0/104", "0.0.0.0/0", "::/0")) {
    r <- admitted_from_loopback(deny = d)
    expect_false(r$admitted, label = paste("deny =", d))
    expect_identical(r$log$reason, "address in the deny list")
  }
  expect_identical(admitted_from_loopback(deny = "127.0.0.1")$log$address, "::ffff:127.0.0.1")
  for (a in c("127.0.0.1", "::ffff:7f00:1", "127.0.0.0/8", "127.0.0.1/32", "0.0.0.0/0")) {
    expect_true(admitted_from_loopback(allow = a)$admitted, label = paste("allow =", a))
  }
  for (a in c("10.0.0.0/8", "fd00::/8", "127.0.0.2", "::1", "128.0.0.0/1")) {
    r <- admitted_from_loopback(allow = a)
    expect_false(r$admitted, label = paste("allow =", a))
    expect_identical(r$log$reason, "address not in the allow list")
  }
  # the other way round: a plain IPv4 socket, a v4-mapped entry
  expect_false(admitted_from_loopback(deny = "::ffff:7f00:1", dual_stack = FALSE)$admitted)
  expect_true(admitted_from_loopback(allow = c("fd00::/8", "::ffff:127.0.0.0/120"),
                                     dual_stack = FALSE)$admitted)
})

test_that("an allow or deny entry that is not an address or a range is an R error naming it", {
  ctx <- init.context()
  on.exit(destroy.context(ctx))
  bad <- c("localhost", "127.0.0.1 ", " 127.0.0.1", "", "1.2.3", "1.2.3.4/", "1.2.3.4/33",
           "fd00::/129", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8/8", "::ffff:1.2.3.4/12a",
           "fe80::1%eth0", "10.0.0.1/8", "fd00::1/8", "256.0.0.1", "1.2.3.4/0x8")
  for (b in bad) {
    expect_error(init.authenticator(ctx, allow = c("10.0.0.0/8", b)),
                 sprintf("`allow[2]` \"%s\"", b), fixed = TRUE, label = b)
    expect_error(init.authenticator(ctx, deny = b), sprintf("`deny[1]` \"%s\"", b),
                 fixed = TRUE, label = b)
  }
  expect_error(init.authenticator(ctx, allow = "10.0.0.1/8"), "bits set past its prefix")
  expect_error(init.authenticator(ctx, allow = NA_character_), "`allow` must not hold NA")
  expect_error(init.authenticator(ctx, deny = 127), "`deny` must be NULL or a character vector")
  auth <- init.authenticator(ctx, allow = c("10.0.0.0/8", "fd00::/8", "127.0.0.1/32", "::1"))
  expect_error(configure.authenticator(auth, deny = c("127.0.0.1", "nope")),
               "`deny[2]` \"nope\" is not an IP address", fixed = TRUE)
  expect_error(configure.authenticator(auth, allow = "1.2.3.4/99"), "`allow[1]`", fixed = TRUE)
  # a failed configure leaves the lists as they were
  expect_true(configure.authenticator(auth, deny = "192.168.0.0/16"))
  destroy.authenticator(auth)
})

test_that("an empty list given on purpose means nobody; only NULL means no check", {
  skip_if_not(zmq.has("curve"))
  r <- admitted_from_loopback(allow = character(0))
  expect_false(r$admitted)
  expect_identical(r$log$reason, "address not in the allow list")
  expect_true(admitted_from_loopback(deny = character(0))$admitted) # nobody denied
  expect_true(admitted_from_loopback(allow = NULL, deny = NULL)$admitted)
  # PLAIN with plain = character(0): no user gets in
  ctx <- init.context()
  auth <- init.authenticator(ctx, plain = character(0))
  srv <- init.socket(ctx, "ZMQ_PULL"); set.plain.server(srv); ep <- bind_tcp(srv)
  cl <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(cl, 2000L)
  set.plain.client(cl, "alice", "wonderland"); connect.socket(cl, ep)
  send.socket(cl, "no")
  expect_identical(log_of(auth, 1)$reason, "unknown user")
  expect_false(readable(srv, 0.3))
  # and configure.authenticator(allow = character(0)) shuts the door
  configure.authenticator(auth, plain = c(alice = "wonderland"), allow = character(0))
  cl2 <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(cl2, 2000L)
  set.plain.client(cl2, "alice", "wonderland"); connect.socket(cl2, ep)
  send.socket(cl2, "no")
  expect_identical(log_of(auth, 2)$reason[2], "address not in the allow list")
  destroy.context(ctx, linger = 0)
})

test_that("duplicate PLAIN users, empty passwords and keys that do not decode are refused at once", {
  ctx <- init.context()
  on.exit(destroy.context(ctx))
  expect_error(init.authenticator(ctx, plain = c(alice = "a", bob = "b", alice = "c")),
               "`plain` names user \"alice\" more than once")
  expect_error(init.authenticator(ctx, plain = c(alice = "")), "`plain[1]` (user \"alice\") has an empty password",
               fixed = TRUE)
  expect_error(init.authenticator(ctx, curve = c(curve.keypair()$public, strrep("#", 40))),
               "`curve[2]`", fixed = TRUE)
  auth <- init.authenticator(ctx, plain = c(alice = "a"))
  expect_error(configure.authenticator(auth, plain = c(bob = "b", bob = "b")), "more than once")
  expect_error(configure.authenticator(auth, plain = c(bob = "b", carol = "")), "`plain[2]`", fixed = TRUE)
  expect_error(configure.authenticator(auth, curve = strrep("#", 40)), "`curve[1]`", fixed = TRUE)
  expect_error(configure.authenticator(auth, curve = TRUE, drop = NA), "`drop`")
  destroy.authenticator(auth)
})

# Every event of `monitor` until one named `name` comes (or `timeout`).
wait_event <- function(monitor, name, timeout = 5) {
  deadline <- Sys.time() + timeout
  seen <- character(0)
  while (Sys.time() < deadline) {
    if (!readable(monitor, as.numeric(deadline - Sys.time(), units = "secs"))) break
    ev <- receive.event(monitor, dont.wait = TRUE)
    if (is.null(ev)) next
    seen <- c(seen, ev$event)
    if (ev$event == name) break
  }
  seen
}

test_that("drop = TRUE: a revoked peer's messages stop at once and its connection closes; allowed peers lose nothing", {
  skip_if_not(zmq.has("curve"))
  ctx <- init.context()
  sk <- curve.keypair(); ka <- curve.keypair(); kb <- curve.keypair()
  auth <- init.authenticator(ctx, curve = c(ka$public, kb$public))
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  set.rcv.timeout(srv$socket, 200L)
  a <- curve_client(ctx, sk$public, ka, srv$endpoint, "ZMQ_PUSH")
  b <- curve_client(ctx, sk$public, kb, srv$endpoint, "ZMQ_PUSH")
  mon_a <- monitor.socket(a); mon_b <- monitor.socket(b)
  set.rcv.timeout(mon_a, 2000L); set.rcv.timeout(mon_b, 2000L)
  send.socket(a, "a0"); send.socket(b, "b0")
  got <- c(recv_within(srv$socket), recv_within(srv$socket))
  expect_setequal(got, c("a0", "b0"))
  # B's next messages are on their way (some queued at the server) when the call comes
  for (i in 1:3) { send.socket(b, paste0("b", i)); send.socket(a, paste0("a", i)) }
  expect_true(readable(srv$socket, 5))
  expect_true(configure.authenticator(auth, curve = ka$public, drop = TRUE))
  set.send.timeout(b, 0L) # B may have no connection to queue on any more
  for (i in 4:6) { send.socket(a, paste0("a", i)); send.socket(b, paste0("b", i)) }
  seen <- character(0)
  deadline <- Sys.time() + 10
  while (!all(paste0("a", 1:6) %in% seen) && Sys.time() < deadline) {
    m <- receive.socket(srv$socket)
    if (!is.null(m)) seen <- c(seen, m)
  }
  expect_setequal(seen, paste0("a", 1:6)) # all of A's, in full, none of B's
  expect_identical(seen, paste0("a", 1:6)) # and in order
  expect_false(readable(srv$socket, 0.5))
  # B's connection is gone, A's is not
  expect_true("DISCONNECTED" %in% wait_event(mon_b, "DISCONNECTED"))
  expect_false("DISCONNECTED" %in% read.events(mon_a)$event)
  send.socket(a, "a7")
  expect_identical(recv_within(srv$socket), "a7")
  log <- authenticator.log(auth)
  dropped <- log[grepl("^revoked", log$reason), ]
  expect_identical(nrow(dropped), 1L)
  expect_identical(dropped$user, kb$public)
  expect_false(dropped$allowed)
  expect_match(dropped$reason, "client key not allowed; connection closed")
  # B's reconnection is refused at the handshake
  expect_true(any(log$user == kb$public & log$reason == "client key not allowed") ||
              any(log_of(auth, nrow(log) + 1)$reason == "client key not allowed"))
  destroy.socket(mon_a); destroy.socket(mon_b)
  destroy.context(ctx, linger = 0)
})

test_that("drop = FALSE (the default) leaves connections as they are; drop = TRUE also revokes by password and address", {
  ctx <- init.context()
  auth <- init.authenticator(ctx, plain = c(alice = "one", bob = "two"))
  srv <- init.socket(ctx, "ZMQ_PULL"); set.plain.server(srv); ep <- bind_tcp(srv)
  set.rcv.timeout(srv, 2000L)
  client <- function(user, pw) {
    s <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(s, 2000L)
    set.plain.client(s, user, pw); connect.socket(s, ep); s
  }
  alice <- client("alice", "one"); bob <- client("bob", "two")
  send.socket(alice, "a0"); send.socket(bob, "b0")
  expect_setequal(c(recv_within(srv), recv_within(srv)), c("a0", "b0"))
  configure.authenticator(auth, plain = c(alice = "one")) # bob removed, not dropped
  send.socket(bob, "b1")
  expect_identical(recv_within(srv), "b1")
  # bob back, alice's password changed: with drop, alice's connection goes
  configure.authenticator(auth, plain = c(alice = "new", bob = "two"), drop = TRUE)
  send.socket(alice, "a2"); send.socket(bob, "b2")
  expect_identical(recv_within(srv), "b2")
  expect_false(readable(srv, 0.5))
  log <- authenticator.log(auth)
  expect_true(any(log$user == "alice" & grepl("^revoked.*password changed", log$reason)))
  # and by address: deny loopback, and everybody from it goes
  configure.authenticator(auth, deny = "127.0.0.0/8", drop = TRUE)
  send.socket(bob, "b3")
  expect_false(readable(srv, 0.5))
  log <- authenticator.log(auth)
  expect_true(any(log$user == "bob" & grepl("^revoked.*deny list", log$reason)))
  destroy.context(ctx, linger = 0)
})

test_that("what held up stays so: no keys or PLAIN against CURVE, prefix and padded passwords are refused", {
  skip_if_not(zmq.has("curve"))
  ctx <- init.context()
  sk <- curve.keypair()
  auth <- init.authenticator(ctx, curve = TRUE, plain = c(alice = "wonderland"))
  srv <- curve_server(ctx, sk, "ZMQ_PULL")
  no_keys <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(no_keys, 2000L)
  connect.socket(no_keys, srv$endpoint)
  send.socket(no_keys, "no security at a curve server")
  plain_to_curve <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(plain_to_curve, 2000L)
  set.plain.client(plain_to_curve, "alice", "wonderland")
  connect.socket(plain_to_curve, srv$endpoint)
  send.socket(plain_to_curve, "plain at a curve server")
  expect_false(readable(srv$socket, 1)) # a mechanism mismatch never reaches ZAP
  psrv <- init.socket(ctx, "ZMQ_PULL"); set.plain.server(psrv); ep <- bind_tcp(psrv)
  clients <- list()
  for (pw in c("w", "wonderlan", "wonderland ", " wonderland", "WONDERLAND", "wonderlandwonderland")) {
    s <- init.socket(ctx, "ZMQ_PUSH"); set.send.timeout(s, 2000L)
    set.plain.client(s, "alice", pw); connect.socket(s, ep)
    send.socket(s, pw)
    clients <- c(clients, list(s))
  }
  log <- log_of(auth, 6)
  expect_identical(log$allowed, rep(FALSE, 6))
  expect_identical(unique(log$reason), "wrong password")
  expect_false(readable(psrv, 0.3))
  destroy.context(ctx, linger = 0)
})

test_that("drop = TRUE under an event loop: watchers and promises get neither a revoked peer's message nor a NULL, and do not hang", {
  skip_if_not(zmq.has("curve"))
  skip_if_not_installed("later", "1.4.0")
  skip_if_not_installed("promises", "1.2.0")
  # a revoked message is queued when the watcher starts; then A's come
  run_case <- function(mode) {
    ctx <- init.context()
    on.exit(destroy.context(ctx, linger = 0))
    sk <- curve.keypair(); ka <- curve.keypair(); kb <- curve.keypair()
    auth <- init.authenticator(ctx, curve = c(ka$public, kb$public))
    srv <- curve_server(ctx, sk, "ZMQ_PULL")
    set.rcv.timeout(srv$socket, 2000L)
    a <- curve_client(ctx, sk$public, ka, srv$endpoint, "ZMQ_PUSH")
    b <- curve_client(ctx, sk$public, kb, srv$endpoint, "ZMQ_PUSH")
    send.socket(b, "b0")
    expect_identical(recv_within(srv$socket), "b0")
    send.socket(b, "b1")
    expect_true(readable(srv$socket, 5)) # b1 waits in the server's queue
    configure.authenticator(auth, curve = ka$public, drop = TRUE)
    loop <- later::create_loop(parent = NULL)
    on.exit(later::destroy_loop(loop), add = TRUE)
    got <- list()
    watcher <- NULL
    later::with_loop(loop, {
      if (mode == "promise") {
        p <- receive.promise(srv$socket, timeout = 10)
        promises::then(p, function(v) got <<- c(got, list(v)),
                       function(e) got <<- c(got, list(e)))
      } else {
        watcher <- on.message(srv$socket, function(m) got <<- c(got, list(m)),
                              multipart = mode == "multipart")
      }
    })
    # the watcher has looked at the queue (b1) before A sends
    deadline <- Sys.time() + 0.3
    while (Sys.time() < deadline) later::run_now(0.05, loop = loop)
    expect_identical(got, list())
    send.socket(a, "a1")
    deadline <- Sys.time() + 10
    while (length(got) == 0L && Sys.time() < deadline) later::run_now(0.05, loop = loop)
    expected <- if (mode == "multipart") list(list(serialize("a1", NULL, xdr = FALSE))) else list("a1")
    expect_identical(got, expected, label = mode)
    if (mode != "promise") cancel.on.message(watcher)
  }
  for (mode in c("single", "multipart", "promise")) run_case(mode)
})

test_that("a collected context does not wait for its authenticator's thread, which still ends", {
  skip_if_not(dir.exists("/proc/self/task"), "counts threads in /proc/self/task")
  proc <- child_r(function() {
    library(rzmq)
    threads <- function() length(list.files("/proc/self/task"))
    base <- threads()
    gcs <- numeric(0)
    for (order in c("context first", "authenticator first")) {
      box <- new.env()
      box$ctx <- init.context()
      box$auth <- init.authenticator(box$ctx, curve = TRUE)
      box$s <- init.socket(box$ctx, "ZMQ_PULL")
      set.linger(box$s, 0L)
      bind.socket(box$s, "tcp://127.0.0.1:*")
      if (order == "authenticator first") {
        rm("auth", envir = box)
        invisible(gc())
      }
      rm(list = ls(box), envir = box)
      t0 <- proc.time()[["elapsed"]]
      invisible(gc())
      gcs <- c(gcs, proc.time()[["elapsed"]] - t0)
    }
    deadline <- Sys.time() + 10
    while (threads() > base && Sys.time() < deadline) {
      invisible(gc())
      Sys.sleep(0.02) # polling a count: there is no event to wait for
    }
    list(base = base, left = threads(), gcs = gcs)
  })
  child_wait(proc, 30)
  r <- proc$get_result()
  expect_true(all(r$gcs < 0.2))
  expect_identical(r$left, r$base)
})

test_that("under rzmq.errors = \"condition\" an authenticator that cannot start is classed with its errno", {
  old <- options(rzmq.errors = "condition")
  on.exit(options(old))
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0), add = TRUE)
  zap <- init.socket(ctx, "ZMQ_REP") # another ZAP handler
  expect_true(bind.socket(zap, "inproc://zeromq.zap.01"))
  e <- tryCatch(init.authenticator(ctx), error = identity)
  expect_identical(class(e), c("rzmq_EADDRINUSE", "rzmq_error", "error", "condition"))
  expect_identical(e$errno, zmq.errno())
  expect_identical(deparse(conditionCall(e)), "init.authenticator(ctx)")
  expect_match(conditionMessage(e), "another ZAP handler is bound to inproc://zeromq.zap.01", fixed = TRUE)

  full <- init.context()
  on.exit(destroy.context(full), add = TRUE)
  set.ctxopt(full, "ZMQ_MAX_SOCKETS", 1L) # no room for its sockets
  e <- tryCatch(init.authenticator(full), error = identity)
  expect_identical(class(e), c("rzmq_EMFILE", "rzmq_error", "error", "condition"))
  expect_identical(e$errno, 24L)
  expect_identical(deparse(conditionCall(e)), "init.authenticator(full)")
  expect_match(conditionMessage(e), "^cannot start an authenticator: ")
  # nothing was left attached: not a second authenticator (an R error)
  expect_error(init.authenticator(full), class = "rzmq_EMFILE")
})
