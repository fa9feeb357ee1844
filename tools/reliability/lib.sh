# lib.sh: sourced by the shell scripts of the reliability suite. Finds the
# package root, keeps every build and log under one work directory, and
# builds/installs rzmq plainly or with extra compiler flags.

REL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG_ROOT=$(cd "$REL_DIR/../.." && pwd)
WORK=${RZMQ_REL_WORK:-/tmp/rzmq-reliability}
mkdir -p "$WORK"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# build_pkg NAME [MAKEVARS_FILE]: copy the source tree (without .git, bench
# and tools) to $WORK/src-NAME and install it into $WORK/lib-NAME. Prints
# nothing on success; on failure shows the install log and returns 1.
build_pkg() {
  local name=$1 makevars=${2:-}
  local src="$WORK/src-$name" lib="$WORK/lib-$name" log="$WORK/install-$name.log"
  mkdir -p "$lib"
  # plain tar, no rsync: a fresh machine has no rsync
  rm -rf "$src" && mkdir -p "$src"
  tar -C "$PKG_ROOT" --exclude=./.git --exclude=./bench --exclude=./tools \
    --exclude='./*.Rcheck' --exclude='./rzmq_*.tar.gz' -cf - . | tar -C "$src" -xf -
  # stale objects from an earlier build with other flags must not be reused
  rm -f "$src"/src/*.o "$src"/src/*.so
  if [ -n "$makevars" ]; then
    R_MAKEVARS_USER=$makevars R CMD INSTALL --no-test-load --preclean \
      -l "$lib" "$src" >"$log" 2>&1
  else
    R CMD INSTALL --preclean -l "$lib" "$src" >"$log" 2>&1
  fi || { tail -n 40 "$log" >&2; return 1; }
}

# The library with a plain build of rzmq: RZMQ_LIB if given (for example
# /tmp/libR4 from the developer's own build), else one built here once.
plain_lib() {
  if [ -n "${RZMQ_LIB:-}" ]; then
    echo "$RZMQ_LIB"
    return 0
  fi
  build_pkg plain || return 1
  echo "$WORK/lib-plain"
}
