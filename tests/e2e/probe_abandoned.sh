#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A connect the application abandons (closes the socket in SYN_SENT, before
# any answer) is TCP_Connect_Failed without an errno item, shown as
# "abandoned by the application" with a note, not as "errno 0" with a
# "connect failed" warning; a refused connect keeps errno 111
# (docs/event-format.md, section 3).
#
# usage: probe_abandoned.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark ip
ns=ebdab$E2E_SFX
ip netns add "$ns" && E2E_CLEANUP+=("ip netns del $ns")
ip -n "$ns" link set lo up
# SYNs to 192.0.2.1 go out on lo and are never answered (not a local address).
ip -n "$ns" route add 192.0.2.0/24 dev lo
out=$E2E_TMP/ab.pcapng
"$tool" --capture --extcap-interface ebpfevents --fifo "$out" --debug-file "$out.log" >/dev/null 2>"$E2E_TMP/cap.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
ip netns exec "$ns" "$tools/tcp_client" --connect 192.0.2.1 --port 7400 --abandon-ms 300 \
	>"$E2E_TMP/ab.cli" 2>&1
ip netns exec "$ns" "$tools/tcp_client" --connect 127.0.0.1 --port 7401 >"$E2E_TMP/ref.cli" 2>&1
sleep 0.5
kill -INT "$cap"
wait "$cap"
apid=$(sed -n 's/.*abandoned pid=\([0-9]*\).*/\1/p' "$E2E_TMP/ab.cli")
aport=$(sed -n 's/.* lport=\([0-9]*\).*/\1/p' "$E2E_TMP/ab.cli")
rpid=$(sed -n 's/.*failed pid=\([0-9]*\).*/\1/p' "$E2E_TMP/ref.cli")
row() { tshark -r "$out" -X lua_script:"$src/dissector/ebpf.lua" -Y "$1" -T fields -e ebpf.event \
	-e ebpf.errno -e _ws.expert.message -e _ws.col.Info 2>/dev/null; }
a=$(row "ebpf.pid == $apid && ebpf.lport == $aport")
check "abandoned connect (pid $apid): TCP_Connect_Failed without errno ($a)" \
	'[ "$(cut -f1 <<<"$a")" = TCP_Connect_Failed ] && [ -z "$(cut -f2 <<<"$a")" ]'
check "abandoned connect: says so in Info and as a note, no 'connect failed'" \
	'grep -q "abandoned by the application" <<<"$a" && grep -q "TCP connect abandoned" <<<"$a" && ! grep -q "TCP connect failed" <<<"$a"'
r=$(row "ebpf.pid == $rpid && ebpf.event == \"TCP_Connect_Failed\"")
check "refused connect (pid $rpid): errno 111, ECONNREFUSED ($r)" \
	'[ "$(cut -f2 <<<"$r")" = 111 ] && grep -q "TCP connect failed: ECONNREFUSED" <<<"$r"'
finish
