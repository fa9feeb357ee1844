# What makes future's resolved() work on rzmq_node (future 1.31):
# resolved.ClusterFuture() asks a node for `node$con`, an R socket
# connection, and calls socketSelect() on it to learn, without waiting,
# whether the worker's answer came; a node without `con` gets a warning and
# a blocking value(). Our answers arrive on a ZeroMQ socket, which
# socketSelect() cannot watch, so `node$con` is a "doorbell": the read end of
# a loopback TCP connection (one per cluster, made the first time it is
# asked for) that holds one byte exactly when the node has an answer waiting
# (or is lost, so that future's receive raises the error). future calls
# as.integer() on the connection (connectionId(), isConnectionValid()) just
# before each socketSelect(); the doorbell's as.integer() method first takes
# what has arrived on the ZeroMQ socket, without waiting, and rings or
# silences the bell for that node.

#' @export
`$.rzmq_node` <- function(x, name) {
  if (identical(name, "con")) return(doorbell_con(x))
  .subset2(x, name)
}

#' @export
as.integer.rzmq_doorbell <- function(x, ...) {
  st <- attr(x, "rzmq_state", exact = TRUE)
  if (is.environment(st) && !st$closed) {
    while (pump(st, wait = FALSE)) NULL
    doorbell_sync(st, attr(x, "rzmq_index", exact = TRUE))
  }
  as.integer(unclass(x))
}

doorbell_con <- function(node) {
  st <- node_master(node)
  if (st$closed) return(NULL)
  if (is.null(st$bell)) st$bell <- doorbell_new()
  con <- st$bell$reader
  structure(con, class = c("rzmq_doorbell", class(con)),
            rzmq_state = st, rzmq_index = .subset2(node, "index"))
}

# A connected pair of loopback sockets. The port comes from /dev/urandom,
# not from R's random numbers (a user's seed stays as it is); a stranger
# who connects first is found out by the token and we try again.
doorbell_new <- function() {
  for (attempt in 1:20) {
    token <- random_token()
    port <- 20000L + strtoi(substr(token, 1L, 4L), 16L) %% 40000L
    server <- tryCatch(serverSocket(port), error = function(e) NULL)
    if (is.null(server)) next
    writer <- tryCatch(socketConnection("127.0.0.1", port, blocking = TRUE,
                                        open = "a+b", timeout = 5),
                       error = function(e) NULL)
    if (is.null(writer)) {
      close(server)
      next
    }
    reader <- socketAccept(server, blocking = TRUE, open = "a+b", timeout = 5)
    close(server)
    writeBin(charToRaw(token), writer)
    flush(writer)
    if (identical(rawToChar(readBin(reader, "raw", nchar(token))), token)) {
      return(list(reader = reader, writer = writer, rung = FALSE,
                  for_node = NA_integer_))
    }
    close(reader)
    close(writer)
  }
  stop("cannot make the loopback connection that future's resolved() needs",
       call. = FALSE)
}

# One byte in the bell exactly when node i has something to receive.
doorbell_sync <- function(st, i) {
  bell <- st$bell
  if (is.null(bell)) return(invisible())
  want <- st$pending[[i]] > 0L || st$state[[i]] == "lost"
  if (want && !bell$rung) {
    writeBin(as.raw(1L), bell$writer)
    flush(bell$writer)
    st$bell$rung <- TRUE
  } else if (!want && bell$rung) {
    readBin(bell$reader, "raw", 1L)
    st$bell$rung <- FALSE
  }
  invisible()
}

doorbell_close <- function(st) {
  if (is.null(st$bell)) return(invisible())
  try(close(st$bell$reader), silent = TRUE)
  try(close(st$bell$writer), silent = TRUE)
  st$bell <- NULL
  invisible()
}
