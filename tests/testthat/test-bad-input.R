# Bad input to every exported function: NULL, numbers, the wrong kind of
# handle, closed handles, handles restored with readRDS, handles from another
# process. Each gives an R error that names the argument (or the documented
# FALSE/NULL), never a crash.

rzmq_fun <- function(name) getExportedValue("rzmq", name)

# Valid arguments other than `socket` for every exported function that takes
# a socket; `msg` is filled in by the test (it needs a live message object).
socket_fun_args <- function(msg) {
  num <- list(option.value = 10)
  list(
    bind.socket = list(address = "inproc://bad-input-bind"),
    connect.socket = list(address = "inproc://bad-input-connect"),
    disconnect.socket = list(address = "inproc://bad-input-connect"),
    unbind.socket = list(address = "inproc://bad-input-bind"),
    destroy.socket = list(),
    get.last.endpoint = list(),
    get.rcv.timeout = list(),
    get.rcvmore = list(),
    get.send.timeout = list(),
    get.sockopt = list(option = "TYPE"),
    set.sockopt = list(option = "LINGER", value = 0),
    receive.socket = list(unserialize = TRUE, dont.wait = TRUE),
    receive.double = list(),
    receive.int = list(),
    receive.multipart = list(),
    receive.null.msg = list(),
    receive.string = list(),
    send.socket = list(data = 1, send.more = FALSE, serialize = TRUE, xdr = FALSE),
    send.message.object = list(msg = msg, send.more = FALSE),
    send.multipart = list(parts = list(raw(1))),
    send.null.msg = list(send.more = FALSE),
    send.raw.string = list(data = "x", send.more = FALSE),
    set.affinity = num, set.hwm = num, set.linger = num, set.rate = num,
    set.rcv.timeout = num, set.rcvbuf = num, set.reconnect.ivl = num,
    set.reconnect.ivl.max = num, set.recovery.ivl = num,
    set.recovery.ivl.msec = num, set.send.timeout = num, set.sndbuf = num,
    set.zmq.backlog = num, set.swap = num, set.mcast.loop = num,
    set.identity = list(option.value = "id"),
    subscribe = list(option.value = ""),
    unsubscribe = list(option.value = "")
  )
}

exported <- sort(getNamespaceExports("rzmq"))
takes_socket <- exported[vapply(exported, function(f) {
  "socket" %in% names(formals(rzmq_fun(f)))
}, logical(1))]

# what calling f with a bad socket must say
call_msg <- function(f, args) {
  tryCatch({
    do.call(rzmq_fun(f), args)
    NA_character_
  }, error = function(e) conditionMessage(e))
}

# an error message naming `arg` (or one of its elements, `arg[[i]]`)
names_arg <- function(arg) {
  sprintf("`%s(`|\\[\\[[0-9]+\\]\\]`)", gsub(".", "\\.", arg, fixed = TRUE))
}

restored <- function(x) {
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(x, path)
  readRDS(path)
}

test_that("the socket-function table covers every exported function with a `socket` argument", {
  expect_gt(length(takes_socket), 30L)
  expect_setequal(names(socket_fun_args(NULL)), takes_socket)
})

test_that("every socket-taking function rejects NULL, numbers, strings and the wrong handle", {
  ctx <- init.context()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  bad <- list(
    "NULL" = list(value = NULL, regexp = "`socket` must be a zmq socket made by init.socket()"),
    number = list(value = 1, regexp = "`socket` must be a zmq socket made by init.socket()"),
    string = list(value = "tcp://127.0.0.1:5555", regexp = "`socket` must be a zmq socket"),
    list = list(value = list(), regexp = "`socket` must be a zmq socket"),
    context = list(value = ctx, regexp = "`socket` must be a zmq socket, not a zmq context"),
    message = list(value = msg, regexp = "`socket` must be a zmq socket, not a zmq message"),
    other_ptr = list(value = new("externalptr"), regexp = "`socket` must be a zmq socket")
  )
  for (f in names(tab)) {
    for (b in names(bad)) {
      args <- c(list(socket = bad[[b]]$value), tab[[f]])
      expect_match(call_msg(f, args), bad[[b]]$regexp, fixed = TRUE,
                   label = sprintf("%s(socket = <%s>)", f, b))
    }
  }
})

test_that("every socket-taking function rejects a closed socket (destroy.socket: TRUE)", {
  ctx <- init.context()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  s <- init.socket(ctx, "ZMQ_PAIR")
  destroy.socket(s)
  for (f in setdiff(names(tab), "destroy.socket")) {
    expect_match(call_msg(f, c(list(socket = s), tab[[f]])), "`socket` has been closed",
                 fixed = TRUE, label = sprintf("%s(<closed socket>)", f))
  }
  expect_identical(withVisible(destroy.socket(s)), list(value = TRUE, visible = FALSE))
  # a socket closed by destroying its context
  ctx2 <- init.context()
  s2 <- init.socket(ctx2, "ZMQ_PAIR")
  destroy.context(ctx2)
  for (f in setdiff(names(tab), "destroy.socket")) {
    expect_match(call_msg(f, c(list(socket = s2), tab[[f]])), "`socket` has been closed",
                 fixed = TRUE, label = sprintf("%s(<socket of a destroyed context>)", f))
  }
  expect_true(destroy.socket(s2))
})

test_that("every socket-taking function rejects a socket restored with readRDS", {
  ctx <- init.context()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  s <- restored(init.socket(ctx, "ZMQ_PAIR"))
  expect_identical(typeof(s), "externalptr")
  for (f in names(tab)) {
    expect_match(call_msg(f, c(list(socket = s), tab[[f]])),
                 "`socket` is not a live zmq socket", fixed = TRUE,
                 label = sprintf("%s(<restored socket>)", f))
  }
  expect_error(poll.socket(list(s), list("read")), "`sockets\\[\\[1\\]\\]` is not a live zmq socket")
})

test_that("a message object restored with readRDS is an R error", {
  p <- socket_pair()
  m <- restored(init.message(1:3))
  expect_error(send.message.object(p$b, m), "`msg` is not a live zmq message")
  expect_error(send.message.object(p$b, NULL), "`msg`")
  expect_error(send.message.object(p$b, p$ctx), "`msg`")
  expect_null(receive.socket(p$a, dont.wait = TRUE)) # nothing was sent
})

test_that("handles used in a forked child are R errors there and stay usable here", {
  skip_on_os("windows")
  p <- socket_pair()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  job <- parallel::mcparallel({
    socket_msgs <- vapply(names(tab), function(f) call_msg(f, c(list(socket = p$a), tab[[f]])), "")
    ctx_msgs <- c(
      init.socket = tryCatch({init.socket(p$ctx, "ZMQ_PAIR"); NA_character_}, error = conditionMessage),
      destroy.context = tryCatch({destroy.context(p$ctx); NA_character_}, error = conditionMessage),
      poll.socket = tryCatch({poll.socket(list(p$a), list("read")); NA_character_}, error = conditionMessage),
      send.message.object = tryCatch({send.message.object(p$b, msg); NA_character_}, error = conditionMessage)
    )
    list(socket = socket_msgs, ctx = ctx_msgs)
  }, silent = TRUE)
  res <- parallel::mccollect(job, wait = FALSE, timeout = 30)
  if (is.null(res)) {
    tools::pskill(job$pid)
    parallel::mccollect(job, wait = FALSE)
    fail("forked child did not finish within 30 s")
  } else {
    res <- res[[1]]
    expect_type(res, "list")
    for (f in names(tab)) {
      expect_match(res$socket[[f]], "`socket` was created in another process", fixed = TRUE,
                   label = sprintf("%s(<parent's socket>) in a fork", f))
    }
    expect_match(res$ctx[["init.socket"]], "`context` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["destroy.context"]], "`context` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["poll.socket"]], "`sockets[[1]]` was created in another process", fixed = TRUE)
    expect_match(res$ctx[["send.message.object"]], "created in another process", fixed = TRUE)
  }
  # the child neither closed nor used the parent's handles
  expect_true(send.socket(p$b, "still mine"))
  expect_true(readable(p$a))
  expect_identical(receive.socket(p$a), "still mine")
  expect_true(send.message.object(p$b, msg))
  expect_identical(receive.socket(p$a), "m")
})

# Bad values for the arguments other than `socket`, by the kind of argument.
bad_values <- list(
  string = list("NULL" = NULL, "NA" = NA_character_, number = 1, two = c("a", "b"),
                empty = "", list = list("a")),
  number = list("NULL" = NULL, "NA" = NA, string = "x", fraction = 1.5,
                two = c(1, 2), list = list(1)),
  flag = list("NULL" = NULL, "NA" = NA, string = "x", two = c(TRUE, FALSE),
              list = list(TRUE)),
  bytes = list("NULL" = NULL, "NA" = NA_character_, number = 1, two = c("a", "b"),
               list = list("a")),
  text = list("NULL" = NULL, "NA" = NA_character_, number = 1, empty = character(0),
              list = list("a")),
  parts = list("NULL" = NULL, number = 1, empty = list(), bad_part = list(1),
               raw = as.raw(1)),
  msg = list("NULL" = NULL, number = 1, string = "m")
)

# argument kinds of every socket-taking function (other than `socket`)
arg_kinds <- list(
  bind.socket = c(address = "string"), connect.socket = c(address = "string"),
  disconnect.socket = c(address = "string"), unbind.socket = c(address = "string"),
  get.sockopt = c(option = "string"),
  set.sockopt = c(option = "string", value = "number"),
  receive.socket = c(unserialize = "flag", dont.wait = "flag"),
  send.socket = c(send.more = "flag", serialize = "flag", xdr = "flag"),
  send.message.object = c(msg = "msg", send.more = "flag"),
  send.multipart = c(parts = "parts"),
  send.null.msg = c(send.more = "flag"),
  send.raw.string = c(data = "text", send.more = "flag"),
  set.affinity = c(option.value = "number"), set.hwm = c(option.value = "number"),
  set.linger = c(option.value = "number"), set.rate = c(option.value = "number"),
  set.rcv.timeout = c(option.value = "number"), set.rcvbuf = c(option.value = "number"),
  set.reconnect.ivl = c(option.value = "number"),
  set.reconnect.ivl.max = c(option.value = "number"),
  set.recovery.ivl = c(option.value = "number"),
  set.recovery.ivl.msec = c(option.value = "number"),
  set.send.timeout = c(option.value = "number"), set.sndbuf = c(option.value = "number"),
  set.zmq.backlog = c(option.value = "number"),
  set.identity = c(option.value = "bytes"), subscribe = c(option.value = "bytes"),
  unsubscribe = c(option.value = "bytes")
)

test_that("bad values in the other arguments are R errors naming the argument", {
  ctx <- init.context()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  s <- init.socket(ctx, "ZMQ_PAIR")
  peer <- init.socket(ctx, "ZMQ_PAIR")
  ep <- inproc()
  expect_true(bind.socket(peer, ep))
  expect_true(connect.socket(s, ep))
  set.send.timeout(s, 0L) # nothing a wrongly accepted call does can block
  set.rcv.timeout(s, 0L)
  for (f in names(arg_kinds)) {
    for (arg in names(arg_kinds[[f]])) {
      values <- bad_values[[arg_kinds[[f]][[arg]]]]
      for (v in names(values)) {
        args <- c(list(socket = s), tab[[f]])
        args[arg] <- list(values[[v]])
        expect_match(call_msg(f, args), names_arg(arg),
                     label = sprintf("%s(%s = <%s>)", f, arg, v))
      }
    }
  }
  # the removed options fail whatever the value
  for (f in c("set.swap", "set.mcast.loop")) {
    for (v in list(NULL, 1, "x", TRUE)) {
      expect_match(call_msg(f, list(socket = s, option.value = v)), "removed", fixed = TRUE,
                   label = f)
    }
  }
  # nothing reached the peer
  expect_null(receive.socket(peer, dont.wait = TRUE))
})

test_that("the functions without a socket argument reject bad input too", {
  ctx <- init.context()
  sock <- init.socket(ctx, "ZMQ_PAIR")
  msg <- init.message("m")
  dead <- init.context()
  destroy.context(dead)
  # init.context
  for (v in list(NULL, NA, "1", -1, 1.5, c(1, 2), list(1), sum)) {
    expect_match(call_msg("init.context", list(threads = v)), "`threads`", fixed = TRUE,
                 label = sprintf("init.context(threads = %s)", deparse1(v)))
  }
  # init.socket
  for (v in list(NULL, 1, "ctx", sock, msg, restored(ctx))) {
    expect_match(call_msg("init.socket", list(context = v, socket.type = "ZMQ_PAIR")),
                 "`context`", fixed = TRUE, label = "init.socket(context = <bad>)")
  }
  expect_error(init.socket(sock, "ZMQ_PAIR"), "`context` must be a zmq context, not a zmq socket")
  expect_error(init.socket(dead, "ZMQ_PAIR"), "`context` has been destroyed")
  expect_error(init.socket(restored(ctx), "ZMQ_PAIR"), "`context` is not a live zmq context")
  for (v in list(NULL, NA_character_, 1, "", c("PAIR", "PUB"), "ZMQ_NOPE")) {
    expect_match(call_msg("init.socket", list(context = ctx, socket.type = v)),
                 "`socket.type`", fixed = TRUE, label = "init.socket(socket.type = <bad>)")
  }
  # destroy.context
  for (v in list(NULL, 1, sock, msg, restored(ctx))) {
    expect_match(call_msg("destroy.context", list(context = v)), "`context`", fixed = TRUE,
                 label = "destroy.context(<bad>)")
  }
  expect_identical(withVisible(destroy.context(dead)), list(value = TRUE, visible = FALSE))
  for (v in list(NA, "x", 1.5, -2)) {
    c2 <- init.context()
    expect_match(call_msg("destroy.context", list(context = c2, linger = v)), "`linger`",
                 fixed = TRUE, label = sprintf("destroy.context(linger = %s)", deparse1(v)))
  }
  # init.message
  for (arg in c("serialize", "xdr")) {
    for (v in list(NULL, NA, "yes", c(TRUE, FALSE))) {
      args <- list(data = 1)
      args[arg] <- list(v)
      expect_match(call_msg("init.message", args), sprintf("`%s`", arg), fixed = TRUE,
                   label = sprintf("init.message(%s = %s)", arg, deparse1(v)))
    }
  }
  expect_error(init.message(list(1), serialize = FALSE), "`data`")
  # poll.socket
  for (v in list(NULL, 1, list(), list(1), list(ctx), list(msg), "x")) {
    expect_match(call_msg("poll.socket", list(sockets = v, events = list("read"))),
                 "`sockets", fixed = TRUE, label = "poll.socket(sockets = <bad>)")
  }
  for (v in list(NULL, 1, list(1), list("nope"), list(NA_character_), list("read", "read"))) {
    expect_match(call_msg("poll.socket", list(sockets = list(sock), events = v)),
                 "`events", fixed = TRUE, label = "poll.socket(events = <bad>)")
  }
  for (v in list(NULL, NA, "1", c(1, 2), -2, list(1))) {
    expect_match(call_msg("poll.socket", list(sockets = list(sock), events = list("read"), timeout = v)),
                 "`timeout`", fixed = TRUE,
                 label = sprintf("poll.socket(timeout = %s)", deparse1(v)))
  }
  # the functions without arguments
  expect_type(zmq.errno(), "integer")
  expect_type(zmq.strerror(), "character")
  expect_type(zmq.version(), "character")
  expect_type(sockopt.names(), "character")
})

test_that("every exported function is exercised by this file", {
  no_socket <- c("init.context", "init.socket", "destroy.context", "init.message",
                 "poll.socket", "zmq.errno", "zmq.strerror", "zmq.version",
                 "sockopt.names")
  expect_setequal(c(names(socket_fun_args(NULL)), no_socket), exported)
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

test_that("numbers far outside an argument's range are R errors", {
  expect_error(init.context(threads = 1e10), "`threads` must be a whole number")
  expect_error(destroy.context(init.context(), linger = 1e12), "`linger` must be whole")
})

test_that("headers base unserialize() rejects are rejected the same way", {
  p <- socket_pair()
  b <- serialize(c(1L, 2L, 3L), NULL, xdr = FALSE)
  nelen <- readBin(b[15:18], "integer", size = 4, endian = "little")
  enc <- rawToChar(b[19:(18 + nelen)])
  long_name <- c(b[1:14], writeBin(64L, raw(), size = 4, endian = "little"),
                 charToRaw(formatC(enc, width = -64)), b[(19 + nelen):length(b)])
  huge_length <- c(charToRaw("X\n"), as.raw(c(0, 0, 0, 2, 0, 4, 2, 2, 0, 3, 5, 0,
                                              0, 0, 0, 13, 255, 255, 255, 255,
                                              255, 255, 255, 255, 255, 255, 255, 255)),
                   as.raw(1:8))
  for (bad in list(long_name, huge_length)) {
    base <- tryCatch(unserialize(bad), error = conditionMessage)
    expect_true(send.socket(p$b, bad, serialize = FALSE))
    expect_identical(tryCatch(receive.socket(p$a), error = conditionMessage), base)
  }
})
