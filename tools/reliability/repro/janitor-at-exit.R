# The thread that frees the cached large send buffer when idle was still
# running when R exited: valgrind reports its TLS block as possibly lost
# (allocate_dtv <- pthread_create <- janitor_ensure), one error in its
# ERROR SUMMARY. Run under valgrind --leak-check=full.
library(rzmq)
ctx <- init.context()
a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
invisible(bind.socket(b, "inproc://j")); invisible(connect.socket(a, "inproc://j"))
v <- runif(3e5) # 2.4 MB: its buffer is cached, the thread starts
invisible(send.socket(a, v)); stopifnot(identical(receive.socket(b), v))
