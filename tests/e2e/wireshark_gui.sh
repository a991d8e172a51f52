#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Wireshark itself (the Qt program, under Xvfb, as the unprivileged user nobody) starts a
# live capture on "eBPF Events" with the eBPF profile, -k -i ebpfevents -a duration:N
# -w FILE, while a client and a server in two network namespaces talk. ebpfdump is a
# private copy with capabilities (wireshark_lib.sh: private_wireshark); nothing is
# installed. The file Wireshark writes must decode with our fields, the dissector's
# statistics must count the exchange, and stopping must pop no dialog.
#
# usage: wireshark_gui.sh BUILD_DIR SOURCE_DIR TOOLS_DIR   (root)
# With GUI_SHOTS=DIR, the screenshot of the window after the capture is kept there.
set -uo pipefail
build=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools wireshark Xvfb xwininfo tshark setcap setpriv import
N=23456 M=7890 # bytes client → server, server → client
DURATION=8     # seconds of capture; the exchange happens in the first few

private_wireshark "$build" "$src" || { bad "setcap on the private copy of ebpfdump"; finish; exit; }
start_xvfb || { bad "Xvfb did not start: $(head -3 "$E2E_TMP/xvfb.log")"; finish; exit; }
make_netns_pair || { bad "network namespaces"; finish; exit; }

cap=$WS_OUT/wireshark.pcapng
started=$(date +%s)
as_nobody "$WS_EXTCAP" wireshark -C eBPF -k -i ebpfevents -a duration:$DURATION -w "$cap" \
	>"$E2E_TMP/wireshark.log" 2>&1 &
ws=$!
E2E_PIDS+=("$ws")
E2E_CLEANUP+=("stop_wireshark $ws")
# Our ebpfdump drops CAP_PERFMON (bit 38) once its probes are attached and the capture
# header is written (extcap/privs.h): the capture is running from then on.
running() {
	local pid eff
	pid=$(pgrep -f "^$WS_EXTCAP/ebpfdump --capture" | head -1)
	[ -n "$pid" ] || return 1
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
	[ -n "$eff" ] && [ $((16#$eff & (1 << 38))) = 0 ]
}
for _ in $(seq 200); do running && break; sleep 0.1; done
if ! running; then
	bad "Wireshark did not start ebpfdump's capture within 20 s: $(grep -iv 'running as' "$E2E_TMP/wireshark.log" | tail -3)"
	finish
	exit
fi
check "Wireshark started the capture within 20 s ($(($(date +%s) - started)) s)" \
	'[ $(($(date +%s) - started)) -le 20 ]'
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5101 --send $M --recv $N \
	--count 1 >"$E2E_TMP/srv" &
spid=$!
for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5101 --send $N --recv $M \
	>"$E2E_TMP/cli"
wait "$spid"

# -a duration stops the capture; Wireshark stays open, ebpfdump must go.
check "the capture stopped by itself and ebpfdump exited" \
	'for _ in $(seq $((DURATION * 10 + 100))); do pgrep -f "^$WS_EXTCAP/ebpfdump --capture" >/dev/null || break; sleep 0.1; done; ! pgrep -f "^$WS_EXTCAP/ebpfdump --capture" >/dev/null'
sleep 2 # Wireshark reads the rest of the file, and would pop a dialog now
shot "$E2E_TMP/capture.png" 1280x800+0+0
[ -n "${GUI_SHOTS:-}" ] && cp "$E2E_TMP/capture.png" "$GUI_SHOTS/gui-capture.png"
check "Wireshark is still running (no crash)" 'kill -0 "$ws" 2>/dev/null'
check "stopping popped no error dialog ($(error_dialogs | tr '\n' ' '))" '[ -z "$(error_dialogs)" ]'
check "no dumpcap left running under Wireshark ($(pgrep -a -P "$ws" -x dumpcap))" \
	'! live_children "$ws" dumpcap'
stop_wireshark "$ws"
check "Wireshark wrote the capture file" '[ -s "$cap" ]'

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
cpid=$(kv "$E2E_TMP/cli" pid) cport=$(kv "$E2E_TMP/cli" lport)
as_nobody "$WS_EXTCAP" tshark -r "$cap" -Y "ebpf.lport == $cport && ebpf.rport == 5101" -T fields \
	-E separator='|' -e ebpf.event -e ebpf.pid -e ebpf.comm -e ebpf.bytes_sent \
	-e ebpf.bytes_received >"$E2E_TMP/fields" 2>"$E2E_TMP/decode.err"
check "the file decodes without errors: $(head -2 "$E2E_TMP/decode.err")" '! grep -q . "$E2E_TMP/decode.err"'
check "TCP_Connect of tcp_client[$cpid]: $(grep TCP_Connect "$E2E_TMP/fields")" \
	'grep -qx "TCP_Connect|$cpid|tcp_client||" "$E2E_TMP/fields"'
check "TCP_Close of tcp_client with the bytes moved: $(grep TCP_Close "$E2E_TMP/fields")" \
	'grep -qx "TCP_Close|$cpid|tcp_client|$N|$M" "$E2E_TMP/fields"'
check "the file's interface is ebpfevents" \
	'as_nobody "$WS_EXTCAP" tshark -r "$cap" -T fields -e frame.interface_name -c 1 2>/dev/null | grep -q ebpfevents'
# The dissector's statistics on the file Wireshark wrote.
as_nobody "$WS_EXTCAP" env EBPFDUMP_STATS=stats=processes,tsv tshark -q -r "$cap" \
	>"$E2E_TMP/stats" 2>/dev/null
check "Statistics > eBPF/Processes counts the client: $(awk -F'\t' -v p="$cpid" '$2 == p' "$E2E_TMP/stats")" \
	'awk -F"\t" -v p="$cpid" -v n="$N" -v m="$M" "\$1 == \"tcp_client\" && \$2 == p && \$4 == 1 && \$6 == n && \$7 == m { f = 1 } END { exit !f }" "$E2E_TMP/stats"'
# The profile's toolbar title is the extcap's display name, or Wireshark ignores it.
title=$("$WS_EXTCAP/ebpfdump" --extcap-interfaces | sed -n 's/^extcap {.*{display=\([^}]*\)}.*/\1/p')
check "the eBPF profile shows the toolbar \"$title\"" \
	'grep -qxF "gui.interface_toolbar_show: \"$title\"" "$build/profile-eBPF/recent"'
finish
