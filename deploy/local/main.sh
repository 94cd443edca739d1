#!/usr/bin/env bash
# main.sh — the main job: set up, build, and run the default experiment
# locally (coordinator + learner + workers on this host).
#
#   bash deploy/local/main.sh [gpsc run options...]
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GPSC_NO_TEST_PACKAGES=1 "$top/deploy/local/setup.sh" build
exec "$top/build/bin/gpsc" run "$top/experiments/peg7.yaml" "$@"
