# A zero-copy frame (a received raw vector of 64 KB or more) alive when the
# package is unloaded as pkgload does: R resets the ALTREP classes of the
# DLL it unloads, and the frame then fails on any use ("no ALTREP Length
# method defined [class: rzmq_frame, pkg: rzmq]").
library(rzmq)
f <- local({
  ctx <- init.context()
  a <- init.socket(ctx, "ZMQ_PAIR"); b <- init.socket(ctx, "ZMQ_PAIR")
  bind.socket(a, "inproc://f"); connect.socket(b, "inproc://f")
  send.socket(b, as.raw(rep_len(0:255, 1e5)), serialize = FALSE)
  receive.socket(a, unserialize = FALSE)
})
unloadNamespace("rzmq")
library.dynam.unload("rzmq", find.package("rzmq"))
r <- tryCatch(identical(f, as.raw(rep_len(0:255, 1e5))), error = conditionMessage)
cat(if (isTRUE(r)) "OK" else paste("BROKEN:", r), "\n")
