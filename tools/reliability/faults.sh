#!/usr/bin/env bash
# faults.sh: fault injection (needs root for part c).
#   (a) a worker process killed with SIGKILL in the middle of a stream
#   (b) the high-water mark reached with a send timeout
#       (both in faults.R; see its header for what passes)
#   (c) two network namespaces joined by a veth pair (10.77.0.1/24 and
#       10.77.0.2/24); a PUSH in one sends 1..N at a steady rate to a PULL in
#       the other; in the middle of the stream the link is cut for 5 s (ip
#       link set dev X down) and restored. Pass: the PULL gets every number
#       exactly once and in order, nothing arrives while the link is down,
#       the stream resumes after it is restored, both processes exit 0, and
#       the namespaces and links are gone afterwards (trap). Run twice: cut
#       at the sender's end, then at the receiver's end.
#
#   bash tools/reliability/faults.sh [a|b|c ...]     # default: all three
#
# The kernel here has no sch_netem, so the cut is the link going down (the
# TCP connection survives: no heartbeats, soft errors only).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

parts=${*:-a b c}
t0=$(date +%s)
lib=$(plain_lib) || { echo "faults: FAIL (build)"; exit 1; }
overall=0

rparts=""
for p in $parts; do
  case $p in a) rparts+="kill,";; b) rparts+="hwm,";; esac
done
rparts=${rparts%,}
if [ -n "$rparts" ]; then
  R_LIBS=$lib Rscript "$REL_DIR/faults.R" --part="$rparts" || overall=1
fi

# ---- (c) a network cut between two namespaces ------------------------------------
tag="rzr$$"
NS_A="${tag}a"; NS_B="${tag}b"; V_A="${tag}va"; V_B="${tag}vb"
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# Count the PULL has received so far (its progress file).
count() {
  local c
  c=$(cat "$WORK/netpull.progress" 2>/dev/null)
  echo "${c:-0}"
}

run_cut() {
  local side=$1 dev_ns dev n=3000 rate=200 rc_pull rc_push
  if [ "$side" = sender ]; then dev_ns=$NS_A; dev=$V_A; else dev_ns=$NS_B; dev=$V_B; fi
  say "(c) network cut at the $side's end ($dev in $dev_ns) for 5 s, $n messages at $rate/s"
  ip netns add "$NS_A" && ip netns add "$NS_B" &&
    ip link add "$V_A" netns "$NS_A" type veth peer name "$V_B" netns "$NS_B" &&
    ip -n "$NS_A" addr add 10.77.0.1/24 dev "$V_A" &&
    ip -n "$NS_B" addr add 10.77.0.2/24 dev "$V_B" &&
    ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up &&
    ip -n "$NS_A" link set "$V_A" up && ip -n "$NS_B" link set "$V_B" up ||
    { echo "(c) FAIL: cannot set up the namespaces (root and iproute2 needed)"; return 1; }
  rm -f "$WORK/netpull.progress"
  ip netns exec "$NS_B" env R_LIBS="$lib" Rscript "$REL_DIR/faults.R" --role=netpull \
    --endpoint=tcp://10.77.0.2:5555 --progress="$WORK/netpull.progress" >"$WORK/netpull.out" 2>&1 &
  local pull_pid=$!
  pids=("$pull_pid")
  for _ in $(seq 100); do [ -f "$WORK/netpull.progress" ] && break; sleep 0.1; done
  ip netns exec "$NS_A" env R_LIBS="$lib" Rscript "$REL_DIR/faults.R" --role=netpush \
    --endpoint=tcp://10.77.0.2:5555 --n=$n --rate=$rate >"$WORK/netpush.out" 2>&1 &
  local push_pid=$!
  pids=("$pull_pid" "$push_pid")
  sleep 5
  local before=$(count)
  ip -n "$dev_ns" link set "$dev" down
  local t_cut=$(date +%s.%N)
  sleep 0.5 # what was already on the wire may still land
  local cut_start=$(count)
  sleep 4.5
  local cut_end=$(count)
  ip -n "$dev_ns" link set "$dev" up
  local t_up=$(date +%s.%N) t_resumed=""
  # how long until the stream moves again (TCP retransmission backs off)
  for _ in $(seq 600); do
    if [ "$(count)" -gt "$cut_end" ]; then t_resumed=$(date +%s.%N); break; fi
    sleep 0.05
  done
  say "    link down for $(echo "$t_up - $t_cut" | bc) s; the stream moved again $(
    [ -n "$t_resumed" ] && echo "$t_resumed - $t_up" | bc || echo "never (30 s)") s after the link came back"
  # wait for both (at most 90 s), then their verdicts
  for _ in $(seq 900); do
    kill -0 "$push_pid" 2>/dev/null || kill -0 "$pull_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$push_pid"; rc_push=$?
  wait "$pull_pid"; rc_pull=$?
  pids=()
  local total=$(count)
  echo "    received before the cut: $before; during the cut: $((cut_end - cut_start)) (plus $((cut_start - before)) already in flight in its first 0.5 s); after the link came back: $((total - cut_end)); total $total of $n"
  echo "    sender: $(tail -n 1 "$WORK/netpush.out")"
  echo "    receiver: $(grep -E '^received' "$WORK/netpull.out")"
  local ok=0
  [ "$rc_push" -eq 0 ] || { echo "    FAIL: the sender exited $rc_push"; tail -n 5 "$WORK/netpush.out"; ok=1; }
  [ "$rc_pull" -eq 0 ] || { echo "    FAIL: the receiver exited $rc_pull (lost, duplicated or out of order)"; tail -n 5 "$WORK/netpull.out"; ok=1; }
  [ "$((cut_end - cut_start))" -eq 0 ] || { echo "    FAIL: messages arrived while the link was down"; ok=1; }
  [ "$total" -eq "$n" ] || { echo "    FAIL: $total of $n received"; ok=1; }
  [ "$before" -gt 0 ] && [ "$before" -lt "$n" ] || { echo "    FAIL: the cut was not in the middle of the stream"; ok=1; }
  cleanup
  # the namespaces and their links go away (asynchronously in the kernel)
  for _ in $(seq 50); do
    ip netns list | grep -q "$tag" || ip link show 2>/dev/null | grep -q "$tag" || break
    sleep 0.1
  done
  if ip netns list | grep -q "$tag" || ip link show | grep -q "$tag"; then
    echo "    FAIL: namespaces or links left behind"; ok=1
  else
    echo "    cleaned up: no namespace or link named $tag* left"
  fi
  [ "$ok" -eq 0 ] && echo "    (c, cut at the $side) PASS" || echo "    (c, cut at the $side) FAIL"
  return $ok
}

if [[ " $parts " == *" c "* ]]; then
  if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    echo "(c) FAIL: needs root and iproute2 (apt-get install -y iproute2)"
    overall=1
  else
    run_cut sender || overall=1
    run_cut receiver || overall=1
  fi
fi

echo "faults runtime: $(( $(date +%s) - t0 )) s"
if [ "$overall" -ne 0 ]; then echo "faults: FAIL"; exit 1; fi
echo "faults: PASS"
