# Socket options: every setter and getter of the manual, read back through
# get.sockopt(); the generic set.sockopt()/get.sockopt()/sockopt.names();
# values and options libzmq refuses (router-only options on other sockets).

# setter, the libzmq option it sets, and a non-default value to set
manual_setters <- list(
  list(fun = "set.affinity", option = "AFFINITY", value = 3),
  list(fun = "set.rate", option = "RATE", value = 200),
  list(fun = "set.recovery.ivl", option = "RECOVERY_IVL", value = 2000),
  list(fun = "set.recovery.ivl.msec", option = "RECOVERY_IVL", value = 3000),
  list(fun = "set.sndbuf", option = "SNDBUF", value = 65536),
  list(fun = "set.rcvbuf", option = "RCVBUF", value = 131072),
  list(fun = "set.linger", option = "LINGER", value = 250),
  list(fun = "set.reconnect.ivl", option = "RECONNECT_IVL", value = 150),
  list(fun = "set.zmq.backlog", option = "BACKLOG", value = 50),
  list(fun = "set.reconnect.ivl.max", option = "RECONNECT_IVL_MAX", value = 5000),
  list(fun = "set.send.timeout", option = "SNDTIMEO", value = 1234),
  list(fun = "set.rcv.timeout", option = "RCVTIMEO", value = 4321)
)

test_that("every numeric setter of the manual returns TRUE visibly and reads back", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER") # not multicast: RATE etc. still work
  for (st in manual_setters) {
    setter <- getExportedValue("rzmq", st$fun)
    res <- withVisible(setter(s, st$value))
    expect_identical(res, list(value = TRUE, visible = TRUE), label = st$fun)
    got <- get.sockopt(s, st$option)
    expect_equal(got, st$value, label = paste(st$fun, "->", st$option))
    # an integer is accepted as well, and replaces the value
    expect_true(setter(s, as.integer(st$value) + 1L), label = st$fun)
    expect_equal(get.sockopt(s, st$option), st$value + 1, label = st$fun)
  }
  # the integer options come back as R integers, AFFINITY (uint64) as a double
  expect_identical(get.sockopt(s, "LINGER"), 251L)
  expect_identical(get.sockopt(s, "AFFINITY"), 4)
})

test_that("set.hwm() sets both the send and the receive high-water mark", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  expect_identical(get.sockopt(s, "SNDHWM"), 1000L)
  expect_identical(withVisible(set.hwm(s, 500)), list(value = TRUE, visible = TRUE))
  expect_identical(get.sockopt(s, "SNDHWM"), 500L)
  expect_identical(get.sockopt(s, "RCVHWM"), 500L)
  expect_true(set.hwm(s, 7L))
  expect_identical(get.sockopt(s, "SNDHWM"), 7L)
  expect_identical(get.sockopt(s, "RCVHWM"), 7L)
})

test_that("set.hwm() limits what a socket queues", {
  ctx <- init.context()
  push <- init.socket(ctx, "ZMQ_PUSH")
  pull <- init.socket(ctx, "ZMQ_PULL")
  set.hwm(push, 2L)
  set.hwm(pull, 2L)
  set.linger(push, 0L)
  ep <- inproc()
  expect_true(bind.socket(pull, ep))
  expect_true(connect.socket(push, ep))
  set.send.timeout(push, 0L)
  sent <- 0L
  while (sent < 100L && isTRUE(send.socket(push, sent))) sent <- sent + 1L
  # inproc pipes hold SNDHWM + RCVHWM messages, never the 100 we offered
  expect_gte(sent, 2L)
  expect_lte(sent, 4L)
  expect_identical(zmq.errno(), 11L)
})

test_that("set.identity() accepts a string or a raw vector; IDENTITY reads raw", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  expect_identical(get.sockopt(s, "IDENTITY"), raw(0))
  expect_identical(withVisible(set.identity(s, "worker-1")), list(value = TRUE, visible = TRUE))
  expect_identical(get.sockopt(s, "IDENTITY"), charToRaw("worker-1"))
  expect_identical(get.sockopt(s, "ROUTING_ID"), charToRaw("worker-1"))
  id <- as.raw(c(0, 1, 2, 255, 0))
  expect_true(set.identity(s, id))
  expect_identical(get.sockopt(s, "IDENTITY"), id)
  # libzmq wants 1 to 255 bytes: an empty identity is rejected by libzmq
  expect_message(res <- set.identity(s, raw(0)), "Invalid argument")
  expect_false(res)
  expect_identical(zmq.errno(), 22L)
  expect_error(set.identity(s, 1), "`option.value`")
  expect_error(set.identity(s, c("a", "b")), "`option.value`")
  expect_error(set.identity(s, NA_character_), "`option.value`")
})

test_that("subscribe() returns TRUE invisibly, unsubscribe() visibly, and both reach the publisher", {
  ctx <- init.context()
  xpub <- init.socket(ctx, "ZMQ_XPUB")
  sub <- init.socket(ctx, "ZMQ_SUB")
  ep <- inproc()
  expect_true(bind.socket(xpub, ep))
  expect_true(connect.socket(sub, ep))
  expect_identical(withVisible(subscribe(sub, "topic")), list(value = TRUE, visible = FALSE))
  expect_true(readable(xpub))
  expect_identical(receive.socket(xpub, unserialize = FALSE), c(as.raw(1), charToRaw("topic")))
  expect_identical(withVisible(unsubscribe(sub, "topic")), list(value = TRUE, visible = TRUE))
  expect_true(readable(xpub))
  expect_identical(receive.socket(xpub, unserialize = FALSE), c(as.raw(0), charToRaw("topic")))
  # a raw prefix works too
  expect_true(subscribe(sub, as.raw(c(0, 255))))
  expect_true(readable(xpub))
  expect_identical(receive.socket(xpub, unserialize = FALSE), as.raw(c(1, 0, 255)))
})

test_that("a subscription filters what a SUB socket receives", {
  ctx <- init.context()
  xpub <- init.socket(ctx, "ZMQ_XPUB")
  sub <- init.socket(ctx, "ZMQ_SUB")
  ep <- inproc()
  expect_true(bind.socket(xpub, ep))
  expect_true(connect.socket(sub, ep))
  subscribe(sub, "a")
  # once XPUB has seen the subscription, the filter is in place
  expect_true(readable(xpub))
  expect_identical(receive.socket(xpub, unserialize = FALSE), charToRaw("\001a"))
  expect_true(send.raw.string(xpub, "b-dropped"))
  expect_true(send.raw.string(xpub, "a-kept"))
  expect_true(readable(sub))
  expect_identical(receive.string(sub), "a-kept")
  expect_null(receive.socket(sub, dont.wait = TRUE))
})

test_that("integer-valued doubles are accepted; 1.5, NA, \"x\" are R errors naming option.value", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  setters <- c(vapply(manual_setters, `[[`, "", "fun"), "set.hwm")
  for (fun in setters) {
    setter <- getExportedValue("rzmq", fun)
    expect_true(setter(s, 10), label = fun)
    expect_error(setter(s, 1.5), "`option.value`", label = fun)
    expect_error(setter(s, NA), "`option.value`", label = fun)
    expect_error(setter(s, NA_real_), "`option.value`", label = fun)
    expect_error(setter(s, "x"), "`option.value`", label = fun)
    expect_error(setter(s, c(1, 2)), "`option.value`", label = fun)
  }
  expect_error(set.linger(s, 2^40), "`option.value` must be a whole number")
})

test_that("set.swap() and set.mcast.loop() are R errors saying the option was removed", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUB")
  expect_error(set.swap(s, 1000), "ZMQ_SWAP was removed")
  expect_error(set.mcast.loop(s, TRUE), "ZMQ_MCAST_LOOP was removed")
  expect_error(set.mcast.loop(s, 0), "removed")
  expect_error(set.sockopt(s, "ZMQ_HWM", 10), "removed")
  expect_error(get.sockopt(s, "HWM"), "removed")
  expect_error(set.sockopt(s, "RECOVERY_IVL_MSEC", 10), "removed")
})

test_that("get.rcvmore() is a logical that follows multipart frames", {
  p <- socket_pair()
  expect_identical(get.rcvmore(p$a), FALSE)
  expect_true(send.multipart(p$b, list(charToRaw("one"), charToRaw("two"))))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("one"))
  expect_identical(get.rcvmore(p$a), TRUE)
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("two"))
  expect_identical(get.rcvmore(p$a), FALSE)
})

test_that("get.last.endpoint() returns the resolved endpoint", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PULL")
  expect_identical(get.last.endpoint(s), "")
  expect_true(bind.socket(s, "tcp://127.0.0.1:*"))
  ep <- get.last.endpoint(s)
  expect_type(ep, "character")
  expect_match(ep, "^tcp://127\\.0\\.0\\.1:[0-9]+$")
  port <- as.integer(sub(".*:", "", ep))
  expect_true(port > 0L && port < 65536L)
  ip <- inproc()
  expect_true(bind.socket(s, ip))
  expect_identical(get.last.endpoint(s), ip)
})

test_that("send and receive timeouts read back in milliseconds, -1 by default", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_REQ")
  expect_identical(get.send.timeout(s), -1L)
  expect_identical(get.rcv.timeout(s), -1L)
  expect_true(set.send.timeout(s, 2500))
  expect_true(set.rcv.timeout(s, 1500L))
  expect_identical(get.send.timeout(s), 2500L)
  expect_identical(get.rcv.timeout(s), 1500L)
  expect_identical(get.sockopt(s, "ZMQ_SNDTIMEO"), 2500L)
  expect_identical(get.sockopt(s, "rcvtimeo"), 1500L)
  expect_true(set.rcv.timeout(s, -1))
  expect_identical(get.rcv.timeout(s), -1L)
})

test_that("a value libzmq rejects returns FALSE with a message and errno 22", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PUSH")
  expect_message(res <- withVisible(set.sockopt(s, "TCP_KEEPALIVE", 5)), "^Invalid argument")
  expect_identical(res, list(value = FALSE, visible = TRUE))
  expect_identical(zmq.errno(), 22L)
  expect_identical(zmq.strerror(), "Invalid argument")
  expect_identical(get.sockopt(s, "TCP_KEEPALIVE"), -1L) # unchanged
  expect_message(res <- set.linger(s, -5), "Invalid argument")
  expect_false(res)
})

test_that("router-only options are refused on other sockets instead of aborting R later", {
  ctx <- init.context()
  rep <- init.socket(ctx, "ZMQ_REP")
  expect_message(res <- set.sockopt(rep, "ZMQ_ROUTER_RAW", TRUE), "Invalid argument")
  expect_false(res)
  expect_identical(zmq.errno(), 22L)
  ep <- inproc()
  bind.socket(rep, ep)
  req <- init.socket(ctx, "ZMQ_REQ")
  connect.socket(req, ep)
  expect_true(send.socket(req, "ping"))
  expect_identical(receive.socket(rep), "ping")
  router <- init.socket(ctx, "ZMQ_ROUTER")
  expect_true(set.sockopt(router, "ZMQ_ROUTER_MANDATORY", TRUE))
})

test_that("set.sockopt()/get.sockopt() take names with or without ZMQ_, in any case", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  expect_identical(withVisible(set.sockopt(s, "ZMQ_SNDHWM", 10)), list(value = TRUE, visible = TRUE))
  expect_identical(get.sockopt(s, "sndhwm"), 10L)
  expect_true(set.sockopt(s, "tcp_keepalive", 1L))
  expect_identical(get.sockopt(s, "ZMQ_TCP_KEEPALIVE"), 1L)
  # flags are logicals
  expect_true(set.sockopt(s, "IMMEDIATE", TRUE))
  expect_identical(get.sockopt(s, "IMMEDIATE"), TRUE)
  expect_true(set.sockopt(s, "IMMEDIATE", 0))
  expect_identical(get.sockopt(s, "IMMEDIATE"), FALSE)
  # 64-bit numbers are doubles
  expect_true(set.sockopt(s, "MAXMSGSIZE", 1e6))
  expect_identical(get.sockopt(s, "MAXMSGSIZE"), 1e6)
  # strings
  expect_true(set.sockopt(s, "PLAIN_USERNAME", "bob"))
  expect_identical(get.sockopt(s, "PLAIN_USERNAME"), "bob")
  expect_true(set.sockopt(s, "ZAP_DOMAIN", "global"))
  expect_identical(get.sockopt(s, "ZAP_DOMAIN"), "global")
  # read-only options
  expect_identical(get.sockopt(s, "TYPE"), 5L)
  expect_type(get.sockopt(s, "FD"), "integer")
  expect_identical(get.sockopt(s, "MECHANISM"), 1L) # PLAIN, set above
})

test_that("a CURVE key set with set.sockopt() reads back with get.sockopt()", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  key <- as.raw(1:32)
  expect_true(set.sockopt(s, "CURVE_SERVERKEY", key))
  expect_identical(get.sockopt(s, "CURVE_SERVERKEY"), key)
})

test_that("sockopt.names() is a data frame of every option; each reads or says it cannot", {
  opts <- sockopt.names()
  expect_s3_class(opts, "data.frame")
  expect_identical(names(opts), c("name", "type", "read", "write"))
  expect_type(opts$name, "character")
  expect_type(opts$type, "character")
  expect_type(opts$read, "logical")
  expect_type(opts$write, "logical")
  expect_gt(nrow(opts), 50L)
  nms <- opts$name
  expect_false(anyDuplicated(nms) > 0)
  expect_true(all(grepl("^ZMQ_[A-Z0-9_]+$", nms)))
  expect_true(all(opts$type %in% c("int", "bool", "int64", "uint64", "bytes", "string", "key")))
  expect_true(all(opts$read | opts$write))
  expect_true(all(c("ZMQ_SNDHWM", "ZMQ_RCVHWM", "ZMQ_TYPE", "ZMQ_LINGER",
                    "ZMQ_IDENTITY", "ZMQ_SUBSCRIBE", "ZMQ_RCVTIMEO",
                    "ZMQ_SNDTIMEO", "ZMQ_LAST_ENDPOINT", "ZMQ_TCP_KEEPALIVE") %in% nms))
  row <- function(nm) as.list(opts[opts$name == nm, c("type", "read", "write")])
  expect_identical(row("ZMQ_LINGER"), list(type = "int", read = TRUE, write = TRUE))
  expect_identical(row("ZMQ_SUBSCRIBE"), list(type = "bytes", read = FALSE, write = TRUE))
  expect_identical(row("ZMQ_TYPE"), list(type = "int", read = TRUE, write = FALSE))
  expect_identical(row("ZMQ_AFFINITY")$type, "uint64")
  expect_identical(row("ZMQ_MAXMSGSIZE")$type, "int64")
  expect_identical(row("ZMQ_IMMEDIATE")$type, "bool")
  expect_identical(row("ZMQ_LAST_ENDPOINT")$type, "string")
  expect_identical(row("ZMQ_CURVE_SERVERKEY")$type, "key")
  # removed options are not listed
  expect_false(any(c("ZMQ_HWM", "ZMQ_SWAP", "ZMQ_MCAST_LOOP") %in% nms))
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  for (i in seq_len(nrow(opts))) {
    nm <- opts$name[i]
    v <- tryCatch(suppressMessages(get.sockopt(s, nm)), error = function(e) e)
    if (!opts$read[i]) {
      expect_s3_class(v, "error")
      expect_match(conditionMessage(v), "can only be set", label = nm)
    } else {
      expect_false(inherits(v, "error"), label = paste("get.sockopt(s,", nm, ") is an error"))
      expect_false(is.null(v), label = paste("get.sockopt(s,", nm, ") is NULL"))
    }
    # the write column says which options set.sockopt() refuses to set
    if (!opts$write[i]) {
      expect_error(set.sockopt(s, nm, 1), "can only be read", label = nm)
    }
  }
})

test_that("unknown and wrongly accessed option names are R errors", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_SUB")
  expect_error(set.sockopt(s, "NOPE", 1), "`option` \"NOPE\" is not a zmq socket option")
  expect_error(get.sockopt(s, "ZMQ_NOPE"), "`option` \"NOPE\" is not a zmq socket option")
  expect_error(get.sockopt(s, ""), "`option`")
  expect_error(get.sockopt(s, 1L), "`option`")
  expect_error(get.sockopt(s, NA_character_), "`option`")
  # write-only, read-only
  expect_error(get.sockopt(s, "SUBSCRIBE"), "ZMQ_SUBSCRIBE can only be set")
  expect_error(get.sockopt(s, "UNSUBSCRIBE"), "can only be set")
  expect_error(set.sockopt(s, "TYPE", 1), "ZMQ_TYPE can only be read")
  expect_error(set.sockopt(s, "RCVMORE", FALSE), "can only be read")
  expect_error(set.sockopt(s, "LAST_ENDPOINT", "tcp://x:1"), "can only be read")
})

test_that("set.sockopt() value errors name its `value` argument", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_DEALER")
  expect_error(set.sockopt(s, "LINGER", 1.5), "`value`")
  expect_error(set.sockopt(s, "LINGER", "x"), "`value`")
  expect_error(set.sockopt(s, "IDENTITY", 1), "`value`")
})

test_that("security options set with set.sockopt() after bind or connect are R errors; allowed again once every endpoint is gone", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  k <- curve.keypair()
  values <- list(CURVE_SERVER = 1L, CURVE_PUBLICKEY = k$public,
                 CURVE_SECRETKEY = k$secret, CURVE_SERVERKEY = k$public,
                 PLAIN_SERVER = TRUE, PLAIN_USERNAME = "u",
                 PLAIN_PASSWORD = "p", ZAP_DOMAIN = "global")
  # every option the table marks as security is in this list, and only they
  opts <- sockopt.names()
  expect_true(all(paste0("ZMQ_", names(values)) %in% opts$name[opts$write]))
  bound <- init.socket(ctx, "ZMQ_REP")
  ep <- bind_tcp(bound)
  connected <- init.socket(ctx, "ZMQ_REQ")
  expect_true(connect.socket(connected, ep))
  for (s in list(bound, connected)) {
    for (o in names(values)) {
      expect_error(set.sockopt(s, o, values[[o]]),
                   sprintf("set.sockopt(\"ZMQ_%s\") must be called before bind.socket() or connect.socket()", o),
                   fixed = TRUE)
      expect_error(set.sockopt(s, paste0("zmq_", tolower(o)), values[[o]]),
                   "already bound or connected", fixed = TRUE)
    }
    expect_identical(get.sockopt(s, "MECHANISM"), 0L) # still NULL
    expect_identical(get.sockopt(s, "ZAP_DOMAIN"), "")
    # other options are still fine
    expect_true(set.sockopt(s, "LINGER", 0L))
  }
  # once every endpoint is unbound or disconnected, they may be set again
  expect_true(unbind.socket(bound, ep))
  expect_true(set.sockopt(bound, "CURVE_SERVER", 1L))
  expect_true(set.sockopt(bound, "CURVE_SECRETKEY", k$secret))
  expect_identical(get.sockopt(bound, "MECHANISM"), 2L)
  expect_true(disconnect.socket(connected, ep))
  expect_true(set.sockopt(connected, "ZAP_DOMAIN", "global"))
  # two endpoints: one left is still too late
  two <- init.socket(ctx, "ZMQ_PULL")
  ep1 <- bind_tcp(two)
  ep2 <- bind_tcp(two)
  expect_true(unbind.socket(two, ep1))
  expect_error(set.sockopt(two, "PLAIN_SERVER", 1L), "already bound or connected")
  expect_true(unbind.socket(two, ep2))
  expect_true(set.sockopt(two, "PLAIN_SERVER", 1L))
  # a failed unbind does not count
  expect_true(bind.socket(two, ep1))
  expect_false(suppressMessages(unbind.socket(two, ep2)))
  expect_error(set.sockopt(two, "PLAIN_SERVER", 0L), "already bound or connected")
})

test_that("CURVE keys given to set.sockopt() are checked as keys: an R error naming `value`", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_DEALER")
  for (o in c("CURVE_SERVERKEY", "CURVE_PUBLICKEY", "CURVE_SECRETKEY")) {
    # Z85 characters that decode to no key (each group of five > 2^32 - 1)
    expect_error(set.sockopt(s, o, strrep("#", 40)),
                 "`value` is not a CURVE key: its 40 characters are Z85 but do not decode", fixed = TRUE)
    expect_error(set.sockopt(s, o, raw(31)), "`value` must be a CURVE key")
    expect_error(set.sockopt(s, o, "short"), "`value` must be a CURVE key")
  }
  expect_identical(get.sockopt(s, "MECHANISM"), 0L)
})

test_that("the setters and getters made from the option table are ordinary functions of the manual's arguments", {
  ns <- asNamespace("rzmq")
  setters <- c("set.hwm", "set.swap", "set.affinity", "set.identity", "subscribe",
               "unsubscribe", "set.rate", "set.recovery.ivl", "set.recovery.ivl.msec",
               "set.mcast.loop", "set.sndbuf", "set.rcvbuf", "set.linger",
               "set.reconnect.ivl", "set.zmq.backlog", "set.reconnect.ivl.max",
               "set.send.timeout", "set.rcv.timeout")
  getters <- c("get.rcvmore", "get.last.endpoint", "get.send.timeout", "get.rcv.timeout")
  for (name in setters) {
    f <- getExportedValue("rzmq", name)
    expect_identical(names(formals(f)), c("socket", "option.value"), label = name)
    expect_identical(environment(f), ns, label = name)
  }
  for (name in getters) {
    f <- getExportedValue("rzmq", name)
    expect_identical(names(formals(f)), "socket", label = name)
    expect_identical(environment(f), ns, label = name)
  }
  # the option's name is in the body, as a hand-written setter would have it
  expect_match(paste(deparse(body(set.linger)), collapse = " "), '"LINGER"', fixed = TRUE)
  ctx <- init.context()
  on.exit(destroy.context(ctx))
  s <- init.socket(ctx, "ZMQ_SUB")
  expect_identical(withVisible(subscribe(s, "topic")), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(unsubscribe(s, "topic")), list(value = TRUE, visible = TRUE))
  expect_error(set.linger(s, "long"), "`option.value`")
  expect_true(is.na(match("option_setter", getNamespaceExports("rzmq"))))
})
