# Shared by sshd.sh and slurm.sh (sourced, not run).
# Where the daemons keep their files: keys, configuration, logs, pid files.
RZMQ_DAEMONS_DIR=${RZMQ_DAEMONS_DIR:-/tmp/rzmq-daemons}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it starts system daemons)"
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  local py=/usr/bin/python3
  [ -x "$py" ] || py=python3
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds or
# SECONDS pass (then return 1).
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case "$st" in Z*|"") return 1 ;; esac
}

# descendants PID: the pids of every process below PID, deepest first.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}

# kill_pids SIGNAL PID...: send SIGNAL to each, then wait up to 5 s for all
# to be gone; KILL those left.
kill_pids() {
  local sig=$1 pid i left; shift
  [ $# -gt 0 ] || return 0
  kill -"$sig" "$@" 2>/dev/null
  for i in $(seq 50); do
    left=""
    for pid in "$@"; do alive "$pid" && left="$left $pid"; done
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  echo "still running after $sig:$left; KILL" >&2
  kill -KILL $left 2>/dev/null
  sleep 0.5
}

# stop_pidfile FILE NAME: TERM the process whose pid is in FILE, KILL it
# after 5 s, and wait until it is gone. Only that one process.
stop_pidfile() {
  local file=$1 name=$2 pid i
  [ -f "$file" ] || return 0
  pid=$(cat "$file" 2>/dev/null)
  rm -f "$file"
  [ -n "$pid" ] || return 0
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
  echo "$name (pid $pid) did not stop on TERM; KILL" >&2
  kill -KILL "$pid" 2>/dev/null
  for i in $(seq 20); do alive "$pid" || return 0; sleep 0.1; done
  echo "$name (pid $pid) still running" >&2
  return 1
}

# pids_naming TEXT: live processes whose command line contains TEXT (a path
# in this run's private directory, so only daemons this harness started).
pids_naming() {
  local p
  for p in $(ps -eo pid=); do
    [ "$p" = "$$" ] && continue
    if tr '\0' ' ' 2>/dev/null < "/proc/$p/cmdline" | grep -qF -- "$1" && alive "$p"; then
      echo "$p"
    fi
  done
}
