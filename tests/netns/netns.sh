# netns.sh — private network topologies of network namespaces, for tests.
#
# Source it, then:
#
#   trap gpsc_netns_down EXIT
#   gpsc_netns_up OCTET coordinator learner worker-1 worker-2
#   gpsc_netns_run coordinator LOGFILE cmd args...   # background; PID in
#                                                    # GPSC_NETNS_LAST_PID
#   gpsc_netns_addr worker-1                         # -> 10.231.OCTET.13
#   gpsc_netns_down
#
# gpsc_netns_up creates one namespace per name (gpsc<pid>-NAME) with
# loopback up and one interface eth0 holding 10.231.OCTET.(10+i)/24, and a
# hub namespace (gpsc<pid>-hub) holding the bridge that joins them, so the
# host's own network namespace is not touched at all: nothing in it gets an
# address, a route or a link, and no packet can leave the topology. Every
# namespace resolves every name to its address through
# /etc/netns/NS/hosts (which `ip netns exec` mounts over /etc/hosts), just
# as compose resolves service names.
#
# gpsc_netns_down kills exactly the processes gpsc_netns_run started
# (TERM, KILL after 10 s) and deletes exactly the namespaces and
# /etc/netns entries gpsc_netns_up created. Safe to call twice.
#
# gpsc_netns_unavailable returns 0 (and prints why) when this host cannot
# create namespaces (not root, no `ip`, no veth/bridge support).

GPSC_NETNS_TAG=gpsc$$
GPSC_NETNS_NAMES=()
GPSC_NETNS_CREATED=()   # namespaces created, hub last
GPSC_NETNS_PIDS=()
GPSC_NETNS_LAST_PID=
GPSC_NETNS_OCTET=
GPSC_NETNS_ETC_MADE=0    # 1 when gpsc_netns_up created /etc/netns

gpsc_netns_say() { printf 'netns-harness: %s\n' "$*" >&2; }

# 0 (with a reason on stdout) when namespaces cannot be used here
gpsc_netns_unavailable() {
  local ns=${GPSC_NETNS_TAG}-probe ok=1
  if [ "$(id -u)" != 0 ]; then echo "not root"; return 0; fi
  if ! command -v ip >/dev/null; then echo "iproute2 (ip) not installed"; return 0; fi
  if ! ip netns add "$ns" 2>/dev/null; then echo "ip netns add is not permitted"; return 0; fi
  ip -n "$ns" link add probe0 type veth peer name probe1 2>/dev/null || ok=0
  if [ $ok = 1 ]; then ip -n "$ns" link add probebr type bridge 2>/dev/null || ok=2; fi
  ip netns del "$ns" 2>/dev/null
  [ $ok = 0 ] && { echo "veth interfaces are not supported"; return 0; }
  [ $ok = 2 ] && { echo "bridge interfaces are not supported"; return 0; }
  return 1
}

# index (1-based) of a name, or nothing
gpsc_netns_index() {
  local i
  for i in "${!GPSC_NETNS_NAMES[@]}"; do
    [ "${GPSC_NETNS_NAMES[$i]}" = "$1" ] && { echo $((i + 1)); return 0; }
  done
  return 1
}

# address of a name
gpsc_netns_addr() {
  local i
  i=$(gpsc_netns_index "$1") || return 1
  echo "10.231.$GPSC_NETNS_OCTET.$((10 + i))"
}

# namespace of a name
gpsc_netns_ns() { echo "${GPSC_NETNS_TAG}-$1"; }

# OCTET NAME...
gpsc_netns_up() {
  local octet=$1 hub=${GPSC_NETNS_TAG}-hub i n ns name
  shift
  GPSC_NETNS_OCTET=$octet
  GPSC_NETNS_NAMES=("$@")
  n=$#
  [ "$n" -ge 1 ] && [ "$n" -le 200 ] || { gpsc_netns_say "1..200 names"; return 1; }

  # the hub: a bridge in a namespace of its own
  ip netns add "$hub" || return 1
  GPSC_NETNS_CREATED+=("$hub")
  ip -n "$hub" link add br0 type bridge || return 1
  ip -n "$hub" link set br0 up || return 1

  # one namespace per name, joined to the bridge by a veth pair
  for ((i = 1; i <= n; i++)); do
    name=${GPSC_NETNS_NAMES[$((i - 1))]}
    ns=$(gpsc_netns_ns "$name")
    ip netns add "$ns" || return 1
    GPSC_NETNS_CREATED=("$ns" "${GPSC_NETNS_CREATED[@]}")
    ip -n "$hub" link add "p$i" type veth peer name eth0 netns "$ns" || return 1
    ip -n "$hub" link set "p$i" master br0 up || return 1
    ip -n "$ns" link set lo up || return 1
    ip -n "$ns" addr add "10.231.$octet.$((10 + i))/24" dev eth0 || return 1
    ip -n "$ns" link set eth0 up || return 1
  done

  # names, as a compose network resolves service names
  [ -d /etc/netns ] || GPSC_NETNS_ETC_MADE=1
  for name in "${GPSC_NETNS_NAMES[@]}"; do
    ns=$(gpsc_netns_ns "$name")
    mkdir -p "/etc/netns/$ns" || return 1
    {
      echo "127.0.0.1 localhost"
      for ((i = 1; i <= n; i++)); do
        echo "10.231.$octet.$((10 + i)) ${GPSC_NETNS_NAMES[$((i - 1))]}"
      done
    } >"/etc/netns/$ns/hosts"
  done

  # links come up asynchronously: wait for every eth0
  for name in "${GPSC_NETNS_NAMES[@]}"; do
    ns=$(gpsc_netns_ns "$name")
    for ((i = 0; i < 50; i++)); do
      ip -n "$ns" -o link show eth0 | grep -q 'state UP' && break
      sleep 0.1
    done
  done
  return 0
}

# NAME LOGFILE cmd args... — starts cmd in the background in NAME's
# namespace with stdout+stderr to LOGFILE
gpsc_netns_run() {
  local name=$1 log=$2 ns
  shift 2
  ns=$(gpsc_netns_ns "$name")
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  GPSC_NETNS_LAST_PID=$!
  GPSC_NETNS_PIDS+=($!)
}

# kills what gpsc_netns_run started, deletes what gpsc_netns_up created
gpsc_netns_down() {
  local p t ns
  for p in "${GPSC_NETNS_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${GPSC_NETNS_PIDS[@]}"; do
    for ((t = 0; t < 100; t++)); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  GPSC_NETNS_PIDS=()
  for ns in "${GPSC_NETNS_CREATED[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/${ns:?}"
  done
  GPSC_NETNS_CREATED=()
  if [ "$GPSC_NETNS_ETC_MADE" = 1 ]; then rmdir /etc/netns 2>/dev/null || true; fi
  GPSC_NETNS_ETC_MADE=0
}
