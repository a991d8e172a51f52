#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Wireshark itself (the Qt program, under Xvfb) starts a live capture on "eBPF Events"
# with -k -i ebpfevents -a duration:N -w FILE while a client and a server in two network
# namespaces talk; the file Wireshark writes must decode with our fields, and the
# statistics table of the installed dissector must count the exchange.
#
# usage: wireshark_gui.sh BUILD_DIR SOURCE_DIR TOOLS_DIR   (root)
set -uo pipefail
build=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools wireshark Xvfb tshark
N=23456 M=7890 # bytes client → server, server → client
DURATION=12    # seconds of capture; the exchange happens in the first few

system_install "$build" || { bad "cmake --install"; finish; exit; }
check "tshark -D lists eBPF Events" 'tshark -D 2>/dev/null | grep -q "ebpfevents (eBPF Events)"'

export HOME=$E2E_TMP/home XDG_CONFIG_HOME=$E2E_TMP/home/.config XDG_RUNTIME_DIR=$E2E_TMP/run
mkdir -p "$XDG_CONFIG_HOME/wireshark" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
display=:$((300 + $$ % 300))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$E2E_TMP/xvfb.log" 2>&1 &
E2E_PIDS+=($!)
export DISPLAY=$display
make_netns_pair || { bad "network namespaces"; finish; exit; }
sleep 1

progs_before=$(bpf_prog_count)
cap=$E2E_TMP/wireshark.pcapng
started=$(date +%s)
wireshark -k -i ebpfevents -a duration:$DURATION -w "$cap" >"$E2E_TMP/wireshark.log" 2>&1 &
ws=$!
E2E_PIDS+=("$ws")
if ! wait_bpf_progs "$progs_before" 3; then
	bad "Wireshark did not start ebpfdump (no BPF programs attached within 15 s)"
	tail -5 "$E2E_TMP/wireshark.log"
	finish
	exit
fi
check "Wireshark started the capture within 20 s ($(($(date +%s) - started)) s)" \
	'[ $(($(date +%s) - started)) -le 20 ]'
# ebpfdump writes the capture header once its probes are attached; give dumpcap a moment.
sleep 1
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5101 --send $M --recv $N \
	--count 1 >"$E2E_TMP/srv" &
spid=$!
for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5101 --send $N --recv $M \
	>"$E2E_TMP/cli"
wait "$spid"

# -a duration stops the capture; Wireshark stays open, ebpfdump must go.
check "the capture stopped by itself and ebpfdump detached its programs" \
	'for _ in $(seq $((DURATION * 10 + 100))); do [ "$(bpf_prog_count)" -le "$progs_before" ] && break; sleep 0.1; done; [ "$(bpf_prog_count)" -le "$progs_before" ]'
for _ in $(seq 50); do [ -s "$cap" ] && break; sleep 0.1; done
sleep 1
check "Wireshark is still running (no crash)" 'kill -0 "$ws" 2>/dev/null'
kill "$ws" 2>/dev/null
wait "$ws" 2>/dev/null
check "Wireshark wrote the capture file" '[ -s "$cap" ]'
check "Wireshark logged no error" '! grep -iE "error|critical|extcap" "$E2E_TMP/wireshark.log"'

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
cpid=$(kv "$E2E_TMP/cli" pid) cport=$(kv "$E2E_TMP/cli" lport)
tshark -r "$cap" -Y "ebpf.lport == $cport && ebpf.rport == 5101" -T fields -E separator='|' \
	-e ebpf.event -e ebpf.pid -e ebpf.comm -e ebpf.bytes_sent -e ebpf.bytes_received \
	>"$E2E_TMP/fields" 2>"$E2E_TMP/decode.err"
check "the file decodes without errors" '! grep -v "^Running as user" "$E2E_TMP/decode.err" | grep -q .'
check "TCP_Connect of tcp_client[$cpid]: $(grep TCP_Connect "$E2E_TMP/fields")" \
	'grep -qx "TCP_Connect|$cpid|tcp_client||" "$E2E_TMP/fields"'
check "TCP_Close of tcp_client with the bytes moved: $(grep TCP_Close "$E2E_TMP/fields")" \
	'grep -qx "TCP_Close|$cpid|tcp_client|$N|$M" "$E2E_TMP/fields"'
check "the file's interface is ebpfevents" \
	'capinfos -T -m -I "$cap" 2>/dev/null | grep -q ebpfevents || tshark -r "$cap" -T fields -e frame.interface_name -c 1 2>/dev/null | grep -q ebpfevents'
# The installed dissector's statistics on the file Wireshark wrote.
EBPFDUMP_STATS=stats=processes,tsv tshark -q -r "$cap" >"$E2E_TMP/stats" 2>/dev/null
check "Statistics > eBPF/Processes counts the client: $(awk -F'\t' -v p="$cpid" '$2 == p' "$E2E_TMP/stats")" \
	'awk -F"\t" -v p="$cpid" -v n="$N" -v m="$M" "\$1 == \"tcp_client\" && \$2 == p && \$4 == 1 && \$6 == n && \$7 == m { f = 1 } END { exit !f }" "$E2E_TMP/stats"'
finish
