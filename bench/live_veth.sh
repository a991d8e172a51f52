#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Live capture under load: a UDP flood of small datagrams (the highest
# packet rate loadgen reaches here) from a namespace to the host over a
# veth for SECS seconds, captured at the same time by ebpfdump --ifname
# and by tcpdump on the same host-side interface. Prints what each wrote
# and what each reports as dropped (ebpfdump: its interface statistics
# block; tcpdump: "dropped by kernel").
#
# usage: bench/live_veth.sh BUILD_DIR
#   env: SECS=10 BYTES=64 CLIENTS=1 (sending threads), EBPFDUMP_ARGS="--packet-comment
#   full" (added to ebpfdump's command line)
set -euo pipefail
build=$(cd "${1:?usage: live_veth.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
secs=${SECS:-10} bytes=${BYTES:-64}
[ -x "$build/bench/loadgen" ] || bench_build "$build"
command -v tcpdump >/dev/null || { echo "tcpdump not installed" >&2; exit 1; }
tmp=$(mktemp -d /dev/shm/ebpfdump-live.XXXXXX)
ns="bench-live-$$" host_if="lh$$" n=$(( $$ % 250 + 1 ))
tcpdump_pid=
cleanup() {
	tracer_stop
	[ -n "$tcpdump_pid" ] && kill -INT "$tcpdump_pid" 2>/dev/null || true
	ip link del "$host_if" 2>/dev/null || true
	netns_del "$ns"
	rm -rf "$tmp"
}
trap cleanup EXIT
host_veth_up "$ns" "$host_if" "ln$$" "10.232.$n"

tcpdump -i "$host_if" -w "$tmp/tcpdump.pcap" -n 2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
tracer_start ebpfdump "$build/extcap/ebpfdump" --capture --extcap-interface ebpfevents \
	--ifname "$host_if" --fifo "$tmp/ebpfdump.pcapng" --no-snapshot --no-containers \
	${EBPFDUMP_ARGS:-} 2>"$tmp/ebpfdump.err"
"$build/bench/loadgen" --udp 1 --clients "${CLIENTS:-1}" --bytes "$bytes" --duration "$secs" --client-netns "$ns" \
	--addr "10.232.$n.1" | tee "$tmp/run"
sleep 1
tracer_stop
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
sent=$(field connections "$tmp/run")
"$build/bench/pcapng_count" "$tmp/ebpfdump.pcapng" >"$tmp/count"
# The packet interface is the one that is not LINKTYPE_WIRESHARK_UPPER_PDU.
pif=$(grep -E '^if[0-9]+_linktype=' "$tmp/count" | grep -v '=252$' | head -1 | sed 's/_linktype.*//')
e_written=$(field "${pif}_packets" "$tmp/count")
e_recv=$(field "${pif}_isb_received" "$tmp/count")
e_drop=$(field "${pif}_isb_dropped" "$tmp/count")
t_written=$(grep -o '^[0-9]* packets captured' "$tmp/tcpdump.err" | awk '{print $1}')
t_recv=$(grep -o '^[0-9]* packets received by filter' "$tmp/tcpdump.err" | awk '{print $1}')
t_drop=$(grep -o '^[0-9]* packets dropped by kernel' "$tmp/tcpdump.err" | awk '{print $1}')
echo "datagrams sent: $sent in $secs s ($((sent / secs)) /s, $bytes payload bytes)"
per_packet() { [ "${2:-0}" -gt 0 ] && echo "$(( $(stat -c %s "$1") / $2 )) bytes/packet" || echo "-"; }
echo "ebpfdump --ifname: written=$e_written received=${e_recv:-?} dropped=${e_drop:-?}" \
	"events=$(field events_total "$tmp/count") $(per_packet "$tmp/ebpfdump.pcapng" "$e_written")"
echo "tcpdump -w:        written=$t_written received=$t_recv dropped=$t_drop" \
	"$(per_packet "$tmp/tcpdump.pcap" "$t_written")"
