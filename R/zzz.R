# At exit, close what is still open and give queued messages a bounded time
# to leave (see rzmq_exit_cleanup in src/context.c). The finalizer is an R
# closure disarmed by .onUnload, so it never calls into an unloaded library.
exit_state <- new.env(parent = emptyenv())

# The default of every `xdr` argument, evaluated once.
native_xdr <- .Platform$endian == "big"

.onLoad <- function(libname, pkgname) {
  exit_state$armed <- TRUE
  reg.finalizer(exit_state, function(e) {
    if (isTRUE(e$armed)) {
      .Call(c_rzmq_exit_cleanup, getOption("rzmq.exit.timeout", 3))
    }
  }, onexit = TRUE)
  invisible()
}

.onUnload <- function(libpath) {
  exit_state$armed <- FALSE
}
