# The README's plot, bench/cost-per-message.png: workload 3's cost per raw
# frame against its size. bench/run.R calls plot_cost_per_message() after a
# run; run alone, this script redraws the picture from the workload-3 rows
# of the table in README.md, without running the benchmark:
#   Rscript bench/plot.R [README.md] [bench/cost-per-message.png]

# M: medians, rows "w3_<transport>_<bytes>", one column per binding;
# labels: the bindings' names in the legend, named as M's columns.
plot_cost_per_message <- function(M, labels, sizes, file) {
  size_label <- function(s) ifelse(s >= 2^20, paste0(s / 2^20, " MB"),
                                   ifelse(s >= 1024, paste0(s / 1024, " KB"), paste0(s, " B")))
  cols <- c(C = "black", pyzmq = "#1f77b4", pbdZMQ = "#ff7f0e", old = "#7f7f7f", this = "#d62728")
  pchs <- c(C = 15, pyzmq = 16, pbdZMQ = 17, old = 18, this = 19)
  value <- function(tr, b) {
    rn <- sprintf("w3_%s_%.0f", tr, sizes)
    if (!b %in% colnames(M)) return(rep(NA_real_, length(sizes)))
    v <- M[match(rn, rownames(M)), b]
    ifelse(is.finite(v) & v > 0, v, NA_real_)
  }
  # only bindings with points in the picture get a legend entry
  shown <- names(labels)[vapply(names(labels), function(b)
    any(!is.na(c(value("tcp", b), value("inproc", b)))), NA)]
  shown <- intersect(names(cols), shown)
  allv <- unlist(lapply(shown, function(b) c(value("tcp", b), value("inproc", b))))
  yl <- if (any(!is.na(allv))) range(allv, na.rm = TRUE) else c(0.1, 1e6)

  png(file, width = 1500, height = 760, res = 110)
  on.exit(invisible(dev.off()))
  # tcp, where messages between processes go, gets the larger panel; the
  # legend has a row of its own below both
  layout(matrix(c(1, 2, 3, 3), 2, byrow = TRUE), widths = c(1.35, 1), heights = c(1, 0.13))
  op <- par(mar = c(5, 5.6, 4.2, 1), mgp = c(4, 0.8, 0))
  on.exit(par(op), add = TRUE, after = FALSE)
  panel <- function(tr, title, subtitle) {
    plot(NA, xlim = c(0.6, 1.6 * max(sizes)), ylim = yl, log = "xy", xaxt = "n", yaxt = "n",
         xlab = "", ylab = "cost per message (us, log scale)")
    title(main = title, line = 2.3, cex.main = 1.15)
    mtext(subtitle, side = 3, line = 0.6, cex = 0.82)
    axis(1, at = sizes, labels = FALSE)
    # staggered: 16 MB and 64 MB sit close on a log axis
    mtext(size_label(sizes), side = 1, at = sizes, cex = 0.8,
          line = ifelse(seq_along(sizes) %% 2 == 0, 1.8, 0.7))
    yt <- 10^(floor(log10(yl[1])):ceiling(log10(yl[2])))
    axis(2, at = yt, labels = format(yt, scientific = FALSE, drop0trailing = TRUE, big.mark = ","),
         las = 1)
    abline(h = yt, v = sizes, col = "grey92")
    mtext("message size (log scale)", side = 1, line = 3.4, cex = 0.9)
    for (b in shown) {
      y <- value(tr, b)
      ok <- !is.na(y)
      if (any(ok)) lines(sizes[ok], y[ok], type = "o", col = cols[b], pch = pchs[b],
                         lwd = if (b == "this") 2.5 else 1.5)
    }
  }
  panel("tcp", "raw frames over tcp: a real transfer",
        "send + receive on loopback tcp; the bytes go through the kernel as between processes")
  panel("inproc", "raw frames over inproc, inside one process",
        "send + receive between two sockets of the same process")
  y_this <- value("inproc", "this")
  if ("this" %in% shown && any(!is.na(y_this))) {
    # in the empty top left, with an arrow to the flat line
    ytxt <- sqrt(yl[2] * max(y_this, na.rm = TRUE)) * 3
    text(sizes[1], ytxt, adj = c(0, 0.5), cex = 0.85, col = cols[["this"]], font = 2,
         labels = paste("rzmq (this), flat at ~2 us up to 64 MB:",
                        "the receiver gets the sender's own vector",
                        "back in the same process (nothing copied).",
                        "Not a transfer: between processes, see tcp.", sep = "\n"))
    arrows(x0 = 2^16, y0 = ytxt / 8, x1 = 2^20, y1 = y_this[4] * 1.3, length = 0.08,
           col = cols[["this"]])
  }
  par(mar = c(0, 0, 0, 0))
  plot.new()
  legend("center", legend = labels[shown], col = cols[shown], pch = pchs[shown],
         lwd = ifelse(shown == "this", 2.5, 1.5), bty = "n", horiz = TRUE, cex = 1.05)
}

# Workload 3's rows of README.md's table as M and labels.
read_readme_table <- function(readme) {
  lines <- readLines(readme, warn = FALSE)
  header <- grep("^\\| workload \\| unit \\|", lines, value = TRUE)[1]
  cells <- function(l) trimws(strsplit(sub("^\\|", "", sub("\\|$", "", l)), "\\|")[[1]])
  h <- cells(header)
  keys <- c("raw C" = "C", "pyzmq" = "pyzmq", "pbdZMQ" = "pbdZMQ", "rzmq 0.9.16" = "old",
            "mirai" = "mirai", "rzmq (this" = "this")
  col_of <- vapply(names(keys), function(k) which(startsWith(h, k))[1], 1L)
  labels <- setNames(h[col_of], keys)
  rows <- grep("^\\| 3\\. raw [0-9]+ [KM]?B frame, (inproc|tcp) \\|", lines, value = TRUE)
  parse_size <- function(s) {
    n <- as.numeric(sub(" .*", "", s))
    n * switch(sub(".* ", "", s), B = 1, KB = 1024, MB = 2^20)
  }
  M <- t(vapply(rows, function(l) {
    v <- cells(l)[col_of]
    suppressWarnings(as.numeric(gsub(",", "", sub(" .*", "", v))))
  }, numeric(length(keys))))
  what <- vapply(rows, function(l) cells(l)[1], "")
  size <- vapply(sub("^3\\. raw (.*) frame, .*", "\\1", what), parse_size, 1)
  tr <- sub(".*, ", "", what)
  dimnames(M) <- list(sprintf("w3_%s_%.0f", tr, size), keys)
  list(M = M, labels = labels, sizes = sort(unique(size)))
}

if (sys.nframe() == 0L) {
  args <- commandArgs(trailingOnly = TRUE)
  readme <- if (length(args) >= 1) args[1] else "README.md"
  out <- if (length(args) >= 2) args[2] else file.path("bench", "cost-per-message.png")
  d <- read_readme_table(readme)
  stopifnot(nrow(d$M) == 12L)
  plot_cost_per_message(d$M, d$labels, d$sizes, out)
  cat("wrote", out, "from the workload-3 rows of", readme, "\n")
}
