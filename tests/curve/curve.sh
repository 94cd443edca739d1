#!/usr/bin/env bash
# curve.sh — CURVE on the cluster sockets, end to end on loopback:
#   - `gpsc keygen --cluster` makes the keys; the coordinator runs with the
#     server key and the allow-list, the learner with the server pair;
#   - two workers with the worker key join and do the run;
#   - three intruders try all along: a worker whose key is not on the
#     allow-list, a worker without keys, a worker that has the right key
#     but the wrong server key. None of them joins, each kind of refusal is
#     in the coordinator's log, and they get no task;
#   - the checkpoints equal those of a local `gpsc run` of the same
#     experiment byte for byte (the run is unaffected).
#
#   bash tests/curve/curve.sh        (GPSC_BIN_DIR, GPSC_SOURCE_DIR)
set -uo pipefail
top=${GPSC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${GPSC_BIN_DIR:-$top/build/bin}
exp=$top/experiments/reacher.yaml
iters=${GPSC_TEST_ITERATIONS:-4}
work=$(mktemp -d /tmp/gpsc-curve.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; exit 1; }
for e in gpsc gpsc-run gpsc-coordinator gpsc-learner gpsc-worker gpsc-keygen; do
  [ -x "$bin/$e" ] || die "$bin/$e is missing"
done

# three free loopback ports
# (from a start that depends on our pid, so parallel runs do not race)
port=$(python3 -c '
import os, socket
start = 17300 + 3 * (os.getppid() % 200)
for base in list(range(start, 18500, 3)) + list(range(17300, start, 3)):
    try:
        ss = [socket.socket() for _ in range(3)]
        for i, s in enumerate(ss): s.bind(("127.0.0.1", base + i))
        for s in ss: s.close()
        print(base); break
    except OSError:
        pass')
[ -n "$port" ] || die "no free ports"
ctl=tcp://127.0.0.1:$port
lrn=tcp://127.0.0.1:$((port + 1))
logp=tcp://127.0.0.1:$((port + 2))

# the reference: a local run
"$bin/gpsc" run "$exp" --iterations "$iters" --workers 2 --run-dir "$work/local" \
  >"$work/local.out" 2>&1 || die "local gpsc run failed: $(tail -n 5 "$work/local.out")"

# keys
"$bin/gpsc" keygen -q --cluster "$work/keys" || die "gpsc keygen --cluster"
"$bin/gpsc" keygen -q "$work/stranger" || die "gpsc keygen stranger"
k=$work/keys

# the intruders first, so they knock all through the run
start() { # name cmd...
  local name=$1
  shift
  "$@" >"$work/$name.out" 2>&1 &
  pids+=($!)
}
"$bin/gpsc-coordinator" --experiment "$exp" --run-dir "$work/run" --iterations "$iters" \
  --control "$ctl" --learner "$lrn" --log-pub "$logp" \
  --curve-secret "$k/server.key" --allow-keys "$k/allow.txt" >"$work/coordinator.out" 2>&1 &
coord=$!
pids+=($coord)
# bound once RUN/endpoints exists
for ((t = 0; t < 100; t++)); do [ -s "$work/run/endpoints" ] && break; sleep 0.1; done
[ -s "$work/run/endpoints" ] || die "the coordinator did not bind: $(tail -n 3 "$work/coordinator.out")"
start intruder-key "$bin/gpsc-worker" --connect "$ctl" --experiment "$exp" --id intruder-key \
  --curve-secret "$work/stranger.key" --curve-server-key "$k/server.pub"
start intruder-plain "$bin/gpsc-worker" --connect "$ctl" --experiment "$exp" --id intruder-plain
start intruder-server "$bin/gpsc-worker" --connect "$ctl" --experiment "$exp" \
  --id intruder-server --curve-secret "$k/worker.key" --curve-server-key "$work/stranger.pub"
# a learner without keys is refused as well (on the learner endpoint)
start intruder-learner "$bin/gpsc-learner" --connect "$lrn" --id intruder-learner
sleep 1
start learner "$bin/gpsc-learner" --connect "$lrn" --id learner-1 \
  --curve-secret "$k/server.key" --curve-server-key "$k/server.pub"
for i in 1 2; do
  start worker-$i "$bin/gpsc-worker" --connect "$ctl" --experiment "$exp" --id worker-$i \
    --curve-secret "$k/worker.key" --curve-server-key "$k/server.pub"
done

# the run ends by itself (60 s at most)
for ((t = 0; t < 600; t++)); do
  kill -0 "$coord" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$coord" 2>/dev/null; then
  bad "the run did not finish within 60 s"
  kill -TERM "$coord"
fi
wait "$coord"
rc=$?
[ "$rc" = 0 ] && ok "coordinator exit 0" || bad "coordinator exit $rc: $(tail -n 3 "$work/coordinator.out")"

log=$work/coordinator.out
for w in worker-1 worker-2 learner-1; do
  grep -q "\"msg\":\"[a-z]* $w joined" "$log" && ok "$w joined" || bad "$w did not join"
done
for w in intruder-key intruder-plain intruder-server intruder-learner; do
  grep -q "$w joined" "$log" && bad "$w joined" || ok "$w did not join"
done
refusals=$(grep '"refused: [0-9]* connection' "$log")
[ -n "$refusals" ] && ok "refusals logged ($(wc -l <<<"$refusals") lines)" ||
  bad "no refusal in the coordinator's log"
grep -q "with a key not on the allow-list" <<<"$refusals" && ok "logged: key not on the allow-list" ||
  bad "the unknown key is not logged"
stranger_pub=$("$bin/gpsc" keygen --show "$work/stranger.pub")
grep -qF "$stranger_pub" <<<"$refusals" && ok "logged: the denied key itself" ||
  bad "the denied key is not named"
grep -q "without CURVE keys" <<<"$refusals" && ok "logged: peers without keys" ||
  bad "the peer without keys is not logged"
grep -q "with the wrong server key" <<<"$refusals" && ok "logged: wrong server key" ||
  bad "the wrong server key is not logged"

# unaffected: the same bytes as the local run
n=0
for f in "$work"/local/checkpoints/iter_*.pb; do
  g=$work/run/checkpoints/$(basename "$f")
  if cmp -s "$f" "$g"; then n=$((n + 1)); else bad "$(basename "$f") differs from the local run"; fi
done
[ "$n" = $((iters + 1)) ] && ok "$n checkpoints byte-identical to the local run" ||
  bad "$n of $((iters + 1)) checkpoints identical"

if [ "$fails" = 0 ]; then echo "PASS: curve"; exit 0; fi
echo "FAIL: curve ($fails problems)"
exit 1
