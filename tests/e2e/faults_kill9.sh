#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kill -9 in the middle of a capture (events, and packets plus events on a
# veth): the kernel keeps nothing of ours (programs, links, pinned
# objects), and the next start works and captures.
#
# usage: faults_kill9.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/faults_lib.sh"
need_root
command -v bpftool >/dev/null || { echo "SKIP: no bpftool"; exit 77; }
make_netns_pair || { bad "network namespaces"; finish; exit; }
pins_before=$(our_pins | wc -l)

for mode in events veth; do
	out=$E2E_TMP/k9-$mode.pcapng
	if [ $mode = events ]; then
		"$tool" --capture --extcap-interface ebpfevents --fifo "$out" >/dev/null \
			2>"$E2E_TMP/k9.err" &
	else
		ip netns exec "$NS_C" "$tool" --capture --extcap-interface ebpfevents \
			--ifname "ebc$E2E_SFX" --fifo "$out" >/dev/null 2>"$E2E_TMP/k9.err" &
	fi
	pid=$!
	# ip netns exec execs, so $! is ebpfdump in both cases
	if ! wait_pid_progs "$pid" 3; then
		bad "$mode: ebpfdump did not load its programs ($(head -2 "$E2E_TMP/k9.err"))"
		continue
	fi
	ok
	progs=$(pid_prog_ids "$pid")
	links=$(links_of_progs $progs | wc -l)
	check "$mode: its programs are attached through links ($links)" '[ "$links" -ge 1 ]'
	# traffic while it runs, so that the ring buffer and the loop are busy
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5301 --send 100 \
		--recv 100 --count 20 >/dev/null 2>&1 &
	srv=$!
	E2E_PIDS+=("$srv")
	sleep 0.3
	for _ in $(seq 10); do
		ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5301 --send 100 \
			--recv 100 >/dev/null 2>&1
	done
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	kill "$srv" 2>/dev/null
	check "$mode: all its programs unloaded after kill -9" "wait_progs_gone $progs"
	left=$(links_of_progs $progs | wc -l)
	check "$mode: no link left ($left)" '[ "$left" = 0 ]'
	pins=$(our_pins | wc -l)
	check "$mode: nothing pinned in bpffs ($pins, before $pins_before)" '[ "$pins" -le "$pins_before" ]'

	# The next start works: same mode, short capture, a connect in it.
	out2=$E2E_TMP/k9-$mode-next.pcapng
	"$tool" --capture --extcap-interface ebpfevents --fifo "$out2" --duration 3 >/dev/null \
		2>"$E2E_TMP/k9-next.err" &
	pid=$!
	wait_pid_progs "$pid" 3
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5302 --send 0 \
		>/dev/null 2>&1
	wait "$pid"
	rc=$?
	check "$mode: next start exits 0 ($rc: $(head -1 "$E2E_TMP/k9-next.err"))" '[ $rc = 0 ]'
	check "$mode: next capture has the refused connect" \
		'tshark -r "$out2" -X lua_script:"$src/dissector/ebpf.lua" -Y "ebpf.event == \"TCP_Connect_Failed\" && ebpf.rport == 5302" 2>/dev/null | grep -q .'
done
finish
