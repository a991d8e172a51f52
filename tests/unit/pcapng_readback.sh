#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Reads pcapng writer output back with Wireshark's own tools.
#
# usage: pcapng_readback.sh MODE PATH/TO/test_pcapng
#   readback  reference capture → capinfos, tshark fields, a throwaway Lua
#             Proto("ebpf"), Wireshark's pcapng file dissector (ISB counters,
#             no expert warnings), and the same capture through stdout
#   fifo      tshark reads a fifo, gets killed, writes return -EPIPE
#   enospc    a 64 KiB tmpfs fills up: -ENOSPC, file still readable (root)
#   limits, secrets, shortwrite  C-only modes, run here for their scratch directory
# Exit 0 pass, 1 fail, 77 skipped (tool or privilege missing).
set -u

mode=${1:?mode}
prog=${2:?test_pcapng binary}
fail=0
tmp=$(mktemp -d /tmp/pcapng-test.XXXXXX) || exit 1
mnt=

cleanup() {
	if [ -n "$mnt" ] && mountpoint -q "$mnt"; then
		umount "$mnt"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

for tool in tshark capinfos; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# expect NAME EXPECTED ACTUAL
expect() {
	if [ "$2" != "$3" ]; then
		bad "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") >&2
	fi
}

# tshark and capinfos stderr must hold nothing but the root warning.
clean_stderr() {
	grep -v 'Running as user "root"' "$1"
}

readback() {
	local f=$tmp/ref.pcapng out

	"$prog" write "$f" || bad "test_pcapng write (C checks)"

	out=$(capinfos "$f" 2>"$tmp/err") || bad "capinfos exit status"
	[ -z "$(clean_stderr "$tmp/err")" ] || bad "capinfos stderr: $(cat "$tmp/err")"
	for line in "Number of interfaces in file: 2" \
		    "Number of packets:   6" \
		    "File timestamp precision:  nanoseconds (9)" \
		    "Capture application: ebpfdump-test 0.1" \
		    "Capture oper-sys:    $(uname -s) $(uname -r)" \
		    "Capture hardware:    $(uname -m)" \
		    "Name = veth-test0" "Description = Test veth" \
		    "Filter string = tcp or udp" \
		    "Name = ebpfevents" "Description = eBPF Events" \
		    "Encapsulation = Wireshark Upper PDU export (155 - wireshark-upper-pdu)" \
		    "Capture length = 256"; do
		grep -qF -- "$line" <<<"$out" || bad "capinfos lacks: $line"
	done
	expect "ns resolution on both interfaces" 2 \
		"$(grep -c 'Time precision = nanoseconds (9)' <<<"$out")"
	expect "one ISB per interface" 2 "$(grep -c 'Number of stat entries = 1' <<<"$out")"

	# Frame by frame: interface, exact ns epoch time, wire and captured
	# lengths (snaplen cut and caplen < origlen), comment, dissector name.
	out=$(tshark -r "$f" -T fields -E separator='|' -e frame.number -e frame.interface_id \
		-e frame.time_epoch -e frame.len -e frame.cap_len -e frame.comment \
		-e exported_pdu.prot_name 2>"$tmp/err") || bad "tshark exit status"
	[ -z "$(clean_stderr "$tmp/err")" ] || bad "tshark stderr: $(cat "$tmp/err")"
	expect "tshark fields" "1|0|1700000000.123456789|74|74|pid=4242 tid=4243 comm=curl container=web-1|
2|1|1700000000.223456789|44|44||ebpf
3|0|1700000000.323456789|1514|64||
4|0|1700000000.423456790|61|61|comm=café ✓|
5|1|1700000000.523456791|43|43||ebpf
6|0|1700000000.623456792|300|256||" "$out"

	# No malformed or warned frames anywhere.
	out=$(tshark -r "$f" -q -z expert,warn 2>&1 | grep -v 'Running as user "root"' |
		grep -vE '^(=+|Errors \(0\)|Warns \(0\))?$')
	[ -z "$out" ] || bad "expert infos: $out"

	# Event frames reach a Lua Proto named "ebpf" with no configuration:
	# the exported-PDU dissector-name tag selects it.
	cat >"$tmp/x.lua" <<-'EOF'
	-- SPDX-License-Identifier: GPL-2.0-or-later
	-- Throwaway stand-in for dissector/ebpf.lua: record magic and length.
	local p = Proto("ebpf", "pcapng writer test")
	local f_magic = ProtoField.uint16("ebpf.magic", "Magic", base.HEX)
	local f_len = ProtoField.uint32("ebpf.reclen", "Record length")
	p.fields = { f_magic, f_len }
	function p.dissector(tvb, pinfo, tree)
		local t = tree:add(p, tvb())
		t:add(f_magic, tvb(0, 2))
		t:add(f_len, tvb(8, 4))
		return tvb:len()
	end
	EOF
	if tshark -G protocols 2>/dev/null | cut -f3 | grep -qx ebpf; then
		# ebpf.lua is installed as a plugin: a second Proto("ebpf") cannot
		# load, so check that the installed one receives the frames.
		out=$(tshark -r "$f" -Y ebpf -T fields -E separator='|' \
			-e frame.number -e frame.protocols 2>"$tmp/err")
		expect "installed Lua proto ebpf gets the record" "2|exported_pdu:ebpf
5|exported_pdu:ebpf" "$out"
	else
		out=$(tshark -r "$f" -X lua_script:"$tmp/x.lua" -Y ebpf -T fields -E separator='|' \
			-e frame.number -e frame.protocols -e ebpf.magic -e ebpf.reclen 2>"$tmp/err")
		[ -z "$(clean_stderr "$tmp/err")" ] || bad "tshark+lua stderr: $(cat "$tmp/err")"
		expect "Lua proto ebpf gets the record" "2|exported_pdu:ebpf|0x4542|32
5|exported_pdu:ebpf|0x4542|31" "$out"
	fi

	# Wireshark's dissector of the pcapng file structure itself: ISB
	# counters as written, tsresol 9, filter type 0, no expert complaints.
	local mime=(-X 'read_format:MIME Files Format')
	out=$(tshark -r "$f" "${mime[@]}" -T fields -E separator='|' \
		-e pcapng.options.option.data.interface.received \
		-e pcapng.options.option.data.interface.dropped \
		-e pcapng.options.option.data.interface.timestamp_resolution.value \
		-e pcapng.options.option.data.interface.filter.type 2>/dev/null)
	expect "ISB counters, tsresol, filter type" "5,2|2,0|9,9|0" "$out"
	out=$(tshark -r "$f" "${mime[@]}" -q -z expert 2>&1 | grep -v 'Running as user "root"')
	[ -z "$out" ] || bad "pcapng file dissector complaints: $out"

	# The same capture written to a pipe on stdout ("-").
	out=$("$prog" stdout | tshark -r - -T fields -e frame.len -e frame.cap_len 2>"$tmp/err" |
		tr '\t\n' ', ')
	[ -z "$(clean_stderr "$tmp/err")" ] || bad "stdout tshark stderr: $(cat "$tmp/err")"
	expect "stdout lengths" "74,74 44,44 1514,64 61,61 43,43 300,256 " "$out"
}

enospc() {
	local f out accepted n size

	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for mount"; exit 77; }
	mnt=$tmp/mnt
	mkdir "$mnt" || exit 1
	mount -t tmpfs -o size=64k "pcapng-enospc-$$" "$mnt" || { echo "SKIP: no tmpfs"; exit 77; }
	f=$mnt/full.pcapng

	out=$("$prog" enospc "$f") || bad "test_pcapng enospc (C checks): $out"
	accepted=$(sed -n 's/^accepted //p' <<<"$out")
	size=$(stat -c %s "$f")
	[ "$size" -le 65536 ] || bad "file larger than the tmpfs: $size"

	# The writer cut the torn last block: the file is a clean capture.
	out=$(capinfos -c "$f" 2>"$tmp/err") || bad "capinfos on full-disk file failed"
	[ -z "$(clean_stderr "$tmp/err")" ] || bad "capinfos stderr: $(cat "$tmp/err")"
	n=$(sed -n 's/^Number of packets: *//p' <<<"$out")
	{ [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -le "${accepted:-0}" ]; } ||
		bad "packets on disk $n, accepted ${accepted:-?}"
	tshark -r "$f" >/dev/null 2>"$tmp/err" || bad "tshark on full-disk file failed"
	[ -z "$(clean_stderr "$tmp/err")" ] || bad "tshark stderr: $(cat "$tmp/err")"
	echo "full disk: $accepted packets accepted, $n on disk, $size bytes"
}

case $mode in
readback) readback ;;
fifo | limits | secrets | shortwrite)
	"$prog" "$mode" "$tmp"
	rc=$?
	[ $rc = 77 ] && exit 77
	[ $rc = 0 ] || bad "test_pcapng $mode"
	;;
enospc) enospc ;;
*)
	echo "unknown mode $mode" >&2
	exit 2
	;;
esac

[ $fail = 0 ] && echo PASS
exit $fail
