#!/usr/bin/env bash
# gpsc_slurm.sh — deploy/slurm on a real, private Slurm cluster:
#
#   1. a 4-node cluster on loopback (tests/slurm/cluster.sh): n1 runs the
#      coordinator and the learner, n2..n4 one srun-launched worker each;
#   2. job A: `gpsc-slurm reacher -N 4 -w 1 -i 3 --wait` (CURVE keys on, as
#      by default) runs to completion; its run directory has the config,
#      checkpoints, metrics, summary, keys and per-task worker logs from
#      three different nodes; the checkpoints equal a local `gpsc run` of
#      the same experiment byte for byte;
#   3. job B (12 iterations): one worker task is killed with SIGKILL
#      mid-run; the run still completes, byte-identical to a local run;
#   4. job C (12 iterations): SIGTERM to the batch shell mid-run (what
#      --signal=B:TERM@120 does before the time limit); the job stops the
#      coordinator, requeues itself, resumes from the last checkpoint and
#      completes, byte-identical to the local run. (Slurm holds a requeued
#      job for cred_expire seconds, 120 by default; the test cluster sets 10.)
#
#   bash tests/slurm/gpsc_slurm.sh      (GPSC_BIN_DIR, GPSC_SOURCE_DIR)
#
# Prints "SKIP: reason" and passes only when the host cannot run the
# daemons (not root, packages not installable).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=${GPSC_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${GPSC_BIN_DIR:-$top/build/bin}
. "$here/cluster.sh"

if why=$(gpsc_slurm_unavailable); then
  echo "SKIP: slurm system test: $why"
  exit 0
fi
for e in gpsc gpsc-run gpsc-coordinator gpsc-learner gpsc-worker gpsc-keygen; do
  [ -x "$bin/$e" ] || { echo "FAIL: $bin/$e is missing"; exit 1; }
done
work=$(mktemp -d /tmp/gpsc-slurm.XXXXXX)
chmod 0755 "$work"
keep=${GPSC_TEST_KEEP:-0}
trap 'gpsc_slurm_stop; [ "$keep" = 1 ] && echo "kept $work" || rm -rf "$work"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() {
  echo "FAIL: $*"
  tail -n 20 "$work"/slurm/log/slurmctld.log 2>/dev/null
  exit 1
}
exp=$top/experiments/reacher.yaml
t_start=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- references
for it in 3 12; do
  "$bin/gpsc" run "$exp" --iterations $it --workers 2 --run-dir "$work/local-$it" \
    >"$work/local-$it.out" 2>&1 || die "local gpsc run ($it iterations) failed"
done
ok "local reference runs (3 and 12 iterations)"

# compares the checkpoints of run dir $1 with local-$2
same_as_local() {
  local d=$1 it=$2 n=0 f
  for f in "$work/local-$it"/checkpoints/iter_*.pb; do
    cmp -s "$f" "$d/checkpoints/$(basename "$f")" && n=$((n + 1))
  done
  [ "$n" = $((it + 1)) ] && [ "$(ls "$d"/checkpoints | wc -l)" = $((it + 1)) ]
}

# ---------------------------------------------------------------- cluster
t0=$(date +%s.%N)
gpsc_slurm_start "$work/slurm" 4 2 || die "the Slurm cluster did not start"
ok "slurm cluster up in $(secs "$t0") s: ${GPSC_SLURM_NODES[*]}"
cd "$work" || exit 1
# the coordinator binds only n1's loopback address, on ports of our own
export GPSC_BIND_HOST=127.0.0.11
port=$(gpsc_slurm_free_port 7400) || die "no free port"
wrap=$top/deploy/slurm/gpsc-slurm

# ---------------------------------------------------------------- job A
t0=$(date +%s.%N)
jobA=$(GPSC_BIN=$bin timeout 240 "$wrap" "$exp" -N 4 -w 1 -i 3 -t 5 -p "$port" \
  -d "$work/runA" --wait -- --output="$work/jobA.out")
rc=$?
[ "$rc" = 0 ] && ok "job A ($jobA) completed in $(secs "$t0") s" ||
  bad "job A exited $rc: $(tail -n 5 "$work/jobA.out")"
for f in config.yaml metrics.jsonl summary.txt log.jsonl keys/server.key keys/worker.pub \
  keys/allow.txt; do
  [ -s "$work/runA/$f" ] || bad "runA/$f is missing"
done
[ "$(stat -c %a "$work/runA/keys/worker.key" 2>/dev/null)" = 600 ] && ok "keys made, secret 0600" ||
  bad "runA/keys/worker.key is not 0600"
grep -q "curve=1" "$work"/runA/slurm/job-*.env && ok "CURVE on by default" || bad "CURVE was off"
grep -q "CURVE on every socket" "$work/runA/slurm/coordinator.out" && ok "coordinator used CURVE" ||
  bad "coordinator did not use CURVE"
nodes=$(grep -ho 'SLURMD_NODENAME=[a-z0-9]*' "$work"/runA/slurm/worker-*.out 2>/dev/null | sort -u | wc -l)
joined=$(grep -c '"msg":"worker [^ ]* joined' "$work/runA/slurm/coordinator.out")
[ "$joined" = 3 ] && ok "3 srun workers joined" || bad "$joined workers joined, want 3"
wnodes=$(grep -o 'on n[0-9]*' "$work"/jobA.out | sort -u | tr '\n' ' ')
grep -q "3 workers on n2 n3 n4" "$work/jobA.out" && ok "workers on n2 n3 n4, coordinator on n1" ||
  bad "placement: $(grep 'coordinator and learner' "$work/jobA.out")"
: "$nodes" "$wnodes"
same_as_local "$work/runA" 3 && ok "job A: 4 checkpoints byte-identical to the local run" ||
  bad "job A: checkpoints differ from the local run"

# ---------------------------------------------------------------- job B: kill a worker
waitfile() { # file secs
  local i
  for ((i = 0; i < $2 * 20; i++)); do [ -e "$1" ] && return 0; sleep 0.05; done
  return 1
}
# waits until job $1 has left squeue (up to $2 s); its final state in $state
wait_job() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    state=$(scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|"") return 0 ;; esac
    sleep 0.2
  done
  return 1
}
t0=$(date +%s.%N)
jobB=$(GPSC_BIN=$bin "$wrap" "$exp" -N 4 -w 1 -i 12 -t 5 -p "$port" -d "$work/runB" \
  -- --output="$work/jobB.out") || die "sbatch job B"
if waitfile "$work/runB/checkpoints/iter_0002.pb" 60; then
  victim=$(cat "$work"/runB/slurm/workers/"$jobB".0.1.pid 2>/dev/null)
  if [ -n "$victim" ] && kill -KILL "$victim" 2>/dev/null; then
    done_at_kill=$(ls "$work/runB/checkpoints" | wc -l)
    ok "killed worker task 1 (pid $victim) with $done_at_kill of 13 checkpoints written"
  else
    bad "could not kill worker task 1 (pid '$victim')"
  fi
else
  bad "job B did not reach iteration 2"
fi
wait_job "$jobB" 180 || bad "job B did not end"
[ "$state" = COMPLETED ] && ok "job B completed in $(secs "$t0") s" ||
  bad "job B ended $state: $(tail -n 5 "$work/jobB.out")"
[ "${done_at_kill:-13}" -lt 13 ] && ok "the kill came mid-run" || bad "the kill came too late"
grep -q "task 1: Killed" "$work/jobB.out" && ok "srun saw task 1 killed" ||
  bad "srun did not report the killed task"
same_as_local "$work/runB" 12 && ok "job B: 13 checkpoints byte-identical to the local run" ||
  bad "job B: checkpoints differ from the local run"

# ---------------------------------------------------------------- job C: requeue
t0=$(date +%s.%N)
jobC=$(GPSC_BIN=$bin "$wrap" "$exp" -N 4 -w 1 -i 12 -t 5 -p "$port" -d "$work/runC" \
  -- --output="$work/jobC.out") || die "sbatch job C"
if waitfile "$work/runC/checkpoints/iter_0002.pb" 60; then
  scancel --batch --signal=TERM "$jobC" && ok "SIGTERM to the batch shell of job C" ||
    bad "scancel --batch --signal=TERM failed"
else
  bad "job C did not reach iteration 2"
fi
wait_job "$jobC" 240 || bad "job C did not end"
[ "$state" = COMPLETED ] && ok "job C completed in $(secs "$t0") s" ||
  bad "job C ended $state: $(tail -n 5 "$work/jobC.out")"
grep -q "requeueing job $jobC" "$work/jobC.out" && ok "job C requeued itself" ||
  bad "job C did not requeue: $(tail -n 5 "$work/jobC.out")"
grep -q "resuming from" "$work/jobC.out" && ok "job C resumed from a checkpoint" ||
  bad "job C did not resume"
[ -e "$work/runC/slurm/job-$jobC.1.env" ] && ok "restart 1 of job C ran" ||
  bad "no restart of job C"
same_as_local "$work/runC" 12 && ok "job C: 13 checkpoints byte-identical to the local run" ||
  bad "job C: checkpoints differ from the local run"

echo "total $(secs "$t_start") s"
if [ "$fails" = 0 ]; then echo "PASS: slurm system test"; exit 0; fi
echo "FAIL: slurm system test ($fails problems)"
for f in jobA jobB jobC; do echo "---- $f.out"; tail -n 15 "$work/$f.out" 2>/dev/null; done
exit 1
