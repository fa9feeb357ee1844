# Large received frames (64 KB and more) come back as raw vectors that read
# the libzmq message in place: they must behave as ordinary raw vectors in
# everything R does, copy themselves before R writes to them, and never let
# R change a message that others share.

frame_state <- rzmq:::frame_state
big <- function(n = 200000, seed = 1) {
  set.seed(seed)
  as.raw(sample(0:255, n, replace = TRUE))
}

test_that("a large frame is received without a copy, a small one as an ordinary vector", {
  p <- socket_pair()
  x <- big()
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(typeof(y), "raw")
  expect_identical(length(y), length(x))
  expect_identical(y[c(1, 2, 200000)], x[c(1, 2, 200000)])
  expect_identical(frame_state(y), "message") # reading elements copies nothing
  expect_identical(identical(y, x), TRUE)
  # reading through C code that asks for write access copies once
  expect_true(frame_state(y) %in% c("message", "copied"))
  expect_identical(y, x)
  send.socket(p$b, x[1:65535], serialize = FALSE)
  expect_identical(frame_state(receive.socket(p$a, unserialize = FALSE)), "ordinary")
  send.socket(p$b, x[1:65536], serialize = FALSE)
  expect_identical(frame_state(receive.socket(p$a, unserialize = FALSE)), "message")
})

test_that("writing to a received frame copies it; the message and its sender are untouched", {
  p <- socket_pair()
  x <- big()
  keep <- as.raw(as.integer(x)) # a separate copy of the original bytes
  # over inproc the frame points into the sender's (lent) vector
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  y[1] <- as.raw((as.integer(x[1]) + 1) %% 256)
  # R either copies the bytes out of the message (the class's write access)
  # or duplicates the vector first; never writes into the message
  expect_true(frame_state(y) %in% c("copied", "ordinary"))
  expect_false(identical(y[1], x[1]))
  expect_identical(y[-1], x[-1])
  expect_identical(x, keep)
  # a second name for it: R's copy on write applies as for any vector
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  z <- y
  z[2] <- as.raw(0)
  expect_identical(frame_state(y), "message")
  expect_identical(y, keep)
  # a message object sent twice: changing the first copy leaves the second
  m <- init.message(x, serialize = FALSE)
  send.message.object(p$b, m)
  send.message.object(p$b, m)
  y1 <- receive.socket(p$a, unserialize = FALSE)
  y1[] <- as.raw(0)
  y2 <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(y2, keep)
  expect_true(all(y1 == as.raw(0)))
})

test_that("received frames work with everything that reads raw vectors", {
  p <- socket_pair()
  obj <- list(a = rnorm(20000), b = letters)
  send.socket(p$b, obj) # serialized, received as bytes
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(unserialize(y), obj)
  txt <- paste(rep("zero copy ", 10000), collapse = "")
  send.raw.string(p$b, txt)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(rawToChar(y), txt)
  x <- big()
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  path <- tempfile()
  on.exit(unlink(path))
  writeBin(y, path)
  expect_identical(readBin(path, "raw", 1e6), x)
  expect_identical(as.integer(y), as.integer(x))
  expect_identical(rev(rev(y)), x)
  expect_identical(c(y, as.raw(1))[length(x) + 1], as.raw(1))
  expect_identical(unserialize(serialize(y, NULL)), x)
  expect_identical(restored_from_rds(y), x)
  expect_identical(memCompress(y, "gzip"), memCompress(x, "gzip"))
  expect_identical(unname(tabulate(as.integer(y) + 1L, 256)),
                   unname(tabulate(as.integer(x) + 1L, 256)))
})

test_that("a received frame can be sent again, alone, serialized or in a multipart message", {
  p <- socket_pair()
  x <- big()
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  send.socket(p$a, y, serialize = FALSE)
  back <- receive.socket(p$b, unserialize = FALSE)
  expect_identical(back, x)
  expect_identical(frame_state(y), "message") # sent by sharing, not copied
  send.socket(p$a, y) # serialized
  expect_identical(receive.socket(p$b), x)
  send.multipart(p$a, list(charToRaw("head"), y))
  parts <- receive.multipart(p$b)
  expect_identical(frame_state(parts[[1]]), "ordinary")
  expect_identical(frame_state(parts[[2]]), "message")
  expect_identical(parts, list(charToRaw("head"), x))
  send.messages(p$a, list(y, y), serialize = FALSE)
  expect_identical(receive.messages(p$b, unserialize = FALSE), list(x, x))
})

test_that("frames survive gc(), and outlive their socket and context", {
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR")
  b <- init.socket(ctx, "ZMQ_PAIR")
  endpoint <- bind_tcp(a)
  connect.socket(b, endpoint)
  x <- big(1e6, seed = 2)
  send.socket(b, x, serialize = FALSE)
  send.multipart(b, list(x, x))
  y <- recv_within(a, 10, unserialize = FALSE)
  parts <- recv_multipart_within(a, 10)
  destroy.context(ctx)
  rm(ctx, a, b)
  gc()
  gc()
  expect_identical(frame_state(y), "message")
  expect_identical(y, x)
  expect_identical(parts, list(x, x))
})

test_that("a frame lent by the sender is given back once the receiver's vector is collected", {
  p <- socket_pair()
  x <- big()
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  gc()
  expect_identical(rzmq:::lent_count(), 1L) # y still reads x's bytes
  expect_identical(y, x)
  rm(y)
  gc()
  expect_identical(rzmq:::lent_count(), 0L)
})

test_that("receive.messages hands large frames over without a copy too", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  x <- big()
  send.messages(p$b, list(x, as.raw(1)), serialize = FALSE)
  got <- receive.messages(p$a, unserialize = FALSE)
  expect_identical(frame_state(got[[1]]), "message")
  expect_identical(frame_state(got[[2]]), "ordinary")
  expect_identical(got, list(x, as.raw(1)))
})

test_that("a large frame's message is freed once R no longer refers to the frame", {
  cache <- function() .Call(rzmq:::c_rzmq_cache_size)
  p <- socket_pair()
  x <- runif(2e6) # serialized: a 16 MB buffer, cached when its message goes
  expect_true(send.socket(p$b, x))
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(cache(), 0) # the frame holds the buffer
  rm(y)
  gc()
  expect_gte(cache(), 16e6) # given back (to the cache) by the frame's finalizer
})
