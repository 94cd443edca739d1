#!/usr/bin/env bash
# setup.sh — install what is missing, configure and build gpsc.
#
#   deploy/local/setup.sh [BUILD_DIR] [extra cmake args...]
#
# Installs the Debian packages listed in deploy/packages.txt that are not
# installed yet (apt-get update first, only when something is missing),
# then configures BUILD_DIR (default: build) with CMake + Ninja and builds
# everything. Safe to run again: it only does what is needed.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-build}
shift || true
case "$build" in /*) ;; *) build="$top/$build" ;; esac

want=()
while read -r kind pkg; do
  case "$kind" in ''|'#'*) continue ;; esac
  if [ "${GPSC_NO_TEST_PACKAGES:-0}" = 1 ] && [ "$kind" = test ]; then continue; fi
  want+=("$pkg")
done < "$top/deploy/packages.txt"

missing=()
for p in "${want[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: configuring $build"
cmake -S "$top" -B "$build" -G Ninja "$@" >/dev/null
echo "setup: building $build"
cmake --build "$build" -j "$(nproc)"
