# is.closed(): FALSE while a handle of any kind can be used, TRUE once it is
# closed, destroyed, stopped or its context destroyed (or it was restored
# from a file); never an error for a handle of rzmq, an R error otherwise.

test_that("contexts and sockets: closed when destroyed, sockets with their context", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR")
  b <- init.socket(ctx, "ZMQ_PAIR")
  expect_false(is.closed(ctx))
  expect_false(is.closed(a))
  destroy.socket(a)
  expect_true(is.closed(a))
  expect_false(is.closed(b))
  expect_false(is.closed(ctx))
  destroy.context(ctx)
  expect_true(is.closed(ctx))
  expect_true(is.closed(b))
})

test_that("monitors, proxies and pollers", {
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  mon <- monitor.socket(s)
  expect_false(is.closed(mon))
  front <- init.socket(ctx, "ZMQ_PULL")
  back <- init.socket(ctx, "ZMQ_PUSH")
  bind.socket(front, inproc())
  bind.socket(back, inproc())
  proxy <- init.proxy(front, back)
  expect_false(is.closed(proxy))
  expect_false(is.closed(front)) # lent to the proxy, not closed
  stop.proxy(proxy)
  expect_true(is.closed(proxy))
  expect_false(is.closed(front))
  poller <- init.poller(list(s, mon), "read")
  expect_false(is.closed(poller))
  destroy.socket(mon)
  expect_true(is.closed(mon))
  expect_true(is.closed(poller)) # one of its sockets is closed
  # a proxy is stopped when its context is destroyed
  proxy2 <- init.proxy(front, back)
  expect_false(is.closed(proxy2))
  destroy.context(ctx)
  expect_true(is.closed(proxy2))
  expect_true(is.closed(front))
  expect_true(is.closed(s))
})

test_that("authenticators: closed when destroyed, or with their context", {
  skip_if_not(zmq.has("curve"), "libzmq without CURVE")
  ctx <- init.context()
  auth <- init.authenticator(ctx, curve = TRUE)
  expect_false(is.closed(auth))
  destroy.authenticator(auth)
  expect_true(is.closed(auth))
  auth2 <- init.authenticator(ctx, curve = TRUE)
  expect_false(is.closed(auth2))
  destroy.context(ctx)
  expect_true(is.closed(auth2))
})

test_that("message objects stay open; restored handles are closed", {
  msg <- init.message(1:3)
  expect_false(is.closed(msg))
  ctx <- init.context()
  s <- init.socket(ctx, "ZMQ_PAIR")
  expect_true(is.closed(restored_from_rds(msg)))
  expect_true(is.closed(restored_from_rds(s)))
  expect_true(is.closed(restored_from_rds(ctx)))
  expect_false(is.closed(s))
  destroy.context(ctx)
})

test_that("on.message() watchers: closed once cancelled or once their socket is", {
  skip_if_not_installed("later", "1.4.0")
  ctx <- init.context()
  on.exit(destroy.context(ctx))
  a <- init.socket(ctx, "ZMQ_PULL")
  b <- init.socket(ctx, "ZMQ_PULL")
  wa <- on.message(a, function(msg) NULL)
  wb <- on.message(b, function(msg) NULL)
  expect_false(is.closed(wa))
  cancel.on.message(wa)
  expect_true(is.closed(wa))
  expect_false(is.closed(wb))
  destroy.socket(b)
  expect_true(is.closed(wb))
  cancel.on.message(wb)
  later::run_now(0)
})

test_that("anything else is an R error naming the argument", {
  msg <- "`handle` must be a handle of rzmq"
  expect_error(is.closed(1), msg)
  expect_error(is.closed(NULL), msg)
  expect_error(is.closed("socket"), msg)
  expect_error(is.closed(list()), msg)
  expect_error(is.closed(new.env()), msg)
  # an external pointer of someone else
  expect_error(is.closed(new("externalptr")), msg)
})
