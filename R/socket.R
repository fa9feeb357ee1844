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

#' The endpoints of a socket
#'
#' Lists what the socket is bound and connected to now: one row per
#' successful [bind.socket()] or [connect.socket()], in the order they were
#' made, until it is undone by [unbind.socket()] or [disconnect.socket()].
#' A bind's endpoint is shown resolved, as [get.last.endpoint()] gives it: a
#' wildcard port (`"tcp://127.0.0.1:*"`) shows the port it got, and that
#' is the endpoint to give `unbind.socket()` (the wildcard text is not
#' accepted by libzmq, and the row stays). A connect's endpoint is shown as
#' it was given. As in libzmq, undoing an endpoint ends every row of it
#' (connecting twice to one endpoint makes two rows; one disconnect ends
#' both), and a tcp endpoint may be undone by another name of its address
#' (`"tcp://localhost:5555"` for `"tcp://127.0.0.1:5555"`).
#'
#' @param socket a zmq socket.
#' @return A data frame with character columns `endpoint` and `mode`
#'   (`"bind"` or `"connect"`), with no rows if there are none. A closed
#'   socket is an R error.
#' @seealso [bind.socket()], [connect.socket()], [get.last.endpoint()]
#' @examples
#' context <- init.context()
#' server <- init.socket(context, "ZMQ_REP")
#' bind.socket(server, "tcp://127.0.0.1:*")
#' bind.socket(server, "inproc://endpoints-example")
#' socket.endpoints(server)
#' unbind.socket(server, socket.endpoints(server)$endpoint[1])
#' socket.endpoints(server)
#' destroy.context(context)
#' @export
socket.endpoints <- function(socket) {
  .Call(c_rzmq_socket_endpoints, socket)
}
