# fuzz.R: random and mutated inputs for everything that parses what it is
# given. Runs the fuzz loop in a child R process (limited to 4 GB of address
# space, with a deadline) and checks its exit status; a crash is isolated
# and classified (base R's own unserialize, or rzmq) and the loop resumes
# after the crashing case.
#
#   Rscript tools/reliability/fuzz.R [--n=10000] [--n-args=2000] [--seed=1]
#
#  payloads (n): valid serialize() outputs of varied objects (xdr and
#    native, versions 2 and 3, some ascii) and the plain-vector header
#    shapes rzmq parses itself ('B\n' / 'X\n' + version + lengths), flipped,
#    cut, extended, spliced, overwritten; plus random bytes. Each goes
#    through a PAIR socket into receive.socket(unserialize = TRUE) and the
#    outcome must equal base unserialize() on the same bytes: both an error,
#    or both a value and identical values. Every 10th frame is also read
#    with receive.string, and every 10th (from the 5th) with
#    receive.messages(): the value in a list of one, or an
#    rzmq_unserialize_error holding exactly those bytes where base R errs.
#  endpoints (n-args): random and mutated strings for bind / connect /
#    unbind / disconnect: TRUE / FALSE or an R error.
#  options (n-args): random values (types, lengths, NA, huge numbers) for
#    every setter of socket.options and set.sockopt over sockopt.names()$name
#    (and random names; and the getters; CURVE keys of 40 random Z85
#    characters): TRUE / FALSE, value / NULL, or an R error.
#  poll (n-args / 2): random sockets lists, events and timeouts, through
#    poll.socket() and a third through init.poller() / poll.poller().
#  handles (n-args / 4): random thread counts, socket types, lingers,
#    init.message / send.socket, and send.messages / receive.messages with
#    random lists, counts and flags (an integer count / a list, or an R error);
#    is.closed / message.size / socket.endpoints / poll.poller of random
#    values and handles of each kind.
#    configure.authenticator() with random and mutated allow / deny lists
#    (addresses, CIDR ranges), PLAIN lists and drop flags (TRUE, or an R error).
# After each group the sockets and the context must still work.

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})
suppressPackageStartupMessages(library(rzmq))
# serialize() writes the native encoding into every version-3 header: pin
# it, so the cases are the same bytes in every process (children included)
invisible(Sys.setlocale("LC_CTYPE", "C.UTF-8"))

N_PAYLOADS <- arg("n", 10000L)
N_ARGS <- arg("n-args", max(400L, N_PAYLOADS %/% 5L))
SEED <- arg("seed", 1L)
PHASES <- c(payload = N_PAYLOADS, endpoint = N_ARGS, option = N_ARGS,
            poll = N_ARGS %/% 2L, handle = N_ARGS %/% 4L)
N_TOTAL <- sum(PHASES)
phase_of <- function(k) names(PHASES)[findInterval(k - 1L, c(0L, cumsum(PHASES)))]

# ---- case generators (deterministic in the case number) --------------------------

rand_raw <- function(n) as.raw(sample.int(256L, n, replace = TRUE) - 1L)

seed_objects <- function() {
  e <- new.env(parent = emptyenv()); assign("v", 1:3, envir = e)
  lat <- "caf\xe9"; Encoding(lat) <- "latin1"
  byt <- "\xff\xfe"; Encoding(byt) <- "bytes"
  list(NULL, TRUE, NA, c(TRUE, NA, FALSE), 1L, NA_integer_, -5:5, c(1L, NA, 3L),
       1.5, c(NA, NaN, Inf, -Inf, 0, -0), pi * 1:100, complex(real = 1:3, imaginary = -1),
       as.raw(0:255), raw(0), integer(0), numeric(0), character(0), logical(0),
       "a", c("h\u00e9llo", NA, ""), lat, byt, list(), list(1, "a", list(NULL)),
       list(a = 1, b = list(c = 2, d = "x")), factor(c("x", "y", "x")),
       data.frame(a = 1:3, b = c("u", "v", "w")), matrix(1:6, 2), array(as.numeric(1:24), 2:4),
       as.Date("2024-01-01") + 0:3, structure(1700000000, class = c("POSIXct", "POSIXt"), tzone = "UTC"),
       quote(x + y), as.name("sym"), y ~ x, expression(1 + 2, "b"), pairlist(a = 1, 2),
       1:100000, runif(3000), as.integer(runif(20000) * 1000), rep("s", 500), as.raw(1:200) , e, globalenv(), emptyenv(),
       function(x, y = 2) x + y, structure(1:3, class = "foo", extra = "bar"),
       list(big = runif(9000), txt = rep(c("a", "b\u00e9"), 300)))
}
SEEDS <- NULL
seed_bytes <- function() {
  if (is.null(SEEDS)) {
    # the same corpus in every process, whichever case comes first
    saved <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
    set.seed(20240601L)
    objs <- seed_objects()
    if (!is.null(saved)) assign(".Random.seed", saved, globalenv())
    out <- list()
    for (o in objs) {
      for (xdr in c(TRUE, FALSE)) for (v in 2:3) {
        out[[length(out) + 1L]] <- serialize(o, NULL, xdr = xdr, version = v)
      }
      if (length(out) %% 7 == 0) out[[length(out) + 1L]] <- serialize(o, NULL, ascii = TRUE)
    }
    SEEDS <<- out
  }
  SEEDS
}

INTERESTING_INT <- c(0L, 1L, -1L, -2L, 2L, 255L, 256L, 65535L, 65536L, 65537L,
                     .Machine$integer.max, -.Machine$integer.max, 1000000L, 63L, 64L)
int4 <- function(v, big) writeBin(as.integer(v), raw(), size = 4, endian = if (big) "big" else "little")

# The plain-vector header shapes rzmq parses itself: 'B\n' / 'X\n', format
# version, writer's and reader's R versions, (version 3) the native
# encoding's length and name, flags, length (maybe in the long form) and
# the data. Every field is valid unless picked for a fault: most cases have
# one or two faults, so each field's edge values meet an otherwise valid
# vector (where a parser that checks less than R's would return a value).
plain_shape <- function() {
  fields <- c("format", "version", "writer", "reader", "nelen", "enc", "type", "len", "long", "data")
  faults <- if (runif(1) < 0.2) character(0) else sample(fields, sample(1:2, 1, prob = c(3, 1)))
  fmt <- if ("format" %in% faults) sample(c("A", "b", "x", "\n", "Z"), 1) else sample(c("B", "X"), 1)
  big <- fmt == "X"
  version <- if ("version" %in% faults) sample(c(1L, 4L, 0L, -1L, 65539L, 2L), 1) else sample(2:3, 1)
  writer <- if ("writer" %in% faults) sample(c(0L, -1L, .Machine$integer.max), 1) else 262658L
  reader <- if ("reader" %in% faults) sample(c(0L, -1L, 327680L, .Machine$integer.max), 1) else 197888L
  type <- if ("type" %in% faults) {
    sample(c(16L, 19L, 0L, 254L, 255L, 13L + 256L, 14L + 512L, 24L + 1024L, 10L + 4096L,
             13L + 2048L, 13L + 65536L, -1L), 1)
  } else sample(c(10L, 13L, 14L, 15L, 24L), 1)
  esz <- switch(as.character(type %% 256L), "10" = 4L, "13" = 4L, "14" = 8L, "15" = 16L, "24" = 1L, 4L)
  n <- sample(c(0L, 1L, 2L, 3L, 7L, 100L, 3000L, 70000L %/% esz), 1)
  data <- rand_raw(n * esz)
  if ("data" %in% faults) {
    data <- if (runif(1) < 0.5) data[seq_len(max(0L, length(data) - sample.int(9L, 1)))]
            else c(data, rand_raw(sample.int(9L, 1)))
  }
  len <- if ("len" %in% faults) sample(c(n + 1L, n - 1L, -2L, -1L, .Machine$integer.max, 536870912L,
                                         -.Machine$integer.max), 1) else n
  long <- "long" %in% faults || (len == -1L) || runif(1) < 0.1
  nelen <- if ("nelen" %in% faults) sample(c(0L, 1L, 63L, 64L, 64L, 65L, 1000L, -1L), 1) else 5L
  enc <- if (nelen > 0) substr(strrep("UTF-8", 250), 1, min(nelen, 1000L)) else ""
  enc_bytes <- charToRaw(enc)
  if ("enc" %in% faults) enc_bytes <- enc_bytes[seq_len(max(0L, length(enc_bytes) - sample(1:3, 1)))]
  hdr <- c(charToRaw(paste0(fmt, "\n")), int4(version, big), int4(writer, big), int4(reader, big))
  if (version == 3L || ("version" %in% faults && runif(1) < 0.5)) hdr <- c(hdr, int4(nelen, big), enc_bytes)
  hdr <- c(hdr, int4(type, big))
  if (long) {
    upper <- if ("long" %in% faults) sample(c(1L, 65536L, 65537L, -1L), 1) else 0L
    lower <- if ("long" %in% faults && runif(1) < 0.5) sample(c(n + 1L, 0L, -1L), 1) else n
    hdr <- c(hdr, int4(-1L, big), int4(upper, big), int4(lower, big))
  } else {
    hdr <- c(hdr, int4(len, big))
  }
  c(hdr, data)
}

mutate <- function(b) {
  seeds <- seed_bytes()
  for (m in seq_len(sample.int(4L, 1))) {
    n <- length(b)
    op <- sample(c("flip", "byte", "int", "cut", "extend", "splice", "insert", "delete"), 1)
    if (n == 0 && op %in% c("flip", "byte", "int", "delete")) op <- "extend"
    b <- switch(op,
      flip = { i <- sample.int(n, 1); b[i] <- xor(b[i], as.raw(bitwShiftL(1L, sample(0:7, 1)))); b },
      byte = { i <- sample.int(n, min(n, sample.int(4L, 1))); b[i] <- as.raw(sample(c(0L, 255L, 127L, 128L, sample.int(255L, 1)), length(i), TRUE)); b },
      int = {
        i <- sample.int(max(1L, n - 3L), 1)
        # near the front, where the header and lengths are, more often
        if (runif(1) < 0.6) i <- sample.int(max(1L, min(n - 3L, 40L)), 1)
        v <- int4(sample(INTERESTING_INT, 1), big = runif(1) < 0.5)
        idx <- i:(i + 3L); idx <- idx[idx <= n]
        b[idx] <- v[seq_along(idx)]; b
      },
      cut = b[seq_len(sample.int(n + 1L, 1) - 1L)],
      extend = c(b, rand_raw(sample(c(1L, 4L, 8L, 100L), 1))),
      splice = { o <- seeds[[sample.int(length(seeds), 1)]]
                 c(b[seq_len(sample.int(n + 1L, 1) - 1L)], o[-seq_len(sample.int(length(o), 1) - 1L)]) },
      insert = { i <- sample.int(n + 1L, 1) - 1L; c(b[seq_len(i)], rand_raw(sample.int(8L, 1)), b[-seq_len(i)]) },
      delete = { i <- sample.int(n, 1); b[-(i:min(n, i + sample.int(8L, 1) - 1L))] })
  }
  b
}

payload_case <- function(k) {
  set.seed(SEED * 1000003L + k)
  seeds <- seed_bytes()
  u <- runif(1)
  if (u < 0.06) return(seeds[[sample.int(length(seeds), 1)]])        # valid as is
  if (u < 0.25) return(plain_shape())                                  # header shapes
  if (u < 0.35) return(mutate(plain_shape()))
  if (u < 0.40) return(rand_raw(sample(c(0L, 1L, 2L, 14L, 20L, 100L, 3000L), 1)))
  mutate(seeds[[sample.int(length(seeds), 1)]])
}

# A random value for an argument: every type, lengths, NA, huge numbers.
random_value <- function() {
  switch(sample.int(24L, 1),
    NULL, NA, NA_integer_, NA_real_, NaN, NA_character_,
    sample(c(Inf, -Inf, 1e300, -1e300, 2^31, -2^31, 2^31 - 1, 2^53, 2^53 + 2, 2^63, 2^64, -0.5, 0.5, 1e-300, -0), 1),
    sample(c(-2L, -1L, 0L, 1L, 2L, 10L, 100L, 1000L, 65536L, .Machine$integer.max, -.Machine$integer.max), 1),
    sample(c(-1, 0, 1, 100, 1000, 5000, 1e6), 1),
    TRUE, FALSE, c(TRUE, FALSE), integer(0), 1:3, c(1.5, 2),
    sample(c("", "a", "abc", "\u00e9t\u00e9", strrep("x", 41), strrep("y", 256), strrep("z", 5000), "0", "-1", "TRUE"), 1),
    c("a", "b"), raw(0), rand_raw(sample(c(1L, 8L, 32L, 40L, 255L, 256L, 300L), 1)),
    list(), list(1L), sum, 1i)
}

# A random allow/deny list: addresses and ranges, mutated, or anything.
random_addresses <- function() {
  valid <- c("127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8", "::ffff:7f00:1", "0.0.0.0/0", "::/0",
             "1.2.3.4/32", "::ffff:127.0.0.0/104", "255.255.255.255", "2001:db8::1/128",
             "192.168.1.0/24", "fe80::1", "::ffff:1.2.3.4")
  chars <- c(0:9, "a", "f", "x", ":", ".", "/", "%", " ", "-", "+", "\u00e9", "")
  one <- function() {
    v <- strsplit(sample(valid, 1), "")[[1]]
    for (m in seq_len(sample(0:3, 1))) {
      i <- sample.int(length(v) + 1L, 1)
      v <- switch(sample.int(3L, 1),
                  append(v, sample(chars, sample.int(3L, 1), TRUE), i - 1L),
                  v[-min(i, length(v))],
                  { v[min(i, length(v))] <- sample(chars, 1); v })
    }
    paste(v, collapse = "")
  }
  switch(sample.int(5L, 1), NULL, character(0), vapply(seq_len(sample.int(4L, 1)), function(i) one(), ""),
         c(one(), NA), random_value())
}

# A random endpoint: junk, or a valid one mutated.
random_endpoint <- function() {
  valid <- c("tcp://127.0.0.1:*", "tcp://*:*", "tcp://127.0.0.1:0", "tcp://[::1]:*", "tcp://lo:*",
             "tcp://localhost:5555", "tcp://127.0.0.1:65535", "tcp://*: 41932", "inproc://fuzz",
             "inproc://", "ipc://@fuzz-abstract", "ipc://fuzz.sock", "udp://127.0.0.1:5555",
             "pgm://lo;239.192.1.1:5555", "epgm://127.0.0.1;239.192.1.1:5556", "tipc://{5560,0,0}",
             "vmci://1:5555", "ws://127.0.0.1:5555/x", "norm://1,127.0.0.1:5555", "tcp://a.b.c.d:1",
             "tcp://127.0.0.1:99999", "tcp://[fe80::1%lo]:*", "tcp://127.0.0.1;127.0.0.1:*")
  chars <- c(letters, LETTERS, 0:9, ":", "/", "*", "[", "]", ";", "%", ".", "@", "{", "}", ",", " ", "-", "\u00e9", "\\")
  s <- switch(sample.int(4L, 1),
    paste(sample(chars, sample.int(40L, 1), TRUE), collapse = ""),
    sample(valid, 1),
    { v <- strsplit(sample(valid, 1), "")[[1]]
      for (m in seq_len(sample.int(3L, 1))) {
        i <- sample.int(length(v) + 1L, 1)
        v <- switch(sample.int(3L, 1),
                    append(v, sample(chars, sample.int(4L, 1), TRUE), i - 1L),
                    v[-min(i, length(v))],
                    { v[min(i, length(v))] <- sample(chars, 1); v })
      }
      paste(v, collapse = "") },
    paste0(sample(c("tcp", "inproc", "ipc", "pgm", "epgm", "udp", "tipc", ""), 1), "://",
           paste(sample(chars, sample(c(0L, 1L, 10L, 300L), 1), TRUE), collapse = "")))
  safe_endpoint(s)
}
# libzmq removes a file at an ipc:// path before binding there; keep every
# ipc path a plain name in the (temporary) working directory, or abstract.
safe_endpoint <- function(s) {
  proto <- sub("://.*", "", s)
  if (grepl("://", s, fixed = TRUE) && identical(proto, "ipc")) {
    path <- sub("^ipc://", "", s)
    path <- gsub("[^A-Za-z0-9_.@-]", "", path)
    path <- gsub("\\.\\.+", "", path)
    if (!startsWith(path, "@")) path <- gsub("@", "", path)
    s <- paste0("ipc://", path)
  }
  s
}

Z85 <- "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
SETTERS <- c("set.hwm", "set.swap", "set.affinity", "set.identity", "subscribe", "unsubscribe",
             "set.rate", "set.recovery.ivl", "set.recovery.ivl.msec", "set.mcast.loop",
             "set.sndbuf", "set.rcvbuf", "set.linger", "set.reconnect.ivl", "set.zmq.backlog",
             "set.reconnect.ivl.max", "set.send.timeout", "set.rcv.timeout")
GETTERS <- c("get.rcvmore", "get.last.endpoint", "get.send.timeout", "get.rcv.timeout")
TYPES <- c("ZMQ_PAIR", "ZMQ_PUB", "ZMQ_SUB", "ZMQ_REQ", "ZMQ_REP", "ZMQ_DEALER", "ZMQ_ROUTER",
           "ZMQ_PULL", "ZMQ_PUSH", "ZMQ_XPUB", "ZMQ_XSUB", "ZMQ_STREAM")

# An argument case: a call to evaluate with the sockets of the worker
# (`s`: the socket under test, `ready`, `idle`: poll targets, `ctx`).
arg_case <- function(k, phase) {
  set.seed(SEED * 1000003L + k)
  switch(phase,
    endpoint = {
      f <- sample(c("bind.socket", "connect.socket", "unbind.socket", "disconnect.socket",
                    "bind.socket", "connect.socket"), 1)
      ep <- if (runif(1) < 0.9) random_endpoint() else random_value()
      as.call(list(as.name(f), quote(s), ep))
    },
    option = {
      u <- runif(1)
      if (u < 0.45) {
        as.call(list(as.name(sample(SETTERS, 1)), quote(s), random_value()))
      } else if (u < 0.85) {
        nm <- if (runif(1) < 0.9) sample(sockopt.names()$name, 1) else
          sample(c("ZMQ_", "", "sndhwm", "ZMQ_HWM", "ZMQ_SWAP", "nope", "ZMQ_TYPE", NA, "zmq_linger"), 1)
        if (runif(1) < 0.3) nm <- tolower(sub("^ZMQ_", "", nm))
        if (runif(1) < 0.05) nm <- random_value()
        v <- random_value()
        # keys: 40 random Z85 characters, most of which decode to no key
        if (is.character(nm) && length(nm) == 1L && grepl("CURVE_.*KEY", toupper(nm)) && runif(1) < 0.5)
          v <- paste(sample(strsplit(Z85, "")[[1]], 40, replace = TRUE), collapse = "")
        as.call(list(as.name("set.sockopt"), quote(s), nm, v))
      } else if (u < 0.95) {
        nm <- if (runif(1) < 0.85) sample(sockopt.names()$name, 1) else random_value()
        as.call(list(as.name("get.sockopt"), quote(s), nm))
      } else {
        as.call(list(as.name(sample(GETTERS, 1)), quote(s)))
      }
    },
    poll = {
      n <- sample(0:4, 1)
      socks <- lapply(seq_len(n), function(i) {
        if (runif(1) < 0.9) as.name(sample(c("ready", "idle", "s"), 1)) else random_value()
      })
      socks <- if (runif(1) < 0.05) random_value() else as.call(c(list(as.name("list")), socks))
      ev1 <- function() {
        if (runif(1) < 0.85) sample(c("read", "write", "error", "READ", "", NA, "readwrite"),
                                    sample.int(3L, 1), replace = TRUE, prob = c(5, 5, 5, 1, 1, 1, 1))
        else random_value()
      }
      events <- switch(sample.int(3L, 1),
                       ev1(),
                       lapply(seq_len(max(0L, n + sample(c(0L, 0L, 0L, -1L, 1L), 1))), function(i) ev1()),
                       random_value())
      timeout <- if (runif(1) < 0.6) sample(list(0, 0L, 0.001, 0.01, -1, -1L, Inf, -Inf, -2, 1e-9,
                                                 1e10, 2^31, NaN, NA, -0.5), 1)[[1]] else random_value()
      # a third through a poller made of the same arguments
      if (runif(1) < 0.35)
        as.call(list(as.name("poll.poller"), as.call(list(as.name("init.poller"), socks, events)), timeout))
      else as.call(list(as.name("poll.socket"), socks, events, timeout))
    },
    handle = {
      switch(sample.int(9L, 1),
        # the authenticator's lists: TRUE, or an R error naming the entry
        as.call(list(as.name("configure.authenticator"),
                     if (runif(1) < 0.95) quote(fuzz_auth) else random_value(),
                     allow = random_addresses(), deny = random_addresses(),
                     plain = if (runif(1) < 0.7) c(u = "p", v = "q")[seq_len(sample(0:2, 1))]
                             else if (runif(1) < 0.5) stats::setNames(c("p", "", "q"), c("u", "v", "u"))[seq_len(sample(1:3, 1))]
                             else random_value(),
                     drop = if (runif(1) < 0.8) runif(1) < 0.5 else random_value())),
        as.call(list(as.name("init.context"), if (runif(1) < 0.5) sample(0:4, 1) else random_value())),
        as.call(list(as.name("init.socket"), quote(ctx),
                     if (runif(1) < 0.4) sample(c(TYPES, tolower(TYPES), "REQ", "ZMQ_XREQ", "ZMQ_XREP"), 1)
                     else if (runif(1) < 0.5) paste(sample(c(letters, "_"), sample.int(12L, 1), TRUE), collapse = "")
                     else random_value())),
        as.call(list(as.name("destroy.context"), quote(init.context()),
                     if (runif(1) < 0.3) NULL else random_value())),
        as.call(list(as.name(sample(c("init.message", "send.socket"), 1)),
                     if (runif(1) < 0.5) quote(s) else random_value(),
                     random_value(), random_value())),
        # batches: a list of random values (or anything), random flags
        as.call(list(as.name("send.messages"),
                     if (runif(1) < 0.9) quote(s) else random_value(),
                     if (runif(1) < 0.8) lapply(seq_len(sample(0:6, 1)), function(i) random_value())
                     else random_value(),
                     serialize = if (runif(1) < 0.85) runif(1) < 0.75 else random_value(),
                     xdr = if (runif(1) < 0.85) runif(1) < 0.5 else random_value())),
        # (dont.wait mostly TRUE: a waiting receive ends only at the time limit)
        as.call(list(as.name("receive.messages"),
                     if (runif(1) < 0.9) quote(s) else random_value(),
                     n = if (runif(1) < 0.7) sample(list(0, 1L, 5, 1000L, 1e9, 1e9 + 1, -1, 0.5, 2^31, NA), 1)[[1]]
                         else random_value(),
                     unserialize = if (runif(1) < 0.85) runif(1) < 0.5 else random_value(),
                     dont.wait = if (runif(1) < 0.9) TRUE else random_value())),
        # the small queries: any value, or a handle of another kind
        as.call(list(as.name(sample(c("is.closed", "message.size", "socket.endpoints"), 1)),
                     if (runif(1) < 0.4) random_value()
                     else sample(list(quote(s), quote(ctx), quote(init.message(1)),
                                      quote(init.poller(s, "read"))), 1)[[1]])),
        as.call(list(as.name("poll.poller"),
                     if (runif(1) < 0.7) random_value() else quote(init.poller(list(s, idle), "read")),
                     if (runif(1) < 0.5) 0 else random_value())))
    })
}

describe_call <- function(cl) {
  d <- paste(deparse(cl, width.cutoff = 200L, nlines = 3L), collapse = " ")
  if (nchar(d) > 300) paste0(substr(d, 1, 300), "...") else d
}

# ---- the worker --------------------------------------------------------------------

outcome <- function(expr) {
  tryCatch(suppressWarnings(suppressMessages(list(ok = TRUE, value = expr))),
           error = function(e) list(ok = FALSE, msg = conditionMessage(e)))
}
# Bytes on which R 4.2's own unserialize() reads out of bounds and crashes:
# a version-3 binary/xdr header with a negative encoding-name length
# (R_Unserialize checks only nelen > 63, and the memory stream's bounds
# check wraps around for a negative length). rzmq's stream rejects it, so
# for these only rzmq is run, and it must give an R error.
base_crashes_on <- function(b) {
  if (length(b) < 18 || b[2] != as.raw(10) || !(b[1] %in% charToRaw("BX"))) return(FALSE)
  big <- b[1] == charToRaw("X")
  rd <- function(at) readBin(b[at + 0:3], "integer", size = 4, endian = if (big) "big" else "little")
  rd(3) == 3L && rd(15) < 0L
}
# Values compared in full only when both are data (atomic vectors and lists
# of them, with such attributes): a mutated stream can make R build
# malformed language objects, pairlists or S4 objects (a call whose tail is
# an S4 object, ...) on which identical() or serialize() itself crashes.
# Other values are compared by type only, and counted apart.
data_like <- function(x, depth = 0L) {
  if (depth > 20L) return(FALSE)
  if (!typeof(x) %in% c("NULL", "logical", "integer", "double", "complex", "character", "raw", "list"))
    return(FALSE)
  for (a in attributes(x)) if (!data_like(a, depth + 1L)) return(FALSE)
  if (is.list(x)) for (el in x) if (!data_like(el, depth + 1L)) return(FALSE)
  TRUE
}
same_value <- function(a, b) {
  if (data_like(a) && data_like(b)) return(identical(a, b))
  identical(typeof(a), typeof(b))
}

run_worker <- function(from, to, progress, result_file) {
  t_start <- Sys.time()
  ctx <- init.context()
  pa <- init.socket(ctx, "ZMQ_PAIR"); pb <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(pb, "inproc://fuzz-payload"); connect.socket(pa, "inproc://fuzz-payload")
  for (x in list(pa, pb)) { set.rcv.timeout(x, 10000L); set.send.timeout(x, 10000L) }
  res <- list(payload = c(both_value = 0, shallow = 0, both_error = 0, mismatch = 0, base_skipped = 0,
                          string_ok = 0, string_error = 0, batch_value = 0, batch_error = 0, batch_differs = 0),
              endpoint = c(`TRUE` = 0, `FALSE` = 0, error = 0, bad = 0),
              option = c(`TRUE` = 0, `FALSE` = 0, value = 0, `NULL` = 0, error = 0, bad = 0),
              poll = c(value = 0, `NULL` = 0, error = 0, time_limit = 0, bad = 0),
              handle = c(value = 0, error = 0, time_limit = 0, bad = 0),
              batch_calls = c(send_count = 0, send_error = 0, receive_list = 0, receive_error = 0),
              still_works = c(ok = 0, failed = 0),
              mismatches = list(), bad_calls = character(0))
  works <- function(what) {
    payload <- list(what, runif(3))
    ok <- tryCatch(isTRUE(send.socket(pa, payload)) && identical(receive.socket(pb), payload),
                   error = function(e) FALSE)
    res$still_works[if (ok) "ok" else "failed"] <<- res$still_works[if (ok) "ok" else "failed"] + 1
    if (!ok) res$bad_calls <<- c(res$bad_calls, paste("payload sockets stopped working after", what))
  }
  # the socket under test for argument cases, with a peer to prove it works
  fresh_s <- function(k) {
    type <- c("ZMQ_PULL", "ZMQ_REP", "ZMQ_ROUTER")[k %% 3 + 1]
    sock <- init.socket(ctx, type)
    set.linger(sock, 0L)
    sock
  }
  s_works <- function(sock, what) {
    ok <- tryCatch({
      type <- get.sockopt(sock, "TYPE")
      # reset what the fuzz may have changed, then talk to it
      set.rcv.timeout(sock, 5000L); set.send.timeout(sock, 5000L)
      set.sockopt(sock, "RCVHWM", 1000L); set.sockopt(sock, "SNDHWM", 1000L)
      ep <- sprintf("inproc://works-%d", sample.int(1e9, 1))
      bind.socket(sock, ep)
      peer_type <- c(`7` = "ZMQ_PUSH", `4` = "ZMQ_REQ", `6` = "ZMQ_DEALER")[[as.character(type)]]
      peer <- init.socket(ctx, peer_type)
      set.linger(peer, 0L); set.rcv.timeout(peer, 5000L)
      connect.socket(peer, ep)
      send.socket(peer, "ping")
      if (type == 6L) receive.socket(sock, unserialize = FALSE) # the identity
      got <- receive.socket(sock)
      if (type == 4L) { send.socket(sock, "pong"); got <- c(got, receive.socket(peer)) }
      destroy.socket(peer)
      identical(got, if (type == 4L) c("ping", "pong") else "ping")
    }, error = function(e) FALSE)
    res$still_works[if (ok) "ok" else "failed"] <<- res$still_works[if (ok) "ok" else "failed"] + 1
    if (!ok) res$bad_calls <<- c(res$bad_calls, paste("socket under test stopped working after", what))
    destroy.socket(sock)
  }
  ready <- init.socket(ctx, "ZMQ_PAIR"); rpeer <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(ready, "inproc://fuzz-ready"); connect.socket(rpeer, "inproc://fuzz-ready")
  send.socket(rpeer, "stays queued")
  idle <- init.socket(ctx, "ZMQ_PULL")
  fuzz_auth <- init.authenticator(ctx, curve = TRUE)
  s <- NULL
  env <- environment()
  wd <- tempfile("fuzz-wd"); dir.create(wd); owd <- setwd(wd)
  on.exit({ setwd(owd); unlink(wd, recursive = TRUE) })

  for (k in from:to) {
    ph <- phase_of(k)
    cat(k, "\n", file = progress)
    # a checkpoint before every case (small, uncompressed: ~0.1 ms), so a
    # crash loses no count but its own case's
    res$upto <- k - 1L
    saveRDS(res, result_file, compress = FALSE)
    if (ph == "payload") {
      b <- payload_case(k)
      if (base_crashes_on(b)) {
        stopifnot(isTRUE(send.socket(pa, b, serialize = FALSE)))
        rz <- outcome(receive.socket(pb))
        res$payload["base_skipped"] <- res$payload["base_skipped"] + 1
        if (rz$ok) res$bad_calls <- c(res$bad_calls, sprintf("case %d: a negative encoding length gave a value", k))
        next
      }
      base <- outcome(unserialize(b))
      stopifnot(isTRUE(send.socket(pa, b, serialize = FALSE)))
      rz <- outcome(receive.socket(pb))
      if (base$ok && rz$ok) {
        same <- same_value(base$value, rz$value)
        if (!data_like(base$value)) res$payload["shallow"] <- res$payload["shallow"] + 1
        res$payload[if (same) "both_value" else "mismatch"] <- res$payload[if (same) "both_value" else "mismatch"] + 1
      } else if (!base$ok && !rz$ok) {
        res$payload["both_error"] <- res$payload["both_error"] + 1
        same <- TRUE
      } else {
        same <- FALSE
        res$payload["mismatch"] <- res$payload["mismatch"] + 1
      }
      if (!same && length(res$mismatches) < 50) {
        # the first bytes only (the checkpoints stay small); the case number
        # regenerates all of them
        res$mismatches[[length(res$mismatches) + 1L]] <- list(
          case = k, n = length(b), bytes = utils::head(b, 64), base = if (base$ok) "a value" else paste("error:", base$msg),
          rzmq = if (rz$ok) "a value" else paste("error:", rz$msg))
      }
      if (k %% 10 == 0) {
        send.socket(pa, b, serialize = FALSE)
        st <- outcome(receive.string(pb))
        ok <- if (st$ok) is.character(st$value) && length(st$value) == 1 &&
          identical(charToRaw(st$value), b) else any(b == as.raw(0))
        res$payload[if (st$ok) "string_ok" else "string_error"] <- res$payload[if (st$ok) "string_ok" else "string_error"] + 1
        if (!ok) res$bad_calls <- c(res$bad_calls, sprintf("case %d: receive.string gave %s", k,
                                                          if (st$ok) "wrong bytes" else st$msg))
      }
      if (k %% 10 == 5) {
        # the same bytes in a receive.messages() batch: the value in a list
        # of one, or rzmq_unserialize_error holding exactly these bytes
        send.socket(pa, b, serialize = FALSE)
        bt <- tryCatch(suppressWarnings(list(ok = TRUE, value = receive.messages(pb, n = 1L))),
                       rzmq_unserialize_error = function(e) list(ok = FALSE, e = e),
                       error = function(e) list(ok = NA, msg = conditionMessage(e)))
        same_b <- if (isTRUE(bt$ok)) base$ok && is.list(bt$value) && length(bt$value) == 1L &&
          same_value(base$value, bt$value[[1L]])
          else if (identical(bt$ok, FALSE)) !base$ok && identical(bt$e$data, b) && identical(bt$e$received, list())
          else FALSE
        nm <- if (!same_b) "batch_differs" else if (isTRUE(bt$ok)) "batch_value" else "batch_error"
        res$payload[nm] <- res$payload[nm] + 1
        if (!same_b) res$bad_calls <- c(res$bad_calls, sprintf("case %d: receive.messages gave %s, base unserialize() %s", k,
          if (isTRUE(bt$ok)) "a value" else if (identical(bt$ok, FALSE)) "rzmq_unserialize_error" else paste("error:", bt$msg),
          if (base$ok) "a value" else "an error"))
      }
      if (k %% 500 == 0) works(sprintf("payload case %d", k))
    } else {
      if (is.null(s) || k %% 25 == 0) {
        if (!is.null(s)) s_works(s, sprintf("%s cases up to %d", ph, k))
        s <- fresh_s(k)
      }
      cl <- arg_case(k, ph)
      if (nzchar(Sys.getenv("RZMQ_FUZZ_TRACE"))) cat(k, describe_call(cl), "\n", file = stderr())
      if (ph %in% c("poll", "handle")) setTimeLimit(elapsed = 2, transient = TRUE)
      o <- outcome(eval(cl, env))
      setTimeLimit(elapsed = Inf)
      v <- o$value
      kind <- if (!o$ok) {
        if (grepl("time limit", o$msg)) "time_limit" else "error"
      } else switch(ph,
        endpoint = if (identical(v, TRUE)) "TRUE" else if (identical(v, FALSE)) "FALSE" else "bad",
        option = if (identical(v, TRUE)) "TRUE" else if (identical(v, FALSE)) "FALSE" else
          if (is.null(v)) "NULL" else if (as.character(cl[[1]]) %in% c("get.sockopt", GETTERS) &&
                                         is.atomic(v)) "value" else "bad",
        poll = {
          n <- length(v)
          good <- is.list(v) && all(vapply(v, function(el) is.list(el) && length(el) >= 1 &&
            all(names(el) %in% c("read", "write", "error")) &&
            identical(names(el), c("read", "write", "error")[c("read", "write", "error") %in% names(el)]) &&
            all(vapply(el, function(x) identical(x, TRUE) || identical(x, FALSE), logical(1))), logical(1)))
          if (is.null(v)) "NULL" else if (good) "value" else "bad"
        },
        handle = switch(as.character(cl[[1]]),
          send.messages = if (is.integer(v) && length(v) == 1L && !is.na(v) && v >= 0L) "value" else "bad",
          receive.messages = if (is.list(v)) "value" else "bad",
          "value"))
      res[[ph]][kind] <- res[[ph]][kind] + 1
      if (ph == "handle" && as.character(cl[[1]]) %in% c("send.messages", "receive.messages")) {
        bk <- paste0(if (as.character(cl[[1]]) == "send.messages") "send_" else "receive_",
                     if (kind == "value") if (as.character(cl[[1]]) == "send.messages") "count" else "list" else "error")
        if (bk %in% names(res$batch_calls)) res$batch_calls[bk] <- res$batch_calls[bk] + 1
      }
      if (kind == "bad") res$bad_calls <- c(res$bad_calls, sprintf("case %d: %s gave %s", k, describe_call(cl),
                                                                  paste(utils::capture.output(str(v)), collapse = " ")))
      if (ph == "handle" && o$ok && typeof(v) == "externalptr") rm(v)
      if (k %% 200 == 0) { works(sprintf("%s case %d", ph, k)); invisible(gc()) }
    }
  }
  if (!is.null(s)) s_works(s, "the last group")
  works("the end")
  # the queued message is still there: poll never consumes
  check_ready <- identical(receive.socket(ready, dont.wait = TRUE), "stays queued")
  res$still_works[if (check_ready) "ok" else "failed"] <- res$still_works[if (check_ready) "ok" else "failed"] + 1
  res$elapsed <- as.numeric(difftime(Sys.time(), t_start, units = "secs"))
  res$upto <- to
  res$done <- TRUE
  saveRDS(res, result_file)
  invisible(res)
}

# ---- isolation of a crash ------------------------------------------------------------

# Run fuzz.R again in a fresh process (limited like the worker) with `args`;
# returns list(crashed, text) where text is the tail of its output.
rerun <- function(args, env = character(0)) {
  script <- file.path(script_dir(), "fuzz.R")
  p <- processx::process$new("bash", c("-c", sprintf("ulimit -v 4000000; exec %s %s %s --seed=%d --n=%d --n-args=%d",
                                                   file.path(R.home("bin"), "Rscript"), shQuote(script), args,
                                                   SEED, N_PAYLOADS, N_ARGS)),
                             stdout = "|", stderr = "2>&1", env = c("current", env))
  p$wait(120000)
  hung <- p$is_alive()
  if (hung) p$kill()
  st <- p$get_exit_status()
  out <- p$read_all_output()
  list(crashed = hung || !identical(st, 0L),
       text = if (hung) "hangs" else if (identical(st, 0L)) "ok" else
         sprintf("exit status %d: %s", st, substr(gsub("\n", " | ", out), 1, 300)),
       output = out)
}

# Base unserialize() of case k alone under valgrind: TRUE if valgrind finds
# invalid memory accesses (R's own unserializer reading or writing out of
# bounds, which crashes only now and then), NA without valgrind.
base_memory_errors <- function(k) {
  if (!nzchar(Sys.which("valgrind"))) return(NA)
  supp <- file.path(script_dir(), "valgrind.supp")
  p <- processx::process$new(file.path(R.home("bin"), "R"),
    c("-d", sprintf("valgrind -q --error-exitcode=42 --exit-on-first-error=yes --suppressions=%s", supp), "--vanilla", "--no-echo",
      "-f", file.path(script_dir(), "fuzz.R"), "--args", sprintf("--isolate=%d", k), "--side=base",
      sprintf("--seed=%d", SEED), sprintf("--n=%d", N_PAYLOADS), sprintf("--n-args=%d", N_ARGS)),
    stdout = "|", stderr = "2>&1")
  p$wait(120000)
  if (p$is_alive()) { p$kill(); return(NA) }
  st <- p$get_exit_status()
  identical(st, 42L) || (!is.null(st) && st < 0) # errors, or killed by a signal under valgrind
}

# Which side of a payload case crashes, each alone in a fresh process; if
# base R does not crash there, whether valgrind finds it touching memory it
# must not (the worker's crash then is R's own, wherever it happened).
isolate_payload <- function(k, worker_output) {
  base <- rerun(sprintf("--isolate=%d --side=base", k))
  rz <- rerun(sprintf("--isolate=%d --side=rzmq", k))
  in_base <- grepl("\n 1: unserialize\\(b\\)", worker_output)
  vg <- if (!base$crashed) base_memory_errors(k) else NA
  r_own <- base$crashed || in_base || isTRUE(vg)
  verdict <- if (base$crashed && rz$crashed) "R's own: base unserialize() crashes on these bytes too"
    else if (base$crashed) "R's own: base unserialize() crashes; rzmq does not"
    else if (in_base) "R's own: the worker crashed inside base unserialize()"
    else if (isTRUE(vg)) "R's own: valgrind finds base unserialize() accessing invalid memory on these bytes"
    else if (rz$crashed) "RZMQ CRASH: base unserialize() neither crashes nor touches invalid memory on these bytes"
    else "RZMQ CRASH?: not reproduced in isolation, and base unserialize() is clean under valgrind"
  list(rzmq_fault = !r_own, verdict = verdict,
       detail = c(base = base$text, rzmq = rz$text, base_valgrind = format(vg)))
}

# An argument case crashes in the state the calls before it left: replay
# its group (every call on the same socket under test) with a trace.
isolate_args <- function(k) {
  first <- PHASES[["payload"]] + 1L
  g <- max(first, 25L * ((k - 1L) %/% 25L))
  r <- rerun(sprintf("--worker=TRUE --from=%d --to=%d --progress=/dev/null --result=/dev/null", g, k),
             env = c(RZMQ_FUZZ_TRACE = "1"))
  calls <- grep("^[0-9]+ ", strsplit(r$output, "\n")[[1]], value = TRUE)
  list(rzmq_fault = TRUE,
       verdict = if (r$crashed) sprintf("reproduced by replaying cases %d to %d", g, k)
                 else sprintf("not reproduced by replaying cases %d to %d", g, k),
       detail = c(replay = r$text, calls = paste(utils::tail(calls, 30), collapse = "\n")))
}

if (arg("isolate", 0L) > 0L) {
  k <- arg("isolate", 0L)
  side <- arg("side", "base")
  ph <- phase_of(k)
  if (ph == "payload") {
    b <- payload_case(k)
    cat(sprintf("case %d: %d bytes, byte sum %d\n", k, length(b), sum(as.integer(b))))
    # as in the worker: two values compared (malformed objects from a
    # mutated stream can crash identical() or serialize() later)
    if (side == "base") {
      if (base_crashes_on(b)) cat("known base R crash shape\n")
      x <- try(unserialize(b), silent = TRUE)
      y <- try(unserialize(b), silent = TRUE)
      if (!inherits(x, "try-error") && !inherits(y, "try-error")) invisible(same_value(x, y))
    } else {
      ctx <- init.context()
      a <- init.socket(ctx, "ZMQ_PAIR"); z <- init.socket(ctx, "ZMQ_PAIR")
      bind.socket(z, "inproc://iso"); connect.socket(a, "inproc://iso")
      send.socket(a, b, serialize = FALSE); send.socket(a, b, serialize = FALSE)
      x <- try(receive.socket(z), silent = TRUE)
      y <- try(receive.socket(z), silent = TRUE)
      if (!inherits(x, "try-error") && !inherits(y, "try-error")) invisible(same_value(x, y))
    }
  }
  quit(save = "no", status = 0)
}

if (arg("worker", FALSE)) {
  run_worker(arg("from", 1L), arg("to", N_TOTAL), arg("progress", ""), arg("result", ""))
  quit(save = "no", status = 0)
}

# ---- the parent: run the worker, resume after crashes -------------------------------

started <- Sys.time()
say(describe_rzmq())
say(sprintf("payloads %d, endpoints %d, option calls %d, polls %d, handle calls %d; seed %d",
            PHASES[["payload"]], PHASES[["endpoint"]], PHASES[["option"]], PHASES[["poll"]],
            PHASES[["handle"]], SEED))
work <- tempfile("rzmq-fuzz")
dir.create(work)
crash_dir <- file.path(Sys.getenv("RZMQ_REL_WORK", "/tmp/rzmq-reliability"), "fuzz-crashes")
dir.create(crash_dir, recursive = TRUE, showWarnings = FALSE)
progress <- file.path(work, "progress")
result <- file.path(work, "result.rds")
totals <- NULL
crashes <- list()
from <- 1L
deadline <- 120 + 0.05 * N_TOTAL
max_crashes <- 20L + N_TOTAL %/% 100L
while (from <= N_TOTAL && length(crashes) < max_crashes) {
  unlink(c(progress, result))
  # 4 GB of address space: a mutated length that asks for a huge vector
  # fails fast in both unserializers instead of filling the machine
  p <- processx::process$new("bash", c("-c", sprintf(
    "ulimit -v 4000000; exec %s %s --worker=TRUE --from=%d --to=%d --progress=%s --result=%s --seed=%d --n=%d --n-args=%d",
    file.path(R.home("bin"), "Rscript"), shQuote(file.path(script_dir(), "fuzz.R")),
    from, N_TOTAL, progress, result, SEED, N_PAYLOADS, N_ARGS)), stdout = "|", stderr = "2>&1")
  p$wait(deadline * 1000)
  timed_out <- p$is_alive()
  if (timed_out) p$kill()
  status <- p$get_exit_status()
  out <- p$read_all_output()
  # the results up to the last checkpoint (all of them if it finished)
  part <- if (file.exists(result)) tryCatch(readRDS(result), error = function(e) NULL)
  if (!is.null(part)) {
    if (is.null(totals)) totals <- part else {
      for (nm in c("payload", "endpoint", "option", "poll", "handle", "batch_calls", "still_works"))
        totals[[nm]] <- totals[[nm]] + part[[nm]]
      totals$mismatches <- c(totals$mismatches, part$mismatches)
      totals$bad_calls <- c(totals$bad_calls, part$bad_calls)
      totals$elapsed <- sum(totals$elapsed, part$elapsed)
    }
    if (isTRUE(part$done)) break
  }
  k <- suppressWarnings(as.integer(readLines(progress, warn = FALSE)[1]))
  if (is.na(k)) { say("the worker failed before its first case:\n", out); crashes <- c(crashes, list(list(case = NA))); break }
  ph <- phase_of(k)
  say(sprintf("worker %s at case %d (%s); exit status %s", if (timed_out) "HUNG" else "CRASHED",
              k, ph, format(status)))
  cat(substr(out, max(1, nchar(out) - 1500), nchar(out)), "\n")
  iso <- if (ph == "payload") isolate_payload(k, out) else isolate_args(k)
  say("isolated: ", iso$verdict)
  for (nm in names(iso$detail)) cat(sprintf("  %s: %s\n", nm, iso$detail[[nm]]))
  if (ph == "payload") {
    f <- file.path(crash_dir, sprintf("fuzz-crash-case-%d.bin", k))
    writeBin(payload_case(k), f)
    say("bytes saved to ", f)
  }
  crashes[[length(crashes) + 1L]] <- list(case = k, phase = ph, timed_out = timed_out,
                                          rzmq_fault = iso$rzmq_fault || timed_out, verdict = iso$verdict)
  # resume after the crashing case; the cases between the last checkpoint
  # and the crash ran but are not counted
  from <- k + 1L
}
unlink(work, recursive = TRUE)

# ---- figures and verdict ----------------------------------------------------------------

if (!is.null(totals)) {
  pl <- totals$payload
  say(sprintf("payload cases counted: %d (+ %d that crashed the worker)",
              as.integer(sum(pl[c("both_value", "both_error", "mismatch", "base_skipped")])),
              sum(vapply(crashes, function(x) identical(x$phase, "payload"), logical(1)))))
  say(sprintf("payloads: %d both a value (%d compared in full with identical(), %d non-data values by type), %d both an error, %d MISMATCHED, %d given to rzmq only (base R would crash: negative encoding length); receive.string: %d strings, %d errors",
              pl[["both_value"]], pl[["both_value"]] - pl[["shallow"]], pl[["shallow"]], pl[["both_error"]],
              pl[["mismatch"]], pl[["base_skipped"]], pl[["string_ok"]], pl[["string_error"]]))
  say(sprintf("payloads through receive.messages(): %d values as base R's, %d rzmq_unserialize_error where base R errs (with the bytes), %d DIFFERED",
              pl[["batch_value"]], pl[["batch_error"]], pl[["batch_differs"]]))
  for (nm in c("endpoint", "option", "poll", "handle", "batch_calls")) {
    say(sprintf("%-8s %s", paste0(nm, ":"), paste(names(totals[[nm]]), totals[[nm]], sep = " ", collapse = ", ")))
  }
  say(sprintf("still works afterwards: %d ok, %d failed; worker time %.1f s",
              totals$still_works[["ok"]], totals$still_works[["failed"]], totals$elapsed))
  if (length(totals$mismatches)) {
    kinds <- table(vapply(totals$mismatches, function(m) paste0("base ", m$base, " / rzmq ", m$rzmq), ""))
    for (nm in names(kinds)) say(sprintf("mismatch x%d: %s", kinds[[nm]], nm))
  }
  for (m in utils::head(totals$mismatches, 5)) {
    say(sprintf("MISMATCH case %d: base %s; rzmq %s; %d bytes: %s ...", m$case, m$base, m$rzmq,
                m$n, paste(utils::head(as.character(m$bytes), 40), collapse = " ")))
  }
  for (b in utils::head(totals$bad_calls, 10)) say("BAD: ", b)
}
r_own <- Filter(function(x) !isTRUE(x$rzmq_fault), crashes)
ours <- Filter(function(x) isTRUE(x$rzmq_fault), crashes)
say(sprintf("crashes: %d where base R's own unserialize() crashes on the same bytes (not counted against rzmq), %d others",
            length(r_own), length(ours)))
for (x in ours) say(sprintf("CRASH at case %s (%s): %s", format(x$case), x$phase, x$verdict))
check(!is.null(totals), "the fuzz loop completed")
check(length(crashes) < max_crashes, "fewer crashes than the restart limit")
check(length(ours) == 0, "no crash or hang that base R does not share",
      lapply(ours, function(x) x[c("case", "phase", "verdict")]))
if (arg("strict", FALSE)) check(length(r_own) == 0, "no crash at all (--strict)")
if (!is.null(totals)) {
  check(totals$payload[["mismatch"]] == 0, "unserialize agrees with base unserialize() on every payload")
  n_pc <- sum(vapply(crashes, function(x) identical(x$phase, "payload"), logical(1)))
  check(sum(totals$payload[c("both_value", "both_error", "mismatch", "base_skipped")]) + n_pc == PHASES[["payload"]],
        "every payload case ran and was counted")
  check(length(totals$bad_calls) == 0, "every call gave TRUE/FALSE, a value/NULL or an R error", utils::head(totals$bad_calls))
  check(totals$still_works[["failed"]] == 0, "sockets and context still work after each group")
}
finish("fuzz", started)
