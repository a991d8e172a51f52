#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The toolbar's control pipes on a real capture, with wireshark_control_peer playing
# Wireshark: ebpfdump advertises the controls; live counters reach the status bar; a
# process filter set mid-capture takes effect at once; pause and resume work; a bad
# filter is refused with a message and the previous one stays. Packets are captured too
# (--ifname on the client's veth, ebpfdump in its namespace), so the status bar's
# "(N merged)" counts packets tagged with a process; the capture log's lines start with
# the time of day, the first one says the capture started. The capture also publishes
# its events over ZeroMQ to a subscriber: the toolbar steers this Wireshark's view only,
# so the subscriber gets the filtered and the paused connections too.
#
# Connections on four ports tell the phases apart: 5301 before any filter, 5302 with the
# filter "comm=tcp_server" (only the server's side may appear), 5303 while paused
# (nothing), 5304 after resuming (server side again).
#
# usage: wireshark_control.sh EBPFDUMP SOURCE_DIR TOOLS_DIR PEER   (root)
set -uo pipefail
ebpfdump=$1 src=$2 tools=$3 peer=$4
. "$src/tests/e2e/lib.sh"
need_root

# --- the sentences Wireshark builds the toolbar from --------------------------------
"$ebpfdump" --extcap-interfaces >"$E2E_TMP/ifaces"
check "--extcap-interfaces offers the pause control" \
	'grep -q "^control {number=0}{type=boolean}{display=Pause}" "$E2E_TMP/ifaces"'
check "--extcap-interfaces offers the filter control" \
	'grep -q "^control {number=1}{type=string}{display=Process filter}" "$E2E_TMP/ifaces"'
check "--extcap-interfaces offers the log" 'grep -q "^control {number=2}{type=button}{role=logger}" "$E2E_TMP/ifaces"'

make_netns_pair || { bad "network namespaces"; finish; exit; }
cin=$E2E_TMP/control-in cout=$E2E_TMP/control-out cap=$E2E_TMP/capture.pcapng
mkfifo "$cin" "$cout"
# The subscriber, listening on a unix socket (it crosses network namespaces).
ep=ipc://$E2E_TMP/pub.ipc remote=$E2E_TMP/remote.pcapng
"$ebpfdump" --capture --extcap-interface ebpfzmqevents --zmq-listen "$ep" --zmq-plaintext \
	--fifo "$remote" --debug-file "$E2E_TMP/sub.log" 2>"$E2E_TMP/sub.err" &
sub=$!
E2E_PIDS+=("$sub")
wait_started "$E2E_TMP/sub.log"
progs_before=$(bpf_prog_count)
ip netns exec "$NS_C" "$ebpfdump" --capture --extcap-interface ebpfevents --fifo "$cap" \
	--no-snapshot --ifname "ebc$E2E_SFX" --extcap-control-in "$cin" --extcap-control-out "$cout" \
	--zmq-publish "$ep" --zmq-plaintext 2>"$E2E_TMP/ebpfdump.err" &
dump=$!
E2E_PIDS+=("$dump")
# The peer's commands come from a fifo this script writes to.
mkfifo "$E2E_TMP/cmds"
"$peer" "$cin" "$cout" <"$E2E_TMP/cmds" >"$E2E_TMP/peer.out" 2>"$E2E_TMP/peer.err" &
peer_pid=$!
E2E_PIDS+=("$peer_pid")
exec {cmd}<>"$E2E_TMP/cmds" # read-write: never waits for the peer
say() { echo "$*" >&"$cmd"; sleep "${SETTLE:-0.7}"; }
if ! wait_bpf_progs "$progs_before" 3; then
	bad "ebpfdump did not attach its programs: $(head -2 "$E2E_TMP/ebpfdump.err")"
	finish
	exit
fi
for _ in $(seq 50); do grep -q '^open' "$E2E_TMP/peer.out" && break; sleep 0.1; done
check "ebpfdump opened its control-in pipe (the peer is connected)" 'grep -q "^open" "$E2E_TMP/peer.out"'
say init

exchange() { # $1 port
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port "$1" --send 100 \
		--recv 100 --count 1 >"$E2E_TMP/srv-$1" &
	local spid=$!
	for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv-$1" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port "$1" --send 100 \
		--recv 100 >/dev/null
	wait "$spid"
	sleep 0.5
}
status_lines() { grep -c '^msg [0-9]* 6 eBPF: ' "$E2E_TMP/peer.out"; }
last_events() { grep '^msg [0-9]* 6 eBPF: ' "$E2E_TMP/peer.out" | tail -1 | sed 's/.*eBPF: \([0-9]*\) events.*/\1/'; }

exchange 5301
sleep 1.5 # the status bar is updated about once a second
n1=$(last_events)
check "counters reach the status bar: $(grep '6 eBPF:' "$E2E_TMP/peer.out" | tail -1)" \
	'[ "$(status_lines)" -ge 1 ] && [ "${n1:-0}" -ge 2 ]'
merged=$(grep '^msg [0-9]* 6 eBPF: ' "$E2E_TMP/peer.out" | tail -1 | sed -n 's/.*(\([0-9]*\) merged).*/\1/p')
check "the status bar counts merged packets (${merged:-none} merged)" '[ "${merged:-0}" -ge 1 ]'

say set 1 comm=tcp_server
exchange 5302
say set 1 colour=red # refused: the filter stays comm=tcp_server
check "a bad filter is refused with a message naming the problem" \
	'grep -qE "^msg [0-9]+ (7|8|9) .*colour" "$E2E_TMP/peer.out" || grep -qE "^msg 2 2 .*colour" "$E2E_TMP/peer.out"'

say bool 0 1
exchange 5303
sleep 1.2
check "the status bar says paused" 'grep "6 eBPF:" "$E2E_TMP/peer.out" | tail -1 | grep -q paused'
say bool 0 0
exchange 5304
sleep 1.5
n2=$(last_events)
check "counters keep coming ($n1 then $n2 events)" '[ "${n2:-0}" -gt "${n1:-0}" ]'
check "the status bar counts filtered events" 'grep "6 eBPF:" "$E2E_TMP/peer.out" | tail -1 | grep -qE "[1-9][0-9]* filtered"'

kill -INT "$dump"
wait "$dump"
check "ebpfdump ends cleanly after SIGINT" '[ $? = 0 ]'
sleep 0.3 # the last published events reach the subscriber
kill -INT "$sub"
wait "$sub"
check "the subscriber ends cleanly after SIGINT" '[ $? = 0 ]'
exec {cmd}>&-
for _ in $(seq 30); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
kill "$peer_pid" 2>/dev/null # still waiting to open control-in: ebpfdump never did
wait "$peer_pid" 2>/dev/null

# The installed dissector if there is one (a second copy cannot load),
# else the source's.
lua=(-X "lua_script:$src/dissector/ebpf.lua")
tshark -G protocols 2>/dev/null | cut -f3 | grep -qx ebpf && lua=()
events() { # $1 port: "event comm" lines of that connection
	tshark -r "$cap" "${lua[@]}" -Y "ebpf.lport == $1 || ebpf.rport == $1" -T fields -e ebpf.event \
		-e ebpf.comm 2>/dev/null | sort -u | tr '\t' ' '
}
e1=$(events 5301) e2=$(events 5302) e3=$(events 5303) e4=$(events 5304)
check "before the filter: both sides ($(echo $e1))" \
	'grep -q "TCP_Connect tcp_client" <<<"$e1" && grep -q "TCP_Accept tcp_server" <<<"$e1"'
check "with comm=tcp_server: the server's events only ($(echo $e2))" \
	'grep -q "TCP_Accept tcp_server" <<<"$e2" && ! grep -q tcp_client <<<"$e2"'
check "while paused: nothing ($(echo $e3))" '[ -z "$e3" ]'
check "after resuming: the filter still applies ($(echo $e4))" \
	'grep -q "TCP_Accept tcp_server" <<<"$e4" && ! grep -q tcp_client <<<"$e4"'
remote_events() { # $1 port: "event comm" lines the subscriber received
	tshark -r "$remote" "${lua[@]}" -Y "ebpf.lport == $1 || ebpf.rport == $1" -T fields \
		-e ebpf.event -e ebpf.comm 2>/dev/null | sort -u | tr '\t' ' '
}
r2=$(remote_events 5302) r3=$(remote_events 5303)
check "published despite the toolbar's filter: both sides ($(echo $r2))" \
	'grep -q "TCP_Connect tcp_client" <<<"$r2" && grep -q "TCP_Accept tcp_server" <<<"$r2"'
check "published while paused: both sides ($(echo $r3))" \
	'grep -q "TCP_Connect tcp_client" <<<"$r3" && grep -q "TCP_Accept tcp_server" <<<"$r3"'
check "the capture log received lines (Log button)" 'grep -q "^msg 2 2 " "$E2E_TMP/peer.out"'
# The first line but warnings (--zmq-plaintext's comes before it).
first_log() { grep "^msg 2 2 " "$E2E_TMP/peer.out" | grep -v "^msg 2 2 [0-9:]* warning: " | head -1; }
check "its first line: the time of day, then the start: $(first_log)" \
	'first_log | grep -qE "^msg 2 2 [0-2][0-9]:[0-5][0-9]:[0-6][0-9] capture started: kernel events and packets on ebc"'
check "the --zmq-plaintext warning reached the log" \
	'grep -q "^msg 2 2 [0-9:]* warning: --zmq-plaintext" "$E2E_TMP/peer.out"'
check "every log line starts with the time of day" \
	'! grep "^msg 2 2 " "$E2E_TMP/peer.out" | grep -vqE "^msg 2 2 [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "'
check "the peer saw only well-formed messages" '! grep -q "bad framing" "$E2E_TMP/peer.out"'
finish
