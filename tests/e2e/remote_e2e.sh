#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Remote events end to end: two publishers (ebpfdump --zmq-publish) in two
# network namespaces, each with real TCP activity and --netns self, send
# CURVE-encrypted events to one subscriber that Wireshark's extcap path runs
# (tshark -i ebpfzmqevents). The capture shows both hosts' events with the
# right ebpf.host, pids and ports, in time order. Then: a publisher with an
# unlisted key delivers nothing and the rejection is reported; garbage sent
# to a subscriber is counted and the next valid events still arrive.
#
# usage: remote_e2e.sh BUILD_DIR SOURCE_DIR TOOLS_DIR ZMQ_RAW   (as root)
set -uo pipefail
build=$1 src=$2 tools=$3 zmq_raw=$4
. "$src/tests/e2e/lib.sh"
need_root
install_for_wireshark "$build" || { bad "cmake --install"; finish; exit; }
tool=$extcap_dir/ebpfdump
T=$E2E_TMP

for k in sub pubA pubB rogue; do
	"$tool" --zmq-keygen "$T/$k" >/dev/null 2>&1 || bad "keygen $k"
done
cat "$T/pubA.pub" "$T/pubB.pub" >"$T/authorized"
check "keygen: secret key is private" '[ "$(stat -c %a "$T/sub.key")" = 600 ]'

NS_A=ebpfdump-ra-$E2E_SFX NS_B=ebpfdump-rb-$E2E_SFX
for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns" && E2E_NETNS+=("$ns") && ip -n "$ns" link set lo up
done
host_a=host-a-$E2E_SFX host_b=host-b-$E2E_SFX
ep=ipc://$T/sub.ipc # unix sockets cross network namespaces

publish() { # NS HOST KEY
	ip netns exec "$1" "$tool" --zmq-publish "$ep" --zmq-key "$T/$3.key" \
		--zmq-server-key "$T/sub.pub" --host "$2" --netns self \
		--events TCP_Connect,TCP_Accept,TCP_Close >/dev/null 2>"$T/pub-$2.err" &
	E2E_PIDS+=("$!")
}
activity() { # NS PORT TAG: one exchange inside NS on loopback
	ip netns exec "$1" "$tools/tcp_server" --listen 127.0.0.1 --port "$2" --send 300 --recv 200 \
		--count 1 >"$T/srv-$3" &
	local s=$!
	wait_for_line "$T/srv-$3" listening
	ip netns exec "$1" "$tools/tcp_client" --connect 127.0.0.1 --port "$2" --send 200 --recv 300 \
		>"$T/cli-$3"
	wait "$s"
}

cap=$T/remote.pcapng
tshark -i ebpfzmqevents -o "extcap.ebpfzmqevents.zmqlisten:$ep" \
	-o "extcap.ebpfzmqevents.zmqkey:$T/sub.key" \
	-o "extcap.ebpfzmqevents.zmqauthorizedkeys:$T/authorized" \
	-a duration:60 -w "$cap" >/dev/null 2>"$T/tshark.err" &
tshark_pid=$!
E2E_PIDS+=("$tshark_pid")
for _ in $(seq 100); do [ -S "$T/sub.ipc" ] && break; sleep 0.05; done
check "the subscriber listens" '[ -S "$T/sub.ipc" ]'
publish "$NS_A" "$host_a" pubA
publish "$NS_B" "$host_b" pubB
sleep 2 # attach, connect, CURVE handshake
activity "$NS_A" 6001 a
activity "$NS_B" 6002 b
activity "$NS_A" 6003 a2
sleep 1 # the reorder window (200 ms) and the network
kill -INT "$tshark_pid"
wait "$tshark_pid"
check "tshark stops cleanly" '[ $? = 0 ]'

tshark -r "$cap" -T fields -E separator='|' -e frame.time_epoch -e ebpf.host -e ebpf.event \
	-e ebpf.pid -e ebpf.lport -e ebpf.rport >"$T/events" 2>/dev/null
kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
for tag in a b a2; do
	case $tag in a) h=$host_a p=6001 ;; b) h=$host_b p=6002 ;; a2) h=$host_a p=6003 ;; esac
	cpid=$(kv "$T/cli-$tag" pid) spid=$(kv "$T/srv-$tag" pid)
	check "$tag: TCP_Connect from $h with the client's pid $cpid" \
		'grep -q "|$h|TCP_Connect|$cpid|[0-9]*|$p$" "$T/events"'
	check "$tag: TCP_Accept from $h with the server's pid $spid" \
		'grep -q "|$h|TCP_Accept|$spid|$p|" "$T/events"'
	check "$tag: two TCP_Close from $h" '[ "$(grep -c "|$h|TCP_Close|[0-9]*|\(${p}|[0-9]*\|[0-9]*|$p\)$" "$T/events")" = 2 ]'
done
check "host A publishes only its namespace (--netns self)" \
	'! grep "|$host_a|" "$T/events" | grep -q "|6002$\||6002|"'
check "events of both hosts are in one time order" \
	'sort -c -t"|" -k1,1n "$T/events"'

# An unlisted publisher: nothing delivered, the rejection reported.
"$tool" --capture --extcap-interface ebpfzmqevents --zmq-listen "ipc://$T/sub2.ipc" \
	--zmq-key "$T/sub.key" --zmq-authorized-keys "$T/authorized" --fifo "$T/rogue.pcapng" \
	--duration 5 >/dev/null 2>"$T/rogue.err" &
sub=$!
for _ in $(seq 100); do [ -S "$T/sub2.ipc" ] && break; sleep 0.05; done
ip netns exec "$NS_A" "$tool" --zmq-publish "ipc://$T/sub2.ipc" --zmq-key "$T/rogue.key" \
	--zmq-server-key "$T/sub.pub" --host rogue-$E2E_SFX --netns self >/dev/null 2>&1 &
rogue=$!
sleep 2
activity "$NS_A" 6004 r
wait "$sub"
kill "$rogue" 2>/dev/null
check "rogue: no event delivered" \
	'[ -z "$(tshark -r "$T/rogue.pcapng" -Y ebpf 2>/dev/null)" ]'
rogue_key=$(cut -c1-20 "$T/rogue.pub")
check "rogue: the rejection is reported with the key ($(grep -m1 rejected "$T/rogue.err"))" \
	'grep "rejected a publisher" "$T/rogue.err" | grep -qF "$rogue_key"'

# Garbage to a plain-TCP subscriber: counted, dropped, the capture goes on.
port=$((20000 + RANDOM % 20000))
"$tool" --capture --extcap-interface ebpfzmqevents --zmq-listen "tcp://127.0.0.1:$port" \
	--zmq-plaintext --fifo "$T/garbage.pcapng" --duration 6 >/dev/null 2>"$T/garbage.err" &
sub=$!
sleep 0.5
# Topics of no known type or version never reach the decoder (ZeroMQ
# filters by subscription); these four do, and each is dropped and counted.
"$zmq_raw" "tcp://127.0.0.1:$port" "ebpf.v1.TCP_Connect|h|@5" "ebpf.v1.TCP_Connect|only-two" \
	"ebpf.v1.TCP_Connect|h|@40" "ebpf.v1.TCP_Accept|h|" >/dev/null 2>&1 ||
	bad "zmq_raw could not send"
"$tool" --zmq-publish "tcp://127.0.0.1:$port" --zmq-plaintext --host valid-$E2E_SFX \
	--events TCP_Connect_Failed >/dev/null 2>&1 &
valid=$!
sleep 1.5
"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null 2>&1
wait "$sub"
kill "$valid" 2>/dev/null
dropped=$(sed -n 's/.*events received, \([0-9]*\) messages dropped.*/\1/p' "$T/garbage.err")
check "garbage: the 4 bad messages are counted as dropped ($dropped)" '[ "${dropped:-0}" = 4 ]'
check "garbage: the plain-TCP warning is given" 'grep -q "zmq-plaintext" "$T/garbage.err"'
check "garbage: the next valid events arrive" \
	'tshark -r "$T/garbage.pcapng" -Y "ebpf.host == \"valid-$E2E_SFX\" && ebpf.event == \"TCP_Connect_Failed\"" 2>/dev/null | grep -q .'
finish
