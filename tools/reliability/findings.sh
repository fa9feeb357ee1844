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

echo "findings still reproducing: $still"
exit "$still"
