#!/usr/bin/env bash
# run.sh — the whole test suite, from a fresh clone on a fresh Debian 12.
#
#   bash tests/run.sh
#
# 1. installs missing packages, builds with gcc (-Werror), runs every ctest
#    test (unit + system);
# 2. builds with clang + ASan/UBSan (-Werror) and runs the unit tests;
# 3. builds the libFuzzer targets (clang) and runs each for
#    GPSC_FUZZ_SECONDS (default 60) after replaying its regression inputs.
# Ends with one line "N passed, M failed" over all phases; exits non-zero if
# anything failed.
set -uo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
fuzz_secs=${GPSC_FUZZ_SECONDS:-60}
jobs=$(nproc)
passed=0
failed=0
failures=()

phase() { printf '\n==== %s ====\n' "$*"; }
record() { # name rc
  if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
# counts "N tests failed out of M" from a ctest log into the totals
ctest_counts() {
  local log=$1 line tot fl
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then failed=$((failed + 1)); failures+=("ctest:$2 (no summary)"); return; fi
  fl=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  tot=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + tot - fl))
  failed=$((failed + fl))
  [ "$fl" = 0 ] || failures+=("ctest:$2 ($fl)")
}

phase "setup + gcc build"
if ! deploy/local/setup.sh build -DGPSC_TESTS=ON; then
  echo "0 passed, 1 failed"
  exit 1
fi

phase "tests (gcc build)"
log=$(mktemp)
ctest --test-dir build --output-on-failure -j "$jobs" 2>&1 | tee "$log"
ctest_counts "$log" gcc

phase "clang + ASan/UBSan build"
if CC=clang cmake -S . -B build-asan -G Ninja -DGPSC_SANITIZE=ON -DGPSC_TESTS=ON >/dev/null &&
   cmake --build build-asan -j "$jobs"; then
  phase "unit tests (ASan/UBSan)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs" 2>&1 | tee "$log"
  ctest_counts "$log" asan
else
  record "asan build" 1
fi

phase "fuzz targets (clang libFuzzer, ${fuzz_secs}s each)"
if CC=clang cmake -S . -B build-fuzz -G Ninja -DGPSC_FUZZ=ON -DGPSC_TESTS=ON >/dev/null &&
   cmake --build build-fuzz -j "$jobs" --target gpsc_fuzzers; then
  for f in build-fuzz/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    bash tests/fuzz/run.sh "$f" "$fuzz_secs"
    record "$name" $?
  done
else
  record "fuzz build" 1
fi
rm -f "$log"

printf '\n'
if [ "$failed" != 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
