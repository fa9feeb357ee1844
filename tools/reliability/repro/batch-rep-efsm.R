# receive.messages() on a REP socket: after the first request libzmq says
# EFSM (a reply must be sent first); the batch took that for a failure:
# the message "Operation cannot be accomplished in current state" on every
# call, and with rzmq.errors = "condition" an error that lost the request.
library(rzmq)
ctx <- init.context()
rep <- init.socket(ctx, "ZMQ_REP"); req <- init.socket(ctx, "ZMQ_REQ")
bind.socket(rep, "inproc://efsm"); connect.socket(req, "inproc://efsm")
send.socket(req, "q1")
said <- character(0)
got <- withCallingHandlers(receive.messages(rep),
                           message = function(m) { said <<- c(said, conditionMessage(m)); invokeRestart("muffleMessage") })
send.socket(rep, "a1"); invisible(receive.socket(req))
send.socket(req, "q2")
options(rzmq.errors = "condition")
got2 <- tryCatch(receive.messages(rep), error = function(e) "ERROR")
cat(if (length(said) || !identical(got, list("q1")) || !identical(got2, list("q2")))
  "EFSM REPORTED" else "OK", "\n")
