# The table-driven bad-input tests run over every exported function: valid
# arguments for each function that takes a socket, and a way to call any of
# them and get its error. Used by test-bad-input.R and, for handles used in
# a forked child, test-lifetime.R.

rzmq_fun <- function(name) getExportedValue("rzmq", name)

# Valid arguments other than `socket` for every exported function that takes
# a socket; `msg` is filled in by the test (it needs a live message object).
socket_fun_args <- function(msg) {
  num <- list(option.value = 10)
  list(
    bind.socket = list(address = "inproc://bad-input-bind"),
    connect.socket = list(address = "inproc://bad-input-connect"),
    disconnect.socket = list(address = "inproc://bad-input-connect"),
    unbind.socket = list(address = "inproc://bad-input-bind"),
    destroy.socket = list(),
    get.last.endpoint = list(),
    socket.endpoints = list(),
    get.rcv.timeout = list(),
    get.rcvmore = list(),
    get.send.timeout = list(),
    get.sockopt = list(option = "TYPE"),
    set.sockopt = list(option = "LINGER", value = 0),
    receive.socket = list(unserialize = TRUE, dont.wait = TRUE),
    receive.double = list(),
    receive.int = list(),
    receive.multipart = list(),
    receive.messages = list(n = 10L, unserialize = TRUE, dont.wait = TRUE),
    receive.null.msg = list(),
    receive.string = list(),
    send.socket = list(data = 1, send.more = FALSE, serialize = TRUE, xdr = FALSE),
    send.message.object = list(msg = msg, send.more = FALSE),
    send.multipart = list(parts = list(raw(1))),
    send.messages = list(data = list(1), serialize = TRUE, xdr = FALSE),
    send.null.msg = list(send.more = FALSE),
    send.raw.string = list(data = "x", send.more = FALSE),
    set.affinity = num, set.hwm = num, set.linger = num, set.rate = num,
    set.rcv.timeout = num, set.rcvbuf = num, set.reconnect.ivl = num,
    set.reconnect.ivl.max = num, set.recovery.ivl = num,
    set.recovery.ivl.msec = num, set.send.timeout = num, set.sndbuf = num,
    set.zmq.backlog = num, set.swap = num, set.mcast.loop = num,
    set.identity = list(option.value = "id"),
    subscribe = list(option.value = ""),
    unsubscribe = list(option.value = ""),
    set.curve.server = list(secret = test_keys$secret),
    set.curve.client = list(server.public = test_keys$public, keys = test_keys),
    set.plain.server = list(),
    set.plain.client = list(username = "u", password = "p"),
    monitor.socket = list(events = "all"),
    on.message = list(callback = function(msg) NULL),
    receive.promise = list(timeout = 0)
  )
}

# A fixed CURVE key pair for tests that need valid keys without making any.
test_keys <- list(public = "=yb?)kK4OC!3xlO3?@P:@[$%HoEPUuVM9ofqip3.",
                  secret = "nIZ)Tf7Gmv?Jkt*i]^d1[]qN}RMe)%>OB*#Jl7LC")

# The error message of calling exported function `f` with `args`, NA if the
# call succeeds.
error_of_call <- function(f, args) {
  tryCatch({
    do.call(rzmq_fun(f), args)
    NA_character_
  }, error = function(e) conditionMessage(e))
}
