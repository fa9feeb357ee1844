#!/usr/bin/env bash
# libzmq-mingw.sh: a static libzmq for x86_64-w64-mingw32, cross-built from
# Debian's own zeromq3 source package with its CMake, CURVE on (libzmq's
# built-in tweetnacl, no libsodium). Prints the install prefix on stdout.
# Cached under $RZMQ_CROSS_CACHE (default /var/cache/rzmq-ci/mingw-libzmq),
# keyed by the source version and this script's settings, so reruns take
# seconds. Needs apt-get (for the source), cmake and the mingw-w64 C and C++
# cross compilers (gcc-mingw-w64-x86-64, g++-mingw-w64-x86-64).
set -euo pipefail

TRIPLET=x86_64-w64-mingw32
CACHE=${RZMQ_CROSS_CACHE:-/var/cache/rzmq-ci/mingw-libzmq}
# Debian's source for this release (the libzmq CI's Linux builds use), from
# the host's Debian mirror; the host's apt configuration is not touched: apt
# runs here with a sources list and package lists of its own.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
           /etc/apt/sources.list.d/*.sources 2>/dev/null |
         grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}" || true)
SRC_LINE=${RZMQ_CROSS_DEBSRC:-"deb-src ${mirror:-http://deb.debian.org/debian} ${suite:-bookworm} main"}
# Rtools' compilers use the posix thread model (winpthreads), as these do
CC_X=${RZMQ_CROSS_CC:-$TRIPLET-gcc-posix}
CXX_X=${RZMQ_CROSS_CXX:-$TRIPLET-g++-posix}
# bump when the CMake settings below change: a new key, a new build
RECIPE=1
log() { echo "libzmq-mingw: $*" >&2; }

for tool in "$CC_X" "$CXX_X" cmake apt-get dpkg-source; do
  command -v "$tool" >/dev/null || { log "missing: $tool"; exit 1; }
done
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9

apt_dir="$CACHE/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
printf '%s\n' "$SRC_LINE" > "$apt_dir/sources.list"
APT=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
     -o "Dir::Etc::SourceParts=/nonexistent" -o "Dir::State::Lists=$apt_dir/lists"
     -o "Dir::Cache=$apt_dir" -o "APT::Sandbox::User=root")
version() { apt-cache "${APT[@]}" showsrc zeromq3 2>/dev/null |
              awk '/^Version:/ {print $2}' | sort -V | tail -1; }

# the source lists are refreshed weekly (or with RZMQ_CROSS_REFRESH=1)
ver=$(version || true)
fresh=$(find "$apt_dir/lists" -maxdepth 1 -name '*Sources*' -mtime -7 2>/dev/null | head -1)
if [ -z "$ver" ] || [ -z "$fresh" ] || [ -n "${RZMQ_CROSS_REFRESH:-}" ]; then
  log "apt-get update (source lists only, in $apt_dir)"
  apt-get -qq "${APT[@]}" update >&2
  ver=$(version || true)
fi
[ -n "$ver" ] || { log "zeromq3 not found with '$SRC_LINE'"; exit 1; }
key="zeromq3-$ver-r$RECIPE-$($CC_X -dumpversion)"
prefix="$CACHE/$key"
if [ -f "$prefix/.done" ]; then
  log "cached: $prefix"
  echo "$prefix"
  exit 0
fi

work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building $key in $work"
(cd "$work" && apt-get -qq "${APT[@]}" source "zeromq3=$ver" >&2)
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'zeromq3-*' | head -1)
[ -n "$src" ] || { log "apt-get source gave no directory"; exit 1; }

cat > "$work/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 6.1)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $CC_X)
set(CMAKE_CXX_COMPILER $CXX_X)
set(CMAKE_RC_COMPILER $TRIPLET-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$TRIPLET)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
TC
# static only, CURVE with tweetnacl, no tests, docs, perf tools or drafts;
# _WIN32_WINNT 0x0600 (Vista): what inet_pton and the condition variables need;
# no ipc:// transport (4.3.4 finds mingw's afunix.h, then wants sys/socket.h)
cmake -S "$src" -B "$work/build" -G "Unix Makefiles" \
  -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix.tmp" \
  -DBUILD_SHARED=OFF -DBUILD_STATIC=ON -DBUILD_TESTS=OFF -DWITH_DOCS=OFF \
  -DWITH_PERF_TOOL=OFF -DENABLE_CPACK=OFF -DENABLE_DRAFTS=OFF \
  -DWITH_LIBSODIUM=OFF -DENABLE_CURVE=ON -DWITH_LIBBSD=OFF \
  -DZMQ_WIN32_WINNT=0x0600 -DZMQ_HAVE_IPC=OFF >&2
cmake --build "$work/build" -j "$(nproc)" >&2
rm -rf "$prefix.tmp"
cmake --install "$work/build" >&2
# one archive name whatever CMake called it (libzmq.a, libzmq-v*-mt-s-*.a)
lib=$(find "$prefix.tmp/lib" -maxdepth 1 -name 'libzmq*.a' | head -1)
[ -n "$lib" ] || { log "no static library was installed"; exit 1; }
[ "$lib" = "$prefix.tmp/lib/libzmq.a" ] || cp "$lib" "$prefix.tmp/lib/libzmq.a"
grep -q 'define ZMQ_VERSION_MAJOR 4' "$prefix.tmp/include/zmq.h"
# the .pc file names the install directory: the final one, after the move
sed -i "s|$prefix.tmp|$prefix|g" "$prefix.tmp/lib/pkgconfig/libzmq.pc"
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
# older builds of other versions go
find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name 'zeromq3-*' ! -name "$key" \
  -exec rm -rf {} +
touch "$prefix/.done"
log "installed $prefix"
echo "$prefix"
