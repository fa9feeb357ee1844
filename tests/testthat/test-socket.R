# Sockets: types, bind/connect/unbind/disconnect, failures reported as FALSE
# plus a message, endpoints handed to libzmq untouched, close.

socket_type_numbers <- c(
  ZMQ_PAIR = 0L, ZMQ_PUB = 1L, ZMQ_SUB = 2L, ZMQ_REQ = 3L, ZMQ_REP = 4L,
  ZMQ_DEALER = 5L, ZMQ_ROUTER = 6L, ZMQ_PULL = 7L, ZMQ_PUSH = 8L,
  ZMQ_XPUB = 9L, ZMQ_XSUB = 10L, ZMQ_STREAM = 11L,
  ZMQ_XREQ = 5L, ZMQ_XREP = 6L
)

test_that("every socket type name makes a socket of the right libzmq type", {
  ctx <- init.context()
  for (type in names(socket_type_numbers)) {
    s <- init.socket(ctx, type)
    expect_identical(typeof(s), "externalptr")
    expect_identical(get.sockopt(s, "TYPE"), socket_type_numbers[[type]], label = type)
  }
})

test_that("short and lower-case socket type names work", {
  ctx <- init.context()
  expect_identical(get.sockopt(init.socket(ctx, "REQ"), "TYPE"), 3L)
  expect_identical(get.sockopt(init.socket(ctx, "req"), "TYPE"), 3L)
  expect_identical(get.sockopt(init.socket(ctx, "zmq_rep"), "TYPE"), 4L)
  expect_identical(get.sockopt(init.socket(ctx, "Dealer"), "TYPE"), 5L)
  expect_identical(get.sockopt(init.socket(ctx, "xrep"), "TYPE"), 6L)
})

test_that("an unknown socket type is an R error naming socket.type", {
  ctx <- init.context()
  expect_error(init.socket(ctx, "ZMQ_NOPE"), "`socket.type` \"ZMQ_NOPE\" is not a zmq socket type")
  expect_error(init.socket(ctx, "ZMQ_"), "`socket.type`")
  expect_error(init.socket(ctx, ""), "`socket.type`")
  expect_error(init.socket(ctx, NA_character_), "`socket.type`")
  expect_error(init.socket(ctx, 3L), "`socket.type`")
  expect_error(init.socket(ctx, c("ZMQ_REQ", "ZMQ_REP")), "`socket.type`")
})

test_that("bind.socket() and connect.socket() return TRUE invisibly", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  b <- init.socket(ctx, "ZMQ_PUSH")
  ep <- inproc()
  expect_identical(withVisible(bind.socket(a, ep)), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(connect.socket(b, ep)), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(bind.socket(a, "tcp://127.0.0.1:*")),
                   list(value = TRUE, visible = FALSE))
  expect_match(get.last.endpoint(a), "^tcp://127\\.0\\.0\\.1:[0-9]+$")
  expect_true(send.socket(b, "hi"))
  expect_identical(receive.socket(a), "hi")
})

test_that("binding an address in use returns FALSE invisibly with libzmq's message", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  ep <- bind_tcp(a)
  b <- init.socket(ctx, "ZMQ_PULL")
  expect_message(res <- withVisible(bind.socket(b, ep)), "^Address already in use")
  expect_identical(res, list(value = FALSE, visible = FALSE))
  expect_identical(zmq.errno(), 98L)
  expect_identical(zmq.strerror(), "Address already in use")
  # the error text goes to the message stream, where capture.output sees it
  out <- capture.output(bind.socket(b, ep), type = "message")
  expect_identical(out, "Address already in use")
})

test_that("suppressMessages() hides a failed bind", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  ep <- bind_tcp(a)
  b <- init.socket(ctx, "ZMQ_PULL")
  expect_silent(res <- suppressMessages(bind.socket(b, ep)))
  expect_false(res)
  expect_identical(zmq.errno(), 98L)
})

test_that("the free-port search loop finds a free port past a taken one", {
  ctx <- init.context()
  taken <- init.socket(ctx, "ZMQ_PULL")
  port <- as.integer(sub(".*:", "", bind_tcp(taken)))
  s <- init.socket(ctx, "ZMQ_PULL")
  p <- port
  tries <- 0L
  ok <- FALSE
  expect_silent({
    while (!ok && tries < 100L) {
      tries <- tries + 1L
      ok <- suppressMessages(bind.socket(s, sprintf("tcp://127.0.0.1:%d", p)))
      if (!ok) p <- if (p >= 65535L) 1025L else p + 1L
    }
  })
  expect_true(ok)
  expect_gt(tries, 1L) # the first candidate was the taken port
  expect_false(p == port)
  expect_identical(get.last.endpoint(s), sprintf("tcp://127.0.0.1:%d", p))
  push <- init.socket(ctx, "ZMQ_PUSH")
  set.linger(push, 0L)
  set.send.timeout(push, 5000L)
  expect_true(connect.socket(push, sprintf("tcp://127.0.0.1:%d", p)))
  expect_true(send.socket(push, "found"))
  expect_true(readable(s))
  expect_identical(receive.socket(s), "found")
})

test_that("endpoints are passed to libzmq untouched", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  expect_true(bind.socket(a, "tcp://*:*"))
  ep <- get.last.endpoint(a)
  expect_match(ep, "^tcp://0\\.0\\.0\\.0:[0-9]+$")
  port <- sub(".*:", "", ep)
  b <- init.socket(ctx, "ZMQ_PUSH")
  set.linger(b, 0L)
  set.send.timeout(b, 5000L)
  expect_true(connect.socket(b, paste0("tcp://127.0.0.1:", port)))
  expect_true(send.socket(b, "to the wildcard"))
  expect_true(readable(a))
  expect_identical(receive.socket(a), "to the wildcard")
  # libzmq's bind parses "tcp://*: 41932" (a space before the port): the
  # port taken by `a` is found, so the bind fails with EADDRINUSE, not EINVAL
  c <- init.socket(ctx, "ZMQ_PULL")
  expect_message(res <- bind.socket(c, paste0("tcp://*: ", port)), "Address already in use")
  expect_false(res)
  expect_identical(zmq.errno(), 98L)
})

test_that("connecting to an invalid endpoint returns FALSE with a message", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  expect_message(res <- withVisible(connect.socket(s, "nonsense://x")),
                 "Protocol not supported")
  expect_identical(res, list(value = FALSE, visible = FALSE))
  expect_identical(zmq.errno(), 93L)
  expect_message(res <- connect.socket(s, "tcp://127.0.0.1"), "Invalid argument")
  expect_false(res)
  expect_identical(zmq.errno(), 22L)
  expect_identical(zmq.strerror(), "Invalid argument")
})

test_that("an empty or non-string address is an R error naming address", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  expect_error(bind.socket(s, ""), "`address`")
  expect_error(connect.socket(s, NA_character_), "`address`")
  expect_error(connect.socket(s, 5557), "`address`")
  expect_error(disconnect.socket(s, c("inproc://a", "inproc://b")), "`address`")
  expect_error(unbind.socket(s, NULL), "`address`")
})

test_that("disconnect.socket() undoes a connect", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  ep <- inproc()
  expect_true(bind.socket(a, ep))
  b <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(b, 5000L)
  expect_true(connect.socket(b, ep))
  expect_true(send.socket(b, 1))
  expect_identical(receive.socket(a), 1)
  expect_identical(withVisible(disconnect.socket(b, ep)), list(value = TRUE, visible = FALSE))
  # no peer any more: a send with a short timeout cannot be queued
  set.send.timeout(b, 50L)
  expect_false(send.socket(b, 2))
  # disconnecting what is not connected: FALSE and ENOENT
  expect_message(res <- disconnect.socket(b, ep), "No such file or directory")
  expect_false(res)
  expect_identical(zmq.errno(), 2L)
})

test_that("unbind.socket() stops listening on an endpoint", {
  ctx <- init.context()
  ep <- inproc()
  a <- init.socket(ctx, "ZMQ_PULL")
  expect_true(bind.socket(a, ep))
  expect_true(unbind.socket(a, ep))
  # the name is free again: another socket can bind it
  b <- init.socket(ctx, "ZMQ_PULL")
  expect_true(bind.socket(b, ep))
  # unbinding what is not bound: FALSE and ENOENT
  expect_message(res <- unbind.socket(a, ep), "No such file or directory")
  expect_false(res)
  expect_identical(zmq.errno(), 2L)
  # a wildcard tcp bind is unbound by its resolved endpoint
  tcp <- bind_tcp(a)
  expect_true(unbind.socket(a, tcp))
  expect_false(suppressMessages(unbind.socket(a, tcp)))
})

test_that("destroy.socket() twice is harmless; a closed socket is an R error", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  expect_identical(withVisible(destroy.socket(s)), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(destroy.socket(s)), list(value = TRUE, visible = FALSE))
  expect_error(bind.socket(s, inproc()), "`socket` has been closed")
  expect_error(send.socket(s, 1), "`socket` has been closed")
  expect_error(receive.socket(s, dont.wait = TRUE), "`socket` has been closed")
  expect_error(get.rcvmore(s), "`socket` has been closed")
  expect_error(poll.socket(list(s), list("read")), "has been closed")
  # the context is still usable
  t <- init.socket(ctx, "ZMQ_PAIR")
  expect_true(bind.socket(t, inproc()))
})

test_that("socket.endpoints() lists binds (resolved) and connects, in order, until undone", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_PULL")
  none <- socket.endpoints(s)
  expect_s3_class(none, "data.frame")
  expect_identical(names(none), c("endpoint", "mode"))
  expect_identical(nrow(none), 0L)
  expect_identical(none$endpoint, character(0))

  ep_in <- inproc()
  expect_true(bind.socket(s, ep_in))
  expect_true(bind.socket(s, "tcp://127.0.0.1:*"))
  tcp <- get.last.endpoint(s)
  expect_match(tcp, "^tcp://127\\.0\\.0\\.1:[0-9]+$")
  expect_true(connect.socket(s, inproc("nobody")))  # a connect: no peer needed
  e <- socket.endpoints(s)
  expect_identical(e$mode, c("bind", "bind", "connect"))
  expect_identical(e$endpoint[1:2], c(ep_in, tcp))
  expect_match(e$endpoint[3], "^inproc://nobody-")
  expect_identical(row.names(e), c("1", "2", "3"))

  # the wildcard text is not an endpoint libzmq knows: FALSE, the row stays
  expect_false(suppressMessages(unbind.socket(s, "tcp://127.0.0.1:*")))
  expect_identical(socket.endpoints(s)$endpoint[2], tcp)
  # the resolved endpoint, as listed, unbinds it
  expect_true(unbind.socket(s, tcp))
  expect_identical(socket.endpoints(s)$mode, c("bind", "connect"))
  expect_true(disconnect.socket(s, e$endpoint[3]))
  expect_identical(socket.endpoints(s),
                   data.frame(endpoint = ep_in, mode = "bind", stringsAsFactors = FALSE))
  # a failed bind adds nothing, a failed unbind removes nothing
  other <- init.socket(ctx, "ZMQ_PULL")
  expect_false(suppressMessages(bind.socket(other, ep_in))) # in use
  expect_identical(nrow(socket.endpoints(other)), 0L)
  expect_false(suppressMessages(unbind.socket(s, inproc())))
  expect_identical(socket.endpoints(s)$endpoint, ep_in)
  expect_true(unbind.socket(s, ep_in))
  expect_identical(nrow(socket.endpoints(s)), 0L)
})

test_that("socket.endpoints() follows libzmq: one disconnect ends repeated connects; another name of a tcp address", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  srv <- init.socket(ctx, "ZMQ_PULL")
  tcp <- bind_tcp(srv)
  port <- sub(".*:", "", tcp)
  cl <- init.socket(ctx, "ZMQ_PUSH")
  expect_true(connect.socket(cl, tcp))
  expect_true(connect.socket(cl, tcp))
  ipc_like <- inproc() # an inproc name nobody has bound yet
  expect_true(connect.socket(cl, ipc_like))
  expect_identical(socket.endpoints(cl)$endpoint, c(tcp, tcp, ipc_like))
  expect_identical(socket.endpoints(cl)$mode, rep("connect", 3))
  expect_true(disconnect.socket(cl, tcp))
  expect_identical(socket.endpoints(cl)$endpoint, ipc_like)
  expect_false(suppressMessages(disconnect.socket(cl, tcp)))
  # connected as 127.0.0.1, disconnected as localhost: libzmq resolves it
  expect_true(connect.socket(cl, tcp))
  local <- paste0("tcp://localhost:", port)
  expect_true(disconnect.socket(cl, local))
  expect_identical(socket.endpoints(cl)$endpoint, ipc_like)
  # connected as localhost: shown as given, ended by the same text
  expect_true(connect.socket(cl, local))
  expect_identical(socket.endpoints(cl)$endpoint, c(ipc_like, local))
  expect_true(disconnect.socket(cl, local))
  expect_identical(socket.endpoints(cl)$endpoint, ipc_like)
})

test_that("socket.endpoints() of a closed socket is an R error; bad sockets are named", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  expect_true(bind.socket(s, inproc()))
  destroy.socket(s)
  expect_error(socket.endpoints(s), "`socket` has been closed")
  t <- init.socket(ctx, "ZMQ_PAIR")
  expect_true(bind.socket(t, inproc()))
  destroy.context(ctx)
  expect_error(socket.endpoints(t), "`socket` has been closed")
  expect_error(socket.endpoints(ctx), "`socket` must be a zmq socket, not a zmq context")
  expect_error(socket.endpoints("tcp://127.0.0.1:5555"), "`socket` must be a zmq socket")
})

test_that("unbinding or disconnecting an endpoint that is not there names it", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_PULL")
  ep <- inproc()
  expect_message(res <- unbind.socket(s, ep),
                 sprintf("`address` \"%s\" is not bound on this socket", ep), fixed = TRUE)
  expect_false(res)
  expect_identical(zmq.errno(), 2L)
  expect_message(res <- disconnect.socket(s, "tcp://127.0.0.1:1"),
                 "`address` \"tcp://127.0.0.1:1\" is not connected on this socket", fixed = TRUE)
  expect_false(res)
  # under options(rzmq.errors = "condition"): an rzmq_ENOENT with that text
  old <- options(rzmq.errors = "condition")
  on.exit(options(old), add = TRUE)
  e <- tryCatch(unbind.socket(s, ep), rzmq_ENOENT = function(e) e)
  expect_s3_class(e, "rzmq_ENOENT")
  expect_match(conditionMessage(e), ep, fixed = TRUE)
  expect_identical(e$errno, 2L)
})

test_that("under rzmq.errors = \"condition\" a socket libzmq cannot make is rzmq_EMFILE", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  set.ctxopt(ctx, "ZMQ_MAX_SOCKETS", 1L)
  first <- init.socket(ctx, "ZMQ_PAIR")
  old <- options(rzmq.errors = "condition")
  on.exit(options(old), add = TRUE)
  e <- tryCatch(init.socket(ctx, "ZMQ_PUSH"), error = identity)
  expect_identical(class(e), c("rzmq_EMFILE", "rzmq_error", "error", "condition"))
  expect_identical(e$errno, 24L)
  expect_identical(zmq.errno(), 24L)
  expect_identical(deparse(conditionCall(e)), "init.socket(ctx, \"ZMQ_PUSH\")")
  expect_identical(conditionMessage(e), paste0("cannot create a ZMQ_PUSH socket: ", zmq.strerror()))
  options(old)
  expect_error(init.socket(ctx, "ZMQ_PUSH"), "^cannot create a ZMQ_PUSH socket: ")
  # the failed one holds nothing: closing the first makes room
  expect_true(destroy.socket(first))
  invisible(gc())
  expect_false(is.closed(init.socket(ctx, "ZMQ_PUSH")))
})
