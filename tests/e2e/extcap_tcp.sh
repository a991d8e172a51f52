#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end through Wireshark's own path: ebpfdump installed as an extcap
# (DESTDIR install, found through WIRESHARK_EXTCAP_DIR), tshark listing and
# capturing "ebpfevents" while a client and a server in two network
# namespaces talk over IPv4 and IPv6, then the capture decoded by tshark
# with the installed dissector/ebpf.lua and checked field by field. Also checks that
# stopping tshark leaves no BPF program attached.
#
# usage: extcap_tcp.sh BUILD_DIR SOURCE_DIR [TOOLS_DIR]   (as root)
set -uo pipefail
build=$1 src=$2
. "$src/tests/e2e/lib.sh"
need_root
tools=${3:-$build/tests/tools}
N=12345 M=6789 # bytes client → server, server → client

install_for_wireshark "$build" || { bad "cmake --install"; finish; exit; }
check "installed ebpfdump is executable" '[ -x "$extcap_dir/ebpfdump" ]'
tshark -D >"$E2E_TMP/ifaces" 2>/dev/null
check "tshark -D lists eBPF Events" 'grep -q "ebpfevents (eBPF Events)" "$E2E_TMP/ifaces"'

make_netns_pair || { bad "network namespaces"; finish; exit; }
netns_s=$(ip netns exec "$NS_S" stat -L -c %i /proc/self/ns/net)
netns_c=$(ip netns exec "$NS_C" stat -L -c %i /proc/self/ns/net)

progs_before=$(bpf_prog_count) links_before=$(bpf_link_count)
cap=$E2E_TMP/cap.pcapng
tshark -i ebpfevents -a duration:60 -w "$cap" >"$E2E_TMP/tshark.out" 2>"$E2E_TMP/tshark.err" &
tshark_pid=$!
E2E_PIDS+=("$tshark_pid")
if ! wait_bpf_attached "$progs_before" "$links_before" 3; then
	bad "ebpfdump did not attach its BPF programs within 15 s"
	cat "$E2E_TMP/tshark.err"
	finish
	exit
fi

# One exchange: server in NS_S, client in NS_C. $1 = server address, $2 = port, $3 = tag.
exchange() {
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$1" --port "$2" --send $M --recv $N \
		--count 1 >"$E2E_TMP/srv-$3" &
	local spid=$!
	for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv-$3" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$1" --port "$2" --send $N --recv $M \
		>"$E2E_TMP/cli-$3"
	wait "$spid"
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$1" --port $(($2 + 1)) --send 0 \
		>"$E2E_TMP/ref-$3"
}
exchange "$V4_S" 5001 v4
exchange "$V6_S" 5001 v6
sleep 0.5 # let the last events reach the capture
kill -INT "$tshark_pid"
wait "$tshark_pid"
check "tshark exits cleanly after SIGINT" '[ $? = 0 ]'
check "no BPF program left attached after the capture" 'wait_bpf_progs_back "$progs_before"'
check "tshark printed no error" '! grep -qiE "error|warning" "$E2E_TMP/tshark.err"'

kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
fields=(ebpf.event ebpf.pid ebpf.tid ebpf.comm ebpf.laddr ebpf.laddr6 ebpf.lport ebpf.raddr
	ebpf.raddr6 ebpf.rport ebpf.latency_us ebpf.bytes_sent ebpf.bytes_received ebpf.error
	ebpf.netns ebpf.uid ebpf.user ebpf.exe ebpf.ppid ebpf.pcomm ebpf.cgroup ebpf.host)
args=()
for f in "${fields[@]}"; do args+=(-e "$f"); done
tshark -r "$cap" -T fields -E separator='|' -E occurrence=f "${args[@]}" \
	>"$E2E_TMP/events" 2>"$E2E_TMP/decode.err"
check "the capture decodes without errors" '! grep -v "^Running as user" "$E2E_TMP/decode.err" | grep -q .'
check "the capture holds events" '[ -s "$E2E_TMP/events" ]'
tshark -r "$cap" >"$E2E_TMP/summary" 2>/dev/null

# Print the events of TYPE in NETNS as "pid tid comm laddr lport raddr rport latency sent received error uid ppid".
select_events() {
	awk -F'|' -v type="$1" -v ns="$2" '$1 == type && $15 == ns {
		for (i = 1; i <= NF; i++) if ($i == "") $i = "-"
		la = $5 != "-" ? $5 : $6; ra = $8 != "-" ? $8 : $9
		print $2, $3, $4, la, $7, ra, $10, $11, $12, $13, $14, $16, $19, $17, $18 }' "$E2E_TMP/events"
}

for fam in v4 v6; do
	if [ $fam = v4 ]; then saddr=$V4_S caddr=$V4_C; else saddr=$V6_S caddr=$V6_C; fi
	cli=$E2E_TMP/cli-$fam srv=$E2E_TMP/srv-$fam ref=$E2E_TMP/ref-$fam
	cpid=$(kv "$cli" pid) ctid=$(kv "$cli" tid) cport=$(kv "$cli" lport) cppid=$(kv "$cli" ppid)
	spid=$(kv "$srv" pid) stid=$(kv "$srv" tid)
	check "$fam: client thread differs from its process (pid $cpid, tid $ctid)" '[ -n "$cpid" ] && [ "$cpid" != "$ctid" ]'

	read -r pid tid comm la lp ra rp lat _ _ _ uid ppid user exe < <(select_events TCP_Connect "$netns_c" | grep " $cport $saddr 5001 ")
	check "$fam: TCP_Connect pid is the client's ($pid = $cpid)" '[ "$pid" = "$cpid" ]'
	check "$fam: TCP_Connect tid is the client thread's ($tid = $ctid)" '[ "$tid" = "$ctid" ]'
	check "$fam: TCP_Connect comm is tcp_client ($comm)" '[ "$comm" = tcp_client ]'
	check "$fam: TCP_Connect addresses ($la:$lp → $ra:$rp)" '[ "$la" = "$caddr" ] && [ "$ra" = "$saddr" ]'
	check "$fam: TCP_Connect latency_us > 0 ($lat)" '[ "${lat:-0}" -gt 0 ]'
	check "$fam: TCP_Connect uid 0, user root ($uid, $user)" '[ "$uid" = 0 ] && [ "$user" = root ]'
	check "$fam: TCP_Connect parent pid ($ppid = $cppid)" '[ "$ppid" = "$cppid" ]'
	check "$fam: TCP_Connect exe is the client binary ($exe)" '[ "$(basename "$exe")" = tcp_client ]'

	read -r pid tid comm la lp ra rp _ < <(select_events TCP_Accept "$netns_s" | grep " $saddr 5001 $caddr $cport ")
	check "$fam: TCP_Accept pid is the server's ($pid = $spid)" '[ "$pid" = "$spid" ]'
	check "$fam: TCP_Accept tid is the accepting thread's ($tid = $stid)" '[ "$tid" = "$stid" ]'
	check "$fam: TCP_Accept comm is tcp_server ($comm)" '[ "$comm" = tcp_server ]'

	read -r pid _ _ _ _ _ _ _ sent recv _ < <(select_events TCP_Close "$netns_c" | grep " $cport $saddr 5001 ")
	check "$fam: client TCP_Close pid ($pid = $cpid)" '[ "$pid" = "$cpid" ]'
	check "$fam: client TCP_Close bytes_sent = $N ($sent)" '[ "$sent" = $N ]'
	check "$fam: client TCP_Close bytes_received = $M ($recv)" '[ "$recv" = $M ]'
	read -r pid _ _ _ _ _ _ _ sent recv _ < <(select_events TCP_Close "$netns_s" | grep " $saddr 5001 $caddr $cport ")
	check "$fam: server TCP_Close pid ($pid = $spid)" '[ "$pid" = "$spid" ]'
	check "$fam: server TCP_Close bytes_sent = $M ($sent)" '[ "$sent" = $M ]'
	check "$fam: server TCP_Close bytes_received = $N ($recv)" '[ "$recv" = $N ]'

	rpid=$(kv "$ref" pid)
	read -r pid _ comm _ _ ra rp _ _ _ err _ < <(select_events TCP_Connect_Failed "$netns_c" | grep " $saddr 5002 ")
	check "$fam: TCP_Connect_Failed for the closed port, pid ($pid = $rpid)" '[ -n "$rpid" ] && [ "$pid" = "$rpid" ]'
	check "$fam: TCP_Connect_Failed error ECONNREFUSED ($err)" '[ "$err" = ECONNREFUSED ]'
done
check "Info column: TCP_Connect tcp_client[pid] a:p → b:p latency N µs" \
	'grep -qE "TCP_Connect tcp_client\[[0-9]+\] 192\.0\.2\.1:[0-9]+ → 192\.0\.2\.2:5001 latency [0-9]+ µs" "$E2E_TMP/summary"'
check "filter ebpf.comm == \"tcp_client\" finds client events" \
	'[ "$(tshark -r "$cap" -Y "ebpf.comm == \"tcp_client\" && ebpf.netns == $netns_c" 2>/dev/null | wc -l)" -ge 6 ]'
finish
