#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Packets plus events through the program: a server in a namespace, a
# client on the host, ebpfdump capturing on the host-side veth (--ifname)
# while tcpdump captures the same interface. Every TCP packet of the test
# connections, SYN included, names the client and the server process as
# sender/receiver; UDP datagrams likewise; and the packets are byte-for-byte and
# count-for-count what tcpdump saw. Also: a bad capture filter is refused
# with the pcap error before anything starts, and a veth deleted
# mid-capture stops the capture cleanly with a valid file.
#
# usage: extcap_merge.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
T=$E2E_TMP
use_dissector "$src"

NS=ebpfdump-m-$E2E_SFX VH=ebmh$E2E_SFX VN=ebmn$E2E_SFX
ip netns add "$NS" && E2E_NETNS+=("$NS")
ip link add "$VH" type veth peer name "$VN" netns "$NS" && E2E_CLEANUP+=("ip link del $VH 2>/dev/null")
ip addr add 198.18.7.1/24 dev "$VH" && ip link set "$VH" up
ip -n "$NS" addr add 198.18.7.2/24 dev "$VN" && ip -n "$NS" link set "$VN" up && ip -n "$NS" link set lo up

# A bad capture filter: the pcap error, exit 1, nothing attached.
base=$(bpf_prog_count)
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --extcap-capture-filter "tcp port" \
	--fifo "$T/bad.pcapng" --duration 1 >/dev/null 2>"$T/bad.err"
rc=$?
check "bad filter: exit 1 ($rc)" '[ $rc = 1 ]'
check "bad filter: the pcap error text ($(cat "$T/bad.err"))" 'grep -qi "syntax error\|filter" "$T/bad.err"'
check "bad filter: nothing attached" 'wait_bpf_progs_back "$base"'

out=$T/merged.pcapng
# Both with the same capture filter: the veth's own neighbour discovery at
# start-up would otherwise depend on who started first.
filter="tcp port 7001 or udp port 7002"
# --immediate-mode: otherwise libpcap hands packets over a block at a time,
# and an interrupted tcpdump lost the last block (once in CI: the 20 UDP
# datagrams, sent less than its 1 s block timeout before the stop).
tcpdump -i "$VH" -U --immediate-mode -w "$T/tcpdump.pcap" "$filter" >/dev/null 2>"$T/tcpdump.err" &
tcpdump_pid=$!
E2E_PIDS+=("$tcpdump_pid")
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --extcap-capture-filter "$filter" \
	--fifo "$out" --debug-file "$out.log" >/dev/null 2>"$T/cap.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
# tcpdump says "listening on" once its socket is open (a fixed sleep lost
# packets on a loaded machine).
for _ in $(seq 200); do grep -q 'listening on' "$T/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7001 --send 40000 --recv 30000 \
	--count 2 >"$T/srv" &
srv=$!
wait_for_line "$T/srv" listening
"$tools/tcp_client" --connect 198.18.7.2 --port 7001 --send 30000 --recv 40000 >"$T/cli1"
"$tools/tcp_client" --connect 198.18.7.2 --port 7001 --send 30000 --recv 40000 >"$T/cli2"
wait "$srv"
# UDP: an unconnected sender on the host, a receiver in the namespace.
ip netns exec "$NS" "$tools/udp_peer" --bind 198.18.7.2 --port 7002 --recv 20 \
	--recv-call recvfrom --idle-ms 3000 >"$T/usrv" &
usrv=$!
wait_for_line "$T/usrv" ready
"$tools/udp_peer" --bind 198.18.7.1 --peer 198.18.7.2 --peer-port 7002 --send 20 --size 100 \
	--send-call sendto --idle-ms 100 >"$T/ucli"
wait "$usrv"
sleep 0.5
kill -INT "$cap"
wait "$cap"
check "capture exits 0" '[ $? = 0 ]'
sleep 0.3
kill -INT "$tcpdump_pid" 2>/dev/null
wait "$tcpdump_pid" 2>/dev/null

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
spid=$(kv "$T/srv" pid) c1=$(kv "$T/cli1" pid) c2=$(kv "$T/cli2" pid)
p1=$(kv "$T/cli1" lport) p2=$(kv "$T/cli2" lport)
# The default, compact comments: each packet names its two processes as
# comm[pid]#identity, the rest comes from the Identity frames, which the
# capture writes before a process's first packet, so a single pass of the
# dissector finds every one (no ebpf.identity_missing).
tshark -r "$out" "${tshark_lua[@]}" -Y "tcp.port == 7001" -T fields -E separator='|' \
	-e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e ebpf.pid -e ebpf.comm -e ebpf.exe \
	-e frame.comment >"$T/pkts" 2>/dev/null
total=$(wc -l <"$T/pkts")
check "TCP packets of the test connections captured ($total)" '[ "$total" -ge 20 ]'
# Every packet: sender and receiver named, the client's pid on the client's side.
bad=$(awk -F'|' -v s="$spid" -v c1="$c1" -v c2="$c2" -v p1="$p1" -v p2="$p2" '{
	cpid = ($1 == p1 || $2 == p1) ? c1 : c2
	if ($1 == 7001) { want = s "," cpid } else { want = cpid "," s }
	if ($4 != want) n++
} END { print n + 0 }' "$T/pkts")
check "every TCP packet names its sender and receiver pid ($bad of $total do not)" '[ "$bad" = 0 ]'
syn=$(awk -F'|' '($3 == 1 || $3 == "True") && $5 ~ /^tcp_client,/' "$T/pkts" | wc -l)
check "the SYNs are tagged with tcp_client ($syn)" '[ "$syn" -ge 2 ]'
check "compact: the comment is comm[pid]#identity per side ($(head -1 "$T/pkts" | cut -d'|' -f7))" \
	'[ "$(cut -d"|" -f7 "$T/pkts" | grep -cE "^ebpf:1 src=tcp_(client|server)\[[0-9]+\]#[0-9a-f]+ dst=tcp_(client|server)\[[0-9]+\]#[0-9a-f]+$")" = "$total" ]'
check "compact: every packet has both executables from the Identity frames" \
	'[ "$(cut -d"|" -f6 "$T/pkts" | grep -c "/tcp_client,.*/tcp_server\|/tcp_server,.*/tcp_client")" = "$total" ]'
nmiss=$(tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.identity_missing" 2>/dev/null | wc -l)
nid=$(tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.event == \"Identity\"" 2>/dev/null | wc -l)
check "compact, one pass: every Identity frame before its packets ($nid Identity frames, $nmiss packets without)" \
	'[ "$nid" -ge 3 ] && [ "$nmiss" = 0 ]'
check "ebpf.comm == \"tcp_client\" finds packets and events" \
	'[ "$(tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.comm == \"tcp_client\" && tcp" 2>/dev/null | wc -l)" -ge 20 ] && tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.comm == \"tcp_client\" && ebpf.event" 2>/dev/null | grep -q TCP_Connect'

us=$(kv "$T/usrv" pid) uc=$(kv "$T/ucli" pid)
tshark -r "$out" "${tshark_lua[@]}" -Y "udp.port == 7002 && frame.interface_id == 1" -T fields \
	-e ebpf.pid >"$T/upkts" 2>/dev/null
utotal=$(grep -c . "$T/upkts")
check "UDP datagrams of the test captured ($utotal)" '[ "$utotal" = 20 ]'
ubad=$(grep -c -vx "$uc,$us" "$T/upkts")
check "every UDP datagram names sender $uc and receiver $us ($ubad do not)" '[ "$ubad" = 0 ]'

# Byte for byte: our packet interface against tcpdump's file. One line of
# hex per packet (tshark -x, paragraph per packet), sorted: both capture
# sockets see the same packets but may stamp them microseconds apart.
hexdump_packets() { # FILE [FILTER]
	tshark -r "$1" ${2:+-Y "$2"} -x 2>/dev/null |
		awk 'BEGIN { RS = "" } { gsub(/\n/, " "); print }' | sed 's/  */ /g' | sort
}
hexdump_packets "$out" "frame.interface_id == 1" >"$T/ours.hex"
hexdump_packets "$T/tcpdump.pcap" >"$T/theirs.hex"
n_ours=$(wc -l <"$T/ours.hex") n_theirs=$(wc -l <"$T/theirs.hex")
check "same packet count as tcpdump ($n_ours vs $n_theirs)" '[ "$n_ours" = "$n_theirs" ] && [ "$n_ours" -gt 0 ]'
check "same packet bytes as tcpdump" 'cmp -s "$T/ours.hex" "$T/theirs.hex"'

# --packet-comment brief: the same connection's packets name pid, tid and
# comm only.
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --extcap-capture-filter "tcp port 7001" \
	--packet-comment brief --fifo "$T/brief.pcapng" --debug-file "$T/brief.pcapng.log" >/dev/null 2>"$T/brief.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/brief.pcapng.log"
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7001 --send 100 --recv 100 \
	--count 1 >"$T/bsrv" &
srv=$!
wait_for_line "$T/bsrv" listening
"$tools/tcp_client" --connect 198.18.7.2 --port 7001 --send 100 --recv 100 >"$T/bcli"
wait "$srv"
sleep 0.3
kill -INT "$cap"
wait "$cap"
tshark -r "$T/brief.pcapng" -Y "tcp.port == 7001" -T fields -e frame.comment >"$T/bpkts" 2>/dev/null
bc=$(kv "$T/bcli" pid) bs=$(kv "$T/bsrv" pid)
check "brief: every packet of the connection tagged ($(grep -c . "$T/bpkts"))" \
	'[ "$(grep -c . "$T/bpkts")" -ge 6 ] && ! grep -q -v "^ebpf:1 src.pid=" "$T/bpkts"'
check "brief: only pid, tid, comm" \
	'! grep -o " [a-z]*\.[a-z_]*=" "$T/bpkts" | grep -qvE " (src|dst)\.(pid|tid|comm)="'
check "brief: both ends named (client $bc, server $bs)" \
	'grep -q "src.pid=$bc .*dst.pid=$bs " "$T/bpkts" && grep -q "src.pid=$bs .*dst.pid=$bc " "$T/bpkts"'

# --no-event-frames (issue 21.8): no events interface is declared, so the file has the
# veth's one link type and tcpdump -r reads it, while its packets still name their
# processes. The file with events (two link types) is the one tcpdump refuses.
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --extcap-capture-filter "tcp port 7001" \
	--no-event-frames --fifo "$T/noev.pcapng" --debug-file "$T/noev.pcapng.log" >/dev/null 2>"$T/noev.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/noev.pcapng.log"
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7001 --send 100 --recv 100 \
	--count 1 >"$T/nsrv" &
srv=$!
wait_for_line "$T/nsrv" listening
"$tools/tcp_client" --connect 198.18.7.2 --port 7001 --send 100 --recv 100 >"$T/ncli"
wait "$srv"
sleep 0.3
kill -INT "$cap"
wait "$cap"
check "no event frames: capture exits 0" '[ $? = 0 ]'
n_ts=$(tshark -r "$T/noev.pcapng" -T fields -e frame.number 2>/dev/null | wc -l)
n_td=$(tcpdump -r "$T/noev.pcapng" -nn 2>"$T/noev.tcpdump.err" | wc -l)
check "no event frames: tcpdump -r reads all $n_ts packets ($n_td; $(head -c 200 "$T/noev.tcpdump.err"))" \
	'[ "$n_ts" -ge 6 ] && [ "$n_td" = "$n_ts" ]'
check "no event frames: one interface, no event frame" \
	'[ "$(capinfos -M "$T/noev.pcapng" 2>/dev/null | grep -c "Interface #[0-9]* info")" = 1 ] && ! tshark -r "$T/noev.pcapng" -Y "exported_pdu" 2>/dev/null | grep -q .'
check "no event frames: the packets name the client" \
	'[ "$(tshark -r "$T/noev.pcapng" -Y "frame.comment contains \"src.pid=$(kv "$T/ncli" pid) \"" 2>/dev/null | wc -l)" -ge 3 ]'
check "with event frames: tcpdump refuses the two link types" '! tcpdump -r "$out" >/dev/null 2>&1'

# A command line that is not UTF-8 (issue 22): ebpf.cmdline, of the event and of the
# packets' comments, is the real argv with each stray byte as \xHH (docs/event-format.md
# 5.4). Ground truth: the process escapes its own /proc/self/cmdline the same way
# (Python's backslashreplace) before it connects.
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --extcap-capture-filter "tcp port 7003" \
	--fifo "$T/argv.pcapng" --debug-file "$T/argv.pcapng.log" >/dev/null 2>"$T/argv.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/argv.pcapng.log"
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7003 --send 100 --recv 100 \
	--count 1 >"$T/asrv" &
srv=$!
wait_for_line "$T/asrv" listening
python3 -c 'import os,socket,sys,time
c = open("/proc/self/cmdline", "rb").read().rstrip(b"\0").replace(b"\0", b" ")
open(sys.argv[1], "w").write(c.decode("utf-8", "backslashreplace") + "\n")
s = socket.create_connection(("198.18.7.2", 7003)); s.sendall(b"x" * 100); s.recv(100)
time.sleep(0.5); s.close(); print(os.getpid())' "$T/argv.truth" $'a\xffb' $'\xc3(' $'\xed\xa0\x80' \
	$'\xe2\x82' 'back\slash é' >"$T/argv.pid"
wait "$srv"
sleep 0.3
kill -INT "$cap"
wait "$cap"
apid=$(cat "$T/argv.pid")
# One line per value: the code has newlines, so compare with tshark's JSON strings.
truth=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read().rstrip("\n")))' "$T/argv.truth")
ev=$(tshark -r "$T/argv.pcapng" "${tshark_lua[@]}" -Y "ebpf.event == \"TCP_Connect\" && ebpf.pid == $apid" \
	-T json -e ebpf.cmdline 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["_source"]["layers"]["ebpf.cmdline"][0]))' 2>/dev/null)
check "argv not UTF-8: the connect event's cmdline is the escaped argv ($ev vs $truth)" \
	'[ -n "$truth" ] && [ "$ev" = "$truth" ]'
pk=$(tshark -r "$T/argv.pcapng" "${tshark_lua[@]}" -Y "tcp.dstport == 7003 && ebpf.pid == $apid" \
	-T json -e ebpf.cmdline 2>/dev/null | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["_source"]["layers"]["ebpf.cmdline"][0]))' 2>/dev/null)
check "argv not UTF-8: the packets' sender cmdline is the same ($pk)" '[ "$pk" = "$truth" ]'

# Late accepts (issue 17.7): servers that call accept() long after the handshake. One
# listened before the capture started (the snapshot reports it), one after (the kernel
# does). Their connections' first packets (handshake, the client's data) arrive 0.4-1.5 s
# before the accept, far beyond the 50 ms window: they are named after the listening
# socket's owner, the same server process, and the later ones after the acceptor.
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7005 --send 100 --recv 100 \
	--count 1 --accept-delay-ms 4000 >"$T/lsrv1" &
lsrv1=$!
wait_for_line "$T/lsrv1" listening
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" \
	--extcap-capture-filter "tcp port 7005 or tcp port 7006" --fifo "$T/late.pcapng" \
	--debug-file "$T/late.pcapng.log" >/dev/null 2>"$T/late.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/late.pcapng.log"
ip netns exec "$NS" "$tools/tcp_server" --listen 198.18.7.2 --port 7006 --send 100 --recv 100 \
	--count 1 --accept-delay-ms 1500 >"$T/lsrv2" &
lsrv2=$!
wait_for_line "$T/lsrv2" listening
"$tools/tcp_client" --connect 198.18.7.2 --port 7005 --send 100 --recv 100 >"$T/lcli1" &
lcli1=$!
"$tools/tcp_client" --connect 198.18.7.2 --port 7006 --send 100 --recv 100 >"$T/lcli2"
wait "$lcli1" "$lsrv1" "$lsrv2"
sleep 0.3
kill -INT "$cap"
wait "$cap"
check "late accept: capture exits 0" '[ $? = 0 ]'
for port in 7005 7006; do
	n=$((port - 7004))
	lpid=$(kv "$T/lsrv$n" pid) lc=$(kv "$T/lcli$n" pid)
	tshark -r "$T/late.pcapng" "${tshark_lua[@]}" -Y "tcp.port == $port" -T fields \
		-E separator='|' -e frame.time_epoch -e tcp.srcport -e ebpf.pid >"$T/late$n.pkts" 2>/dev/null
	acc=$(tshark -r "$T/late.pcapng" "${tshark_lua[@]}" -T fields -e frame.time_epoch \
		-Y "ebpf.event == \"TCP_Accept\" && ebpf.lport == $port" 2>/dev/null | head -1)
	before=$(awk -F'|' -v a="${acc:-0}" '$1 < a' "$T/late$n.pkts" | wc -l)
	bad=$(awk -F'|' -v s="$lpid" -v c="$lc" -v p="$port" '{
		want = ($2 == p) ? s "," c : c "," s
		if ($3 != want) n++ } END { print n + 0 }' "$T/late$n.pkts")
	check "late accept, port $port: $before packets before the accept (at $acc)" \
		'[ -n "$acc" ] && [ "$before" -ge 4 ]'
	check "late accept, port $port: every packet names client $lc and server $lpid ($bad of $(wc -l <"$T/late$n.pkts") do not)" \
		'[ "$bad" = 0 ] && [ -s "$T/late$n.pkts" ]'
	check "late accept, port $port: a TCP_Listen names the server" \
		'tshark -r "$T/late.pcapng" "${tshark_lua[@]}" -T fields -e ebpf.pid -Y "ebpf.event == \"TCP_Listen\" && ebpf.lport == $port" 2>/dev/null | grep -qx "$lpid"'
	check "late accept, port $port: the TCP_Listen has no destination (no peer, not 0.0.0.0)" \
		'[ "$(tshark -r "$T/late.pcapng" "${tshark_lua[@]}" -T fields -E separator=, -e ebpf.pid -e _ws.col.Source -e _ws.col.Destination -Y "ebpf.event == \"TCP_Listen\" && ebpf.lport == $port" 2>/dev/null | sort -u)" = "$lpid,198.18.7.2," ]'
	check "late accept, port $port: a TCP_Listen_Close when it exits" \
		'[ "$(tshark -r "$T/late.pcapng" "${tshark_lua[@]}" -Y "ebpf.event == \"TCP_Listen_Close\" && ebpf.lport == $port && ebpf.pid == $lpid" 2>/dev/null | wc -l)" = 1 ]'
done

# The interface vanishes mid-capture: a clean stop, a message, a valid file.
"$tool" --capture --extcap-interface ebpfevents --ifname "$VH" --fifo "$T/gone.pcapng" --debug-file "$T/gone.pcapng.log" \
	>/dev/null 2>"$T/gone.err" &
cap=$!
wait_started "$T/gone.pcapng.log"
ip link del "$VH"
for _ in $(seq 50); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
check "vanished interface: the capture stopped by itself" '! kill -0 $cap 2>/dev/null'
wait "$cap"
check "vanished interface: says so ($(head -1 "$T/gone.err"))" 'grep -q "disappeared" "$T/gone.err"'
check "vanished interface: the file reads back" 'capinfos "$T/gone.pcapng" >/dev/null 2>&1'
finish
