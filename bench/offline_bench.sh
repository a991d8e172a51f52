#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Offline merge throughput against `tcpdump -r in -w out` on the same file,
# in the same run, for each packet comment (compact, the default; brief;
# full).
#
# usage: bench/offline_bench.sh BUILD_DIR [PACKETS [FLOWS [PAYLOAD]]]
#   defaults: 1,000,000 packets over 1,000 flows, 64 payload bytes
#
# offline_gen --rich writes the input: a microsecond pcap (tcpdump's own
# format) of TCP packets in bursts per flow, and the connect/accept events
# of every flow with identities as a live capture has them (exe, command
# line, user, parent, cgroup), so that the merge tags every packet. The
# tools run interleaved, RUNS rounds (default 5) on a warm page cache in
# TMPDIR; each prints its median time with the range, packets/s, its
# ratio to tcpdump's median (above 1: faster than tcpdump), and output
# bytes per packet.
set -euo pipefail
build=${1:?usage: offline_bench.sh BUILD_DIR [PACKETS [FLOWS [PAYLOAD]]]}
packets=${2:-1000000} flows=${3:-1000} payload=${4:-64}
runs=${RUNS:-5}
gen=$build/offline_gen merge=$build/tests/merge_files
for f in "$gen" "$merge"; do
	[ -x "$f" ] || { echo "missing $f: build the offline_gen and merge_files targets" >&2; exit 1; }
done
command -v tcpdump >/dev/null || { echo "tcpdump not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ebpfdump-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$gen" --rich --packets "$packets" --flows "$flows" --payload "$payload" "$tmp/in.pcap" \
	"$tmp/events.pcapng"
cat "$tmp/in.pcap" "$tmp/events.pcapng" >/dev/null # warm the page cache
echo "input: $packets packets ($(du -m "$tmp/in.pcap" | cut -f1) MiB), $flows flows," \
	"$((2 * flows)) events; $runs interleaved rounds, TMPDIR=${TMPDIR:-/tmp}"

names=(tcpdump compact brief full)
run_one() { # NAME: one timed run, seconds on stdout
	local t0 t1 out=$tmp/out-$1
	t0=$(date +%s.%N)
	case $1 in
	tcpdump) tcpdump -r "$tmp/in.pcap" -w "$out" 2>/dev/null ;;
	*) "$merge" --comment "$1" "$tmp/in.pcap" "$tmp/events.pcapng" "$out" >"$tmp/stats-$1" ;;
	esac
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
declare -A times
for _ in $(seq "$runs"); do
	for n in "${names[@]}"; do times[$n]+="$(run_one "$n") "; done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f %.4f %.4f", m, v[1], v[NR] }'; }
# Ratios to tcpdump (above 1: faster than tcpdump) of the medians and of
# the best runs: on a shared VM the best run is the uncontended cost.
read -r t_td t_td_best _ <<<"$(echo "${times[tcpdump]}" | median)"
for n in "${names[@]}"; do
	read -r m lo hi <<<"$(echo "${times[$n]}" | median)"
	bytes=$(stat -c %s "$tmp/out-$n")
	printf "%-8s median %.3f s (%.3f-%.3f)  %9.0f packets/s  ratio %.2f (best %.2f)  %6.1f bytes/packet\n" \
		"$n" "$m" "$lo" "$hi" "$(echo "$packets / $m" | bc -l)" "$(echo "$t_td / $m" | bc -l)" \
		"$(echo "$t_td_best / $lo" | bc -l)" "$(echo "$bytes / $packets" | bc -l)"
done
echo "compact: $(grep -E '^identities_written=' "$tmp/stats-compact")," \
	"$(grep -E '^(tagged_both|untagged)=' "$tmp/stats-compact" | tr '\n' ' ')"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "%M" -o "$tmp/rss" "$merge" --comment compact "$tmp/in.pcap" \
		"$tmp/events.pcapng" "$tmp/out-rss" >/dev/null
	# The flow table for 1,048,576 flows is mapped whole, but only the
	# pages of entries in use become resident.
	echo "offline merge (compact) peak RSS: $(( $(cat "$tmp/rss") / 1024 )) MiB"
fi
