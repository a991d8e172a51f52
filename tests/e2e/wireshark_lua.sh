#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Wireshark side of dissector/ebpf.lua and the eBPF profile, checked with tshark on
# mkcapture's fixed captures: the statistics tables (Statistics > eBPF/Processes and
# eBPF/Containers, printed by tshark), the coloring rule each frame gets, the process
# columns, and that every coloring filter compiles. No root needed; as root, tshark runs
# as nobody so that an installed ebpf.lua (a global plugin) cannot shadow the source one.
#
# usage: wireshark_lua.sh MKCAPTURE EBPF_LUA PROFILE_DIR
set -uo pipefail
mkcapture=$1 lua=$2 profile=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wireshark_lib.sh"
need_tools tshark

chmod 755 "$E2E_TMP"
mkdir -p "$E2E_TMP/home/.config/wireshark/profiles/eBPF" "$E2E_TMP/plugins"
cp "$profile/colorfilters" "$profile/preferences" "$E2E_TMP/home/.config/wireshark/profiles/eBPF/"
cp "$lua" "$E2E_TMP/ebpf.lua"
cap=$E2E_TMP/mk.pcapng
"$mkcapture" --events --merged "$cap" >/dev/null || { bad "mkcapture"; finish; exit; }
chmod -R a+rX "$E2E_TMP"

# tshark with only our dissector, our profile and a private home.
ts() {
	local run=(env HOME="$E2E_TMP/home" XDG_CONFIG_HOME="$E2E_TMP/home/.config"
		WIRESHARK_PLUGIN_DIR="$E2E_TMP/plugins")
	if [ "$(id -u)" = 0 ]; then
		run=(setpriv --reuid=nobody --regid=nogroup --clear-groups "${run[@]}")
	fi
	"${run[@]}" tshark -X lua_script:"$E2E_TMP/ebpf.lua" "$@"
}

# --- statistics ---------------------------------------------------------------------
ts -q -r "$cap" -X lua_script1:stats=processes -X lua_script1:tsv >"$E2E_TMP/proc" 2>"$E2E_TMP/proc.err"
check "processes table printed without errors" '[ -s "$E2E_TMP/proc" ] && [ ! -s "$E2E_TMP/proc.err" ]'
row() { awk -F'\t' -v a="$2" -v b="$3" '$1 == a && $2 == b' "$1"; }
tab() { printf '%s\t' "$@" | sed 's/\t$//'; }
check "title counts event frames and merged packets" \
	'head -1 "$E2E_TMP/proc" | grep -qx "eBPF Processes: 10 event frames, 6 merged packets"'
check "processes header" \
	'grep -qx "$(tab Process PID Container Conns Failed Sent Recv Retrans "Lat avg" "Lat max" Packets)" "$E2E_TMP/proc"'
# curl: 1 connect (latency 153), 1 failed, close totals 12345/678 with 2 retransmits, plus a
# retransmit event of a connection never closed (+1); 3 merged packets.
check "curl row: $(row "$E2E_TMP/proc" curl 4242)" \
	'[ "$(row "$E2E_TMP/proc" curl 4242)" = "$(tab curl 4242 - 1 1 12345 678 3 153.0 153 3)" ]'
check "nginx row (container web, accept counted)" \
	'[ "$(row "$E2E_TMP/proc" nginx 80)" = "$(tab nginx 80 web 1 0 0 0 0 - - 3)" ]'
check "sshd row (connection open at start)" \
	'[ "$(row "$E2E_TMP/proc" sshd 700)" = "$(tab sshd 700 - 1 0 0 0 0 - - 0)" ]'
# dig: UDP bytes 40 sent; received is the largest u64 (mkcapture's edge value), kept exact.
check "dig row (UDP bytes, 64-bit exact)" \
	'[ "$(row "$E2E_TMP/proc" dig 5000)" = "$(tab dig 5000 - 0 0 40 18446744073709551615 0 - - 0)" ]'
check "busiest process first" '[ "$(sed -n 5p "$E2E_TMP/proc" | cut -f1)" = curl ]'

ts -q -r "$cap" -X lua_script1:stats=containers,tsv >"$E2E_TMP/cont" 2>"$E2E_TMP/cont.err"
check "containers table printed without errors" '[ -s "$E2E_TMP/cont" ] && [ ! -s "$E2E_TMP/cont.err" ]'
check "web container row: $(row "$E2E_TMP/cont" web web-7d4b9c)" \
	'[ "$(row "$E2E_TMP/cont" web web-7d4b9c)" = "$(tab web web-7d4b9c default 1 1 0 0 0 0 - - 1)" ]'
# Host processes together; the sum of received bytes saturates instead of wrapping.
check "host row: $(row "$E2E_TMP/cont" "(no container)" -)" \
	'[ "$(row "$E2E_TMP/cont" "(no container)" -)" = "$(tab "(no container)" - - 9 2 1 12385 18446744073709551615 3 153.0 153 8)" ]'

ts -q -r "$cap" -X lua_script1:stats >"$E2E_TMP/both" 2>&1
check "plain 'stats' prints both tables, aligned" \
	'grep -q "^eBPF Processes:" "$E2E_TMP/both" && grep -q "^eBPF Containers:" "$E2E_TMP/both" && grep -qE "^curl +4242 +- +1 +1 +12345 +678 +3 +153.0 +153 +3$" "$E2E_TMP/both"'
EBPFDUMP_STATS="stats=processes tsv" ts -q -r "$cap" >"$E2E_TMP/env" 2>&1
check "EBPFDUMP_STATS does what the script arguments do (installed plugin)" \
	'cmp -s "$E2E_TMP/env" "$E2E_TMP/proc"'
ts -q -r "$cap" -X lua_script1:stats=threads >"$E2E_TMP/badarg" 2>&1
check "an unknown table is refused by name" 'grep -q "unknown statistics .threads." "$E2E_TMP/badarg"'

# --- eBPF profile: coloring rules and columns ------------------------------------------
ts -C eBPF --color -r "$cap" -T fields -E separator='|' -e frame.number -e ebpf.event \
	-e frame.coloring_rule.name >"$E2E_TMP/colors" 2>"$E2E_TMP/colors.err"
check "every coloring filter compiles (no message)" '[ ! -s "$E2E_TMP/colors.err" ]'
color_of() { awk -F'|' -v n="$1" '$1 == n { print $3 }' "$E2E_TMP/colors"; }
expect_color() {
	local got
	got=$(color_of "$1")
	if [ "$got" = "$3" ]; then ok; else bad "frame $1 ($2) colored '$got', expected '$3'"; fi
}
expect_color 1 TCP_Connect "eBPF connect"
expect_color 2 TCP_Connect_Failed "eBPF connect failed"
expect_color 3 TCP_Accept "eBPF accept"
expect_color 4 "TCP_Close with retransmits" "eBPF retransmission"
expect_color 5 TCP_Retransmit "eBPF retransmission"
expect_color 6 UDP_Send "eBPF UDP"
expect_color 8 TCP_Open "eBPF open at start"
expect_color 11 "merged SYN" "eBPF merged packet"
expect_color 14 "merged packet, bad comment" "eBPF malformed record"
expect_color 15 "packet without comment" "HTTP"
ts -C eBPF -r "$cap" >"$E2E_TMP/list" 2>&1
check "profile columns show process and pid" 'grep -qE "^ +1 .* curl 4242 .*TCP_Connect" "$E2E_TMP/list"'
# Source and Destination of an event: its local and remote address (issue 15.6).
check "event frames fill Source and Destination" \
	'grep -qE "^ +1 .* curl 4242 +10\.0\.0\.1 → 10\.0\.0\.2 +eBPF " "$E2E_TMP/list" && grep -qE "^ +3 .* ::1 → ::1 +eBPF " "$E2E_TMP/list"'
check "merged packet shows sender and receiver" 'grep -qE "^ +11 .* curl,nginx 4242,80 web " "$E2E_TMP/list"'
finish
