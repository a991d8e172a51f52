#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Facts of events, checked against the test's own processes and sockets
# through the program and the dissector (issue 21):
#  - comm is the process's name and thread the acting thread's own (a
#    client whose socket thread is named like a resolver's, isc-net-0000);
#  - the command line of a process that exits at once is still there (read
#    in the kernel), a long one at least as far as the kernel keeps it;
#  - a connection reset while it waits in the accept queue: its TCP_Close
#    names the listening process and no TCP_Accept follows it;
#  - --pid applies to the sockets open at start (snapshot) too;
#  - packets: no gap after the first ones while the capture starts (a
#    datagram every 2 ms, each numbered), and drops said on stderr.
#
# usage: extcap_facts.sh EBPFDUMP SOURCE_DIR TOOLS_DIR SNAPSHOT_HOLD   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3 hold=$4
. "$src/tests/e2e/lib.sh"
need_root
T=$E2E_TMP
use_dissector "$src"
make_netns_pair || { echo "FAIL: cannot make the namespaces"; exit 1; }

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
fields() { tshark -r "$1" "${tshark_lua[@]}" -Y "$2" -T fields -E separator='|' "${@:3}" 2>/dev/null; }
start_capture() { # NAME ARGS...: ebpfdump in the background, $cap its pid
	local name=$1
	shift
	"$tool" --capture --extcap-interface ebpfevents "$@" --fifo "$T/$name.pcapng" --debug-file "$T/$name.pcapng.log" \
		>/dev/null 2>"$T/$name.err" &
	cap=$!
	E2E_PIDS+=("$cap")
	wait_started "$T/$name.pcapng.log"
	sleep 1 # programs attached, snapshot taken
}
stop_capture() {
	kill -INT "$cap"
	wait "$cap"
	check "capture exits 0 ($(tail -1 "$T/$1.err"))" '[ $? = 0 ]'
}

# 1. --pid and the sockets open at start: two connections held open
# before the capture, one server's pid selected.
for i in 1 2; do
	ip netns exec "$NS_S" "$hold" tcp-server "$V4_S" $((7200 + i)) 1 >"$T/hs$i" &
	E2E_PIDS+=("$!")
	wait_for_line "$T/hs$i" listening
	ip netns exec "$NS_C" "$hold" tcp-client "$V4_S" $((7200 + i)) 1 >"$T/hc$i" &
	E2E_PIDS+=("$!")
	wait_for_line "$T/hc$i" ready
done
spid=$(kv "$T/hs1" pid)
start_capture open --pid "$spid" --events TCP_Open
stop_capture open
fields "$T/open.pcapng" "ebpf" -e ebpf.event -e ebpf.pid -e ebpf.lport >"$T/open.ev"
check "--pid $spid: its socket open at start is reported ($(tr '\n' ' ' <"$T/open.ev"))" \
	'grep -qx "TCP_Open|$spid|7201" "$T/open.ev"'
others=$(grep -vc "|$spid|" "$T/open.ev")
check "--pid $spid: no other process's ($others of $(wc -l <"$T/open.ev"))" '[ "$others" = 0 ]'

# 2. Process and thread names, command lines of processes that exit at
# once, and a reset in the accept queue, in one capture.
start_capture facts --events TCP_Connect,TCP_Accept,TCP_Close
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 7210 --send 0 --recv 0 \
	--count 2 >"$T/srv" &
srv=$!
E2E_PIDS+=("$srv")
wait_for_line "$T/srv" listening
cmd1=("$tools/tcp_client" --connect "$V4_S" --port 7210 --send 0 --recv 0 --thread-name isc-net-0000)
ip netns exec "$NS_C" "${cmd1[@]}" >"$T/cli1"
long=$(printf 'r%.0s' $(seq 300))
cmd2=("$tools/tcp_client" --connect "$V4_S" --port 7210 --send 0 --recv 0 --thread-name "$long")
ip netns exec "$NS_C" "${cmd2[@]}" >"$T/cli2"
wait "$srv"
# The reset: the client connects and aborts (SO_LINGER 0) while the server
# waits 600 ms before its accept().
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 7211 --send 0 --recv 0 \
	--accept-delay-ms 600 >"$T/qsrv" &
qsrv=$!
E2E_PIDS+=("$qsrv")
wait_for_line "$T/qsrv" listening
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 7211 --send 0 --recv 0 \
	--rst >"$T/qcli"
wait "$qsrv"
sleep 0.3
stop_capture facts

c1=$(kv "$T/cli1" pid) p1=$(kv "$T/cli1" lport) c2=$(kv "$T/cli2" pid) p2=$(kv "$T/cli2" lport)
fields "$T/facts.pcapng" "ebpf.lport == $p1 || ebpf.lport == $p2" -e ebpf.event -e ebpf.pid \
	-e ebpf.comm -e ebpf.thread -e ebpf.cmdline >"$T/cli.ev"
check "thread named isc-net-0000: comm is the process's, thread its own" \
	'grep -qx "TCP_Connect|$c1|tcp_client|isc-net-0000|${cmd1[*]}" "$T/cli.ev"'
check "its TCP_Close too" \
	'grep -qx "TCP_Close|$c1|tcp_client|isc-net-0000|${cmd1[*]}" "$T/cli.ev"'
got2=$(grep "^TCP_Connect|$c2|tcp_client|${long:0:15}|" "$T/cli.ev" | cut -d'|' -f5)
full2="${cmd2[*]}" prefix=no
[ -n "$got2" ] && [ "${full2:0:${#got2}}" = "$got2" ] && prefix=yes
check "a $(echo -n "${cmd2[*]}" | wc -c)-byte command line of a process that exited: its start at least (${#got2} bytes)" \
	'[ "${#got2}" -ge 255 ] && [ $prefix = yes ]'
check "no event of these processes without a command line" \
	'! grep -q "^[^|]*|[0-9]*|[^|]*|[^|]*|$" "$T/cli.ev"'

# The reset in the accept queue, on the server's side.
qs=$(kv "$T/qsrv" pid) qp=$(kv "$T/qcli" lport)
fields "$T/facts.pcapng" "ebpf.lport == 7211 && ebpf.rport == $qp" -e frame.number -e ebpf.event \
	-e ebpf.pid -e ebpf.comm >"$T/q.ev"
close_frame=$(grep "|TCP_Close|" "$T/q.ev" | head -1 | cut -d'|' -f1)
check "reset in the accept queue: one TCP_Close, named after the listener's owner $qs ($(tr '\n' ' ' <"$T/q.ev"))" \
	'[ "$(grep -c "|TCP_Close|$qs|tcp_server$" "$T/q.ev")" = 1 ]'
check "no TCP_Accept of that connection after its TCP_Close" \
	'! awk -F"|" -v c="${close_frame:-0}" "\$2 == \"TCP_Accept\" && \$1 > c" "$T/q.ev" | grep -q .'

# 3. Packets at start: a datagram every 2 ms, numbered in its payload,
# across the veth; the capture starts in the middle of the stream with a
# small packet buffer (1 MiB: 8 blocks, each handed over 10 ms after its
# first packet). The datagrams it has must be consecutive, first to last.
vc=ebc$E2E_SFX
ip netns exec "$NS_C" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2500):
    s.sendto(i.to_bytes(4, "big"), (sys.argv[1], 7300))
    time.sleep(0.002)
' "$V4_S" &
sender=$!
E2E_PIDS+=("$sender")
sleep 0.3
ip netns exec "$NS_C" "$tool" --capture --extcap-interface ebpfevents --ifname "$vc" \
	--extcap-capture-filter "udp port 7300" --buffer-size 1 --events TCP_Close \
	--fifo "$T/pk.pcapng" --debug-file "$T/pk.pcapng.log" >/dev/null 2>"$T/pk.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/pk.pcapng.log"
sleep 2
stop_capture pk
fields "$T/pk.pcapng" "udp.dstport == 7300" -e data.data >"$T/pk.seq"
n=$(wc -l <"$T/pk.seq")
first=$((16#$(head -1 "$T/pk.seq"))) last=$((16#$(tail -1 "$T/pk.seq")))
echo "MEASURED: packets at start: $n datagrams, numbers $first..$last ($((last - first + 1 - n))" \
	"missing); $(tail -1 "$T/pk.err")"
check "packets at start: datagrams seen ($n)" '[ "$n" -ge 200 ]'
# The handle is opened again right before the loop: under load (a CI run
# beside it) up to a few datagrams around that moment can be missing
# (0-4 of ~950 seen; before the reopening 162-445 were).
check "packets at start: at most 5 missing between the first and the last ($first..$last, $n)" \
	'[ $((last - first + 1 - n)) -le 5 ]'
said=$(sed -n 's/.* \([0-9]*\) packets dropped.*/\1/p' "$T/pk.err" | head -1)
check "packets at start: stderr says how many packets were dropped (${said:-nothing})" \
	'[ -n "$said" ]'
# 4. Time order of an events-only file: four clients at once on two CPUs
# (their events reach the ring in the order each program reserved its
# record, a few microseconds after stamping it): no frame earlier than the
# one before it (before: 123 of 48,000).
servers=()
for p in 7321 7322 7323 7324; do
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $p --count 1500 \
		>/dev/null 2>&1 &
	E2E_PIDS+=("$!")
	servers+=("$!")
done
start_capture order --events TCP_Connect,TCP_Accept,TCP_Close
clients=()
for p in 7321 7322 7323 7324; do
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port $p --repeat 1500 \
		>"$T/order-$p.cli" 2>&1 &
	clients+=("$!")
done
wait "${clients[@]}"
# A client stops at its first failed connection: the events expected are
# those of the connections made (4 each), plus what a failed one made.
made=$(cat "$T"/order-*.cli | grep -c '^connected')
failed=$(cat "$T"/order-*.cli | grep -c '^failed')
# The servers' last closes too (each exits after its 1,500th connection).
for _ in $(seq 100); do
	kill -0 "${servers[@]}" 2>/dev/null || break
	sleep 0.1
done
# Every client socket of ours in TIME-WAIT (its TCP_Close fires on the way
# there) and none left on the server's side: on a loaded machine the last
# few dozen clients reached it more than 0.5 s after the servers had exited.
settled() {
	[ "$(ip netns exec "$NS_C" ss -Htan state time-wait | grep -cE ':732[1-4]\b')" -ge "$made" ] &&
		[ "$(ip netns exec "$NS_S" ss -Htan | grep -cE ':732[1-4]\b')" = 0 ]
}
for _ in $(seq 100); do
	settled && break
	sleep 0.1
done
sleep 0.3
stop_capture order
tshark -r "$T/order.pcapng" "${tshark_lua[@]}" -T fields -e frame.time_epoch 2>/dev/null |
	awk 'NR > 1 && $1 < prev { n++ } { prev = $1 } END { print n + 0, NR }' >"$T/order.n"
read -r back total <"$T/order.n"
echo "MEASURED: events-only file: $back of $total frames earlier than the one before"
# A slow build (AddressSanitizer) may lose some in the ring: counted.
lost=$(sed -n 's/.* \([0-9]*\) lost in the kernel.*/\1/p' "$T/order.err" | head -1)
# Only our four ports: the capture is host-wide, and a test running beside
# this one adds its own connections (seen: 24,004 written).
ours='(ebpf.lport >= 7321 && ebpf.lport <= 7324) || (ebpf.rport >= 7321 && ebpf.rport <= 7324)'
tshark -r "$T/order.pcapng" "${tshark_lua[@]}" -Y "$ours" -T fields -e ebpf.event \
	-e ebpf.lport 2>/dev/null >"$T/order.types"
mine=$(wc -l <"$T/order.types")
# Per type, and the closes of each side (the server's have its port as lport).
types=$(awk '{ n[$1]++ } $1 == "TCP_Close" { if ($2 >= 7321 && $2 <= 7324) s++; else c++ }
	END { for (t in n) printf "%s %d ", t, n[t]; printf "(closes: server %d, client %d)", s, c }' \
	"$T/order.types")
echo "MEASURED: events-only file: $mine of our $made connections ($failed failed) written" \
	"+ ${lost:-0} lost, $total frames in all ($types)"
check "the clients made their 6000 connections ($made, $failed failed)" '[ "$made" = 6000 ]'
# Every event the kernel reported is accounted for: seen by our programs =
# filtered + lost in the ring + delivered, and delivered = written.
read -r seen filt ring skipped delivered < <(sed -n 's/.*debug: kernel: \([0-9]*\) events seen, \([0-9]*\) filtered, \([0-9]*\) lost (ring full), \([0-9]*\) lost (programs skipped); \([0-9]*\) delivered.*/\1 \2 \3 \4 \5/p' "$T/order.pcapng.log")
# Events the kernel ran no program of ours for, found afterwards from their
# sockets (in about one run in five here a few dozen client sockets'
# FIN_WAIT1 -> FIN_WAIT2 -> CLOSE reach no BPF program, docs/kernel-side.md).
read -r found_rtx found_closes found_connects < <(sed -n 's/.*found afterwards from their sockets: \([0-9]*\) retransmissions, \([0-9]*\) closes, \([0-9]*\) connects.*/\1 \2 \3/p' "$T/order.pcapng.log")
found_rtx=${found_rtx:-0} found_closes=${found_closes:-0} found_connects=${found_connects:-0}
found=$((found_rtx + found_closes + found_connects))
written=$(sed -n 's/^ebpfdump: \([0-9]*\) events written.*/\1/p' "$T/order.err")
echo "MEASURED: events-only file: the kernel's programs saw $seen, filtered $filt, lost $ring in the" \
	"ring and ${skipped:-?} to skipped runs ($found_closes closes and $found_connects connects found afterwards), delivered" \
	"$delivered; $written written"
check "every event seen is written or counted ($seen = $filt + $ring + $found + $delivered, $delivered = $written)" \
	'[ -n "$seen" ] && [ "$seen" = $((filt + ring + found + delivered)) ] &&
	 [ "$delivered" = "$written" ] && [ "$skipped" = "$found" ]'
# lost counts the whole machine's (the capture is host-wide): ours are
# among them, so written + lost is at least 4 per connection made.
check "events of our connections: 4 per connection made, written or counted lost ($mine + ${lost:-0} of $((4 * made)))" \
	'[ $((mine + ${lost:-0})) -ge $((4 * made)) ] && [ "$mine" -le $((4 * made + 4 * failed)) ]'
check "events in time order: none earlier than the one before ($back of $total)" '[ "$back" = 0 ]'
finish
