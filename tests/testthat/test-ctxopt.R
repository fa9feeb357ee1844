# Context options: set.ctxopt()/get.ctxopt()/ctxopt.names(); every option
# set (where writable) and read back; ZMQ_MAX_SOCKETS above the default
# lets one context hold more than 1023 sockets; names in any spelling; bad
# names and values are R errors, values libzmq refuses FALSE + a message.

# option, a value other than the default, and what get.ctxopt() returns for it
ctx_values <- list(
  list(name = "ZMQ_IO_THREADS", value = 3, read = 3L),
  list(name = "ZMQ_MAX_SOCKETS", value = 2048, read = 2048L),
  list(name = "ZMQ_IPV6", value = TRUE, read = TRUE),
  list(name = "ZMQ_BLOCKY", value = FALSE, read = FALSE),
  list(name = "ZMQ_MAX_MSGSZ", value = 65536, read = 65536L),
  list(name = "ZMQ_THREAD_SCHED_POLICY", value = 0, read = 0L),
  list(name = "ZMQ_THREAD_NAME_PREFIX", value = 42, read = 42L),
  list(name = "ZMQ_THREAD_PRIORITY", value = 1, read = NULL) # cannot be read
)
all_ctx_options <- c("ZMQ_IO_THREADS", "ZMQ_MAX_SOCKETS", "ZMQ_SOCKET_LIMIT", "ZMQ_IPV6",
                     "ZMQ_BLOCKY", "ZMQ_MAX_MSGSZ", "ZMQ_MSG_T_SIZE", "ZMQ_THREAD_PRIORITY",
                     "ZMQ_THREAD_SCHED_POLICY", "ZMQ_THREAD_NAME_PREFIX")

test_that("ctxopt.names() is a data frame of the context options, as sockopt.names()", {
  opts <- ctxopt.names()
  expect_s3_class(opts, "data.frame")
  expect_identical(names(opts), names(sockopt.names()))
  expect_identical(names(opts), c("name", "type", "read", "write"))
  expect_true(all(opts$name %in% all_ctx_options))
  expect_true(all(opts$type %in% c("int", "bool")))
  # the options libzmq always had are there; a newer one this libzmq lacks
  # is an R error saying so (tested below)
  expect_true(all(c("ZMQ_IO_THREADS", "ZMQ_MAX_SOCKETS", "ZMQ_SOCKET_LIMIT",
                    "ZMQ_IPV6") %in% opts$name))
  row <- function(nm) as.list(opts[opts$name == nm, c("type", "read", "write")])
  expect_identical(row("ZMQ_IO_THREADS"), list(type = "int", read = TRUE, write = TRUE))
  expect_identical(row("ZMQ_SOCKET_LIMIT"), list(type = "int", read = TRUE, write = FALSE))
  expect_identical(row("ZMQ_IPV6"), list(type = "bool", read = TRUE, write = TRUE))
  if ("ZMQ_MSG_T_SIZE" %in% opts$name) {
    expect_identical(row("ZMQ_MSG_T_SIZE"), list(type = "int", read = TRUE, write = FALSE))
  }
  if ("ZMQ_THREAD_PRIORITY" %in% opts$name) {
    expect_identical(row("ZMQ_THREAD_PRIORITY"), list(type = "int", read = FALSE, write = TRUE))
  }
})

test_that("with libzmq 4.3 or newer, ctxopt.names() has every context option", {
  # (an option a libzmq older than 4.3 lacks is an R error naming it; no
  # libzmq this package is tested with lacks one)
  v <- as.integer(strsplit(zmq.version(), ".", fixed = TRUE)[[1]])
  skip_if(v[1] == 4 && v[2] < 3, "libzmq older than 4.3")
  expect_setequal(ctxopt.names()$name, all_ctx_options)
})

test_that("the defaults read back as libzmq documents them", {
  ctx <- init.context()
  expect_identical(get.ctxopt(ctx, "ZMQ_IO_THREADS"), 1L)
  expect_identical(get.ctxopt(ctx, "ZMQ_MAX_SOCKETS"), 1023L)
  expect_type(get.ctxopt(ctx, "ZMQ_SOCKET_LIMIT"), "integer")
  expect_gte(get.ctxopt(ctx, "ZMQ_SOCKET_LIMIT"), 1023L)
  expect_identical(get.ctxopt(ctx, "ZMQ_IPV6"), FALSE)
  opts <- ctxopt.names()$name
  if ("ZMQ_BLOCKY" %in% opts) expect_identical(get.ctxopt(ctx, "ZMQ_BLOCKY"), TRUE)
  if ("ZMQ_MAX_MSGSZ" %in% opts) expect_identical(get.ctxopt(ctx, "ZMQ_MAX_MSGSZ"), 2147483647L)
  if ("ZMQ_MSG_T_SIZE" %in% opts) expect_identical(get.ctxopt(ctx, "ZMQ_MSG_T_SIZE"), 64L)
  # -1 is a value, not a failure
  if ("ZMQ_THREAD_SCHED_POLICY" %in% opts) {
    expect_identical(get.ctxopt(ctx, "ZMQ_THREAD_SCHED_POLICY"), -1L)
  }
  if ("ZMQ_THREAD_NAME_PREFIX" %in% opts) {
    expect_identical(get.ctxopt(ctx, "ZMQ_THREAD_NAME_PREFIX"), 0L)
  }
  # init.context(threads) is ZMQ_IO_THREADS
  expect_identical(get.ctxopt(init.context(2), "IO_THREADS"), 2L)
  expect_identical(get.ctxopt(init.context(0L), "IO_THREADS"), 0L)
})

test_that("every writable context option is set (TRUE, invisibly) and read back", {
  opts <- ctxopt.names()
  writable <- opts$name[opts$write]
  expect_setequal(vapply(ctx_values, `[[`, "", "name"), writable)
  for (cv in ctx_values) {
    if (!cv$name %in% writable) next
    # a context whose threads never start: thread scheduling never applies
    ctx <- init.context()
    res <- withVisible(set.ctxopt(ctx, cv$name, cv$value))
    expect_identical(res, list(value = TRUE, visible = FALSE), label = cv$name)
    if (is.null(cv$read)) {
      expect_error(get.ctxopt(ctx, cv$name), "can only be set", label = cv$name)
    } else {
      expect_identical(get.ctxopt(ctx, cv$name), cv$read, label = cv$name)
    }
    destroy.context(ctx)
  }
})

test_that("names work with or without ZMQ_, in any case; integers and flags as numbers", {
  ctx <- init.context()
  expect_true(set.ctxopt(ctx, "max_sockets", 1500L))
  expect_identical(get.ctxopt(ctx, "ZMQ_MAX_SOCKETS"), 1500L)
  expect_identical(get.ctxopt(ctx, "Max_Sockets"), 1500L)
  expect_identical(get.ctxopt(ctx, "zmq_max_sockets"), 1500L)
  expect_true(set.ctxopt(ctx, "ZMQ_ipv6", 1))
  expect_identical(get.ctxopt(ctx, "ipv6"), TRUE)
  expect_true(set.ctxopt(ctx, "IPV6", FALSE))
  expect_identical(get.ctxopt(ctx, "IPV6"), FALSE)
})

test_that("read-only options cannot be set, set-only ones cannot be read: R errors naming `name`", {
  ctx <- init.context()
  opts <- ctxopt.names()
  for (nm in opts$name[!opts$write]) {
    expect_error(set.ctxopt(ctx, nm, 1), sprintf("`name`: context option %s can only be read", nm),
                 label = nm)
  }
  for (nm in opts$name[!opts$read]) {
    expect_error(get.ctxopt(ctx, nm), sprintf("`name`: context option %s can only be set", nm),
                 label = nm)
  }
  expect_error(set.ctxopt(ctx, "NOPE", 1), "`name` \"NOPE\" is not a zmq context option")
  expect_error(get.ctxopt(ctx, "ZMQ_NOPE"), "`name` \"NOPE\" is not a zmq context option")
  # a socket option is not a context option
  expect_error(get.ctxopt(ctx, "ZMQ_LINGER"), "`name` \"LINGER\" is not a zmq context option")
  expect_error(get.ctxopt(ctx, ""), "`name`")
  expect_error(get.ctxopt(ctx, NA_character_), "`name`")
  expect_error(get.ctxopt(ctx, 2L), "`name`")
})

test_that("bad values are R errors naming `value`; values libzmq refuses are FALSE + a message", {
  ctx <- init.context()
  for (v in list(1.5, NA, NA_real_, "x", c(1, 2), list(1), NULL, 2^40)) {
    expect_error(set.ctxopt(ctx, "MAX_SOCKETS", v), "`value`", label = deparse1(v))
  }
  expect_error(set.ctxopt(ctx, "IPV6", NA), "`value`")
  if ("ZMQ_THREAD_NAME_PREFIX" %in% ctxopt.names()$name) {
    expect_error(set.ctxopt(ctx, "THREAD_NAME_PREFIX", "worker"), "`value` must be a whole number")
  }
  # libzmq's own checks
  for (case in list(list("IO_THREADS", -1), list("MAX_SOCKETS", 0), list("MAX_MSGSZ", -1),
                    list("THREAD_SCHED_POLICY", -5), list("THREAD_PRIORITY", -5))) {
    if (!paste0("ZMQ_", case[[1]]) %in% ctxopt.names()$name) next
    expect_message(res <- withVisible(set.ctxopt(ctx, case[[1]], case[[2]])), "^Invalid argument",
                   label = case[[1]])
    expect_identical(res, list(value = FALSE, visible = FALSE), label = case[[1]])
    expect_identical(zmq.errno(), 22L)
  }
  # unchanged
  expect_identical(get.ctxopt(ctx, "IO_THREADS"), 1L)
  expect_identical(get.ctxopt(ctx, "MAX_SOCKETS"), 1023L)
})

test_that("ZMQ_MAX_SOCKETS above the default lets one context hold 1100 sockets", {
  # each socket holds a file descriptor from the start (its mailbox's
  # eventfd), bound or not: 1100 sockets need more than the usual soft limit
  # of 1024 descriptors. R cannot raise it, so this runs in a child started
  # by a shell that raises its soft limit up to the hard one.
  skip_on_os("windows")
  skip_if_not_installed("processx")
  hard <- suppressWarnings(system("ulimit -Hn", intern = TRUE))
  if (!identical(hard, "unlimited") && as.numeric(hard) < 1300) {
    skip(sprintf("the hard limit of file descriptors (ulimit -Hn) is %s: too few", hard))
  }
  out <- tempfile(fileext = ".rds")
  on.exit(unlink(out), add = TRUE)
  code <- sprintf('
    library(rzmq)
    res <- list(limit = system("ulimit -n", intern = TRUE))
    # the default: the 1024th socket fails
    ctx <- init.context()
    socks <- vector("list", 1023L)
    for (i in seq_along(socks)) socks[[i]] <- init.socket(ctx, "ZMQ_PAIR")
    res$default_1024th <- tryCatch(init.socket(ctx, "ZMQ_PAIR"), error = conditionMessage)
    destroy.context(ctx)
    # raised before the first socket
    ctx <- init.context()
    res$set <- set.ctxopt(ctx, "ZMQ_MAX_SOCKETS", 1200)
    fds <- function() length(list.files("/proc/self/fd"))
    before <- fds()
    socks <- vector("list", 1100L)
    for (i in seq_along(socks)) socks[[i]] <- init.socket(ctx, "ZMQ_PAIR")
    res$made <- sum(vapply(socks, function(s) !is.closed(s), NA))
    res$fds <- fds() - before
    # and they work: the last two talk
    set.rcv.timeout(socks[[1099]], 10000L)
    res$bind <- bind.socket(socks[[1099]], "inproc://many")
    res$connect <- connect.socket(socks[[1100]], "inproc://many")
    res$sent <- send.socket(socks[[1100]], "over a thousand")
    res$got <- receive.socket(socks[[1099]])
    destroy.context(ctx)
    saveRDS(res, %s)
  ', deparse(out))
  # raise the soft limit to the hard one (or 4096 if that is unlimited)
  raise <- 'h=$(ulimit -Hn); [ "$h" = unlimited ] && h=4096; ulimit -n "$h" && exec "$0" "$@"'
  run <- processx::run("sh", c("-c", raise, rscript(), "-e", code), error_on_status = FALSE,
                       timeout = 120, env = c("current", R_TESTS = ""))
  expect_identical(run$status, 0L, label = paste(run$stdout, run$stderr))
  res <- readRDS(out)
  expect_gte(as.numeric(res$limit), 1300)
  expect_match(res$default_1024th, "Too many open files")
  expect_true(res$set)
  expect_identical(res$made, 1100L)
  if (dir.exists("/proc/self/fd")) expect_gte(res$fds, 1100L) # one descriptor each
  expect_identical(res[c("bind", "connect", "sent", "got")],
                   list(bind = TRUE, connect = TRUE, sent = TRUE, got = "over a thousand"))
})

test_that("ZMQ_THREAD_NAME_PREFIX names the threads the context starts later", {
  skip_if_not(dir.exists("/proc/self/task"), "no /proc/self/task to read thread names from")
  skip_if_not("ZMQ_THREAD_NAME_PREFIX" %in% ctxopt.names()$name)
  comms <- function() {
    vapply(list.files("/proc/self/task", full.names = TRUE), function(d) {
      tryCatch(readLines(file.path(d, "comm"), warn = FALSE)[1], error = function(e) "")
    }, "")
  }
  ctx <- init.context()
  expect_true(set.ctxopt(ctx, "THREAD_NAME_PREFIX", 4711))
  s <- init.socket(ctx, "ZMQ_PAIR") # starts the context's threads
  # each thread names itself once running: wait for it, with a deadline
  deadline <- Sys.time() + 5
  repeat {
    names <- comms()
    if (any(startsWith(names, "4711/")) || Sys.time() > deadline) break
    Sys.sleep(0.05)
  }
  # libzmq names its threads only where its build found pthread_setname_np:
  # without that the option reads back (tested above) but shows nowhere
  if (!any(grepl("ZMQbg", names))) skip("this libzmq does not name its threads")
  expect_true(any(startsWith(names, "4711/ZMQbg")), label = paste(names, collapse = " "))
  destroy.context(ctx)
})

test_that("ZMQ_THREAD_SCHED_POLICY is applied to the threads the context starts later (child process)", {
  # libzmq aborts the process if the system refuses a scheduling setting, so
  # this runs in a child. SCHED_BATCH (3 on Linux) needs no privilege; each
  # thread's policy is field 41 of /proc/self/task/<tid>/stat.
  skip_if_not(Sys.info()[["sysname"]] == "Linux", "SCHED_BATCH and /proc are Linux's")
  skip_if_not("ZMQ_THREAD_SCHED_POLICY" %in% ctxopt.names()$name)
  skip_if_not_installed("callr")
  out <- callr::r(function() {
    library(rzmq)
    policy <- function(tid) {
      stat <- readLines(sprintf("/proc/self/task/%s/stat", tid), warn = FALSE)
      fields <- strsplit(sub("^.*\\) ", "", stat), " ")[[1]] # after "(comm) "
      as.integer(fields[41 - 2])
    }
    tasks <- function() list.files("/proc/self/task")
    before <- tasks()
    ctx <- init.context()
    ok <- set.ctxopt(ctx, "THREAD_SCHED_POLICY", 3) # SCHED_BATCH
    p <- init.socket(ctx, "ZMQ_PAIR") # starts the context's threads
    q <- init.socket(ctx, "ZMQ_PAIR")
    set.rcv.timeout(p, 10000L)
    bind.socket(p, "tcp://127.0.0.1:*")
    connect.socket(q, get.last.endpoint(p))
    send.socket(q, "scheduled")
    got <- receive.socket(p)
    started <- setdiff(tasks(), before)
    # each thread sets its policy once it runs: wait for that, with a deadline
    policies <- function(tids) vapply(tids, policy, 1L, USE.NAMES = FALSE)
    deadline <- Sys.time() + 5
    while (!all(policies(started) == 3L) && Sys.time() < deadline) Sys.sleep(0.02)
    # a second context without the option: its threads keep the default
    ctx2 <- init.context()
    before2 <- tasks()
    s2 <- init.socket(ctx2, "ZMQ_PAIR")
    started2 <- setdiff(tasks(), before2)
    list(ok = ok, policy = get.ctxopt(ctx, "THREAD_SCHED_POLICY"), got = got,
         n_started = length(started), started = policies(started),
         main = policy(Sys.getpid()), default = policies(started2))
  }, timeout = 60)
  expect_identical(out[c("ok", "policy", "got")], list(ok = TRUE, policy = 3L, got = "scheduled"))
  expect_gte(out$n_started, 2L) # its I/O thread and its reaper at least
  expect_true(all(out$started == 3L), label = paste(out$started, collapse = " "))
  expect_identical(out$main, 0L) # R's own thread is left as it was
  expect_gte(length(out$default), 2L)
  expect_true(all(out$default == 0L), label = paste(out$default, collapse = " "))
})
