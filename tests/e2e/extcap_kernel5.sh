#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5 through the program: a connection opened before the capture and
# closed during it (TCP_Open, then TCP_Close with the owner the snapshot
# found); UDP_Send/UDP_Recv with pids and counts; a filter that matches
# nothing says so; and loss accounting with a small ring buffer and a
# stalled reader: the statistics block's received + dropped equals exactly
# the events the load generated, and stderr says events were lost.
#
# usage: extcap_kernel5.sh EBPFDUMP SOURCE_DIR TOOLS_DIR UDP_PEER SNAPSHOT_HOLD   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3 udp_peer=$4 hold=$5
. "$src/tests/e2e/lib.sh"
need_root
T=$E2E_TMP
use_dissector "$src"
make_netns_pair || { bad "namespaces"; finish; exit; }
ns_c=$(ip netns exec "$NS_C" stat -L -c %i /proc/self/ns/net)
kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
fields() { tshark -r "$1" "${tshark_lua[@]}" -Y "$2" -T fields -E separator='|' "${@:3}" 2>/dev/null; }

# 1. Open before the capture, closed during it.
ip netns exec "$NS_S" "$hold" tcp-server "$V4_S" 7100 1 >"$T/hs" &
E2E_PIDS+=("$!")
wait_for_line "$T/hs" listening
ip netns exec "$NS_C" "$hold" tcp-client "$V4_S" 7100 1 >"$T/hc" &
hc=$!
E2E_PIDS+=("$hc")
wait_for_line "$T/hc" ready
hcpid=$(kv "$T/hc" pid)
"$tool" --capture --extcap-interface ebpfevents --netns "$ns_c" --events TCP_Open,TCP_Close \
	--fifo "$T/open.pcapng" --debug-file "$T/open.pcapng.log" >/dev/null 2>"$T/open.err" &
cap=$!
wait_started "$T/open.pcapng.log"
sleep 0.5
kill "$hc"
wait "$hc" 2>/dev/null
sleep 0.5
kill -INT "$cap"
wait "$cap"
fields "$T/open.pcapng" "ebpf.rport == 7100" -e ebpf.event -e ebpf.pid -e ebpf.comm >"$T/open.ev"
check "open at start: TCP_Open names the client ($(tr '\n' ' ' <"$T/open.ev"))" \
	'grep -qx "TCP_Open|$hcpid|snapshot_hold" "$T/open.ev"'
check "open at start: its TCP_Close has the owner from the snapshot" \
	'grep -qx "TCP_Close|$hcpid|snapshot_hold" "$T/open.ev"'

# 2. UDP through the program, with a --comm filter for the two peers.
"$tool" --capture --extcap-interface ebpfevents --events UDP_Send,UDP_Recv --comm udpx \
	--udp-interval 100 --fifo "$T/udp.pcapng" --debug-file "$T/udp.pcapng.log" >/dev/null 2>"$T/udp.err" &
cap=$!
wait_started "$T/udp.pcapng.log"
ip netns exec "$NS_S" "$udp_peer" --bind "$V4_S" --port 7200 --recv 500 --comm udpx \
	--idle-ms 1000 >"$T/us" &
us=$!
wait_for_line "$T/us" ready
ip netns exec "$NS_C" "$udp_peer" --bind "$V4_C" --peer "$V4_S" --peer-port 7200 --send 500 \
	--size 100 --send-call sendto --comm udpx >"$T/uc"
wait "$us"
sleep 0.5
kill -INT "$cap"
wait "$cap"
upid=$(kv "$T/uc" pid) spid=$(kv "$T/us" pid) got=$(kv "$T/us" received)
sent=$(fields "$T/udp.pcapng" "ebpf.event == \"UDP_Send\" && ebpf.pid == $upid && ebpf.rport == 7200" -e ebpf.packets | paste -sd+ | bc)
recv=$(fields "$T/udp.pcapng" "ebpf.event == \"UDP_Recv\" && ebpf.pid == $spid && ebpf.lport == 7200" -e ebpf.packets | paste -sd+ | bc)
records=$(fields "$T/udp.pcapng" "ebpf.event" -e ebpf.event | wc -l)
echo "UDP: 500 datagrams sent, $got received, in $records records"
check "UDP_Send of the client: 500 datagrams ($sent)" '[ "$sent" = 500 ]'
# The receiver may lose datagrams to its socket buffer: compare with what
# it really received.
check "UDP_Recv of the server: what it received ($recv = $got)" '[ -n "$got" ] && [ "$recv" = "$got" ]'
check "UDP: a handful of records, not one per datagram ($records)" '[ "$records" -lt 60 ]'
check "--comm filter: only udpx events" \
	'[ -z "$(fields "$T/udp.pcapng" "ebpf.event && ebpf.comm != \"udpx\"" -e ebpf.comm)" ]'

# 3. A filter that matches nothing says so.
"$tool" --capture --extcap-interface ebpfevents --events TCP_Connect_Failed --comm no-such-task \
	--fifo "$T/none.pcapng" --duration 3 --debug-file "$T/none.log" >/dev/null 2>"$T/none.err" &
cap=$!
# Not a fixed second: the sanitizer build on a loaded machine took longer
# to attach, and the connect came before it.
wait_started "$T/none.log"
"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null 2>&1
wait "$cap"
check "no match: the user is told ($(grep -m1 filters "$T/none.err"))" 'grep -q "filters matched none" "$T/none.err"'

# 4. Loss accounting: 1 MiB ring, reader stopped, 1500 connections in the
# client namespace: 4 events each (connect, accept, two closes).
N=1500
out=$T/loss.pcapng
"$tool" --capture --extcap-interface ebpfevents --ring-buffer-size 1 --no-snapshot \
	--netns "$ns_c" --events TCP_Connect,TCP_Accept,TCP_Close --fifo "$out" --debug-file "$out.log" \
	>/dev/null 2>"$T/loss.err" &
cap=$!
wait_started "$out.log"
kill -STOP "$cap"
# Server and clients both in NS_C, so that every event is of that namespace.
ip netns exec "$NS_C" "$tools/tcp_server" --listen 127.0.0.1 --port 7300 --send 0 --recv 0 \
	--count $N >/dev/null &
srv=$!
sleep 0.3
for _ in $(seq $N); do
	ip netns exec "$NS_C" "$tools/tcp_client" --connect 127.0.0.1 --port 7300 --send 0 >/dev/null 2>&1
done
wait "$srv"
sleep 0.5
kill -CONT "$cap"
sleep 1
kill -INT "$cap"
wait "$cap"
isb=$(tshark -r "$out" -X 'read_format:MIME Files Format' -T fields -E separator='|' \
	-e pcapng.options.option.data.interface.received \
	-e pcapng.options.option.data.interface.dropped 2>/dev/null | grep . | tail -1)
received=${isb%%|*} dropped=${isb##*|}
frames=$(tshark -r "$out" 2>/dev/null | wc -l)
echo "loss accounting: generated $((4 * N)) events, received $received, dropped $dropped"
check "loss: events were dropped with a 1 MiB ring and a stalled reader ($dropped)" '[ "${dropped:-0}" -gt 0 ]'
# Exact but for issue 22's residual: about 1 state change in 100,000 (both
# transitions of a closing socket) reaches no BPF program and no skip is
# counted (docs/kernel-side.md); a clean-clone CI run saw 5999 of 6000.
# Never more than generated; at most 0.1 % short.
check "loss: received + dropped = 4 x $N, or at most 0.1 % short ($received + $dropped = $((received + dropped)))" \
	'[ $((received + dropped)) -le $((4 * N)) ] && [ $((received + dropped)) -ge $((4 * N - 4 * N / 1000)) ]'
check "loss: every received event is in the file ($frames)" '[ "$frames" = "$received" ]'
check "loss: stderr says how many were lost" 'grep -q "^ebpfdump: warning: $dropped events were lost" "$T/loss.err"'
finish
