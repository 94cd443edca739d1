#!/usr/bin/env bash
# topology.sh — the docker-compose topology without a container engine:
# the command lines of deploy/docker/docker-compose.yml (as `docker-compose
# config` resolves them), each started in a network namespace of its own
# on a private bridge (tests/netns/netns.sh), with service names resolving
# to the namespaces' addresses as on a compose network:
#
#   keys         gpsc keygen --cluster /keys          (one shot, first)
#   coordinator  10.231.<n>.12   binds tcp://*:5555-5557, CURVE server
#   learner      10.231.<n>.13   tcp://coordinator:5556
#   worker-1/2   10.231.<n>.14/15 tcp://coordinator:5555  (--scale worker=2)
#
# The volumes become directories (runs -> WORK/runs, keys -> WORK/keys), the
# image's /opt/gpsc/experiments the source tree's experiments/, and `gpsc`
# the built one; nothing else of the command lines changes. The run must
# complete with checkpoints byte-identical to a local `gpsc run` of the
# same experiment, iterations and seed, and the workers' traffic must have
# crossed their veth links.
#
#   bash tests/netns/topology.sh     (GPSC_BIN_DIR, GPSC_SOURCE_DIR)
#
# Prints "SKIP: reason" and passes only when the host forbids namespaces
# or docker-compose cannot be installed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=${GPSC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${GPSC_BIN_DIR:-$top/build/bin}
. "$here/netns.sh"

if why=$(gpsc_netns_unavailable); then
  echo "SKIP: compose topology test: $why"
  exit 0
fi
if ! command -v docker-compose >/dev/null; then
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose \
    >/dev/null 2>&1
fi
if ! command -v docker-compose >/dev/null; then
  echo "SKIP: compose topology test: docker-compose is not installed and cannot be"
  exit 0
fi
for e in gpsc gpsc-run gpsc-coordinator gpsc-learner gpsc-worker gpsc-keygen; do
  [ -x "$bin/$e" ] || { echo "FAIL: $bin/$e is missing"; exit 1; }
done
work=$(mktemp -d /tmp/gpsc-topology.XXXXXX)
keep=${GPSC_TEST_KEEP:-0}
trap 'gpsc_netns_down; [ "$keep" = 1 ] && echo "kept $work" || rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; exit 1; }
t0=$(date +%s.%N)

exp=reacher iters=${GPSC_TEST_ITERATIONS:-4} seed=3
export GPSC_EXPERIMENT=$exp GPSC_ITERATIONS=$iters GPSC_SEED=$seed GPSC_RUN=run
compose=$top/deploy/docker/docker-compose.yml
docker-compose -f "$compose" config >"$work/config.yml" 2>"$work/config.err" ||
  die "docker-compose config: $(cat "$work/config.err")"

# argv of a service, as an array in $cmd
argv() {
  mapfile -d '' -t cmd < <(python3 "$top/tests/docker/compose_cmd.py" "$work/config.yml" "$1" \
    "$bin" runs="$work/runs" keys="$work/keys" /opt/gpsc/experiments="$top/experiments")
  [ ${#cmd[@]} -gt 1 ] || die "no command line for service $1"
}
mkdir -p "$work/runs" "$work/keys"

# the topology: one namespace per container
octet=$((200 + $$ % 50))
gpsc_netns_up "$octet" keys coordinator learner worker-1 worker-2 || die "namespaces"
ok "namespaces up: coordinator $(gpsc_netns_addr coordinator), learner $(gpsc_netns_addr learner)," \
  "workers $(gpsc_netns_addr worker-1) $(gpsc_netns_addr worker-2)"

# keys first (depends_on: service_completed_successfully)
argv keys
echo "keys: ${cmd[*]}"
gpsc_netns_run keys "$work/keys.log" "${cmd[@]}"
wait "$GPSC_NETNS_LAST_PID" || die "the keys service failed: $(cat "$work/keys.log")"
[ -s "$work/keys/server.key" ] && [ -s "$work/keys/allow.txt" ] && ok "keys made" || die "no keys"

argv coordinator
echo "coordinator: ${cmd[*]}"
gpsc_netns_run coordinator "$work/coordinator.log" "${cmd[@]}"
coord=$GPSC_NETNS_LAST_PID
argv learner
echo "learner: ${cmd[*]}"
gpsc_netns_run learner "$work/learner.log" "${cmd[@]}"
argv worker
echo "worker: ${cmd[*]}"
for w in worker-1 worker-2; do gpsc_netns_run $w "$work/$w.log" "${cmd[@]}"; done

# the run ends by itself
for ((t = 0; t < 900; t++)); do
  kill -0 "$coord" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$coord" 2>/dev/null && bad "the run did not finish within 90 s"
wait "$coord"
rc=$?
[ "$rc" = 0 ] && ok "coordinator exit 0 after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s" ||
  bad "coordinator exit $rc: $(grep -v '^{' "$work/coordinator.log" | tail -n 3)"
joined=$(grep -c '"msg":"worker [^ ]* joined' "$work/coordinator.log")
[ "$joined" = 2 ] && ok "2 workers joined" || bad "$joined workers joined, want 2"
grep -q '"msg":"learner [^ ]* joined' "$work/coordinator.log" && ok "learner joined" ||
  bad "the learner did not join"
grep -q "CURVE on every socket" "$work/coordinator.log" && ok "CURVE on" || bad "CURVE was off"

# traffic crossed the links (bytes received on each worker's eth0)
for w in worker-1 worker-2 learner; do
  rx=$(ip -n "$(gpsc_netns_ns $w)" -s -j link show eth0 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["bytes"])' 2>/dev/null)
  [ "${rx:-0}" -gt 10000 ] && ok "$w received ${rx} bytes over its veth" ||
    bad "$w received ${rx:-?} bytes over its veth"
done

# the same bytes as a local run
"$bin/gpsc" run "$top/experiments/$exp.yaml" --iterations "$iters" --seed "$seed" --workers 2 \
  --run-dir "$work/local" >"$work/local.log" 2>&1 || die "local gpsc run failed"
n=0
for f in "$work"/local/checkpoints/iter_*.pb; do
  if cmp -s "$f" "$work/runs/run/checkpoints/$(basename "$f")"; then n=$((n + 1)); else
    bad "$(basename "$f") differs from the local run"; fi
done
[ "$n" = $((iters + 1)) ] && ok "$n checkpoints byte-identical to the local run" ||
  bad "$n of $((iters + 1)) checkpoints identical"

tag=$GPSC_NETNS_TAG
gpsc_netns_down
[ "$(ip netns list | grep -c "^$tag-")" = 0 ] && ok "namespaces removed" ||
  bad "namespaces left behind"
if [ "$fails" = 0 ]; then echo "PASS: compose topology"; exit 0; fi
echo "FAIL: compose topology ($fails problems)"
for f in coordinator learner worker-1; do
  echo "---- $f"; grep -v '"level":"info"' "$work/$f.log" | tail -n 5 | cut -c1-300
done
exit 1
