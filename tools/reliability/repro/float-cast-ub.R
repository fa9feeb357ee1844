# Doubles outside the range of the integer type they are converted to:
# undefined behaviour in C, at three places (the R results come out right
# on x86-64 by luck: the conversion gives INT_MIN / 0x8000000000000000):
#   src/context.c  rzmq_context_new      n != (int)n       (init.context(1e10))
#   src/context.c  rzmq_context_destroy  v != (int)v       (linger = 1e12)
#   src/serialize.c read_plain           len != (double)(size_t)len, for a
#     long-form length whose upper and lower parts are 0xFFFFFFFF (2^64 as
#     a double; R itself rejects an upper part > 65536)
# Run against the UBSan build (sanitize.sh ubsan builds
# $RZMQ_REL_WORK/lib-ubsan) with LD_PRELOAD=libubsan.so to see the reports.
library(rzmq)
print(tryCatch(init.context(threads = 1e10), error = conditionMessage))
print(tryCatch(destroy.context(init.context(), linger = 1e12), error = conditionMessage))
ctx <- init.context()
a <- init.socket(ctx, "ZMQ_PAIR"); z <- init.socket(ctx, "ZMQ_PAIR")
bind.socket(z, "inproc://ub"); connect.socket(a, "inproc://ub")
hdr <- c(charToRaw("X\n"), as.raw(c(0, 0, 0, 2, 0, 4, 2, 2, 0, 3, 5, 0,  # v2, writer, reader
                                    0, 0, 0, 13,                         # INTSXP
                                    255, 255, 255, 255,                  # long form follows
                                    255, 255, 255, 255, 255, 255, 255, 255)), as.raw(1:8))
send.socket(a, hdr, serialize = FALSE)
print(tryCatch(receive.socket(z), error = conditionMessage))
