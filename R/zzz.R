# At exit, close what is still open and give queued messages a bounded time
# to leave (rzmq_exit_cleanup in src/init.c). The finalizer is an R closure
# disarmed by .onUnload, so it never calls into an unloaded library.
exit_state <- new.env(parent = emptyenv())

# The default of every `xdr` argument, evaluated once.
native_xdr <- .Platform$endian == "big"

.onLoad <- function(libname, pkgname) {
  exit_state$armed <- TRUE
  reg.finalizer(exit_state, function(e) {
    if (isTRUE(e$armed) && dll_loaded()) {
      .Call(c_rzmq_exit_cleanup, getOption("rzmq.exit.timeout", 3))
    }
  }, onexit = TRUE)
  invisible()
}

# Unloading the namespace closes every socket (linger 0) and terminates every
# context, waiting up to getOption("rzmq.unload.timeout", 1) seconds, so that
# nothing of ours is still running when the shared library goes (see
# R_unload_rzmq in src/init.c).
.onUnload <- function(libpath) {
  exit_state$armed <- FALSE
  if (dll_loaded()) {
    .Call(c_rzmq_unload_cleanup, getOption("rzmq.unload.timeout", 1))
  }
  invisible()
}

# FALSE once library.dynam.unload() took the shared library away.
dll_loaded <- function() "rzmq" %in% names(getLoadedDLLs())
