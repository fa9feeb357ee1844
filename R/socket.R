#' Bind a socket to an endpoint
#'
#' Creates an endpoint for accepting connections and binds the socket to it.
#' The address is `transport://address`: `inproc://name` (within the
#' process), `ipc:///path` (between processes), `tcp://interface:port`
#' (`"*"` as the interface or port picks any; read the chosen port back with
#' [get.last.endpoint()]), or `pgm://` / `epgm://` multicast. Except for
#' `ZMQ_PAIR`, one socket may bind and connect to many endpoints.
#'
#' @param socket a zmq socket.
#' @param address an endpoint, as above.
#' @return `TRUE` if the operation succeeds, `FALSE` (with libzmq's error
#'   text as a message) if it fails, invisibly.
#' @seealso [connect.socket()], [unbind.socket()]
#' @examples
#' context <- init.context()
#' in.socket <- init.socket(context, "ZMQ_PULL")
#' bind.socket(in.socket, "tcp://127.0.0.1:*")
#' get.last.endpoint(in.socket)
#' destroy.context(context)
#' @export
bind.socket <- function(socket, address) {
  invisible(.Call(c_rzmq_socket_bind, socket, address))
}

#' @rdname bind.socket
#' @details `unbind.socket()` stops listening on an endpoint bound before
#'   (for a wildcard bind, give the endpoint [get.last.endpoint()] returned).
#'   Unbinding an endpoint the socket is not bound to returns `FALSE` with a
#'   message that names it (`` `address` "tcp://127.0.0.1:5555" is not bound
#'   on this socket (No such file or directory) ``; errno `ENOENT`, an
#'   `rzmq_ENOENT` condition under `options(rzmq.errors = "condition")`).
#'   Once a socket has no endpoint left, its security options may be set
#'   again ([set.curve.server()]).
#' @export
unbind.socket <- function(socket, address) {
  invisible(.Call(c_rzmq_socket_unbind, socket, address))
}

#' Connect a socket to an endpoint
#'
#' Connects the socket to the endpoint given by `address` (see
#' [bind.socket()] for the transports). The connection is made in the
#' background: connecting succeeds even before a peer has bound the address.
#' `disconnect.socket()` undoes a connect; disconnecting an endpoint the
#' socket is not connected to returns `FALSE` with a message that names it
#' (errno `ENOENT`), as [unbind.socket()] does.
#'
#' @inheritParams bind.socket
#' @return `TRUE` if the operation succeeds, `FALSE` (with libzmq's error
#'   text as a message) if it fails, invisibly.
#' @examples
#' context <- init.context()
#' in.socket <- init.socket(context, "ZMQ_PULL")
#' bind.socket(in.socket, "tcp://127.0.0.1:*")
#' endpoint <- get.last.endpoint(in.socket)
#' out.socket <- init.socket(context, "ZMQ_PUSH")
#' connect.socket(out.socket, endpoint)
#' disconnect.socket(out.socket, endpoint)
#' destroy.context(context)
#' @export
connect.socket <- function(socket, address) {
  invisible(.Call(c_rzmq_socket_connect, socket, address))
}

#' @rdname connect.socket
#' @export
disconnect.socket <- function(socket, address) {
  invisible(.Call(c_rzmq_socket_disconnect, socket, address))
}
