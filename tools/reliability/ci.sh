#!/usr/bin/env bash
# ci.sh: the reliability checks for every change, in well under 12 minutes
# on 2 cores. Exits non-zero if any step fails.
#
#   1. sanitize.sh: the whole testthat suite under ASan and under UBSan
#   2. gctorture.R against the ASan build (a use of memory the collector
#      freed, or of a freed large vector, shows up as an ASan report)
#   3. fuzz.R with ~2,000 payloads against the UBSan build (undefined
#      behaviour in the parsers and argument checks shows up as a report)
#   4. signals.R with ~20 SIGINTs against the ASan build
#
#   bash tools/reliability/ci.sh
#
# Environment: RZMQ_REL_WORK (default /tmp/rzmq-reliability), CI_FUZZ_N
# (default 2000), CI_SIGNALS (default 20).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

t_all=$(date +%s)
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
names=(); results=(); secs=()
record() { names+=("$1"); results+=("$2"); secs+=("$3"); }

# run_step NAME LOGDIR_OR_EMPTY COMMAND...: run, then fail it if the
# command failed or left sanitizer reports in LOGDIR.
run_step() {
  local name=$1 logdir=$2 t0 rc n=0
  shift 2
  say "==== $name"
  t0=$(date +%s)
  "$@"
  rc=$?
  if [ -n "$logdir" ]; then
    n=$(find "$logdir" -type f | wc -l)
    if [ "$n" -gt 0 ]; then
      echo "$n sanitizer report file(s) in $logdir:"
      for f in "$logdir"/*; do echo "---- $f"; head -n 30 "$f"; done
    fi
  fi
  local verdict=PASS
  if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then verdict=FAIL; fi
  record "$name" "$verdict" "$(( $(date +%s) - t0 ))"
  say "==== $name: $verdict ($(( $(date +%s) - t0 )) s)"
}

# 1. builds lib-asan and lib-ubsan, which the steps below reuse
run_step "sanitize (testthat suite under ASan and UBSan)" "" bash "$REL_DIR/sanitize.sh"

asan_logs="$WORK/ci-logs-asan"; ubsan_logs="$WORK/ci-logs-ubsan"
rm -rf "$asan_logs" "$ubsan_logs"; mkdir -p "$asan_logs" "$ubsan_logs"
asan_env=(env "ASAN_OPTIONS=detect_leaks=0:log_path=$asan_logs/asan" "LD_PRELOAD=$libasan"
          "R_LIBS=$WORK/lib-asan")
ubsan_env=(env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0:log_path=$ubsan_logs/ubsan"
           "LD_PRELOAD=$libubsan" "R_LIBS=$WORK/lib-ubsan")
if [ -d "$WORK/lib-asan/rzmq" ] && [ -d "$WORK/lib-ubsan/rzmq" ]; then
  run_step "gctorture (ASan build)" "$asan_logs" \
    "${asan_env[@]}" Rscript "$REL_DIR/gctorture.R" --reps=2
  run_step "fuzz, ${CI_FUZZ_N:-2000} payloads (UBSan build)" "$ubsan_logs" \
    "${ubsan_env[@]}" Rscript "$REL_DIR/fuzz.R" --n="${CI_FUZZ_N:-2000}"
  run_step "signals, ${CI_SIGNALS:-20} SIGINTs (ASan build)" "$asan_logs" \
    "${asan_env[@]}" Rscript "$REL_DIR/signals.R" --signals="${CI_SIGNALS:-20}"
else
  record "gctorture, fuzz, signals" FAIL 0
  echo "the sanitizer builds are missing: see the sanitize step"
fi

echo
echo "==== reliability CI summary"
n_pass=0; n_fail=0
for i in "${!names[@]}"; do
  printf '  %-52s %s  %4d s\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
  if [ "${results[$i]}" = PASS ]; then n_pass=$((n_pass + 1)); else n_fail=$((n_fail + 1)); fi
done
echo "  total runtime: $(( $(date +%s) - t_all )) s"
echo "reliability: $n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
