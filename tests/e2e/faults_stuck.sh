#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stop request ends the capture within a second in every state of the
# output, also when its reader stopped reading (the pipe is full and a
# write waits): a fifo whose reader is stopped (SIGSTOP), and --fifo -
# into a pipe nobody reads; SIGTERM, SIGINT and SIGHUP each. Exit 0, the
# programs gone, and the fifo's reader, let go, reads a capture up to its
# last whole block. And --merge waiting for a fifo that no writer opens
# stops on each signal too.
#
# usage: faults_stuck.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/faults_lib.sh"
need_root

# fill: events until the capture's output pipe is full (a pipe holds
# 64 KiB; a connection gives 4 events of ~200 bytes).
fill() {
	"$tools/tcp_server" --listen 127.0.0.1 --port "$1" --count 400 >/dev/null 2>&1 &
	local srv=$!
	sleep 0.2
	"$tools/tcp_client" --connect 127.0.0.1 --port "$1" --repeat 400 >/dev/null 2>&1
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	sleep 0.5
}

port=5600
for sig in TERM INT HUP; do
	# 1. A fifo whose reader stopped reading.
	fifo=$E2E_TMP/out-$sig.fifo
	mkfifo "$fifo"
	cat "$fifo" >"$E2E_TMP/read-$sig.pcapng" &
	reader=$!
	E2E_PIDS+=("$reader")
	"$tool" --capture --extcap-interface ebpfevents --fifo "$fifo" >/dev/null 2>"$E2E_TMP/fifo-$sig.err" &
	pid=$!
	wait_pid_progs "$pid" 3 || bad "fifo $sig: did not load ($(head -2 "$E2E_TMP/fifo-$sig.err"))"
	progs=$(pid_prog_ids "$pid")
	kill -STOP "$reader"
	port=$((port + 1))
	fill $port
	start=$(date +%s%N)
	kill -$sig "$pid"
	wait_exit "$pid" 5000
	ms=$((($(date +%s%N) - start) / 1000000))
	check "fifo, reader stopped, SIG$sig: exit 0 ($rc: $(tail -1 "$E2E_TMP/fifo-$sig.err"))" '[ $rc = 0 ]'
	check "fifo, reader stopped, SIG$sig: stopped within 1 s ($ms ms)" '[ $ms -lt 1000 ]'
	check "fifo, reader stopped, SIG$sig: its programs are gone" "wait_progs_gone $progs"
	kill -CONT "$reader"
	wait "$reader" 2>/dev/null
	n=$(tshark -r "$E2E_TMP/read-$sig.pcapng" 2>/dev/null | wc -l)
	check "fifo, SIG$sig: the reader gets a capture up to the cut ($n frames)" '[ "$n" -gt 100 ]'

	# 2. --fifo - into a pipe nobody reads.
	rm -f "$E2E_TMP/pid"
	(
		echo $BASHPID >"$E2E_TMP/pid"
		exec "$tool" --capture --extcap-interface ebpfevents --fifo - 2>"$E2E_TMP/pipe-$sig.err"
	) | sleep 30 &
	sleeper=$!
	E2E_PIDS+=("$sleeper")
	for _ in $(seq 50); do [ -s "$E2E_TMP/pid" ] && break; sleep 0.05; done
	pid=$(cat "$E2E_TMP/pid")
	wait_pid_progs "$pid" 3 || bad "pipe $sig: did not load ($(head -2 "$E2E_TMP/pipe-$sig.err"))"
	progs=$(pid_prog_ids "$pid")
	port=$((port + 1))
	fill $port
	start=$(date +%s%N)
	kill -$sig "$pid"
	rc=124
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { rc=0; break; }; sleep 0.05; done
	ms=$((($(date +%s%N) - start) / 1000000))
	check "pipe nobody reads, SIG$sig: stopped within 1 s ($ms ms; $(tail -1 "$E2E_TMP/pipe-$sig.err"))" \
		'[ $rc = 0 ] && [ $ms -lt 1000 ]'
	check "pipe nobody reads, SIG$sig: its programs are gone" "wait_progs_gone $progs"
	kill "$sleeper" 2>/dev/null

	# 3. --merge from a fifo that no writer ever opens.
	mkfifo "$E2E_TMP/nowriter-$sig.fifo"
	"$tool" --merge "$E2E_TMP/nowriter-$sig.fifo" "$E2E_TMP/read-$sig.pcapng" \
		--fifo "$E2E_TMP/merged-$sig.pcapng" 2>"$E2E_TMP/merge-$sig.err" &
	pid=$!
	E2E_PIDS+=("$pid")
	sleep 0.5
	start=$(date +%s%N)
	kill -$sig "$pid"
	rc=124
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { rc=0; break; }; sleep 0.05; done
	ms=$((($(date +%s%N) - start) / 1000000))
	check "--merge from a fifo without a writer, SIG$sig: stopped within 1 s ($ms ms)" \
		'[ $rc = 0 ] && [ $ms -lt 1000 ]'
done
finish
