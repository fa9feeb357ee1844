# A calling handler for the interrupt that closes the socket and resumes
# the interrupted call: rzmq_wait() polls the libzmq socket it captured
# before the interrupt check, which destroy.socket() has freed meanwhile.
# Under valgrind: "Invalid read of size 4 ... zmq_poll ... rzmq_wait".
library(rzmq)
ctx <- init.context()
s <- init.socket(ctx, "ZMQ_PULL")
bind.socket(s, "inproc://resume")
system(sprintf("sleep 2; kill -INT %d", Sys.getpid()), wait = FALSE)
res <- withCallingHandlers(
  receive.socket(s), # blocks: nothing is ever sent
  interrupt = function(cond) {
    destroy.socket(s)
    Sys.sleep(0.5) # libzmq's reaper frees the socket meanwhile
    invokeRestart("resume") # R_CheckUserInterrupt offers this restart
  })
print(res)
