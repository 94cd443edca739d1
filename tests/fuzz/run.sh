#!/usr/bin/env bash
# run.sh TARGET SECONDS [BUILD_DIR] — fuzz one target for a bounded time.
#
#   CC=clang cmake -S . -B build-fuzz -DGPSC_FUZZ=ON -DGPSC_TESTS=ON
#   cmake --build build-fuzz --target fuzz_envelope      # or gpsc_fuzzers
#   tests/fuzz/run.sh fuzz_envelope 60
#   tests/fuzz/run.sh build-fuzz/fuzz/fuzz_envelope 60   # a path works too
#
# TARGET (a name, found in BUILD_DIR/fuzz/, or a path to the binary) fuzz_X
# uses the seed corpus tests/fuzz/corpus/X/ (copied into a
# temporary work directory, so the committed corpus is never modified) and
# first replays every saved crash input in tests/fuzz/regressions/X/.
# BUILD_DIR defaults to $GPSC_FUZZ_BUILD or build-fuzz at the top of the repo.
# Exits non-zero on any crash, leak, timeout, out-of-memory or sanitizer
# report, and then keeps the work directory with the offending input: copy
# it into regressions/X/ once the bug is fixed.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [BUILD_DIR]" >&2
    exit 2
fi
target=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${3:-${GPSC_FUZZ_BUILD:-$root/build-fuzz}}
case $target in
*/*) bin=$target ;;
*) bin=$build/fuzz/$target ;;
esac
target=$(basename "$bin")
short=${target#fuzz_}

if [ ! -x "$bin" ]; then
    echo "run.sh: $bin is not built (cmake --build $build --target $target)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gpsc-fuzz-$short.XXXXXX")
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$here/corpus/$short" ]; then
    cp -R "$here/corpus/$short/." "$work/corpus/"
fi
log=$work/log.txt

# UBSan findings must stop the run; LSan is on by default under libFuzzer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}

failed=0
finding() {
    grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|==ERROR' "$1"
}

# 1. saved crash inputs, one run each
regs=()
if [ -d "$here/regressions/$short" ]; then
    while IFS= read -r -d '' f; do regs+=("$f"); done < <(find "$here/regressions/$short" \
        -type f ! -name '.*' ! -name 'README*' -print0 | sort -z)
fi
if [ ${#regs[@]} -gt 0 ]; then
    echo "run.sh: replaying ${#regs[@]} regression input(s)"
    "$bin" -runs=1 "${regs[@]}" >"$work/regressions.txt" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || finding "$work/regressions.txt"; then
        cat "$work/regressions.txt"
        echo "run.sh: a regression input fails (exit $rc)" >&2
        failed=1
    fi
fi

# 2. bounded fuzzing
if [ $failed -eq 0 ]; then
    echo "run.sh: fuzzing $target for ${secs}s (work dir $work)"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1
    rc=$?
    tail -n 25 "$log"
    if [ $rc -ne 0 ] || finding "$log" || [ -n "$(ls -A "$work/artifacts")" ]; then
        echo "run.sh: $target failed (exit $rc); inputs:" >&2
        ls -l "$work/artifacts" >&2
        failed=1
    fi
fi

if [ $failed -ne 0 ]; then
    echo "run.sh: kept $work" >&2
    exit 1
fi
rm -rf "$work"
echo "run.sh: $target clean"
exit 0
