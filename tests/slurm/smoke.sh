#!/usr/bin/env bash
# smoke.sh — the Slurm harness on its own: start a private cluster of two
# nodes, run a 3-task srun inside an sbatch job, check every task ran
# (and on which nodes), tear the daemons down.
#
#   bash tests/slurm/smoke.sh [WORKDIR]
#
# Prints "SKIP: reason" and exits 0 only when the host cannot run the
# daemons at all (tests/slurm/cluster.sh: gpsc_slurm_unavailable).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/cluster.sh"

if why=$(gpsc_slurm_unavailable); then
  echo "SKIP: slurm smoke test: $why"
  exit 0
fi
work=${1:-$(mktemp -d /tmp/gpsc-slurm-smoke.XXXXXX)}
trap 'gpsc_slurm_stop; [ -n "${1:-}" ] || rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; tail -n 30 "$work"/slurm/log/*.log 2>/dev/null; exit 1; }

t0=$(date +%s.%N)
gpsc_slurm_start "$work/slurm" 2 4 || fail "cluster did not start"
t1=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
echo "cluster up in $(secs "$t0" "$t1") s: nodes ${GPSC_SLURM_NODES[*]}"

cat >"$work/job.sh" <<'EOF'
#!/bin/bash
#SBATCH --nodes=2
#SBATCH --ntasks=3
#SBATCH --time=2
echo "batch on $(hostname -s) slurm node $SLURMD_NODENAME nodes $SLURM_JOB_NODELIST"
srun --immediate=20 --ntasks=3 bash -c 'echo "task $SLURM_PROCID on $SLURMD_NODENAME"'
EOF
out=$work/job.out
timeout 60 sbatch --wait --output="$out" "$work/job.sh" >"$work/sbatch.out" 2>&1
rc=$?
cat "$work/sbatch.out"
cat "$out" 2>/dev/null
[ "$rc" = 0 ] || fail "sbatch --wait exited $rc"
for t in 0 1 2; do
  grep -q "^task $t on n[12]\$" "$out" || fail "task $t did not run"
done
grep -q "^task . on n1\$" "$out" || fail "no task on n1"
grep -q "^task . on n2\$" "$out" || fail "no task on n2"
t2=$(date +%s.%N)
echo "job done in $(secs "$t1" "$t2") s"
echo "PASS: slurm smoke test"
