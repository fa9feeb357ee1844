#!/usr/bin/env bash
# A single-node SLURM cluster on this machine for the launch.slurm() tests.
#
#   bash tests/daemons/slurm.sh start   # prints the slurm.conf path: export SLURM_CONF=<it>
#   bash tests/daemons/slurm.sh stop    # cancels every job, stops the daemons
#
# As root. Everything lives in $RZMQ_DAEMONS_DIR/slurm (default
# /tmp/rzmq-daemons/slurm): munged with a key made for the test and its own
# socket, slurmctld and slurmd with a minimal slurm.conf (this host as the
# only node, 4 CPUs declared whatever the machine has so several one-CPU
# jobs run at once, no accounting, no cgroups: proctrack/linuxproc and
# task/none), their state, spool and logs. Nothing under /etc, /run or /var
# is used or changed; the client commands (sbatch, squeue, scancel) find
# this cluster through SLURM_CONF.
set -uo pipefail
. "$(dirname "$0")/common.sh"
dir=$RZMQ_DAEMONS_DIR/slurm
conf=$dir/slurm.conf

start() {
  need_root
  local b
  for b in munged slurmctld slurmd; do
    [ -x "/usr/sbin/$b" ] || die "no /usr/sbin/$b: apt-get install slurm-wlm munge"
  done
  for b in munged slurmctld slurmd; do
    if [ -f "$dir/$b.pid" ] && alive "$(cat "$dir/$b.pid")"; then
      die "$b already running (pid $(cat "$dir/$b.pid")); stop it first"
    fi
  done
  rm -rf "$dir"
  mkdir -p "$RZMQ_DAEMONS_DIR" && mkdir -m 0700 "$dir" || die "cannot make $dir"
  mkdir -m 0700 "$dir/munge" "$dir/state" "$dir/spool" "$dir/jobs"

  # munge: a fresh key, its own socket (slurm.conf's AuthInfo points at it)
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$dir/munge/munge.key"
  /usr/sbin/munged --force --key-file="$dir/munge/munge.key" \
    --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" ||
    die "munged did not start (see $dir/munged.log)"
  wait_for 10 test -S "$dir/munge/munge.socket" || { stop; die "munged has no socket"; }

  local host ctld_port d_port cpus=4
  host=$(hostname -s)
  ctld_port=$(free_port) || die "no free port"
  d_port=$(free_port) || die "no free port"
  : > "$dir/plugstack.conf"
  cat > "$conf" <<CONF
ClusterName=rzmqtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
MinJobAge=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  export SLURM_CONF=$conf
  /usr/sbin/slurmctld -f "$conf" || { stop; die "slurmctld did not start (see $dir/slurmctld.log)"; }
  /usr/sbin/slurmd -f "$conf" -N "$host" || { stop; die "slurmd did not start (see $dir/slurmd.log)"; }
  # ready when the node takes jobs
  if ! wait_for 30 node_idle "$host"; then
    tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2
    sinfo -N -h >&2
    stop
    die "the node did not come up"
  fi
  echo "$conf"
}

node_idle() {
  sinfo -h -N -n "$1" -o '%t' 2>/dev/null | grep -Eq '^(idle|mix|alloc)'
}

stop() {
  local rc=0
  if [ -f "$conf" ] && [ -f "$dir/slurmctld.pid" ] && alive "$(cat "$dir/slurmctld.pid")"; then
    export SLURM_CONF=$conf
    # every job of this cluster, then wait (bounded) until the node ran their ends
    scancel --quiet --full --partition=test 2>/dev/null
    wait_for 15 no_jobs || echo "jobs left in squeue after scancel" >&2
  fi
  # job steps that slurmd started (slurmstepd and the job's processes) first
  local pid
  if [ -f "$dir/slurmd.pid" ]; then
    pid=$(cat "$dir/slurmd.pid")
    [ -n "$pid" ] && alive "$pid" && kill_pids TERM $(descendants "$pid")
  fi
  for pid in $(stepd_pids); do kill_pids TERM $(descendants "$pid") "$pid"; done
  stop_pidfile "$dir/slurmd.pid" slurmd || rc=1
  stop_pidfile "$dir/slurmctld.pid" slurmctld || rc=1
  stop_pidfile "$dir/munged.pid" munged || rc=1
  # daemons whose pid files are gone: found by this directory in their
  # command lines (slurmctld's helper slurmscriptd goes with slurmctld)
  for pid in $(pids_naming "$conf") $(pids_naming "$dir/munge/munge.key"); do
    kill_pids TERM $(descendants "$pid") "$pid"
  done
  return $rc
}

no_jobs() {
  [ -z "$(squeue -h -o %i 2>/dev/null)" ] && squeue -h >/dev/null 2>&1
}

# slurmstepd processes serving this cluster (re-parented, not slurmd's
# children; their command lines name no file): those with a file or their
# working directory in this cluster's directory or the launch directories.
stepd_pids() {
  local p
  for p in $(ps -eo pid=,comm= | awk '$2 == "slurmstepd" {print $1}'); do
    if ls -l "/proc/$p/cwd" "/proc/$p/fd" 2>/dev/null | grep -qF "$RZMQ_DAEMONS_DIR"; then
      echo "$p"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
