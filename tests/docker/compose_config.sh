#!/usr/bin/env bash
# compose_config.sh — checks deploy/docker without a Docker engine:
#   1. `docker-compose config` validates docker-compose.yml (Debian's
#      docker-compose package, installed when missing);
#   2. the resolved file has the topology the docs promise: coordinator,
#      learner, a scalable worker service, a keys job, the run-directory and
#      keys volumes, shm size, CURVE keys on every role, endpoints by
#      service name; and `--scale worker=4` is accepted;
#   3. the Dockerfile is multi-stage on Debian 12 and installs its build
#      packages by name from deploy/packages.txt;
#   4. deploy/docker/runtime-packages.sh maps every shared library of the
#      built executables to a Debian package (what the runtime stage
#      installs);
#   5. deploy/k8s/gpsc.yaml parses strictly and has its Job, Service,
#      Deployment and volume claim.
#
#   bash tests/docker/compose_config.sh     (GPSC_BIN_DIR: built executables)
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${GPSC_BIN_DIR:-$top/build/bin}
compose=$top/deploy/docker/docker-compose.yml
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing docker-compose"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose \
      >/dev/null 2>&1
  fi
fi
if ! command -v docker-compose >/dev/null; then
  echo "SKIP: docker-compose is not installed and cannot be (not root or no package)"
  exit 0
fi

work=$(mktemp -d /tmp/gpsc-compose.XXXXXX)
trap 'rm -rf "$work"' EXIT

# 1. validation (no engine needed)
if docker-compose -f "$compose" config >"$work/config.yml" 2>"$work/config.err"; then
  ok "docker-compose config validates"
else
  bad "docker-compose config: $(cat "$work/config.err")"
fi
if docker-compose -f "$compose" config -q 2>/dev/null; then ok "config -q"; else bad "config -q"; fi
services=$(docker-compose -f "$compose" config --services 2>/dev/null | sort | tr '\n' ' ')
[ "$services" = "coordinator keys learner worker " ] && ok "services: $services" ||
  bad "services are '$services'"
volumes=$(docker-compose -f "$compose" config --volumes 2>/dev/null | sort | tr '\n' ' ')
[ "$volumes" = "keys runs " ] && ok "volumes: $volumes" || bad "volumes are '$volumes'"

# 2. the topology, read from the resolved file
python3 - "$work/config.yml" <<'EOF' || fails=$((fails + 1))
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"]
errs = []
def need(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        errs.append(what)
for name in ("coordinator", "learner", "worker"):
    svc = s[name]
    cmd = svc.get("command") or []
    need(cmd[:1] == [name], f"{name} runs `gpsc {name}`")
    need(str(svc.get("shm_size", "")) != "", f"{name} sets shm_size")
    vols = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in svc.get("volumes", [])]
    need("/keys" in vols, f"{name} mounts the keys volume")
    need("--curve-secret" in cmd, f"{name} uses CURVE keys")
    need(cmd.count("--curve-secret") == 1, f"{name} has one key pair")
    dep = svc.get("depends_on", {})
    need(dep.get("keys", {}).get("condition") == "service_completed_successfully",
         f"{name} waits for the keys job")
for name in ("learner", "worker"):
    cmd = " ".join(s[name]["command"])
    need("tcp://coordinator:" in cmd, f"{name} finds the coordinator by service name")
    need("--curve-server-key" in cmd, f"{name} knows the server key")
need("/runs" in [v["target"] if isinstance(v, dict) else v.split(":")[1]
                 for v in s["coordinator"].get("volumes", [])], "coordinator mounts the run volume")
need("--allow-keys" in s["coordinator"]["command"], "coordinator has an allow-list")
need("--allow-keys" not in s["learner"]["command"], "learner binds nothing (no allow-list)")
need("container_name" not in s["worker"], "worker has no container_name (it scales)")
need("ports" not in s["worker"], "worker publishes no ports (it scales)")
need(s["keys"]["command"][0] == "keygen" and "--cluster" in s["keys"]["command"],
     "keys job runs `gpsc keygen --cluster`")
sys.exit(1 if errs else 0)
EOF

# --scale is a run-time option; `config` must still accept the file with it
# and `up --scale` must parse it (no engine: it fails at the connection, not
# at the arguments)
out=$(timeout 20 docker-compose -f "$compose" up --no-start --scale worker=4 2>&1)
if grep -qiE "no such option|invalid|unknown|Unsupported config" <<<"$out"; then
  bad "up --scale worker=4: $out"
else
  ok "up --scale worker=4 is accepted (engine: $(tail -n 1 <<<"$out" | cut -c1-80))"
fi

# 3. the Dockerfile
df=$top/deploy/docker/Dockerfile
grep -qE '^FROM debian:12[^ ]* AS build' "$df" && ok "build stage on Debian 12" || bad "build stage"
grep -qE '^FROM debian:12[^ ]* AS runtime' "$df" && ok "runtime stage on Debian 12" ||
  bad "runtime stage"
grep -q 'deploy/packages.txt' "$df" && ok "build packages from deploy/packages.txt" ||
  bad "Dockerfile does not read deploy/packages.txt"
grep -q 'runtime-packages' "$df" && ok "runtime packages by name" || bad "runtime packages"
grep -q '^test docker-compose' "$top/deploy/packages.txt" && ok "docker-compose in packages.txt" ||
  bad "docker-compose missing from deploy/packages.txt"

# 4. runtime packages of the built executables
exes=()
for e in "$bin"/gpsc "$bin"/gpsc-coordinator "$bin"/gpsc-learner "$bin"/gpsc-worker "$bin"/gpsc-keygen; do
  [ -x "$e" ] && exes+=("$e")
done
if [ ${#exes[@]} -ge 2 ]; then
  if pk=$(sh "$top/deploy/docker/runtime-packages.sh" "${exes[@]}" 2>"$work/rp.err"); then
    n=$(wc -l <<<"$pk")
    grep -qx libzmq5 <<<"$pk" && ok "runtime packages ($n) include libzmq5" ||
      bad "runtime packages lack libzmq5: $pk"
  else
    bad "runtime-packages.sh: $(cat "$work/rp.err")"
  fi
else
  bad "no executables in $bin"
fi

# 5. the Kubernetes manifests parse (no duplicate keys) and hold the
#    pieces docs/deploy.md describes
python3 - "$top/deploy/k8s/gpsc.yaml" <<'EOF2' || fails=$((fails + 1))
import sys, yaml
class Strict(yaml.SafeLoader):
    pass
def mapping(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise yaml.YAMLError("duplicate keys %s at line %d" % (dup, node.start_mark.line + 1))
    return yaml.SafeLoader.construct_mapping(loader, node, deep)
Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
try:
    docs = list(yaml.load_all(open(sys.argv[1]), Loader=Strict))
except yaml.YAMLError as e:
    print("FAIL: k8s manifest: %s" % e); sys.exit(1)
kinds = {d["kind"]: d for d in docs}
errs = 0
for k in ("Service", "Job", "Deployment", "PersistentVolumeClaim"):
    ok = k in kinds
    print(("ok: " if ok else "FAIL: ") + "k8s " + k); errs += not ok
job = kinds["Job"]["spec"]["template"]["spec"]["containers"]
names = [c["name"] for c in job]
ok = names == ["coordinator", "learner"]
print(("ok: " if ok else "FAIL: ") + "k8s Job runs coordinator + learner"); errs += not ok
wk = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
ok = "tcp://gpsc-coordinator:5555" in wk and "--curve-secret" in wk
print(("ok: " if ok else "FAIL: ") + "k8s workers reach the Service with CURVE keys"); errs += not ok
sys.exit(1 if errs else 0)
EOF2

if [ "$fails" = 0 ]; then echo "PASS: compose config"; exit 0; fi
echo "FAIL: compose config ($fails problems)"
exit 1
