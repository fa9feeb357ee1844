#!/usr/bin/env bash
# findings.sh: run the minimal reproducers in repro/ for the package bugs
# the suite found, each with the tool that shows it, and say for each
# whether it still reproduces. Exit status: the number still reproducing.
#
#   bash tools/reliability/findings.sh
set -uo pipefail
source "$(dirname "$0")/lib.sh"

lib=$(plain_lib) || exit 99
still=0
show() { # name, reproduced (0/1), what was seen
  if [ "$2" -eq 1 ]; then echo "REPRODUCES  $1: $3"; still=$((still + 1)); else echo "fixed       $1: $3"; fi
}

# 1. interrupt handler closes the socket and resumes: use after free
vglog="$WORK/repro-resume-vg.log"
R_LIBS=$lib timeout 120 R -d "valgrind --log-file=$vglog" --vanilla --no-echo \
  -f "$REL_DIR/repro/resume-restart.R" >/dev/null 2>&1
if ! grep -q "ERROR SUMMARY" "$vglog" 2>/dev/null; then
  echo "could not run valgrind for resume-restart (see $vglog)"; still=$((still + 1))
fi
n=$(grep -c "Invalid read" "$vglog" 2>/dev/null)
show "resume-restart (use after free in rzmq_wait)" $([ "${n:-0}" -gt 0 ] && echo 1 || echo 0) \
  "valgrind: ${n:-0} invalid reads ($(grep -m1 -A8 'Invalid read' "$vglog" 2>/dev/null | grep -o 'rzmq_[a-z_]*' | head -1))"

# 2. ROUTER_RAW on REP: libzmq assertion aborts R
out=$(R_LIBS=$lib timeout 60 Rscript "$REL_DIR/repro/router-raw-rep.R" 2>&1); rc=$?
show "router-raw-rep (libzmq abort)" $([ "$rc" -eq 134 ] && echo 1 || echo 0) \
  "exit status $rc; $(grep -o 'Assertion failed.*' <<<"$out" | head -1)"

# 3. encoding-name length 64 accepted
out=$(R_LIBS=$lib timeout 60 Rscript "$REL_DIR/repro/encoding-length.R" 2>&1)
show "encoding-length (differs from base unserialize)" $(grep -q MISMATCH <<<"$out" && echo 1 || echo 0) \
  "$(tr '\n' ' ' <<<"$out")"

# 4. float-to-integer conversions out of range (needs the UBSan build)
printf 'CFLAGS = -g -O1 -fsanitize=undefined,float-cast-overflow\nLDFLAGS = -fsanitize=undefined,float-cast-overflow\n' \
  >"$WORK/Makevars-findings-ubsan"
build_pkg findings-ubsan "$WORK/Makevars-findings-ubsan" || exit 99
out=$(UBSAN_OPTIONS=print_stacktrace=0 LD_PRELOAD="$(gcc -print-file-name=libubsan.so)" \
  R_LIBS="$WORK/lib-findings-ubsan" timeout 60 Rscript "$REL_DIR/repro/float-cast-ub.R" 2>&1)
n=$(grep -c "runtime error" <<<"$out")
show "float-cast-ub (undefined behaviour, 3 places)" $([ "$n" -gt 0 ] && echo 1 || echo 0) \
  "$n UBSan reports: $(grep -m1 'runtime error' <<<"$out")"

# 5. receive.messages on REP: EFSM after the first request taken for a failure
out=$(R_LIBS=$lib timeout 60 Rscript "$REL_DIR/repro/batch-rep-efsm.R" 2>&1)
show "batch-rep-efsm (receive.messages on REP reports EFSM, loses the request as a condition)" \
  $(grep -q "EFSM REPORTED" <<<"$out" && echo 1 || echo 0) "$(tail -n 1 <<<"$out")"

# 6. zero-copy frames alive at unload: their ALTREP class reset by R
out=$(R_LIBS=$lib timeout 60 Rscript "$REL_DIR/repro/frames-after-unload.R" 2>&1)
show "frames-after-unload (frames unreadable after unload)" $(grep -q "^OK" <<<"$out" && echo 0 || echo 1) \
  "$(tail -n 1 <<<"$out")"

# 7. the janitor thread alive at exit (valgrind: possibly lost TLS)
vglog="$WORK/repro-janitor-vg.log"
R_LIBS=$lib timeout 120 R -d "valgrind --leak-check=full --log-file=$vglog" --vanilla --no-echo \
  -f "$REL_DIR/repro/janitor-at-exit.R" >/dev/null 2>&1
n=$(grep -c "janitor_ensure" "$vglog" 2>/dev/null)
show "janitor-at-exit (thread alive at exit)" $([ "${n:-0}" -gt 0 ] && echo 1 || echo 0) \
  "valgrind: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$vglog" 2>/dev/null), ${n:-0} loss records through janitor_ensure"

# 8. send.messages: a stack overflow mid-batch came without the count
out=$(R_LIBS=$lib timeout 60 Rscript "$REL_DIR/repro/batch-stack-overflow.R" 2>&1)
show "batch-stack-overflow (no rzmq_batch_error for a too deep object)" $(grep -q "^OK" <<<"$out" && echo 0 || echo 1) \
  "$(tail -n 1 <<<"$out")"

echo "findings still reproducing: $still"
exit "$still"
