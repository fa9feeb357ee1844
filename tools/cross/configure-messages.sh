#!/usr/bin/env bash
# configure-messages.sh: what ./configure tells a user in each case, checked
# without root and without touching the system's libzmq. configure runs in a
# scratch copy of the package, pointed (through the variables it documents)
# at: a library that does not exist, a zmq.h older than 4.2, a stand-in
# libzmq built here without CURVE, the system's libzmq, and no pkg-config.
#   bash tools/cross/configure-messages.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
CC_R=$(R CMD config CC)

# run_configure NAME VAR=VALUE...: configure in a fresh copy; output in $out
run_configure() {
  local name=$1; shift
  rm -rf "$work/pkg"
  mkdir -p "$work/pkg/src"
  cp "$ROOT/configure" "$work/pkg/"
  cp "$ROOT/src/Makevars.in" "$work/pkg/src/"
  out="$work/$name.out"
  (cd "$work/pkg" && env -u ZMQ_CFLAGS -u ZMQ_LIBS -u INCLUDE_DIR -u LIB_DIR \
     -u PKG_CONFIG "$@" sh ./configure) > "$out" 2>&1
  rc=$?
}
expect() { # expect NAME what-it-should-say PATTERN...
  local name=$1 what=$2; shift 2
  local p
  for p in "$@"; do
    if ! grep -qF -- "$p" "$out"; then
      echo "FAIL [$name] $what: no '$p' in:"; sed 's/^/    /' "$out"
      fails=$((fails + 1)); return
    fi
  done
  echo "ok   [$name] $what"
}
expect_rc() { # expect_rc NAME RC
  if [ "$rc" != "$2" ]; then
    echo "FAIL [$1] configure exited $rc, not $2:"; sed 's/^/    /' "$out"
    fails=$((fails + 1))
  fi
}
INSTALL_HINTS=("Debian/Ubuntu:  sudo apt-get install libzmq3-dev"
  "Fedora/RHEL:    sudo dnf install zeromq-devel"
  "macOS Homebrew: brew install zeromq" "conda install -c conda-forge zeromq"
  "PKG_CONFIG_PATH" "ZMQ_CFLAGS" "INCLUDE_DIR=")

# 1. missing: the library asked for does not exist
run_configure missing ZMQ_LIBS=-lrzmq_no_such_library
expect_rc missing 1
expect missing "names every way to install libzmq" \
  "ERROR: libzmq >= 4.2 (library and development headers) was not found" \
  "${INSTALL_HINTS[@]}"
[ -f "$work/pkg/src/Makevars" ] && { echo "FAIL [missing] wrote src/Makevars"; fails=$((fails + 1)); }

# 2. too old: a zmq.h that says 4.1.6
mkdir -p "$work/old"
cat > "$work/old/zmq.h" <<'EOF'
#define ZMQ_VERSION_MAJOR 4
#define ZMQ_VERSION_MINOR 1
#define ZMQ_VERSION_PATCH 6
#define ZMQ_VERSION 40106
EOF
run_configure old "ZMQ_CFLAGS=-I$work/old" ZMQ_LIBS=-lzmq
expect_rc old 1
expect old "says the version is too old" \
  "ERROR: libzmq was found, but it is older than 4.2" "${INSTALL_HINTS[@]}"

# 3. no CURVE: a stand-in libzmq.so with the real zmq.h whose zmq_has says no
mkdir -p "$work/nocurve"
cat > "$work/nocurve/stub.c" <<'EOF'
#include <string.h>
#include <zmq.h>
static int ctx;
void zmq_version(int *a, int *b, int *c) { *a = 4; *b = 3; *c = 99; }
void *zmq_ctx_new(void) { return &ctx; }
int zmq_ctx_term(void *c) { (void)c; return 0; }
int zmq_has(const char *what) { return strcmp(what, "ipc") == 0; }
EOF
$CC_R -shared -fPIC -o "$work/nocurve/libzmq.so" "$work/nocurve/stub.c"
run_configure nocurve ZMQ_CFLAGS=-I/usr/include \
  "ZMQ_LIBS=-L$work/nocurve -lzmq" "LD_LIBRARY_PATH=$work/nocurve"
expect_rc nocurve 0
expect nocurve "builds, and says the security functions will refuse" \
  "found libzmq 4.3.99" "NOTE: this libzmq 4.3.99 was built without CURVE" \
  "will refuse with an error"

# 4. the system's libzmq, through pkg-config
run_configure system
expect_rc system 0
expect system "finds the system's libzmq with CURVE" "via pkg-config" \
  "libzmq has CURVE security"
grep -q '^PKG_LIBS = .*-lzmq' "$work/pkg/src/Makevars" ||
  { echo "FAIL [system] src/Makevars has no -lzmq"; fails=$((fails + 1)); }

# 5. no pkg-config at all: plain -lzmq still works
run_configure no-pkg-config PKG_CONFIG=/nonexistent/pkg-config
expect_rc no-pkg-config 0
expect no-pkg-config "falls back to plain -lzmq" "via default -lzmq"

[ "$fails" = 0 ] && echo "configure-messages: all cases OK" ||
  { echo "configure-messages: $fails FAILED"; exit 1; }
