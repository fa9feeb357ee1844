# One argument contract for R and C: the flags, numbers and strings that R
# code checks itself (R/args.R) are accepted and refused as args.c accepts
# and refuses them, with the same messages.

# Whether `expr` fails with an error matching `pattern` (another error, or
# none, is an acceptance of the argument).
refuses <- function(expr, pattern, fixed = TRUE) {
  err <- tryCatch({
    suppressMessages(expr)
    NULL
  }, error = function(e) conditionMessage(e))
  !is.null(err) && grepl(pattern, err, fixed = fixed)
}

candidates <- list(TRUE, FALSE, 1, 0, 1L, 0L, 2.5, -1, Inf, NA, NA_integer_, NA_real_,
                   NaN, "TRUE", "", "x", NA_character_, c(TRUE, FALSE), c(1, 0),
                   logical(), numeric(), NULL, list(TRUE), factor("a"))
label_of <- function(v) paste(deparse(v), collapse = "")

test_that("a flag is TRUE/FALSE or a single number (1/0) in R as in C, refused alike otherwise", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_PULL")
  set.rcv.timeout(s, 10L) # nothing comes: dont.wait = FALSE must not hang
  for (v in candidates) {
    in_c <- refuses(receive.socket(s, dont.wait = v), "`dont.wait` must be TRUE or FALSE")
    in_r <- refuses(rzmq:::arg_flag(v, "dont.wait"), "`dont.wait` must be TRUE or FALSE")
    exported <- refuses(launch.ssh(tunnel = v), "`tunnel` must be TRUE or FALSE")
    expect_identical(in_r, in_c, label = label_of(v))
    expect_identical(exported, in_c, label = label_of(v))
  }
  # both spellings, and what they mean
  expect_true(rzmq:::arg_flag(1, "x"))
  expect_false(rzmq:::arg_flag(0L, "x"))
  expect_true(rzmq:::arg_flag(-2.5, "x"))
  expect_identical(rzmq:::arg_flag(c(a = TRUE), "x"), TRUE)
  expect_false(refuses(launch.ssh(tunnel = 1), "tunnel"))
  expect_false(refuses(launch.ssh(tunnel = 0), "tunnel"))
  # the R checks of flags say what C says
  expect_error(rzmq:::arg_flag("yes", "multipart"), "`multipart` must be TRUE or FALSE", fixed = TRUE)
  expect_error(init.cluster(2, secure = 2:3), "`secure` must be TRUE or FALSE", fixed = TRUE)
  expect_error(worker.command(list()), "`cl` must be a cluster")
})

test_that("a number is a single integer, double or logical that is not NA, in R as in C", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  s <- init.socket(ctx, "ZMQ_PULL")
  for (v in candidates) {
    # rzmq_arg_number's two messages (a whole number in range is options.c's)
    in_c <- refuses(set.sockopt(s, "LINGER", v), "^`value` must (be a single number|not be NA)$",
                    fixed = FALSE)
    expect_identical(!rzmq:::is_number(v), in_c, label = label_of(v))
  }
  # as in C, the type decides: TRUE is 1, a factor its integer code
  expect_identical(rzmq:::as_number(TRUE), 1)
  expect_identical(rzmq:::as_number(factor("b", levels = c("a", "b"))), 2)
  expect_identical(rzmq:::as_number("1"), NA_real_)
  expect_true(rzmq:::arg_flag(factor("a"), "x"))
  expect_identical(rzmq:::check_seconds(2L, "heartbeat"), 2)
  # what R then asks of a number of seconds is its own, said in its words
  expect_error(init.cluster(2, heartbeat = -1), "`heartbeat` must be a positive number")
  expect_error(init.cluster(2, timeout = "1"), "`timeout` must be a positive number")
})

test_that("a string is a single non-NA string (not empty where C says so), in R as in C", {
  ctx <- init.context()
  on.exit(destroy.context(ctx, linger = 0))
  for (v in candidates) {
    in_c <- refuses(init.socket(ctx, v), "`socket.type` must")
    expect_identical(!rzmq:::is_string(v), in_c, label = label_of(v))
  }
  expect_true(rzmq:::is_string("", allow_empty = TRUE))
  expect_false(rzmq:::is_string(NA_character_, allow_empty = TRUE))
  expect_error(launch.ssh(ssh = ""), "'ssh' must be a single non-empty string", fixed = TRUE)
  expect_error(launch.local(outfile = NA_character_), "`outfile` must be")
  expect_error(run.worker(endpoint = ""), "`endpoint` must be NULL or an endpoint")
})
