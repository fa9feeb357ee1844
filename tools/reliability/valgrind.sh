#!/usr/bin/env bash
# valgrind.sh: run valgrind-stress.R under valgrind's memcheck and judge the
# result: 0 errors in valgrind's ERROR SUMMARY (R's own known reports
# suppressed by valgrind.supp) and 0 bytes definitely lost in blocks whose
# allocation stack goes through rzmq.so; the workload's own checks must pass.
#
#   bash tools/reliability/valgrind.sh [--messages=100000] [--cycles=1000]
#
# Arguments go to valgrind-stress.R. The full default takes ~10-15 minutes
# on 2 cores. RZMQ_LIB: a library holding an installed rzmq to test (else a
# plain build is made in $RZMQ_REL_WORK, default /tmp/rzmq-reliability).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

t0=$(date +%s)
lib=$(plain_lib) || { echo "valgrind: FAIL (build)"; exit 1; }
log_dir="$WORK/valgrind-logs"
rm -rf "$log_dir"
mkdir -p "$log_dir"
say "valgrind memcheck over valgrind-stress.R $* (rzmq from $lib)"
R_LIBS="$lib" R -d "valgrind --leak-check=full --error-exitcode=1 --num-callers=40 \
  --suppressions=$REL_DIR/valgrind.supp --log-file=$log_dir/vg.%p.log" \
  --vanilla --no-echo -f "$REL_DIR/valgrind-stress.R" --args "$@" 2>&1 | tee "$WORK/valgrind-stress.out"
rc=${PIPESTATUS[0]}

# Every process valgrind followed that got as far as its summary.
errors=0
for f in "$log_dir"/vg.*.log; do
  n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")
  [ -n "$n" ] && errors=$((errors + n))
done
# Loss records: "N bytes in M blocks are definitely lost in loss record ..."
# (or "N (D direct, I indirect) bytes ..."), then the allocation stack up
# to a blank line. Add up N of those whose stack goes through rzmq.so: a
# frame "(in .../rzmq.so)", or, where valgrind read our debug information,
# a frame in one of our source files ("(proxy.c:363)").
ours=$(cd "$PKG_ROOT/src" && ls *.c | sed 's/\./\\./' | paste -sd'|' -)
rzmq_lost=$(awk -v ours="\\((${ours}):[0-9]+\\)" '
  /are definitely lost in loss record/ {
    inrec = 1; through = 0
    s = $0; sub(/^==[0-9]+== */, "", s); split(s, w, " "); gsub(/,/, "", w[1]); bytes = w[1]
    next
  }
  inrec && (/rzmq\.so/ || $0 ~ ours) { through = 1 }
  inrec && /^==[0-9]+== *$/ { if (through) total += bytes; inrec = 0 }
  END { print total + 0 }' "$log_dir"/vg.*.log)
all_lost=$(grep -h "definitely lost:" "$log_dir"/vg.*.log | sed 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/' | tr -d , |
  awk '{ s += $1 } END { print s + 0 }')

echo "valgrind ERROR SUMMARY (all processes): $errors errors"
echo "definitely lost: $rzmq_lost bytes through rzmq.so ($all_lost bytes in all)"
echo "R exit status under valgrind: $rc; logs: $log_dir"
echo "valgrind runtime: $(( $(date +%s) - t0 )) s"
if [ "$errors" -ne 0 ] || [ "$rzmq_lost" -ne 0 ]; then
  grep -l "ERROR SUMMARY: [1-9]" "$log_dir"/vg.*.log | head -3 | while read -r f; do
    echo "---- $f"; grep -v "^==[0-9]*== *$" "$f" | head -80
  done
fi
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$rzmq_lost" -ne 0 ]; then
  echo "valgrind: FAIL"
  exit 1
fi
echo "valgrind: PASS"
