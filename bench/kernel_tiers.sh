#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cost of each hook tier (docs/kernel-side.md) on Debian 12's kernels,
# booted under qemu (tests/kernels/boot_guest.sh with guest_mode=bench):
# BPF program runs and BPF time per loopback connection (bpf_stats), and
# the time of 1,000,000 one-byte dd system call pairs with no capture, with
# --hooks fentry and with --hooks raw. Under TCG the counts are exact, the
# times only comparable within one guest.
#
# usage: bench/kernel_tiers.sh BUILD_DIR   (root; prints one table)
set -euo pipefail
build=$(realpath "${1:-build}")
src=$(cd "$(dirname "$0")/.." && pwd)
printf '| kernel | tier | BPF runs / connection | BPF time / connection (TCG) | dd 1 M calls, vs none |\n'
printf '|---|---|---|---|---|\n'
for pattern in '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$'; do
	dir=$(mktemp -d /tmp/ebpfdump-tiers.XXXXXX)
	GUEST_APPEND=guest_mode=bench bash "$src/tests/kernels/boot_guest.sh" "$build" "$src" \
		"$pattern" "$dir" >"$dir/boot.log" 2>&1 || { cat "$dir/boot.log" >&2; exit 1; }
	kernel=$(cat "$dir/out/uname")
	awk -v k="$kernel" '
		$1 == "none" && $2 == "dd_ns" { none += $3; nn++ }
		$2 == "conns" { runs[$1] = ($9 - $6) / $3; time[$1] = ($8 - $5) / $3 / 1000 }
		$2 == "dd_ns" && $1 != "none" { dd[$1] = $3 }
		END {
			base = none / nn
			for (t in runs)
				printf "| %s | %s | %.1f | %.0f µs | %.2f |\n", k, t, runs[t], time[t], dd[t] / base
		}' "$dir/out/bench" | sort -r
	rm -rf "$dir"
done
