#!/usr/bin/env bash
# windows.sh: proof that rzmq builds for 64-bit Windows, on this Linux
# machine. It cross-compiles every src/*.c for x86_64-w64-mingw32 through
# src/Makevars.win (any warning fails it), against R's headers and a static
# libzmq cross-built from Debian's zeromq3 source (tools/cross/libzmq-mingw.sh),
# links rzmq.dll (through each of Makevars.win's ways to a libzmq) against an
# import library for R.dll made from the R API symbols the objects use, and
# checks each DLL's imports: R.dll and Windows' own DLLs only (libzmq,
# libstdc++ and winpthreads are inside), and that Makevars.win without a
# libzmq stops with its message.
# The DLL cannot run here (no Windows, no R.dll): this proves the build only.
# One difference from Rtools remains: Debian's mingw-w64 links msvcrt.dll,
# Rtools (R >= 4.2) the UCRT (api-ms-win-crt-*.dll); both are Windows' own.
#   bash tools/cross/windows.sh          (as root, or with a writable
#                                          RZMQ_CROSS_CACHE; see libzmq-mingw.sh)
# RZMQ_CROSS_OUT (default /tmp/rzmq-cross-windows) keeps the DLL, the build
# log, R.def and each link's objdump -p and import list.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
TRIPLET=x86_64-w64-mingw32
CC_X=${RZMQ_CROSS_CC:-$TRIPLET-gcc-posix}
OUT=${RZMQ_CROSS_OUT:-/tmp/rzmq-cross-windows}
R_INCLUDE_SYS=$(R RHOME)/include
[ -f "$R_INCLUDE_SYS/Rinternals.h" ] || R_INCLUDE_SYS=/usr/share/R/include
# Our code must compile without a warning (counted, then fatal): a call to
# something Windows lacks is an error at once.
WARN="-Wall -Wextra -Werror=implicit-function-declaration"
say() { echo "windows.sh: $*"; }

prefix=$(bash tools/cross/libzmq-mingw.sh)
rm -rf "$OUT"
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# R's headers as Windows has them: the API is the same; R's Windows build
# has no <alloca.h> and no ELF visibility attribute, so its Rconfig.h does
# not define HAVE_ALLOCA_H or HAVE_VISIBILITY_ATTRIBUTE (neither used here)
cp -r "$R_INCLUDE_SYS" "$work/Rinclude"
sed -i -e '/#define HAVE_ALLOCA_H/d' -e '/#define HAVE_VISIBILITY_ATTRIBUTE/d' \
  "$work/Rinclude/Rconfig.h"

# Rtools' pkg-config, as $(BINPREF)pkg-config sees it: ours knows only the
# cross-built libzmq
mkdir -p "$work/bin"
cat > "$work/bin/pkg-config" <<EOF
#!/bin/sh
PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH= \
  exec pkg-config "\$@"
EOF
chmod +x "$work/bin/pkg-config"

mkdir -p "$work/src"
cp src/*.c src/*.h src/Makevars.win "$work/src/"
objs=$(cd src && ls *.c | sed 's/\.c$/.o/' | tr '\n' ' ')
mk=(make -s -C "$work/src" -f Makevars.win -f "$ROOT/tools/cross/winshlib.mk"
    CC="$CC_X" BINPREF="$work/bin/" R_INCLUDE="$work/Rinclude"
    RIMP="$work/rimp" SHLIB=rzmq.dll OBJECTS="$objs" WARN_CFLAGS="$WARN")

# 1. compile (the objects first: R.dll's import library is made from them)
say "compiling $(echo "$objs" | wc -w) files with $CC_X $WARN"
env -u ZMQ_CFLAGS -u ZMQ_LIBS -u INCLUDE_DIR -u LIB_DIR \
  "${mk[@]}" $objs > "$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
warnings=$(grep -c 'warning:' "$OUT/build.log" || true)
say "compiled, $warnings warnings"

# 2. R.dll's import library: the objects' undefined symbols that libR
#    exports (functions, and data through __imp_), in a .def for dlltool
mkdir -p "$work/rimp"
libR=$(R RHOME)/lib/libR.so
nm -D --defined-only "$libR" | awk '{print $3, $2}' | sort > "$work/rexports"
$TRIPLET-nm -u "$work"/src/*.o | awk '{print $2}' | sed 's/^__imp_//' |
  sort -u > "$work/undef"
{ echo "LIBRARY R.dll"; echo "EXPORTS"
  join "$work/undef" "$work/rexports" |
    awk '$2 ~ /^[BDRVbdr]$/ {print $1 " DATA"; next} {print $1}'
} > "$work/rimp/R.def"
say "R.dll import library: $(($(wc -l < "$work/rimp/R.def") - 2)) R API symbols"
$TRIPLET-dlltool -d "$work/rimp/R.def" -D R.dll -l "$work/rimp/libR.a"
cp "$work/rimp/R.def" "$OUT/"

# 3. link through each of Makevars.win's three ways to a libzmq, and check
#    what each DLL needs: R.dll and Windows' own DLLs, nothing else
ALLOWED='^(R\.dll|kernel32\.dll|ws2_32\.dll|iphlpapi\.dll|advapi32\.dll|user32\.dll|msvcrt\.dll|ucrtbase\.dll|api-ms-win-[a-z0-9-]+\.dll|rpcrt4\.dll|secur32\.dll|bcrypt\.dll|shell32\.dll|ntdll\.dll)$'
link_with() { # link_with LABEL VAR=VALUE...: rzmq.dll and its imports in $OUT/LABEL.*
  local label=$1; shift
  rm -f "$work/src/rzmq.dll"
  env -u ZMQ_CFLAGS -u ZMQ_LIBS -u INCLUDE_DIR -u LIB_DIR "$@" \
    "${mk[@]}" rzmq.dll >> "$OUT/build.log" 2>&1 ||
    { cat "$OUT/build.log"; say "FAIL: linking ($label) failed"; exit 1; }
  $TRIPLET-objdump -p "$work/src/rzmq.dll" > "$OUT/$label.objdump.txt"
  awk '/DLL Name:/ {print $3}' "$OUT/$label.objdump.txt" | sort -f > "$OUT/$label.imports.txt"
  say "linked rzmq.dll ($label, $(stat -c %s "$work/src/rzmq.dll") bytes); imports: $(tr '\n' ' ' < "$OUT/$label.imports.txt")"
  local bad
  bad=$(grep -viE "$ALLOWED" "$OUT/$label.imports.txt" | tr '\n' ' ' || true)
  [ -z "$bad" ] || { say "FAIL ($label): imports DLLs neither R's nor Windows' own: $bad"; exit 1; }
  grep -qx 'R.dll' "$OUT/$label.imports.txt" || { say "FAIL ($label): R.dll is not imported"; exit 1; }
  grep -q ' R_init_rzmq$' "$OUT/$label.objdump.txt" || { say "FAIL ($label): R_init_rzmq is not exported"; exit 1; }
  # libzmq is inside, with CURVE
  $TRIPLET-nm "$work/src/rzmq.dll" > "$work/symbols"
  grep -q 'curve_server_t' "$work/symbols" || { say "FAIL ($label): no CURVE in the DLL"; exit 1; }
}
link_with ZMQ_CFLAGS ZMQ_CFLAGS="-I$prefix/include" \
  ZMQ_LIBS="-L$prefix/lib -lzmq -lstdc++ -liphlpapi -lws2_32"
link_with INCLUDE_DIR INCLUDE_DIR="$prefix/include" \
  LIB_DIR="$prefix/lib"
link_with rtools          # last: the DLL kept is Rtools' way's
cp "$work/src/rzmq.dll" "$OUT/"
cp "$OUT/rtools.imports.txt" "$OUT/imports.txt"

# 5. Makevars.win without any libzmq stops with its message
if env -u ZMQ_CFLAGS -u ZMQ_LIBS -u INCLUDE_DIR -u LIB_DIR \
   make -s -C "$work/src" -f Makevars.win -f "$ROOT/tools/cross/winshlib.mk" \
   BINPREF=/nonexistent/ SHLIB=rzmq.dll OBJECTS="$objs" all > "$work/none.log" 2>&1 ||
   ! grep -q 'rzmq: no libzmq found' "$work/none.log"; then
  cat "$work/none.log"; say "FAIL: no clear error without libzmq"; exit 1
fi
say "without libzmq: '$(grep 'no libzmq found' "$work/none.log")'"
if [ "$warnings" != 0 ]; then say "FAIL: $warnings warnings"; exit 1; fi
say "OK: rzmq.dll for $TRIPLET (libzmq $(basename "$prefix")); it cannot run here"
