# receive.socket(unserialize = TRUE) accepts a version-3 header whose
# native-encoding name is 64 bytes long; base unserialize() rejects it
# ("invalid length of encoding name": R allows at most 63). The package's
# own plain-vector reader (read_plain in src/serialize.c) allows 0..64.
library(rzmq)
b <- serialize(c(1L, 2L, 3L), NULL, xdr = FALSE)
nelen <- readBin(b[15:18], "integer", size = 4, endian = "little")
enc <- rawToChar(b[19:(18 + nelen)])
b64 <- c(b[1:14], writeBin(64L, raw(), size = 4, endian = "little"),
         charToRaw(formatC(enc, width = -64)), b[(19 + nelen):length(b)])
base <- tryCatch(unserialize(b64), error = function(e) paste("error:", conditionMessage(e)))
ctx <- init.context()
a <- init.socket(ctx, "ZMQ_PAIR"); z <- init.socket(ctx, "ZMQ_PAIR")
bind.socket(z, "inproc://enc"); connect.socket(a, "inproc://enc")
send.socket(a, b64, serialize = FALSE)
rz <- tryCatch(receive.socket(z), error = function(e) paste("error:", conditionMessage(e)))
cat("base unserialize():", deparse(base), "\nrzmq receive.socket():", deparse(rz), "\n")
cat(if (identical(base, rz)) "same\n" else "MISMATCH\n")
