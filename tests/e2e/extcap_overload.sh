#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every event accounted at overload (issue 22): a burst of connections while
# ebpfdump is stopped (SIGSTOP) with a 1 MiB ring buffer. For each event
# type, the events in the file plus those the kernel reported lost for that
# type must equal what the test's own connections produced. The capture
# keeps the client's namespace only (--netns), so nothing else on the
# machine counts: one TCP_Connect and one TCP_Close (the client's side)
# per connection. A second run under Wireshark's control pipes checks the
# toolbar's log line about the full ring.
#
# usage: extcap_overload.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark
T=$E2E_TMP
use_dissector "$src"
make_netns_pair || { echo "FAIL: cannot make the namespaces"; exit 1; }
conns=3000 port=7501

. "$src/tests/e2e/control_peer.sh"
netns=$(ip netns exec "$NS_C" stat -L -c %i /proc/self/ns/net)

# overload NAME [ARGS]: ebpfdump (output NAME.pcapng, debug log NAME.log,
# stderr NAME.err, with ARGS) stopped while the client makes $conns
# connections, then let go and stopped; its exit status in cap_rc. With
# control pipes in ARGS, a peer plays Wireshark on them.
overload() {
	local name=$1 srv
	shift
	port=$((port + 1))
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $port --count $conns \
		>/dev/null 2>&1 &
	srv=$!
	E2E_PIDS+=("$srv")
	"$tool" --capture --extcap-interface ebpfevents --fifo "$T/$name.pcapng" \
		--debug-file "$T/$name.log" --ring-buffer-size 1 --netns "$netns" \
		--events TCP_Connect,TCP_Close --no-snapshot "$@" >/dev/null 2>"$T/$name.err" &
	cap=$!
	E2E_PIDS+=("$cap")
	if [ $# -gt 0 ]; then
		control_peer_start "$tools/wireshark_control_peer" "$T" "$T/$name.log"
		E2E_PIDS+=("$PEER_PID")
	else
		wait_started "$T/$name.log"
	fi
	sleep 1
	kill -STOP "$cap"
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port $port --repeat $conns \
		>/dev/null 2>&1
	wait "$srv"
	kill -CONT "$cap"
	sleep 2 # the toolbar's log is told about once a second
	kill -INT "$cap"
	wait "$cap"
	cap_rc=$?
}
overload o
check "capture exits 0 ($(tail -1 "$T/o.err"))" '[ "$cap_rc" = 0 ]'

tshark -r "$T/o.pcapng" "${tshark_lua[@]}" -Y ebpf -T fields -e ebpf.event 2>/dev/null |
	sort | uniq -c >"$T/written"
written() { awk -v t="$1" '$2 == t { print $1 }' "$T/written" | grep . || echo 0; }
lost() { sed -n "s/.*by type:.*$1 \([0-9]*\).*/\1/p" "$T/o.err" | grep . || echo 0; }
total_lost=$(sed -n 's/.* \([0-9]*\) lost in the kernel (.*/\1/p' "$T/o.err")
sum=0
for t in TCP_Connect TCP_Close; do
	w=$(written $t) l=$(lost $t)
	sum=$((sum + l))
	echo "MEASURED: $t: $w written + $l lost = $((w + l)) (connections: $conns)"
done
# Every event our programs saw is written or counted lost, exactly: in the
# ring, or found afterwards from its socket (a close or connect the kernel
# ran neither state program for: now and then a client socket's FIN_WAIT1
# -> FIN_WAIT2 -> CLOSE, docs/kernel-side.md; a CI run once lacked 32 of
# 3,000 closes here).
read -r seen filt ring skipped delivered < <(sed -n 's/.*debug: kernel: \([0-9]*\) events seen, \([0-9]*\) filtered, \([0-9]*\) lost (ring full), \([0-9]*\) lost (programs skipped); \([0-9]*\) delivered.*/\1 \2 \3 \4 \5/p' "$T/o.log")
read -r found_rtx found_closes found_connects < <(sed -n 's/.*found afterwards from their sockets: \([0-9]*\) retransmissions, \([0-9]*\) closes, \([0-9]*\) connects.*/\1 \2 \3/p' "$T/o.log")
found_rtx=${found_rtx:-0} found_closes=${found_closes:-0} found_connects=${found_connects:-0}
found=$((found_rtx + found_closes + found_connects))
written_all=$(sed -n 's/^ebpfdump: \([0-9]*\) events written.*/\1/p' "$T/o.err")
echo "MEASURED: the programs saw $seen, filtered $filt, lost $ring in the ring and ${skipped:-?} to skipped runs ($found_closes closes and $found_connects connects found afterwards), delivered $delivered; $written_all written"
check "every event seen is written or counted ($seen = $filt + $ring + $found + $delivered, $delivered = $written_all)" \
	'[ -n "$seen" ] && [ "$seen" = $((filt + ring + found + delivered)) ] &&
	 [ "$delivered" = "$written_all" ] && [ "$skipped" = "$found" ]'
w=$(written TCP_Connect) l=$(lost TCP_Connect)
check "TCP_Connect: written + lost in the ring + found missed = $conns ($w + $l + $found_connects)" \
	'[ $((w + l + found_connects)) = "$conns" ]'
w=$(written TCP_Close) l=$(lost TCP_Close)
check "TCP_Close: written + lost in the ring + found missed = $conns ($w + $l + $found_closes)" \
	'[ $((w + l + found_closes)) = "$conns" ]'
check "the kernel did lose events: the test overloaded it (${total_lost:-0})" \
	'[ "${total_lost:-0}" -gt 0 ]'
check "lost by type adds up to the total lost in the ring ($sum = ${total_lost:-?} - $skipped)" \
	'[ "$sum" = $((${total_lost:-0} - skipped)) ]'

# The same overload under Wireshark's control pipes (wireshark_control_peer
# playing Wireshark; the summary above is not on stderr there): the
# toolbar's log tells the full ring's losses, with its advice.
control_pipes "$T"
overload t --extcap-control-in "$T/cin" --extcap-control-out "$T/cout"
exec 8>&-
echo "MEASURED: toolbar log: $(grep -o '[0-9]* events lost in the kernel[^\]*' "$T/peer.out" | head -1)"
check "toolbar: the full ring's losses are told in the log, with the advice" \
	'grep -q " [0-9]* events lost in the kernel (ring buffer full), [0-9]* in all: a larger Ring buffer (MiB) or fewer Event types keeps up" "$T/peer.out"'
finish
