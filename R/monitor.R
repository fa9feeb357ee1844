#' Watch a socket's connection events
#'
#' `monitor.socket()` asks libzmq to report what happens to a socket's
#' connections (listening, connecting, accepting, handshakes, disconnecting,
#' closing) and returns a new socket that receives those reports, one message
#' per event. It is an ordinary rzmq socket: wait for events with
#' [poll.socket()] (it is readable when an event is queued), bound a blocking
#' [receive.event()] with [set.rcv.timeout()], and close it with
#' [destroy.socket()]. Read it with `receive.event()` or `read.events()`:
#' each event is a message of two frames, of which [receive.socket()] would
#' read only one.
#'
#' `receive.event()` reads one event, waiting for it like
#' [receive.socket()] (for at most the monitor's receive timeout, and Ctrl-C
#' interrupts the wait). `read.events()` reads every event already queued,
#' without waiting.
#'
#' Events are reported from the moment `monitor.socket()` returns, not for
#' what happened before: make the monitor before binding or connecting. The
#' monitor queues events without limit until they are read (libzmq would
#' otherwise stall the socket once the queue is full), so read them as they
#' come, or close the monitor. A socket has at most one monitor: calling
#' `monitor.socket()` again on the same socket replaces the earlier monitor,
#' which then receives `"MONITOR_STOPPED"` (if it asked for it) and nothing
#' more. Closing the monitored socket stops its monitor the same way (the
#' events of the closing itself are not reported), and closing the monitor
#' (or letting the garbage collector take it) stops libzmq reporting the
#' socket's events. libzmq carries out some requests (a [disconnect.socket()],
#' say) only when the socket is next used (polled, sent to, received from),
#' so their events may wait until then.
#'
#' A message on the monitor that is not an event (only something other than
#' libzmq could send one) is an R error; it is read to its end, so the next
#' event reads normally.
#'
#' The events, with what `value` holds:
#' * `"CONNECTED"` (the connection's file descriptor), `"CONNECT_DELAYED"`
#'   (an error number), `"CONNECT_RETRIED"` (the reconnect interval, ms);
#' * `"LISTENING"` (the listening file descriptor), `"BIND_FAILED"` (an error
#'   number);
#' * `"ACCEPTED"` (the connection's file descriptor), `"ACCEPT_FAILED"` (an
#'   error number);
#' * `"CLOSED"` (the file descriptor), `"CLOSE_FAILED"` (an error number),
#'   `"DISCONNECTED"` (the file descriptor);
#' * `"MONITOR_STOPPED"` (0);
#' * `"HANDSHAKE_SUCCEEDED"` (0), `"HANDSHAKE_FAILED_NO_DETAIL"` (an error
#'   number), `"HANDSHAKE_FAILED_PROTOCOL"` (libzmq's protocol error code),
#'   `"HANDSHAKE_FAILED_AUTH"` (the ZAP status code, such as 400 for a
#'   client the authenticator refused).
#'
#' An event libzmq adds later is named by its number in hexadecimal
#' (`"0x8000"`).
#'
#' @param socket the zmq socket to watch.
#' @param events `"all"`, or a character vector of the event names listed
#'   in Details;
#'   the `ZMQ_EVENT_` prefix may be given (`"ZMQ_EVENT_CONNECTED"`) and case
#'   does not matter.
#' @param monitor a socket made by `monitor.socket()`.
#' @param dont.wait `TRUE` to return `NULL` at once (and set [zmq.errno()]
#'   to 11) if no event is queued.
#' A monitor may be made before its socket is given to [init.proxy()] and
#' read while the proxy runs; closing the monitor then (with
#' [destroy.socket()], or its context) stops that proxy first, since the
#' monitor can only be detached from a socket no thread is using.
#'
#' @return `monitor.socket()`: a zmq socket, the monitor (`NULL` with a
#'   message if libzmq fails). `receive.event()`: a list with `event` (the
#'   name, as above), `value` (a number) and `endpoint` (the endpoint the event
#'   is about, a string), or `NULL` on a timeout, with `dont.wait = TRUE` and
#'   no event, or on failure (with a message). `read.events()`: a data frame
#'   with those three columns, one row per event, oldest first (zero rows if
#'   none is queued).
#' @seealso [poll.socket()], [init.authenticator()] (whose refusals a
#'   server's monitor reports as `"HANDSHAKE_FAILED_AUTH"`)
#' @examples
#' ctx <- init.context()
#' server <- init.socket(ctx, "ZMQ_PULL")
#' watch <- monitor.socket(server)
#' set.rcv.timeout(watch, 2000L)
#' bind.socket(server, "tcp://127.0.0.1:*")
#' receive.event(watch)
#'
#' # only connections made and lost
#' client <- init.socket(ctx, "ZMQ_PUSH")
#' client.watch <- monitor.socket(client, c("CONNECTED", "DISCONNECTED"))
#' connect.socket(client, get.last.endpoint(server))
#' poll.socket(list(client.watch), list("read"), timeout = 2)[[1]]$read
#' receive.event(client.watch)
#'
#' # whatever else is queued by now, without waiting
#' read.events(watch)
#' receive.event(watch, dont.wait = TRUE)
#' destroy.context(ctx, linger = 0)
#' @export
monitor.socket <- function(socket, events = "all") {
  .Call(c_rzmq_monitor_new, socket, events)
}

#' @rdname monitor.socket
#' @export
receive.event <- function(monitor, dont.wait = FALSE) {
  .Call(c_rzmq_monitor_receive, monitor, dont.wait)
}

#' @rdname monitor.socket
#' @export
read.events <- function(monitor) {
  x <- .Call(c_rzmq_monitor_read_all, monitor)
  data.frame(event = x[[1L]], value = x[[2L]], endpoint = x[[3L]],
             stringsAsFactors = FALSE)
}
