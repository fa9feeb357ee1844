# Contexts: creation, the plain-externalptr handle contract, destroy, and the
# rule that a socket keeps its context alive.

test_that("init.context() makes a working context by default and with threads = 2", {
  ctx <- init.context()
  expect_identical(typeof(ctx), "externalptr")

  # threads = 2, given as a double: a context whose I/O threads carry tcp
  ctx2 <- init.context(2)
  expect_identical(typeof(ctx2), "externalptr")
  a <- with_deadline(init.socket(ctx2, "ZMQ_PAIR"))
  b <- with_deadline(init.socket(ctx2, "ZMQ_PAIR"))
  expect_true(connect.socket(b, bind_tcp(a)))
  expect_true(send.socket(b, "over tcp"))
  expect_true(readable(a))
  expect_identical(receive.socket(a), "over tcp")

  # threads = 2L and 0 (inproc only) are accepted as well
  expect_identical(typeof(init.context(2L)), "externalptr")
  ctx0 <- init.context(0)
  p0 <- socket_pair(ctx = ctx0)
  expect_true(send.socket(p0$b, 1:3))
  expect_identical(receive.socket(p0$a), 1:3)
})

test_that("bad thread counts are R errors naming `threads`", {
  expect_error(init.context(threads = NA), "`threads`")
  expect_error(init.context(threads = NA_real_), "`threads`")
  expect_error(init.context(threads = -1), "`threads`")
  expect_error(init.context(threads = -1L), "`threads`")
  expect_error(init.context(threads = 1.5), "`threads`")
  expect_error(init.context(threads = "a"), "`threads`")
  expect_error(init.context(threads = 1:2), "`threads`")
  expect_error(init.context(threads = list(1)), "`threads`")
})

test_that("threads = NULL is an R error naming `threads`", {
  expect_error(init.context(threads = NULL), "`threads`")
})

test_that("threads = a function is an R error naming `threads`", {
  expect_error(init.context(threads = sum), "`threads`")
})

test_that("contexts, sockets and message objects are plain external pointers", {
  ctx <- init.context()
  s <- with_deadline(init.socket(ctx, "ZMQ_PUSH"))
  msg <- init.message(list(x = 5))
  for (h in list(ctx, s, msg)) {
    expect_identical(typeof(h), "externalptr")
    expect_identical(class(h), "externalptr")
    expect_null(attributes(h))
  }
  # a reference-class field declared "externalptr" accepts every handle
  Holder <- setRefClass("rzmqTestHolder", fields = list(ptr = "externalptr"))
  holder <- Holder$new()
  expect_no_error(holder$ptr <- ctx)
  expect_no_error(holder$ptr <- s)
  expect_no_error(holder$ptr <- msg)
  expect_identical(holder$ptr, msg)
})

test_that("destroy.context() twice is harmless", {
  ctx <- init.context()
  expect_identical(withVisible(destroy.context(ctx)), list(value = TRUE, visible = FALSE))
  expect_identical(withVisible(destroy.context(ctx)), list(value = TRUE, visible = FALSE))
})

test_that("destroy.context() closes the context's sockets", {
  ctx <- init.context()
  p <- socket_pair(ctx = ctx)
  expect_true(send.socket(p$b, "before"))
  expect_identical(receive.socket(p$a), "before")
  expect_true(destroy.context(ctx, linger = 0))
  expect_error(send.socket(p$b, "after"), "`socket` has been closed")
  expect_error(receive.socket(p$a, dont.wait = TRUE), "`socket` has been closed")
  expect_error(bind.socket(p$a, inproc()), "`socket` has been closed")
  expect_error(get.sockopt(p$a, "TYPE"), "`socket` has been closed")
  # closing a socket its context already closed is harmless
  expect_true(destroy.socket(p$a))
})

test_that("init.socket() on a destroyed context is an R error", {
  ctx <- init.context()
  destroy.context(ctx)
  expect_error(init.socket(ctx, "ZMQ_PAIR"), "`context` has been destroyed")
})

test_that("a socket keeps its dropped context alive", {
  ctx <- init.context()
  a <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  b <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  ep <- inproc()
  expect_true(bind.socket(a, ep))
  expect_true(connect.socket(b, ep))
  rm(ctx)
  invisible(gc())
  invisible(gc())
  for (i in 1:3) {
    expect_true(send.socket(b, list(i = i)))
    expect_true(readable(a))
    expect_identical(receive.socket(a), list(i = i))
  }
  # the context's I/O thread still serves a new tcp listener
  expect_match(bind_tcp(a), "^tcp://127\\.0\\.0\\.1:[0-9]+$")
})

test_that("zmq.version() is a libzmq version >= 4.2", {
  v <- zmq.version()
  expect_type(v, "character")
  expect_length(v, 1L)
  expect_match(v, "^\\d+\\.\\d+\\.\\d+$")
  expect_true(package_version(v) >= "4.2")
})
