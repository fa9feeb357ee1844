#!/usr/bin/env bash
# fresh-machine.sh: run README.md's demo command and then its test command,
# verbatim, in a clean chroot that has only what a fresh Debian bookworm
# machine with R has. Fails if either command fails, if R CMD check's Status
# has a WARNING or ERROR, or if testthat reports a failed or skipped test.
#
#   bash .ci/fresh-machine.sh            # tests the committed tree (HEAD)
#   RZMQ_FRESH_SOURCE=worktree bash .ci/fresh-machine.sh   # working tree
#
# Needs root, debootstrap (installed with apt-get if missing) and util-linux
# unshare. Environment:
#   RZMQ_FRESH_CACHE        base tarball and download cache (/var/cache/rzmq-ci)
#   RZMQ_FRESH_OUT          where the check logs are copied (/tmp/rzmq-fresh)
#   RZMQ_FRESH_SOURCE       head (default) or worktree
#   RZMQ_FRESH_REBUILD=1    rebuild the base tarball even if cached
#   RZMQ_FRESH_MAX_AGE_DAYS rebuild a base tarball older than this (30)
#   RZMQ_FRESH_APT_CACHE    .deb cache bind-mounted at /var/cache/apt/archives
#                           in the chroot: a directory, or "none"
#                           ($RZMQ_FRESH_CACHE/apt-archives)
#   RZMQ_FRESH_TIMEOUT      seconds allowed for each README command (1200)
#   RZMQ_FRESH_KEEP=1       keep the chroot after the run (not mounted)
#   TMPDIR                  where the chroot is made (/tmp)
set -euo pipefail

# What the fresh machine has on top of a minbase debootstrap. A change here
# (or in SCRIPT_VERSION, for a change in how the base is made) gives a new
# cache key, so the base is rebuilt.
# Recommends are left out: with them, r-base-core and r-cran-testthat pull in
# some 990 packages, pandoc among them. r-base-dev depends on pkg-config, so
# the base has pkg-config. FRESH_ABSENT must not be in the base.
SCRIPT_VERSION=2
FRESH_PACKAGES="r-base-core r-base-dev r-recommended r-cran-testthat build-essential gfortran git"
FRESH_APT_OPTS="--no-install-recommends"
FRESH_ABSENT="libzmq3-dev libzmq5 python3-zmq pandoc devscripts"
SUITE=bookworm
MIRROR=http://deb.debian.org/debian

CACHE=${RZMQ_FRESH_CACHE:-/var/cache/rzmq-ci}
OUT=${RZMQ_FRESH_OUT:-/tmp/rzmq-fresh}
SOURCE=${RZMQ_FRESH_SOURCE:-head}
APT_CACHE=${RZMQ_FRESH_APT_CACHE:-$CACHE/apt-archives}
[ "$APT_CACHE" != none ] || APT_CACHE=""
CMD_TIMEOUT=${RZMQ_FRESH_TIMEOUT:-1200}
MAX_AGE_DAYS=${RZMQ_FRESH_MAX_AGE_DAYS:-30}
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SELF=$(readlink -f "$0")

say() { printf '[fresh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Mount handling. Every mount is made inside a private mount namespace (see
# in_namespace), so none is ever visible to, or left behind on, the host; the
# unmounting below is for tidiness inside that namespace.

# mounts_under DIR: mount points at or below DIR, deepest first.
mounts_under() {
  local dir=${1%/}
  awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m)
                     if (m == d || index(m, d "/") == 1) print length(m) "\t" m }' \
    /proc/self/mountinfo | sort -rn | cut -f2-
}

# unmount_under DIR: unmount everything at or below DIR; lazily if busy.
# Returns non-zero if anything is still mounted there.
unmount_under() {
  local dir=$1 m
  for _ in 1 2 3; do
    [ -z "$(mounts_under "$dir")" ] && return 0
    while IFS= read -r m; do
      [ -n "$m" ] || continue
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under "$dir")
  done
  [ -z "$(mounts_under "$dir")" ]
}

# setup_mounts ROOT [APT_CACHE_DIR]: /proc, /sys, a minimal /dev, and the
# .deb cache, for a chroot at ROOT.
setup_mounts() {
  local root=$1 debs=${2:-} d
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
  mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
  for d in null zero full random urandom tty; do
    touch "$root/dev/$d"
    mount --bind "/dev/$d" "$root/dev/$d"
  done
  mkdir -p "$root/dev/pts" "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
  ln -s pts/ptmx "$root/dev/ptmx"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  if [ -n "$debs" ]; then
    mkdir -p "$debs/partial" "$root/var/cache/apt/archives"
    mount --bind "$debs" "$root/var/cache/apt/archives"
  fi
}

# in_namespace MODE ARGS...: run this script's MODE in a new mount and PID
# namespace. When it ends, the kernel kills whatever it left running and
# drops its mounts, even after kill -9.
# It runs in the background so that the host's INT/TERM trap can kill it
# (and so the namespace) at once.
NS_PID=""
in_namespace() {
  local rc=0
  unshare --mount --pid --fork --propagation private --kill-child -- \
    bash "$SELF" "$@" &
  NS_PID=$!
  wait "$NS_PID" || rc=$?
  NS_PID=""
  return "$rc"
}

# in_chroot ROOT COMMAND: run COMMAND with bash -c in the chroot as a root
# login would, in /root/rzmq if it exists, with a clean environment.
in_chroot() {
  local root=$1 cmd=$2
  env -i HOME=/root PATH="$CHROOT_PATH" LANG=C.UTF-8 TERM=dumb \
    DEBIAN_FRONTEND=noninteractive \
    chroot "$root" /bin/bash -c 'cd /root/rzmq 2>/dev/null || cd /root; exec bash -c "$1"' \
    bash "$cmd"
}

# ---------------------------------------------------------------------------
# Inside the namespace (called through in_namespace only).

# __build ROOT SOURCES: debootstrap a minbase bookworm into ROOT, give it
# the apt sources SOURCES and install the fresh machine's packages.
ns_build() {
  NS_ROOT=$1
  local sources=$2
  [ "$$" = 1 ] || die "__build must run through in_namespace"
  trap 'unmount_under "$NS_ROOT" || true' EXIT
  say "debootstrap --variant=minbase $SUITE $NS_ROOT $MIRROR"
  mkdir -p "$CACHE/debootstrap"
  debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap" \
    "$SUITE" "$NS_ROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  unmount_under "$NS_ROOT" || die "cannot unmount what debootstrap left under $NS_ROOT"
  rm -f "$NS_ROOT/etc/apt/sources.list"
  cp "$sources" "$NS_ROOT/etc/apt/sources.list.d/debian.sources"
  rm -f "$NS_ROOT/etc/resolv.conf"
  cp -L /etc/resolv.conf "$NS_ROOT/etc/resolv.conf"
  setup_mounts "$NS_ROOT" "$APT_CACHE"
  # no daemons start while the base is built
  printf '#!/bin/sh\nexit 101\n' >"$NS_ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$NS_ROOT/usr/sbin/policy-rc.d"
  say "apt-get upgrade; apt-get install $FRESH_APT_OPTS $FRESH_PACKAGES"
  in_chroot "$NS_ROOT" "apt-get update -q && apt-get upgrade -y -q &&
                        apt-get install -y -q $FRESH_APT_OPTS $FRESH_PACKAGES" \
    >"$CACHE/install.log" 2>&1 ||
    { tail -n 30 "$CACHE/install.log" >&2; die "installing the fresh machine's packages failed (log: $CACHE/install.log)"; }
  in_chroot "$NS_ROOT" "dpkg-query -W -f '\${db:Status-Abbrev} \${Package} \${Version}\n'" |
    awk '$1 == "ii" { print $2, $3 }' >"$NS_ROOT/.fresh-packages"
  local p
  for p in $FRESH_ABSENT; do
    if grep -q "^$p " "$NS_ROOT/.fresh-packages"; then
      die "the base has $p, which a fresh machine does not"
    fi
  done
  # (the .debs stay in the shared download cache: no apt-get clean while it
  # is mounted)
  unmount_under "$NS_ROOT" || die "cannot unmount under $NS_ROOT"
  rm -f "$NS_ROOT/usr/sbin/policy-rc.d" "$NS_ROOT/etc/resolv.conf"
  rm -rf "$NS_ROOT"/var/lib/apt/lists/* "$NS_ROOT"/var/cache/apt/*.bin \
    "$NS_ROOT"/var/cache/apt/archives/*.deb "$NS_ROOT"/tmp/* "$NS_ROOT"/root/.cache
  touch "$NS_ROOT/etc/resolv.conf"
}

# chroot_procs ROOT: "pid command" of each process chrooted into ROOT.
chroot_procs() {
  local p r
  for p in "$1"/proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$1" ] || continue
    printf '%s %s\n' "${p##*/}" "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
  done
}

# run_logged NAME COMMAND: COMMAND in the chroot, its output also in
# $OUT/NAME.out, within $CMD_TIMEOUT seconds. It runs in the background so
# that a signal reaches our trap at once. Prints the exit status.
run_logged() {
  local name=$1 cmd=$2 rc=0
  bash -c 'timeout -k 10 "$1" bash "$2" __chroot "$3" "$4" 2>&1 | tee "$5"
           exit "${PIPESTATUS[0]}"' \
    run_logged "$CMD_TIMEOUT" "$SELF" "$NS_ROOT" "$cmd" "$OUT/$name.out" </dev/null &
  wait $! || rc=$?
  [ "$rc" != 124 ] || say "$name: timed out after $CMD_TIMEOUT s"
  RUN_RC=$rc
}

# __run ROOT WORK: mount, then run the demo command and the test command
# (from WORK/demo-command and WORK/test-command). Appends the exit statuses
# and times to WORK/results.
ns_run() {
  NS_ROOT=$1
  local work=$2 name cmd t0 left
  [ "$$" = 1 ] || die "__run must run through in_namespace"
  trap 'unmount_under "$NS_ROOT" || true' EXIT
  trap 'say "interrupted"; exit 130' INT TERM
  setup_mounts "$NS_ROOT" "$APT_CACHE"
  for name in demo test; do
    cmd=$(cat "$work/$name-command")
    say "$name command: $cmd"
    t0=$(date +%s)
    run_logged "$name-command" "$cmd"
    printf '%s_RC=%s\nT_%s=%s\n' "${name^^}" "$RUN_RC" "$name" "$(( $(date +%s) - t0 ))" >>"$work/results"
    say "$name command exited with $RUN_RC after $(( $(date +%s) - t0 )) s"
    # anything it left running is reported (not a failure) and killed, so
    # the next command starts clean. A helper that ends by itself once it
    # sees its parent gone (processx's supervisor: within 0.4 s, measured)
    # is given 2 s to do so first.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      left=$(chroot_procs "$NS_ROOT")
      [ -n "$left" ] || break
      sleep 0.2
    done
    if [ -n "$left" ]; then
      say "still running in the chroot after the $name command (killed now):"
      sed 's/^/  /' <<<"$left"
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        left=$(chroot_procs "$NS_ROOT" | cut -d' ' -f1)
        [ -n "$left" ] || break
        # shellcheck disable=SC2086
        kill -KILL $left 2>/dev/null || true
        sleep 0.2
      done
    fi
  done
}

case ${1:-} in
  __build) shift; ns_build "$@"; exit 0 ;;
  __run) shift; ns_run "$@"; exit 0 ;;
  __chroot) shift; in_chroot "$@"; exit ;;
esac

# ---------------------------------------------------------------------------
# On the host.

[ "$(id -u)" = 0 ] || die "run as root (chroot and mounts)"
command -v unshare >/dev/null || die "unshare (util-linux) is missing"
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
T_START=$(date +%s)
TIMES=()
stage_done() { TIMES+=("$(printf '%-34s %5d s' "$1" "$2")"); say "$1: $2 s"; }

WORK=""
ROOT=""
cleanup() {
  local rc=$? p r
  trap - EXIT INT TERM
  [ -z "${SOURCES:-}" ] || rm -f "$SOURCES"
  [ "${BUILDING:-0}" != 1 ] || rm -f "$TARBALL.tmp"
  if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
    local t0; t0=$(date +%s)
    # With the PID namespace gone nothing can still run in the chroot; this
    # is a check, by process id, for processes whose root is the chroot.
    local found
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      found=0
      for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        if [ "$r" = "$ROOT" ] || [ "${r#"$ROOT"/}" != "$r" ]; then
          found=1
          say "killing leftover process ${p#/proc/} in the chroot"
          kill -KILL "${p#/proc/}" 2>/dev/null || true
        fi
      done
      [ "$found" = 1 ] || break
      sleep 0.5
    done
    if ! unmount_under "$WORK"; then
      say "FAIL: still mounted under $WORK, not deleting it:" >&2
      mounts_under "$WORK" >&2
      exit 1
    fi
    if [ "${RZMQ_FRESH_KEEP:-0}" = 1 ]; then
      say "kept the chroot (nothing mounted): $ROOT"
    else
      rm -rf --one-file-system "$WORK"
    fi
    stage_done "clean up" "$(( $(date +%s) - t0 ))"
  fi
  if mount | grep -qF "${WORK:-/nonexistent-rzmq-fresh}"; then
    say "FAIL: mounts left behind:" >&2
    mount | grep -F "$WORK" >&2
    rc=1
  fi
  if [ ${#TIMES[@]} -gt 0 ]; then
    echo "==== fresh-machine timings"
    printf '  %s\n' "${TIMES[@]}"
    printf '  %-34s %5d s\n' total "$(( $(date +%s) - T_START ))"
  fi
  exit "$rc"
}
trap cleanup EXIT
# Killing unshare kills the namespace (--kill-child), and with it every
# process and mount of the chroot.
on_signal() {
  say "interrupted"
  [ -z "$NS_PID" ] || kill -KILL "$NS_PID" 2>/dev/null || true
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# The two commands, verbatim from README.md of the tree under test: the
# ```sh block after the marker line.
readme_command() {
  local marker=$1 file=$2
  sed -n "/<!-- $marker -->/,/^\`\`\`\$/p" "$file" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d'
}

# ---- 1. the base root filesystem (cached)
t0=$(date +%s)
mkdir -p "$CACHE"
# host apt sources from deb.debian.org only (deb822 stanzas or one-line entries)
SOURCES=$(mktemp)
{
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /URIs:[^\n]*deb\.debian\.org/ && !/\nEnabled: *no/' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -E '^deb(-src)?[[:space:]].*://deb\.debian\.org/' "$f" || true
  done
} >"$SOURCES"
if ! grep -q 'deb\.debian\.org' "$SOURCES"; then
  cat >"$SOURCES" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
KEY=$( { echo "$SCRIPT_VERSION $SUITE $MIRROR $FRESH_APT_OPTS"; echo "$FRESH_PACKAGES"; cat "$SOURCES"; } |
       sha256sum | cut -c1-16)
TARBALL=$CACHE/bookworm-fresh-$KEY.tar

exec 9>"$CACHE/lock"
flock 9   # one build (and one reader during a build) at a time
if [ -f "$TARBALL" ] && [ "${RZMQ_FRESH_REBUILD:-0}" != 1 ] &&
   [ -z "$(find "$TARBALL" -mtime +"$MAX_AGE_DAYS")" ]; then
  say "reusing the base $TARBALL"
  stage_done "base: cached" "$(( $(date +%s) - t0 ))"
else
  say "building the base $TARBALL (takes several minutes)"
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host (CI's own tool)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  BUILDING=1
  WORK=$(mktemp -d "$CACHE/build.XXXXXX")
  ROOT=$WORK/root
  mkdir -p "$ROOT"
  in_namespace __build "$ROOT" "$SOURCES"
  mv "$ROOT/.fresh-packages" "${TARBALL%.tar}.packages"
  tar --numeric-owner -cf "$TARBALL.tmp" -C "$ROOT" .
  mv "$TARBALL.tmp" "$TARBALL"
  find "$CACHE" -maxdepth 1 -name 'bookworm-fresh-*' ! -name "${TARBALL##*/}" \
    ! -name "$(basename "${TARBALL%.tar}.packages")" -delete
  say "base: $(wc -l <"${TARBALL%.tar}.packages") packages (list: ${TARBALL%.tar}.packages)"
  say "base: $(du -h "$TARBALL" | cut -f1) in $TARBALL"
  unmount_under "$WORK" || die "still mounted under $WORK"
  rm -rf --one-file-system "$WORK"
  WORK=""; ROOT=""; BUILDING=0
  stage_done "base: built" "$(( $(date +%s) - t0 ))"
fi
rm -f "$SOURCES"; SOURCES=""

# ---- 2. a new chroot from the base, with the tree under test in /root/rzmq
t0=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rzmq-fresh.XXXXXX")
ROOT=$WORK/root
mkdir -p "$ROOT"
tar --numeric-owner -xpf "$TARBALL" -C "$ROOT"
flock -u 9; exec 9>&-
stage_done "extract the base" "$(( $(date +%s) - t0 ))"

t0=$(date +%s)
mkdir -p "$ROOT/root/rzmq"
case $SOURCE in
  head)
    say "tree under test: HEAD $(git -C "$REPO" rev-parse --short HEAD)"
    git -C "$REPO" archive HEAD | tar -x -C "$ROOT/root/rzmq"
    ;;
  worktree)
    say "tree under test: the working tree of $REPO (tracked and untracked, not ignored)"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
       tar --null -T - --ignore-failed-read -cf -) | tar -x -C "$ROOT/root/rzmq"
    ;;
  *) die "RZMQ_FRESH_SOURCE must be head or worktree, not $SOURCE" ;;
esac
rm -f "$ROOT/etc/resolv.conf" "$ROOT/etc/hosts"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -L /etc/hosts "$ROOT/etc/hosts"
# The network's own certificate authorities (a TLS-inspecting proxy's, say),
# as the host trusts them, so that https downloads (install.packages from
# CRAN) work in the chroot as on the host; kept if ca-certificates is
# reconfigured there.
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp -rL /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
fi
if [ -f /etc/ssl/certs/ca-certificates.crt ] && [ -d "$ROOT/etc/ssl/certs" ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
fi

readme=$ROOT/root/rzmq/README.md
[ -f "$readme" ] || die "no README.md in the tree under test"
readme_command demo-command "$readme" >"$WORK/demo-command"
readme_command test-command "$readme" >"$WORK/test-command"
[ -s "$WORK/demo-command" ] || die "no demo command (\`\`\`sh block after <!-- demo-command -->) in README.md"
[ -s "$WORK/test-command" ] || die "no test command (\`\`\`sh block after <!-- test-command -->) in README.md"
# the files in the tree, to compare with what R CMD build puts in the tarball
(cd "$ROOT/root/rzmq" && find . -type f | sed 's|^\./||' | sort) >"$WORK/tree-files"

if [ -e "$OUT" ] && [ ! -e "$OUT/.rzmq-fresh-out" ] && [ -n "$(ls -A "$OUT")" ]; then
  die "$OUT exists and is not an earlier output of this script; set RZMQ_FRESH_OUT"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
touch "$OUT/.rzmq-fresh-out"
stage_done "copy the tree" "$(( $(date +%s) - t0 ))"

# ---- 3. the two README commands, in the chroot
: >"$WORK/results"
in_namespace __run "$ROOT" "$WORK" || say "the chroot run ended with status $?"
DEMO_RC=none TEST_RC=none T_demo=0 T_test=0
# shellcheck disable=SC1091
. "$WORK/results"
stage_done "demo command" "$T_demo"
stage_done "test command" "$T_test"

# ---- 4. the verdict
t0=$(date +%s)
fail=()
[ "$DEMO_RC" = 0 ] || fail+=("the demo command exited with $DEMO_RC (output: $OUT/demo-command.out)")
[ "$TEST_RC" = 0 ] || fail+=("the test command exited with $TEST_RC (output: $OUT/test-command.out)")

pkgdir=$ROOT/root/rzmq
check=$pkgdir/rzmq.Rcheck
if [ -d "$check" ]; then
  # the logs, without the installed package and the unpacked sources
  (cd "$check" && find . -path ./rzmq -prune -o -path ./00_pkg_src -prune -o -type f -print |
     tar -T - -cf -) | tar -x -C "$OUT"
fi
cp "$pkgdir"/rzmq_*.tar.gz "$OUT/" 2>/dev/null || true

log=$check/00check.log
if [ -f "$log" ]; then
  echo "==== tail of 00check.log"
  tail -n 12 "$log"
  status=$(grep '^Status:' "$log" | tail -n 1 || true)
  if [ -z "$status" ]; then
    fail+=("00check.log has no Status line (check did not finish)")
  elif grep -qE 'WARNING|ERROR' <<<"$status"; then
    fail+=("R CMD check: $status")
  fi
  if grep -q 'NOTE$' "$log"; then
    echo "==== NOTEs in 00check.log"
    awk '/^\* / { keep = / NOTE$/ } keep' "$log"
  fi
else
  status="(no 00check.log)"
  fail+=("no rzmq.Rcheck/00check.log")
fi

rout=""
for f in "$check/tests/testthat.Rout" "$check/tests/testthat.Rout.fail"; do
  [ -f "$f" ] && rout=$f
done
summary=""
if [ -n "$rout" ]; then
  summary=$(grep -E '\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' "$rout" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    fail+=("no testthat summary line in ${rout#"$pkgdir"/}")
  else
    n_fail=$(sed -E 's/.*FAIL ([0-9]+).*/\1/' <<<"$summary")
    n_skip=$(sed -E 's/.*SKIP ([0-9]+).*/\1/' <<<"$summary")
    [ "$n_fail" = 0 ] || fail+=("testthat: $n_fail failed")
    if [ "$n_skip" != 0 ]; then
      fail+=("testthat: $n_skip skipped (every test must run)")
      echo "==== skipped tests"
      sed -n '/Skipped tests/,/^\[ FAIL/p' "$rout"
    fi
  fi
else
  fail+=("no tests/testthat.Rout or testthat.Rout.fail in rzmq.Rcheck")
fi

# what R CMD build put in the tarball that the tree did not have (build
# products of the demo's in-place R CMD INSTALL would show here)
tarball=$(find "$pkgdir" -maxdepth 1 -name 'rzmq_*.tar.gz' | head -n 1)
if [ -n "$tarball" ]; then
  extra=$(tar -tzf "$tarball" | grep -v '/$' | sed 's|^rzmq/||' | sort |
          comm -23 - "$WORK/tree-files" | grep -vE '^(build/|MD5$)' || true)
  if [ -n "$extra" ]; then
    echo "==== in ${tarball##*/} but not in the tree under test:"
    sed 's/^/  /' <<<"$extra"
  else
    echo "==== ${tarball##*/}: no files beyond the tree (no build products from the demo's install)"
  fi
  # README's Guides: the tarball installs every guide, rendered
  listing=$(tar -tzf "$tarball")
  for rmd in "$pkgdir"/vignettes/*.Rmd; do
    guide=$(basename "$rmd" .Rmd)
    grep -qx "rzmq/inst/doc/$guide.html" <<<"$listing" ||
      fail+=("${tarball##*/} has no rendered guide inst/doc/$guide.html (README's Guides)")
  done
  echo "==== ${tarball##*/}: $(grep -c '^rzmq/inst/doc/.*\.html$' <<<"$listing") rendered guides"
else
  fail+=("no rzmq_*.tar.gz from the test command (README's Guides install it)")
fi
stage_done "verdict" "$(( $(date +%s) - t0 ))"

echo "==== fresh machine result"
echo "  demo command: exit $DEMO_RC"
echo "  test command: exit $TEST_RC"
echo "  check:    ${status:-?}"
echo "  testthat: ${summary:-(none)}"
echo "  logs:     $OUT"
if [ ${#fail[@]} -gt 0 ]; then
  printf '  FAIL: %s\n' "${fail[@]}"
  exit 1
fi
echo "  PASS"
