# The test run's watchdog: a hung test fails the run and says which test it
# was, instead of the run hanging until CI's deadline cuts it off unnamed.
#
# tests/testthat.R adds watchdog_reporter() beside R CMD check's own
# reporter. At each test's start it
#   - writes "<file>: <test>" to a heartbeat file, and
#   - sets an elapsed-time limit of `limit` seconds: a test blocked in a wait
#     that checks for interrupts (every rzmq wait does, in 200 ms slices)
#     stops with "reached elapsed time limit", is reported as an error under
#     its own name, and the run goes on.
# A separate watchdog process watches the heartbeat. If it has not changed
# for `limit + grace` seconds (a wait that cannot be interrupted, or R's exit
# after the last test), it prints the heartbeat to stderr (so to
# testthat.Rout), interrupts R, and kills it `grace` seconds later. It ends by
# itself once R has ended. (Not on Windows: see start_watchdog.)
# RZMQ_TEST_DEADLINE (seconds, default 300) changes `limit`; the longest test
# takes about 10 s.

watchdog_reporter <- function(limit = as.numeric(Sys.getenv("RZMQ_TEST_DEADLINE", "300")),
                              grace = 60) {
  heartbeat <- tempfile("rzmq-heartbeat-")
  beat <- function(what) {
    tmp <- paste0(heartbeat, ".new")
    writeLines(what, tmp)
    file.rename(tmp, heartbeat)
  }
  start_watchdog <- function() {
    # tools::pskill() cannot ask whether a process lives on Windows (any
    # signal terminates it there): the elapsed limit alone guards it
    if (.Platform$OS.type == "windows") return(invisible())
    code <- sprintf(
      paste(
        "hb <- %s; parent <- %d; limit <- %g; grace <- %g",
        "alive <- function() isTRUE(tools::pskill(parent, 0L))",
        "repeat {",
        "  Sys.sleep(1)",
        "  if (!alive()) quit(save = 'no')",
        "  age <- as.numeric(Sys.time()) - as.numeric(file.mtime(hb))",
        "  if (!is.na(age) && age > limit + grace) {",
        "    message(sprintf('\\nwatchdog: no progress for %%.0f s, still in: %%s', age,",
        "                    paste(readLines(hb, warn = FALSE), collapse = ' ')))",
        "    message('watchdog: interrupting the test run, killing it in ', grace, ' s')",
        "    tools::pskill(parent, tools::SIGINT)",
        "    Sys.sleep(grace)",
        "    if (alive()) tools::pskill(parent, tools::SIGKILL)",
        "    quit(save = 'no')",
        "  }",
        "}", sep = "\n"),
      deparse(heartbeat), Sys.getpid(), limit, grace)
    script <- tempfile("rzmq-watchdog-", fileext = ".R")
    writeLines(code, script)
    rscript <- file.path(R.home("bin"), "Rscript")
    system2(rscript, c("--vanilla", shQuote(script)), stdout = "", stderr = "",
            wait = FALSE)
  }
  R6::R6Class("WatchdogReporter", inherit = testthat::Reporter,
    public = list(
      file = "",
      start_reporter = function() {
        beat("before the first test")
        start_watchdog()
      },
      start_file = function(file) {
        self$file <- file
        beat(paste0(file, ": outside any test"))
      },
      start_test = function(context, test) {
        beat(paste0(self$file, ": ", test))
        setTimeLimit(elapsed = limit)
      },
      end_test = function(context, test) {
        setTimeLimit(elapsed = Inf)
        beat(paste0(self$file, ": after ", test))
      },
      end_reporter = function() {
        setTimeLimit(elapsed = Inf)
        beat("after the last test (R's exit)")
      }
    )
  )$new()
}
