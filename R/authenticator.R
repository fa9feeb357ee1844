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
#'
#' `configure.authenticator()` replaces the lists given (the others stay as
#' they are) while it runs; the new lists decide the handshakes that follow.
#' libzmq does not retry a refused handshake: a client refused before its
#' key was added must connect again (a new socket, or [disconnect.socket()]
#' and [connect.socket()]). `destroy.authenticator()` stops it (closing or
#' destroying the context does too); without it, CURVE servers accept any
#' client that knows their public key. `authenticator.log()` tells the last
#' 1,000 decisions, so that you can see who was refused and why.
#'
#' @param context a zmq context; at most one authenticator per context.
#' @param curve `NULL`, `TRUE` (any client key: encryption only), or a
#'   character vector of allowed client public keys (Z85).
#' @param plain `NULL`, or a named character vector: `c(user = "password")`.
#' @param allow,deny `NULL`, or character vectors of IP addresses.
#' @param domain the ZAP domain served, or `"*"` for every domain.
#' @param auth an authenticator made by `init.authenticator()`.
#' @return `init.authenticator()`: an authenticator, an external pointer.
#'   `configure.authenticator()`, `destroy.authenticator()`: `TRUE`,
#'   invisibly. `authenticator.log()`: a data frame with one row per
#'   handshake, oldest first: `time` (POSIXct), `mechanism` (`"CURVE"`,
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
#' authenticator.log(auth)
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
