#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGPIPE, the way Wireshark's stop can reach an extcap: delivered as a
# signal to a capture writing a file, and raised for real by a pipe reader
# that goes away (--fifo - into `head`). Each: exit within a second,
# status 0, a valid file (signal case), no BPF program left.
#
# usage: faults_sigpipe.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/faults_lib.sh"
need_root

# kill -PIPE while writing a file
out=$E2E_TMP/pipe.pcapng
"$tool" --capture --extcap-interface ebpfevents --fifo "$out" >/dev/null 2>"$E2E_TMP/pipe.err" &
pid=$!
wait_pid_progs "$pid" 3 || bad "did not load ($(head -2 "$E2E_TMP/pipe.err"))"
progs=$(pid_prog_ids "$pid")
"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null 2>&1
sleep 0.3
start=$(date +%s%N)
kill -PIPE "$pid"
wait_exit "$pid" 3000
ms=$((($(date +%s%N) - start) / 1000000))
check "SIGPIPE: exit 0 (124 means still running 3 s later) ($rc: $(head -1 "$E2E_TMP/pipe.err"))" '[ $rc = 0 ]'
check "SIGPIPE: stopped within 1 s ($ms ms)" '[ $ms -lt 1000 ]'
check "SIGPIPE: capinfos reads the file" 'capinfos "$out" >/dev/null 2>&1'
check "SIGPIPE: the refused connect is in it" \
	'tshark -r "$out" -X lua_script:"$src/dissector/ebpf.lua" -Y "ebpf.event == \"TCP_Connect_Failed\" && ebpf.rport == 1" 2>/dev/null | grep -q .'
check "SIGPIPE: its programs are gone" "wait_progs_gone $progs"

# A real EPIPE: stdout is a pipe whose reader exits after 64 bytes, and
# traffic keeps events coming so that the next write fails.
rm -f "$E2E_TMP/pid"
(
	echo $BASHPID >"$E2E_TMP/pid"
	exec "$tool" --capture --extcap-interface ebpfevents --fifo - 2>"$E2E_TMP/epipe.err"
) | head -c 64 >/dev/null &
pipeline=$!
for _ in $(seq 100); do [ -s "$E2E_TMP/pid" ] && break; sleep 0.05; done
pid=$(cat "$E2E_TMP/pid")
wait_pid_progs "$pid" 3
progs=$(pid_prog_ids "$pid")
start=$(date +%s%N)
for _ in $(seq 50); do
	kill -0 "$pid" 2>/dev/null || break
	"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null 2>&1
	sleep 0.02
done
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
ms=$((($(date +%s%N) - start) / 1000000))
check "stdout reader gone: ebpfdump exited ($ms ms)" '! kill -0 "$pid" 2>/dev/null'
kill -9 "$pid" 2>/dev/null
check "stdout reader gone: within 1 s" '[ $ms -lt 1000 ]'
wait "$pipeline"
check "stdout reader gone: no error message ($(head -1 "$E2E_TMP/epipe.err"))" \
	'! grep -qi "error" "$E2E_TMP/epipe.err"'
check "stdout reader gone: its programs are gone" "wait_progs_gone $progs"
finish
