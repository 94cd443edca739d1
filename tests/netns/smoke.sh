#!/usr/bin/env bash
# smoke.sh — the netns harness on its own: three namespaces on a private
# bridge; a TCP echo server in one, clients in the two others reaching it
# by name; everything torn down.
#
#   bash tests/netns/smoke.sh
#
# Prints "SKIP: reason" and exits 0 only when the host forbids namespaces.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/netns.sh"

if why=$(gpsc_netns_unavailable); then
  echo "SKIP: netns smoke test: $why"
  exit 0
fi
work=$(mktemp -d /tmp/gpsc-netns-smoke.XXXXXX)
trap 'gpsc_netns_down; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; tail -n 20 "$work"/*.log 2>/dev/null; exit 1; }

gpsc_netns_up 250 server client-a client-b || fail "topology did not come up"
# the server answers each connection with "<line> from <its address>"
gpsc_netns_run server "$work/server.log" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("server", 7000)); s.listen(4); print("listening", flush=True)
for _ in range(2):
    c, a = s.accept(); line = c.makefile().readline().strip()
    c.sendall(("%s from %s\n" % (line, a[0])).encode()); c.close()
'
for ((i = 0; i < 50; i++)); do grep -q listening "$work/server.log" && break; sleep 0.1; done
for c in client-a client-b; do
  out=$(ip netns exec "$(gpsc_netns_ns $c)" timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("server", 7000), timeout=5)
s.sendall(b"hello\n"); print(s.makefile().readline().strip())' 2>&1)
  want="hello from $(gpsc_netns_addr $c)"
  [ "$out" = "$want" ] || fail "$c got '$out', want '$want'"
  echo "$c: $out"
done
tag=$GPSC_NETNS_TAG
gpsc_netns_down
left=$(ip netns list | grep -c "^$tag-" || true)
[ "$left" = 0 ] || fail "$left namespaces left behind"
[ ! -e "/etc/netns/$tag-server" ] || fail "/etc/netns entries left behind"
echo "PASS: netns smoke test"
