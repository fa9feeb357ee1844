# The reference manual's patterns, run across R processes over
# tcp://127.0.0.1: remote execution, PUB/SUB, a PUSH/PULL worker pool,
# ROUTER/DEALER envelopes, reusable message objects and a 200 MB transfer.
# Every child has a deadline (child_wait) and every receive in the parent a
# poll timeout (recv_within), so a regression fails instead of hanging; the
# child helpers are in helper-child.R. The 200 MB transfer is skipped on CRAN.

# Run `expr` with the random seed `seed`, leaving the session's RNG as it was.
with_seed <- function(seed, expr) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv())
          else assign(".Random.seed", old, globalenv()))
  set.seed(seed)
  expr
}

# Functions sent to another process carry their environment; give them the
# global one so that the test's own frame (sockets, processes) stays here.
in_global <- function(f) {
  environment(f) <- globalenv()
  f
}

test_that("remote execution: the manual's server and client in two R processes", {
  ctx <- init.context()
  out.socket <- init.socket(ctx, "ZMQ_PUSH")
  in.socket <- init.socket(ctx, "ZMQ_PULL")
  set.send.timeout(out.socket, 10000L)
  tasks <- bind_tcp(out.socket)
  results <- bind_tcp(in.socket)

  # The manual's server loop; an error inside the call comes back as the
  # try-error, so one bad request does not kill the server.
  server <- child_r(function(tasks, results) {
    library(rzmq)
    context <- init.context()
    in.socket <- init.socket(context, "ZMQ_PULL")
    out.socket <- init.socket(context, "ZMQ_PUSH")
    set.rcv.timeout(in.socket, 20000L)
    connect.socket(in.socket, tasks)
    connect.socket(out.socket, results)
    served <- 0L
    repeat {
      msg <- receive.socket(in.socket)
      if (is.null(msg)) stop("server: no request within 20 s")
      if (is.null(msg$fun)) break
      ans <- try(do.call(msg$fun, msg$args), silent = TRUE)
      send.socket(out.socket, ans)
      served <- served + 1L
    }
    served
  }, args = list(tasks = tasks, results = results))

  remote.exec <- function(fun, ...) {
    stopifnot(isTRUE(send.socket(out.socket,
                                 data = list(fun = fun, args = list(...)))))
    recv_within(in.socket, 15, server)
  }

  myfun <- in_global(function(x) sum(abs(x)))
  x <- rnorm(1e3)
  expect_equal(remote.exec(myfun, x), sum(abs(x)))
  expect_identical(remote.exec(paste, "a", "b", sep = "-"), "a-b")

  # it really ran in the other process
  expect_identical(remote.exec(Sys.getpid), server$get_pid())

  # a closure's environment travels with it
  make_adder <- in_global(function(k) function(x) x + k)
  expect_identical(remote.exec(make_adder(10L), 1:3), 11:13)

  # errors inside the call come back as try-errors
  boom <- in_global(function() stop("boom in the server"))
  res <- remote.exec(boom)
  expect_s3_class(res, "try-error")
  expect_match(conditionMessage(attr(res, "condition")), "boom in the server")
  res <- remote.exec(log, "a")
  expect_s3_class(res, "try-error")
  expect_match(conditionMessage(attr(res, "condition")),
               "non-numeric argument to mathematical function")

  # and the server goes on serving
  expect_identical(remote.exec(sum, 1:10), 55L)

  send.socket(out.socket, list(fun = NULL))
  child_wait(server, 15)
  expect_identical(server$get_result(), 7L)
})

test_that("PUB/SUB: a subscriber gets exactly the messages its prefix matches, in order", {
  ctx <- init.context()
  pub <- init.socket(ctx, "ZMQ_PUB")
  acks <- init.socket(ctx, "ZMQ_PULL")
  feed_endpoint <- bind_tcp(pub)
  ack_endpoint <- bind_tcp(acks)

  subscriber <- child_r(function(feed, acks) {
    library(rzmq)
    ctx <- init.context()
    sub <- init.socket(ctx, "ZMQ_SUB")
    ack <- init.socket(ctx, "ZMQ_PUSH")
    set.rcv.timeout(sub, 20000L)
    subscribe(sub, "weather.")
    connect.socket(sub, feed)
    connect.socket(ack, acks)
    got <- list()
    acked <- FALSE
    repeat {
      parts <- receive.multipart(sub)
      if (is.null(parts)) stop("subscriber: nothing within 20 s")
      topic <- rawToChar(parts[[1]])
      if (topic == "weather.hello") {
        # the subscription has reached the publisher: say so, once
        if (!acked) send.socket(ack, "subscribed")
        acked <- TRUE
        next
      }
      if (topic == "weather.end") break
      got[[length(got) + 1L]] <- list(
        topic = topic,
        payload = if (length(parts) > 1L) unserialize(parts[[2]]),
        nparts = length(parts)
      )
    }
    got
  }, args = list(feed = feed_endpoint, acks = ack_endpoint))

  # Slow joiner: a PUB drops whatever it sends before the subscription
  # arrives, so repeat a hello until the subscriber acknowledges one.
  acked <- FALSE
  for (i in 1:150) {
    send.multipart(pub, list(charToRaw("weather.hello"), raw(0)))
    if (acked <- readable(acks, 0.1)) break
  }
  expect_true(acked, label = paste0("subscriber acked", child_stderr(subscriber)))
  expect_identical(receive.socket(acks), "subscribed")

  # Strings go out as single raw frames; lists as topic frame + payload.
  feed <- list(
    list("weather.x", list(city = "Oslo", temp = -3.5)),
    list("sports.y", list(score = "2-1")),
    "weather.raw.1",
    "sports.raw.2",
    list("weatherman", "no dot: not a match"),
    list("Weather.z", "case matters"),
    list("news.weather.z", "prefix only"),
    list("weather.", "the bare prefix matches"),
    "weather.raw.3",
    list("weather.y", 1:5),
    list("sports.z", NULL)
  )
  for (item in feed) {
    if (is.character(item)) {
      ok <- send.socket(pub, charToRaw(item), serialize = FALSE)
    } else {
      ok <- send.multipart(pub, list(charToRaw(item[[1]]),
                                     serialize(item[[2]], NULL)))
    }
    expect_true(ok)
  }
  send.multipart(pub, list(charToRaw("weather.end"), raw(0)))

  child_wait(subscriber, 15)
  got <- subscriber$get_result()

  expected <- list()
  for (item in feed) {
    topic <- if (is.character(item)) item else item[[1]]
    if (!startsWith(topic, "weather.")) next
    expected[[length(expected) + 1L]] <- list(
      topic = topic,
      payload = if (!is.character(item)) item[[2]],
      nparts = if (is.character(item)) 1L else 2L
    )
  }
  expect_length(expected, 5L)
  expect_identical(got, expected)
})

test_that("PUSH/PULL: a ventilator, three worker processes and a sink", {
  ctx <- init.context()
  vent <- init.socket(ctx, "ZMQ_PUSH")
  sink <- init.socket(ctx, "ZMQ_PULL")
  set.send.timeout(vent, 10000L)
  task_endpoint <- bind_tcp(vent)
  result_endpoint <- bind_tcp(sink)

  worker <- function(tasks, results) {
    library(rzmq)
    ctx <- init.context()
    work <- init.socket(ctx, "ZMQ_PULL")
    sink <- init.socket(ctx, "ZMQ_PUSH")
    set.rcv.timeout(work, 20000L)
    connect.socket(work, tasks)
    connect.socket(sink, results)
    send.socket(sink, list(type = "ready", pid = Sys.getpid()))
    done <- 0L
    repeat {
      task <- receive.socket(work)
      if (is.null(task)) stop("worker: no task within 20 s")
      if (identical(task$type, "stop")) break
      value <- do.call(task$fun, task$args)
      send.socket(sink, list(type = "result", id = task$id, value = value,
                             pid = Sys.getpid()))
      done <- done + 1L
    }
    done
  }
  workers <- lapply(1:3, function(i) {
    child_r(worker, args = list(tasks = task_endpoint,
                                results = result_endpoint))
  })
  worker_pids <- vapply(workers, function(p) p$get_pid(), integer(1))

  # A PUSH deals only to peers already connected: wait for all three.
  ready <- integer(0)
  for (i in 1:3) {
    msg <- recv_within(sink, 20, workers[[1]])
    expect_identical(msg$type, "ready")
    ready <- c(ready, msg$pid)
  }
  expect_setequal(ready, worker_pids)

  f <- in_global(function(n) sum(as.numeric(seq_len(n))^2))
  n_tasks <- 30L
  for (id in seq_len(n_tasks)) {
    expect_true(send.socket(vent, list(type = "task", id = id, fun = f,
                                       args = list(n = id * 1000L))))
  }
  ids <- integer(0)
  by <- integer(0)
  values <- numeric(0)
  for (k in seq_len(n_tasks)) {
    msg <- recv_within(sink, 15, workers[[1]])
    expect_identical(msg$type, "result")
    ids <- c(ids, msg$id)
    by <- c(by, msg$pid)
    values <- c(values, msg$value)
  }
  expect_false(readable(sink, 0.1)) # nothing more: each task came back once

  expect_identical(sort(ids), seq_len(n_tasks))
  n <- ids * 1000
  expect_equal(values, n * (n + 1) * (2 * n + 1) / 6)
  expect_true(all(by %in% worker_pids))
  expect_gt(length(unique(by)), 1L)

  for (i in 1:3) send.socket(vent, list(type = "stop"))
  done <- vapply(workers, function(p) {
    child_wait(p, 15)
    p$get_result()
  }, integer(1))
  expect_identical(sum(done), n_tasks)
  expect_identical(unname(done), as.vector(table(factor(by, worker_pids))))
})

test_that("ROUTER/DEALER: identities and an empty delimiter frame route replies", {
  ctx <- init.context()
  router <- init.socket(ctx, "ZMQ_ROUTER")
  endpoint <- bind_tcp(router)

  dealer <- function(endpoint, name, n) {
    library(rzmq)
    ctx <- init.context()
    d <- init.socket(ctx, "ZMQ_DEALER")
    set.identity(d, name)
    set.rcv.timeout(d, 20000L)
    connect.socket(d, endpoint)
    replies <- vector("list", n)
    for (i in seq_len(n)) {
      send.multipart(d, list(raw(0), serialize(list(from = name, i = i), NULL)))
      parts <- receive.multipart(d)
      if (is.null(parts)) stop("dealer: no reply within 20 s")
      replies[[i]] <- list(nparts = length(parts), delimiter = parts[[1]],
                           body = unserialize(parts[[2]]))
    }
    replies
  }
  n <- 3L
  names <- c("dealer-A", "dealer-B")
  dealers <- lapply(names, function(nm) {
    child_r(dealer, args = list(endpoint = endpoint, name = nm, n = n))
  })

  seen <- character(0)
  for (k in seq_len(2L * n)) {
    parts <- recv_multipart_within(router, 15, dealers[[1]])
    expect_length(parts, 3L)
    expect_identical(parts[[2]], raw(0))
    id <- rawToChar(parts[[1]])
    req <- unserialize(parts[[3]])
    expect_identical(req$from, id)
    seen <- c(seen, id)
    expect_true(send.multipart(router, list(
      parts[[1]], raw(0),
      serialize(list(to = id, i = req$i, answer = req$i * 10L), NULL)
    )))
  }
  expect_identical(sort(seen), rep(names, each = n))

  for (j in seq_along(names)) {
    child_wait(dealers[[j]], 15)
    replies <- dealers[[j]]$get_result()
    expected <- lapply(seq_len(n), function(i) {
      list(nparts = 2L, delimiter = raw(0),
           body = list(to = names[j], i = i, answer = i * 10L))
    })
    expect_identical(replies, expected)
  }
})

test_that("init.message: one 10 MB message object sent 20 times arrives intact each time", {
  ctx <- init.context()
  push <- init.socket(ctx, "ZMQ_PUSH")
  set.send.timeout(push, 10000L)
  endpoint <- bind_tcp(push)

  # the same object is rebuilt from the seed in the child
  seed <- 20240501L
  x <- with_seed(seed, runif(1.25e6))
  expect_gt(as.numeric(object.size(x)), 10e6)
  msg <- init.message(x)
  expect_identical(typeof(msg), "externalptr")

  child <- child_r(function(endpoint, seed, n) {
    library(rzmq)
    ctx <- init.context()
    pull <- init.socket(ctx, "ZMQ_PULL")
    set.rcv.timeout(pull, 20000L)
    connect.socket(pull, endpoint)
    set.seed(seed)
    expected <- runif(1.25e6)
    same <- logical(n)
    for (i in seq_len(n)) {
      got <- receive.socket(pull)
      if (is.null(got)) stop("no copy ", i, " within 20 s")
      same[i] <- identical(got, expected)
    }
    list(same = same, length = length(got), sum = sum(got))
  }, args = list(endpoint = endpoint, seed = seed, n = 20L))

  for (i in 1:20) expect_true(send.message.object(push, msg))
  child_wait(child, 30)
  res <- child$get_result()
  expect_identical(res$same, rep(TRUE, 20))
  expect_identical(res$length, length(x))
  expect_identical(res$sum, sum(x))
})

test_that("a 200 MB object goes from one R process to another intact", {
  skip_on_cran()
  ctx <- init.context()
  pull <- init.socket(ctx, "ZMQ_PULL")
  endpoint <- bind_tcp(pull)

  child <- child_r(function(endpoint) {
    library(rzmq)
    set.seed(99)
    x <- runif(25e6)
    idx <- sort(sample.int(length(x), 1000))
    check <- list(length = length(x), sum = sum(x),
                  weighted = sum(x * seq_along(x)), idx = idx, at = x[idx],
                  first = x[1], last = x[length(x)])
    ctx <- init.context()
    push <- init.socket(ctx, "ZMQ_PUSH")
    set.send.timeout(push, 20000L)
    connect.socket(push, endpoint)
    if (!isTRUE(send.socket(push, x))) stop("cannot send the object")
    if (!isTRUE(send.socket(push, check))) stop("cannot send the check")
    destroy.context(ctx) # waits (linger -1) until both are delivered
    TRUE
  }, args = list(endpoint = endpoint))

  y <- recv_within(pull, 60, child)
  check <- recv_within(pull, 20, child)
  child_wait(child, 30)
  expect_true(child$get_result())

  expect_type(y, "double")
  expect_identical(length(y), 25000000L)
  expect_identical(length(y), check$length)
  expect_identical(sum(y), check$sum)
  expect_identical(sum(y * seq_along(y)), check$weighted)
  expect_identical(y[check$idx], check$at)
  expect_identical(y[1], check$first)
  expect_identical(y[length(y)], check$last)
})
