#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Offline merge (no root): generated TCP packets rewritten by tcpdump, plus
# the matching connect/accept events, merged by offline_merge(); checked
# with tshark and dissector/ebpf.lua: every packet tagged with its sender
# and receiver (SYN included, although it precedes its connect event),
# bytes, lengths and timestamps untouched, events re-encoded. Then bad
# input: a packets file cut short, malformed event records, a packets
# file used as events, packets that carry their own comments, stdout.
#
# usage: live_offline.sh OFFLINE_GEN MERGE_FILES TEST_READER MKCAPTURE EBPF_LUA
set -uo pipefail
gen=$1 merge=$2 reader=$3 mkcapture=$4 lua=$5
for t in tcpdump tshark capinfos; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/ebpfdump-offline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
kv() { sed -n "s/^$2=//p" "$1"; } # kv FILE KEY: a merge_files counter

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

FLOWS=50 PACKETS=5000
"$gen" --flows $FLOWS --packets $PACKETS "$tmp/gen.pcap" "$tmp/events.pcapng" ||
	{ bad "offline_gen"; echo "$pass passed, $fail failed"; exit 1; }
tcpdump -r "$tmp/gen.pcap" -w "$tmp/packets.pcap" 2>/dev/null
"$merge" "$tmp/packets.pcap" "$tmp/events.pcapng" "$tmp/merged.pcapng" >"$tmp/stats"
check "merge succeeds" '[ $? = 0 ]'
check "all packets and events written" \
	'[ "$(kv "$tmp/stats" packets_written)" = $PACKETS ] && [ "$(kv "$tmp/stats" events_written)" = $((2 * FLOWS)) ]'
check "every packet tagged on both sides" '[ "$(kv "$tmp/stats" tagged_both)" = $PACKETS ]'
check "nothing late or cut" \
	'[ "$(kv "$tmp/stats" packets_late)$(kv "$tmp/stats" events_late)$(kv "$tmp/stats" packets_cut)" = 000 ]'
capinfos "$tmp/merged.pcapng" >"$tmp/capinfos" 2>&1
check "capinfos reads the output: $((PACKETS + 2 * FLOWS)) frames" \
	'grep -q "Number of packets: *$((PACKETS + 2 * FLOWS))\$" "$tmp/capinfos"'

# Packets: sender and receiver from the generator's identities (client k
# on port 20000+k has pid 2000+k%97 and comm cli<k%97>; the server is
# pid 80 "srv").
tshark -r "$tmp/merged.pcapng" "${load[@]}" -Y "frame.interface_id == 1" -T fields \
	-E separator='|' -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e ebpf.role -e ebpf.pid \
	-e ebpf.comm >"$tmp/packets.fields" 2>"$tmp/tshark.err"
check "tshark decodes without errors" '! grep -v "^Running as user" "$tmp/tshark.err" | grep -q .'
grep -v "^Running as user" "$tmp/tshark.err" | head -3
awk -F'|' '
	function who(port) { k = port - 20000; return (2000 + k % 97) "|cli" (k % 97) }
	{
		if ($2 == 80) { want = "sender,receiver|" who($1) "|80|srv" }
		else { want = "sender,receiver|80|srv|" who($2) }
		split(want, w, "|")
		got = $4 "|" $5 "|" $6
		expect = w[1] "|" w[2] "," w[4] "|" w[3] "," w[5]
		if (got != expect) { bad++; if (bad < 4) print "packet " NR ": " got " expected " expect > "/dev/stderr" }
		if ($3 == 1) syn++
	}
	END { print (bad + 0), syn + 0, NR }' "$tmp/packets.fields" >"$tmp/packets.check"
read -r mismatched syns seen <"$tmp/packets.check"
check "every packet shows its sender's and receiver's pid and comm" '[ "$mismatched" = 0 ] && [ "$seen" = $PACKETS ]'
check "the $FLOWS SYNs are among them" '[ "$syns" = $FLOWS ]'
tshark -r "$tmp/merged.pcapng" "${load[@]}" -Y 'ebpf.comm == "srv"' 2>/dev/null | wc -l >"$tmp/srv.count"
check "ebpf.comm == \"srv\" finds packets and accept events" '[ "$(cat "$tmp/srv.count")" = $((PACKETS + FLOWS)) ]'

# Events: the same records as in the events file.
tshark -r "$tmp/events.pcapng" "${load[@]}" -T fields -e frame.time_epoch -e ebpf.event \
	-e ebpf.pid -e ebpf.comm -e ebpf.laddr -e ebpf.lport -e ebpf.raddr -e ebpf.rport \
	>"$tmp/events.in" 2>/dev/null
tshark -r "$tmp/merged.pcapng" "${load[@]}" -Y "frame.interface_id == 0" -T fields \
	-e frame.time_epoch -e ebpf.event -e ebpf.pid -e ebpf.comm -e ebpf.laddr -e ebpf.lport \
	-e ebpf.raddr -e ebpf.rport >"$tmp/events.out" 2>/dev/null
check "events re-encoded with the same fields and times" \
	'[ -s "$tmp/events.in" ] && cmp -s "$tmp/events.in" "$tmp/events.out"'

# Bytes, lengths, timestamps: the reader on both files.
"$reader" dump "$tmp/packets.pcap" | awk '{ print $3, $4, $5, $6 }' >"$tmp/bytes.in"
"$reader" dump "$tmp/merged.pcapng" | awk '$2 == 1 { print $3, $4, $5, $6 }' >"$tmp/bytes.out"
check "packets byte for byte, lengths and ns timestamps kept, in order" 'cmp -s "$tmp/bytes.in" "$tmp/bytes.out"'
"$reader" dump "$tmp/merged.pcapng" | awk '$2 == 1 { print $7 }' | sort | uniq -c | sort -rn >"$tmp/pids"
check "pid/tid option carries the sender's pid" \
	'[ "$(awk "{ n += \$1 } END { print n }" "$tmp/pids")" = $PACKETS ] && ! grep -q " -$" "$tmp/pids" && grep -q " 80/80$" "$tmp/pids" && grep -q " 2000/2000$" "$tmp/pids"'

# The same 5-tuples closed and reopened by other processes: the tags follow
# (the old owners expire and are freed; the comment cache must not hand out
# their comments again).
"$gen" --reopen --flows 20 --packets 2000 "$tmp/reopen.pcap" "$tmp/reopen.pcapng"
"$merge" "$tmp/reopen.pcap" "$tmp/reopen.pcapng" "$tmp/reopen.out.pcapng" >"$tmp/reopen.stats"
check "reopen: merge succeeds, old flows expired" \
	'[ $? = 0 ] && [ "$(kv "$tmp/reopen.stats" flows_expired)" -ge 20 ]'
tshark -r "$tmp/reopen.out.pcapng" "${load[@]}" -Y "frame.interface_id == 1" -T fields \
	-E separator='|' -e frame.time_epoch -e tcp.srcport -e tcp.dstport -e ebpf.comm \
	>"$tmp/reopen.fields" 2>/dev/null
awk -F'|' '{
		k = ($2 == 80 ? $3 : $2) - 20000
		cli = ($1 < 1700000002 ? "cli" (k % 97) : "new" (k % 89))
		want = ($2 == 80 ? "srv," cli : cli ",srv")
		if ($4 != want) bad++
	}
	END { print NR, bad + 0 }' "$tmp/reopen.fields" >"$tmp/reopen.check"
read -r seen mismatched <"$tmp/reopen.check"
check "reopen: all 2000 packets tagged with the process of their time ($mismatched wrong)" \
	'[ "$seen" = 2000 ] && [ "$mismatched" = 0 ]'

# A packets file cut short (a killed tcpdump): what was read is merged,
# the events all come out, the file is valid, the reason names the spot.
head -c 300000 "$tmp/packets.pcap" >"$tmp/cut.pcap"
"$merge" "$tmp/cut.pcap" "$tmp/events.pcapng" "$tmp/cut.pcapng" >"$tmp/cut.stats" 2>"$tmp/cut.err"
rc=$?
check "cut input: exit status 1 with the reason" \
	'[ $rc = 1 ] && grep -q "cut.pcap: truncated record at offset [0-9]*" "$tmp/cut.err"'
check "cut input: every whole packet and every event written" \
	'[ "$(kv "$tmp/cut.stats" packets_written)" = "$(kv "$tmp/cut.stats" packets_read)" ] && [ "$(kv "$tmp/cut.stats" events_written)" = $((2 * FLOWS)) ]'
check "cut input: the output reads cleanly" 'tshark -r "$tmp/cut.pcapng" >/dev/null 2>&1'

# --no-event-frames (issue 21.8): no events interface at all, so the output has the
# packets' one link type and tcpdump reads it; the packets still name their processes.
# The default output (events interface too) is what tcpdump refuses.
"$merge" --no-event-frames "$tmp/packets.pcap" "$tmp/events.pcapng" "$tmp/noev.pcapng" \
	>"$tmp/noev.stats"
check "no event frames: merge succeeds, no event written" \
	'[ $? = 0 ] && [ "$(kv "$tmp/noev.stats" events_written)" = 0 ] && [ "$(kv "$tmp/noev.stats" tagged_both)" = $PACKETS ]'
tcpdump -r "$tmp/noev.pcapng" -nn 2>"$tmp/noev.tcpdump.err" | wc -l >"$tmp/noev.tcpdump"
check "no event frames: tcpdump -r reads every packet ($(cat "$tmp/noev.tcpdump"); $(head -c 200 "$tmp/noev.tcpdump.err"))" \
	'[ "$(cat "$tmp/noev.tcpdump")" = $PACKETS ]'
check "no event frames: one interface, the packets'" \
	'[ "$(capinfos -M "$tmp/noev.pcapng" 2>/dev/null | grep -c "Interface #[0-9]* info")" = 1 ]'
check "no event frames: the packets still carry sender and receiver" \
	'[ "$(tshark -r "$tmp/noev.pcapng" "${load[@]}" -Y "ebpf.role == \"receiver\"" -T fields -e frame.number 2>/dev/null | wc -l)" = $PACKETS ]'
check "default output: tcpdump refuses two link types" \
	'! tcpdump -r "$tmp/merged.pcapng" -nn >/dev/null 2>&1'

# Malformed event records are skipped and counted; valid ones still used.
"$mkcapture" --events --malformed "$tmp/mal.pcapng" >/dev/null
"$merge" "$tmp/packets.pcap" "$tmp/mal.pcapng" "$tmp/mal.out.pcapng" >"$tmp/mal.stats"
rc=$?
check "malformed events: merge succeeds" '[ $rc = 0 ]'
check "malformed events: counted, the good ones kept" \
	'[ "$(kv "$tmp/mal.stats" events_bad)" -gt 0 ] && [ "$(kv "$tmp/mal.stats" events_read)" -gt 0 ] && [ "$(kv "$tmp/mal.stats" events_written)" = "$(kv "$tmp/mal.stats" events_read)" ]'

# A packet capture given as the events file: no events, packets untagged.
"$merge" "$tmp/packets.pcap" "$tmp/packets.pcap" "$tmp/none.pcapng" >"$tmp/none.stats"
check "no events: every packet written untagged" \
	'[ "$(kv "$tmp/none.stats" untagged)" = $PACKETS ] && [ "$(kv "$tmp/none.stats" events_file_other)" = $PACKETS ]'

# Packets with comments of their own (mkcapture's merged frames): kept.
"$mkcapture" --merged "$tmp/commented.pcapng" >/dev/null
"$merge" "$tmp/commented.pcapng" "$tmp/events.pcapng" "$tmp/commented.out.pcapng" >/dev/null
tshark -r "$tmp/commented.pcapng" -Y "frame.comment" -T fields -e frame.comment >"$tmp/c.in" 2>/dev/null
tshark -r "$tmp/commented.out.pcapng" -Y "frame.comment && frame.interface_id > 0" -T fields \
	-e frame.comment >"$tmp/c.out" 2>/dev/null
check "untagged packets keep their own comments" '[ -s "$tmp/c.in" ] && cmp -s "$tmp/c.in" "$tmp/c.out"'

# Output on stdout, read by tshark through a pipe.
n=$("$merge" "$tmp/packets.pcap" "$tmp/events.pcapng" - 2>/dev/null | tshark -r - 2>/dev/null | wc -l)
check "stdout output: $((PACKETS + 2 * FLOWS)) frames through a pipe" '[ "$n" = $((PACKETS + 2 * FLOWS)) ]'

# Missing and non-capture inputs: a reason, no output.
"$merge" "$tmp/nope.pcap" "$tmp/events.pcapng" "$tmp/x.pcapng" >/dev/null 2>"$tmp/e1"
check "missing packets file: reason names it, no output" \
	'grep -q "packets file .*nope.pcap: cannot open" "$tmp/e1" && [ ! -e "$tmp/x.pcapng" ]'
echo "not a capture" >"$tmp/text"
"$merge" "$tmp/packets.pcap" "$tmp/text" "$tmp/x.pcapng" >/dev/null 2>"$tmp/e2"
check "text as events: reason says so" 'grep -q "events file .*text: not a pcap or pcapng file" "$tmp/e2"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
