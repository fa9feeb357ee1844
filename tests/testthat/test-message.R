# Sending and receiving: R objects, raw bytes, strings, numbers, empty
# frames, multipart messages, message objects (including one restored with
# readRDS), timeouts and EAGAIN, large vectors lent to libzmq. The tests that
# assert how long a timeout took are skipped on CRAN.

setClass("rzmqTestPoint", representation(x = "numeric", y = "numeric"))

round_trip <- function(p, x, ...) {
  expect_true(send.socket(p$b, x, ...))
  expect_true(readable(p$a))
  receive.socket(p$a)
}

test_that("send.socket()/receive.socket() round-trip many kinds of R objects", {
  p <- socket_pair()
  objects <- list(
    null = NULL,
    na = NA,
    na_chr = NA_character_,
    raw0 = raw(0),
    int0 = integer(0),
    chr0 = character(0),
    ints = c(1L, NA, -2147483647L),
    dbls = c(pi, -Inf, Inf, NaN, NA, 1e-300),
    cplx = complex(real = 1:3, imaginary = -1),
    strings = c("a", "", "héllo wörld", NA, "日本語"),
    long_string = strrep("0123456789", 1e5),
    df = data.frame(a = 1:3, b = c("x", "y", "z"), f = factor(c("u", "v", "u"))),
    list = list(1, list(2, list(3, "deep")), c(a = 1, b = 2)),
    matrix = matrix(1:6, 2, dimnames = list(c("r1", "r2"), NULL)),
    date = as.Date("2024-02-29"),
    posix = as.POSIXct("2024-01-01 12:00:00", tz = "UTC"),
    formula = stats::as.formula("y ~ x + z", env = globalenv()),
    s4 = new("rzmqTestPoint", x = 1, y = 2),
    raw = as.raw(0:255)
  )
  for (nm in names(objects)) {
    expect_identical(round_trip(p, objects[[nm]]), objects[[nm]], label = nm)
  }
})

test_that("functions arrive with their environments", {
  p <- socket_pair()
  f <- local({
    k <- 3
    function(x) x + k
  })
  g <- round_trip(p, f)
  expect_type(g, "closure")
  expect_identical(g(1), 4)
  expect_identical(get("k", environment(g)), 3)
  expect_identical(deparse(body(g)), deparse(body(f)))
  # the manual's remote execution pattern
  msg <- round_trip(p, list(fun = function(x) sum(abs(x)), args = list(c(-1, 2, -3))))
  expect_identical(do.call(msg$fun, msg$args), 6)
  # a builtin
  expect_identical(round_trip(p, sum), sum)
})

test_that("send.socket() returns TRUE invisibly", {
  p <- socket_pair()
  expect_identical(withVisible(send.socket(p$b, 1)), list(value = TRUE, visible = FALSE))
  expect_identical(receive.socket(p$a), 1)
})

test_that("serialize = FALSE requires a raw vector; unserialize = FALSE returns raw", {
  p <- socket_pair()
  expect_error(send.socket(p$b, "abc", serialize = FALSE), "`data` must be a raw vector")
  expect_error(send.socket(p$b, 1:3, serialize = FALSE), "`data`")
  expect_error(send.socket(p$b, NULL, serialize = FALSE), "`data`")
  bytes <- as.raw(c(0, 1, 2, 254, 255))
  expect_identical(withVisible(send.socket(p$b, bytes, serialize = FALSE)),
                   list(value = TRUE, visible = FALSE))
  expect_identical(receive.socket(p$a, unserialize = FALSE), bytes)
  # nothing was sent by the failed calls
  expect_null(receive.socket(p$a, dont.wait = TRUE))
  # an empty frame
  expect_true(send.socket(p$b, raw(0), serialize = FALSE))
  expect_identical(receive.socket(p$a, unserialize = FALSE), raw(0))
  # a serialized object received without unserializing is its serialization
  expect_true(send.socket(p$b, list(1, "a")))
  got <- receive.socket(p$a, unserialize = FALSE)
  expect_type(got, "raw")
  expect_identical(unserialize(got), list(1, "a"))
})

test_that("dont.wait = TRUE on an empty socket returns NULL silently with errno 11", {
  p <- socket_pair()
  # leave a different errno behind first
  expect_false(suppressMessages(set.sockopt(p$a, "TCP_KEEPALIVE", 5)))
  expect_identical(zmq.errno(), 22L)
  # at once: p$a has a 10 s receive timeout (socket_pair()), so a receive
  # that ignored dont.wait would wait 10 s and fail here, not hang
  t0 <- proc.time()[["elapsed"]]
  expect_silent(res <- receive.socket(p$a, dont.wait = TRUE))
  expect_lt(proc.time()[["elapsed"]] - t0, 2)
  expect_null(res)
  expect_identical(zmq.errno(), 11L)
  expect_identical(zmq.strerror(), "Resource temporarily unavailable")
  # a message that is waiting is returned at once
  send.socket(p$b, "here")
  expect_identical(receive.socket(p$a, dont.wait = TRUE), "here")
})

test_that("a receive timeout returns NULL after the timeout, silently, errno 11", {
  skip_on_cran()
  p <- socket_pair()
  expect_true(set.rcv.timeout(p$a, 200))
  expect_false(suppressMessages(set.sockopt(p$a, "TCP_KEEPALIVE", 5)))
  expect_silent(elapsed <- system.time(res <- receive.socket(p$a))[["elapsed"]])
  expect_null(res)
  expect_identical(zmq.errno(), 11L)
  expect_gte(elapsed, 0.15)
  expect_lt(elapsed, 1.5)
  # the other receivers honour it too
  expect_silent(res <- receive.string(p$a))
  expect_null(res)
  expect_silent(res <- receive.multipart(p$a))
  expect_null(res)
  expect_identical(zmq.errno(), 11L)
  # and a frame that arrives is received normally
  send.socket(p$b, "late")
  expect_identical(receive.socket(p$a), "late")
})

test_that("a send timeout on a PUSH socket with no peer returns FALSE silently, errno 11", {
  skip_on_cran()
  ctx <- init.context()
  push <- with_deadline(init.socket(ctx, "ZMQ_PUSH"))
  set.linger(push, 0L)
  expect_true(set.send.timeout(push, 200))
  expect_false(suppressMessages(set.sockopt(push, "TCP_KEEPALIVE", 5)))
  expect_silent(elapsed <- system.time(res <- withVisible(send.socket(push, 1)))[["elapsed"]])
  expect_identical(res, list(value = FALSE, visible = FALSE))
  expect_identical(zmq.errno(), 11L)
  expect_gte(elapsed, 0.15)
  expect_lt(elapsed, 1.5)
  expect_silent(res <- send.raw.string(push, "x"))
  expect_false(res)
  expect_silent(res <- send.multipart(push, list(raw(1), raw(2))))
  expect_false(res)
  expect_identical(zmq.errno(), 11L)
})

test_that("send.null.msg() sends an empty frame; receive.null.msg() consumes one frame", {
  p <- socket_pair()
  expect_identical(withVisible(send.null.msg(p$b)), list(value = TRUE, visible = TRUE))
  expect_true(send.raw.string(p$b, "not empty"))
  expect_true(send.raw.string(p$b, "following"))
  expect_true(send.null.msg(p$b))
  expect_identical(receive.null.msg(p$a), TRUE)
  expect_identical(receive.null.msg(p$a), FALSE) # "not empty", consumed
  expect_identical(receive.string(p$a), "following")
  # an empty frame received as bytes
  expect_identical(receive.socket(p$a, unserialize = FALSE), raw(0))
  # send.more on an empty frame
  expect_true(send.null.msg(p$b, send.more = TRUE))
  expect_true(send.raw.string(p$b, "payload"))
  expect_identical(receive.multipart(p$a), list(raw(0), charToRaw("payload")))
})

test_that("send.raw.string() sends the bytes of data[1] with no NUL", {
  p <- socket_pair()
  expect_identical(withVisible(send.raw.string(p$b, "hello")), list(value = TRUE, visible = TRUE))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("hello"))
  expect_true(send.raw.string(p$b, c("first", "second")))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("first"))
  expect_null(receive.socket(p$a, dont.wait = TRUE)) # "second" was not sent
  txt <- "h\u00e9llo \u65e5\u672c"
  expect_true(send.raw.string(p$b, txt))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw(enc2utf8(txt)))
  expect_true(send.raw.string(p$b, ""))
  expect_identical(receive.socket(p$a, unserialize = FALSE), raw(0))
  # a latin1 string is sent as UTF-8
  latin <- iconv("caf\u00e9", "UTF-8", "latin1")
  expect_true(send.raw.string(p$b, latin))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("caf\u00e9"))
})

test_that("receive.string() returns character(1), UTF-8 marked for non-ASCII text", {
  p <- socket_pair()
  expect_true(send.raw.string(p$b, "plain"))
  s <- receive.string(p$a)
  expect_identical(s, "plain")
  txt <- "gr\u00fc\u00dfe \u2713"
  expect_true(send.raw.string(p$b, txt))
  s <- receive.string(p$a)
  expect_type(s, "character")
  expect_length(s, 1L)
  expect_identical(Encoding(s), "UTF-8")
  expect_identical(s, txt)
  expect_identical(nchar(s), 7L)
  # bytes sent raw come back as the same string
  expect_true(send.socket(p$b, charToRaw("from raw"), serialize = FALSE))
  expect_identical(receive.string(p$a), "from raw")
  expect_true(send.null.msg(p$b))
  expect_identical(receive.string(p$a), "")
})

test_that("receive.int()/receive.double() read 4/8 native bytes; other sizes give NULL and a message", {
  p <- socket_pair()
  expect_true(send.socket(p$b, writeBin(42L, raw()), serialize = FALSE))
  expect_identical(receive.int(p$a), 42L)
  expect_true(send.socket(p$b, writeBin(-7L, raw()), serialize = FALSE))
  expect_identical(receive.int(p$a), -7L)
  expect_true(send.socket(p$b, writeBin(pi, raw()), serialize = FALSE))
  expect_identical(receive.double(p$a), pi)
  expect_true(send.socket(p$b, writeBin(-Inf, raw()), serialize = FALSE))
  expect_identical(receive.double(p$a), -Inf)
  # wrong sizes
  expect_true(send.socket(p$b, writeBin(pi, raw()), serialize = FALSE))
  expect_message(res <- receive.int(p$a), "4 bytes")
  expect_null(res)
  expect_true(send.socket(p$b, writeBin(42L, raw()), serialize = FALSE))
  expect_message(res <- receive.double(p$a), "8 bytes")
  expect_null(res)
  expect_true(send.null.msg(p$b))
  expect_message(res <- receive.int(p$a), "received 0 bytes")
  expect_null(res)
  # the wrong-sized frames were consumed
  expect_null(receive.socket(p$a, dont.wait = TRUE))
})

test_that("send.multipart()/receive.multipart() carry every frame, empty ones included", {
  p <- socket_pair()
  parts <- list(charToRaw("header"), raw(0), serialize(1:3, NULL), raw(0))
  expect_identical(withVisible(send.multipart(p$b, parts)), list(value = TRUE, visible = FALSE))
  got <- receive.multipart(p$a)
  expect_identical(got, parts)
  expect_identical(unserialize(got[[3]]), 1:3)
  expect_false(get.rcvmore(p$a))
  # many frames
  many <- lapply(1:50, function(i) as.raw(seq_len(i) %% 256))
  expect_true(send.multipart(p$b, many))
  expect_identical(receive.multipart(p$a), many)
  # a single string part is sent as its UTF-8 bytes
  expect_true(send.multipart(p$b, list("t\u00eate", raw(1))))
  expect_identical(receive.multipart(p$a), list(charToRaw("t\u00eate"), raw(1)))
})

test_that("send.multipart(list(x)) sends exactly one frame", {
  p <- socket_pair()
  expect_true(send.multipart(p$b, list(charToRaw("only"))))
  expect_true(readable(p$a))
  expect_identical(receive.socket(p$a, unserialize = FALSE), charToRaw("only"))
  expect_false(get.rcvmore(p$a))
  expect_null(receive.socket(p$a, dont.wait = TRUE))
  expect_identical(zmq.errno(), 11L)
  expect_true(send.multipart(p$b, list(raw(0))))
  expect_identical(receive.multipart(p$a), list(raw(0)))
  expect_null(receive.socket(p$a, dont.wait = TRUE))
})

test_that("send.multipart() misuse is an R error and sends nothing", {
  p <- socket_pair()
  expect_error(send.multipart(p$b, list()), "`parts`")
  expect_error(send.multipart(p$b, charToRaw("not a list")), "`parts`")
  expect_error(send.multipart(p$b, list(charToRaw("a"), 1L)), "`parts\\[\\[2\\]\\]`")
  expect_error(send.multipart(p$b, list(charToRaw("a"), raw(0), list(raw(1)))), "`parts\\[\\[3\\]\\]`")
  expect_error(send.multipart(p$b, list(NA_character_)), "`parts\\[\\[1\\]\\]`")
  expect_error(send.multipart(p$b, list(NULL)), "`parts\\[\\[1\\]\\]`")
  # nothing reached the peer: the next frame it sees is the sentinel
  expect_true(send.raw.string(p$b, "sentinel"))
  expect_true(readable(p$a))
  expect_identical(receive.multipart(p$a), list(charToRaw("sentinel")))
  expect_null(receive.socket(p$a, dont.wait = TRUE))
})

test_that("ROUTER gets the DEALER's identity first and replies through it", {
  ctx <- init.context()
  router <- with_deadline(init.socket(ctx, "ZMQ_ROUTER"))
  dealer <- with_deadline(init.socket(ctx, "ZMQ_DEALER"))
  expect_true(set.identity(dealer, "worker-1"))
  ep <- bind_tcp(router)
  set.linger(dealer, 0L)
  set.linger(router, 0L)
  set.send.timeout(dealer, 5000L)
  expect_true(connect.socket(dealer, ep))
  expect_true(send.socket(dealer, list(job = 1)))
  expect_true(readable(router))
  got <- receive.multipart(router)
  expect_length(got, 2L)
  expect_identical(got[[1]], charToRaw("worker-1"))
  expect_identical(unserialize(got[[2]]), list(job = 1))
  expect_true(send.multipart(router, list(got[[1]], serialize("done", NULL))))
  expect_true(readable(dealer))
  expect_identical(receive.socket(dealer), "done")
  # the same with send.socket(send.more = TRUE) on the ROUTER side
  expect_true(send.socket(router, charToRaw("worker-1"), send.more = TRUE, serialize = FALSE))
  expect_true(send.socket(router, "again"))
  expect_true(readable(dealer))
  expect_identical(receive.socket(dealer), "again")
})

test_that("send.more = TRUE builds one message across send.socket() calls", {
  p <- socket_pair()
  expect_true(send.socket(p$b, "part 1", send.more = TRUE))
  expect_true(send.raw.string(p$b, "part 2", send.more = TRUE))
  expect_true(send.socket(p$b, 3L))
  got <- receive.multipart(p$a)
  expect_length(got, 3L)
  expect_identical(unserialize(got[[1]]), "part 1")
  expect_identical(rawToChar(got[[2]]), "part 2")
  expect_identical(unserialize(got[[3]]), 3L)
  # frame by frame with get.rcvmore
  expect_true(send.socket(p$b, "a", send.more = TRUE))
  expect_true(send.socket(p$b, "b"))
  expect_identical(receive.socket(p$a), "a")
  expect_true(get.rcvmore(p$a))
  expect_identical(receive.socket(p$a), "b")
  expect_false(get.rcvmore(p$a))
})

test_that("a later frame whose peer went away mid-message is FALSE at once, not a wait for good; the next message is whole", {
  # libzmq checks the high-water mark on a message's first frame only, so a
  # later frame it refuses means the peer is gone: no wait can end. The
  # same rule serves send.multipart()'s later frames (frame.c). In a child
  # with a deadline: the bug was a wait without end.
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR") # no send timeout: -1, forever
    b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(a, "inproc://mid-message")
    connect.socket(b, "inproc://mid-message")
    first <- send.socket(a, charToRaw("first"), send.more = TRUE, serialize = FALSE)
    destroy.socket(b)
    # the pipe is gone once `a` says it cannot take a frame
    deadline <- Sys.time() + 10
    while (isTRUE(poll.socket(list(a), list("write"), timeout = 0)[[1]]$write) &&
           Sys.time() < deadline) Sys.sleep(0.01)
    t0 <- proc.time()[["elapsed"]]
    last <- send.socket(a, charToRaw("last"), serialize = FALSE)
    secs <- proc.time()[["elapsed"]] - t0
    errno <- zmq.errno()
    c2 <- init.socket(ctx, "ZMQ_PAIR")
    set.rcv.timeout(c2, 5000L)
    connect.socket(c2, "inproc://mid-message")
    whole <- send.socket(a, charToRaw("whole"), serialize = FALSE)
    got <- receive.multipart(c2)
    destroy.context(ctx, linger = 0)
    list(first = first, last = last, secs = secs, errno = errno,
         whole = whole, got = got)
  })
  child_wait(proc, 30)
  r <- proc$get_result()
  expect_true(r$first)
  expect_false(r$last)
  expect_identical(r$errno, 11L)
  expect_lt(r$secs, 1)
  expect_true(r$whole)
  expect_identical(r$got, list(charToRaw("whole"))) # nothing of the broken one
})

test_that("a message object sent 100 times arrives 100 times, identical", {
  ctx <- init.context()
  push <- with_deadline(init.socket(ctx, "ZMQ_PUSH"))
  pull <- with_deadline(init.socket(ctx, "ZMQ_PULL"))
  ep <- inproc()
  expect_true(bind.socket(pull, ep))
  expect_true(connect.socket(push, ep))
  set.send.timeout(push, 5000L)
  common <- list(x = rnorm(1000), label = "common data")
  msg <- init.message(common)
  expect_identical(withVisible(send.message.object(push, msg)), list(value = TRUE, visible = TRUE))
  for (i in 2:100) expect_true(send.message.object(push, msg))
  bytes <- serialize(common, NULL, xdr = FALSE)
  n <- 0L
  for (i in 1:100) {
    if (!readable(pull)) break
    if (!identical(receive.socket(pull, unserialize = FALSE), bytes)) break
    n <- n + 1L
  }
  expect_identical(n, 100L)
  expect_null(receive.socket(pull, dont.wait = TRUE)) # exactly 100
  expect_identical(unserialize(bytes), common)
})

test_that("init.message() with send.more, xdr, and serialize = FALSE", {
  p <- socket_pair()
  head <- init.message(charToRaw("head"), serialize = FALSE)
  body <- init.message(1:10, xdr = TRUE)
  expect_true(send.message.object(p$b, head, send.more = TRUE))
  expect_true(send.message.object(p$b, body))
  got <- receive.multipart(p$a)
  expect_identical(got, list(charToRaw("head"), serialize(1:10, NULL, xdr = TRUE)))
  expect_error(init.message("text", serialize = FALSE), "`data` must be a raw vector")
  expect_error(init.message(1:3, serialize = FALSE), "`data`")
  expect_error(send.message.object(p$b, "not a message"), "`msg`")
  expect_error(send.message.object(p$b, p$a), "`msg`")
})

test_that("a message object restored with readRDS is an R error", {
  p <- socket_pair()
  m <- restored_from_rds(init.message(1:3))
  expect_error(send.message.object(p$b, m), "`msg` is not a live zmq message")
  expect_error(send.message.object(p$b, NULL), "`msg`")
  expect_error(send.message.object(p$b, p$ctx), "`msg`")
  expect_null(receive.socket(p$a, dont.wait = TRUE)) # nothing was sent
})

test_that("a large message object outlives its R handle while copies are queued", {
  p <- socket_pair("ZMQ_PUSH", "ZMQ_PULL")
  set.send.timeout(p$a, 5000L)
  big <- list(v = as.numeric(1:2e5), s = strrep("z", 1e5)) # well over 64 kB
  msg <- init.message(big)
  for (i in 1:10) expect_true(send.message.object(p$a, msg))
  rm(msg)
  invisible(gc())
  bytes <- serialize(big, NULL, xdr = .Platform$endian == "big")
  for (i in 1:10) {
    expect_true(readable(p$b))
    expect_identical(receive.socket(p$b, unserialize = FALSE), bytes, label = paste("copy", i))
  }
  expect_null(receive.socket(p$b, dont.wait = TRUE))
})

test_that("large raw vectors are sent without copying and stay intact when changed afterwards", {
  p <- socket_pair("ZMQ_PUSH", "ZMQ_PULL")
  x <- as.raw(rep(1:250, 1000)) # 250 KB: lent to libzmq, not copied
  y <- x
  expect_identical(rzmq:::lent_count(), 0L)
  expect_true(send.socket(p$a, x, serialize = FALSE))
  # not copied: libzmq's message points into x itself until it lets go
  expect_identical(rzmq:::lent_count(), 1L)
  x[1] <- as.raw(99) # R copies x now; the message keeps the old bytes
  got <- receive.socket(p$b, unserialize = FALSE)
  expect_identical(got, y)
  # over inproc in this process the receiver gets those very bytes
  expect_true(rzmq:::same_bytes(got, y))
  expect_identical(x[1], as.raw(99))
  expect_identical(x[-1], y[-1])
})

test_that("many large raw vectors in flight at once are kept alive and then released", {
  p <- socket_pair("ZMQ_PUSH", "ZMQ_PULL")
  n <- 150L # more than the first block of slots that keep lent vectors
  sent <- lapply(seq_len(n), function(i) as.raw(rep_len(i %% 256, 70000)))
  for (v in sent) expect_true(send.socket(p$a, v, serialize = FALSE))
  expect_identical(rzmq:::lent_count(), n)
  rm(sent)
  gc() # the vectors must survive: libzmq still points into them
  for (i in seq_len(n)) {
    got <- receive.socket(p$b, unserialize = FALSE)
    expect_identical(got, as.raw(rep_len(i %% 256, 70000)))
  }
  receive.socket(p$b, dont.wait = TRUE) # any call hands back what libzmq let go
  expect_identical(rzmq:::lent_count(), 0L)
})

test_that("send.multipart() lends large parts too", {
  p <- socket_pair("ZMQ_PAIR", "ZMQ_PAIR")
  big <- as.raw(rep_len(7:9, 200000))
  expect_identical(rzmq:::lent_count(), 0L)
  expect_true(send.multipart(p$b, list(charToRaw("k"), big, raw(0), big)))
  expect_identical(rzmq:::lent_count(), 2L) # both large parts, neither copied
  parts <- receive.multipart(p$a)
  expect_identical(parts, list(charToRaw("k"), big, raw(0), big))
  expect_true(rzmq:::same_bytes(parts[[2]], big) && rzmq:::same_bytes(parts[[4]], big))
})

test_that("a large value received is freed once R no longer refers to it", {
  # (its bytes with unserialize = FALSE are not in R's heap: test-zerocopy.R)
  p <- socket_pair()
  expect_true(send.socket(p$b, runif(2e6))) # about 16 MB
  y <- receive.socket(p$a)
  held <- gc()[2, 2] # MB of vector heap in use
  rm(y)
  expect_gt(held - gc()[2, 2], 14)
  # received as bytes, a frame this large is not copied onto R's heap
  # (zerocopy.c): its message is let go when R collects it
  held <- function() .Call(rzmq:::c_rzmq_frames_held)
  before <- held()
  expect_true(send.socket(p$b, runif(2e6)))
  y <- receive.socket(p$a, unserialize = FALSE)
  expect_identical(rzmq:::frame_state(y), "message")
  expect_gte(held() - before, 16e6)
  rm(y)
  invisible(gc())
  expect_identical(held(), before)
})

test_that("message.size() is the byte size of a message object", {
  expect_identical(message.size(init.message(as.raw(1:10), serialize = FALSE)), 10)
  expect_identical(message.size(init.message(raw(0), serialize = FALSE)), 0)
  x <- list(a = 1:100, b = "text")
  expect_identical(message.size(init.message(x, xdr = FALSE)),
                   as.numeric(length(serialize(x, NULL, xdr = FALSE))))
  expect_identical(message.size(init.message(x, xdr = TRUE)),
                   as.numeric(length(serialize(x, NULL, xdr = TRUE))))
  big <- init.message(raw(3e6), serialize = FALSE)
  expect_identical(message.size(big), 3e6)
  # what a receiver gets has that many bytes
  p <- socket_pair()
  expect_true(send.message.object(p$b, big))
  expect_true(readable(p$a))
  expect_length(receive.socket(p$a, unserialize = FALSE), 3e6)
  destroy.context(p$ctx)
  expect_identical(message.size(big), 3e6) # a message outlives contexts
  expect_error(message.size(p$a), "`message` must be a zmq message, not a zmq socket")
  expect_error(message.size(raw(3)), "`message` must be a zmq message made by init.message\\(\\)")
  expect_error(message.size(restored_from_rds(big)), "`message` is not a live zmq message")
})
