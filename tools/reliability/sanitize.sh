#!/usr/bin/env bash
# sanitize.sh: build rzmq with AddressSanitizer and with
# UndefinedBehaviorSanitizer and run the whole testthat suite (tests/testthat)
# under each, child R processes included. Fails on any test failure and on
# any sanitizer report (a log file from any process, or a report printed on
# the suite's output).
#
#   bash tools/reliability/sanitize.sh            # both passes
#   bash tools/reliability/sanitize.sh asan       # one of them
#
# Why two builds and not one with -fsanitize=address,undefined: with GCC 12
# the separate libubsan ignores UBSAN_OPTIONS=log_path once libasan is loaded
# and prints to stderr, which callr children's pipes swallow. Each runtime
# alone honours log_path, so every process's reports land in the log dir.
# (The combined build of the brief's recipe is still what the ASan pass
# would be with SANITIZE_ASAN_FLAGS=address,undefined.)
#
# Environment: RZMQ_REL_WORK (work directory, default /tmp/rzmq-reliability).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

passes=${*:-asan ubsan}
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
overall=0

# run_pass NAME: build, prove detection with the canary, run the suite, look
# for reports. Returns non-zero on any failure.
run_pass() {
  local pass=$1 t0 flags preload opts_var
  t0=$(date +%s)
  case $pass in
    asan)
      flags=${SANITIZE_ASAN_FLAGS:-address}
      preload="$libasan"
      # detect_leaks=0: R itself never frees much at exit; leaks are
      # valgrind.sh's job, for stacks through rzmq.so only
      san_env=("ASAN_OPTIONS=detect_leaks=0:log_path=$WORK/san-logs-asan/asan:print_summary=1")
      ;;
    ubsan)
      # float-cast-overflow is not in GCC's -fsanitize=undefined, but a
      # double outside int's range converted to int is undefined all the same
      flags=${SANITIZE_UBSAN_FLAGS:-undefined,float-cast-overflow}
      preload="$libubsan"
      san_env=("UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0:log_path=$WORK/san-logs-ubsan/ubsan")
      ;;
    *) echo "unknown pass $pass (asan or ubsan)"; return 1 ;;
  esac
  san_env+=("LD_PRELOAD=$preload")
  local mv_file="$WORK/Makevars-$pass" log_dir="$WORK/san-logs-$pass"
  local out="$WORK/sanitize-$pass-testthat.out"
  cat >"$mv_file" <<EOF
CFLAGS = -g -O1 -fsanitize=$flags -fno-omit-frame-pointer
LDFLAGS = -fsanitize=$flags
EOF
  say "[$pass] building rzmq with -fsanitize=$flags"
  build_pkg "$pass" "$mv_file" || { echo "[$pass] FAIL: build failed"; return 1; }
  local so="$WORK/lib-$pass/rzmq/libs/rzmq.so" syms
  syms=$(nm -D "$so")
  if ! grep -q "__${pass}_" <<<"$syms"; then
    echo "[$pass] FAIL: $so is not instrumented"
    return 1
  fi
  rm -rf "$log_dir"
  mkdir -p "$log_dir"

  # 1. The canary: a deliberate error must be reported and found in the log
  # directory, or a clean result below would mean nothing.
  local cdir="$WORK/canary-$pass" n_canary
  mkdir -p "$cdir"
  cp "$REL_DIR/canary.c" "$cdir/"
  (cd "$cdir" && rm -f canary.so canary.o &&
    R_MAKEVARS_USER=$mv_file R CMD SHLIB -o canary.so canary.c >/dev/null 2>&1) ||
    { echo "[$pass] FAIL: cannot build the canary"; return 1; }
  env "${san_env[@]}" Rscript --vanilla -e \
    "dyn.load('$cdir/canary.so'); invisible(.C('canary_$pass', 0L))" >/dev/null 2>&1
  n_canary=$(grep -lE 'AddressSanitizer|runtime error' "$log_dir"/* 2>/dev/null | wc -l)
  if [ "$n_canary" -lt 1 ]; then
    echo "[$pass] FAIL: the canary's deliberate error was not reported in $log_dir"
    return 1
  fi
  say "[$pass] canary reported as expected: detection works"
  rm -f "$log_dir"/*

  # 2. The suite, from the copied source (so test_path() and scripts/ work).
  say "[$pass] running tests/testthat"
  local t_suite suite_rc n_logs n_out
  t_suite=$(date +%s)
  env "${san_env[@]}" NOT_CRAN=true R_LIBS="$WORK/lib-$pass" \
    Rscript --vanilla -e '
      suppressPackageStartupMessages({library(testthat); library(rzmq)})
      stopifnot(grepl(commandArgs(TRUE)[2], find.package("rzmq"), fixed = TRUE))
      res <- as.data.frame(test_dir(commandArgs(TRUE)[1], package = "rzmq",
                                    load_package = "installed",
                                    reporter = "summary", stop_on_failure = FALSE))
      bad <- res[res$failed > 0 | res$error, c("file", "test")]
      if (nrow(bad)) print(bad)
      cat(sprintf("\nsuite: %d expectations passed, %d failed, %d skipped; %d tests errored\n",
                  sum(res$nb) - sum(res$failed) - sum(res$skipped),
                  sum(res$failed), sum(res$skipped), sum(res$error)))
      quit(status = if (nrow(bad)) 1 else 0)
    ' "$WORK/src-$pass/tests/testthat" "lib-$pass" >"$out" 2>&1
  suite_rc=$?

  # 3. Reports: log files (any process) or printed on the suite's output.
  n_logs=$(find "$log_dir" -type f | wc -l)
  n_out=$(grep -cE 'ERROR: AddressSanitizer|runtime error:|Sanitizer|caught segfault' "$out")
  echo "[$pass] $(grep -E '^suite:' "$out" || echo 'suite: no summary (crashed?)')"
  echo "[$pass] sanitizer log files: $n_logs; reports on the suite output: $n_out"
  if [ "$n_logs" -gt 0 ]; then
    for f in "$log_dir"/*; do
      echo "---- $f"
      head -n 40 "$f"
    done
  fi
  if [ "$suite_rc" -ne 0 ] || [ "$n_out" -gt 0 ]; then
    echo "---- tail of the suite output ($out)"
    tail -n 60 "$out"
  fi
  echo "[$pass] suite runtime $(( $(date +%s) - t_suite )) s, pass total $(( $(date +%s) - t0 )) s"
  if [ "$suite_rc" -ne 0 ] || [ "$n_logs" -gt 0 ] || [ "$n_out" -gt 0 ]; then
    echo "[$pass] FAIL"
    return 1
  fi
  echo "[$pass] PASS"
}

t_start=$(date +%s)
for p in $passes; do
  run_pass "$p" || overall=1
done
echo "sanitize total runtime: $(( $(date +%s) - t_start )) s"
if [ "$overall" -ne 0 ]; then echo "sanitize: FAIL"; exit 1; fi
echo "sanitize: PASS"
