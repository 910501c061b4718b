#!/bin/sh
#
# run.sh - build the libFuzzer targets and run each one over its corpus
#
# usage: tests/fuzz/run.sh [seconds] [target ...]
#
# Builds with "make FUZZ=1" (clang, ASan+UBSan) and runs every target in
# tests/fuzz (or only the ones named, e.g. "addr rec") for the given number
# of seconds each (default 30).  New inputs go to a scratch corpus under the
# build directory, so the seeds in tests/fuzz/corpus/<name>/ stay as they
# are; crash reproducers are written to <build>/fuzz/crashes/<name>/.
# Set B to choose the build directory prefix (default "build"), JOBS for
# make's parallelism.  Exit status is non-zero if any target failed.
# scripts/test.sh (CI) runs every target for 3 seconds, so that each one
# keeps building and its seeds keep passing; longer runs are for developers.
#
set -eu

secs=${1:-30}
[ $# -gt 0 ] && shift
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${B:-build}
cd "$top"

case $secs in
*[!0-9]*|'') echo "usage: $0 [seconds] [target ...]" >&2; exit 2 ;;
esac

make B="$b" FUZZ=1 -j"${JOBS:-$(nproc 2>/dev/null || echo 2)}"

bin=$b-fuzz/fuzz
if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(for f in tests/fuzz/fuzz_*.c; do
		t=${f##*/fuzz_}; echo "${t%.c}"; done)
fi

status=0
for t in $targets; do
	if [ ! -x "$bin/fuzz_$t" ]; then
		echo "run.sh: no target fuzz_$t" >&2
		status=1
		continue
	fi
	mkdir -p "$bin/work/$t" "$bin/crashes/$t"
	echo "== fuzz_$t: ${secs}s"
	if ! "$bin/fuzz_$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$bin/crashes/$t/" \
	    "$bin/work/$t" "tests/fuzz/corpus/$t"; then
		echo "== fuzz_$t FAILED; reproducers in $bin/crashes/$t/" >&2
		status=1
	fi
done
exit $status
