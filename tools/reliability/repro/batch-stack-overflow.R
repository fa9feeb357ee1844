# send.messages() with an object too deeply nested to serialize after two
# that went: R signals a C stack overflow to exiting handlers only, so the
# calling handler that adds the count never ran: a plain
# CStackOverflowError, not rzmq_batch_error with sent = 2.
library(rzmq)
ctx <- init.context()
pull <- init.socket(ctx, "ZMQ_PULL"); push <- init.socket(ctx, "ZMQ_PUSH")
bind.socket(pull, "inproc://deep"); connect.socket(push, "inproc://deep")
deep <- list()
for (i in seq_len(1e5)) deep <- list(deep)
e <- tryCatch(send.messages(push, list(1, 2, deep)), error = function(e) e)
cat(if (inherits(e, "rzmq_batch_error") && identical(e$sent, 2L)) "OK" else
  paste("NO COUNT:", class(e)[1]), "\n")
