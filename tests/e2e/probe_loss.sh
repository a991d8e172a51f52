#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Loss accounting (bpf/): probe_dump with the smallest ring buffer (64 KiB,
# about 75 records of 856 bytes) is stopped (SIGSTOP) while a burst of TCP connections
# runs between two network namespaces, then resumed. With the netns filter
# on the client's namespace, each connection generates exactly two events
# there (TCP_Connect and the client's TCP_Close; the server's TCP_Accept
# and TCP_Close are in the other namespace and filtered), so delivered +
# dropped must equal 2 x connections exactly, whatever else the machine
# does meanwhile. Then a full UDP flow table: 1000 flows through 256
# entries; the evictions are counted and no datagram goes unreported.
#
# usage: probe_loss.sh PROBE_DUMP UDP_PEER TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail
probe_dump=$1 udp_peer=$2 tcp_server=$3 tcp_client=$4
. "$(dirname "$0")/probe_lib.sh"
probe_setup probe_loss

burst=500

start_probe loss --ringbuf 65536 --netns "$ino_c" || exit 1
kill -STOP "$pd_pid"
bg_in "$ns_s" loss.srv timeout 40 "$tcp_server" --listen "$v4_s" --port 0 --send 0 --recv 0 \
	--count "$burst"
spid=$bg_pid
wait_line "$tmp/loss.srv" listening || bad "server did not start"
ip netns exec "$ns_c" timeout 40 "$tcp_client" --connect "$v4_s" \
	--port "$(field "$tmp/loss.srv" listening port)" --send 0 --recv 0 --repeat "$burst" \
	>"$tmp/loss.cli" 2>"$tmp/loss.cli.err"
rc=$?
check "client made its $burst connections (exit $rc)" '[ $rc = 0 ]'
wait_bg "$spid" loss.srv
made=$(grep -c '^connected ' "$tmp/loss.cli")
sleep 0.5 # the last FIN/ACK exchanges complete in softirq
kill -CONT "$pd_pid"
stop_probe loss

delivered=$(pstat loss delivered) dropped=$(pstat loss dropped) missed=$(pstat loss missed)
expected=$((2 * made))
echo "MEASURED: $made connections, $expected events expected in the client namespace:" \
	"delivered=$delivered dropped=$dropped missed=$missed filtered=$(pstat loss filtered)" \
	"seen=$(pstat loss seen)"
check "all $burst connections made ($made)" '[ "$made" = "$burst" ]'
check "the small ring overflowed: records dropped ($dropped)" '[ "${dropped:-0}" -gt 0 ]'
check "delivered equals the events printed" '[ "$delivered" = "$(grep -c "^event=" "$out")" ]'
check "no program run skipped (missed $missed)" '[ "$missed" = 0 ]'
check "delivered + dropped = $expected exactly ($delivered + $dropped)" \
	'[ $((delivered + dropped)) = "$expected" ]'
check "only the client namespace's events delivered" \
	'[ "$(grep "^event=" "$out" | grep -vc " netns=$ino_c ")" = 0 ]'
check "the server side's $expected events were filtered, not dropped ($(pstat loss filtered))" \
	'[ "$(pstat loss filtered)" -ge "$expected" ]'
check "delivered are TCP_Connect and TCP_Close only" \
	'[ "$(grep "^event=" "$out" | grep -vcE "^event=(TCP_Connect|TCP_Close) ")" = 0 ]'

# --- a full UDP flow table: evictions counted, counts still exact -----------
# 1000 flows (one datagram to each of 1000 ports) through a table of 256.
flows=1000
start_probe lru --udp-flows 256 --events UDP_Send --netns "$ino_c" || exit 1
ip netns exec "$ns_c" "$udp_peer" --bind "$v4_c" --peer "$v4_s" --peer-port 20000 \
	--ports "$flows" --send "$flows" --size 10 >"$tmp/lru.cli" 2>"$tmp/lru.cli.err"
check "1000-flow sender exits 0" '[ $? = 0 ]'
stop_probe lru
cpid=$(field "$tmp/lru.cli" done pid)
inserted=$(pstat lru udp_flows_inserted) used=$(pstat lru udp_flows_used)
evicted=$(pstat lru udp_flows_evicted)
echo "MEASURED: $flows flows through a 256-flow table: inserted=$inserted used=$used" \
	"evicted=$evicted; UDP_Send records $(events UDP_Send pid="$cpid" | wc -l)"
check "every flow inserted ($inserted = $flows)" '[ "$inserted" = "$flows" ]'
check "the table never held more than its size ($used <= 256)" '[ "$used" -le 256 ]'
check "evictions counted: inserted - present ($evicted = $inserted - $used)" \
	'[ "$evicted" = $((inserted - used)) ] && [ "$evicted" -ge $((flows - 256)) ]'
check "the datagrams still add up: each flow reported at once ($(sum_of packets UDP_Send pid="$cpid"))" \
	'[ "$(sum_of packets UDP_Send pid="$cpid")" = "$flows" ]'
check "one record per flow ($(events UDP_Send pid="$cpid" | wc -l))" \
	'[ "$(events UDP_Send pid="$cpid" | wc -l)" = "$flows" ]'

probe_finish || exit 1
