library(testthat)
library(rzmq)

# R CMD check's reporter, and the watchdog (watchdog.R): a test that hangs
# fails under its own name instead of hanging the check.
source("watchdog.R")
test_check("rzmq", reporter = MultiReporter$new(list(CheckReporter$new(), watchdog_reporter())))
