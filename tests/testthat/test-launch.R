# The launchers for other machines (launch.ssh, launch.command, launch.slurm)
# without any daemon: the commands they build, what reaches the started
# process (argv, stdin, the 0600 file), cleanup, and bad arguments. ssh,
# sbatch, squeue and scancel are stand-in scripts that record what they get;
# tests/daemons/ runs the launchers against a real sshd and SLURM.

skip_on_os("windows")

rscript <- file.path(R.home("bin"), "Rscript")
secret <- "rzmq-worker 1 endpoint=tcp://127.0.0.1:5555 secret=SECRET-Zz9!xq"

# Poll `cond()` every 50 ms until TRUE; fail after `timeout` seconds.
wait_until <- function(cond, timeout = 20, what = "condition") {
  deadline <- Sys.time() + timeout
  while (!isTRUE(cond())) {
    if (Sys.time() > deadline) stop("timed out waiting for ", what, call. = FALSE)
    Sys.sleep(0.05)
  }
  invisible(TRUE)
}

# A launch directory for one test: use_launch_dir() sets it, restore() puts
# the option back and removes it.
use_launch_dir <- function() {
  dir <- tempfile("launch-")
  old <- options(rzmq.launch.dir = dir)
  list(dir = dir, restore = function() {
    options(old)
    unlink(dir, recursive = TRUE)
  })
}

# A stand-in for init.cluster()'s spec: the "worker" is an R expression that
# writes what it got (stdin's first line, or the config file's content, mode
# and its directory's mode) to `out`.
fake_spec <- function(out, index = 1L, host = NA_character_) {
  list(
    index = index, host = host, config = secret,
    endpoint = "tcp://127.0.0.1:5555",
    config_for = function(endpoint) sub("endpoint=[^ ]+", paste0("endpoint=", endpoint), secret),
    expr = function(config_file = NULL) {
      if (is.null(config_file)) {
        sprintf('writeLines(readLines(file("stdin"), n = 1L), %s)', deparse(out))
      } else {
        sprintf(paste0('f <- %s; x <- c(readLines(f), format(file.info(f)$mode), ',
                       'format(file.info(dirname(f))$mode)); unlink(f); writeLines(x, %s)'),
                deparse(config_file), deparse(out))
      }
    })
}

# A stand-in for ssh: records its arguments and the first line of its stdin
# (the rest stays open while the worker may live), then exits.
fake_ssh <- function(bin, rec) {
  fake_program(bin, "ssh", c(
    sprintf("printf '%%s\\n' \"$@\" > %s/argv", rec),
    sprintf("IFS= read -r line; printf '%%s\\n' \"$line\" > %s/stdin.tmp", rec),
    sprintf("mv %s/stdin.tmp %s/stdin", rec, rec)))
}

# An executable sh script in `dir` named `name` with `body`.
fake_program <- function(dir, name, body) {
  path <- file.path(dir, name)
  writeLines(c("#!/bin/sh", body), path)
  Sys.chmod(path, "0755")
  path
}

test_that("bad arguments are errors that name the argument", {
  expect_error(launch.ssh(user = 1), "'user'")
  expect_error(launch.ssh(user = "-oProxyCommand=x"), "'user'")
  expect_error(launch.ssh(rscript = NA_character_), "'rscript'")
  expect_error(launch.ssh(rscript = c("a", "b")), "'rscript'")
  expect_error(launch.ssh(ssh = ""), "'ssh'")
  expect_error(launch.ssh(args = NA_character_), "'args'")
  expect_error(launch.ssh(args = 1), "'args'")
  expect_error(launch.ssh(tunnel = "yes"), "`tunnel` must be TRUE or FALSE", fixed = TRUE)
  expect_error(launch.ssh(tunnel = NA), "`tunnel` must be TRUE or FALSE", fixed = TRUE)
  expect_error(launch.command(), "'template' is missing")
  expect_error(launch.command(1), "'template'")
  expect_error(launch.command("srun Rscript"), "must contain \\{\\{command\\}\\}")
  expect_error(launch.command("srun {{comand}}"), "unknown placeholder.*\\{\\{comand\\}\\}")
  expect_error(launch.command("srun {{command}}\nrm -rf x"), "newline")
  expect_error(launch.slurm(options = 1), "'options'")
  expect_error(launch.slurm(options = "--wrap=x"), "'options'")
  expect_error(launch.slurm(template = "#!/bin/sh\nsleep 1"), "'template' must contain")
  expect_error(launch.slurm(template = "{{command}} {{nope}}"), "unknown placeholder")
  expect_error(launch.slurm(template = c("a", "b")), "'template'")
})

test_that("ssh hosts that could be read as options or shell code are refused", {
  l <- launch.ssh()
  expect_error(l$command("-oProxyCommand=touch /tmp/x"), "not a host name")
  expect_error(l$command("a;b"), "not a host name")
  expect_error(l$command("a b"), "not a host name")
  expect_error(l$command(NA_character_), "not a host name")
  expect_error(l$start(fake_spec(tempfile(), host = "$(id)")), "not a host name")
})

test_that("templates get the worker command as words or as one quoted word", {
  l <- launch.command("srun --ntasks=1 --job-name=w{{index}} {{command}}")
  expect_identical(
    l$command(3),
    paste("srun --ntasks=1 --job-name=w3 Rscript -e",
          "'rzmq::run.worker(config = \"<private directory>/worker.config\")'"))
  l <- launch.command("sbatch --wrap={{command_line}}", rscript = "/opt/R bin/Rscript")
  expect_match(l$command(1), "^sbatch --wrap=")
  # what sh makes of it: one word with the whole command
  words <- system2("sh", c("-c", shQuote(sub("sbatch ", "printf '%s\\n' ", l$command(1),
                                             fixed = TRUE))),
                   stdout = TRUE)
  expect_identical(words, paste0("--wrap=/opt/R bin/Rscript -e 'rzmq::run.worker(config = ",
                                 "\"<private directory>/worker.config\")'"))
})

test_that("launch.command: the worker reads its secret from a 0600 file in a 0700 directory, then the file is gone", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  dir <- ld$dir
  out <- tempfile("out-")
  l <- launch.command("{{command}}", rscript = rscript)
  seed <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  p <- l$start(fake_spec(out))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  expect_identical(if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv()), seed)
  expect_true(is.integer(p$pid) && !is.na(p$pid))
  expect_true(is.na(p$job))
  expect_match(p$describe, sprintf("pid %d", p$pid))
  config <- p$files[["config"]]
  expect_true(startsWith(normalizePath(config, mustWork = FALSE), normalizePath(dir)))
  wait_until(function() file.exists(out) && length(readLines(out)) == 3L, what = "the worker")
  got <- readLines(out)
  expect_identical(got, c(secret, "600", "700"))
  expect_false(file.exists(config))
  wait_until(function() !rzmq:::process_alive(p$pid), what = "the worker to exit")
  l$cleanup(list(p))
  expect_identical(list.files(dir, recursive = TRUE, all.files = TRUE), character())
})

test_that("launch.command: the command line has the file's path, never the secret", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  out <- tempfile("out-")
  l <- launch.command("printf '%s\\n' {{command}}; printf '%s\\n' {{command_line}}",
                      rscript = "Rscript")
  p <- l$start(fake_spec(out, index = 7L))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  log <- p$files[["log"]]
  wait_until(function() !rzmq:::process_alive(p$pid), what = "printf")
  words <- readLines(log)
  expect_length(words, 4L)
  expect_identical(words[1:2], c("Rscript", "-e"))
  expect_match(words[3], "readLines(f)", fixed = TRUE)
  expect_match(words[3], p$files[["config"]], fixed = TRUE)
  expect_identical(words[4], paste("Rscript -e", shQuote(words[3])))
  expect_false(any(grepl("SECRET", words)))
  # the worker never ran: cleanup deletes its configuration and the directory
  expect_true(file.exists(p$files[["config"]]))
  expect_identical(unname(file.access(p$files[["config"]], 4)), 0L)
  l$cleanup(list(p))
  expect_false(file.exists(p$files[["config"]]))
  expect_true(file.exists(log)) # not empty: kept for a look
})

test_that("launch.command: kill() stops what the template started, twice is fine", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  l <- launch.command("sleep 30; : {{command}}")
  p <- l$start(fake_spec(tempfile()))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  expect_true(rzmq:::process_alive(p$pid))
  p$kill()
  wait_until(function() !rzmq:::process_alive(p$pid), timeout = 10, what = "kill")
  expect_silent(p$kill())
  l$cleanup(list(p))
  expect_false(file.exists(p$files[["config"]]))
})

test_that("launch.ssh: argv has no secret, the secret comes on stdin", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  bin <- tempfile("bin-"); dir.create(bin)
  rec <- tempfile("rec-"); dir.create(rec)
  ssh <- fake_ssh(bin, rec)
  l <- launch.ssh(user = "me", rscript = "/opt/R/bin/Rscript", ssh = ssh,
                  args = c("-p", "2222"))
  expect_output(print(l), "launcher: ssh")
  p <- l$start(fake_spec(tempfile(), host = "node1"))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  expect_identical(p$host, "node1")
  wait_until(function() file.exists(file.path(rec, "stdin")), what = "fake ssh")
  argv <- readLines(file.path(rec, "argv"))
  expect_identical(argv[1:8], c("-p", "2222", "-T", "-o", "BatchMode=yes", "-l", "me", "--"))
  expect_identical(argv[9], "node1")
  expect_match(argv[10], "^sh -c ")
  expect_match(argv[10], "| /opt/R/bin/Rscript -e 'writeLines(readLines(file(", fixed = TRUE)
  expect_length(argv, 10L)
  expect_false(any(grepl("SECRET", argv)))
  expect_identical(readLines(file.path(rec, "stdin")), secret)
  wait_until(function() !rzmq:::process_alive(p$pid), what = "fake ssh to exit")
  l$cleanup(list(p))
})

test_that("the remote side of launch.ssh hands the first line to the worker and kills it when stdin ends", {
  skip_if_not_installed("processx")
  out <- tempfile("out-")
  expr <- sprintf(paste0('writeLines(c(readLines(file("stdin"), n = 1L), Sys.getpid()), %s); ',
                         'Sys.sleep(60)'), deparse(out))
  remote <- rzmq:::ssh_remote_command(rscript, expr)
  expect_match(remote, "^sh -c ")
  # what a login shell makes of it: sh -c <one word>
  words <- system2("sh", c("-c", shQuote(paste("printf '%s\\n'", remote))), stdout = TRUE)
  expect_identical(words[1:2], c("sh", "-c"))
  p <- processx::process$new("sh", c("-c", remote), stdin = "|", stdout = "|", stderr = "|")
  on.exit(p$kill_tree(), add = TRUE)
  p$write_input(paste0(secret, "\n"))
  wait_until(function() file.exists(out) && length(readLines(out)) == 2L, what = "the worker")
  got <- readLines(out)
  expect_identical(got[1], secret)
  worker <- as.integer(got[2])
  expect_true(rzmq:::process_alive(worker))
  expect_false(any(grepl("SECRET", readLines(file.path("/proc", worker, "cmdline"), warn = FALSE))))
  expect_true(p$is_alive())
  # the ssh connection goes: stdin ends, the worker is killed, sh exits
  close(p$get_input_connection())
  p$wait(10000)
  expect_false(p$is_alive())
  wait_until(function() !rzmq:::process_alive(worker), timeout = 10, what = "the worker's end")
})

test_that("launch.ssh(tunnel = TRUE) forwards a remote port to the master and hands that endpoint to the worker", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  bin <- tempfile("bin-"); dir.create(bin)
  rec <- tempfile("rec-"); dir.create(rec)
  ssh <- fake_ssh(bin, rec)
  l <- launch.ssh(ssh = ssh, tunnel = TRUE)
  spec <- fake_spec(tempfile(), host = "node2")
  spec$endpoint <- "tcp://0.0.0.0:4242"
  p <- l$start(spec)
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  wait_until(function() file.exists(file.path(rec, "stdin")), what = "fake ssh")
  argv <- readLines(file.path(rec, "argv"))
  r <- argv[which(argv == "-R") + 1L]
  expect_match(r, "^[0-9]+:127\\.0\\.0\\.1:4242$")
  port <- as.integer(sub(":.*", "", r))
  expect_true(port >= 61000L && port <= 65535L)
  expect_true("ExitOnForwardFailure=yes" %in% argv)
  expect_identical(readLines(file.path(rec, "stdin")),
                   sub("tcp://127.0.0.1:5555", sprintf("tcp://127.0.0.1:%d", port), secret,
                       fixed = TRUE))
  wait_until(function() !rzmq:::process_alive(p$pid), what = "fake ssh to exit")
  l$cleanup(list(p))
  expect_match(l$command("h", "tcp://[::1]:7"), "-R '[0-9]+:\\[::1\\]:7'")
  spec$endpoint <- NULL
  expect_error(l$start(spec), "master's tcp endpoint")
})

test_that("launch.slurm: one sbatch per worker with the batch script on stdin; kill and cleanup scancel", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  dir <- ld$dir
  bin <- tempfile("bin-"); dir.create(bin)
  rec <- tempfile("rec-"); dir.create(rec)
  fake_program(bin, "sbatch", c(
    sprintf("printf '%%s\\n' \"$@\" > %s/sbatch-argv", rec),
    sprintf("cat > %s/script", rec),
    "echo '4711;cluster'"))
  fake_program(bin, "scancel", sprintf("printf '%%s\\n' \"$@\" >> %s/scancel", rec))
  fake_program(bin, "squeue", "echo 4711")
  old <- Sys.getenv("PATH")
  Sys.setenv(PATH = paste(bin, old, sep = .Platform$path.sep))
  on.exit(Sys.setenv(PATH = old), add = TRUE)

  l <- launch.slurm(c("--time=5", "--partition=a b"))
  expect_output(print(l), "sbatch --parsable --time=5")
  p <- l$start(fake_spec(tempfile(), index = 2L))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  expect_identical(p$job, "4711")
  expect_identical(p$describe, "SLURM job 4711")
  expect_identical(readLines(file.path(rec, "sbatch-argv")),
                   c("--parsable", "--time=5", "--partition=a b"))
  script <- readLines(file.path(rec, "script"))
  expect_identical(script[1:4], c("#!/bin/sh", "#SBATCH --job-name=rzmq-2",
                                  paste0("#SBATCH --output=", p$files[["log"]]),
                                  "#SBATCH --ntasks=1"))
  expect_match(script[5], paste0("^Rscript -e .*", p$files[["config"]]))
  expect_false(any(grepl("SECRET", c(script, readLines(file.path(rec, "sbatch-argv"))))))
  expect_identical(readLines(p$files[["config"]]), secret)
  expect_identical(format(file.info(p$files[["config"]])$mode), "600")
  p$kill()
  expect_identical(readLines(file.path(rec, "scancel")), c("--quiet", "4711"))
  # squeue still lists the job: cleanup cancels it (after a short grace) and
  # deletes the configuration the job never read
  t0 <- Sys.time()
  l$cleanup(list(p))
  expect_lt(as.numeric(Sys.time() - t0, units = "secs"), 10)
  expect_identical(readLines(file.path(rec, "scancel")), c("--quiet", "4711", "--quiet", "4711"))
  expect_false(file.exists(p$files[["config"]]))
})

test_that("launch.slurm: a failed sbatch is an error that says why, and leaves no secret behind", {
  ld <- use_launch_dir()
  on.exit(ld$restore(), add = TRUE)
  dir <- ld$dir
  bin <- tempfile("bin-"); dir.create(bin)
  fake_program(bin, "sbatch", c("echo 'sbatch: error: invalid partition specified: nope' >&2",
                                "exit 1"))
  old <- Sys.getenv("PATH")
  Sys.setenv(PATH = paste(bin, old, sep = .Platform$path.sep))
  on.exit(Sys.setenv(PATH = old), add = TRUE)
  l <- launch.slurm("--partition=nope")
  expect_error(l$start(fake_spec(tempfile(), index = 3L)),
               "sbatch failed for worker 3: sbatch: error: invalid partition")
  expect_identical(list.files(dir, recursive = TRUE, pattern = "config$"), character())
})

test_that("launch.slurm: a template of one's own", {
  l <- launch.slurm(template = "#!/bin/bash\n#SBATCH -J {{job_name}}\nmodule load R\nsrun {{command}}")
  s <- strsplit(l$script(5), "\n")[[1]]
  expect_identical(s[1:3], c("#!/bin/bash", "#SBATCH -J rzmq-5", "module load R"))
  expect_match(s[4], "^srun Rscript -e 'rzmq::run.worker\\(config = ")
})

test_that("the launch directory must be private", {
  skip_if(Sys.info()[["sysname"]] != "Linux")
  root <- tempfile("shared-")
  dir.create(root)
  on.exit(unlink(root, recursive = TRUE), add = TRUE)
  old <- options(rzmq.launch.dir = root)
  on.exit(options(old), add = TRUE)
  l <- launch.command("{{command}}")
  # a private directory is made inside whatever the root's mode
  Sys.chmod(root, "0777", use_umask = FALSE)
  p <- l$start(fake_spec(tempfile()))
  on.exit(p$kill(), add = TRUE) # a failed expectation leaves nothing running
  expect_identical(format(file.info(dirname(p$files[["config"]]))$mode), "700")
  p$kill()
  l$cleanup(list(p))
  options(rzmq.launch.dir = NA_character_)
  expect_error(launch.command("{{command}}")$start(fake_spec(tempfile())), "rzmq.launch.dir")
})
