## Run every help page's examples, each in a fresh R, and report how long
## they took and what they left behind right after (before any gc):
## threads (an undestroyed context keeps libzmq's), sockets, listening TCP
## ports and child processes. Linux only (reads /proc). Exits 1 if a page
## leaves anything behind or takes 5 s or more.
##   R CMD INSTALL . && Rscript tools/examples-audit.R [man]
args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2L && args[1] == "--one") {
  library(rzmq)
  snap <- function() {
    links <- vapply(list.files("/proc/self/fd", full.names = TRUE),
                    function(f) tryCatch(Sys.readlink(f), error = function(e) ""), "")
    socks <- links[which(startsWith(links, "socket:"))]
    tcp <- c(readLines("/proc/net/tcp")[-1], readLines("/proc/net/tcp6")[-1])
    fields <- strsplit(trimws(tcp), " +")
    listening <- vapply(fields, function(x) if (x[4] == "0A") x[10] else "", "")
    kids <- 0
    for (d in list.files("/proc", "^[0-9]+$", full.names = TRUE)) {
      st <- tryCatch(readLines(file.path(d, "stat"), warn = FALSE), error = function(e) "")
      if (length(st) && nzchar(st[1])) {
        ppid <- strsplit(sub(".*\\) ", "", st[1]), " ")[[1]][2]
        if (identical(as.integer(ppid), Sys.getpid())) kids <- kids + 1
      }
    }
    c(threads = length(list.files("/proc/self/task")), sockets = length(socks),
      listening = sum(sub("socket:\\[(\\d+)\\]", "\\1", socks) %in% listening),
      children = kids)
  }
  before <- snap()
  ex <- tempfile(fileext = ".R")
  tools::Rd2ex(args[2], ex, commentDontrun = TRUE, commentDonttest = FALSE)
  secs <- if (file.exists(ex)) {
    system.time(utils::capture.output(source(ex, local = new.env())))[["elapsed"]]
  } else 0
  left <- snap() - before
  cat(sprintf("%-24s %6.3f s  threads %+d  sockets %+d  listening %+d  children %+d\n",
              basename(args[2]), secs, left[["threads"]], left[["sockets"]],
              left[["listening"]], left[["children"]]))
  quit(save = "no", status = if (any(left > 0) || secs >= 5) 3L else 0L)
}
man <- if (length(args)) args[1] else "man"
bad <- character()
for (f in list.files(man, "\\.Rd$", full.names = TRUE)) {
  status <- system2(file.path(R.home("bin"), "Rscript"),
                    c(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))),
                      "--one", f))
  if (status != 0L) bad <- c(bad, basename(f))
}
if (length(bad)) {
  cat("left something behind, took 5 s or more, or failed:", bad, "\n")
  quit(save = "no", status = 1L)
}
cat("every example ran in under 5 s and left nothing behind\n")
