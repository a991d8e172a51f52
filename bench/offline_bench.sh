#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Offline merge throughput against `tcpdump -r in -w out` on the same file,
# in the same run.
#
# usage: bench/offline_bench.sh BUILD_DIR [PACKETS [FLOWS [PAYLOAD]]]
#   defaults: 1,000,000 packets over 1,000 flows, 64 payload bytes
#
# offline_gen writes the input: a microsecond pcap (tcpdump's own format)
# of TCP packets in bursts per flow, and the connect/accept events of every
# flow, so that the merge tags every packet. Each tool runs RUNS times
# (default 3) on a warm page cache; the best run counts. Prints packets/s
# of both, their ratio, the merge's peak RSS, and the merge's counters.
set -euo pipefail
build=${1:?usage: offline_bench.sh BUILD_DIR [PACKETS [FLOWS [PAYLOAD]]]}
packets=${2:-1000000} flows=${3:-1000} payload=${4:-64}
runs=${RUNS:-3}
gen=$build/merge/offline_gen merge=$build/tests/merge_files
for f in "$gen" "$merge"; do
	[ -x "$f" ] || { echo "missing $f: build the offline_gen and merge_files targets" >&2; exit 1; }
done
command -v tcpdump >/dev/null || { echo "tcpdump not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ebpfdump-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
best() { # best time of RUNS runs of "$@"
	local b= t0 t1 d
	for _ in $(seq "$runs"); do
		t0=$(now)
		"$@" >/dev/null 2>&1
		t1=$(now)
		d=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$d < $b" | bc -l)" = 1 ]; then b=$d; fi
	done
	echo "$b"
}

"$gen" --packets "$packets" --flows "$flows" --payload "$payload" "$tmp/in.pcap" "$tmp/events.pcapng"
cat "$tmp/in.pcap" "$tmp/events.pcapng" >/dev/null # warm the page cache
echo "input: $packets packets ($(du -m "$tmp/in.pcap" | cut -f1) MiB), $flows flows," \
	"$((2 * flows)) events; best of $runs runs"

t_tcpdump=$(best tcpdump -r "$tmp/in.pcap" -w "$tmp/tcpdump.pcap")
t_merge=$(best "$merge" "$tmp/in.pcap" "$tmp/events.pcapng" "$tmp/merged.pcapng")
t_pass=$(best "$merge" --pass-tagged "$tmp/in.pcap" "$tmp/events.pcapng" "$tmp/merged2.pcapng")

rate() { echo "$packets / $1" | bc -l | xargs printf "%.0f"; }
r_tcpdump=$(rate "$t_tcpdump") r_merge=$(rate "$t_merge") r_pass=$(rate "$t_pass")
printf "tcpdump -r in -w out:          %10s packets/s (%.3f s)\n" "$r_tcpdump" "$t_tcpdump"
printf "offline merge (hold all):      %10s packets/s (%.3f s)  ratio %.2f\n" "$r_merge" \
	"$t_merge" "$(echo "$r_merge / $r_tcpdump" | bc -l)"
printf "offline merge (pass_tagged):   %10s packets/s (%.3f s)  ratio %.2f\n" "$r_pass" \
	"$t_pass" "$(echo "$r_pass / $r_tcpdump" | bc -l)"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f "%M" -o "$tmp/rss" "$merge" "$tmp/in.pcap" "$tmp/events.pcapng" \
		"$tmp/merged.pcapng" >"$tmp/stats"
	# The flow table for 1,048,576 flows is mapped whole, but only the
	# pages of entries in use become resident.
	echo "offline merge peak RSS: $(( $(cat "$tmp/rss") / 1024 )) MiB"
else
	"$merge" "$tmp/in.pcap" "$tmp/events.pcapng" "$tmp/merged.pcapng" >"$tmp/stats"
fi
echo "output: $(du -m "$tmp/merged.pcapng" | cut -f1) MiB (tcpdump's: $(du -m "$tmp/tcpdump.pcap" | cut -f1) MiB); counters:" \
	"$(grep -E '^(packets_written|events_written|tagged_both|untagged|packets_late)=' "$tmp/stats" | tr '\n' ' ')"
