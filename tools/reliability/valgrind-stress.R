# valgrind-stress.R: a workload for valgrind.sh (it also runs without
# valgrind). Every value received is checked against what was sent.
#
#   Rscript tools/reliability/valgrind-stress.R [--messages=100000]
#       [--cycles=1000] [--max-size=1048576] [--seed=1]
#
#  1. `messages` payloads of 0 B to `max-size` (mostly small, some large)
#     through every socket type pair (PAIR, PUSH/PULL, REQ/REP,
#     DEALER/ROUTER, PUB/SUB, XPUB/XSUB) over inproc and tcp, in every
#     form: serialized objects (xdr and native), raw frames (small, and
#     > 64 KB which are lent to libzmq), strings, ints, doubles, empty
#     frames, multipart messages, message objects; REQ/REP and
#     DEALER/ROUTER echo every message back. Receivers wait with poll.socket.
#     Raw frames of 64 KB and more come back without a copy where that
#     pays (see 1c).
# 1b. messages/10 messages of the same mix in batches (send.messages,
#     receive.messages with random n) over PUSH/PULL, PAIR, DEALER/ROUTER
#     and PUB/SUB, inproc and tcp, with multipart messages between batches
#     and now and then a message that will not unserialize; batches that
#     end at the high-water mark (exactly the first n arrive);
# 1c. zero-copy frames (single, multipart and batch) held up to 30 at a
#     time across gc() and the destruction of their context, resent,
#     serialized, written to, put in message objects, checked at their end;
# 1d. the cached large send buffer freed by its janitor thread when idle;
#  2. every setter and getter of socket.options, and set.sockopt /
#     get.sockopt over sockopt.names()$name, on a socket of every type;
#  3. poll.socket over several sockets and event sets;
#  4. init.message / send.message.object, serialize = TRUE / FALSE;
#  5. `cycles` create / use / close / gc cycles of contexts and sockets,
#     closed with destroy.socket / destroy.context, or only dropped;
#  6. CURVE and authenticators; 7. monitors and proxies; 7b. a one-socket
#     proxy whose peer stops reading, a proxy whose peer leaves
#     mid-message, a later frame whose peer left.
# Then: no raw vector still lent to libzmq, and file descriptors back to
# where they started (no context or socket leaked).

local({ # common.R sits beside this script (run as Rscript FILE or R -f FILE)
  a <- commandArgs(FALSE)
  f <- c(sub("^--file=", "", grep("^--file=", a, value = TRUE)), a[which(a == "-f") + 1L])
  source(file.path(if (length(f)) dirname(normalizePath(f[1])) else ".", "common.R"))
})

n_messages <- arg("messages", 100000L)
n_cycles <- arg("cycles", 1000L)
max_size <- arg("max-size", 1048576L)
seed <- arg("seed", 1L)
started <- begin(sprintf("messages = %d, cycles = %d, max size = %d B",
                         n_messages, n_cycles, max_size))
set.seed(seed)

fd_count <- function() length(list.files("/proc/self/fd"))
fds_at_start <- fd_count()

# ---- payloads ----------------------------------------------------------------

pool <- as.raw(sample.int(256L, max_size + 4096L, replace = TRUE) - 1L)
# mostly small, some large: 70% <= 64 B, 20% <= 2 KB, 8% <= 64 KB, 2% large
draw_size <- function() {
  u <- runif(1)
  hi <- if (u < 0.70) 64 else if (u < 0.90) 2048 else if (u < 0.98) 65536 else max_size
  lo <- if (u < 0.70) 0 else if (u < 0.90) 65 else if (u < 0.98) 2049 else 65537
  hi <- min(hi, max_size)
  lo <- min(lo, hi)
  as.integer(lo + floor(runif(1) * (hi - lo + 1)))
}
bytes <- function(i, n) {
  if (n == 0) return(raw(0))
  start <- (i * 7919L) %% 4096L
  pool[start + seq_len(n)]
}
text <- function(i, n) {
  # printable ASCII plus some UTF-8 (each "é" is two bytes)
  n <- min(n, 4096L)
  s <- rawToChar(as.raw(33L + (as.integer(bytes(i, n)) %% 90L)))
  if (i %% 3 == 0) paste0(s, "\u00e9\u00e8") else s
}
# The R object of kind `k` for message i of about n bytes.
make_object <- function(i, n, k) {
  switch(k %% 6 + 1,
         bytes(i, n),                                   # raw
         as.integer(bytes(i, n - n %% 4)) * 1000L - i,  # integer
         as.numeric(bytes(i, n)) / 7 + i,               # double
         list(i = i, data = bytes(i, n), f = factor(c("a", "b"))),
         c(text(i, n %/% 4), NA, "x"),
         if (n %% 2) NULL else data.frame(a = seq_len(max(1, min(n, 100))), b = i))
}

KINDS <- c("object", "object-xdr", "raw", "string", "int", "double", "null",
           "multipart", "message-object")

# Send message i of `kind` on socket s. Returns what the receiver must see.
send_kind <- function(s, kind, i, n) {
  switch(kind,
    "object" = , "object-xdr" = {
      obj <- make_object(i, n, i)
      check(isTRUE(send.socket(s, obj, xdr = kind == "object-xdr")), "send.socket(object)")
      obj
    },
    "raw" = {
      r <- bytes(i, n)
      check(isTRUE(send.socket(s, r, serialize = FALSE)), "send.socket(raw)")
      r
    },
    "string" = {
      str <- text(i, n)
      check(isTRUE(send.raw.string(s, str)), "send.raw.string")
      str
    },
    "int" = {
      v <- as.integer(i) - 1000000L
      check(isTRUE(send.socket(s, writeBin(v, raw()), serialize = FALSE)), "send int")
      v
    },
    "double" = {
      v <- i / 3
      check(isTRUE(send.socket(s, writeBin(v, raw()), serialize = FALSE)), "send double")
      v
    },
    "null" = {
      check(isTRUE(send.null.msg(s)), "send.null.msg")
      TRUE
    },
    "multipart" = {
      parts <- list(charToRaw(sprintf("hdr-%d", i)), raw(0), bytes(i, n),
                    serialize(i, NULL))
      if (i %% 5 == 0) parts <- parts[1] # a single-part message
      check(isTRUE(send.multipart(s, parts)), "send.multipart")
      parts
    },
    "message-object" = {
      obj <- make_object(i, n, i + 1)
      m <- init.message(obj, xdr = i %% 2 == 0)
      check(isTRUE(send.message.object(s, m)), "send.message.object")
      obj
    })
}

# Receive a message of `kind` on s and compare with `expected`.
recv_kind <- function(s, kind, expected, what) {
  got <- switch(kind,
    "object" = , "object-xdr" = , "message-object" = receive.socket(s),
    "raw" = receive.socket(s, unserialize = FALSE),
    "string" = receive.string(s),
    "int" = receive.int(s),
    "double" = receive.double(s),
    "null" = receive.null.msg(s),
    "multipart" = receive.multipart(s))
  check(identical(got, expected), paste(what, kind),
        list(expected = utils::head(expected), got = utils::head(got)))
}

# ---- 1. every socket type pair ---------------------------------------------------

ctx <- init.context()
msg_count <- 0L
echo_count <- 0L

open_pair <- function(ta, tb, transport) {
  a <- init.socket(ctx, ta)
  b <- init.socket(ctx, tb)
  for (s in list(a, b)) {
    set.rcv.timeout(s, 20000L)
    set.send.timeout(s, 20000L)
    set.linger(s, 0L)
  }
  ep <- if (transport == "inproc") {
    sprintf("inproc://stress-%s-%s", ta, tb)
  } else "tcp://127.0.0.1:*"
  stopifnot(isTRUE(bind.socket(b, ep)))
  stopifnot(isTRUE(connect.socket(a, get.last.endpoint(b))))
  list(a = a, b = b)
}

wait_readable <- function(s, what) {
  ok <- isTRUE(poll.socket(list(s), list("read"), timeout = 20)[[1]]$read)
  check(ok, paste(what, "readable within 20 s"))
  ok
}

# PUB/SUB and XPUB/XSUB: wait until a subscription has reached the publisher
# (probe messages until one gets through), then drain the probes.
join <- function(pub, sub, what) {
  for (k in 1:2000) {
    send.socket(pub, "probe")
    if (isTRUE(poll.socket(list(sub), list("read"), timeout = 0.01)[[1]]$read)) break
  }
  while (!is.null(x <- receive.socket(sub, dont.wait = TRUE))) {
    check(identical(x, "probe"), paste(what, "probe"))
  }
}

pairs <- list(
  c("ZMQ_PAIR", "ZMQ_PAIR"), c("ZMQ_PUSH", "ZMQ_PULL"), c("ZMQ_REQ", "ZMQ_REP"),
  c("ZMQ_DEALER", "ZMQ_ROUTER"), c("ZMQ_PUB", "ZMQ_SUB"), c("ZMQ_XPUB", "ZMQ_XSUB"))
per_combo <- max(1L, as.integer(ceiling(n_messages / (2 * length(pairs)))))
size_classes <- c(0, 64, 2048, 65536, Inf)
size_count <- setNames(numeric(4), c("<=64 B", "<=2 KB", "<=64 KB", ">64 KB"))
size_bytes <- 0
i <- 0L
for (pr in pairs) for (transport in c("inproc", "tcp")) {
  what <- sprintf("%s->%s/%s", pr[1], pr[2], transport)
  t0 <- Sys.time()
  if (pr[1] == "ZMQ_XPUB") {
    # the XSUB side binds here and subscribes with a raw frame 0x01
    p <- open_pair("ZMQ_XSUB", "ZMQ_XPUB", transport)
    tx <- p$b; rx <- p$a
    check(isTRUE(send.socket(rx, as.raw(1), serialize = FALSE)), "xsub subscribe")
    if (wait_readable(tx, what)) {
      check(identical(receive.socket(tx, unserialize = FALSE), as.raw(1)),
            "xpub sees the subscription")
    }
    join(tx, rx, what)
  } else {
    p <- open_pair(pr[1], pr[2], transport)
    tx <- p$a; rx <- p$b
    if (pr[2] == "ZMQ_SUB") {
      subscribe(rx, "")
      join(tx, rx, what)
    }
  }
  lockstep <- pr[1] %in% c("ZMQ_REQ", "ZMQ_DEALER")
  sent <- 0L
  while (sent < per_combo) {
    w <- if (pr[1] == "ZMQ_REQ") 1L else min(per_combo - sent, sample.int(20L, 1))
    batch <- vector("list", w)
    for (k in seq_len(w)) {
      i <- i + 1L
      kind <- KINDS[i %% length(KINDS) + 1L]
      n <- draw_size()
      cls <- findInterval(n, size_classes, left.open = TRUE, rightmost.closed = TRUE)
      cls <- max(1L, cls)
      size_count[cls] <- size_count[cls] + 1
      size_bytes <- size_bytes + n
      batch[[k]] <- list(kind = kind, expected = send_kind(tx, kind, i, n))
    }
    for (k in seq_len(w)) {
      if (!wait_readable(rx, what)) break
      kind <- batch[[k]]$kind
      if (pr[2] == "ZMQ_ROUTER") {
        id <- receive.socket(rx, unserialize = FALSE)
        check(isTRUE(get.rcvmore(rx)), "router: a frame follows the identity")
      }
      recv_kind(rx, kind, batch[[k]]$expected, what)
      msg_count <- msg_count + 1L
      if (lockstep) {
        # echo it back: REP answers, ROUTER routes by the identity
        if (pr[2] == "ZMQ_ROUTER") send.socket(rx, id, serialize = FALSE, send.more = TRUE)
        batch[[k]]$echo <- send_kind(rx, kind, i - w + k, 16L)
      }
    }
    if (lockstep) for (k in seq_len(w)) {
      if (!wait_readable(tx, paste(what, "echo"))) break
      recv_kind(tx, batch[[k]]$kind, batch[[k]]$echo, paste(what, "echo"))
      echo_count <- echo_count + 1L
    }
    sent <- sent + w
  }
  check(is.null(receive.socket(rx, dont.wait = TRUE)), paste(what, "nothing extra"))
  destroy.socket(p$a)
  destroy.socket(p$b)
  say(sprintf("%-32s %6d messages in %5.1f s", what, sent,
              as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}
say(sprintf("pairs: %d messages checked, %d echoes checked", msg_count, echo_count))
say(sprintf("payload sizes: %s; %.1f MB in all, largest %d B",
            paste(names(size_count), size_count, sep = ": ", collapse = ", "), size_bytes / 1e6, max_size))
destroy.context(ctx)

# ---- 1b. batches: send.messages / receive.messages ---------------------------------

# Batches of 1 to 60 messages drawn from the same mix (serialized objects,
# raw frames small and large, a multipart message now and then, sent between
# the batches), received with receive.messages() in batches of random size;
# every value checked in order. Every 25th batch carries a message that will
# not unserialize (rzmq_unserialize_error: the values before it and its
# bytes; the rest stays queued). DEALER -> ROUTER: every message comes back
# as a list (the identity and the frame).
say("batches")
ctx <- init.context()
n_batch_msgs <- 0L; n_batches <- 0L; n_recv_calls <- 0L; n_bad <- 0L; n_bad_sent <- 0L
batch_target <- max(200L, n_messages %/% 10L)
batch_pairs <- list(c("ZMQ_PUSH", "ZMQ_PULL"), c("ZMQ_PAIR", "ZMQ_PAIR"), c("ZMQ_DEALER", "ZMQ_ROUTER"),
                    c("ZMQ_PUB", "ZMQ_SUB"))
per_batch_combo <- max(1L, batch_target %/% (2L * length(batch_pairs)))
for (pr in batch_pairs) for (transport in c("inproc", "tcp")) {
  what <- sprintf("batch %s->%s/%s", pr[1], pr[2], transport)
  t0 <- Sys.time()
  a <- init.socket(ctx, pr[1]); b <- init.socket(ctx, pr[2])
  for (x in list(a, b)) { set.rcv.timeout(x, 20000L); set.send.timeout(x, 20000L); set.linger(x, 0L) }
  ep <- if (transport == "inproc") sprintf("inproc://batch-%s-%s", pr[1], pr[2]) else "tcp://127.0.0.1:*"
  stopifnot(isTRUE(bind.socket(b, ep)), isTRUE(connect.socket(a, get.last.endpoint(b))))
  router <- pr[2] == "ZMQ_ROUTER"
  if (pr[2] == "ZMQ_SUB") { invisible(subscribe(b, "")); join(a, b, what) }
  done <- 0L
  while (done < per_batch_combo) {
    w <- min(per_batch_combo - done, sample.int(60L, 1))
    raw_only <- runif(1) < 0.3
    expected <- vector("list", w)
    out <- vector("list", w)
    for (k in seq_len(w)) {
      i <- i + 1L
      n <- draw_size()
      out[k] <- list(if (raw_only) bytes(i, n) else make_object(i, n, i)) # (NULL too)
      expected[k] <- out[k]
    }
    bad_at <- if (!raw_only && n_batches %% 25L == 24L) sample.int(w, 1) else 0L
    if (bad_at > 0L) {
      # the batch up to the bad message, the bad message, then the rest
      check(identical(send.messages(a, out[seq_len(bad_at - 1L)], xdr = i %% 2 == 0), bad_at - 1L),
            paste(what, "send.messages before the bad message"))
      check(isTRUE(send.socket(a, charToRaw("B\n?"), serialize = FALSE)), "send the bad message")
      rest <- if (bad_at < w) out[(bad_at + 1L):w] else list()
      check(identical(send.messages(a, rest), length(rest)), paste(what, "send.messages after it"))
      expected[[bad_at]] <- list(bad = charToRaw("B\n?"))
      if (!router) n_bad_sent <- n_bad_sent + 1L # a ROUTER's messages are never unserialized
    } else {
      check(identical(send.messages(a, out, serialize = !raw_only, xdr = i %% 2 == 0), w),
            paste(what, "send.messages count"))
    }
    mp <- runif(1) < 0.2 # a multipart message after the batch
    if (mp) {
      parts <- list(charToRaw(sprintf("mp-%d", i)), raw(0), bytes(i, draw_size()))
      check(isTRUE(send.multipart(a, parts)), "send.multipart after a batch")
      expected[[w + 1L]] <- parts
    }
    got <- list()
    while (length(got) < length(expected)) {
      if (!wait_readable(b, what)) break
      r <- tryCatch(receive.messages(b, n = sample.int(100L, 1), unserialize = !raw_only),
                    rzmq_unserialize_error = function(e) e)
      n_recv_calls <- n_recv_calls + 1L
      if (inherits(r, "rzmq_unserialize_error")) {
        n_bad <- n_bad + 1L
        r <- c(r$received, list(list(bad = r$data)))
      }
      got <- c(got, r)
    }
    if (router) {
      # the identity, then the frame: unserialize the frame to compare
      check(all(vapply(got, function(m) is.list(m) && length(m) >= 2L, logical(1))), paste(what, "router frames"))
      got <- lapply(seq_along(got), function(k) {
        m <- got[[k]]
        if (length(m) > 2L) return(m[-1L])                       # the multipart message
        if (identical(m[[2L]], charToRaw("B\n?"))) return(list(bad = m[[2L]]))
        if (raw_only) m[[2L]] else unserialize(m[[2L]])
      })
    }
    check(identical(got, expected), paste(what, "batch received in order"),
          list(n = length(expected), got = length(got)))
    n_batch_msgs <- n_batch_msgs + w
    n_batches <- n_batches + 1L
    done <- done + w
  }
  check(identical(receive.messages(b, dont.wait = TRUE), list()), paste(what, "nothing extra"))
  destroy.socket(a); destroy.socket(b)
  say(sprintf("%-40s %6d messages in %5.1f s", what, done, as.numeric(difftime(Sys.time(), t0, units = "secs"))))
}
# batches that end at the high-water mark, or at a REQ socket's state
a <- init.socket(ctx, "ZMQ_PUSH"); b <- init.socket(ctx, "ZMQ_PULL")
invisible(c(set.sockopt(a, "SNDHWM", 10L), set.sockopt(b, "RCVHWM", 10L), set.send.timeout(a, 20L),
            bind.socket(b, "inproc://batch-hwm"), connect.socket(a, "inproc://batch-hwm")))
n_hwm <- 0L
for (r in 1:50) {
  # odd r: raw frames (every 10th lent), even r: serialized objects
  objs <- lapply(seq_len(100), function(k) {
    if (r %% 2) bytes(r + k, if (k %% 10 == 0) 70000L else k) else if (k %% 10 == 0) bytes(r + k, 70000L)
    else r * 1000L + k
  })
  n <- send.messages(a, objs, serialize = r %% 2 == 0)
  got <- list()
  while (length(got) < n) got <- c(got, receive.messages(b, n = 200L, unserialize = r %% 2 == 0))
  n_hwm <- n_hwm + check(n > 0L && n < 100L && identical(got, objs[seq_len(n)]),
                         "a batch at the mark: exactly the first n arrived", list(n = n, got = length(got)))
}
destroy.socket(a); destroy.socket(b)
destroy.context(ctx)
check(n_bad == n_bad_sent, "every bad message reported once", c(sent = n_bad_sent, reported = n_bad))
say(sprintf("batches: %d messages in %d batches, %d receive.messages calls, %d of %d bad messages reported; %d of 50 batches ended at the mark intact",
            n_batch_msgs, n_batches, n_recv_calls, n_bad, n_bad_sent, n_hwm))

# ---- 1c. zero-copy frames: held across gc and context destruction ---------------------

# Received frames of 64 KB and more over inproc from this process: a plain
# vector comes back as itself, one with attributes as a frame that reads the
# sender's lent vector in place; over tcp (below 8 MB) they are copied. Hold
# up to 30 of them at a time
# across gc() and across the destruction of the context they came from;
# resend some (sharing the message), write to some (copied first), serialize
# some, put some in message objects; check every one against its bytes.
say("zero-copy frames")
held <- list()
n_frames <- 0L; n_frame_ok <- 0L; n_ctx_destroyed <- 0L; n_in_place <- 0L
echo_ctx <- init.context()
ea <- init.socket(echo_ctx, "ZMQ_PAIR"); eb <- init.socket(echo_ctx, "ZMQ_PAIR")
invisible(c(bind.socket(eb, "inproc://frames-echo"), connect.socket(ea, "inproc://frames-echo"),
            set.rcv.timeout(eb, 20000L)))
for (r in 1:60) {
  cx <- init.context()
  s1 <- init.socket(cx, "ZMQ_PAIR"); s2 <- init.socket(cx, "ZMQ_PAIR")
  ep <- if (r %% 2) sprintf("inproc://frames-%d", r) else "tcp://127.0.0.1:*"
  bind.socket(s1, ep); connect.socket(s2, get.last.endpoint(s1))
  set.rcv.timeout(s1, 20000L)
  for (k in 1:5) {
    n <- 65536L + as.integer(runif(1) * min(max_size - 65536L, 400000L))
    x <- bytes(r * 10L + k, n)
    in_place <- r %% 2 == 1 && k %% 2 == 0
    xs <- if (in_place) structure(x, note = "n") else x
    form <- (r + k) %% 3
    if (form == 0) {
      send.socket(s2, xs, serialize = FALSE); f <- receive.socket(s1, unserialize = FALSE)
    } else if (form == 1) {
      send.multipart(s2, list(charToRaw("h"), xs)); f <- receive.multipart(s1)[[2]]
    } else {
      send.messages(s2, list(xs), serialize = FALSE); f <- receive.messages(s1, unserialize = FALSE)[[1]]
    }
    state <- rzmq:::frame_state(f)
    if (state == "ordinary" && rzmq:::same_bytes(f, x)) state <- "sender's"
    want <- if (r %% 2 == 0) "ordinary" else if (in_place) "message" else "sender's"
    check(identical(state, want), sprintf("a large frame received as it should be (%s)", want))
    rm(xs)
    n_frames <- n_frames + 1L
    held[[length(held) + 1L]] <- list(frame = f, bytes = x, n = n)
  }
  rm(x, f)
  switch(r %% 3 + 1, destroy.context(cx, linger = 0), { destroy.socket(s1); destroy.socket(s2) }, { })
  if (r %% 3 == 0) n_ctx_destroyed <- n_ctx_destroyed + 1L
  rm(cx, s1, s2)
  invisible(gc())
  # use what is held: resend, write, serialize, message objects
  for (h in sample(seq_along(held), min(5L, length(held)))) {
    f <- held[[h]]$frame
    switch(sample.int(5L, 1),
      check(isTRUE(send.socket(ea, f, serialize = FALSE)) &&
              identical(receive.socket(eb, unserialize = FALSE), held[[h]]$bytes), "a held frame resent"),
      check(isTRUE(send.socket(ea, f)) && identical(receive.socket(eb), held[[h]]$bytes), "a held frame serialized"),
      { f[1] <- as.raw(255L - as.integer(f[1])) # R copies: the held frame stays as it is
        check(f[1] != held[[h]]$bytes[1] && identical(f[-1], held[[h]]$bytes[-1]), "a held frame written to")
        held[[length(held) + 1L]] <- list(frame = f, bytes = f, n = length(f)) },
      { m <- init.message(f, serialize = FALSE)
        check(isTRUE(send.message.object(ea, m)) && identical(receive.socket(eb, unserialize = FALSE), held[[h]]$bytes),
              "a held frame in a message object") },
      check(identical(unserialize(serialize(f, NULL)), held[[h]]$bytes), "a held frame through base serialize()"))
    rm(f)
  }
  if (length(held) > 30L) {
    for (h in held[1:10]) {
      n_in_place <- n_in_place + identical(rzmq:::frame_state(h$frame), "message")
      n_frame_ok <- n_frame_ok + check(identical(h$frame, h$bytes), "a held frame, at its end")
    }
    held <- held[-(1:10)]
    invisible(gc())
  }
}
for (h in held) {
  n_in_place <- n_in_place + identical(rzmq:::frame_state(h$frame), "message")
  n_frame_ok <- n_frame_ok + check(identical(h$frame, h$bytes), "a held frame, at its end")
}
rm(held, h)
destroy.context(echo_ctx)
invisible(gc())
check(rzmq:::lent_count() == 0L, "no sender's vector still lent once the frames are collected")
say(sprintf("zero-copy frames: %d received, %d held ones checked intact at their end (%d still read in place); %d contexts destroyed while their frames lived",
            n_frames, n_frame_ok, n_in_place, n_ctx_destroyed))

# ---- 1d. the large-buffer cache, freed when idle -------------------------------------

say("large-buffer cache")
cache <- function() .Call(rzmq:::c_rzmq_cache_size)
ctx <- init.context()
a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
invisible(c(bind.socket(b, "inproc://cache"), connect.socket(a, "inproc://cache"), set.rcv.timeout(b, 20000L)))
n_cache <- 0L
for (r in 1:5) {
  v <- as.numeric(bytes(r, 200000L)) + r # 1.6 MB serialized
  check(isTRUE(send.socket(a, v)) && identical(receive.socket(b), v), "a large object round trip")
  check(cache() >= 1.6e6, "its buffer is cached")
  t_end <- Sys.time() + 30
  while (cache() > 0 && Sys.time() < t_end) Sys.sleep(0.05)
  n_cache <- n_cache + check(cache() == 0, "the cached buffer is freed when idle")
}
destroy.context(ctx)
say(sprintf("large-buffer cache: freed by the janitor %d of 5 times", n_cache))

# ---- 2. every option setter and getter, on every socket type ----------------------

say("options")
ctx <- init.context()
types <- c("ZMQ_PAIR", "ZMQ_PUB", "ZMQ_SUB", "ZMQ_REQ", "ZMQ_REP", "ZMQ_DEALER",
           "ZMQ_ROUTER", "ZMQ_PULL", "ZMQ_PUSH", "ZMQ_XPUB", "ZMQ_XSUB",
           "ZMQ_STREAM", "ZMQ_XREQ", "ZMQ_XREP")
# candidate values for options that cannot be read back
candidates <- list(TRUE, FALSE, 1L, 0L, 100, -1L, "name", as.raw(1:32),
                   "rq:rR0xuUKo7n(5S]+%Y0P4{PL/xmV!vwp6.lnrM", raw(0))
n_opt_calls <- 0L
for (type in types) {
  s <- init.socket(ctx, type)
  for (nm in sockopt.names()$name) {
    got <- tryCatch(suppressMessages(get.sockopt(s, nm)), error = function(e) e)
    n_opt_calls <- n_opt_calls + 1L
    if (!inherits(got, "error") && !is.null(got) && !nm %in% c("ZMQ_FD", "ZMQ_EVENTS",
        "ZMQ_TYPE", "ZMQ_RCVMORE", "ZMQ_MECHANISM", "ZMQ_THREAD_SAFE", "ZMQ_LAST_ENDPOINT")) {
      # read-write: setting the value read back must succeed and round-trip
      ok <- suppressMessages(set.sockopt(s, nm, got))
      again <- suppressMessages(get.sockopt(s, nm))
      n_opt_calls <- n_opt_calls + 2L
      check(isTRUE(ok) || nm %in% c("ZMQ_IDENTITY", "ZMQ_ROUTING_ID", "ZMQ_CURVE_PUBLICKEY",
                                    "ZMQ_CURVE_SECRETKEY", "ZMQ_CURVE_SERVERKEY",
                                    "ZMQ_PLAIN_USERNAME", "ZMQ_PLAIN_PASSWORD",
                                    "ZMQ_ZAP_DOMAIN", "ZMQ_BINDTODEVICE",
                                    # libzmq's default -1 is not a value it accepts
                                    "ZMQ_HEARTBEAT_TIMEOUT"),
            paste("set.sockopt(get.sockopt())", type, nm), got)
      check(identical(again, got), paste("get after set", type, nm), list(got, again))
    } else {
      for (v in candidates) {
        r <- tryCatch(suppressMessages(set.sockopt(s, nm, v)), error = function(e) NA)
        n_opt_calls <- n_opt_calls + 1L
        check(identical(r, TRUE) || identical(r, FALSE) || identical(r, NA),
              paste("set.sockopt result", type, nm))
      }
    }
  }
  # the named setters and getters of socket.options
  expect_true <- function(x, what) check(isTRUE(x), paste(type, what))
  expect_true(set.hwm(s, 500), "set.hwm")
  check(identical(get.sockopt(s, "SNDHWM"), 500L) && identical(get.sockopt(s, "RCVHWM"), 500L),
        paste(type, "set.hwm sets both"))
  expect_true(set.affinity(s, 1), "set.affinity")
  expect_true(set.identity(s, sprintf("id-%s", type)), "set.identity")
  if (type == "ZMQ_SUB") {
    expect_true(subscribe(s, "topic"), "subscribe")
    expect_true(unsubscribe(s, "topic"), "unsubscribe")
  } else {
    r <- suppressMessages(subscribe(s, "topic")) # libzmq says which types take it
    check(identical(r, TRUE) || identical(r, FALSE), paste(type, "subscribe: TRUE or FALSE"))
  }
  expect_true(set.rate(s, 200), "set.rate")
  expect_true(set.recovery.ivl(s, 5000), "set.recovery.ivl")
  expect_true(set.recovery.ivl.msec(s, 6000), "set.recovery.ivl.msec")
  expect_true(set.sndbuf(s, 65536), "set.sndbuf")
  expect_true(set.rcvbuf(s, 65536), "set.rcvbuf")
  expect_true(set.linger(s, 0L), "set.linger")
  expect_true(set.reconnect.ivl(s, 50), "set.reconnect.ivl")
  expect_true(set.reconnect.ivl.max(s, 500), "set.reconnect.ivl.max")
  expect_true(set.zmq.backlog(s, 10), "set.zmq.backlog")
  expect_true(set.send.timeout(s, 1234), "set.send.timeout")
  expect_true(set.rcv.timeout(s, 4321), "set.rcv.timeout")
  check(identical(get.send.timeout(s), 1234L), paste(type, "get.send.timeout"))
  check(identical(get.rcv.timeout(s), 4321L), paste(type, "get.rcv.timeout"))
  check(identical(get.rcvmore(s), FALSE), paste(type, "get.rcvmore"))
  check(inherits(tryCatch(set.swap(s, 1), error = identity), "error"), paste(type, "set.swap errors"))
  check(inherits(tryCatch(set.mcast.loop(s, 1), error = identity), "error"),
        paste(type, "set.mcast.loop errors"))
  bind.socket(s, "tcp://127.0.0.1:*")
  check(grepl("^tcp://127.0.0.1:[0-9]+$", get.last.endpoint(s)), paste(type, "get.last.endpoint"))
  n_opt_calls <- n_opt_calls + 22L
  destroy.socket(s)
}
destroy.context(ctx)
say(sprintf("options: %d option calls on %d socket types", n_opt_calls, length(types)))

# ---- 3. poll.socket ----------------------------------------------------------------

say("poll")
ctx <- init.context()
ps <- lapply(1:4, function(k) {
  a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(a, sprintf("inproc://poll-%d", k)); connect.socket(b, sprintf("inproc://poll-%d", k))
  list(a = a, b = b)
})
all_a <- lapply(ps, `[[`, "a")
ev_sets <- list("read", "write", "error", c("read", "write"), c("read", "error"),
                c("write", "error"), c("read", "write", "error"))
n_polls <- 0L
for (r in 1:400) {
  ready <- sample(c(TRUE, FALSE), 4, replace = TRUE)
  for (k in which(ready)) send.socket(ps[[k]]$b, r)
  evs <- sample(ev_sets, 4, replace = TRUE)
  res <- poll.socket(all_a, evs, timeout = if (r %% 2) 0 else 0.01)
  n_polls <- n_polls + 1L
  for (k in 1:4) {
    want <- c("read", "write", "error")[c("read", "write", "error") %in% evs[[k]]]
    check(identical(names(res[[k]]), want), "poll names in order read, write, error")
    if ("read" %in% want) check(identical(res[[k]]$read, ready[k]), "poll read")
    if ("write" %in% want) check(isTRUE(res[[k]]$write), "poll write")
    if (ready[k]) check(identical(receive.socket(ps[[k]]$a), r), "poll then receive")
  }
}
res <- poll.socket(all_a, "read", timeout = 0.02) # one vector for every socket
check(length(res) == 4 && !any(unlist(res)), "poll: nothing ready")
destroy.context(ctx)
say(sprintf("poll: %d polls", n_polls + 1L))

# ---- 4. message objects --------------------------------------------------------------

say("message objects")
ctx <- init.context()
p <- list(a = init.socket(ctx, "ZMQ_PUSH"), b = init.socket(ctx, "ZMQ_PULL"))
bind.socket(p$b, "inproc://msgobj"); connect.socket(p$a, "inproc://msgobj")
invisible(set.rcv.timeout(p$b, 20000L))
n_mo <- 0L
for (r in 1:200) {
  n <- if (r %% 20 == 0) max_size else draw_size()
  ser <- r %% 3 != 0
  obj <- if (ser) make_object(r, n, r) else bytes(r, n)
  m <- init.message(obj, serialize = ser, xdr = r %% 2 == 0)
  times <- 1 + r %% 4
  for (k in seq_len(times)) check(isTRUE(send.message.object(p$a, m)), "send.message.object")
  rm(m)
  if (r %% 10 == 0) invisible(gc())
  for (k in seq_len(times)) {
    got <- receive.socket(p$b, unserialize = ser)
    check(identical(got, obj), "message object received", list(obj = utils::head(obj), got = utils::head(got)))
    n_mo <- n_mo + 1L
  }
}
destroy.context(ctx)
say(sprintf("message objects: %d messages", n_mo))

# ---- 5. create / use / close / gc cycles -------------------------------------------

say("lifecycle cycles")
fds_before_cycles <- fd_count()
n_cycle_ok <- 0L
for (r in seq_len(n_cycles)) {
  cx <- init.context()
  pr <- pairs[[r %% length(pairs) + 1L]]
  if (pr[1] %in% c("ZMQ_PUB", "ZMQ_XPUB")) pr <- c("ZMQ_PAIR", "ZMQ_PAIR")
  a <- init.socket(cx, pr[1]); b <- init.socket(cx, pr[2])
  ep <- if (r %% 4 == 0) "tcp://127.0.0.1:*" else sprintf("inproc://cycle-%d", r)
  bind.socket(b, ep)
  connect.socket(a, get.last.endpoint(b))
  set.rcv.timeout(b, 20000L)
  payload <- if (r %% 25 == 0) bytes(r, 70000L) else r # large: lent to libzmq
  send.socket(a, payload, serialize = !is.raw(payload))
  if (pr[2] == "ZMQ_ROUTER") invisible(receive.socket(b, unserialize = FALSE)) # identity
  got <- if (is.raw(payload)) receive.socket(b, unserialize = FALSE) else receive.socket(b)
  n_cycle_ok <- n_cycle_ok + check(identical(got, payload), paste("cycle", r, pr[1]))
  if (r %% 7 == 0) m <- init.message(list(r)) # a message object to drop as well
  switch(r %% 4 + 1,
         { destroy.socket(a); destroy.socket(b); destroy.context(cx) },
         { destroy.context(cx) },
         { destroy.socket(a); destroy.socket(b) },
         { })                                  # only dropped
  rm(cx, a, b)
  if (r %% 10 == 0) invisible(gc())
}
invisible(gc())
say(sprintf("cycles: %d of %d round trips intact", n_cycle_ok, n_cycles))

# ---- 6. security: CURVE, PLAIN, authenticators ------------------------------------

n_sec <- 0L
if (zmq.has("curve")) {
  say("security")
  for (r in 1:40) {
    cx <- init.context()
    sk <- curve.keypair(); ck <- curve.keypair()
    auth <- init.authenticator(cx, curve = if (r %% 3 == 0) TRUE else ck$public,
                               plain = c(u = "p"), deny = if (r %% 5 == 0) "10.1.1.1")
    srv <- init.socket(cx, "ZMQ_PULL"); set.curve.server(srv, sk$secret)
    bind.socket(srv, "tcp://127.0.0.1:*"); set.rcv.timeout(srv, 20000L)
    cl <- init.socket(cx, "ZMQ_PUSH"); set.curve.client(cl, sk$public, ck)
    connect.socket(cl, get.last.endpoint(srv))
    obj <- make_object(r, max(8L, draw_size()), r)
    send.socket(cl, obj)
    n_sec <- n_sec + check(identical(receive.socket(srv), obj), "CURVE round trip")
    bad <- init.socket(cx, "ZMQ_PUSH"); set.send.timeout(bad, 2000L) # refused: may lose its pipe
    set.curve.client(bad, sk$public, curve.keypair())
    connect.socket(bad, get.last.endpoint(srv)); send.socket(bad, "refused?")
    psrv <- init.socket(cx, "ZMQ_PULL"); set.plain.server(psrv)
    bind.socket(psrv, "tcp://127.0.0.1:*"); set.rcv.timeout(psrv, 20000L)
    pcl <- init.socket(cx, "ZMQ_PUSH"); set.send.timeout(pcl, 2000L)
    set.plain.client(pcl, "u", if (r %% 2) "p" else "wrong")
    connect.socket(pcl, get.last.endpoint(psrv)); send.socket(pcl, r)
    if (r %% 2) n_sec <- n_sec + check(identical(receive.socket(psrv), r), "PLAIN round trip")
    if (r %% 4 == 0) { # revoke the CURVE client: its connection closed, its message dropped
      configure.authenticator(auth, curve = NULL, allow = c("127.0.0.0/8", "::1"), drop = TRUE)
      set.send.timeout(cl, 0L); send.socket(cl, "revoked")
      check(!isTRUE(poll.socket(list(srv), list("read"), 0.2)[[1]]$read) ||
              is.null(receive.socket(srv, dont.wait = TRUE)), "drop = TRUE")
    }
    invisible(authenticator.log(auth))
    # refused clients may hold a message for good: linger 0 everywhere, so
    # that dropped contexts terminate too
    for (x in list(srv, cl, bad, psrv, pcl)) set.linger(x, 0L)
    switch(r %% 3 + 1,
           destroy.context(cx),
           { destroy.authenticator(auth); destroy.context(cx) },
           { })                                  # only dropped
    rm(cx, auth, srv, cl, bad, psrv, pcl, x)
    if (r %% 5 == 0) invisible(gc())
  }
  invisible(gc())
  say(sprintf("security: %d round trips through 40 authenticators", n_sec))
}

# ---- 7. monitors and proxies -------------------------------------------------------

say("monitors and proxies")
n_px <- 0L
for (r in 1:20) {
  cx <- init.context()
  front <- init.socket(cx, "ZMQ_PULL"); back <- init.socket(cx, "ZMQ_PUSH")
  bind.socket(front, "tcp://127.0.0.1:*"); bind.socket(back, sprintf("inproc://px-back-%d", r))
  mon <- monitor.socket(front)
  src <- init.socket(cx, "ZMQ_PUSH"); connect.socket(src, get.last.endpoint(front))
  dst <- init.socket(cx, "ZMQ_PULL"); connect.socket(dst, sprintf("inproc://px-back-%d", r))
  set.rcv.timeout(dst, 20000L)
  # every other proxy has a capture whose reader never reads: the copies
  # that find no room are dropped (the messages still all arrive)
  cap <- NULL
  if (r %% 2 == 0) {
    cap <- init.socket(cx, "ZMQ_PUSH"); tap <- init.socket(cx, "ZMQ_PULL")
    set.hwm(cap, 2L); set.hwm(tap, 2L)
    bind.socket(cap, sprintf("inproc://px-cap-%d", r)); connect.socket(tap, sprintf("inproc://px-cap-%d", r))
  }
  p <- init.proxy(front, back, cap)
  objs <- lapply(1:20, function(k) list(k, make_object(r * 100 + k, max(8L, draw_size()), k)))
  for (o in objs) send.socket(src, o)
  got <- 0L
  for (o in objs) got <- got + identical(receive.socket(dst), o)
  n_px <- n_px + check(got == 20L, "20 messages through a background proxy")
  if (r %% 2) { pause.proxy(p); resume.proxy(p) }
  st <- proxy.stats(p)
  check(st[[1]] == 20, "proxy.stats counts the frontend's messages", st)
  if (!is.null(cap)) check(st[["capture.dropped"]] > 0, "an unread capture's copies are dropped", st)
  ev <- read.events(mon)
  check(nrow(ev) >= 1L, "the monitor saw the connection")
  switch(r %% 3 + 1,
         { stop.proxy(p); destroy.context(cx, linger = 0) },
         destroy.context(cx, linger = 0),   # stops the proxy first
         { rm(p); invisible(gc()); destroy.context(cx, linger = 0) }) # its finalizer stops it
  rm(cx, front, back, mon, src, dst, objs, cap)
  if (exists("tap")) rm(tap)
  if (exists("p")) rm(p)
  if (r %% 5 == 0) invisible(gc())
}
invisible(gc())
say(sprintf("monitors and proxies: %d of 20 proxies delivered everything", n_px))

# ---- 7b. peers that stop reading or go away mid-message ---------------------------
# A one-socket proxy whose peer stops reading holds a message for room and
# still stops; a proxy whose PAIR peer leaves mid-message drops the rest of
# it; a later frame refused because the peer left is FALSE at once.

say("peers that stop reading or leave mid-message")
for (r in 1:6) {
  cx <- init.context()
  d <- init.socket(cx, "ZMQ_DEALER"); peer <- init.socket(cx, "ZMQ_DEALER")
  set.hwm(d, 1L); set.hwm(peer, 1L); set.send.timeout(peer, 100L); set.rcv.timeout(peer, 5000L)
  bind.socket(d, sprintf("inproc://one-%d", r)); connect.socket(peer, sprintf("inproc://one-%d", r))
  p <- init.proxy(d, d)
  send.socket(peer, r)
  check(identical(receive.socket(peer), r), "a one-socket proxy echoes")
  for (k in 1:5) send.socket(peer, raw(65536), serialize = FALSE) # it stops reading
  check(isTRUE(stop.proxy(p)), "a one-socket proxy stops while it waits for room")

  front <- init.socket(cx, "ZMQ_PULL"); src <- init.socket(cx, "ZMQ_PUSH")
  back <- init.socket(cx, "ZMQ_PAIR"); dst <- init.socket(cx, "ZMQ_PAIR")
  bind.socket(front, sprintf("inproc://mid-in-%d", r)); connect.socket(src, sprintf("inproc://mid-in-%d", r))
  bind.socket(back, sprintf("inproc://mid-out-%d", r)); connect.socket(dst, sprintf("inproc://mid-out-%d", r))
  set.rcv.timeout(dst, 5000L)
  send.socket(src, "one")
  send.multipart(src, rep(list(as.raw(r)), 20000 * r))
  p <- init.proxy(front, back)
  check(identical(receive.socket(dst), "one"), "the proxy forwards before the peer leaves")
  destroy.socket(dst)
  check(isTRUE(stop.proxy(p)), "a proxy whose peer left mid-message stops")

  a <- init.socket(cx, "ZMQ_PAIR"); b <- init.socket(cx, "ZMQ_PAIR")
  bind.socket(a, sprintf("inproc://later-%d", r)); connect.socket(b, sprintf("inproc://later-%d", r))
  send.socket(a, r, send.more = TRUE)
  destroy.socket(b)
  deadline <- Sys.time() + 5
  while (isTRUE(poll.socket(list(a), list("write"), timeout = 0)[[1]]$write) &&
         Sys.time() < deadline) Sys.sleep(0.01)
  check(identical(send.socket(a, "last"), FALSE), "a later frame with its peer gone is FALSE")
  destroy.context(cx, linger = 0)
  rm(cx, d, peer, p, front, src, back, dst, a, b)
}
invisible(gc())

# ---- after everything -------------------------------------------------------------

invisible(gc())
Sys.sleep(0.5) # contexts dropped above terminate on a helper thread
invisible(gc())
lent <- rzmq:::lent_count()
fds_end <- fd_count()
say(sprintf("raw vectors still lent to libzmq: %d; open fds: start %d, before cycles %d, end %d",
            lent, fds_at_start, fds_before_cycles, fds_end))
check(lent == 0L, "no raw vector still lent to libzmq")
check(fds_end <= fds_before_cycles + 4L, "no file descriptors leaked by the cycles",
      c(before = fds_before_cycles, end = fds_end))
say(sprintf("totals: %d messages, %d echoes, %d option calls, %d polls, %d message-object sends, %d cycles",
            msg_count, echo_count, n_opt_calls, n_polls + 1L, n_mo, n_cycles))
finish("valgrind-stress", started)
