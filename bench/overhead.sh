#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel overhead: loadgen's TCP connect/send/close rate alone, while
# ebpfdump captures events to a file on tmpfs, and while bpftrace is
# attached to the same tracepoints; runs interleaved
# (alone, ebpfdump, alone, bpftrace, ...) ROUNDS times on loopback and on a
# veth between two namespaces. Prints every run, the means and the ratios.
#
# usage: bench/overhead.sh BUILD_DIR   (env: ROUNDS=3 SECS=5)
set -euo pipefail
build=$(cd "${1:?usage: overhead.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
rounds=${ROUNDS:-3} secs=${SECS:-5}
[ -x "$build/bench/loadgen" ] || bench_build "$build"
tmp=$(mktemp -d /dev/shm/ebpfdump-overhead.XXXXXX)
nsa="bench-a-$$" nsb="bench-b-$$"
cleanup() {
	tracer_stop
	[ -n "${stats_was:-}" ] && sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	netns_del "$nsa" "$nsb"
	rm -rf "$tmp"
}
trap cleanup EXIT
veth_pair_up "$nsa" "$nsb"
have_bpftrace=1
command -v bpftrace >/dev/null || { have_bpftrace=0; echo "bpftrace not installed: skipped"; }
# bpftrace finds tracepoints through tracefs and, without it, attaches
# nothing ("tracepoint not found"): then it gets its own private mount
# (the same PID, so SIGINT still reaches it). ebpfdump keeps the host's
# view, so its tier is the one this host gives it (printed below).
bpftrace_cmd=(bpftrace)
if [ ! -d /sys/kernel/tracing/events ]; then
	bpftrace_cmd=(unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing && exec "$0" "$@"' bpftrace)
fi

# The kernel's per-program run time (bpf_stats) gives the BPF cost per
# connection independent of the machine's noise; restored at exit.
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
hz=$(getconf CLK_TCK)

# run_one SETUP TRACER: one measured loadgen run, prints its cycles/s and
# appends "connections bpf_ns bpf_runs tracer_ticks" of ebpfdump runs to
# $tmp/cost.SETUP
run_one() {
	local setup=$1 tracer=$2 args=(--duration "$secs")
	[ "$setup" = veth ] && args+=(--server-netns "$nsa" --client-netns "$nsb" --addr "$VETH_SERVER_ADDR")
	case $tracer in
	ebpfdump) tracer_start ebpfdump "$build/extcap/ebpfdump" --capture --extcap-interface \
		ebpfevents --fifo "$tmp/out.pcapng" --no-snapshot --no-containers \
		--debug-file "$tmp/ebpfdump.log" 2>"$tmp/tracer.err" ;;
	bpftrace) tracer_start bpftrace "${bpftrace_cmd[@]}" -q -o "$tmp/bpftrace.out" \
		"$here/overhead.bt" 2>"$tmp/tracer.err" >/dev/null ;;
	esac || {
		# A tracer that did not attach would make this a run without one.
		echo "$tracer did not start: $(head -3 "$tmp/tracer.err")" >&2
		echo failed
		return
	}
	local before=(0 0) after=(0 0) t0=0 t1=0
	if [ "$tracer" = ebpfdump ]; then read -r -a before < <(bpf_runtime "$TRACER_PID"); t0=$(cpu_ticks "$TRACER_PID"); fi
	"$build/bench/loadgen" "${args[@]}" >"$tmp/run"
	if [ "$tracer" = ebpfdump ]; then
		read -r -a after < <(bpf_runtime "$TRACER_PID")
		t1=$(cpu_ticks "$TRACER_PID")
		echo "$(field connections "$tmp/run") $((after[0] - before[0])) $((after[1] - before[1])) $((t1 - t0))" >>"$tmp/cost.$setup"
	fi
	tracer_stop
	rm -f "$tmp/out.pcapng" "$tmp/bpftrace.out"
	field cycles_per_s "$tmp/run"
}

# The median: single runs on a shared 2-core machine vary by 2x.
mean() { echo "$@" | tr ' ' '\n' | sort -n | awk '{v[NR]=$1} END {printf "%.0f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for setup in loopback veth; do
	alone=() dump=() bt=()
	for r in $(seq "$rounds"); do
		alone+=("$(run_one "$setup" none)")
		dump+=("$(run_one "$setup" ebpfdump)")
		alone+=("$(run_one "$setup" none)")
		[ $have_bpftrace = 1 ] && bt+=("$(run_one "$setup" bpftrace)")
		echo "$setup round $r: alone ${alone[*]: -2} ebpfdump ${dump[*]: -1}" \
			"bpftrace ${bt[*]: -1}"
	done
	if [[ " ${dump[*]} ${bt[*]} " == *" failed "* ]]; then
		echo "a tracer failed to start: no ratios for $setup" >&2
		exit 1
	fi
	a=$(mean "${alone[@]}") d=$(mean "${dump[@]}")
	printf "%-8s alone %8s cycles/s  ebpfdump %8s (ratio %.3f)" "$setup" "$a" "$d" \
		"$(echo "$d / $a" | bc -l)"
	if [ $have_bpftrace = 1 ]; then
		b=$(mean "${bt[@]}")
		printf "  bpftrace %8s (ratio %.3f)" "$b" "$(echo "$b / $a" | bc -l)"
	fi
	echo "  [target ebpfdump ratio >= 0.98; medians of $rounds]"
	echo "$setup ebpfdump hooks: $(sed -n 's/.*probe: loaded (\([a-z-]*\) hooks.*/\1/p' "$tmp/ebpfdump.log" | sort -u | tr '\n' ' ')"
	awk -v hz="$hz" -v s="$setup" '{c+=$1; ns+=$2; runs+=$3; t+=$4} END {
		printf "%-8s ebpfdump cost per connection: BPF %.2f us in %.1f program runs (%.0f ns/run), user space %.2f us CPU\n",
			s, ns/c/1000, runs/c, runs ? ns/runs : 0, t/hz*1e6/c }' "$tmp/cost.$setup"
done
