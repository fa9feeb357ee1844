# Security on sockets: what libzmq was built with, Z85, CURVE key pairs,
# certificate files, and the CURVE and PLAIN roles of sockets (set before
# bind/connect). Who may connect is tested in test-authenticator.R; that
# nothing is readable on the wire, in test-security-wire.R.

test_that("zmq.has() is vectorised, named, and knows this libzmq has CURVE", {
  caps <- c("curve", "ipc", "pgm", "tipc", "norm", "gssapi", "draft")
  has <- zmq.has(caps)
  expect_type(has, "logical")
  expect_named(has, caps)
  expect_true(has[["curve"]]) # Debian's libzmq 4.3.4 is built with libsodium
  expect_true(has[["ipc"]])
  expect_false(has[["draft"]])
  expect_identical(zmq.has(character()), stats::setNames(logical(), character()))
  expect_false(zmq.has("no-such-capability"))
})

test_that("curve.keypair() makes 40-character Z85 keys; curve.public() derives the public one", {
  k <- curve.keypair()
  expect_named(k, c("public", "secret"))
  expect_identical(nchar(c(k$public, k$secret)), c(40L, 40L))
  expect_length(z85.decode(k$public), 32)
  expect_identical(curve.public(k$secret), k$public)
  expect_identical(curve.public(z85.decode(k$secret)), k$public) # raw keys too
  expect_false(identical(curve.keypair()$secret, k$secret))
})

test_that("z85.encode() and z85.decode() follow RFC 32 and invert each other", {
  # the test vector of ZeroMQ RFC 32
  v <- as.raw(c(0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B))
  expect_identical(z85.encode(v), "HelloWorld")
  expect_identical(z85.decode("HelloWorld"), v)
  x <- as.raw(sample(0:255, 400, replace = TRUE))
  expect_identical(z85.decode(z85.encode(x)), x)
  expect_identical(z85.encode(raw(0)), "")
  expect_identical(z85.decode(""), raw(0))
  expect_error(z85.encode(raw(5)), "`x` must have a multiple of 4 bytes")
  expect_error(z85.decode("Hello"), NA)
  expect_error(z85.decode("Hell"), "`s` must have a multiple of 5 characters")
  expect_error(z85.decode("Hello~orld"), "`s` is not Z85 text")
})

test_that("a CURVE REQ/REP pair over tcp round-trips R objects", {
  ctx <- init.context()
  sk <- curve.keypair()
  server <- init.socket(ctx, "ZMQ_REP")
  expect_identical(withVisible(set.curve.server(server, sk$secret)),
                   list(value = TRUE, visible = FALSE))
  ep <- bind_tcp(server)
  client <- init.socket(ctx, "ZMQ_REQ")
  set.curve.client(client, sk$public)
  connect.socket(client, ep)
  job <- list(fun = function(x) sum(x), args = list(1:10), blob = raw(1e5))
  expect_true(send.socket(client, job))
  got <- recv_within(server)
  expect_identical(got$args, job$args)
  expect_identical(got$blob, job$blob)
  expect_true(send.socket(server, do.call(got$fun, got$args)))
  expect_identical(recv_within(client), 55L)
  expect_identical(get.sockopt(server, "MECHANISM"), 2L) # ZMQ_CURVE
  expect_true(get.sockopt(server, "CURVE_SERVER"))
  destroy.context(ctx, linger = 0)
})

test_that("keys are accepted as Z85 text or 32 raw bytes", {
  ctx <- init.context()
  sk <- curve.keypair()
  ck <- curve.keypair()
  server <- init.socket(ctx, "ZMQ_PAIR")
  set.curve.server(server, z85.decode(sk$secret))
  ep <- bind_tcp(server)
  client <- init.socket(ctx, "ZMQ_PAIR")
  set.curve.client(client, z85.decode(sk$public),
                   list(public = z85.decode(ck$public), secret = ck$secret))
  connect.socket(client, ep)
  send.socket(client, "raw keys")
  expect_identical(recv_within(server), "raw keys")
  expect_identical(get.sockopt(client, "CURVE_SERVERKEY"), z85.decode(sk$public))
  destroy.context(ctx, linger = 0)
})

test_that("a client with the wrong server key never gets through", {
  ctx <- init.context()
  sk <- curve.keypair()
  server <- init.socket(ctx, "ZMQ_PULL")
  set.curve.server(server, sk$secret)
  ep <- bind_tcp(server)
  client <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(client, 2000L) # its connection fails: a later send would wait
  set.curve.client(client, curve.keypair()$public) # not the server's
  connect.socket(client, ep)
  send.socket(client, "who am I")
  expect_false(readable(server, 1))
  destroy.context(ctx, linger = 0)
})

test_that("PLAIN: with an authenticator that knows the user, messages flow; without one, none", {
  ctx <- init.context()
  auth <- init.authenticator(ctx, plain = c(alice = "secret"))
  server <- init.socket(ctx, "ZMQ_REP")
  set.plain.server(server)
  ep <- bind_tcp(server)
  client <- init.socket(ctx, "ZMQ_REQ")
  set.plain.client(client, "alice", "secret")
  connect.socket(client, ep)
  send.socket(client, "hi")
  expect_identical(recv_within(server), "hi")
  expect_identical(get.sockopt(client, "PLAIN_USERNAME"), "alice")
  expect_identical(get.sockopt(server, "MECHANISM"), 1L) # ZMQ_PLAIN
  destroy.context(ctx, linger = 0)
  # libzmq lets no PLAIN client in without a ZAP handler
  ctx <- init.context()
  server <- init.socket(ctx, "ZMQ_PULL")
  set.plain.server(server)
  ep <- bind_tcp(server)
  client <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(client, 2000L)
  set.plain.client(client, "alice", "secret")
  connect.socket(client, ep)
  send.socket(client, "hi")
  expect_false(readable(server, 1))
  destroy.context(ctx, linger = 0)
})

test_that("security set after bind or connect is an R error that says why", {
  ctx <- init.context()
  k <- curve.keypair()
  s <- init.socket(ctx, "ZMQ_REP")
  bind_tcp(s)
  expect_error(set.curve.server(s, k$secret), "set.curve.server\\(\\) must be called before bind.socket\\(\\)")
  expect_error(set.plain.server(s), "set.plain.server\\(\\) must be called before")
  c2 <- init.socket(ctx, "ZMQ_REQ")
  connect.socket(c2, "tcp://127.0.0.1:1")
  expect_error(set.curve.client(c2, k$public), "set.curve.client\\(\\) must be called before")
  expect_error(set.plain.client(c2, "u", "p"), "set.plain.client\\(\\) must be called before")
  # a failed bind does not count
  s3 <- init.socket(ctx, "ZMQ_REP")
  expect_false(suppressMessages(bind.socket(s3, "tcp://256.1.1.1:1")))
  expect_true(set.curve.server(s3, k$secret))
  destroy.context(ctx, linger = 0)
})

test_that("malformed keys are R errors naming the argument", {
  ctx <- init.context()
  k <- curve.keypair()
  s <- init.socket(ctx, "ZMQ_REP")
  expect_error(set.curve.server(s, "short"), "`secret` must be a CURVE key: 40 characters")
  expect_error(set.curve.server(s, raw(31)), "`secret` must be a CURVE key: a raw vector of 32 bytes \\(got 31\\)")
  expect_error(set.curve.server(s, strrep("~", 40)), "`secret` is not Z85 text")
  expect_error(set.curve.server(s, NULL), "`secret` must be a CURVE key")
  expect_error(set.curve.client(s, "x"), "`server.public` must be a CURVE key")
  expect_error(set.curve.client(s, k$public, keys = k$public), "`keys` must be a list")
  expect_error(set.curve.client(s, k$public, keys = list(public = "x", secret = k$secret)),
               "`keys\\$public` must be a CURVE key")
  expect_error(set.curve.client(s, k$public, keys = list(public = k$public, secret = curve.keypair()$secret)),
               "`keys\\$public` is not the public key of `keys\\$secret`")
  expect_error(set.plain.client(s, NA_character_, "p"), "`username`")
  expect_error(set.plain.client(s, "u", 1), "`password`")
  expect_error(set.plain.client(s, strrep("u", 256), "p"), "at most 255 bytes")
  # the socket is untouched by the failures
  expect_identical(get.sockopt(s, "MECHANISM"), 0L)
  destroy.context(ctx, linger = 0)
})

test_that("write.curve.keys() writes czmq certificates; read.curve.keys() reads them back", {
  dir <- withr_tempdir()
  path <- file.path(dir, "worker.key")
  k <- curve.keypair()
  expect_identical(write.curve.keys(k, path), c(path, paste0(path, "_secret")))
  pub <- readLines(path)
  sec <- readLines(paste0(path, "_secret"))
  expect_true(all(startsWith(pub[nzchar(pub) & !startsWith(pub, "#")][1:2], c("metadata", "curve"))))
  expect_true(sprintf('    public-key = "%s"', k$public) %in% pub)
  expect_false(any(grepl("secret-key", pub)))
  expect_true(sprintf('    secret-key = "%s"', k$secret) %in% sec)
  expect_identical(read.curve.keys(path), k)
  # the secret file is for its owner only
  expect_identical(as.character(file.mode(paste0(path, "_secret"))), "600")
  # the public file alone: no secret
  unlink(paste0(path, "_secret"))
  expect_identical(read.curve.keys(path), list(public = k$public, secret = NULL))
  # a public key alone writes one file
  p2 <- file.path(dir, "peer.key")
  expect_identical(write.curve.keys(list(public = k$public), p2), p2)
  expect_false(file.exists(paste0(p2, "_secret")))
  # raw keys are written as Z85
  p3 <- file.path(dir, "raw.key")
  write.curve.keys(lapply(k, z85.decode), p3)
  expect_identical(read.curve.keys(p3), k)
})

test_that("certificate files that are not right are R errors", {
  dir <- withr_tempdir()
  k <- curve.keypair()
  p <- file.path(dir, "bad.key")
  writeLines(c("metadata", "curve"), p)
  expect_error(read.curve.keys(p), "holds no public-key")
  writeLines(c("curve", '    public-key = "tooshort"'), p)
  expect_error(read.curve.keys(p), "must be a CURVE key")
  write.curve.keys(k, p)
  writeLines(c("curve", sprintf('    public-key = "%s"', k$public),
               sprintf('    secret-key = "%s"', curve.keypair()$secret)), paste0(p, "_secret"))
  expect_error(read.curve.keys(p), "does not belong to the public key")
  expect_error(write.curve.keys(list(public = k$public, secret = curve.keypair()$secret), p),
               "`keys\\$public` is not the public key of `keys\\$secret`")
  # a public key alone over another pair's secret file: refused, nothing lost
  p2 <- file.path(dir, "pair.key")
  write.curve.keys(k, p2)
  k2 <- curve.keypair()
  expect_error(write.curve.keys(list(public = k2$public), p2), "secret file of another key pair")
  expect_identical(read.curve.keys(p2), k)
  # the same pair's public key alone is fine
  expect_identical(write.curve.keys(list(public = k$public), p2), p2)
  expect_identical(read.curve.keys(p2), k)
})

test_that("an attacker's set.sockopt(CURVE_SERVER) after bind is refused: the socket stays NULL and says so", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  k <- curve.keypair()
  s <- init.socket(ctx, "ZMQ_PULL")
  ep <- bind_tcp(s)
  # the same error set.curve.server() gives, whichever function sets it
  msg <- "must be called before bind.socket() or connect.socket(): libzmq applies security when a connection is made"
  expect_error(set.curve.server(s, k$secret), paste0("set.curve.server() ", msg), fixed = TRUE)
  expect_error(set.sockopt(s, "CURVE_SERVER", 1L), paste0("set.sockopt(\"ZMQ_CURVE_SERVER\") ", msg), fixed = TRUE)
  expect_error(set.sockopt(s, "CURVE_SECRETKEY", k$secret), msg, fixed = TRUE)
  expect_error(set.sockopt(s, "ZMQ_PLAIN_SERVER", TRUE), msg, fixed = TRUE)
  expect_error(set.sockopt(s, "zap_domain", "global"), msg, fixed = TRUE)
  # nothing claims a protection the endpoint lacks
  expect_identical(get.sockopt(s, "MECHANISM"), 0L)
  expect_false(get.sockopt(s, "CURVE_SERVER"))
  # and, as the user never got CURVE, a plaintext client still connects
  client <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(client, 2000L)
  expect_true(connect.socket(client, ep))
  expect_true(send.socket(client, "in clear"))
  expect_identical(recv_within(s, 5), "in clear")
})

test_that("security roles may be set again once every endpoint is unbound or disconnected", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  k <- curve.keypair()
  s <- init.socket(ctx, "ZMQ_PULL")
  ep <- bind_tcp(s)
  expect_error(set.curve.server(s, k$secret), "already bound or connected")
  expect_true(unbind.socket(s, ep))
  expect_true(set.curve.server(s, k$secret))
  ep <- bind_tcp(s)
  expect_identical(get.sockopt(s, "MECHANISM"), 2L)
  # the new endpoint is CURVE: a plaintext client gets nothing through
  plain <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(plain, 500L)
  set.linger(plain, 0L)
  connect.socket(plain, ep)
  send.socket(plain, "in clear")
  expect_false(readable(s, 1))
  curve <- init.socket(ctx, "ZMQ_PUSH")
  set.curve.client(curve, k$public)
  set.send.timeout(curve, 2000L)
  connect.socket(curve, ep)
  expect_true(send.socket(curve, "encrypted"))
  expect_identical(recv_within(s, 5), "encrypted")
  # a client: after disconnect.socket() of its only endpoint
  c2 <- init.socket(ctx, "ZMQ_REQ")
  expect_true(connect.socket(c2, ep))
  expect_error(set.curve.client(c2, k$public), "already bound or connected")
  expect_true(disconnect.socket(c2, ep))
  expect_true(set.curve.client(c2, k$public))
})

test_that("40 Z85 characters that decode to no key are refused at once, wherever a key is taken", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  bad <- strrep("#", 40)
  k <- curve.keypair()
  s <- init.socket(ctx, "ZMQ_REP")
  why <- "is not a CURVE key: its 40 characters are Z85 but do not decode to 32 bytes"
  expect_error(set.curve.server(s, bad), paste("`secret`", why), fixed = TRUE)
  expect_error(set.curve.client(s, bad), paste("`server.public`", why), fixed = TRUE)
  expect_error(set.curve.client(s, k$public, keys = list(public = bad, secret = k$secret)),
               paste("`keys$public`", why), fixed = TRUE)
  expect_error(curve.public(bad), paste("`secret`", why), fixed = TRUE)
  expect_error(set.sockopt(s, "CURVE_SECRETKEY", bad), paste("`value`", why), fixed = TRUE)
  expect_error(z85.decode(bad), "`s` is not Z85 text: a group of five characters stands for more than 2^32 - 1",
               fixed = TRUE)
  expect_error(z85.decode(strrep("#", 5)), "more than 2^32 - 1", fixed = TRUE)
  # the largest group is still fine
  expect_identical(z85.decode("%nSc0"), as.raw(c(255, 255, 255, 255)))
  # the authenticator's key list, through the same C check
  expect_error(init.authenticator(ctx, curve = c(k$public, bad)), "`curve[2]`", fixed = TRUE)
  expect_error(write.curve.keys(list(public = bad), file.path(tempdir(), "never.key")),
               paste("`keys$public`", why), fixed = TRUE)
  expect_false(file.exists(file.path(tempdir(), "never.key")))
  expect_identical(get.sockopt(s, "MECHANISM"), 0L)
})

test_that("an empty PLAIN password is refused at once, naming `password`", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_REQ")
  expect_error(set.plain.client(s, "alice", ""), "`password` must not be empty", fixed = TRUE)
  expect_error(set.plain.client(s, "", "secret"), "`username`", fixed = TRUE)
  expect_identical(get.sockopt(s, "MECHANISM"), 0L)
  expect_identical(get.sockopt(s, "PLAIN_USERNAME"), "")
  expect_true(set.plain.client(s, "alice", "s"))
})

test_that("read.curve.keys() takes the keys of the `curve` section only, by their exact names", {
  dir <- withr_tempdir()
  k <- curve.keypair()
  old <- curve.keypair()
  p <- file.path(dir, "rotated.key")
  # as pyzmq's create_certificates(metadata = ...) writes it: metadata first
  writeLines(c("#   ZeroMQ CURVE Public Certificate", "", "metadata",
               sprintf('    public-key-previous = "%s"', old$public),
               sprintf('    secret-key-note = "%s"', old$public),
               "    name = rotated", "curve",
               sprintf('    public-key = "%s"', k$public)), p)
  expect_identical(read.curve.keys(p), list(public = k$public, secret = NULL))
  # a key outside the curve section is no key
  writeLines(c("metadata", sprintf('    public-key = "%s"', old$public), "curve"), p)
  expect_error(read.curve.keys(p), "holds no public-key")
  # written by hand without indenting: still the curve section's
  writeLines(c("metadata", "curve", sprintf("public-key = '%s'", k$public)), p)
  expect_identical(read.curve.keys(p)$public, k$public)
})

test_that("read.curve.keys() given the secret certificate's own path reads the secret from it", {
  dir <- withr_tempdir()
  k <- curve.keypair()
  p <- file.path(dir, "own.key")
  write.curve.keys(k, p)
  expect_identical(read.curve.keys(paste0(p, "_secret")), k)
  # on its own, without the public certificate beside it
  unlink(p)
  expect_identical(read.curve.keys(paste0(p, "_secret")), k)
})

test_that("write.curve.keys() writes 0644 and 0600 whatever the umask; a readable secret file warns", {
  skip_on_os("windows")
  dir <- withr_tempdir()
  k <- curve.keypair()
  p <- file.path(dir, "umask.key")
  old <- Sys.umask("000")
  on.exit(Sys.umask(old), add = TRUE)
  write.curve.keys(k, p)
  expect_identical(format(file.mode(p)), "644")
  expect_identical(format(file.mode(paste0(p, "_secret"))), "600")
  expect_identical(format(Sys.umask()), "0")
  # files that existed with other modes get these modes too
  Sys.chmod(c(p, paste0(p, "_secret")), "666", use_umask = FALSE)
  write.curve.keys(k, p)
  expect_identical(format(file.mode(p)), "644")
  expect_identical(format(file.mode(paste0(p, "_secret"))), "600")
  expect_silent(read.curve.keys(p))
  # a secret file others may read: the keys, and a warning that says so
  Sys.chmod(paste0(p, "_secret"), "644", use_umask = FALSE)
  expect_warning(got <- read.curve.keys(p),
                 sprintf("the secret certificate %s_secret can be read by its group and others (mode 644)", p),
                 fixed = TRUE)
  expect_identical(got, k)
  Sys.chmod(paste0(p, "_secret"), "640", use_umask = FALSE)
  expect_warning(read.curve.keys(paste0(p, "_secret")), "can be read by its group (mode 640)", fixed = TRUE)
  # a public certificate alone never warns
  expect_silent(read.curve.keys(p <- {
    q <- file.path(dir, "public-only.key")
    write.curve.keys(list(public = k$public), q)
    q
  }))
})

test_that("read.curve.keys() and write.curve.keys() of a directory: one clear R error", {
  dir <- withr_tempdir()
  k <- curve.keypair()
  expect_error(read.curve.keys(dir), "`path` is a directory, not a certificate file", fixed = TRUE)
  expect_error(write.curve.keys(k, dir), "`path` is a directory, not a certificate file", fixed = TRUE)
  expect_no_warning(try(read.curve.keys(dir), silent = TRUE))
  expect_no_warning(try(write.curve.keys(k, dir), silent = TRUE))
  # a directory where the secret certificate would go
  p <- file.path(dir, "x.key")
  dir.create(paste0(p, "_secret"))
  expect_error(write.curve.keys(k, p), "secret certificate would be a directory", fixed = TRUE)
})
