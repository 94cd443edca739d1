#!/usr/bin/env python3
"""compose_cmd.py — the command line a compose service runs, for running the
same topology without a container engine (tests/netns/topology.sh).

    compose_cmd.py CONFIG.yml SERVICE BIN_DIR VOLUME=HOSTDIR... [IMAGE_PATH=HOSTDIR...]

CONFIG.yml is the output of `docker-compose config` (variables resolved).
Prints the service's argv, NUL-separated: the image's entry point (`gpsc`)
becomes BIN_DIR/gpsc, and every argument that lies under a container path
is moved to the host directory that stands for it: a named volume's mount
target to the HOSTDIR given for that volume name (as compose mounts it),
and an image path (e.g. /opt/gpsc/experiments) to the HOSTDIR given for it.
Nothing else is changed, so the processes get the compose file's flags,
endpoints and service names verbatim. Exits 1 with a message when the
service or a volume mapping is missing.
"""
import sys

import yaml


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    cfg = yaml.safe_load(open(argv[1]))
    svc = cfg.get("services", {}).get(argv[2])
    if svc is None:
        sys.stderr.write("compose_cmd: no service %r\n" % argv[2])
        return 1
    bindir = argv[3]
    maps = {}
    for m in argv[4:]:
        name, _, host = m.partition("=")
        maps[name] = host
    # container path -> host path, longest first
    moves = []
    for v in svc.get("volumes", []):
        if isinstance(v, dict):
            src, target = v.get("source"), v["target"]
        else:
            parts = v.split(":")
            src, target = parts[0], parts[1]
        if src not in maps:
            sys.stderr.write("compose_cmd: no host directory for volume %r\n" % src)
            return 1
        moves.append((target.rstrip("/"), maps[src]))
    for name, host in maps.items():
        if name.startswith("/"):
            moves.append((name.rstrip("/"), host))
    moves.sort(key=lambda m: -len(m[0]))

    def move_path(p):
        for target, host in moves:
            if p == target or p.startswith(target + "/"):
                return host + p[len(target):]
        return p

    def move(arg):
        # an argument, or the value of --flag=value; values may be
        # comma-separated lists of paths
        prefix, val = "", arg
        if arg.startswith("--") and "=" in arg:
            prefix, val = arg.split("=", 1)
            prefix += "="
        return prefix + ",".join(move_path(p) for p in val.split(","))

    entry = svc.get("entrypoint") or ["gpsc"]
    if isinstance(entry, str):
        entry = entry.split()
    cmd = svc.get("command") or []
    if isinstance(cmd, str):
        cmd = cmd.split()
    if entry[0] != "gpsc":
        sys.stderr.write("compose_cmd: entry point %r is not gpsc\n" % entry[0])
        return 1
    out = [bindir.rstrip("/") + "/gpsc"] + [move(a) for a in entry[1:] + cmd]
    sys.stdout.write("\0".join(out) + "\0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
