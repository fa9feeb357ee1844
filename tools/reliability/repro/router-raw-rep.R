# ZMQ_ROUTER_RAW accepted on a REP socket (libzmq's rep_t is a router_t),
# then an ordinary request arrives: libzmq asserts and the R process aborts
# ("Assertion failed: !_more (src/fq.cpp:112)", exit status 134).
library(rzmq)
ctx <- init.context()
rep <- init.socket(ctx, "ZMQ_REP")
print(set.sockopt(rep, "ZMQ_ROUTER_RAW", TRUE)) # TRUE: libzmq takes it
bind.socket(rep, "inproc://raw")
req <- init.socket(ctx, "ZMQ_REQ")
connect.socket(req, "inproc://raw")
send.socket(req, "ping")
print(receive.socket(rep)) # never printed: the process aborts here
