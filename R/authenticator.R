#' Decide who may connect: the authenticator
#'
#' `init.authenticator()` starts a ZAP handler (ZeroMQ RFC 27) for a
#' context: from then on every CURVE or PLAIN handshake on the context's
#' server sockets (and NULL ones that set a ZAP domain) asks it whether the
#' peer may connect. It runs on a C thread of its own, so handshakes are
#' answered while R is busy computing or blocked in a receive. A refused peer
#' never gets a connection: its messages are never delivered, and the server
#' sees nothing. On the refused side libzmq drops the connection, so a send
#' there waits for a peer that never comes: give clients a send timeout
#' ([set.send.timeout()]) if they may be refused.
#'
#' The decision, in order: if `domain` is not `"*"`, the socket's ZAP domain
#' must be `domain`; if `allow` is given, the peer's IP address must be in
#' it, else it must not be in `deny`; then a CURVE client's public key must
#' be in `curve` (any key if `curve = TRUE`), a PLAIN user name and password
#' must be in `plain`, and a NULL peer that got this far is let in. `NULL`
#' for `curve` or `plain` refuses every client of that mechanism.
#' **An empty list given on purpose means nobody, for every list; only
#' `NULL` means no check**: `allow = character(0)` admits no address,
#' `curve = character(0)` and `plain = character(0)` no client, and
#' `deny = character(0)` denies nobody.
#'
#' `allow` and `deny` hold IP addresses and CIDR ranges, compared as
#' addresses, not as text: `"127.0.0.1"`, `"::ffff:127.0.0.1"` and
#' `"::ffff:7f00:1"` are the same address (an IPv4 peer of a dual-stack
#' socket, one with the `IPV6` option bound to `*`, arrives as
#' `::ffff:127.0.0.1`), and `"10.0.0.0/8"`, `"fd00::/8"` or
#' `"127.0.0.1/32"` match every address of the range. An entry that is
#' neither (a host name, a range with bits set past its prefix length such
#' as `"10.0.0.1/8"`) is an R error that names it. The log shows addresses
#' as libzmq gives them.
#'
#' `configure.authenticator()` replaces the lists given (the others stay as
#' they are) while it runs; the new lists decide the handshakes that follow.
#' libzmq does not retry a refused handshake: a client refused before its
#' key was added must connect again (a new socket, or [disconnect.socket()]
#' and [connect.socket()]). With `drop = FALSE` (the default) peers that
#' are connected keep their connections. With `drop = TRUE` they are
#' checked too: from the moment the call returns, no message from a peer
#' whose key, user name and password, or address the new lists refuse is
#' delivered to R, and that peer's connection is closed (at once if R has
#' received a message from it, else when its next message arrives); the
#' peer then reconnects by itself and is refused at the handshake. Peers
#' the new lists allow keep their connections and lose nothing. How: every
#' connection the authenticator admits carries its admission as metadata
#' on each of its messages, every receive on the context's sockets checks
#' it, and a revoked connection's descriptor is shut down, which makes
#' libzmq drop it. The log records each drop. What `drop = TRUE` cannot
#' reach: a peer that never sends (a subscriber of a PUB server keeps
#' receiving until you close and re-bind the server socket), and messages a
#' running proxy forwards without R seeing them (a warning says so); a
#' [poll.socket()] may report a socket readable for a message that is then
#' dropped.
#'
#' `destroy.authenticator()` stops it; so does the end of its context
#' ([destroy.context()], or the context being collected). Nothing else
#' does: an authenticator whose handle is not kept runs on as long as its
#' context. Without one, CURVE servers accept any client that knows their
#' public key. `authenticator.log()` tells the last 1,000 decisions, so that
#' you can see who was refused and why.
#'
#' @section What it guarantees, and what it does not:
#' A CURVE server with an authenticator that lists client keys admits only
#' clients that hold a listed secret key (and, with `allow`/`deny`, only
#' from addresses allowed); a refused client's messages never reach the
#' server. Everything on the wire is encrypted and authenticated: nothing
#' can be read or altered in transit. It does not make an allowed peer
#' harmless: an allowed peer is trusted. [receive.socket()] unserializes
#' what it sends, and R's [unserialize()] builds whatever object it
#' describes, including functions that run when called; a worker that
#' evaluates what it receives runs its code. Address lists only apply where
#' the authenticator is asked: CURVE and PLAIN server sockets, and NULL
#' (unencrypted) sockets that set a ZAP domain; a socket with no security
#' and no ZAP domain admits every address whatever `allow` and `deny` say.
#' PLAIN sends passwords and messages in clear text. A stolen secret key is
#' that client until revoked (`drop = TRUE`). See
#' `vignette("security", package = "rzmq")`.
#'
#' @param context a zmq context; at most one authenticator per context.
#' @param curve `NULL`, `TRUE` (any client key: encryption only), or a
#'   character vector of allowed client public keys (Z85).
#' @param plain `NULL`, or a named character vector: `c(user = "password")`;
#'   each user once, no empty password.
#' @param allow,deny `NULL` (no check), or character vectors of IP addresses
#'   (IPv4, IPv6) and CIDR ranges (`"10.0.0.0/8"`, `"fd00::/8"`).
#' @param domain the ZAP domain served, or `"*"` for every domain.
#' @param auth an authenticator made by `init.authenticator()`.
#' @param drop `TRUE` to check connected peers too: those the new lists
#'   refuse are cut off (no message of theirs reaches R from then on, and
#'   their connections are closed); `FALSE` (default): the new lists decide
#'   new handshakes only.
#' @return `init.authenticator()`: an authenticator, an external pointer.
#'   `configure.authenticator()`, `destroy.authenticator()`: `TRUE`,
#'   invisibly. `authenticator.log()`: a data frame with one row per
#'   handshake (and revoked connection), oldest first: `time` (POSIXct), `mechanism` (`"CURVE"`,
#'   `"PLAIN"`, `"NULL"`), `address` (the peer's IP address), `user` (the
#'   CURVE client's public key or the PLAIN user name), `allowed` (logical)
#'   and `reason`.
#' @seealso [set.curve.server()], [curve.keypair()]
#' @examplesIf zmq.has("curve")
#' ctx <- init.context()
#' server_keys <- curve.keypair()
#' client_keys <- curve.keypair()
#' auth <- init.authenticator(ctx, curve = client_keys$public)
#' server <- init.socket(ctx, "ZMQ_REP")
#' set.curve.server(server, server_keys$secret)
#' bind.socket(server, "tcp://127.0.0.1:*")
#' client <- init.socket(ctx, "ZMQ_REQ")
#' set.curve.client(client, server_keys$public, client_keys)
#' connect.socket(client, get.last.endpoint(server))
#' send.socket(client, 1:3)
#' receive.socket(server)
#' # revoke the client: its connection is closed, nothing more of it reaches R
#' configure.authenticator(auth, curve = character(0), drop = TRUE)
#' authenticator.log(auth)[, c("user", "allowed", "reason")]
#' destroy.context(ctx, linger = 0)
#' @export
init.authenticator <- function(context, curve = NULL, plain = NULL, allow = NULL,
                               deny = NULL, domain = "*") {
  .Call(c_rzmq_auth_new, context, curve, plain, allow, deny, domain)
}

#' @rdname init.authenticator
#' @export
configure.authenticator <- function(auth, curve, plain, allow, deny,
                                    drop = FALSE) {
  set <- c(!missing(curve), !missing(plain), !missing(allow), !missing(deny))
  invisible(.Call(c_rzmq_auth_configure, auth, set,
                  if (set[1]) curve, if (set[2]) plain,
                  if (set[3]) allow, if (set[4]) deny, drop))
}

#' @rdname init.authenticator
#' @export
destroy.authenticator <- function(auth) {
  invisible(.Call(c_rzmq_auth_destroy, auth))
}

#' @rdname init.authenticator
#' @export
authenticator.log <- function(auth) {
  x <- .Call(c_rzmq_auth_log, auth)
  x$time <- .POSIXct(x$time)
  as.data.frame(x, stringsAsFactors = FALSE)
}
