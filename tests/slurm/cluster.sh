# cluster.sh — a real, private Slurm cluster on this host, for tests.
#
# Source it, then:
#
#   gpsc_slurm_install            # apt-get the daemons and clients if missing
#   gpsc_slurm_start DIR [NODES] [CPUS]
#   ... sbatch / srun / squeue with SLURM_CONF exported ...
#   gpsc_slurm_stop               # kills exactly the daemons started here
#
# gpsc_slurm_start writes everything under DIR (a munge key, slurm.conf,
# state and spool directories, logs), starts one munged with its socket
# under DIR, one slurmctld and NODES slurmd daemons (default 2) in the
# foreground (-D) in the background, records their PIDs, and waits until
# every node is idle. The nodes are n1..nNODES, each at its own loopback
# address 127.0.0.(10+i) with its own slurmd port, so the allocation has
# real distinct hostnames; each declares CPUS CPUs (default 4), more than
# the machine has, which SlurmdParameters=config_overrides allows. Ports
# are picked free from 6917 up. Nothing runs under systemd, nothing
# listens beyond loopback, and nothing outside DIR is written.
#
# The variables GPSC_SLURM_DIR, GPSC_SLURM_PIDS (daemon PIDs, in start
# order), GPSC_SLURM_NODES (names) and SLURM_CONF are set for the caller.
# Callers should `trap gpsc_slurm_stop EXIT` right after sourcing.
#
# gpsc_slurm_unavailable returns 0 (and prints why) when this host cannot
# run the daemons at all (not root, packages cannot be installed); a test
# then prints SKIP and passes.

GPSC_SLURM_PIDS=()
GPSC_SLURM_NODES=()
GPSC_SLURM_DIR=

# prints a line on stderr with a prefix
gpsc_slurm_say() { printf 'slurm-harness: %s\n' "$*" >&2; }

# installs the Debian packages that are missing (root only)
gpsc_slurm_install() {
  local p missing=()
  for p in slurmctld slurmd slurm-client munge; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  gpsc_slurm_say "installing ${missing[*]}"
  apt-get update -qq >/dev/null 2>&1 || true
  # policy-rc.d (or no systemd) keeps the packaged services from starting;
  # we start our own daemons below
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null 2>&1
}

# 0 (with a reason on stdout) when this host cannot run a private Slurm
gpsc_slurm_unavailable() {
  if [ "$(id -u)" != 0 ]; then echo "not root (slurmd must run as root)"; return 0; fi
  if ! command -v dpkg-query >/dev/null; then echo "not a Debian system"; return 0; fi
  if ! gpsc_slurm_install; then echo "cannot install slurmctld slurmd slurm-client munge"; return 0; fi
  local b
  for b in munged slurmctld slurmd sbatch srun sinfo; do
    command -v "$b" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
    command -v "$b" >/dev/null || { echo "$b not found after install"; return 0; }
  done
  return 1
}

# true when TCP port $1 is free on loopback
gpsc_slurm_port_free() {
  ! ss -Htln 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$1\$"
}

# first free port in [$1, $1 + 200) that is not in the remaining arguments
gpsc_slurm_free_port() {
  local p=$1 q used end=$(($1 + 200))
  shift
  while [ "$p" -lt "$end" ]; do
    used=0
    for q in "$@"; do [ "$q" = "$p" ] && used=1; done
    if [ $used = 0 ] && gpsc_slurm_port_free "$p"; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  return 1
}

# waits up to $2 s for process $1's log $3 to show pattern $4; fails early
# when the process is gone
gpsc_slurm_wait_log() {
  local pid=$1 secs=$2 log=$3 pat=$4 i
  for ((i = 0; i < secs * 10; i++)); do
    grep -q -- "$pat" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# DIR [NODES] [CPUS]
gpsc_slurm_start() {
  local d=$1 nodes=${2:-2} cpus=${3:-4} i port nodelist ctl_port p
  local ports=()
  mkdir -p "$d" || return 1
  d=$(cd "$d" && pwd)
  GPSC_SLURM_DIR=$d
  mkdir -p "$d/munge" "$d/state" "$d/log" "$d/spool" "$d/run" || return 1
  chmod 0700 "$d/munge"
  chmod 0755 "$d" "$d/state" "$d/log" "$d/spool" "$d/run"

  # munge: a fresh key and a daemon of our own with its socket under DIR
  head -c 1024 /dev/urandom >"$d/munge/munge.key"
  chmod 0400 "$d/munge/munge.key"
  munged -F --force --socket="$d/munge/munge.sock" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  GPSC_SLURM_PIDS+=($!)
  for ((i = 0; i < 100; i++)); do
    [ -S "$d/munge/munge.sock" ] && break
    kill -0 "${GPSC_SLURM_PIDS[0]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -S "$d/munge/munge.sock" ]; then
    gpsc_slurm_say "munged did not start:"; cat "$d/log/munged.out" "$d/log/munged.log" >&2 2>/dev/null
    return 1
  fi

  # ports: one for slurmctld, one per slurmd
  ctl_port=$(gpsc_slurm_free_port 6917) || return 1
  p=$ctl_port
  for ((i = 1; i <= nodes; i++)); do
    p=$(gpsc_slurm_free_port $((p + 1)) "$ctl_port" "${ports[@]}") || return 1
    ports+=("$p")
  done
  GPSC_SLURM_NODES=()
  for ((i = 1; i <= nodes; i++)); do GPSC_SLURM_NODES+=("n$i"); done
  nodelist=$(IFS=,; echo "${GPSC_SLURM_NODES[*]}")

  # slurm.conf: loopback only, no cgroups, no accounting, root daemons
  {
    echo "ClusterName=gpsctest"
    echo "SlurmctldHost=$(hostname -s)(127.0.0.1)"
    echo "SlurmctldPort=$ctl_port"
    echo "SlurmdPort=${ports[0]}"
    echo "SlurmUser=root"
    echo "SlurmdUser=root"
    echo "AuthType=auth/munge"
    echo "CredType=cred/munge"
    # cred_expire: a requeued job may start again after 10 s (default 120)
    echo "AuthInfo=socket=$d/munge/munge.sock,cred_expire=10"
    echo "StateSaveLocation=$d/state"
    echo "SlurmdSpoolDir=$d/spool/%n"
    echo "SlurmctldPidFile=$d/run/slurmctld.pid"
    echo "SlurmdPidFile=$d/run/slurmd-%n.pid"
    echo "SlurmctldLogFile=$d/log/slurmctld.log"
    echo "SlurmdLogFile=$d/log/slurmd-%n.log"
    echo "ProctrackType=proctrack/linuxproc"
    echo "TaskPlugin=task/none"
    echo "JobAcctGatherType=jobacct_gather/none"
    echo "AccountingStorageType=accounting_storage/none"
    echo "JobCompType=jobcomp/none"
    echo "MpiDefault=none"
    echo "SwitchType=switch/none"
    echo "SchedulerType=sched/builtin"
    # a requeued job is eligible again after cred_expire: look every 2 s
    echo "SchedulerParameters=sched_interval=2"
    echo "SelectType=select/cons_tres"
    echo "SelectTypeParameters=CR_Core"
    echo "SlurmdParameters=config_overrides"
    echo "ReturnToService=2"
    echo "InactiveLimit=0"
    echo "KillWait=5"
    echo "MinJobAge=2"
    echo "MessageTimeout=10"
    echo "SlurmctldTimeout=30"
    echo "SlurmdTimeout=60"
    echo "UnkillableStepTimeout=30"
    echo "TreeWidth=64"
    echo "MailProg=/bin/true"
    for ((i = 1; i <= nodes; i++)); do
      echo "NodeName=n$i NodeHostname=n$i NodeAddr=127.0.0.$((10 + i)) Port=${ports[$((i - 1))]} CPUs=$cpus RealMemory=1024 State=UNKNOWN"
    done
    echo "PartitionName=gpsc Nodes=$nodelist Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
  } >"$d/slurm.conf"
  : >"$d/cgroup.conf"
  export SLURM_CONF=$d/slurm.conf

  slurmctld -D -c -i >"$d/log/slurmctld.out" 2>&1 &
  GPSC_SLURM_PIDS+=($!)
  if ! gpsc_slurm_wait_log "$!" 30 "$d/log/slurmctld.log" "started on cluster"; then
    gpsc_slurm_say "slurmctld did not start:"; tail -n 30 "$d/log/slurmctld.out" "$d/log/slurmctld.log" >&2 2>/dev/null
    return 1
  fi
  for ((i = 1; i <= nodes; i++)); do
    mkdir -p "$d/spool/n$i"
    slurmd -D -N "n$i" >"$d/log/slurmd-n$i.out" 2>&1 &
    GPSC_SLURM_PIDS+=($!)
  done

  # every node idle
  for ((i = 0; i < 300; i++)); do
    if [ "$(sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle')" = "$nodes" ]; then
      return 0
    fi
    for p in "${GPSC_SLURM_PIDS[@]}"; do
      kill -0 "$p" 2>/dev/null || { gpsc_slurm_say "a daemon (pid $p) exited"; i=1000; }
    done
    sleep 0.1
  done
  gpsc_slurm_say "nodes did not become idle:"
  sinfo -N -l >&2 2>&1
  tail -n 20 "$d"/log/slurmd-*.log "$d"/log/slurmd-*.out "$d/log/slurmctld.log" >&2 2>/dev/null
  return 1
}

# stops exactly the daemons gpsc_slurm_start started: TERM, then KILL after
# 10 s; slurmd first so that it can tear down its job steps
gpsc_slurm_stop() {
  local i p n=${#GPSC_SLURM_PIDS[@]} t
  [ "$n" = 0 ] && return 0
  if [ -n "$GPSC_SLURM_DIR" ] && [ -n "${SLURM_CONF:-}" ]; then
    # cancel whatever is left so slurmd kills its steps
    scancel --quiet -u root 2>/dev/null || true
  fi
  for ((i = n - 1; i >= 0; i--)); do
    p=${GPSC_SLURM_PIDS[$i]}
    kill -TERM "$p" 2>/dev/null || continue
    for ((t = 0; t < 100; t++)); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  GPSC_SLURM_PIDS=()
}
