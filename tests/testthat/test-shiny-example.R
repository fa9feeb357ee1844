# The Shiny example (inst/examples/shiny-feed/app.R), run for real: the app
# in a child R process, a child R process publishing known values, and
# headless Chromium reading the page as it updates (scripts/browser-eval.py
# drives it over the DevTools protocol). Every process has a deadline and is
# killed at the end.

# Wait up to `timeout` seconds for a line matching `pattern` on the stderr or
# stdout of callr process `proc`; the first match, or NULL.
wait_for_line <- function(proc, pattern, timeout = 60) {
  deadline <- Sys.time() + timeout
  seen <- character()
  while (Sys.time() < deadline) {
    proc$poll_io(200)
    seen <- c(seen, proc$read_error_lines(), proc$read_output_lines())
    hit <- grep(pattern, seen, value = TRUE)
    if (length(hit)) return(regmatches(hit[1], regexpr(pattern, hit[1])))
    if (!proc$is_alive()) break
  }
  NULL
}

test_that("the Shiny feed shows the published values live in a browser", {
  skip_on_cran()
  skip_if_not_installed("shiny")
  skip_if_not_installed("later", "1.4.0")
  skip_if_not_installed("callr")
  skip_if_not_installed("processx")
  browser <- Sys.which("chromium")
  skip_if(!nzchar(browser), "chromium is not installed")
  python <- Sys.which("python3")
  skip_if(!nzchar(python), "python3 is not installed")
  app_dir <- system.file("examples", "shiny-feed", package = "rzmq")
  expect_true(file.exists(file.path(app_dir, "app.R")))

  values <- round(100 * sin(1:40), 2)
  ctl <- control_socket()

  # The publisher: an XPUB socket, which sees the app's subscription arrive,
  # so that nothing is published before anyone listens; then the values, one
  # every 50 ms, so that the page updates while they come.
  publisher <- child_r(function(control, values) {
    library(rzmq)
    ctx <- init.context()
    pub <- init.socket(ctx, "ZMQ_XPUB")
    ctl <- init.socket(ctx, "ZMQ_PAIR")
    set.send.timeout(ctl, 10000L)
    set.rcv.timeout(ctl, 120000L)
    connect.socket(ctl, control)
    bind.socket(pub, "tcp://127.0.0.1:*")
    send.socket(ctl, get.last.endpoint(pub))
    set.rcv.timeout(pub, 90000L)
    sub <- receive.socket(pub, unserialize = FALSE)
    stopifnot(length(sub) >= 1L, sub[1] == as.raw(1))
    for (v in values) {
      send.socket(pub, v)
      Sys.sleep(0.05)
    }
    send.socket(ctl, "sent")
    receive.socket(ctl) # "bye"
    destroy.context(ctx)
  }, args = list(control = ctl$endpoint, values = values))
  on.exit(publisher$kill_tree(), add = TRUE)
  endpoint <- recv_within(ctl$socket, 30, publisher)
  expect_match(endpoint, "^tcp://127\\.0\\.0\\.1:[0-9]+$")

  # The app, on a port httpuv picks; it says which.
  app <- child_r(function(app_dir, endpoint) {
    Sys.setenv(RZMQ_FEED_ENDPOINT = endpoint)
    shiny::runApp(app_dir, host = "127.0.0.1", launch.browser = FALSE)
  }, args = list(app_dir = app_dir, endpoint = endpoint))
  on.exit(app$kill_tree(), add = TRUE)
  url <- wait_for_line(app, "http://127\\.0\\.0\\.1:[0-9]+", 60)
  if (is.null(url)) fail(paste("the app did not start", child_stderr(app)))
  expect_false(is.null(url))

  # The browser: wait until the page has counted every value, then read it.
  n <- length(values)
  until <- sprintf("document.getElementById('count').textContent === '%d messages received'", n)
  expr <- paste0("[document.getElementById('latest').textContent,",
                 " document.getElementById('count').textContent,",
                 " document.getElementById('feed-chart').getAttribute('data-values'),",
                 " document.querySelector('#feed-chart polyline').getAttribute('points')].join('\\n')")
  res <- processx::run(python, c(script_path("browser-eval.py"), browser, url, until, expr, "60"),
                       error_on_status = FALSE, timeout = 90, cleanup_tree = TRUE,
                       env = c("current", R_TESTS = ""))
  expect_identical(res$status, 0L, info = paste(res$stdout, res$stderr, child_stderr(app)))
  page <- strsplit(res$stdout, "\n", fixed = TRUE)[[1]]
  expect_identical(page[1], format(values[n]))
  expect_identical(page[2], sprintf("%d messages received", n))
  expect_identical(page[3], paste(values, collapse = " "))
  expect_length(strsplit(page[4], " ", fixed = TRUE)[[1]], n)

  expect_identical(recv_within(ctl$socket, 30, publisher), "sent")
  send.socket(ctl$socket, "bye")
  child_wait(publisher)
  expect_identical(publisher$get_exit_status(), 0L)
  app$kill_tree()
  app$wait(5000)
  expect_false(app$is_alive())
})
