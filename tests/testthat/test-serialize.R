# Serialization: the bytes on the wire are exactly base R's serialize(), any
# serialization base R reads is accepted, and garbage (random bytes, cut
# objects, headers base R rejects) is the R error base unserialize() gives,
# never a crash. The 50 MB round trip is skipped on CRAN.

wire_objects <- list(
  NULL, TRUE, NA, 1L, c(1.5, NA, -Inf), "text", c("h\u00e9", NA, ""),
  raw(0), as.raw(0:255), 1:1000, complex(real = 1, imaginary = -2),
  list(a = 1, b = list(c = "d")), data.frame(x = 1:3, y = c("a", "b", "c")),
  factor(c("lo", "hi", "lo")), matrix(runif(20), 4), as.Date("2020-01-01"),
  quote(f(x, y = 2)), expression(1 + 2), as.name("sym"),
  structure(1:3, class = "myclass", note = "attr"), globalenv(), sum,
  pairlist(a = 1, 2)
)

test_that("send.socket() sends exactly serialize(x, NULL, xdr = FALSE) by default", {
  skip_if(.Platform$endian != "little")
  p <- socket_pair()
  for (i in seq_along(wire_objects)) {
    x <- wire_objects[[i]]
    expect_true(send.socket(p$b, x))
    got <- receive.socket(p$a, unserialize = FALSE)
    expect_identical(got, serialize(x, NULL, xdr = FALSE), label = paste("object", i))
  }
})

test_that("send.socket(xdr = TRUE) sends exactly serialize(x, NULL, xdr = TRUE)", {
  p <- socket_pair()
  for (i in seq_along(wire_objects)) {
    x <- wire_objects[[i]]
    expect_true(send.socket(p$b, x, xdr = TRUE))
    got <- receive.socket(p$a, unserialize = FALSE)
    expect_identical(got, serialize(x, NULL, xdr = TRUE), label = paste("object", i))
  }
  expect_true(send.socket(p$b, wire_objects, xdr = FALSE))
  expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(wire_objects, NULL, xdr = FALSE))
})

test_that("init.message() carries the same bytes as serialize()", {
  p <- socket_pair()
  x <- list(a = 1:10, b = "common")
  expect_true(send.message.object(p$b, init.message(x)))
  expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = .Platform$endian == "big"))
  expect_true(send.message.object(p$b, init.message(x, xdr = TRUE)))
  expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = TRUE))
})

test_that("receive.socket() accepts every serialization base R writes", {
  p <- socket_pair()
  x <- list(n = c(1.25, NA), s = c("a", "\u00fc"), i = 1:3, l = list(TRUE, NULL))
  variants <- list(
    v3_native = serialize(x, NULL, xdr = FALSE),
    v3_xdr = serialize(x, NULL, xdr = TRUE),
    v2_native = serialize(x, NULL, xdr = FALSE, version = 2),
    v2_xdr = serialize(x, NULL, xdr = TRUE, version = 2),
    v3_ascii = serialize(x, NULL, ascii = TRUE),
    v2_ascii = serialize(x, NULL, ascii = TRUE, version = 2)
  )
  for (nm in names(variants)) {
    expect_true(send.socket(p$b, variants[[nm]], serialize = FALSE))
    expect_identical(receive.socket(p$a), x, label = nm)
  }
})

test_that("a 50 MB numeric vector round-trips identical", {
  skip_on_cran()
  p <- socket_pair()
  set.seed(1)
  x <- runif(6.6e6)
  expect_gt(as.numeric(object.size(x)), 50e6)
  expect_true(send.socket(p$b, x))
  expect_true(readable(p$a))
  expect_identical(receive.socket(p$a), x)
  # and as bytes, equal to base R's serialization
  expect_true(send.socket(p$b, x, xdr = TRUE))
  expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = TRUE))
})

test_that("random bytes give a clean R error or a value, as base unserialize() does", {
  p <- socket_pair()
  set.seed(20240229)
  header <- serialize(NULL, NULL, xdr = FALSE)[1:14] # "B\n" + versions
  outcome <- function(expr) {
    tryCatch(list(ok = TRUE, value = expr), error = function(e) list(ok = FALSE, msg = conditionMessage(e)))
  }
  n_error <- 0L
  for (i in 1:50) {
    bytes <- as.raw(sample(0:255, sample(0:300, 1), replace = TRUE))
    # half start with a valid header, to get past the format check
    if (i %% 2 == 0) bytes <- c(header, bytes)
    expect_true(send.socket(p$b, bytes, serialize = FALSE))
    ours <- outcome(receive.socket(p$a))
    base <- outcome(unserialize(bytes))
    label <- paste("random bytes", i)
    expect_identical(ours$ok, base$ok, label = label)
    if (ours$ok && base$ok) expect_identical(ours$value, base$value, label = label)
    if (!ours$ok) {
      expect_true(nzchar(ours$msg), label = label)
      n_error <- n_error + 1L
    }
  }
  expect_gt(n_error, 0L)
  # nothing was left half read, and the socket still delivers
  expect_null(receive.socket(p$a, dont.wait = TRUE))
  expect_true(send.socket(p$b, list(still = "working")))
  expect_identical(receive.socket(p$a), list(still = "working"))
})

test_that("a truncated serialization is an R error", {
  p <- socket_pair()
  full <- serialize(list(a = 1:100, b = "x"), NULL, xdr = FALSE)
  for (cut in c(0L, 1L, 2L, 10L, 14L, 30L, length(full) %/% 2L, length(full) - 1L)) {
    expect_true(send.socket(p$b, full[seq_len(cut)], serialize = FALSE))
    expect_error(receive.socket(p$a), "not a complete serialized R object", label = paste("cut at", cut))
  }
  expect_true(send.socket(p$b, full, serialize = FALSE))
  expect_identical(receive.socket(p$a), list(a = 1:100, b = "x"))
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

test_that("plain vectors of every atomic type, small and large, match serialize() byte for byte", {
  p <- socket_pair()
  set.seed(11)
  big <- 70000 # past the size where buffers are handed to libzmq uncopied
  plain <- list(
    logical(0), c(TRUE, NA, FALSE), sample(c(TRUE, FALSE, NA), big, TRUE),
    integer(0), c(1L, NA, -2147483647L), sample.int(1e6, big),
    numeric(0), c(0, -0, NA, NaN, Inf, -Inf, pi, 1e-300), runif(big),
    complex(0), complex(real = c(1, NA), imaginary = c(-2, 3)),
    complex(real = runif(big), imaginary = runif(big)),
    raw(0), as.raw(0:255), as.raw(sample(0:255, big * 4, TRUE))
  )
  for (i in seq_along(plain)) {
    for (xdr in c(FALSE, TRUE)) {
      x <- plain[[i]]
      lab <- sprintf("plain vector %d, xdr = %s", i, xdr)
      expect_true(send.socket(p$b, x, xdr = xdr))
      expect_identical(receive.socket(p$a, unserialize = FALSE),
                       serialize(x, NULL, xdr = xdr), label = lab)
      expect_true(send.socket(p$b, x, xdr = xdr))
      expect_identical(receive.socket(p$a), x, label = lab)
      # and what base R wrote, in either format and version, reads back
      for (v in 2:3) {
        expect_true(send.socket(p$b, serialize(x, NULL, xdr = xdr, version = v),
                                serialize = FALSE))
        expect_identical(receive.socket(p$a), x, label = paste(lab, "version", v))
      }
    }
  }
})

test_that("vectors with attributes, classes or ALTREP compact forms still match serialize()", {
  p <- socket_pair()
  odd <- list(1:10, seq_len(1e5), c(a = 1, b = 2), structure(1:4, dim = c(2L, 2L)),
              factor("a"), structure(2.5, class = "money"))
  for (x in odd) {
    expect_true(send.socket(p$b, x))
    expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = FALSE))
    expect_true(send.socket(p$b, x))
    expect_identical(receive.socket(p$a), x)
  }
})

test_that("S4-flagged and grown vectors (the fast path's edge cases) match serialize()", {
  p <- socket_pair()
  grown <- c(1L, 2L, 3L)
  grown[10] <- 4L # R may keep spare room (a growable vector)
  s4 <- asS4(c(1.5, 2.5))
  named_then_not <- c(a = 1, b = 2)
  names(named_then_not) <- NULL # attributes removed again
  for (x in list(grown, s4, named_then_not, raw(0), logical(0))) {
    expect_true(send.socket(p$b, x))
    expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = FALSE))
    expect_true(send.socket(p$b, x, xdr = TRUE))
    expect_identical(receive.socket(p$a, unserialize = FALSE), serialize(x, NULL, xdr = TRUE))
    expect_true(send.socket(p$b, x))
    expect_identical(receive.socket(p$a), x)
  }
  expect_true(isS4(unserialize(serialize(s4, NULL))))
})

test_that("a cut or extended plain vector is read as base unserialize() reads it", {
  p <- socket_pair()
  good <- serialize(runif(10), NULL, xdr = FALSE)
  for (bad in list(good[-length(good)], good[1:30], good[1:20])) {
    expect_true(send.socket(p$b, bad, serialize = FALSE))
    expect_error(receive.socket(p$a), "not a complete serialized R object")
    expect_error(unserialize(bad))
  }
  # base R ignores bytes after a complete object; so does receive.socket()
  long <- c(good, as.raw(1:3))
  expect_true(send.socket(p$b, long, serialize = FALSE))
  expect_identical(receive.socket(p$a), unserialize(long))
  expect_true(send.socket(p$b, good, serialize = FALSE))
  expect_identical(receive.socket(p$a), unserialize(good))
})

test_that("the buffer kept after a large transfer is given back when idle, and by gc()", {
  cache <- function() .Call(rzmq:::c_rzmq_cache_size)
  p <- socket_pair()
  x <- runif(2e6) # 16 MB
  # Any collection gives the buffer back (that is the point), and testthat's
  # own expectations allocate enough to start one; so each transfer is
  # followed at once by a look at the cache, and the checks come after.
  round_trip <- function() {
    invisible(gc()) # headroom, so the transfer itself starts no collection
    send.socket(p$b, x)
    y <- receive.socket(p$a)
    list(y = y, kept = cache())
  }
  r <- round_trip()
  expect_identical(r$y, x)
  # the buffer was kept for the next large message, and is reused by it
  expect_gte(r$kept, 16e6)
  r <- round_trip()
  expect_identical(r$y, x)
  expect_gte(r$kept, 16e6)
  # nothing else large comes: about a second later it is freed
  deadline <- Sys.time() + 10
  while (cache() > 0 && Sys.time() < deadline) Sys.sleep(0.05)
  expect_identical(cache(), 0)
  # and caching goes on working afterwards
  r <- round_trip()
  expect_identical(r$y, x)
  expect_gte(r$kept, 16e6)
  # a garbage collection gives it back at once
  invisible(gc())
  expect_identical(cache(), 0)
})

test_that("memory that cannot be had ends a send as a classed rzmq_ENOMEM failure", {
  skip_if_not(Sys.info()[["sysname"]] == "Linux", "reads /proc and uses prlimit")
  skip_if(!nzchar(Sys.which("prlimit")), "prlimit (util-linux) not found")
  # a child whose address space may grow by 200 MB only, asked to serialize
  # 300 MB: the fast path's send buffer, and R's serializer's growing one,
  # cannot be had (under ASan its allocator then returns NULL too)
  asan <- Sys.getenv("ASAN_OPTIONS")
  asan <- paste(c(if (nzchar(asan)) asan, "allocator_may_return_null=1"), collapse = ":")
  proc <- child_r(function() {
    library(rzmq)
    ctx <- init.context()
    a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
    bind.socket(b, "inproc://enomem"); connect.socket(a, "inproc://enomem")
    set.rcv.timeout(b, 10000L)
    x <- raw(3e8)
    data <- list(plain = x, general = list(x))
    status <- readLines("/proc/self/status")
    vm <- as.numeric(gsub("[^0-9]", "", grep("^VmSize:", status, value = TRUE))) * 1024
    rc <- system2("prlimit", c(paste0("--pid=", Sys.getpid()), sprintf("--as=%.0f", vm + 200e6)))
    options(rzmq.errors = "condition")
    out <- lapply(data, function(d) {
      r <- tryCatch(send.socket(a, d), error = function(e) e)
      list(class = class(r), message = if (inherits(r, "error")) conditionMessage(r) else "",
           errno = zmq.errno())
    })
    out$rc <- rc
    out$after <- isTRUE(send.socket(a, 1:10)) && identical(receive.socket(b), 1:10)
    destroy.context(ctx)
    out
  }, env = c(callr::rcmd_safe_env(), ASAN_OPTIONS = asan))
  child_wait(proc, timeout = 120)
  r <- proc$get_result()
  expect_identical(r$rc, 0L)
  for (w in c("plain", "general")) {
    expect_true(all(c("rzmq_ENOMEM", "rzmq_error") %in% r[[w]]$class), info = w)
    expect_match(r[[w]]$message, "^cannot allocate [0-9]+ bytes to serialize `data`: ", info = w)
    expect_identical(r[[w]]$errno, 12L, info = w) # ENOMEM
  }
  # the failure left nothing behind: the socket sends and receives as before
  expect_true(r$after)
})
