#!/bin/sh
# test.sh - install what is needed, build, and run the whole test suite:
# unit tests (cmocka, also under ASan+UBSan and valgrind), a short pass of
# the libFuzzer targets (tests/fuzz/run.sh) and integration
# tests (pytest against private Postern instances in temporary directories;
# plain, on the ASan+UBSan build, and with every daemon under valgrind).
# Run as root for the full suite (privilege separation, test users).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"
make -j"$jobs" unit
make -j"$jobs" SANITIZE=1 unit
make valgrind
# Every libFuzzer target builds (clang) and runs a few seconds over its seeds.
sh tests/fuzz/run.sh 3
make -j"$jobs" SANITIZE=1
make integration
make SANITIZE=1 integration
make valgrind-integration
echo "test.sh: all tests passed"
