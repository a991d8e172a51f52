#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Several --ifname at once (issue 18): two servers, each in its own
# namespace behind its own veth, a client on the host for each; ebpfdump
# captures both host-side veths while one tcpdump per veth captures the
# same. Each interface is its own pcapng interface (with its name and its
# own statistics block), holds exactly the packets tcpdump saw there, byte
# for byte, and every packet names its sender and receiver. --print says
# the interface on each packet line. One of two interfaces deleted
# mid-capture ends its packets only; the other goes on. Bad lists are
# usage errors.
#
# usage: extcap_interfaces.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
T=$E2E_TMP
use_dissector "$src"

# Two links: host 198.18.(60+i).1 <-> namespace i 198.18.(60+i).2.
VH=() NSS=()
for i in 1 2; do
	ns=ebpfdump-if$i-$E2E_SFX vh=ebi$i$E2E_SFX vn=ebn$i$E2E_SFX
	ip netns add "$ns" && E2E_NETNS+=("$ns")
	ip link add "$vh" type veth peer name "$vn" netns "$ns" && E2E_CLEANUP+=("ip link del $vh 2>/dev/null")
	ip addr add "198.18.6$i.1/24" dev "$vh" && ip link set "$vh" up
	ip -n "$ns" addr add "198.18.6$i.2/24" dev "$vn" && ip -n "$ns" link set "$vn" up
	ip -n "$ns" link set lo up
	VH+=("$vh") NSS+=("$ns")
done

# Usage errors before anything starts.
usage() { # DESCRIPTION WANT_TEXT ARGS...
	local what=$1 want=$2
	shift 2
	"$tool" --capture --extcap-interface ebpfevents "$@" --fifo "$T/u.pcapng" --duration 1 \
		>/dev/null 2>"$T/u.err"
	local rc=$?
	check "$what: exit 2 ($rc), says \"$want\" ($(head -1 "$T/u.err"))" \
		'[ "$rc" = 2 ] && grep -q -- "$want" "$T/u.err"'
}
usage "an interface twice" "is given twice" --ifname "${VH[0]}" --ifname "${VH[0]}"
usage "any beside another" "give it alone" --ifname "${VH[0]}" --ifname any
usage "nine interfaces" "more than 8 times" $(for k in 1 2 3 4 5 6 7 8 9; do echo --ifname "x$k"; done)
"$tool" --capture --extcap-interface ebpfevents --ifname "${VH[0]}" --ifname "ebnx$E2E_SFX" \
	--fifo "$T/u.pcapng" --duration 1 >/dev/null 2>"$T/u.err"
rc=$?
check "a missing second interface: exit 1 ($rc) naming it ($(head -1 "$T/u.err"))" \
	'[ "$rc" = 1 ] && grep -q "no such interface \"ebnx$E2E_SFX\"" "$T/u.err"'

# Both veths at once, with tcpdump on each as the reference.
filter="tcp port 7131"
out=$T/both.pcapng
for i in 0 1; do
	tcpdump -i "${VH[$i]}" -U --immediate-mode -w "$T/td$i.pcap" "$filter" >/dev/null 2>"$T/td$i.err" &
	E2E_PIDS+=($!) td[$i]=$!
done
"$tool" --capture --extcap-interface ebpfevents --ifname "${VH[0]}" --ifname "${VH[1]}" \
	--extcap-capture-filter "$filter" --fifo "$out" --print --debug-file "$out.log" \
	>"$T/printed" 2>"$T/both.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
for i in 0 1; do
	for _ in $(seq 200); do grep -q 'listening on' "$T/td$i.err" 2>/dev/null && break; sleep 0.05; done
done
check "capture started: says both interfaces ($(grep -o "packets on [^(]*" "$out.log" | head -1))" \
	'grep -q "packets on ${VH[0]}, ${VH[1]} (filter" "$out.log"'
for i in 0 1; do
	ip netns exec "${NSS[$i]}" "$tools/tcp_server" --listen "198.18.6$((i + 1)).2" --port 7131 \
		--send 3000 --recv 2000 --count 2 >"$T/srv$i" &
	srv[$i]=$!
	wait_for_line "$T/srv$i" listening
done
for n in 1 2; do
	for i in 0 1; do
		"$tools/tcp_client" --connect "198.18.6$((i + 1)).2" --port 7131 --send 2000 \
			--recv 3000 >"$T/cli$i.$n"
	done
done
wait "${srv[0]}" "${srv[1]}"
sleep 0.5
kill -INT "$cap"
wait "$cap"
check "capture exits 0 ($?)" '[ $? = 0 ]'
sleep 1.5 # tcpdump hands over its last block within a second
kill -INT "${td[0]}" "${td[1]}" 2>/dev/null
wait "${td[0]}" "${td[1]}" 2>/dev/null

capinfos "$out" >"$T/capinfos" 2>&1
names=$(sed -n 's/^ *Name = //p' "$T/capinfos" | tr '\n' ' ')
check "three interfaces: events, then each veth as given ($names)" \
	'[ "$names" = "ebpfevents ${VH[0]} ${VH[1]} " ]'
hexdump_packets() { # FILE [FILTER]
	tshark -r "$1" ${2:+-Y "$2"} -x 2>/dev/null |
		awk 'BEGIN { RS = "" } { gsub(/\n/, " "); print }' | sed 's/  */ /g' | sort
}
kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
for i in 0 1; do
	id=$((i + 1))
	hexdump_packets "$out" "frame.interface_id == $id" >"$T/ours$i.hex"
	hexdump_packets "$T/td$i.pcap" >"$T/theirs$i.hex"
	n_ours=$(wc -l <"$T/ours$i.hex") n_theirs=$(wc -l <"$T/theirs$i.hex")
	check "${VH[$i]}: exactly tcpdump's packets there ($n_ours = $n_theirs)" \
		'[ "$n_ours" = "$n_theirs" ] && [ "$n_ours" -ge 20 ]'
	check "${VH[$i]}: the same bytes as tcpdump" 'cmp -s "$T/ours$i.hex" "$T/theirs$i.hex"'
	spid=$(kv "$T/srv$i" pid) c1=$(kv "$T/cli$i.1" pid) c2=$(kv "$T/cli$i.2" pid)
	tshark -r "$out" "${tshark_lua[@]}" -Y "frame.interface_id == $id" -T fields -E separator='|' \
		-e tcp.srcport -e ebpf.pid >"$T/pids$i" 2>/dev/null
	bad=$(awk -F'|' -v s="$spid" -v c1="$c1" -v c2="$c2" '{
		if ($1 == 7131) ok = ($2 == s "," c1 || $2 == s "," c2)
		else ok = ($2 == c1 "," s || $2 == c2 "," s)
		if (!ok) n++
	} END { print n + 0 }' "$T/pids$i")
	check "${VH[$i]}: every packet names its client and server $spid ($bad of $(wc -l <"$T/pids$i") do not)" \
		'[ "$bad" = 0 ]'
	lines=$(grep -c " ${VH[$i]} TCP 198.18.6$id." "$T/printed")
	check "--print: each packet line says ${VH[$i]} ($lines lines, $n_ours packets)" \
		'[ "$lines" = "$n_ours" ]'
done
isbs=$(tshark -r "$out" -X 'read_format:MIME Files Format' -V 2>/dev/null |
	grep -c "Block: Interface Statistics Block")
check "a statistics block per interface ($isbs)" '[ "$isbs" = 3 ]'
check "the summary counts both interfaces' packets" \
	'grep -q " and $(($(wc -l <"$T/ours0.hex") + $(wc -l <"$T/ours1.hex"))) packets written" "$T/both.err"'

# The second veth deleted mid-capture: its packets end, the first's go on.
out=$T/gone.pcapng
"$tool" --capture --extcap-interface ebpfevents --ifname "${VH[0]}" --ifname "${VH[1]}" \
	--extcap-capture-filter "$filter" --fifo "$out" --debug-file "$out.log" >/dev/null 2>"$T/gone.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
ip link del "${VH[1]}"
sleep 0.5
check "the capture goes on without ${VH[1]}" 'kill -0 "$cap"'
ip netns exec "${NSS[0]}" "$tools/tcp_server" --listen 198.18.61.2 --port 7131 --count 1 >"$T/srvg" &
srvg=$!
wait_for_line "$T/srvg" listening
"$tools/tcp_client" --connect 198.18.61.2 --port 7131 --send 100 >/dev/null
wait "$srvg"
sleep 0.5
kill -INT "$cap"
wait "$cap"
rc=$?
check "one of two interfaces gone: exit 1 ($rc), not everything asked for was captured" '[ "$rc" = 1 ]'
check "says which one went and that the capture went on ($(grep disappeared "$T/gone.err"))" \
	'grep -q "warning: the interface ${VH[1]} disappeared: its packets end here, the capture goes on" "$T/gone.err"'
n=$(tshark -r "$out" -Y "frame.interface_id == 1 && tcp.port == 7131" 2>/dev/null | wc -l)
check "${VH[0]}'s packets after the deletion are in the file ($n)" '[ "$n" -ge 6 ]'
finish
