#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-kernel de-duplication of UDP (bpf/): a flood of 100,000 datagrams on
# one flow between two network namespaces must give a handful of
# UDP_Send/UDP_Recv records (the first datagram at once, then at most one
# per interval, 250 ms here so that the flood spans several) whose counts
# add up exactly: to the 100,000 the sender
# sent, and to what the receiver got, which is also what the kernel
# delivered to the socket (Udp InDatagrams of the receiver's namespace,
# /proc/net/snmp; datagrams the kernel dropped are shown, not counted).
#
# usage: probe_udp_flood.sh PROBE_DUMP UDP_PEER TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail
probe_dump=$1 udp_peer=$2
. "$(dirname "$0")/probe_lib.sh"
probe_setup probe_udp_flood

flood=100000 size=64 interval_ms=250

# snmp NS FIELD: a Udp counter of namespace NS.
snmp() {
	ip netns exec "$1" awk -v f="$2" '
		$1 == "Udp:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == "Udp:" && hdr { print $col[f]; exit }' /proc/net/snmp
}

start_probe flood --flush-ms 50 --udp-interval "$interval_ms" || exit 1
in0=$(snmp "$ns_s" InDatagrams) rcvbuf0=$(snmp "$ns_s" RcvbufErrors)
bg_in "$ns_s" flood.srv "$udp_peer" --bind "$v4_s" --recv "$flood" --idle-ms 1000 \
	--rcvbuf 33554432 --recv-call recvfrom
spid=$bg_pid
wait_line "$tmp/flood.srv" ready || bad "receiver did not start"
sport=$(field "$tmp/flood.srv" ready lport)
t0=$(date +%s%N)
ip netns exec "$ns_c" "$udp_peer" --bind "$v4_c" --peer "$v4_s" --peer-port "$sport" \
	--send "$flood" --size "$size" --send-call sendto >"$tmp/flood.cli" 2>"$tmp/flood.cli.err"
rc=$?
t1=$(date +%s%N)
check "sender exits 0 (got $rc)" '[ $rc = 0 ]'
wait_bg "$spid" flood.srv
in1=$(snmp "$ns_s" InDatagrams) rcvbuf1=$(snmp "$ns_s" RcvbufErrors)
stop_probe flood

cpid=$(field "$tmp/flood.cli" done pid) cport=$(field "$tmp/flood.cli" done lport)
sent=$(field "$tmp/flood.cli" done sent)
spid=$(field "$tmp/flood.srv" done pid)
got=$(field "$tmp/flood.srv" done received) got_bytes=$(field "$tmp/flood.srv" done received_bytes)
delivered=$((in1 - in0)) rcvbuf_drops=$((rcvbuf1 - rcvbuf0))

send_recs=$(events UDP_Send pid="$cpid" lport="$cport" rport="$sport" | wc -l)
send_pkts=$(sum_of packets UDP_Send pid="$cpid" lport="$cport" rport="$sport")
send_bytes=$(sum_of bytes UDP_Send pid="$cpid" lport="$cport" rport="$sport")
recv_recs=$(events UDP_Recv pid="$spid" lport="$sport" rport="$cport" raddr="$v4_c" | wc -l)
recv_pkts=$(sum_of packets UDP_Recv pid="$spid" lport="$sport" rport="$cport" raddr="$v4_c")
recv_bytes=$(sum_of bytes UDP_Recv pid="$spid" lport="$sport" rport="$cport" raddr="$v4_c")
secs=$(((t1 - t0) / 1000000))

echo "MEASURED: $flood datagrams sent in ${secs} ms; UDP_Send: $send_recs records," \
	"$send_pkts datagrams, $send_bytes bytes"
echo "MEASURED: receiver got $got ($got_bytes bytes), kernel delivered $delivered" \
	"(Udp InDatagrams), dropped $rcvbuf_drops (RcvbufErrors); UDP_Recv: $recv_recs" \
	"records, $recv_pkts datagrams, $recv_bytes bytes"

check "the sender sent all $flood ($sent)" '[ "$sent" = "$flood" ]'
check "UDP_Send datagrams add up to $flood ($send_pkts)" '[ "$send_pkts" = "$flood" ]'
check "UDP_Send bytes add up to $((flood * size)) ($send_bytes)" \
	'[ "$send_bytes" = "$((flood * size))" ]'
check "UDP_Recv datagrams equal what the receiver got ($recv_pkts = $got)" \
	'[ "$recv_pkts" = "$got" ]'
check "UDP_Recv bytes equal what the receiver got ($recv_bytes = $got_bytes)" \
	'[ "$recv_bytes" = "$got_bytes" ]'
check "the receiver got what the kernel delivered ($got = InDatagrams $delivered)" \
	'[ "$got" = "$delivered" ]'
check "sent = delivered + dropped by the receive buffer ($flood = $delivered + $rcvbuf_drops)" \
	'[ $((delivered + rcvbuf_drops)) = "$flood" ]'
# One record at once, then at most one per started interval of traffic,
# plus the final report at stop.
limit=$((secs / interval_ms + 3))
check "a handful of UDP_Send records ($send_recs <= $limit)" \
	'[ "$send_recs" -ge 1 ] && [ "$send_recs" -le "$limit" ]'
check "a handful of UDP_Recv records ($recv_recs <= $limit)" \
	'[ "$recv_recs" -ge 1 ] && [ "$recv_recs" -le "$limit" ]'
check "no ring-buffer record lost ($(pstat flood dropped)), no flow refused ($(pstat flood udp_lost))" \
	'[ "$(pstat flood dropped)" = 0 ] && [ "$(pstat flood udp_lost)" = 0 ]'
check "no UDP flow evicted ($(pstat flood udp_flows_evicted))" \
	'[ "$(pstat flood udp_flows_evicted)" = 0 ]'
# Records of one flow are at least one interval apart, except the last
# one of the capture (reported at stop).
gaps=$(events UDP_Send pid="$cpid" lport="$cport" | sed -n 's/.* ts_ns=\([0-9]*\) .*/\1/p' |
	awk 'NR > 1 { print $1 - prev } { prev = $1 }' | head -n -1 |
	awk -v min=$((interval_ms * 1000000)) '$1 < min { n++ } END { print n + 0 }')
check "records of the flow at least $interval_ms ms apart (except the final one): $gaps closer" \
	'[ "$gaps" = 0 ]'
check "the flood spanned several intervals: more than 2 records ($send_recs, $recv_recs)" \
	'[ "$secs" -lt $((2 * interval_ms)) ] || [ "$send_recs" -gt 2 ]'

if ! probe_finish; then
	grep '^event=UDP' "$out" | head -20
	exit 1
fi
