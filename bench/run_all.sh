#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every benchmark once and prints their figures (about 8 minutes on
# the 2-core development machine). Needs root (BPF, namespaces), a built
# tree (cmake --build BUILD_DIR) and bpftrace for the comparison.
#
# usage: bench/run_all.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: run_all.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_build "$build"
section() { printf '\n=== %s ===\n' "$*"; }
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
section "1. kernel overhead (loadgen alone / with ebpfdump / with bpftrace)"
ROUNDS=${ROUNDS:-3} SECS=${SECS:-5} "$here/overhead.sh" "$build" || echo "overhead.sh failed"
section "2. zero loss at loadgen's maximum rate, 10 s"
SECS=10 "$here/zero_loss.sh" "$build" || echo "zero_loss.sh failed"
section "3. user-space pipeline, one core, synthetic records"
TMPDIR=/dev/shm "$build/bench/pipeline_bench" 4000000 || echo "pipeline_bench failed"
section "4. offline merge vs tcpdump -r in -w out"
"$here/offline_bench.sh" "$build" || echo "offline_bench.sh failed"
section "5. live capture on a veth, UDP flood 10 s: ebpfdump vs tcpdump"
SECS=10 "$here/live_veth.sh" "$build" || echo "live_veth.sh failed"
section "11. packets under a process filter: written, left out in user space, dropped in the kernel"
ROUNDS=3 SECS=6 "$here/scope_cost.sh" "$build" || echo "scope_cost.sh failed"
section "12. closes the kernel skipped, found afterwards (4 runs)"
RUNS=4 "$here/skipped_closes.sh" "$build" || echo "skipped_closes.sh failed"
section "6. memory"
"$here/memory.sh" "$build" || echo "memory.sh failed"
