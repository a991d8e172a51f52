#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The capture file reader against other tools' files and views (no root):
# pcap files written by tcpdump in microseconds and nanoseconds, a pcapng
# written by editcap, and our writer's multi-link-type pcapng (which
# libpcap, hence tcpdump, refuses). For each, the reader's packets
# (timestamp in ns, lengths, comments) must equal what tshark shows, and
# the bytes must be the same in every format.
#
# usage: live_reader_files.sh TEST_READER OFFLINE_GEN
set -uo pipefail
reader=$1 gen=$2
for t in tcpdump tshark editcap; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/ebpfdump-reader.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

# tshark's view: "ts_ns caplen len": the epoch time with its dot removed
# (tshark prints 9 decimals for ns and us files alike).
tshark_view() {
	tshark -r "$1" -T fields -e frame.time_epoch -e frame.cap_len -e frame.len 2>/dev/null |
		awk '{ t = $1; sub(/\./, "", t); sub(/^0+/, "", t); print t, $2, $3 }'
}
reader_view() { "$reader" dump "$1" | awk '{ print $3, $4, $5 }'; }
bytes_view() { "$reader" dump "$1" --no-ts | awk '{ print $2, $3, $4, $5 }'; }

"$gen" --ns --flows 20 --packets 3000 --payload 100 "$tmp/src.pcap" "$tmp/ev.pcapng" ||
	{ bad "offline_gen"; echo "$pass passed, $fail failed"; exit 1; }
tcpdump -r "$tmp/src.pcap" -w "$tmp/us.pcap" 2>/dev/null
tcpdump --time-stamp-precision=nano -r "$tmp/src.pcap" -w "$tmp/ns.pcap" 2>/dev/null
editcap -F pcapng "$tmp/ns.pcap" "$tmp/ns.pcapng"
check "tcpdump wrote a microsecond pcap" '[ "$(head -c4 "$tmp/us.pcap" | od -An -tx4 | tr -d " ")" = a1b2c3d4 ]'
check "tcpdump wrote a nanosecond pcap" '[ "$(head -c4 "$tmp/ns.pcap" | od -An -tx4 | tr -d " ")" = a1b23c4d ]'

for f in us.pcap ns.pcap ns.pcapng; do
	reader_view "$tmp/$f" >"$tmp/$f.reader"
	tshark_view "$tmp/$f" >"$tmp/$f.tshark"
	check "$f: 3000 packets" '[ "$(wc -l <"$tmp/$f.reader")" = 3000 ]'
	check "$f: reader and tshark agree (ns timestamps, lengths)" 'cmp -s "$tmp/$f.reader" "$tmp/$f.tshark"'
	bytes_view "$tmp/$f" >"$tmp/$f.bytes"
done
check "same bytes in the us pcap, ns pcap and pcapng" \
	'cmp -s "$tmp/us.pcap.bytes" "$tmp/ns.pcap.bytes" && cmp -s "$tmp/ns.pcap.bytes" "$tmp/ns.pcapng.bytes"'
check "nanoseconds survive in the ns files" 'grep -qv "000 " "$tmp/ns.pcap.reader"'
check "the us file lost them" '! grep -qv "000 " "$tmp/us.pcap.reader"'

# Our writer's file: Ethernet, exported-PDU and raw IP interfaces, comments.
"$reader" write "$tmp/ref.pcapng" >/dev/null || bad "writer reference file"
"$reader" dump "$tmp/ref.pcapng" | awk '{ print $1, $3, $4, $5 }' >"$tmp/ref.reader"
tshark -r "$tmp/ref.pcapng" -T fields -e frame.interface_id -e frame.time_epoch \
	-e frame.cap_len -e frame.len 2>/dev/null |
	awk '{ t = $2; sub(/\./, "", t); print $1, t, $3, $4 }' >"$tmp/ref.tshark"
check "multi-link-type pcapng: reader and tshark agree" 'cmp -s "$tmp/ref.reader" "$tmp/ref.tshark"'
"$reader" dump "$tmp/ref.pcapng" | awk '$8 != "-" { $1 = $2 = $3 = $4 = $5 = $6 = $7 = ""; sub(/^ +/, ""); print }' \
	>"$tmp/ref.comments"
tshark -r "$tmp/ref.pcapng" -Y frame.comment -T fields -e frame.comment 2>/dev/null >"$tmp/ref.tcomments"
check "comments as tshark shows them" 'cmp -s "$tmp/ref.comments" "$tmp/ref.tcomments"'
check "tcpdump refuses that file (why we read it ourselves)" '! tcpdump -r "$tmp/ref.pcapng" -c1 >/dev/null 2>&1'

# A file cut short, as a killed tcpdump leaves it: the packets before the
# cut, then the reason.
head -c 100000 "$tmp/ns.pcap" >"$tmp/cut.pcap"
"$reader" dump "$tmp/cut.pcap" >"$tmp/cut.out" 2>"$tmp/cut.err"
rc=$?
check "cut file: exit status 1" '[ $rc = 1 ]'
check "cut file: the whole packets before the cut" \
	'cmp -s "$tmp/cut.out" <(head -n "$(wc -l <"$tmp/cut.out")" <("$reader" dump "$tmp/ns.pcap"))'
check "cut file: the reason names the offset" 'grep -q "error: truncated record at offset [0-9]*: " "$tmp/cut.err"'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
