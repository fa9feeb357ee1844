#!/usr/bin/env bash
# clang.sh: rzmq built with clang as R's C compiler (the compiler of macOS
# and of R's clang-based checks), warnings on, then the whole test suite
# against that build. Fails on any warning in our C code (src/*.c, src/*.h)
# and on any failed test.
#   bash tools/cross/clang.sh
# CLANG (default clang), RZMQ_CLANG_OUT (default /tmp/rzmq-cross-clang: the
# install log and the test results). Tests run with NOT_CRAN=true, as CI's.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CLANG=${CLANG:-clang}
OUT=${RZMQ_CLANG_OUT:-/tmp/rzmq-cross-clang}
say() { echo "clang.sh: $*"; }
command -v "$CLANG" >/dev/null || { say "no $CLANG"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# a copy of the package, so that the working tree's objects stay as they are
mkdir "$work/pkg" "$work/lib"
tar -C "$ROOT" --exclude=.git --exclude='src/*.o' --exclude='src/*.so' \
  --exclude=src/Makevars --exclude=docs -cf - . | tar -C "$work/pkg" -xf -

# R reads a user Makevars after its own: CC and CFLAGS replace R's
cat > "$work/Makevars" <<EOF
CC = $CLANG
CFLAGS = -O2 -Wall -Wextra -pedantic
EOF
say "R CMD INSTALL with $($CLANG --version | head -1)"
if ! R_MAKEVARS_USER="$work/Makevars" R CMD INSTALL \
     -l "$work/lib" "$work/pkg" > "$OUT/install.log" 2>&1; then
  cat "$OUT/install.log"; say "FAIL: the build failed"; exit 1
fi
grep -q "^$CLANG .*-Wextra -pedantic" "$OUT/install.log" ||
  { cat "$OUT/install.log"; say "FAIL: R did not compile with $CLANG"; exit 1; }
# warnings whose location is one of our files (R's own headers are not ours)
ours=$(grep -E '^([a-z_]+)\.[ch]:[0-9]+:[0-9]+: warning:' "$OUT/install.log" || true)
n_warn=$(printf '%s' "$ours" | grep -c . || true)
say "compiled $(grep -c "^$CLANG .* -c " "$OUT/install.log") files: $n_warn warnings in our code"
if [ "$n_warn" != 0 ]; then printf '%s\n' "$ours"; say "FAIL: warnings"; exit 1; fi
so="$work/lib/rzmq/libs/rzmq.so"
readelf -p .comment "$so" 2>/dev/null | grep -q clang ||
  { say "FAIL: $so was not built by clang"; exit 1; }

# the whole suite against that library (child R processes inherit R_LIBS)
say "test suite (NOT_CRAN=true) against $work/lib"
set +e
(cd "$ROOT/tests/testthat" &&
  R_LIBS="$work/lib" NOT_CRAN=true RZMQ_CLANG_OUT="$OUT" Rscript -e '
  lib <- Sys.getenv("R_LIBS")
  library(testthat)
  library(rzmq, lib.loc = lib)
  dll <- getLoadedDLLs()[["rzmq"]][["path"]]
  if (!startsWith(normalizePath(dll), normalizePath(lib)))
    stop("testing the wrong build: ", dll)
  res <- as.data.frame(test_dir(".", package = "rzmq", load_package = "installed",
                                reporter = "summary",
                                stop_on_failure = FALSE))
  n <- c(files = length(unique(res$file)), tests = nrow(res),
         expectations = sum(res$nb), failed = sum(res$failed),
         errors = sum(res$error), skipped = sum(res$skipped),
         warnings = sum(res$warning))
  cat("\nclang build test counts:", paste(names(n), n, sep = " ", collapse = ", "), "\n")
  saveRDS(res, file.path(Sys.getenv("RZMQ_CLANG_OUT", tempdir()), "results.rds"))
  if (n[["skipped"]] > 0) print(res[res$skipped, c("file", "test")], row.names = FALSE)
  quit(status = if (n[["failed"]] + n[["errors"]] > 0) 1 else 0)
 ' 2>&1) | tee "$OUT/tests.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then say "FAIL: the test suite failed (rc $rc)"; exit 1; fi
say "OK: built with $CLANG without warnings in our code; $(grep 'clang build test counts' "$OUT/tests.log" | sed 's/.*counts: //')"
