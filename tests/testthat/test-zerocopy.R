# Large received frames come back without a copy where that pays. A vector
# this process lent (64 KB and more, sent over inproc in this same process)
# comes back as itself. A shared message (64 KB and more) or any frame of 8 MB
# and more comes back as a raw vector that reads the libzmq message in place:
# it must behave as an ordinary raw vector in everything R does, copy itself
# before R writes to it, and never let R change a message that others share.

frame_state <- rzmq:::frame_state
same_bytes <- rzmq:::same_bytes
big <- function(n = 200000, seed = 1) {
  set.seed(seed)
  as.raw(sample(0:255, n, replace = TRUE))
}
# x sent as a message object: the receiver gets a shared message
via_message <- function(p, x) {
  send.message.object(p$b, init.message(x, serialize = FALSE))
  receive.socket(p$a, unserialize = FALSE)
}

test_that("a large frame is received without a copy, a small one as an ordinary vector", {
  p <- socket_pair()
  x <- big()
  y <- via_message(p, x)
  expect_identical(frame_state(y), "message")
  expect_identical(typeof(y), "raw")
  expect_identical(length(y), length(x))
  expect_identical(y[c(1, 2, 200000)], x[c(1, 2, 200000)])
  expect_identical(frame_state(y), "message") # reading elements copies nothing
  expect_identical(identical(y, x), TRUE)
  expect_identical(y, x)
  small <- via_message(p, x[1:65535])
  expect_identical(frame_state(small), "ordinary")
  expect_identical(small, x[1:65535])
  expect_identical(frame_state(via_message(p, x[1:65536])), "message")
})

test_that("over inproc in one process, a lent vector is received as itself", {
  p <- socket_pair()
  x <- big()
  keep <- as.raw(as.integer(x)) # a separate copy of the original bytes
  send.socket(p$b, x, serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_true(same_bytes(y, x))
  expect_false(same_bytes(y, keep)) # (the hook tells equal bytes apart)
  expect_identical(frame_state(y), "ordinary")
  expect_identical(rzmq:::lent_count(), 0L) # the lend ended on receipt
  # either side changing it copies first, as after `y <- x`
  y[1] <- as.raw((as.integer(x[1]) + 1) %% 256)
  expect_identical(x, keep)
  expect_false(same_bytes(y, x))
  expect_identical(y[-1], x[-1])
  x[2] <- as.raw(0)
  expect_identical(y[-1], keep[-1])
  # a vector nothing else refers to survives a collection in flight and
  # after its receipt
  send.socket(p$b, big(seed = 5), serialize = FALSE)
  invisible(gc())
  y <- receive.socket(p$a, unserialize = FALSE)
  receive.socket(p$a, dont.wait = TRUE) # gives the slot back
  invisible(gc())
  expect_identical(y, big(seed = 5))
  # the small ones are copied; a multipart message's large parts are the vector
  x <- keep
  send.socket(p$b, x[1:65535], serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_false(same_bytes(y, x[1:65535]))
  send.multipart(p$b, list(x, charToRaw("k"), x))
  parts <- receive.multipart(p$a)
  expect_identical(parts, list(x, charToRaw("k"), x))
  expect_true(same_bytes(parts[[1]], x) && same_bytes(parts[[3]], x))
  # a vector with attributes comes back as a plain raw vector, read in place
  send.socket(p$b, structure(x, class = "bytes", note = "n"), serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(y, x)
  rm(y)
  invisible(gc())
  expect_identical(rzmq:::lent_count(), 0L)
})

test_that("many lent vectors in flight at once are each received as themselves", {
  p <- socket_pair("ZMQ_PULL", "ZMQ_PUSH")
  sent <- lapply(1:40, function(i) big(70000, seed = i))
  for (v in sent) send.socket(p$b, v, serialize = FALSE)
  got <- lapply(1:40, function(i) receive.socket(p$a, unserialize = FALSE))
  expect_identical(got, sent)
  expect_true(all(mapply(same_bytes, got, sent)))
  expect_identical(rzmq:::lent_count(), 0L)
})

test_that("PUB to two subscribers in one process gives both the lent vector", {
  ctx <- init.context()
  pub <- with_deadline(init.socket(ctx, "ZMQ_PUB"))
  bind.socket(pub, "inproc://zerocopy-pub")
  subs <- lapply(1:2, function(i) {
    s <- with_deadline(init.socket(ctx, "ZMQ_SUB"))
    subscribe(s, "")
    connect.socket(s, "inproc://zerocopy-pub")
    s
  })
  x <- big()
  send.socket(pub, x, serialize = FALSE)
  got <- lapply(subs, function(s) recv_within(s, 10, unserialize = FALSE))
  expect_identical(got, list(x, x))
  expect_true(same_bytes(got[[1]], x) && same_bytes(got[[2]], x))
  expect_identical(rzmq:::lent_count(), 0L)
  destroy.context(ctx)
})

test_that("writing to a received frame copies it; the message and its sender are untouched", {
  p <- socket_pair()
  x <- big()
  keep <- as.raw(as.integer(x)) # a separate copy of the original bytes
  # a message object's frame points into the object's message
  m <- init.message(x, serialize = FALSE)
  send.message.object(p$b, m)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  y[1] <- as.raw((as.integer(x[1]) + 1) %% 256)
  # (R duplicates the vector before `[<-`, so R code never reaches the
  # frame's own write access: C code below does)
  expect_false(identical(y[1], x[1]))
  expect_identical(y[-1], x[-1])
  expect_identical(x, keep)
  send.message.object(p$b, m) # the object's message is untouched
  expect_identical(receive.socket(p$a, unserialize = FALSE), keep)
  # C code that asks for a writable pointer (RAW(), DATAPTR()) gets a copy
  # of the bytes: the frame copies itself out of the message first
  send.message.object(p$b, m)
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  new_byte <- as.raw((as.integer(x[7]) + 1) %% 256)
  rzmq:::frame_poke(y, 7, new_byte)
  expect_identical(frame_state(y), "copied")
  expect_identical(y[7], new_byte)
  expect_identical(y[-7], x[-7])
  expect_identical(x, keep)
  send.message.object(p$b, m) # the message the frame shared is untouched
  expect_identical(receive.socket(p$a, unserialize = FALSE), keep)
  # a frame of a message object sent twice: the second is untouched
  send.message.object(p$b, m)
  send.message.object(p$b, m)
  y1 <- receive.socket(p$a, unserialize = FALSE)
  rzmq:::frame_poke(y1, 1, new_byte)
  expect_identical(frame_state(y1), "copied")
  expect_identical(receive.socket(p$a, unserialize = FALSE), keep)
  # a second name for it: R's copy on write applies as for any vector
  y <- via_message(p, x)
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
  send.message.object(p$b, init.message(obj)) # serialized, received as bytes
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(unserialize(y), obj)
  txt <- paste(rep("zero copy ", 10000), collapse = "")
  send.message.object(p$b, init.message(charToRaw(txt), serialize = FALSE))
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(frame_state(y), "message")
  expect_identical(rawToChar(y), txt)
  x <- big()
  y <- via_message(p, x)
  expect_identical(frame_state(y), "message")
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
  y <- via_message(p, x)
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
  a <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  b <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  endpoint <- bind_tcp(a)
  connect.socket(b, endpoint)
  x <- big(9e6, seed = 2) # fresh tcp frames are not copied from 8 MB on
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
  # a frame that reads a lent vector in place: one with attributes (a plain
  # one is handed over itself, and its lend ends at once)
  p <- socket_pair()
  x <- big()
  send.socket(p$b, structure(x, note = "n"), serialize = FALSE)
  y <- receive.socket(p$a, unserialize = FALSE)
  gc()
  expect_identical(frame_state(y), "message")
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
  expect_true(same_bytes(got[[1]], x)) # the lent vector itself
  expect_identical(frame_state(got[[2]]), "ordinary")
  expect_identical(got, list(x, as.raw(1)))
  m <- init.message(x, serialize = FALSE)
  send.message.object(p$b, m)
  send.message.object(p$b, m)
  got <- receive.messages(p$a, unserialize = FALSE)
  expect_identical(vapply(got, frame_state, ""), c("message", "message"))
  expect_identical(got, list(x, x))
})

test_that("fresh frames are copied below 8 MB, and their memory is collected on a budget", {
  ctx <- init.context()
  a <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  b <- with_deadline(init.socket(ctx, "ZMQ_PAIR"))
  connect.socket(b, bind_tcp(a))
  held <- function() .Call(rzmq:::c_rzmq_frames_held)
  x <- big(2^20)
  send.socket(b, x, serialize = FALSE)
  y <- recv_within(a, 10, unserialize = FALSE)
  expect_identical(frame_state(y), "ordinary")
  expect_identical(y, x)
  # 16 MB frames, not kept: R's collector alone would not run, as R's own
  # heap hardly grows; the budget (512 MB) makes it
  x <- big(2^24, seed = 3)
  start <- held()
  for (i in 1:48) {
    send.socket(b, x, serialize = FALSE)
    y <- recv_within(a, 10, unserialize = FALSE)
    expect_lte(held() - start, 512 * 2^20 + 2^24)
  }
  expect_identical(frame_state(y), "message")
  expect_identical(y, x)
  rm(y)
  gc()
  expect_identical(held(), start)
  destroy.context(ctx)
})
