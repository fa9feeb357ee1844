# Bad input to every exported function, table-driven: for each function that
# takes a socket (the table in helper-exports.R), NULL, numbers, strings, the
# wrong kind of handle, a closed socket and a socket restored with readRDS;
# bad values for every other argument; and the functions without a socket.
# Each gives an R error that names the argument (or the documented
# FALSE/NULL), never a crash. Bad input that belongs to one topic is tested in
# that topic's file (handles in a forked child: test-lifetime.R).

# every exported function, and those of them that take a `socket`
exported_functions <- sort(getNamespaceExports("rzmq"))
socket_functions <- exported_functions[vapply(exported_functions, function(f) {
  "socket" %in% names(formals(rzmq_fun(f)))
}, logical(1))]

# an error message naming `arg` (or one of its elements, `arg[[i]]`)
names_arg <- function(arg) {
  sprintf("`%s(`|\\[\\[[0-9]+\\]\\]`)", gsub(".", "\\.", arg, fixed = TRUE))
}

test_that("the socket-function table covers every exported function with a `socket` argument", {
  expect_gt(length(socket_functions), 30L)
  expect_setequal(names(socket_fun_args(NULL)), socket_functions)
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
      expect_match(error_of_call(f, args), bad[[b]]$regexp, fixed = TRUE,
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
    expect_match(error_of_call(f, c(list(socket = s), tab[[f]])), "`socket` has been closed",
                 fixed = TRUE, label = sprintf("%s(<closed socket>)", f))
  }
  expect_identical(withVisible(destroy.socket(s)), list(value = TRUE, visible = FALSE))
  # a socket closed by destroying its context
  ctx2 <- init.context()
  s2 <- init.socket(ctx2, "ZMQ_PAIR")
  destroy.context(ctx2)
  for (f in setdiff(names(tab), "destroy.socket")) {
    expect_match(error_of_call(f, c(list(socket = s2), tab[[f]])), "`socket` has been closed",
                 fixed = TRUE, label = sprintf("%s(<socket of a destroyed context>)", f))
  }
  expect_true(destroy.socket(s2))
})

test_that("every socket-taking function rejects a socket restored with readRDS", {
  ctx <- init.context()
  msg <- init.message("m")
  tab <- socket_fun_args(msg)
  s <- restored_from_rds(init.socket(ctx, "ZMQ_PAIR"))
  expect_identical(typeof(s), "externalptr")
  for (f in names(tab)) {
    expect_match(error_of_call(f, c(list(socket = s), tab[[f]])),
                 "`socket` is not a live zmq socket", fixed = TRUE,
                 label = sprintf("%s(<restored socket>)", f))
  }
  expect_error(poll.socket(list(s), list("read")), "`sockets\\[\\[1\\]\\]` is not a live zmq socket")
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
  unsubscribe = c(option.value = "bytes"),
  monitor.socket = c(events = "string"),
  on.message = c(unserialize = "flag", multipart = "flag"),
  receive.promise = c(unserialize = "flag")
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
        expect_match(error_of_call(f, args), names_arg(arg),
                     label = sprintf("%s(%s = <%s>)", f, arg, v))
      }
    }
  }
  # the removed options fail whatever the value
  for (f in c("set.swap", "set.mcast.loop")) {
    for (v in list(NULL, 1, "x", TRUE)) {
      expect_match(error_of_call(f, list(socket = s, option.value = v)), "removed", fixed = TRUE,
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
    expect_match(error_of_call("init.context", list(threads = v)), "`threads`", fixed = TRUE,
                 label = sprintf("init.context(threads = %s)", deparse1(v)))
  }
  # init.socket
  for (v in list(NULL, 1, "ctx", sock, msg, restored_from_rds(ctx))) {
    expect_match(error_of_call("init.socket", list(context = v, socket.type = "ZMQ_PAIR")),
                 "`context`", fixed = TRUE, label = "init.socket(context = <bad>)")
  }
  expect_error(init.socket(sock, "ZMQ_PAIR"), "`context` must be a zmq context, not a zmq socket")
  expect_error(init.socket(dead, "ZMQ_PAIR"), "`context` has been destroyed")
  expect_error(init.socket(restored_from_rds(ctx), "ZMQ_PAIR"), "`context` is not a live zmq context")
  for (v in list(NULL, NA_character_, 1, "", c("PAIR", "PUB"), "ZMQ_NOPE")) {
    expect_match(error_of_call("init.socket", list(context = ctx, socket.type = v)),
                 "`socket.type`", fixed = TRUE, label = "init.socket(socket.type = <bad>)")
  }
  # destroy.context
  for (v in list(NULL, 1, sock, msg, restored_from_rds(ctx))) {
    expect_match(error_of_call("destroy.context", list(context = v)), "`context`", fixed = TRUE,
                 label = "destroy.context(<bad>)")
  }
  expect_identical(withVisible(destroy.context(dead)), list(value = TRUE, visible = FALSE))
  for (v in list(NA, "x", 1.5, -2)) {
    c2 <- init.context()
    expect_match(error_of_call("destroy.context", list(context = c2, linger = v)), "`linger`",
                 fixed = TRUE, label = sprintf("destroy.context(linger = %s)", deparse1(v)))
  }
  # set.ctxopt, get.ctxopt: the context, the option's name, the value
  for (f in c("set.ctxopt", "get.ctxopt")) {
    extra <- if (f == "set.ctxopt") list(value = 2) else list()
    for (v in list(NULL, 1, "ctx", sock, msg, restored_from_rds(ctx))) {
      expect_match(error_of_call(f, c(list(context = v, name = "IO_THREADS"), extra)),
                   "`context`", fixed = TRUE, label = sprintf("%s(context = <bad>)", f))
    }
    expect_match(error_of_call(f, c(list(context = dead, name = "IO_THREADS"), extra)),
                 "`context` has been destroyed", fixed = TRUE, label = f)
    for (v in list(NULL, NA_character_, 1, "", c("IO_THREADS", "IPV6"), list("IPV6"), "NOPE",
                   "ZMQ_LINGER")) {
      expect_match(error_of_call(f, c(list(context = ctx, name = v), extra)), "`name`",
                   fixed = TRUE, label = sprintf("%s(name = %s)", f, deparse1(v)))
    }
  }
  for (v in list(NULL, NA, NA_real_, "x", 1.5, c(1, 2), list(1), 2^40)) {
    expect_match(error_of_call("set.ctxopt", list(context = ctx, name = "MAX_SOCKETS", value = v)),
                 "`value`", fixed = TRUE, label = sprintf("set.ctxopt(value = %s)", deparse1(v)))
  }
  expect_match(error_of_call("set.ctxopt", list(context = ctx, name = "MSG_T_SIZE", value = 1)),
               "`name`: context option ZMQ_MSG_T_SIZE can only be read", fixed = TRUE)
  expect_match(error_of_call("get.ctxopt", list(context = ctx, name = "THREAD_PRIORITY")),
               "`name`: context option ZMQ_THREAD_PRIORITY can only be set", fixed = TRUE)
  # init.message
  for (arg in c("serialize", "xdr")) {
    for (v in list(NULL, NA, "yes", c(TRUE, FALSE))) {
      args <- list(data = 1)
      args[arg] <- list(v)
      expect_match(error_of_call("init.message", args), sprintf("`%s`", arg), fixed = TRUE,
                   label = sprintf("init.message(%s = %s)", arg, deparse1(v)))
    }
  }
  expect_error(init.message(list(1), serialize = FALSE), "`data`")
  # poll.socket
  for (v in list(NULL, 1, list(), list(1), list(ctx), list(msg), "x")) {
    expect_match(error_of_call("poll.socket", list(sockets = v, events = list("read"))),
                 "`sockets", fixed = TRUE, label = "poll.socket(sockets = <bad>)")
  }
  for (v in list(NULL, 1, list(1), list("nope"), list(NA_character_), list("read", "read"))) {
    expect_match(error_of_call("poll.socket", list(sockets = list(sock), events = v)),
                 "`events", fixed = TRUE, label = "poll.socket(events = <bad>)")
  }
  for (v in list(NULL, NA, "1", c(1, 2), -2, list(1))) {
    expect_match(error_of_call("poll.socket", list(sockets = list(sock), events = list("read"), timeout = v)),
                 "`timeout`", fixed = TRUE,
                 label = sprintf("poll.socket(timeout = %s)", deparse1(v)))
  }
  # security: keys, Z85, certificate files, the authenticator
  for (v in list(NULL, 1, NA_character_, list("curve"))) {
    expect_match(error_of_call("zmq.has", list(capability = v)), "`capability`", fixed = TRUE,
                 label = sprintf("zmq.has(%s)", deparse1(v)))
  }
  for (v in list(NULL, 1, NA_character_, "short", strrep("~", 40), raw(31), c(test_keys$secret, test_keys$secret))) {
    expect_match(error_of_call("curve.public", list(secret = v)), "`secret`", fixed = TRUE,
                 label = sprintf("curve.public(%s)", deparse1(v)))
  }
  expect_type(curve.keypair(), "list")
  for (v in list(NULL, "abcd", raw(3), 1:4)) {
    expect_match(error_of_call("z85.encode", list(x = v)), "`x`", fixed = TRUE,
                 label = sprintf("z85.encode(%s)", deparse1(v)))
  }
  for (v in list(NULL, raw(5), "abcd", "abcd~", NA_character_, c("abcde", "abcde"))) {
    expect_match(error_of_call("z85.decode", list(s = v)), "`s`", fixed = TRUE,
                 label = sprintf("z85.decode(%s)", deparse1(v)))
  }
  key_file <- tempfile()
  for (v in list(NULL, list(), list(public = "x"), test_keys$public)) {
    expect_match(error_of_call("write.curve.keys", list(keys = v, path = key_file)), "`keys",
                 fixed = TRUE, label = sprintf("write.curve.keys(keys = %s)", deparse1(v)))
  }
  for (v in list(NULL, NA_character_, "", c("a", "b"), 1)) {
    expect_match(error_of_call("write.curve.keys", list(keys = test_keys, path = v)), "`path`",
                 fixed = TRUE, label = sprintf("write.curve.keys(path = %s)", deparse1(v)))
    expect_match(error_of_call("read.curve.keys", list(path = v)), "`path`",
                 fixed = TRUE, label = sprintf("read.curve.keys(path = %s)", deparse1(v)))
  }
  expect_match(error_of_call("read.curve.keys", list(path = key_file)), "no certificate file")
  for (v in list(NULL, 1, sock, msg, dead, restored_from_rds(ctx))) {
    expect_match(error_of_call("init.authenticator", list(context = v)), "`context`",
                 fixed = TRUE, label = "init.authenticator(context = <bad>)")
  }
  bad_lists <- list(curve = list(FALSE, NA, 1, "short", NA_character_),
                    plain = list("pw", c(u = NA), c(NA), 1, list(u = "p")),
                    allow = list(1, NA_character_, "not-an-ip", "300.1.1.1"),
                    deny = list(1, NA_character_, "host.example"),
                    domain = list(NULL, NA_character_, "", 1))
  for (arg in names(bad_lists)) {
    for (v in bad_lists[[arg]]) {
      args <- list(context = ctx)
      args[arg] <- list(v)
      expect_match(error_of_call("init.authenticator", args), sprintf("`%s", arg), fixed = TRUE,
                   label = sprintf("init.authenticator(%s = %s)", arg, deparse1(v)))
    }
  }
  auth <- init.authenticator(ctx)
  for (arg in setdiff(names(bad_lists), "domain")) {
    for (v in bad_lists[[arg]]) {
      args <- list(auth = auth)
      args[arg] <- list(v)
      expect_match(error_of_call("configure.authenticator", args), sprintf("`%s", arg), fixed = TRUE,
                   label = sprintf("configure.authenticator(%s = %s)", arg, deparse1(v)))
    }
  }
  for (f in c("configure.authenticator", "destroy.authenticator", "authenticator.log")) {
    for (v in list(NULL, 1, sock, ctx, msg, restored_from_rds(auth))) {
      expect_match(error_of_call(f, list(auth = v)), "`auth`", fixed = TRUE,
                   label = sprintf("%s(<bad>)", f))
    }
  }
  destroy.authenticator(auth)
  expect_match(error_of_call("configure.authenticator", list(auth = auth, curve = TRUE)),
               "`auth` has been destroyed", fixed = TRUE)
  # monitors: `monitor` must be an open socket made by monitor.socket()
  mon <- monitor.socket(sock)
  closed_mon <- monitor.socket(init.socket(ctx, "ZMQ_PAIR"))
  destroy.socket(closed_mon)
  for (f in c("receive.event", "read.events")) {
    for (v in list(NULL, 1, "m", ctx, msg, sock, closed_mon, restored_from_rds(mon))) {
      expect_match(error_of_call(f, list(monitor = v)), "`monitor`", fixed = TRUE,
                   label = sprintf("%s(<bad monitor>)", f))
    }
  }
  for (v in list(NULL, NA, "yes", c(TRUE, FALSE), list(TRUE))) {
    expect_match(error_of_call("receive.event", list(monitor = mon, dont.wait = v)), "`dont.wait`",
                 fixed = TRUE, label = sprintf("receive.event(dont.wait = %s)", deparse1(v)))
  }
  expect_null(receive.event(mon, dont.wait = TRUE))
  expect_identical(nrow(read.events(mon)), 0L)
  # the proxy
  sock2 <- init.socket(ctx, "ZMQ_PAIR")
  sock3 <- init.socket(ctx, "ZMQ_PAIR")
  dead_sock <- init.socket(ctx, "ZMQ_PAIR")
  destroy.socket(dead_sock)
  for (f in c("zmq.proxy", "init.proxy")) {
    for (arg in c("frontend", "backend", "capture")) {
      for (v in list(NULL, 1, "x", ctx, msg, dead_sock, restored_from_rds(sock))) {
        if (arg == "capture" && is.null(v)) next
        args <- list(frontend = sock, backend = sock2)
        args[arg] <- list(v)
        expect_match(error_of_call(f, args), sprintf("`%s`", arg), fixed = TRUE,
                     label = sprintf("%s(%s = <bad>)", f, arg))
      }
    }
    expect_match(error_of_call(f, list(frontend = sock, backend = sock2, capture = sock)),
                 "`capture` must be another socket", fixed = TRUE)
  }
  proxy <- init.proxy(sock, sock2)
  for (f in c("zmq.proxy", "init.proxy")) {
    expect_match(error_of_call(f, list(frontend = sock, backend = sock3)),
                 "`frontend` is in use by a running proxy", fixed = TRUE)
  }
  stop.proxy(proxy)
  for (f in c("pause.proxy", "resume.proxy", "proxy.stats", "stop.proxy")) {
    for (v in list(NULL, 1, "x", sock, ctx, msg, restored_from_rds(proxy))) {
      expect_match(error_of_call(f, list(p = v)), "`p`", fixed = TRUE,
                   label = sprintf("%s(<bad>)", f))
    }
  }
  for (f in c("pause.proxy", "resume.proxy", "proxy.stats")) {
    expect_match(error_of_call(f, list(p = proxy)), "`p` has been stopped", fixed = TRUE)
  }
  expect_true(stop.proxy(proxy))
  # event-loop watchers: `handle` must be one made by on.message()
  for (v in list(NULL, 1, "w", sock, ctx, msg, new.env())) {
    expect_match(error_of_call("cancel.on.message", list(handle = v)), "`handle`", fixed = TRUE,
                 label = "cancel.on.message(<bad>)")
  }
  # the functions without arguments
  expect_type(zmq.errno(), "integer")
  expect_type(zmq.strerror(), "character")
  expect_type(zmq.version(), "character")
  expect_s3_class(sockopt.names(), "data.frame")
  expect_s3_class(ctxopt.names(), "data.frame")
})

test_that("every exported function is exercised by this file", {
  no_socket <- c("init.context", "init.socket", "destroy.context", "init.message",
                 "poll.socket", "zmq.errno", "zmq.strerror", "zmq.version",
                 "sockopt.names", "set.ctxopt", "get.ctxopt", "ctxopt.names", "zmq.has", "curve.keypair", "curve.public",
                 "z85.encode", "z85.decode", "write.curve.keys", "read.curve.keys",
                 "init.authenticator", "configure.authenticator",
                 "destroy.authenticator", "authenticator.log",
                 "receive.event", "read.events",
                 "zmq.proxy", "init.proxy", "pause.proxy", "resume.proxy",
                 "proxy.stats", "stop.proxy", "cancel.on.message",
                 "init.poller", "poll.poller", "is.closed", "message.size",
                 # the cluster: bad input in test-cluster.R, test-worker.R
                 "init.cluster", "launch.local", "run.worker", "worker.command",
                 # launchers for other machines: bad input in test-launch.R
                 "launch.ssh", "launch.command", "launch.slurm")
  expect_setequal(c(names(socket_fun_args(NULL)), no_socket), exported_functions)
})


test_that("numbers far outside an argument's range are R errors", {
  expect_error(init.context(threads = 1e10), "`threads` must be a whole number")
  expect_error(destroy.context(init.context(), linger = 1e12), "`linger` must be whole")
})

