# The benchmark suite of rzmq: the same work through raw libzmq (C), pyzmq,
# pbdZMQ, optionally rzmq 0.9.16 from CRAN, and this package; for remote
# execution (workloads 8 and 10) also mirai from CRAN, installed into
# ~/.cache/rzmq-bench/mirai-lib (once).
#
#   Rscript bench/run.R [--runs=3] [--quick] [--with-rzmq-0.9.16]
#                       [--only=1,3,...]
#
# --runs=N              runs of every workload per binding (default 3; the
#                       table shows medians). Bindings run back to back.
# --quick               a smoke run: short budgets (still 3 runs unless --runs).
# --with-rzmq-0.9.16    also measure rzmq 0.9.16, installed from CRAN into
#                       ~/.cache/rzmq-bench/rzmq-0.9.16-lib (once).
# --only=LIST           only these workloads (1 to 10), for development.
#
# Writes bench/out/results.csv (medians), bench/out/runs.csv (every run),
# bench/out/table.md, bench/out/table.txt and bench/out/cost-per-message.png.
# See bench/README.md.

t_start <- Sys.time()
loadavg <- function() tryCatch(paste(strsplit(readLines("/proc/loadavg", warn = FALSE), " ")[[1]][1:3],
                                     collapse = " "), error = function(e) "?")
load_start <- loadavg()

# ---- options ---------------------------------------------------------------------
argv <- commandArgs(TRUE)
flag <- function(name) any(argv == paste0("--", name))
opt <- function(name, default) {
  hit <- grep(paste0("^--", name, "="), argv, value = TRUE)
  if (length(hit)) sub("^[^=]*=", "", hit[length(hit)]) else default
}
known <- c("^--runs=", "^--quick$", "^--with-rzmq-0\\.9\\.16$", "^--only=", "^--help$")
bad <- argv[!vapply(argv, function(a) any(vapply(known, grepl, NA, x = a)), NA)]
if (length(bad) || flag("help")) {
  if (length(bad)) cat("unknown option(s):", bad, "\n")
  cat("usage: Rscript bench/run.R [--runs=N] [--quick] [--with-rzmq-0.9.16] [--only=1,2,...]\n")
  quit(status = if (length(bad)) 2 else 0)
}
quick <- flag("quick")
runs <- as.integer(opt("runs", 3))
with_old <- flag("with-rzmq-0.9.16")
workloads <- 1:10
only <- as.integer(strsplit(opt("only", paste(workloads, collapse = ",")), ",")[[1]])
if (is.na(runs) || runs < 1) stop("--runs must be a positive whole number")
if (anyNA(only) || !all(only %in% workloads))
  stop("--only takes workload numbers 1 to 10, e.g. --only=1,4")

# ---- where things are ------------------------------------------------------------
script <- normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
bench_dir <- dirname(script)
root <- dirname(bench_dir)
out_dir <- file.path(bench_dir, "out")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
if (!file.exists(file.path(root, "DESCRIPTION")) ||
    unname(read.dcf(file.path(root, "DESCRIPTION"), "Package")[1, 1]) != "rzmq") {
  stop("bench/run.R must live in bench/ of the rzmq source tree")
}
rscript <- file.path(R.home("bin"), "Rscript")
python <- "/usr/bin/python3"
old_lib <- path.expand("~/.cache/rzmq-bench/rzmq-0.9.16-lib")
mirai_lib <- path.expand("~/.cache/rzmq-bench/mirai-lib")

say <- function(...) { cat(sprintf(...), "\n", sep = ""); flush(stdout()) }
elapsed <- function() as.numeric(difftime(Sys.time(), t_start, units = "secs"))

# ---- settings: full and quick ------------------------------------------------------
sizes <- c(1, 1024, 65536, 1048576, 16777216, 67108864)
size_label <- function(s) ifelse(s >= 2^20, paste0(s / 2^20, " MB"),
                          ifelse(s >= 1024, paste0(s / 1024, " KB"), paste0(s, " B")))
S <- if (quick) {
  list(b1 = 0.1, b2 = 0.1, b3 = 0.02, min3 = 1, big_rounds = 1, memcpy_reps = 5,
       rr_n = 1000, rr_warm = 100, pp_n = 10000, pp_n_c = 100000, b7 = 0.05,
       b9 = 0.05, min9 = 3, w8_small = 500, w8_mb = 40, w8_warm = 40,
       w10 = list(lb = 1000, par = 1e5, big = 5, big_mb = 10, export_mb = 20, starts = 1),
       tmo_small = 60, tmo_sweep = 120, tmo_big = 120, tmo_pair = 60)
} else {
  list(b1 = 1.0, b2 = 1.0, b3 = 0.4, min3 = 3, big_rounds = 5, memcpy_reps = 15,
       rr_n = 10000, rr_warm = 1000, pp_n = 200000, pp_n_c = 1000000, b7 = 1.0,
       b9 = 0.5, min9 = 20, w8_small = 5000, w8_mb = 400, w8_warm = 400,
       w10 = list(lb = 10000, par = 1e6, big = 20, big_mb = 10, export_mb = 100, starts = 3),
       tmo_small = 60, tmo_sweep = 300, tmo_big = 300, tmo_pair = 120)
}
HWM <- 1000000

# ---- running a child with a time limit -------------------------------------------------
# Returns list(ok, results = list of named character vectors, info, out, secs).
# numbers as plain decimals: "1000000", never "1e+06"
arg_str <- function(x) unlist(lapply(x, function(a)
  if (is.numeric(a)) vapply(a, format, "", scientific = FALSE, trim = TRUE, digits = 15)
  else as.character(a)))

# Any command, under `timeout`: its output (stdout and stderr), with
# attr "status" when it failed (124 or 137: timed out).
run_cmd <- function(cmd, args, timeout, env = character()) {
  suppressWarnings(system2("timeout", c("-k", "5", as.integer(timeout), shQuote(cmd),
                                        vapply(arg_str(as.list(args)), shQuote, "")),
                           stdout = TRUE, stderr = TRUE, env = env))
}

run_child <- function(cmd, args, timeout, env = character()) {
  t0 <- Sys.time()
  env <- c(env, sprintf("BENCH_CHILD_TIMEOUT=%d", as.integer(timeout)))
  out <- run_cmd(cmd, args, timeout, env)
  status <- attr(out, "status")
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  parse <- function(prefix) {
    lines <- grep(paste0("^", prefix, " "), out, value = TRUE)
    lapply(lines, function(l) {
      kv <- strsplit(sub(paste0("^", prefix, " "), "", l), " ")[[1]]
      stats::setNames(sub("^[^=]*=", "", kv), sub("=.*$", "", kv))
    })
  }
  res <- parse("RESULT")
  ok <- is.null(status) || status == 0
  why <- if (!is.null(status) && status %in% c(124, 137)) sprintf("timed out after %d s", as.integer(timeout))
         else if (!ok) sprintf("exit status %s", status) else ""
  list(ok = ok && length(res) > 0, results = res, info = parse("INFO"), out = out,
       secs = secs, why = if (ok && !length(res)) "printed no RESULT" else why)
}

# ---- 1. what to measure with -----------------------------------------------------------
say("== rzmq benchmark suite: %s, %d run(s)%s, %s",
    if (quick) "quick smoke run" else "full run", runs,
    if (runs < 3) " (fewer than 3: figures are a smoke test only)" else "",
    format(Sys.time(), "%Y-%m-%d %H:%M:%S"))

lib_this <- file.path(tempdir(), "rzmq-bench-lib")
{
  # Install from a clean copy of the tree: what R CMD build would take
  # (.Rbuildignore honoured), without object files left in src/ by earlier
  # builds, and without writing anything into the working tree.
  say("[setup] installing the package from %s into a temporary library", root)
  src_copy <- file.path(tempdir(), "rzmq-src", "rzmq")
  unlink(dirname(src_copy), recursive = TRUE)
  dir.create(src_copy, recursive = TRUE)
  ignore <- c("^\\.git$", "^\\.git/", "^bench$",
              if (file.exists(file.path(root, ".Rbuildignore")))
                readLines(file.path(root, ".Rbuildignore"), warn = FALSE))
  ignore <- ignore[nzchar(trimws(ignore))]
  top <- list.files(root, all.files = TRUE, no.. = TRUE)
  keep <- top[!vapply(top, function(f) any(vapply(ignore, function(p)
    grepl(p, f, perl = TRUE), NA)), NA)]
  keep <- keep[!grepl("\\.Rcheck$|\\.tar\\.gz$", keep)]
  ok <- file.copy(file.path(root, keep), src_copy, recursive = TRUE)
  if (!all(ok)) stop("could not copy ", paste(keep[!ok], collapse = ", "))
  unlink(c(list.files(file.path(src_copy, "src"), "\\.(o|so|dll)$", full.names = TRUE),
           file.path(src_copy, "src", "Makevars")))
  unlink(lib_this, recursive = TRUE)
  dir.create(lib_this, recursive = TRUE)
  log <- run_cmd(file.path(R.home("bin"), "R"),
                 list("CMD", "INSTALL", "--preclean", "--no-multiarch", "-l", lib_this, src_copy), 900)
  if (!is.null(attr(log, "status")) || !dir.exists(file.path(lib_this, "rzmq"))) {
    cat(tail(log, 30), sep = "\n")
    stop("R CMD INSTALL of this package failed")
  }
}
this_version <- unname(read.dcf(file.path(lib_this, "rzmq", "DESCRIPTION"), "Version")[1, 1])
say("[setup] rzmq (this) %s in %s", this_version, lib_this)

say("[setup] compiling bench/zmqbench.c")
zmqbench <- file.path(out_dir, "zmqbench")
cc <- run_cmd("gcc", list("-O2", "-o", zmqbench, file.path(bench_dir, "zmqbench.c"), "-lzmq"), 120)
have_c <- is.null(attr(cc, "status")) && file.exists(zmqbench)
if (!have_c) { cat(cc, sep = "\n"); say("[setup] gcc failed: no raw C column") }

pyv <- run_cmd(python, list("-c", "import zmq; print(zmq.__version__)"), 60)
have_py <- is.null(attr(pyv, "status"))
if (have_py) say("[setup] pyzmq %s (%s)", pyv[1], python) else
  say("[setup] pyzmq not importable with %s: no pyzmq column (%s)", python, paste(pyv, collapse = " "))

have_pbd <- nzchar(system.file(package = "pbdZMQ"))
pbd_version <- if (have_pbd) as.character(packageVersion("pbdZMQ")) else NA
if (have_pbd) say("[setup] pbdZMQ %s", pbd_version) else say("[setup] pbdZMQ not installed: no pbdZMQ column")

# A CRAN package at an exact version in a library of the benchmark's own
# (~/.cache/rzmq-bench/...), installed with install.packages() once and reused:
# CRAN's current release, or when that is another version, the archived one
# (its dependencies from CRAN first). Returns the version installed, or NA
# after saying why there is none.
cran_lib <- function(pkg, version, lib, deps = character()) {
  installed <- function() {
    d <- file.path(lib, pkg, "DESCRIPTION")
    if (file.exists(d)) unname(read.dcf(d, "Version")[1, 1]) else NA
  }
  v <- installed()
  if (identical(v, version)) return(v)
  say("[setup] installing %s %s from CRAN into %s", pkg, version, lib)
  dir.create(lib, recursive = TRUE, showWarnings = FALSE)
  code <- sprintf(paste0(
    "lib <- '%s'; pkg <- '%s'; version <- '%s'; deps <- c(%s); ",
    ".libPaths(c(lib, .libPaths())); repos <- getOption('repos'); ",
    "if (is.null(repos) || identical(unname(repos['CRAN']), '@CRAN@')) repos <- c(CRAN = 'https://cloud.r-project.org'); ",
    "install.packages(pkg, lib = lib, repos = repos); ",
    "d <- file.path(lib, pkg, 'DESCRIPTION'); ",
    "v <- if (file.exists(d)) unname(read.dcf(d, 'Version')[1, 1]) else NA; ",
    "if (!identical(v, version)) { ",
    "  cat('CRAN gave', pkg, v, '- trying the archived', version, '\\n'); ",
    "  if (length(deps)) install.packages(deps, lib = lib, repos = repos); ",
    "  install.packages(sprintf('%%s/src/contrib/Archive/%%s/%%s_%%s.tar.gz', sub('/$', '', repos[['CRAN']]), pkg, pkg, version), ",
    "                   lib = lib, repos = NULL, type = 'source') }"),
    lib, pkg, version, paste(sprintf("'%s'", deps), collapse = ", "))
  inst <- run_cmd(rscript, list("-e", code), 1200)
  st <- attr(inst, "status")
  v <- installed()
  if (!identical(v, version)) {
    cat(tail(inst, 25), sep = "\n")
    say("[setup] %s %s could not be installed (%s; see the lines above): no %s column",
        pkg, version,
        if (!is.null(st) && st %in% c(124, 137)) "timed out after 1200 s"
        else if (!is.null(st)) sprintf("install exited with status %s", st)
        else if (is.na(v)) "nothing was installed"
        else sprintf("got version %s", v), pkg)
    return(NA)
  }
  v
}

old_version <- NA
if (with_old) {
  old_version <- cran_lib("rzmq", "0.9.16", old_lib)
  if (!is.na(old_version)) say("[setup] rzmq %s in %s", old_version, old_lib)
}
mirai_version <- NA
if (any(c(8, 10) %in% only)) {
  mirai_version <- cran_lib("mirai", "2.7.3", mirai_lib, deps = "nanonext")
  if (!is.na(mirai_version)) say("[setup] mirai %s in %s (workloads 8 and 10 only)", mirai_version, mirai_lib)
}

# ---- bindings ----------------------------------------------------------------------------
B <- list()
if (have_c) B$C <- list(label = "raw C", kind = "c")
if (have_py) B$pyzmq <- list(label = paste("pyzmq", pyv[1]), kind = "py")
if (have_pbd) B$pbdZMQ <- list(label = paste("pbdZMQ", pbd_version), kind = "r", lib = "", name = "pbdZMQ")
if (!is.na(old_version)) B$old <- list(label = "rzmq 0.9.16", kind = "r", lib = old_lib, name = "rzmq-0.9.16")
if (!is.na(mirai_version))  # workload 8 only: mirai is not a ZeroMQ binding
  B$mirai <- list(label = paste("mirai", mirai_version), kind = "r", lib = mirai_lib, name = "mirai",
                  only = 8)
B$this <- list(label = paste0("rzmq (this, ", this_version, ")"), kind = "r", lib = lib_this, name = "this")
r_bindings <- names(B)[vapply(B, function(b) b$kind == "r", NA)]

# run MODE ARGS... through binding b
bench <- function(b, mode, args, timeout) {
  x <- B[[b]]
  switch(x$kind,
    c = run_child(zmqbench, c(list(mode), args), timeout),
    py = run_child(python, c(list(file.path(bench_dir, "zmqbench.py"), mode), args), timeout),
    r = run_child(rscript, c(list(file.path(bench_dir, "zmqbench.R"), x$name, mode), args), timeout,
                  env = c(sprintf("R_LIBS=%s", shQuote(x$lib)),
                          sprintf("BENCH_EXPECT_LIB=%s", shQuote(x$lib)))))
}

# ---- the rows of the table -----------------------------------------------------------
rows <- data.frame(id = character(), workload = integer(), what = character(), unit = character(),
                   stringsAsFactors = FALSE)
add_row <- function(id, workload, what, unit) {
  rows[nrow(rows) + 1, ] <<- list(id, workload, what, unit)
}
add_row("w1", 1, "1 B raw frame, inproc, send+recv", "us/msg")
add_row("w1_floor", 1, "R's floor: two empty closures called the same way", "us/pair")
add_row("w1_over", 1, "1 B raw frame: overhead above R's floor", "us/msg")
add_row("w2", 2, "one double, serialize=TRUE, inproc", "us/msg")
for (tr in c("inproc", "tcp")) for (s in sizes)
  add_row(sprintf("w3_%s_%.0f", tr, s), 3, sprintf("raw %s frame, %s", size_label(s), tr), "us/msg")
add_row("w3_ref_alloc", 3, "reference: R makes a 1 MB raw vector, raw(2^20), GC share included", "us")
add_row("w4_time", 4, "80 MB doubles: serialize+send+recv+unserialize", "ms/object")
add_row("w4_peak", 4, "80 MB doubles: peak RSS above baseline", "x object")
add_row("w4_peak0", 4, "80 MB doubles: peak RSS above RSS before 1st send", "x object")
add_row("w4_kept", 4, "80 MB doubles: RSS kept after warm-up + gc()", "MB")
add_row("w5", 5, "REQ/REP round trip, tcp, 2 processes", "us")
add_row("w6", 6, "PUSH/PULL 64 B, tcp, 2 processes", "msg/s")
add_row("w6_batch", 6, "PUSH/PULL 64 B, batch API: send.messages/receive.messages", "msg/s")
add_row("w7", 7, "poll 10 sockets, none ready, timeout 0", "us/call")
add_row("w7_poller", 7, "poll 10 sockets, none ready, timeout 0: poll.poller()", "us/call")
for (k in c("small", "mb")) {
  what <- if (k == "small") "task x + 1" else "task with 1 MB argument"
  add_row(sprintf("w8_%s_1_tps", k), 8, sprintf("remote %s, tcp, 1 worker", what), "tasks/s")
  add_row(sprintf("w8_%s_2_tps", k), 8, sprintf("remote %s, tcp, 2 workers", what), "tasks/s")
  add_row(sprintf("w8_%s_lat", k), 8, sprintf("remote %s: median round trip, 1 worker", what), "us")
}
add_row("w8_ref_rr", 8, "reference: REQ/REP round trip of 1 B (as workload 5)", "us")
add_row("w8_ref_ser", 8, "reference: R serialize + unserialize of the 1 MB argument", "us")
add_row("w9_rr_plain", 9, "REQ/REP round trip, tcp, 2 processes, no CURVE", "us")
add_row("w9_rr_curve", 9, "REQ/REP round trip, tcp, 2 processes, CURVE", "us")
add_row("w9_rr_x", 9, "REQ/REP round trip: CURVE cost (d)", "x")
add_row("w9_mb_plain", 9, "1 MB raw frame, tcp, no CURVE", "us/msg")
add_row("w9_mb_curve", 9, "1 MB raw frame, tcp, CURVE", "us/msg")
add_row("w9_mb_x", 9, "1 MB raw frame: CURVE cost (d)", "x")
# workload 10: every figure in this package's column, one row per system (h)
w10_systems <- c(psock = "parallel PSOCK", plain = "rzmq secure=FALSE", secure = "rzmq secure=TRUE",
                 mirai = "mirai make_cluster", future = "future multisession")
w10_measures <- list(
  start = list(what = "start 2 local workers (until both answer)", unit = "s"),
  lb = list(what = "clusterApplyLB of trivial tasks, 2 workers", unit = "tasks/s"),
  par = list(what = "parLapply over 1e6 elements", unit = "s"),
  big = list(what = "20 tasks with a 10 MB argument", unit = "s"),
  export = list(what = "clusterExport of a 100 MB object", unit = "s"))
for (m in names(w10_measures)) for (sy in names(w10_systems)) {
  if (sy == "future" && m %in% c("lb", "export")) next
  add_row(sprintf("w10_%s_%s", m, sy), 10, sprintf("%s: %s", w10_measures[[m]]$what, w10_systems[[sy]]),
          w10_measures[[m]]$unit)
}
curve_rows <- c("w9_rr_curve", "w9_rr_x", "w9_mb_curve", "w9_mb_x")

runs_df <- data.frame(run = integer(), id = character(), binding = character(), value = numeric(),
                      stringsAsFactors = FALSE)
record <- function(run, id, b, value) {
  runs_df[nrow(runs_df) + 1, ] <<- list(run, id, b, as.numeric(value))
}
failures <- character()
fail <- function(what, r) {
  msg <- sprintf("%s: %s", what, r$why)
  failures <<- c(failures, msg)
  say("    FAILED %s", msg)
  tail_out <- tail(grep("^(RESULT|INFO) ", r$out, value = TRUE, invert = TRUE), 8)
  if (length(tail_out)) cat(paste0("      | ", tail_out), sep = "\n")
}
num <- function(r, key) as.numeric(r[[key]])

# ---- the workloads ---------------------------------------------------------------------
W <- list()
W[[1]] <- function(run, b) {
  r <- bench(b, "pair", list("inproc", S$b1, 1, 1), S$tmo_small)
  if (!r$ok) return(fail(sprintf("1 %s", b), r))
  v <- num(r$results[[1]], "us"); record(run, "w1", b, v)
  msg <- sprintf("%.3f us/msg", v)
  if (b == "this") {  # R's own floor for the same calls, for the notes
    f <- bench(b, "floor", list(S$b1 / 2), S$tmo_small)
    if (f$ok) {
      fl <- num(f$results[[1]], "us")
      record(run, "w1_floor", b, fl)
      record(run, "w1_over", b, v - fl)  # per run: floor and figure from the same minute
      msg <- sprintf("%s; R floor (two empty closures) %.3f us, overhead %.3f us", msg, fl, v - fl)
    }
  }
  msg
}
W[[2]] <- function(run, b) {
  r <- switch(B[[b]]$kind, c = return(NULL),
              py = bench(b, "pyobj", S$b2, S$tmo_small),
              r = bench(b, "serial", S$b2, S$tmo_small))
  if (!r$ok) return(fail(sprintf("2 %s", b), r))
  v <- num(r$results[[1]], "us"); record(run, "w2", b, v)
  sprintf("%.3f us/msg", v)
}
W[[3]] <- function(run, b) {
  msgs <- character()
  for (tr in c("inproc", "tcp")) {
    r <- bench(b, "pair", list(tr, S$b3, S$min3, sizes), S$tmo_sweep)
    for (x in r$results) record(run, sprintf("w3_%s_%.0f", tr, num(x, "size")), b, num(x, "us"))
    if (!r$ok || length(r$results) < length(sizes)) {
      if (r$ok) r$why <- "not every size reported"
      fail(sprintf("3 %s %s", tr, b), r)
    }
    msgs <- c(msgs, sprintf("%s %s us", tr, paste(vapply(r$results, function(x)
      format(signif(num(x, "us"), 3)), ""), collapse = "/")))
  }
  if (b == "this") {  # what R itself costs to hold a received 1 MB copy
    f <- bench(b, "alloc", list(1048576, S$b3), S$tmo_small)
    if (f$ok) {
      v <- num(f$results[[1]], "us")
      record(run, "w3_ref_alloc", b, v)
      msgs <- c(msgs, sprintf("R's raw(2^20) %.1f us", v))
    }
  }
  paste(msgs, collapse = "; ")
}
W[[4]] <- function(run, b) {
  if (B[[b]]$kind == "py") return(NULL)
  if (B[[b]]$kind == "c") {
    r <- run_child(zmqbench, list("memcpy", 8e7, S$memcpy_reps), S$tmo_small)
    if (!r$ok) return(fail("4 memcpy", r))
    v <- num(r$results[[1]], "ms"); record(run, "w4_time", b, v)
    return(sprintf("memcpy of 80 MB: %.2f ms", v))
  }
  r <- bench(b, "bigobj", list(1e7, S$big_rounds), S$tmo_big)
  if (!r$ok) return(fail(sprintf("4 %s", b), r))
  x <- r$results[[1]]
  record(run, "w4_time", b, num(x, "ms"))
  record(run, "w4_peak", b, num(x, "peak_x"))
  record(run, "w4_peak0", b, (num(x, "peak_mb") + num(x, "retained_mb")) / num(x, "obj_mb"))
  record(run, "w4_kept", b, num(x, "retained_mb"))
  sprintf("%.1f ms/object (rounds %s ms), peak %.2f x above baseline, %.0f MB kept after warm-up",
          num(x, "ms"), x[["times_ms"]], num(x, "peak_x"), num(x, "retained_mb"))
}
W[[5]] <- function(run, b) {
  r <- bench(b, "reqrep", list(S$rr_n, S$rr_warm), S$tmo_pair)
  if (!r$ok) return(fail(sprintf("5 %s", b), r))
  v <- num(r$results[[1]], "us"); record(run, "w5", b, v)
  sprintf("%.1f us/round trip", v)
}
# A second mode measured for this package only, an API that older builds
# lack: its figure `field` recorded as `id` and added to `msg` by `fmt`, or
# "<what>: not in this build" added (attribute "missing" TRUE), or a failure
# reported as `label` and `msg` as it was.
this_also <- function(run, b, msg, mode, args, timeout, field, id, label, what, fmt) {
  r <- bench(b, mode, args, timeout)
  if (r$ok && "unavailable" %in% names(r$results[[1]])) {
    return(structure(paste0(msg, "; ", what, ": not in this build"), missing = TRUE))
  }
  if (!r$ok) {
    fail(sprintf("%s %s", label, b), r)
    return(msg)
  }
  v <- num(r$results[[1]], field); record(run, id, b, v)
  sprintf(fmt, msg, v)
}
W[[6]] <- function(run, b) {
  n <- if (b == "C") S$pp_n_c else S$pp_n
  r <- bench(b, "pushpull", list(n, 64, HWM), S$tmo_pair)
  if (!r$ok) return(fail(sprintf("6 %s", b), r))
  v <- num(r$results[[1]], "msgs_per_s"); record(run, "w6", b, v)
  msg <- sprintf("%.0f msg/s (n=%s)", v, format(n, big.mark = ",", scientific = FALSE))
  if (b == "this") {  # the batch API, once it is in the package
    msg <- this_also(run, b, msg, "pushpull-batch", list(n, 64, HWM), S$tmo_pair,
                     "msgs_per_s", "w6_batch", "6 batch", "batch API", "%s; batch API %.0f msg/s")
    if (isTRUE(attr(msg, "missing"))) no_batch <<- TRUE
  }
  as.vector(msg)
}
no_batch <- FALSE
W[[7]] <- function(run, b) {
  r <- bench(b, "poll", list(S$b7, 10), S$tmo_small)
  if (!r$ok) return(fail(sprintf("7 %s", b), r))
  v <- num(r$results[[1]], "us"); record(run, "w7", b, v)
  msg <- sprintf("%.3f us/poll", v)
  if (b == "this") {  # a poller made once, beside poll.socket()
    msg <- this_also(run, b, msg, "poller", list(S$b7, 10), S$tmo_small,
                     "us", "w7_poller", "7 poller", "poll.poller()", "%s; poll.poller() %.3f us/poll")
  }
  as.vector(msg)
}
# One measurement over tcp and one over tcp with CURVE ("tcp+curve": the
# bound socket is the CURVE server), back to back in the same run, and the
# ratio of the two. Returns the figures for the progress line.
no_curve <- character()  # bindings whose libzmq or package lacks CURVE
curve_cost <- function(run, b, id, mode, args, timeout) {
  v <- c(plain = NA, curve = NA)
  for (k in names(v)) {
    tr <- if (k == "curve") "tcp+curve" else "tcp"
    r <- bench(b, mode, args(tr), timeout)
    if (r$ok && "unavailable" %in% names(r$results[[1]])) {
      no_curve <<- union(no_curve, b)
      next
    }
    if (!r$ok) { fail(sprintf("9 %s %s %s", mode, tr, b), r); next }
    v[[k]] <- num(r$results[[1]], "us")
    record(run, sprintf("%s_%s", id, k), b, v[[k]])
  }
  if (!anyNA(v)) record(run, paste0(id, "_x"), b, v[["curve"]] / v[["plain"]])
  f <- function(x) if (is.na(x)) "-" else format(signif(x, 3))
  sprintf("%s/%s us%s", f(v[["plain"]]), f(v[["curve"]]),
          if (anyNA(v)) "" else sprintf(" (%.2f x)", v[["curve"]] / v[["plain"]]))
}
W[[9]] <- function(run, b) {
  if (B[[b]]$kind == "r" && b != "this") return(NULL)  # pbdZMQ, rzmq 0.9.16: no CURVE
  rr <- curve_cost(run, b, "w9_rr", "reqrep", function(tr) list(S$rr_n, S$rr_warm, tr), S$tmo_pair)
  mb <- curve_cost(run, b, "w9_mb", "pair", function(tr) list(tr, S$b9, S$min9, 1048576), S$tmo_sweep)
  sprintf("plain/CURVE: REQ/REP %s; 1 MB %s", rr, mb)
}
# Workload 8: remote execution. Each binding's master and 1 or 2 worker
# processes; raw C sends frames of the sizes that R's serialized tasks take.
task_small_fun <- function(x) x + 1  # as in zmqbench.R, for the frame sizes
task_mb_fun <- function(x) length(x)
w8_frames <- c(length(serialize(list(fun = task_small_fun, args = list(1)), NULL, xdr = FALSE)),
               length(serialize(2, NULL, xdr = FALSE)),
               length(serialize(list(fun = task_mb_fun, args = list(runif(131072))), NULL, xdr = FALSE)),
               length(serialize(131072L, NULL, xdr = FALSE)))
W[[8]] <- function(run, b) {
  msgs <- character()
  for (nw in 1:2) {
    args <- list(nw, S$w8_small, S$w8_mb, S$w8_warm)
    if (b == "C") args <- c(args, as.list(w8_frames))
    r <- bench(b, "remote", args, S$tmo_pair)
    if (!r$ok) { fail(sprintf("8 %s %d worker(s)", b, nw), r); next }
    for (x in r$results) {
      if (x[["kind"]] == "serialize") {
        if (b == "this") record(run, "w8_ref_ser", b, num(x, "us"))
        next
      }
      record(run, sprintf("w8_%s_%d_tps", x[["kind"]], nw), b, num(x, "tasks_per_s"))
      if (nw == 1) record(run, sprintf("w8_%s_lat", x[["kind"]]), b, num(x, "lat_us"))
      msgs <- c(msgs, sprintf("%s/%d: %.0f tasks/s%s", x[["kind"]], nw, num(x, "tasks_per_s"),
                              if (nw == 1) sprintf(" %.0f us", num(x, "lat_us")) else ""))
    }
  }
  if (b == "C") {  # the reference round trip for the latency target
    r <- bench(b, "reqrep", list(S$rr_n, S$rr_warm), S$tmo_pair)
    if (r$ok) {
      record(run, "w8_ref_rr", b, num(r$results[[1]], "us"))
      msgs <- c(msgs, sprintf("REQ/REP 1 B %.1f us", num(r$results[[1]], "us")))
    } else fail("8 C reqrep", r)
  }
  paste(msgs, collapse = "; ")
}
wname <- c("1: 1 B frame inproc", "2: one double serialized", "3: size sweep inproc+tcp",
           "4: 80 MB object", "5: REQ/REP 2 processes", "6: PUSH/PULL 2 processes",
           "7: poll 10 sockets")
wname[8] <- "8: remote execution"
wname[9] <- "9: CURVE over tcp"
wname[10] <- "10: parallel cluster"
# Workload 10: a parallel cluster of 2 local workers, each system in its own
# child: PSOCK, this package's init.cluster() with secure = FALSE and TRUE,
# mirai's make_cluster() (R_LIBS: the benchmark's mirai library) and future's
# multisession. Run once per run, under this package's column.
W[[10]] <- function(run, b) {
  if (b != "this") return(NULL)
  p <- S$w10
  msgs <- character()
  for (sy in names(w10_systems)) {
    if (sy == "mirai" && is.na(mirai_version)) next
    args <- list("cluster", switch(sy, plain = "rzmq-plain", secure = "rzmq-secure", sy),
                 p$lb, p$par, p$big, p$big_mb, p$export_mb, p$starts)
    lib <- if (sy == "mirai") mirai_lib else lib_this
    r <- run_child(rscript, c(list(file.path(bench_dir, "zmqbench.R"),
                                   if (sy == "mirai") "mirai" else "this"), args), S$tmo_big,
                   env = c(sprintf("R_LIBS=%s", shQuote(lib)), sprintf("BENCH_EXPECT_LIB=%s", shQuote(lib))))
    for (x in r$results) {
      v <- num(x, setdiff(names(x), "kind")[1])
      record(run, sprintf("w10_%s_%s", x[["kind"]], sy), b, v)
    }
    if (!r$ok) { fail(sprintf("10 %s", sy), r); next }
    msgs <- c(msgs, sprintf("%s: %s", sy, paste(vapply(r$results, function(x)
      sprintf("%s %s", x[["kind"]], format(signif(num(x, setdiff(names(x), "kind")[1]), 3))), ""),
      collapse = ", ")))
  }
  paste(msgs, collapse = "; ")
}

# ---- run ---------------------------------------------------------------------------------
for (run in seq_len(runs)) {
  # alternate the order of the bindings from run to run
  order_b <- if (run %% 2 == 1) names(B) else rev(names(B))
  for (w in only) {
    for (b in order_b) {
      if (!is.null(B[[b]]$only) && !(w %in% B[[b]]$only)) next
      t0 <- elapsed()
      msg <- W[[w]](run, b)
      if (is.character(msg))
        say("[run %d/%d %6.0fs] %-26s %-20s %s (%.1f s)", run, runs, elapsed(), wname[w],
            B[[b]]$label, msg, elapsed() - t0)
    }
  }
}

# ---- medians, ratios, targets ----------------------------------------------------------
med <- function(id, b) {
  v <- runs_df$value[runs_df$id == id & runs_df$binding == b]
  if (length(v) && any(!is.na(v))) median(v, na.rm = TRUE) else NA
}
M <- sapply(names(B), function(b) vapply(rows$id, med, 0, b = b))
M <- matrix(M, nrow = nrow(rows), dimnames = list(rows$id, names(B)))
get <- function(id, b) if (b %in% colnames(M)) M[id, b] else NA
ratio_py <- ratio_c <- rep(NA_real_, nrow(rows))
for (i in seq_len(nrow(rows))) {
  id <- rows$id[i]
  ratio_py[i] <- get(id, "this") / get(id, "pyzmq")
  ratio_c[i] <- get(id, "this") / get(id, "C")
}
ratio_py[rows$id %in% c("w4_time", "w4_peak", "w4_peak0", "w4_kept")] <- NA
ratio_c[rows$id %in% c("w4_peak", "w4_peak0", "w4_kept")] <- NA
ratio_py[rows$id %in% c("w9_rr_x", "w9_mb_x")] <- NA
ratio_c[rows$id %in% c("w9_rr_x", "w9_mb_x")] <- NA
# the batch API against the other bindings' one-message-at-a-time figure
ratio_py[rows$id == "w6_batch"] <- get("w6_batch", "this") / get("w6", "pyzmq")
ratio_c[rows$id == "w6_batch"] <- get("w6_batch", "this") / get("w6", "C")
# the poller against the other bindings' one poll row
ratio_py[rows$id == "w7_poller"] <- get("w7_poller", "this") / get("w7", "pyzmq")
ratio_c[rows$id == "w7_poller"] <- get("w7_poller", "this") / get("w7", "C")
no_ratio <- c("w1_floor", "w1_over", "w3_ref_alloc", "w8_ref_rr", "w8_ref_ser", grep("^w10_", rows$id, value = TRUE))
ratio_py[rows$id %in% no_ratio] <- NA
ratio_c[rows$id %in% no_ratio] <- NA

target <- met <- rep("", nrow(rows))
set_target <- function(id, text, ok) {
  i <- match(id, rows$id)
  target[i] <<- text
  met[i] <<- if (is.na(ok)) "?" else if (ok) "yes" else "NO"
}
set_target("w1", "<= pyzmq", get("w1", "this") <= get("w1", "pyzmq"))
set_target("w1_over", "<= 0.6 us", get("w1_over", "this") <= 0.6)
for (tr in c("inproc", "tcp")) for (sz in c(65536, 1048576)) {
  id <- sprintf("w3_%s_%.0f", tr, sz)
  set_target(id, "<= 1.3 x pyzmq", get(id, "this") <= 1.3 * get(id, "pyzmq"))
}
set_target("w2", "<= 4 us", get("w2", "this") <= 4)
set_target("w4_time", "<= 5 x memcpy", get("w4_time", "this") / get("w4_time", "C") <= 5)
set_target("w4_peak", "<= 3 x", get("w4_peak", "this") <= 3)
set_target("w4_peak0", "<= 2 x", get("w4_peak0", "this") <= 2)
set_target("w5", "<= 1.5 x pyzmq", get("w5", "this") <= 1.5 * get("w5", "pyzmq"))
set_target("w6", ">= pyzmq", get("w6", "this") >= get("w6", "pyzmq"))
set_target("w6_batch", ">= pyzmq (its w6 row)", get("w6_batch", "this") >= get("w6", "pyzmq"))
set_target("w7_poller", "<= pyzmq's Poller.poll()", get("w7_poller", "this") <= get("w7", "pyzmq"))
# workload 8: the figure the target compares with, in the target's text
is_x <- function(v) if (is.na(v)) "" else sprintf(" (is %.2f x)", v)
for (id in c("w8_small_1_tps", "w8_small_2_tps")) {
  x <- get(id, "this") / get(id, "mirai")
  set_target(id, paste0(">= 2 x mirai", is_x(x)), x >= 2)
}
ref_rr <- get("w8_ref_rr", "C")
if (is.na(ref_rr)) ref_rr <- get("w5", "C")
x <- get("w8_small_lat", "this") / ref_rr
set_target("w8_small_lat", paste0("<= 1.5 x raw C REQ/REP 1 B", is_x(x)), x <= 1.5)
x <- get("w8_mb_lat", "this") / (get("w8_mb_lat", "C") + get("w8_ref_ser", "this"))
set_target("w8_mb_lat", paste0("<= 1.2 x (raw C 1 MB task + R ser/unser)", is_x(x)), x <= 1.2)
# workload 10 (issue 16): each rzmq row against PSOCK's or mirai's row
w10 <- function(m, sy) get(sprintf("w10_%s_%s", m, sy), "this")
for (sy in c("plain", "secure")) {
  x <- w10("start", sy) / w10("start", "psock")
  set_target(sprintf("w10_start_%s", sy), paste0("<= 1.5 x PSOCK", is_x(x)), x <= 1.5)
  x <- w10("lb", sy) / w10("lb", "psock")
  xm <- w10("lb", sy) / w10("lb", "mirai")
  need <- if (sy == "plain") 1 else 0.9
  set_target(sprintf("w10_lb_%s", sy),
             sprintf(">= %s PSOCK%s, >= 1.5 x mirai%s", if (need == 1) "" else "0.9 x", is_x(x), is_x(xm)),
             x >= need && xm >= 1.5)
  x <- w10("par", sy) / w10("par", "psock")
  set_target(sprintf("w10_par_%s", sy), paste0("<= 1.1 x PSOCK", is_x(x)), x <= 1.1)
  x <- w10("big", sy) / w10("big", "mirai")
  set_target(sprintf("w10_big_%s", sy), paste0("<= mirai", is_x(x)), x <= 1)
  x <- w10("export", sy) / w10("export", "psock")
  set_target(sprintf("w10_export_%s", sy), paste0("<= PSOCK", is_x(x)), x <= 1)
}

fmt <- function(v) {
  if (is.na(v)) return("n/a")
  if (abs(v) >= 1e5) return(formatC(signif(v, 3), format = "d", big.mark = ","))
  if (abs(v) >= 100) return(formatC(round(v), format = "d", big.mark = ","))
  formatC(signif(v, 3), format = "fg", digits = 3, flag = "#") |> sub(pattern = "\\.$", replacement = "")
}
fmt_ratio <- function(v) if (is.na(v)) "" else sprintf("%.2f x", v)
not_applicable <- function(id, b) {
  (b == "C" && id %in% c("w2", "w4_peak", "w4_peak0", "w4_kept")) ||
  (b == "pyzmq" && grepl("^w4", id)) ||
  (b %in% c("pbdZMQ", "old") && grepl("^w9", id)) ||
  (b == "mirai" && !grepl("^w8_(small|mb)_", id)) ||
  (id %in% c("w1_floor", "w1_over", "w3_ref_alloc", "w6_batch", "w7_poller", "w8_ref_ser") && b != "this") ||
  (grepl("^w10_", id) && b != "this") ||
  (id == "w8_ref_rr" && b != "C")
}
cell <- function(id, b) {
  if (not_applicable(id, b)) return("-")
  if (b %in% no_curve && id %in% curve_rows) return("- (e)")
  if (no_batch && id == "w6_batch" && is.na(get(id, b))) return("- (f)")
  v <- get(id, b)
  s <- fmt(v)
  if (!is.na(v) && b == "pyzmq" && id == "w2") s <- paste0(s, " (a)")
  if (!is.na(v) && b == "C" && id == "w4_time") s <- paste0(s, " (b)")
  if (!is.na(v) && b == "old" && id == "w6") s <- paste0(s, " (c)")
  if (!is.na(v) && b %in% c("pyzmq", "C") && grepl("^w8_(small|mb)_", id)) s <- paste0(s, " (g)")
  s
}
tab <- data.frame(workload = paste0(rows$workload, ". ", rows$what), unit = rows$unit,
                  stringsAsFactors = FALSE, check.names = FALSE)
for (b in names(B)) tab[[B[[b]]$label]] <- vapply(rows$id, cell, "", b = b)
tab[["this / pyzmq"]] <- vapply(ratio_py, fmt_ratio, "")
tab[["this / C"]] <- vapply(ratio_c, fmt_ratio, "")
tab[["this / C"]][rows$id == "w4_time"] <- paste(tab[["this / C"]][rows$id == "w4_time"], "memcpy")
tab$target <- target
tab[["met?"]] <- met
keep_rows <- rows$workload %in% only
tab <- tab[keep_rows, , drop = FALSE]

git_desc <- local({
  h <- run_cmd("git", list("-C", root, "rev-parse", "--short", "HEAD"), 30)
  d <- run_cmd("git", list("-C", root, "status", "--porcelain", "--",
                           "DESCRIPTION", "NAMESPACE", "R", "src", "configure"), 30)
  if (is.null(attr(h, "status")) && length(h) == 1)
    paste0("commit ", h, if (is.null(attr(d, "status")) && length(d)) " + uncommitted changes" else "")
  else "not a git checkout"
})
zmq_version <- local({
  v <- run_cmd("pkg-config", list("--modversion", "libzmq"), 30)
  if (is.null(attr(v, "status")) && length(v) == 1) v else "?"
})
floor_v <- med("w1_floor", "this")
notes <- c(
  if (2 %in% only) "(a) pyzmq: send_pyobj/recv_pyobj of a float (pickle), the closest analogue of serialize = TRUE.",
  if (4 %in% only) "(b) raw C, workload 4: one memcpy of 80 MB between two pre-touched buffers (median); 'this / C' is the ratio to it.",
  if ("old" %in% names(B) && 6 %in% only) "(c) rzmq 0.9.16 cannot set a high-water mark on libzmq 4 (set.hwm() stops): it runs with the default 1000.",
  if (9 %in% only) paste0("(d) CURVE cost: time with CURVE / time without, both measured back to back in each run; ",
                          "the median of the per-run ratios (not the ratio of the medians above)",
                          if (any(c("pbdZMQ", "old") %in% names(B))) "; pbdZMQ and rzmq 0.9.16 have no CURVE API: '-'",
                          if (any(!is.na(M["w9_mb_curve", intersect(c("C", "pyzmq"), colnames(M))])))
                            paste0(". 1 MB with CURVE in raw C and pyzmq includes ~700 page faults per message from glibc ",
                                   "handing libzmq's freed CURVE buffers back to the kernel (none in R's process here); see bench/README.md"),
                          "."),
  if (length(no_curve)) sprintf("(e) %s: no CURVE (zmq.has(\"curve\") is FALSE for that binding or its libzmq): CURVE rows left out.",
                                paste(vapply(B[no_curve], `[[`, "", "label"), collapse = ", ")),
  if (no_batch && 6 %in% only) "(f) send.messages()/receive.messages() are not in this build of the package yet: no batch row.",
  if (8 %in% only) paste0("(g) workload 8, pyzmq: a pickled dict {fun, args} with module-level functions (pickled by name), ",
                          "the 1 MB argument an array('d'); raw C: frames of the sizes R's serialized tasks and results take (",
                          paste(w8_frames, collapse = "/"), " bytes). 1 worker: REQ master, REP worker, one task at a time; ",
                          "2 workers: ROUTER master, REQ workers that ask for work",
                          if ("mirai" %in% names(B)) "; mirai: daemons(n) with its dispatcher, tasks/s from mirai_map(), latency from one mirai() and [] at a time",
                          if (!("mirai" %in% names(B))) "; mirai could not be installed: no mirai column, so no '2 x mirai' verdict",
                          ". Ratios in the targets: this package's figure / the reference."),
  if (10 %in% only) paste0("(h) workload 10: 2 local worker processes per system, each system in its own R process; ",
                           "every figure is in this package's column, one row per system; start-up is timed until both workers ",
                           "answered a clusterEvalQ(); future multisession: start-up, future_lapply() (its default chunking, ",
                           "like parLapply) and one future per 10 MB task (future.chunk.size = 1); the targets compare each ",
                           "rzmq row with the PSOCK or mirai row",
                           if (!("mirai" %in% names(B))) "; mirai could not be installed: no mirai rows", "."),
  "Times: lower is better; msg/s and tasks/s: higher is better.",
  if (4 %in% only) "Baseline for peak RSS: RSS after x is made, one warm-up round and gc(); the next row counts from RSS before the first send, so it includes buffers a binding keeps from the warm-up.",
  if (!is.na(floor_v)) sprintf(paste0("R's own floor for workload 1 on this machine: two empty R closures shaped like send.socket()/receive.socket() ",
                                      "cost %s us per pair (median); pyzmq does the whole send+recv in %s us."),
                               fmt(floor_v), fmt(get("w1", "pyzmq"))),
  sprintf("rzmq (this) = %s, installed from %s.", git_desc, root),
  sprintf("Medians of %d run(s) per binding, bindings back to back in one invocation; machine: %s cores, load average %s at the start and %s at the end; %s; libzmq %s.",
          runs, parallel::detectCores(), load_start, loadavg(), R.version.string,
          zmq_version)
)

text_table <- function(df) {
  cols <- names(df)
  w <- pmax(nchar(cols), vapply(df, function(x) max(nchar(x), 0L), 0L))
  line <- function(x) paste(vapply(seq_along(x), function(j)
    if (j <= 2) formatC(x[j], width = -w[j]) else formatC(x[j], width = w[j]), ""), collapse = "  ")
  c(line(cols), paste(strrep("-", sum(w) + 2 * (length(w) - 1))),
    apply(df, 1, function(r) line(unname(r))))
}
md_table <- function(df) {
  esc <- function(x) gsub("|", "\\|", x, fixed = TRUE)
  c(paste0("| ", paste(esc(names(df)), collapse = " | "), " |"),
    paste0("|", paste(c(":---", ":---", rep("---:", ncol(df) - 4), ":---", ":---:"), collapse = "|"), "|"),
    apply(df, 1, function(r) paste0("| ", paste(esc(unname(r)), collapse = " | "), " |")))
}

txt <- text_table(tab)
cat("\n", sep = "")
cat(txt, sep = "\n")
cat("\n")
cat(notes, sep = "\n")
if (length(failures)) {
  cat("\nFailures (their cells are n/a or medians of fewer runs):\n")
  cat(paste0("  ", unique(failures)), sep = "\n")
}
writeLines(c(txt, "", notes), file.path(out_dir, "table.txt"))
writeLines(c(md_table(tab), "", notes), file.path(out_dir, "table.md"))

# results.csv: one line per row and binding (medians); runs.csv: every run
res <- do.call(rbind, lapply(names(B), function(b) {
  do.call(rbind, lapply(which(keep_rows), function(i) {
    v <- runs_df$value[runs_df$id == rows$id[i] & runs_df$binding == b]
    data.frame(row = rows$id[i], workload = rows$workload[i], what = rows$what[i], unit = rows$unit[i],
               binding = b, label = B[[b]]$label, median = M[rows$id[i], b],
               min = if (length(v)) min(v) else NA, max = if (length(v)) max(v) else NA,
               runs = length(v), target = if (b == "this") target[i] else "",
               met = if (b == "this") met[i] else "", stringsAsFactors = FALSE)
  }))
}))
res <- res[!is.na(res$median) | res$binding == "this", ]
write.csv(res, file.path(out_dir, "results.csv"), row.names = FALSE)
write.csv(runs_df, file.path(out_dir, "runs.csv"), row.names = FALSE)

# ---- the plot: cost per message against message size (bench/plot.R) ---------------
if (3 %in% only) {
  source(file.path(bench_dir, "plot.R"), local = TRUE)
  plot_cost_per_message(M, vapply(B, `[[`, "", "label"), sizes,
                        file.path(out_dir, "cost-per-message.png"))
}

say("\nOutputs: %s", paste(file.path(out_dir, c("table.txt", "table.md", "results.csv", "runs.csv",
                                                  if (3 %in% only) "cost-per-message.png")), collapse = ", "))
say("Total time: %.0f s", elapsed())
