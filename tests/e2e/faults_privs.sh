#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Privileges after start: a capture started as root (full capabilities)
# keeps only CAP_BPF, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH once its
# programs are loaded and its pcap handle is open (effective, permitted
# and the bounding set stays as it was for children it never starts), and
# still captures and names processes after the drop.
#
# usage: faults_privs.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/faults_lib.sh"
need_root
# CAP_BPF (39), CAP_SYS_PTRACE (19), CAP_DAC_READ_SEARCH (2)
keep=0000008000080004
make_netns_pair || { bad "network namespaces"; finish; exit; }

for mode in events veth; do
	out=$E2E_TMP/privs-$mode.pcapng
	if [ $mode = events ]; then
		"$tool" --capture --extcap-interface ebpfevents --fifo "$out" >/dev/null \
			2>"$E2E_TMP/privs.err" &
	else
		ip netns exec "$NS_C" "$tool" --capture --extcap-interface ebpfevents \
			--ifname "ebc$E2E_SFX" --fifo "$out" >/dev/null 2>"$E2E_TMP/privs.err" &
	fi
	pid=$!
	wait_pid_progs "$pid" 3 || bad "$mode: did not load ($(head -2 "$E2E_TMP/privs.err"))"
	eff= prm=
	for _ in $(seq 50); do
		eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pid/status")
		prm=$(sed -n 's/^CapPrm:[[:space:]]*//p' "/proc/$pid/status")
		[ "$eff" = $keep ] && break
		sleep 0.1
	done
	check "$mode: effective capabilities are only the kept ones ($eff)" '[ "$eff" = $keep ]'
	check "$mode: permitted too, so they cannot come back ($prm)" '[ "$prm" = $keep ]'
	# still working after the drop: a connect from a process it must name
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5401 --send 10 \
		--recv 10 --count 1 >/dev/null 2>&1 &
	E2E_PIDS+=("$!")
	sleep 0.3
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5401 --send 10 \
		--recv 10 >/dev/null 2>&1
	sleep 0.5
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	check "$mode: exit 0 after the drop ($rc: $(head -1 "$E2E_TMP/privs.err"))" '[ $rc = 0 ]'
	n=$(tshark -r "$out" -X lua_script:"$src/dissector/ebpf.lua" \
		-Y 'ebpf.event == "TCP_Connect" && ebpf.rport == 5401 && ebpf.exe contains "tcp_client"' \
		2>/dev/null | wc -l)
	check "$mode: connect captured with its executable after the drop ($n)" '[ "$n" -ge 1 ]'
	if [ $mode = veth ]; then
		n=$(tshark -r "$out" -Y 'tcp.port == 5401' 2>/dev/null | wc -l)
		check "veth: packets still captured after the drop ($n)" '[ "$n" -ge 5 ]'
	fi
done
finish
