# run.worker(): the worker loop every launcher starts. Its work with a
# master is tested in test-cluster.R; here, its configuration and what it
# does without a master.

test_that("the worker configuration is parsed, and bad ones are refused", {
  line <- paste("rzmq-worker 1 endpoint=tcp://127.0.0.1:5555 id=3",
                "token=00112233445566778899aabbccddeeff heartbeat=2.5",
                "timeout=60 server=- public=- secret=-")
  cfg <- rzmq:::parse_worker_config(line)
  expect_identical(cfg$endpoint, "tcp://127.0.0.1:5555")
  expect_identical(cfg$id, 3L)
  expect_identical(cfg$heartbeat, 2.5)
  expect_false(cfg$secure)
  keys <- curve.keypair()
  secure <- sub("secret=-", paste0("secret=", keys$secret), line)
  expect_true(rzmq:::parse_worker_config(secure)$secure)
  expect_error(rzmq:::parse_worker_config(character()), "no line read")
  expect_error(rzmq:::parse_worker_config("hello"), "no header")
  expect_error(rzmq:::parse_worker_config(sub(" 1 ", " 2 ", line)), "version 2")
  expect_error(rzmq:::parse_worker_config(sub("id=3", "id3", line)), "not name=value")
  expect_error(rzmq:::parse_worker_config(sub(" timeout=60", "", line)), "missing timeout")
  expect_error(rzmq:::parse_worker_config(sub("id=3", "id=x", line)), "must be numbers")
})

test_that("bad arguments to run.worker() are R errors naming the argument", {
  expect_error(run.worker(config = 1), "`config` must be NULL or a file name")
  expect_error(run.worker(config = NA_character_), "`config` must be NULL or a file name")
  expect_error(run.worker(other = 1), "takes only `endpoint` and `config`")
  f <- tempfile()
  writeLines("rzmq-worker 1 endpoint=tcp://127.0.0.1:1 id=1", f)
  expect_error(run.worker(endpoint = 1, config = f), "`endpoint` must be NULL or an endpoint")
})

test_that("a worker reads and deletes its config file, and gives up on a master that is not there", {
  skip_on_cran()
  f <- tempfile("worker-config-")
  writeLines(paste("rzmq-worker 1", paste0("endpoint=", dead_endpoint()),
                   "id=1 token=00112233445566778899aabbccddeeff heartbeat=1",
                   "timeout=0.5 server=- public=- secret=-"), f)
  Sys.chmod(f, "0600")
  res <- in_child(function(f) {
    t0 <- proc.time()[["elapsed"]]
    rzmq::run.worker(config = f)
    list(elapsed = proc.time()[["elapsed"]] - t0, exists = file.exists(f))
  }, args = list(f = f), timeout = 30)
  expect_false(res$exists)
  expect_false(file.exists(f))
  expect_gte(res$elapsed, 0.4)
  expect_lt(res$elapsed, 10)
})
