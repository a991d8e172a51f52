#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Offline merge on real kernel data, as root: a tcpdump file of a veth
# between the host and a namespace, plus the events ebpfdump captured at
# the same time, merged by `ebpfdump --merge`. Every TCP packet of the test
# connections, SYN included, must carry the client's pid/comm as sender or
# receiver and the server's likewise (both ends are on this host), as a
# live capture would tag them. Also: --merge's usage and missing-file errors.
#
# usage: live_kernel_merge.sh EBPFDUMP TCP_SERVER TCP_CLIENT EBPF_LUA
set -uo pipefail
ebpfdump=$1 server=$2 client=$3 lua=$4
. "$(dirname "$0")/lib.sh"
need_root
for t in tcpdump tshark bpftool; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done

# tshark loads an ebpf.lua installed in its global Lua plugin folder by
# itself, and a second Proto("ebpf") from -X lua_script fails: then the
# installed copy decodes (these tests check the merge, not the dissector,
# and use only its public field names).
load=(-X "lua_script:$lua")
if tshark -G protocols 2>/dev/null </dev/null | awk -F'\t' '$3 == "ebpf" { f = 1 } END { exit !f }'; then
	load=()
	installed=$(find "$(tshark -G folders 2>/dev/null </dev/null |
		sed -n 's/^Global Lua Plugins:[[:space:]]*//p')" -name ebpf.lua 2>/dev/null | head -n 1)
	cmp -s "$installed" "$lua" ||
		echo "note: decoding with the installed ${installed:-ebpf.lua}, not $lua"
fi

NS=ebpfdump-lk-$E2E_SFX
HOST_IF=lkh$E2E_SFX PEER_IF=lkn$E2E_SFX
# A /24 of its own in 198.18.0.0/15 (benchmarking range): the host side
# lives in the root namespace, where parallel runs must not collide.
SUBNET=198.$((18 + RANDOM % 2)).$((RANDOM % 256))
HOST_IP=$SUBNET.1 PEER_IP=$SUBNET.2
ip netns add "$NS" && E2E_NETNS+=("$NS")
ip link add "$HOST_IF" type veth peer name "$PEER_IF" netns "$NS" || { bad "veth"; finish; exit; }
E2E_CLEANUP+=("ip link del $HOST_IF 2>/dev/null")
ip addr add "$HOST_IP/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER_IF"
ip -n "$NS" link set "$PEER_IF" up

wait_for() {
	local i
	for i in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

progs=$(bpf_prog_count)
"$ebpfdump" --capture --extcap-interface ebpfevents --fifo "$E2E_TMP/events.pcapng" \
	2>"$E2E_TMP/ebpfdump.err" &
epid=$!
E2E_PIDS+=("$epid")
if ! wait_bpf_progs "$progs" 3; then
	echo "SKIP: ebpfdump could not attach its programs: $(cat "$E2E_TMP/ebpfdump.err")"
	exit 77
fi
# A microsecond pcap, tcpdump's default: the merge must cope with it.
tcpdump -i "$HOST_IF" -Z root -U --immediate-mode -w "$E2E_TMP/packets.pcap" tcp 2>"$E2E_TMP/tcpdump.err" &
tpid=$!
E2E_PIDS+=("$tpid")
wait_for "$E2E_TMP/tcpdump.err" "listening on" || bad "tcpdump did not start"

N=3
for i in $(seq $N); do
	port=$((6000 + i))
	ip netns exec "$NS" "$server" --listen "$PEER_IP" --port $port --send 5000 --recv 200000 \
		--count 1 >"$E2E_TMP/srv-$i" &
	spid=$!
	wait_for "$E2E_TMP/srv-$i" listening
	timeout 20 "$client" --connect "$PEER_IP" --port $port --send 200000 --recv 5000 \
		>"$E2E_TMP/cli-$i"
	wait "$spid"
done
sleep 1.5 # tcpdump hands over its last block within 1 s
kill -INT "$tpid" "$epid"
wait "$tpid" "$epid"

"$ebpfdump" --merge "$E2E_TMP/packets.pcap" "$E2E_TMP/events.pcapng" \
	--fifo "$E2E_TMP/merged.pcapng" 2>"$E2E_TMP/merge.err"
rc=$?
check "ebpfdump --merge succeeds ($rc)" '[ $rc = 0 ]'
cat "$E2E_TMP/merge.err"
check "ebpfdump --merge says what it wrote" \
	'grep -q "packets (.* untagged) and [0-9]* events written to $E2E_TMP/merged.pcapng" "$E2E_TMP/merge.err"'

"$ebpfdump" --merge "$E2E_TMP/packets.pcap" --fifo "$E2E_TMP/x.pcapng" 2>"$E2E_TMP/usage.err"
rc=$?
check "--merge with one input: usage error, exit 2 ($rc: $(cat "$E2E_TMP/usage.err"))" \
	'[ $rc = 2 ] && grep -q "needs two input files" "$E2E_TMP/usage.err"'
"$ebpfdump" --merge "$E2E_TMP/nope.pcap" "$E2E_TMP/events.pcapng" --fifo "$E2E_TMP/x.pcapng" \
	2>"$E2E_TMP/missing.err"
rc=$?
check "--merge of a missing file: exit 1, names it, writes nothing ($rc: $(cat "$E2E_TMP/missing.err"))" \
	'[ $rc = 1 ] && grep -q "nope.pcap" "$E2E_TMP/missing.err" && [ ! -s "$E2E_TMP/x.pcapng" ]'

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
tshark -r "$E2E_TMP/merged.pcapng" "${load[@]}" -Y "tcp && frame.interface_id == 1" \
	-T fields -E separator='|' -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e ebpf.role \
	-e ebpf.pid -e ebpf.comm >"$E2E_TMP/fields" 2>/dev/null
for i in $(seq $N); do
	cpid=$(kv "$E2E_TMP/cli-$i" pid) lport=$(kv "$E2E_TMP/cli-$i" lport)
	spid=$(kv "$E2E_TMP/srv-$i" pid)
	port=$((6000 + i))
	awk -F'|' -v lp="$lport" -v sp="$port" -v c="$cpid" -v s="$spid" '
		$1 == lp || $2 == lp {
			n++
			if ($3 == 1) syn++
			if ($1 == lp) want = "sender,receiver|" c "," s "|live_tcp_client,live_tcp_server"
			else want = "sender,receiver|" s "," c "|live_tcp_server,live_tcp_client"
			if ($4 "|" $5 "|" $6 != want) { bad++; if (bad < 3) print "  " $0 " expected " want > "/dev/stderr" }
		}
		END { print n + 0, syn + 0, bad + 0 }' "$E2E_TMP/fields" >"$E2E_TMP/conn-$i"
	read -r n syn mism <"$E2E_TMP/conn-$i"
	check "connection $i: packets captured ($n)" '[ "$n" -ge 10 ]'
	check "connection $i: SYN and SYN-ACK there" '[ "$syn" = 2 ]'
	check "connection $i: every packet tagged with client $cpid and server $spid ($mism wrong)" \
		'[ "$mism" = 0 ]'
done
check "no packet of the test left untagged" 'grep -q " 0 untagged)" "$E2E_TMP/merge.err"'

# --packet-comment compact (the default, merged.pcapng above) against full:
# every ebpf.* field of every packet the same, also after editcap -r keeps
# only some frames, with tshark's two passes, and after mergecap joins two
# compact files (their identity numbers must not collide); packets whose
# Identity frame was cut away keep pid and comm and say the rest is missing.
"$ebpfdump" --merge "$E2E_TMP/packets.pcap" "$E2E_TMP/events.pcapng" --packet-comment full \
	--fifo "$E2E_TMP/full.pcapng" 2>/dev/null
"$ebpfdump" --merge "$E2E_TMP/packets.pcap" "$E2E_TMP/events.pcapng" \
	--fifo "$E2E_TMP/compact2.pcapng" 2>/dev/null
mapfile -t efields < <(tshark -G fields "${load[@]}" 2>/dev/null </dev/null |
	awk -F'\t' '$1 == "F" && $3 ~ /^ebpf\./ { print $3 }' | sort -u)
eargs=()
for fld in "${efields[@]}"; do eargs+=(-e "$fld"); done
# One line per packet: a key (time, length, TCP sequence), then every
# ebpf.* field; event and Identity frames (ebpf.event) left out.
packet_fields() { # FILE [tshark options]
	local f=$1
	shift
	tshark -r "$f" "${load[@]}" "$@" -Y "tcp && !ebpf.event" -T fields -E separator='|' \
		-E occurrence=a -e frame.time_epoch -e frame.len -e tcp.seq_raw "${eargs[@]}" \
		2>/dev/null
}
packet_fields "$E2E_TMP/full.pcapng" >"$E2E_TMP/f.full"
packet_fields "$E2E_TMP/merged.pcapng" >"$E2E_TMP/f.compact"
packet_fields "$E2E_TMP/merged.pcapng" -2 >"$E2E_TMP/f.compact2pass"
nfull=$(wc -l <"$E2E_TMP/f.full")
nexe=$(grep -c "/live_tcp_client" "$E2E_TMP/f.compact")
check "compact vs full: ${#efields[@]} ebpf.* fields of $nfull packets identical ($nexe name the client's exe)" \
	'[ "${#efields[@]}" -ge 40 ] && [ "$nfull" -ge 30 ] && [ "$nexe" -ge 30 ] && cmp -s "$E2E_TMP/f.full" "$E2E_TMP/f.compact"'
check "compact, two passes (-2): the same fields" 'cmp -s "$E2E_TMP/f.full" "$E2E_TMP/f.compact2pass"'
# Output size, per packet (the comments are most of the difference).
sfull=$(stat -c %s "$E2E_TMP/full.pcapng") scompact=$(stat -c %s "$E2E_TMP/merged.pcapng")
check "compact output smaller than full ($scompact vs $sfull bytes)" '[ "$scompact" -lt "$sfull" ]'
# editcap -r keeping the Identity frames and every third other frame.
total=$(tshark -r "$E2E_TMP/merged.pcapng" 2>/dev/null | wc -l)
idf=$(tshark -r "$E2E_TMP/merged.pcapng" "${load[@]}" -Y 'ebpf.event == "Identity"' -T fields \
	-e frame.number 2>/dev/null | tr '\n' ' ')
keep=$( { echo "$idf" | tr ' ' '\n'; seq 3 3 "$total"; } | grep . | sort -nu | tr '\n' ' ')
# shellcheck disable=SC2086 # frame numbers, one argument each
editcap -r "$E2E_TMP/merged.pcapng" "$E2E_TMP/cut.pcapng" $keep 2>/dev/null
packet_fields "$E2E_TMP/cut.pcapng" >"$E2E_TMP/f.cut"
ncut=$(wc -l <"$E2E_TMP/f.cut")
check "editcap -r kept Identity frames and $ncut packets: each as in the full file" \
	'[ -n "$idf" ] && [ "$ncut" -ge 10 ] && [ "$ncut" -lt "$nfull" ] && [ -z "$(comm -23 <(sort "$E2E_TMP/f.cut") <(sort "$E2E_TMP/f.full"))" ]'
# editcap -r dropping every Identity frame: pid and comm stay, the rest
# (exe) is gone, and the dissector says why.
last_id=$(echo "$idf" | tr ' ' '\n' | grep . | tail -1)
editcap -r "$E2E_TMP/merged.pcapng" "$E2E_TMP/noid.pcapng" "$((last_id + 1))-$total" 2>/dev/null
tshark -r "$E2E_TMP/noid.pcapng" "${load[@]}" -Y "tcp && !ebpf.event" -T fields -E separator='|' \
	-e frame.time_epoch -e ebpf.pid -e ebpf.comm -e ebpf.exe 2>/dev/null >"$E2E_TMP/f.noid"
tshark -r "$E2E_TMP/full.pcapng" "${load[@]}" -Y "tcp && !ebpf.event" -T fields -E separator='|' \
	-e frame.time_epoch -e ebpf.pid -e ebpf.comm 2>/dev/null >"$E2E_TMP/f.pidcomm"
nmiss=$(tshark -r "$E2E_TMP/noid.pcapng" "${load[@]}" -Y ebpf.identity_missing 2>/dev/null | wc -l)
nnoid=$(wc -l <"$E2E_TMP/f.noid")
check "Identity frames cut away: $nnoid packets keep pid and comm, no exe, $nmiss say the identity is missing" \
	'[ "$nnoid" -ge 10 ] && [ "$nmiss" = "$nnoid" ] && ! cut -d"|" -f4 "$E2E_TMP/f.noid" | grep -q . && [ -z "$(cut -d"|" -f1-3 "$E2E_TMP/f.noid" | comm -23 <(sort) <(sort "$E2E_TMP/f.pidcomm"))" ]'
# mergecap of two compact merges of the same data (two random identity
# bases): every packet twice, each with its own file's identities.
mergecap -w "$E2E_TMP/joined.pcapng" "$E2E_TMP/merged.pcapng" "$E2E_TMP/compact2.pcapng" 2>/dev/null
packet_fields "$E2E_TMP/joined.pcapng" | sort >"$E2E_TMP/f.joined"
check "mergecap of two compact files: every packet twice, fields as in the full file" \
	'cmp -s "$E2E_TMP/f.joined" <(sort "$E2E_TMP/f.full" "$E2E_TMP/f.full")'
"$ebpfdump" --merge "$E2E_TMP/packets.pcap" "$E2E_TMP/events.pcapng" --packet-comment compact \
	--no-event-frames --fifo "$E2E_TMP/x2.pcapng" 2>"$E2E_TMP/noev.err"
rc=$?
check "compact with --no-event-frames: usage error ($rc: $(cat "$E2E_TMP/noev.err"))" \
	'[ $rc = 2 ] && grep -q "compact needs the event frames" "$E2E_TMP/noev.err"'

# The output naming an input is refused and the input stays as it was.
cp "$E2E_TMP/events.pcapng" "$E2E_TMP/events-copy.pcapng"
sum=$(md5sum <"$E2E_TMP/events-copy.pcapng")
"$ebpfdump" --merge "$E2E_TMP/packets.pcap" "$E2E_TMP/events-copy.pcapng" \
	--fifo "$E2E_TMP/events-copy.pcapng" 2>"$E2E_TMP/same.err"
rc=$?
check "--merge over its own input: exit 1, input intact ($rc: $(cat "$E2E_TMP/same.err"))" \
	'[ $rc = 1 ] && grep -q "is also an input file" "$E2E_TMP/same.err" && [ "$(md5sum <"$E2E_TMP/events-copy.pcapng")" = "$sum" ]'
# Swapped arguments: the packets file given as the events input.
"$ebpfdump" --merge "$E2E_TMP/events.pcapng" "$E2E_TMP/packets.pcap" \
	--fifo "$E2E_TMP/swapped.pcapng" 2>"$E2E_TMP/swapped.err"
rc=$?
check "--merge with a packet capture as events: exit 1, says so ($rc: $(head -c 300 "$E2E_TMP/swapped.err"))" \
	'[ $rc = 1 ] && grep -q "holds no event frames" "$E2E_TMP/swapped.err"'

finish
