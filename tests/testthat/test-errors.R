# Failures as classed R errors, opt-in with options(rzmq.errors =
# "condition"), table-driven: each row makes one exported function fail for
# real in libzmq. Under "condition" the call raises rzmq_<ENAME> (message:
# libzmq's text, call: the exported function's call, errno); with the
# option unset or "message" the same call keeps 0.9.16's contract: FALSE or
# NULL, the text as a message, zmq.errno() set. EAGAIN (dont.wait, timeouts)
# is quiet unless "condition-all". A test checks that the table covers every
# exported function that can return FALSE/NULL on a libzmq failure.

# A REQ socket that has sent its request: sending again is EFSM.
req_after_send <- function() {
  p <- socket_pair("ZMQ_REP", "ZMQ_REQ")
  stopifnot(isTRUE(send.socket(p$b, "first")))
  p$b
}
# A fresh REQ socket, connected: receiving before sending is EFSM.
req_fresh <- function() socket_pair("ZMQ_REP", "ZMQ_REQ")$b
# A PAIR socket whose next frame holds `n` bytes.
pair_with_frame <- function(n) {
  p <- socket_pair()
  stopifnot(isTRUE(send.socket(p$b, as.raw(seq_len(n)), serialize = FALSE)))
  stopifnot(readable(p$a))
  p$a
}
fresh_socket <- function(type = "ZMQ_PAIR") init.socket(init.context(), type)
# libzmq copies LAST_ENDPOINT into our 1024-byte buffer or fails with EINVAL
long_endpoint_socket <- function() {
  s <- fresh_socket()
  stopifnot(isTRUE(bind.socket(s, paste0("inproc://", strrep("x", 1100)))))
  s
}
bound_elsewhere <- function() {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PULL")
  ep <- inproc()
  stopifnot(isTRUE(bind.socket(a, ep)))
  list(socket = init.socket(ctx, "ZMQ_PULL"), address = ep, keep = a)
}
setter_row <- function(fun, value, type = "ZMQ_PAIR") {
  list(fun = fun, class = "rzmq_EINVAL", value = FALSE,
       args = function() list(socket = fresh_socket(type), option.value = value))
}

# fun: the exported function; args: makes the arguments of a failing call
# (fresh each time); class: what "condition" raises; value: what the default
# returns.
failing_calls <- list(
  list(fun = "bind.socket", class = "rzmq_EADDRINUSE", value = FALSE, args = function() {
    b <- bound_elsewhere()
    list(socket = b$socket, address = b$address)
  }),
  list(fun = "connect.socket", class = "rzmq_EPROTONOSUPPORT", value = FALSE,
       args = function() list(socket = fresh_socket(), address = "bogus://x")),
  # the message names the endpoint: the same one in every mode
  list(fun = "unbind.socket", class = "rzmq_ENOENT", value = FALSE,
       args = function() list(socket = fresh_socket(), address = "inproc://rzmq-never-bound")),
  list(fun = "disconnect.socket", class = "rzmq_ENOENT", value = FALSE,
       args = function() list(socket = fresh_socket(), address = "inproc://rzmq-never-bound")),
  list(fun = "send.socket", class = "rzmq_EFSM", value = FALSE,
       args = function() list(socket = req_after_send(), data = "again")),
  list(fun = "send.null.msg", class = "rzmq_EFSM", value = FALSE,
       args = function() list(socket = req_after_send())),
  list(fun = "send.raw.string", class = "rzmq_EFSM", value = FALSE,
       args = function() list(socket = req_after_send(), data = "again")),
  list(fun = "send.message.object", class = "rzmq_EFSM", value = FALSE,
       args = function() list(socket = req_after_send(), msg = init.message("again"))),
  list(fun = "send.multipart", class = "rzmq_EFSM", value = FALSE,
       args = function() list(socket = req_after_send(), parts = list(raw(1), raw(2)))),
  list(fun = "send.messages", class = "rzmq_EFSM", value = 0L,
       args = function() list(socket = req_after_send(), data = list("again"))),
  list(fun = "receive.socket", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.messages", class = "rzmq_EFSM", value = list(),
       args = function() list(socket = req_fresh())),
  list(fun = "receive.null.msg", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.string", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.int", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.double", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.multipart", class = "rzmq_EFSM", value = NULL,
       args = function() list(socket = req_fresh())),
  list(fun = "receive.int", class = "rzmq_EMSGSIZE", value = NULL,
       args = function() list(socket = pair_with_frame(3))),
  list(fun = "receive.double", class = "rzmq_EMSGSIZE", value = NULL,
       args = function() list(socket = pair_with_frame(5))),
  list(fun = "set.sockopt", class = "rzmq_EINVAL", value = FALSE,
       args = function() list(socket = fresh_socket("ZMQ_PUSH"), option = "TCP_KEEPALIVE", value = 5)),
  list(fun = "set.sockopt", class = "rzmq_EINVAL", value = FALSE, # router-only option
       args = function() list(socket = fresh_socket("ZMQ_REP"), option = "ROUTER_RAW", value = TRUE)),
  list(fun = "get.sockopt", class = "rzmq_EINVAL", value = NULL,
       args = function() list(socket = long_endpoint_socket(), option = "LAST_ENDPOINT")),
  list(fun = "get.last.endpoint", class = "rzmq_EINVAL", value = NULL,
       args = function() list(socket = long_endpoint_socket())),
  setter_row("set.hwm", -1), setter_row("set.rate", 0), setter_row("set.recovery.ivl", -1),
  setter_row("set.recovery.ivl.msec", -1), setter_row("set.sndbuf", -2),
  setter_row("set.rcvbuf", -2), setter_row("set.linger", -5), setter_row("set.reconnect.ivl", -2),
  setter_row("set.zmq.backlog", -1), setter_row("set.reconnect.ivl.max", -1),
  setter_row("set.send.timeout", -2), setter_row("set.rcv.timeout", -2),
  setter_row("set.identity", raw(0), "ZMQ_DEALER"),
  setter_row("subscribe", "topic"), setter_row("unsubscribe", "topic"), # not a SUB socket
  list(fun = "set.ctxopt", class = "rzmq_EINVAL", value = FALSE,
       args = function() list(context = init.context(), name = "IO_THREADS", value = -1))
)

# Exported functions that return FALSE/NULL on a libzmq failure, but whose
# failure no test can provoke, and why.
unprovokable <- c(
  set.affinity = "libzmq takes any 64-bit mask",
  get.rcvmore = "zmq_getsockopt(ZMQ_RCVMORE) fails only on a terminated context, never seen by a live socket",
  get.send.timeout = "reads rzmq's own copy of the timeout",
  get.rcv.timeout = "reads rzmq's own copy of the timeout",
  get.ctxopt = "every option listed reads on a live context",
  poll.socket = "zmq_poll fails only for ETERM/EFAULT on validated live sockets; EINTR is retried",
  poll.poller = "as poll.socket: its sockets are checked open before every wait",
  receive.event = "a monitor's only libzmq failure is EAGAIN (in the EAGAIN test below)",
  zmq.proxy = "libzmq's proxy fails only when a socket does (a capture socket nobody reads: EAGAIN after 1 s, see test-proxy.R)",
  pause.proxy = "the inproc control socket of a running proxy does not fail",
  resume.proxy = "the inproc control socket of a running proxy does not fail",
  proxy.stats = "the inproc control socket of a running proxy does not fail"
)

# The failure of `row` as `mode` sees it: value, messages, errno, condition.
run_row <- function(row, mode) {
  args <- row$args()
  old <- options(rzmq.errors = mode)
  on.exit(options(old))
  msgs <- character(0)
  cond <- NULL
  value <- withCallingHandlers(
    tryCatch(do.call(row$fun, args), rzmq_error = function(e) {
      cond <<- e
      "raised"
    }),
    message = function(m) {
      msgs <<- c(msgs, conditionMessage(m))
      invokeRestart("muffleMessage")
    })
  list(value = value, messages = msgs, errno = zmq.errno(), cond = cond)
}

label_of <- function(row) sprintf("%s -> %s", row$fun, row$class)

test_that("with rzmq.errors unset or \"message\", every failing call keeps 0.9.16's FALSE/NULL and message", {
  for (row in failing_calls) {
    for (mode in list(NULL, "message")) {
      r <- run_row(row, mode)
      expect_identical(r$value, row$value, label = label_of(row))
      expect_null(r$cond, label = label_of(row))
      expect_length(r$messages, 1L)
      expect_gt(r$errno, 0L)
    }
  }
})

test_that("under rzmq.errors = \"condition\" every failing call raises its documented class", {
  for (row in failing_calls) {
    quiet <- run_row(row, NULL)
    r <- run_row(row, "condition")
    lab <- label_of(row)
    expect_identical(r$value, "raised", label = lab)
    expect_identical(class(r$cond), c(row$class, "rzmq_error", "error", "condition"), label = lab)
    expect_length(r$messages, 0L)
    # the same errno and text as the default reports, and zmq.errno() is set
    expect_identical(r$cond$errno, quiet$errno, label = lab)
    expect_identical(r$errno, quiet$errno, label = lab)
    expect_identical(conditionMessage(r$cond), sub("\n$", "", quiet$messages), label = lab)
    # the call is that of the exported function
    call <- conditionCall(r$cond)
    expect_true(is.call(call), label = lab)
    expect_identical(call[[1]], as.name(row$fun), label = lab)
    # condition-all raises the same
    expect_identical(class(run_row(row, "condition-all")$cond)[1], row$class, label = lab)
  }
})

test_that("the condition's class names the errno; tryCatch picks one kind of failure", {
  b <- bound_elsewhere()
  old <- options(rzmq.errors = "condition")
  on.exit(options(old))
  got <- tryCatch(bind.socket(b$socket, b$address),
                  rzmq_EINVAL = function(e) "wrong handler",
                  rzmq_EADDRINUSE = function(e) e)
  expect_s3_class(got, "rzmq_EADDRINUSE")
  expect_identical(conditionMessage(got), "Address already in use")
  expect_identical(got$errno, zmq.errno())
  expect_type(got$errno, "integer")
  expect_identical(conditionCall(got), quote(bind.socket(b$socket, b$address)))
  # uncaught, it is an error mentioning the call
  expect_error(bind.socket(b$socket, b$address), "Address already in use", class = "rzmq_EADDRINUSE")
  # misuse stays a plain R error naming the argument
  e <- tryCatch(bind.socket(b$socket, NA_character_), error = function(e) e)
  expect_false(inherits(e, "rzmq_error"))
  expect_match(conditionMessage(e), "`address`")
  # success is unchanged
  expect_identical(withVisible(bind.socket(b$socket, inproc())), list(value = TRUE, visible = FALSE))
})

test_that("EAGAIN (dont.wait, timeouts) is a quiet NULL/FALSE under \"condition\", rzmq_EAGAIN under \"condition-all\"", {
  pull <- fresh_socket("ZMQ_PULL")
  timed <- fresh_socket("ZMQ_PULL")
  set.rcv.timeout(timed, 10L)
  push <- fresh_socket("ZMQ_PUSH") # no peer: a send times out
  set.send.timeout(push, 0L)
  eagain <- list(
    list(fun = "receive.socket", args = function() list(socket = pull, dont.wait = TRUE), value = NULL),
    list(fun = "receive.string", args = function() list(socket = timed), value = NULL),
    list(fun = "receive.multipart", args = function() list(socket = timed), value = NULL),
    list(fun = "send.socket", args = function() list(socket = push, data = 1), value = FALSE),
    list(fun = "send.raw.string", args = function() list(socket = push, data = "x"), value = FALSE),
    list(fun = "send.messages", args = function() list(socket = push, data = list(1)), value = 0L),
    list(fun = "receive.messages", args = function() list(socket = pull, dont.wait = TRUE), value = list()),
    list(fun = "receive.event", value = NULL,
         args = function() list(monitor = monitor.socket(fresh_socket(), "CONNECTED"), dont.wait = TRUE))
  )
  for (row in eagain) {
    for (mode in list(NULL, "message", "condition")) {
      r <- run_row(row, mode)
      expect_identical(r$value, row$value, label = row$fun)
      expect_length(r$messages, 0L)
      expect_null(r$cond, label = row$fun)
      expect_identical(r$errno, 11L)
    }
    r <- run_row(row, "condition-all")
    expect_identical(class(r$cond), c("rzmq_EAGAIN", "rzmq_error", "error", "condition"),
                     label = row$fun)
    expect_identical(r$cond$errno, 11L)
    expect_identical(conditionMessage(r$cond), "Resource temporarily unavailable")
    expect_identical(conditionCall(r$cond)[[1]], as.name(row$fun))
  }
})

test_that("an errno without a name in the table gives rzmq_E<number>; a bad option value is an R error", {
  # all the failures libzmq gives rzmq's calls have names: this one is made up
  expect_error(rzmq:::rzmq_raise(123456L, "E123456", "made up"), "made up", class = "rzmq_E123456")
  s <- fresh_socket()
  old <- options(rzmq.errors = "errors, please")
  on.exit(options(old))
  expect_error(set.linger(s, -5), "options\\(rzmq.errors\\) must be")
  # only a failure reads the option: success is unaffected
  expect_true(set.linger(s, 0))
})

test_that("the table covers every exported function that can return FALSE/NULL on a libzmq failure", {
  covered <- unique(vapply(failing_calls, `[[`, "", "fun"))
  # exports whose failures are R errors or that have no libzmq failure
  never_quiet <- c("init.context", "init.socket", "destroy.context", "destroy.socket",
                   "init.message", "zmq.errno", "zmq.strerror", "zmq.version",
                   "sockopt.names", "ctxopt.names", "zmq.has", "curve.keypair",
                   "curve.public", "z85.encode", "z85.decode", "write.curve.keys",
                   "read.curve.keys", "init.authenticator", "configure.authenticator",
                   "destroy.authenticator", "authenticator.log", "set.curve.server",
                   "set.curve.client", "set.plain.server", "set.plain.client",
                   "set.swap", "set.mcast.loop", "monitor.socket", "read.events",
                   "init.proxy", "stop.proxy",
                   # event loops: R errors, warnings and rejected promises
                   "on.message", "cancel.on.message", "receive.promise",
                   # R errors, or no libzmq call that can fail
                   "init.poller", "socket.endpoints", "is.closed", "message.size",
                   # the cluster: R errors (rzmq_worker_lost, start errors)
                   "init.cluster", "launch.local", "run.worker", "worker.command",
                   # launchers for other machines: R errors (test-launch.R)
                   "launch.ssh", "launch.command", "launch.slurm")
  expect_length(intersect(covered, names(unprovokable)), 0L)
  expect_length(intersect(c(covered, names(unprovokable)), never_quiet), 0L)
  # every export is in exactly one of the three
  expect_setequal(c(covered, names(unprovokable), never_quiet), getNamespaceExports("rzmq"))
  # the functions documented to return FALSE/NULL on failure are the covered
  # ones and those whose failure cannot be provoked
  can_fail <- c("bind.socket", "connect.socket", "unbind.socket", "disconnect.socket",
                grep("^(send|receive)\\.", getNamespaceExports("rzmq"), value = TRUE),
                grep("^(set|get)\\.", getNamespaceExports("rzmq"), value = TRUE),
                "subscribe", "unsubscribe", "poll.socket", "poll.poller",
                "zmq.proxy", "pause.proxy", "resume.proxy", "proxy.stats")
  can_fail <- setdiff(can_fail, c("set.curve.server", "set.curve.client", "set.plain.server",
                                  "set.plain.client", "set.swap", "set.mcast.loop",
                                  "receive.promise"))
  expect_setequal(c(covered, names(unprovokable)), can_fail)
})

# ---- failures that end a call: rzmq_fail_stop -----------------------------------
# A call that cannot go on (an option libzmq refuses to security, a key not
# derived, memory not had, a context or socket not made) is an R error: of
# class rzmq_<NAME>/rzmq_error with errno and the exported call under
# "condition", a plain R error with the same text otherwise. libzmq and the
# system do not fail these on demand: scripts/fail-shim.c, preloaded into a
# child R, makes one chosen call fail once with a chosen errno.

# Build scripts/fail-shim.c; its path, or the test fails with the compiler's
# output.
build_fail_shim <- function() {
  skip_on_os(c("windows", "mac", "solaris")) # LD_PRELOAD: Linux's loader
  skip_if_not_installed("callr")
  dir <- tempfile("fail-shim")
  dir.create(dir)
  file.copy(script_path("fail-shim.c"), dir)
  run <- processx::run(file.path(R.home("bin"), "R"),
                       c("CMD", "SHLIB", "-o", "fail-shim.so", "fail-shim.c"),
                       wd = dir, env = c("current", PKG_LIBS = "-ldl", R_TESTS = ""),
                       error_on_status = FALSE, timeout = 120)
  so <- file.path(dir, "fail-shim.so")
  if (run$status != 0L || !file.exists(so))
    stop("cannot build fail-shim.c:\n", run$stdout, run$stderr)
  so
}

# Run the failing calls of `cases` (name = list(arm, call), as quoted R) in
# a child R with the shim preloaded, under the default and under
# "condition": for each, what was raised (the condition), zmq.errno() after,
# and whether the shim's one-shot allocation failure was used.
run_with_shim <- function(cases, timeout = 60) {
  so <- build_fail_shim()
  # a sanitizer's runtime must stay first on LD_PRELOAD
  preload <- paste(c(Sys.getenv("LD_PRELOAD")[nzchar(Sys.getenv("LD_PRELOAD"))], so),
                   collapse = " ")
  proc <- child_r(function(so, cases) {
    library(rzmq)
    dyn.load(so) # the preloaded copy: .C() arms it
    ctx <- init.context()
    env <- environment()
    out <- list()
    for (name in names(cases)) {
      for (mode in c("default", "condition")) {
        old <- options(rzmq.errors = if (mode == "condition") "condition")
        eval(cases[[name]]$setup, env)
        eval(cases[[name]]$arm, env)
        cond <- tryCatch({
          eval(cases[[name]]$call, env)
          NULL
        }, error = identity)
        options(old)
        unused <- .C("shim_alloc_armed", 0L)[[1]]
        invisible(.C("shim_fail_alloc", 0L))
        out[[name]][[mode]] <- list(cond = cond, errno = zmq.errno(),
                                    alloc_unused = unused == 1L)
      }
    }
    destroy.context(ctx)
    list(results = out, can_fail_alloc = .C("shim_can_fail_alloc", 0L)[[1]] == 1L)
  }, args = list(so = so, cases = cases), env = c(callr::rcmd_safe_env(), LD_PRELOAD = preload))
  child_wait(proc, timeout)
  expect_identical(proc$get_exit_status(), 0L, label = child_stderr(proc))
  proc$get_result()
}

# The failure `r` (both modes) is `class`, errno `errno`, text `text`,
# raised by the exported `fun`; under the default a plain R error.
expect_fail_stop <- function(r, fun, class, errno, text) {
  lab <- sprintf("%s -> %s", fun, class)
  cond <- r$condition$cond
  expect_identical(class(cond), c(class, "rzmq_error", "error", "condition"), label = lab)
  expect_identical(cond$errno, errno, label = lab)
  expect_identical(conditionMessage(cond), text, label = lab)
  expect_identical(conditionCall(cond)[[1]], as.name(fun), label = lab)
  expect_identical(r$condition$errno, errno, label = lab)
  # the default: an R error with the same text, as before; zmq.errno() set
  plain <- r$default$cond
  expect_s3_class(plain, "simpleError")
  expect_false(inherits(plain, "rzmq_error"), label = lab)
  expect_identical(conditionMessage(plain), text, label = lab)
  expect_identical(r$default$errno, errno, label = lab)
}

# Linux's errno numbers (the shim runs on Linux only)
EINVAL <- 22L; ENOTSUP <- 95L; ENOMEM <- 12L

test_that("security options libzmq refuses and a key it cannot derive end the call, classed", {
  skip_if_not(zmq.has("curve"), "libzmq without CURVE")
  # the option numbers are zmq.h's: ZMQ_PLAIN_SERVER 44, ZMQ_PLAIN_PASSWORD 46,
  # ZMQ_CURVE_SERVER 47, ZMQ_CURVE_SERVERKEY 50; EINVAL 22, ENOTSUP 95
  cases <- list(
    curve_server = list(
      setup = quote({ s <- init.socket(ctx, "ZMQ_PULL"); keys <- curve.keypair() }),
      arm = quote(.C("shim_refuse_option", 47L, 22L)),
      call = quote(set.curve.server(s, keys$secret))),
    curve_client = list(
      setup = quote({ s <- init.socket(ctx, "ZMQ_PUSH"); keys <- curve.keypair() }),
      arm = quote(.C("shim_refuse_option", 50L, 22L)),
      call = quote(set.curve.client(s, keys$public, keys))),
    plain_server = list(
      setup = quote(s <- init.socket(ctx, "ZMQ_PULL")),
      arm = quote(.C("shim_refuse_option", 44L, 22L)),
      call = quote(set.plain.server(s))),
    plain_client = list(
      setup = quote(s <- init.socket(ctx, "ZMQ_PUSH")),
      arm = quote(.C("shim_refuse_option", 46L, 22L)),
      call = quote(set.plain.client(s, "alice", "wonderland"))),
    curve_public = list(
      setup = quote(keys <- curve.keypair()),
      arm = quote(.C("shim_fail_curve_public", 95L)),
      call = quote(curve.public(keys$secret))),
    # the check that `keys` is a pair derives the public key: a failure
    # there is libzmq's, not a mismatch
    client_pair = list(
      setup = quote({ s <- init.socket(ctx, "ZMQ_PUSH"); keys <- curve.keypair() }),
      arm = quote(.C("shim_fail_curve_public", 95L)),
      call = quote(set.curve.client(s, keys$public, keys)))
  )
  res <- run_with_shim(cases)$results
  expect_fail_stop(res$curve_server, "set.curve.server", "rzmq_EINVAL", EINVAL,
                   "cannot set ZMQ_CURVE_SERVER: Invalid argument")
  expect_fail_stop(res$curve_client, "set.curve.client", "rzmq_EINVAL", EINVAL,
                   "cannot set ZMQ_CURVE_SERVERKEY: Invalid argument")
  expect_fail_stop(res$plain_server, "set.plain.server", "rzmq_EINVAL", EINVAL,
                   "cannot set ZMQ_PLAIN_SERVER: Invalid argument")
  expect_fail_stop(res$plain_client, "set.plain.client", "rzmq_EINVAL", EINVAL,
                   "cannot set ZMQ_PLAIN_PASSWORD: Invalid argument")
  expect_fail_stop(res$curve_public, "curve.public", "rzmq_ENOTSUP", ENOTSUP,
                   "cannot derive the public key: Operation not supported")
  expect_fail_stop(res$client_pair, "set.curve.client", "rzmq_ENOTSUP", ENOTSUP,
                   "cannot derive the public key of `keys$secret`: Operation not supported")
})

test_that("memory rzmq cannot have ends the call as rzmq_ENOMEM", {
  cases <- list(
    poller = list(
      setup = quote(s <- init.socket(ctx, "ZMQ_PULL")),
      arm = quote(.C("shim_fail_alloc", 1L)),
      call = quote(init.poller(list(s), list("read")))),
    # libzmq binds; rzmq cannot note the endpoint for socket.endpoints()
    endpoint = list(
      setup = quote({ s <- init.socket(ctx, "ZMQ_PULL"); ep <- paste0("inproc://enomem-", mode) }),
      arm = quote(.C("shim_fail_alloc", 1L)),
      call = quote(bind.socket(s, ep))),
    authenticator = list(
      setup = quote(actx <- init.context()),
      arm = quote(.C("shim_fail_alloc", 1L)),
      call = quote(init.authenticator(actx, allow = "127.0.0.1")))
  )
  res <- run_with_shim(cases)
  unused <- vapply(res$results, function(r) r$default$alloc_unused || r$condition$alloc_unused, NA)
  # a sanitizer's allocator, preloaded first, keeps rzmq's allocations from the shim
  if (!res$can_fail_alloc || (any(unused) && nzchar(Sys.getenv("LD_PRELOAD"))))
    skip("the shim cannot fail rzmq's allocations here (not glibc, or a preloaded allocator)")
  expect_false(any(unused))
  expect_fail_stop(res$results$poller, "init.poller", "rzmq_ENOMEM", ENOMEM,
                   "cannot allocate a zmq poller: Cannot allocate memory")
  # the endpoint is named in the text: one per mode
  r <- res$results$endpoint
  for (mode in c("default", "condition"))
    r[[mode]]$cond$message <- sub(paste0("enomem-", mode), "enomem", r[[mode]]$cond$message, fixed = TRUE)
  expect_fail_stop(r, "bind.socket", "rzmq_ENOMEM", ENOMEM,
                   "cannot allocate memory to record endpoint \"inproc://enomem\": Cannot allocate memory")
  expect_fail_stop(res$results$authenticator, "init.authenticator", "rzmq_ENOMEM", ENOMEM,
                   "cannot allocate the authenticator's lists: Cannot allocate memory")
})

# Creating a context or a socket fails with an errno too (context.c and
# socket.c raise through rzmq_fail_stop).
test_that("init.context() that cannot create a context (EMFILE) is classed, as in tryCatch(init.context(), rzmq_EMFILE = ...)", {
  # Each context holds a descriptor (its mailbox's eventfd): in a child whose
  # limit is lowered to 256 (R raises a lower soft limit to its hard one, and
  # needs about 256 to start), contexts are made until one cannot be.
  skip_on_os("windows")
  skip_if_not_installed("processx")
  out <- tempfile(fileext = ".rds")
  on.exit(unlink(out), add = TRUE)
  code <- sprintf('
    library(rzmq)
    con <- file(%s, "wb") # opened now: no descriptor is left later
    made <- list()
    caught <- function(mode) {
      old <- options(rzmq.errors = mode)
      on.exit(options(old))
      for (i in 1:2000) {
        e <- tryCatch({ made[[length(made) + 1L]] <<- init.context(); NULL },
                      error = identity)
        if (!is.null(e)) return(list(cond = e, errno = zmq.errno(), n = i))
      }
      NULL
    }
    res <- list(default = caught(NULL))
    # under "condition", as the issue asks: tryCatch(init.context(), rzmq_EMFILE = ...)
    old <- options(rzmq.errors = "condition")
    for (i in 1:2000) {
      got <- tryCatch(init.context(), rzmq_EMFILE = function(e) list(matched = TRUE),
                      error = function(e) list(matched = FALSE))
      if (is.list(got)) break
      made[[length(made) + 1L]] <- got
    }
    options(old)
    res$handler <- got
    res$condition <- caught("condition")
    saveRDS(res, con)
    close(con)
  ', deparse(out))
  run <- processx::run("sh", c("-c", 'ulimit -n 256 && exec "$0" "$@"', rscript(), "-e", code),
                       error_on_status = FALSE, timeout = 60, env = c("current", R_TESTS = ""))
  expect_identical(run$status, 0L, label = paste(run$stdout, run$stderr))
  res <- readRDS(out)
  text <- "cannot create a zmq context: Too many open files"
  # the default, as before: a plain R error
  expect_s3_class(res$default$cond, "simpleError")
  expect_false(inherits(res$default$cond, "rzmq_error"))
  expect_identical(conditionMessage(res$default$cond), text)
  expect_gt(res$default$n, 1L) # some contexts were made first
  expect_identical(res$default$errno, 24L) # EMFILE
  # "condition": the issue's own example matches
  expect_true(res$handler$matched)
  cond <- res$condition$cond
  expect_identical(class(cond), c("rzmq_EMFILE", "rzmq_error", "error", "condition"))
  expect_identical(cond$errno, 24L)
  expect_identical(conditionMessage(cond), text)
  expect_identical(conditionCall(cond), quote(init.context()))
})

test_that("init.socket() past the context's MAX_SOCKETS (EMFILE) is classed", {
  # ZMQ_MAX_SOCKETS 1: libzmq refuses the second socket with EMFILE
  make <- function(mode) {
    ctx <- init.context()
    stopifnot(isTRUE(set.ctxopt(ctx, "MAX_SOCKETS", 1)))
    first <- init.socket(ctx, "ZMQ_PAIR")
    old <- options(rzmq.errors = mode)
    on.exit({ options(old); destroy.context(ctx) })
    list(cond = tryCatch(init.socket(ctx, "ZMQ_PULL"), error = identity), errno = zmq.errno())
  }
  text <- "cannot create a ZMQ_PULL socket: Too many open files"
  plain <- make(NULL)
  expect_s3_class(plain$cond, "simpleError")
  expect_false(inherits(plain$cond, "rzmq_error"))
  expect_identical(conditionMessage(plain$cond), text)
  expect_identical(plain$errno, 24L)
  r <- make("condition")
  expect_identical(class(r$cond), c("rzmq_EMFILE", "rzmq_error", "error", "condition"))
  expect_identical(r$cond$errno, 24L)
  expect_identical(r$errno, 24L)
  expect_identical(conditionMessage(r$cond), text)
  expect_identical(conditionCall(r$cond), quote(init.socket(ctx, "ZMQ_PULL")))
})
