#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a process filter costs on packets (issue 18): a UDP flood from a
# namespace to the host over a veth, captured by ebpfdump --ifname in
# three ways, interleaved, ROUNDS rounds of SECS seconds each:
#   all     no process filter: every datagram written, with its processes
#   scoped  --pid of an idle process: every datagram read from the ring,
#           parsed, held for the reorder window and left out in user space
#   kernel  the same --pid plus a capture filter that drops the flood in
#           the kernel (what an in-kernel scope could do at best)
# Prints per round and as medians (range): datagrams sent per second,
# ebpfdump's CPU time per datagram sent and as a share of one core,
# packets written, left out, and dropped by the kernel (ring full).
#
# usage: bench/scope_cost.sh BUILD_DIR      env: ROUNDS=3 SECS=8 BYTES=64
#   BEFORE=OTHER_BUILD_DIR: also run that build's ebpfdump in each round
#   (interleaved), its lines marked "before"
set -euo pipefail
build=$(cd "${1:?usage: scope_cost.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
rounds=${ROUNDS:-3} secs=${SECS:-8} bytes=${BYTES:-64}
[ -x "$build/bench/loadgen" ] || bench_build "$build"
tmp=$(mktemp -d /dev/shm/ebpfdump-scope.XXXXXX)
ns="bench-scope-$$" host_if="sh$$" n=$(( $$ % 250 + 1 ))
idle_pid=
cleanup() {
	tracer_stop
	[ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null || true
	ip link del "$host_if" 2>/dev/null || true
	netns_del "$ns"
	rm -rf "$tmp"
}
trap cleanup EXIT
host_veth_up "$ns" "$host_if" "sn$$" "10.233.$n"
sleep 100000 &
idle_pid=$!
hz=$(getconf CLK_TCK)

run() { # MODE ROUND [EBPFDUMP LABEL]
	local mode=$1 extra=() log=$tmp/$1.$2 bin=${3:-$build/extcap/ebpfdump} label=${4:-}
	case $mode in
	scoped) extra=(--pid "$idle_pid") ;;
	kernel) extra=(--pid "$idle_pid" --extcap-capture-filter "not udp") ;;
	esac
	rm -f "$log.log"
	"$bin" --capture --extcap-interface ebpfevents --ifname "$host_if" \
		--fifo "$tmp/out.pcapng" --no-snapshot --no-containers --debug-file "$log.log" \
		"${extra[@]}" 2>"$log.err" &
	TRACER_PID=$!
	for _ in $(seq 300); do grep -q "capture started" "$log.log" 2>/dev/null && break; sleep 0.1; done
	local t0 t1
	t0=$(cpu_ticks "$TRACER_PID")
	"$build/bench/loadgen" --udp 1 --bytes "$bytes" --duration "$secs" --client-netns "$ns" \
		--addr "10.233.$n.1" >"$log.run"
	sleep 0.5 # the reorder window and the last blocks
	t1=$(cpu_ticks "$TRACER_PID")
	tracer_stop
	local sent written out dropped
	sent=$(field connections "$log.run")
	written=$(sed -n 's/.* and \([0-9]*\) packets written.*/\1/p' "$log.err")
	out=$(sed -n 's/.*: \([0-9]*\) packets left out.*/\1/p' "$log.err")
	dropped=$(sed -n 's/.*, \([0-9]*\) packets dropped (packet buffer full).*/\1/p' "$log.err")
	# ns of ebpfdump CPU per datagram sent; share of one core in per mille
	echo "$mode$label $sent $(( (t1 - t0) * 1000000000 / hz / (sent > 0 ? sent : 1) )) $(( (t1 - t0) * 1000 / hz / secs )) ${written:-0} ${out:-0} ${dropped:-0}" \
		>>"$tmp/results"
	printf '%-15s round %s: %8d datagrams/s, %5d ns CPU per datagram, %5.1f %% of a core, written %d, left out %d, dropped %d\n' \
		"$mode$label" "$2" $((sent / secs)) $(( (t1 - t0) * 1000000000 / hz / (sent > 0 ? sent : 1) )) \
		"$(echo "$(( (t1 - t0) * 1000 / hz / secs ))" | awk '{print $1 / 10}')" "${written:-0}" "${out:-0}" "${dropped:-0}"
}

for r in $(seq "$rounds"); do
	for mode in all scoped kernel; do
		[ -z "${BEFORE:-}" ] || run "$mode" "$r" "$BEFORE/extcap/ebpfdump" "(before)"
		run "$mode" "$r"
	done
done
echo "medians (range) over $rounds rounds:"
for mode in all scoped kernel ${BEFORE:+"all(before)" "scoped(before)" "kernel(before)"}; do
	awk -v m="$mode" -v s="$secs" '$1 == m { rate[++k] = $2 / s; ns[k] = $3; core[k] = $4 / 10; drop[k] = $7 }
	function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n + 1) / 2)] " (" a[1] "-" a[n] ")" }
	END { printf "%-15s %s datagrams/s, %s ns CPU per datagram, %s %% of a core, dropped %s\n", m, med(rate, k), med(ns, k), med(core, k), med(drop, k) }' \
		"$tmp/results"
done
