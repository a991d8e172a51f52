#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs dependencies, builds from scratch with warnings as errors, and
# runs every test (unit and end-to-end on the real kernel, a real Docker
# engine and real ZeroMQ sockets; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${EBPFDUMP_BUILD_DIR:-build-test}
rm -rf "$build" "$build-nobpf"

# The subscriber-only build (no libbpf): it must build, list only the
# remote interface and not link libbpf.
cmake -S . -B "$build-nobpf" -DEBPFDUMP_WERROR=ON -DEBPFDUMP_WITH_BPF=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build-nobpf" -j"$(nproc)" --target ebpfdump >/dev/null
"$build-nobpf/extcap/ebpfdump" --extcap-interfaces | grep -q '^interface {value=ebpfzmqevents}'
! "$build-nobpf/extcap/ebpfdump" --extcap-interfaces | grep -q '{value=ebpfevents}'
! ldd "$build-nobpf/extcap/ebpfdump" | grep -q libbpf
echo "subscriber-only build (EBPFDUMP_WITH_BPF=OFF): ok"

cmake -S . -B "$build" -DEBPFDUMP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
# Tests run two at a time where they allow it: the end-to-end tests that
# load BPF, flood or time things are RUN_SERIAL (their .cmake files), the
# unit tests overlap.
ctest --test-dir "$build" --output-on-failure --timeout 300 -j"$(nproc)" "$@"

# Every fuzz target under libFuzzer (clang, with ASan and UBSan) for a
# bounded time each, the executions it ran reported (docs/hardening.md).
fz=${EBPFDUMP_FUZZ_BUILD_DIR:-$build-fuzz}
rm -rf "$fz"
CC=clang cmake -S . -B "$fz" -DEBPFDUMP_FUZZ=ON -DEBPFDUMP_WITH_BPF=OFF \
	-DEBPFDUMP_FUZZ_SECONDS="${EBPFDUMP_FUZZ_SECONDS:-8}" >/dev/null
targets=$(cmake --build "$fz" --target help | sed -n 's/^\.\.\. \([a-z_]*_fuzz\)$/\1/p')
cmake --build "$fz" -j"$(nproc)" --target $targets >/dev/null
ctest --test-dir "$fz" -L fuzz --output-on-failure -V "$@" >"$fz/fuzz.log" 2>&1 || {
	grep -E "FAIL|ERROR|SUMMARY" "$fz/fuzz.log" | head -40
	echo "fuzzing found a problem: $fz/fuzz.log, inputs in $fz/fuzz/artifacts" >&2
	exit 1
}
awk '/Test command: .*_fuzz/ { n = $4; sub(/.*\//, "", n); sub(/_fuzz$/, "", n) }
     /stat::number_of_executed_units/ { printf "libFuzzer %s: %s executions\n", n, $NF }' "$fz/fuzz.log"
grep -E "tests passed" "$fz/fuzz.log"

# The same code under AddressSanitizer and UBSan: every test again, unit and
# end-to-end (docs/hardening.md), but for the kernel matrix (label kernels:
# the guests check the kernels, not our memory use, and ran above).
asan=${EBPFDUMP_ASAN_BUILD_DIR:-$build-asan}
rm -rf "$asan"
cmake -S . -B "$asan" -DEBPFDUMP_WERROR=ON -DEBPFDUMP_SANITIZE=ON >/dev/null
cmake --build "$asan" -j"$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$asan" --output-on-failure --timeout 300 -LE kernels -j"$(nproc)" "$@"
