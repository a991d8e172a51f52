#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hook tiers on this machine's own kernel (docs/kernel-side.md "Hook
# tiers"): the raw system-call hooks against the syscalls' own tracepoints
# (--hooks tracepoint; tracefs is mounted in a private mount namespace for
# the run, the host's mounts are left alone). For each tier:
#  - BPF program runs and BPF time per loopback connection (bpf_stats,
#    CONNS connections with 10 bytes each way), in all and per program;
#  - the time of DD one-byte dd read/write pairs (system calls that have
#    nothing to do with networking), interleaved with runs without any
#    capture over ROUNDS rounds: median and range of the ratio to none;
#  - the stop: SIGINT to exit, over the same rounds.
#
# usage: bench/host_tiers.sh BUILD_DIR   (root; env: ROUNDS=5 DD=2000000 CONNS=300)
set -euo pipefail
build=$(realpath "${1:?usage: host_tiers.sh BUILD_DIR}")
if [ -z "${HOST_TIERS_INNER:-}" ]; then
	HOST_TIERS_INNER=1 exec unshare -m "$0" "$@"
fi
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
tool=$build/extcap/ebpfdump tools=$build/tests
rounds=${ROUNDS:-5} ddn=${DD:-2000000} conns=${CONNS:-300}
tmp=$(mktemp -d /tmp/ebpfdump-host-tiers.XXXXXX)
cap=
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
cleanup() {
	[ -n "$cap" ] && kill -INT "$cap" 2>/dev/null && wait "$cap" 2>/dev/null
	echo "$stats_was" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$tmp"
}
trap cleanup EXIT

start() { # TIER
	rm -f "$tmp/$1.log"
	"$tool" --capture --extcap-interface ebpfevents --hooks "$1" --fifo "$tmp/out.pcapng" \
		--no-snapshot --debug-file "$tmp/$1.log" 2>"$tmp/$1.err" &
	cap=$!
	for _ in $(seq 300); do grep -q "capture started" "$tmp/$1.log" 2>/dev/null && break; sleep 0.05; done
	sleep 0.5
}
# stop [TIER]: SIGINT, wait for the exit; with TIER, its stop time (ms) is
# appended to $tmp/stops.
stop() {
	local t0 t1
	t0=$(date +%s%N)
	kill -INT "$cap"
	wait "$cap" || true
	t1=$(date +%s%N)
	[ -n "${1:-}" ] && echo "$1 $(((t1 - t0) / 1000000))" >>"$tmp/stops"
	cap=
}
dd_ns() {
	local t0 t1
	t0=$(date +%s%N)
	dd if=/dev/zero of=/dev/null bs=1 count="$ddn" 2>/dev/null
	t1=$(date +%s%N)
	echo $((t1 - t0))
}
bpf_totals() { bpftool prog show | awk '/run_time_ns/ { t += $(NF-2); c += $NF } END { print t + 0, c + 0 }'; }
# per_prog FILE: "id name run_time_ns run_cnt" of every program (bpftool
# leaves the figures out while a program has not run).
per_prog() {
	bpftool prog show | awk '/^[0-9]+:/ {
		t = c = 0
		for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
		print $1, $4, t, c }' >"$1"
}

echo 1 >/proc/sys/kernel/bpf_stats_enabled
port=7650
for tier in raw tracepoint; do
	start "$tier"
	port=$((port + 1))
	"$tools/tcp_server" --listen 127.0.0.1 --port $port --send 10 --recv 10 --count "$conns" \
		>/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	read -r t0 c0 < <(bpf_totals)
	per_prog "$tmp/progs0"
	"$tools/tcp_client" --connect 127.0.0.1 --port $port --send 10 --recv 10 --repeat "$conns" \
		>/dev/null 2>&1
	read -r t1 c1 < <(bpf_totals)
	per_prog "$tmp/progs1"
	wait "$srv"
	stop
	awk -v t="$tier" -v n="$conns" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) \
		'BEGIN { printf "%s: %.1f BPF runs and %.2f µs of BPF time per connection\n", t, dc / n, dt / n / 1000 }'
	# Which programs: those that ran during the connections.
	join <(sort "$tmp/progs0") <(sort "$tmp/progs1") | awk -v t="$tier" -v n="$conns" '
		$7 > $4 { printf "%s:   %-22s %5.1f runs %6.0f ns per connection\n", t, $2, ($7 - $4) / n, ($6 - $3) / n }'
done

: >"$tmp/ratios"
: >"$tmp/stops"
sum_none=0
for r in $(seq "$rounds"); do
	n1=$(dd_ns)
	for tier in raw tracepoint; do
		start "$tier"
		eval "t_$tier=\$(dd_ns)"
		stop "$tier"
	done
	n2=$(dd_ns)
	sum_none=$((sum_none + n1 + n2))
	# each tier against the mean of the runs without a capture around it
	awk -v a="$n1" -v b="$n2" -v raw="$t_raw" -v tp="$t_tracepoint" \
		'BEGIN { printf "raw %.4f\ntracepoint %.4f\n", raw * 2 / (a + b), tp * 2 / (a + b) }' \
		>>"$tmp/ratios"
done
for tier in raw tracepoint; do
	awk -v t="$tier" '$1 == t { print $2 }' "$tmp/ratios" | sort -n | awk -v t="$tier" -v n="$ddn" '
		{ v[NR] = $1 }
		END { printf "%s: dd %d one-byte calls: %.3f x the time without a capture (median; range %.3f-%.3f, %d rounds)\n", t, n, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
awk -v s="$sum_none" -v n="$ddn" -v r="$rounds" 'BEGIN { printf "none: %.1f ns per dd call pair\n", s / (2 * r) / n }'
# Stop: SIGINT to exit, the file finished and every program detached.
for tier in raw tracepoint; do
	awk -v t="$tier" '$1 == t { print $2 }' "$tmp/stops" | sort -n | awk -v t="$tier" '
		{ v[NR] = $1 }
		END { printf "%s: stop (SIGINT to exit) %d ms (median; range %d-%d, %d stops)\n", t, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
