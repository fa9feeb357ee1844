#!/usr/bin/env bash
# A private OpenSSH server on 127.0.0.1 for the launch.ssh() tests.
#
#   bash tests/daemons/sshd.sh start   # prints the client config's path
#   bash tests/daemons/sshd.sh stop    # stops it and every session it runs
#
# As root. Everything lives in $RZMQ_DAEMONS_DIR/sshd (default
# /tmp/rzmq-daemons/sshd): a host key and a user key made for the test,
# sshd_config (a free port on 127.0.0.1, public keys only, the user key as
# the only authorized key, port forwarding allowed for tunnel = TRUE),
# known_hosts with the host key, and ssh_config for the client:
#   ssh -F $RZMQ_DAEMONS_DIR/sshd/ssh_config 127.0.0.1 ...
# Neither ~/.ssh nor /etc/ssh is read or changed. Sessions get R_LIBS as it
# was when the server started, so workers load the same rzmq as the tests.
set -uo pipefail
. "$(dirname "$0")/common.sh"
dir=$RZMQ_DAEMONS_DIR/sshd

start() {
  need_root
  [ -x /usr/sbin/sshd ] || die "no /usr/sbin/sshd: apt-get install openssh-server"
  if [ -f "$dir/sshd.pid" ] && alive "$(cat "$dir/sshd.pid")"; then
    die "already running (pid $(cat "$dir/sshd.pid")); stop it first"
  fi
  rm -rf "$dir"
  mkdir -p "$RZMQ_DAEMONS_DIR" && mkdir -m 0700 "$dir" || die "cannot make $dir"
  ssh-keygen -q -t ed25519 -N '' -C rzmq-test-host -f "$dir/host_key" || die "ssh-keygen failed"
  ssh-keygen -q -t ed25519 -N '' -C rzmq-test-user -f "$dir/user_key" || die "ssh-keygen failed"
  cp "$dir/user_key.pub" "$dir/authorized_keys"
  # sshd's privilege separation directory (Debian's service makes it; we may not have run that)
  if [ ! -d /run/sshd ]; then
    mkdir -m 0755 /run/sshd && touch "$dir/made-run-sshd"
  fi
  local port user
  port=$(free_port) || die "no free port"
  user=$(id -un)
  {
    echo "Port $port"
    echo "ListenAddress 127.0.0.1"
    echo "HostKey $dir/host_key"
    echo "PidFile $dir/sshd.pid"
    echo "AuthorizedKeysFile $dir/authorized_keys"
    echo "AuthenticationMethods publickey"
    echo "PubkeyAuthentication yes"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "PermitRootLogin prohibit-password"
    echo "AllowUsers $user"
    echo "UsePAM no"
    echo "StrictModes no"
    echo "AllowTcpForwarding yes"
    echo "GatewayPorts no"
    echo "X11Forwarding no"
    echo "PrintMotd no"
    echo "LogLevel VERBOSE"
    [ -n "${R_LIBS:-}" ] && echo "SetEnv R_LIBS=$R_LIBS"
  } > "$dir/sshd_config"
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
  echo "[localhost]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >> "$dir/known_hosts"
  {
    echo "Host 127.0.0.1 localhost"
    echo "  Port $port"
    echo "  User $user"
    echo "  IdentityFile $dir/user_key"
    echo "  IdentitiesOnly yes"
    echo "  UserKnownHostsFile $dir/known_hosts"
    echo "  GlobalKnownHostsFile /dev/null"
    echo "  StrictHostKeyChecking yes"
    echo "  BatchMode yes"
    echo "  ConnectTimeout 10"
    echo "  LogLevel ERROR"
  } > "$dir/ssh_config"
  /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd rejects $dir/sshd_config"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd did not start (see $dir/sshd.log)"
  if ! wait_for 15 ssh -F "$dir/ssh_config" 127.0.0.1 true; then
    cat "$dir/sshd.log" >&2
    stop
    die "sshd on 127.0.0.1:$port does not let the test key in"
  fi
  echo "$port" > "$dir/port"
  echo "$dir/ssh_config"
}

stop() {
  local pid
  if [ -f "$dir/sshd.pid" ]; then
    pid=$(cat "$dir/sshd.pid")
    # the sessions first (per-connection sshd, shells, workers): they outlive the listener
    if [ -n "$pid" ] && alive "$pid"; then
      kill_pids TERM $(descendants "$pid")
    fi
    stop_pidfile "$dir/sshd.pid" sshd || return 1
  fi
  # a listener whose pid file is gone (e.g. the directory was deleted)
  for pid in $(pids_naming "$dir/sshd_config"); do
    kill_pids TERM $(descendants "$pid") "$pid"
  done
  if [ -f "$dir/made-run-sshd" ]; then
    rmdir /run/sshd 2>/dev/null
    rm -f "$dir/made-run-sshd"
  fi
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
