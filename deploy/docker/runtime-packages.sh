#!/bin/sh
# runtime-packages.sh — the Debian packages that executables need at run
# time, by name: every shared library they load (ldd), mapped to the
# package that ships it (dpkg -S). The Dockerfile's build stage writes this
# list and the slim runtime stage installs exactly it.
#
#   deploy/docker/runtime-packages.sh build/bin/gpsc-* > runtime-packages.txt
#
# Exits non-zero when a library belongs to no package (it would be missing
# from the runtime image).
set -eu
[ $# -gt 0 ] || { echo "usage: $0 EXECUTABLE..." >&2; exit 2; }
for f in "$@"; do
  ldd "$f" >/dev/null || { echo "runtime-packages: $f: not a dynamic executable" >&2; exit 1; }
done
libs=$(for f in "$@"; do ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'; done | sort -u)
status=0
pkgs=
for l in $libs; do
  real=$(readlink -f "$l")
  pkg=$( { dpkg -S "$real" 2>/dev/null || dpkg -S "$l" 2>/dev/null ||
           dpkg -S "/usr$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null; } |
         head -n 1 | cut -d: -f1)
  if [ -z "$pkg" ]; then
    echo "runtime-packages: $l ($real) belongs to no package" >&2
    status=1
  else
    pkgs="$pkgs $pkg"
  fi
done
printf '%s\n' $pkgs | sort -u
exit $status
