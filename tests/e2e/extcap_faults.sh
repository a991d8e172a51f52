#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad conditions for a capture, each with one line naming the cause, the
# right exit status, and no BPF program left attached afterwards: not root,
# a kernel without BTF (hidden in a private mount namespace), tracefs not
# mounted (not needed), an output that cannot be opened, a full
# disk, the fifo reader going away, and SIGTERM/SIGINT leaving a valid file.
#
# usage: extcap_faults.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
base=$(bpf_prog_count)
cap() { "$tool" --capture --extcap-interface ebpfevents "$@"; }
# In the background, so that $! is ebpfdump itself and signals reach it.
cap_bg() { exec "$tool" --capture --extcap-interface ebpfevents "$@"; }
one_line() { [ "$(grep -cv '^$' "$1")" = 1 ]; }
no_progs_left() { wait_bpf_progs_back "$base"; }

# Not root: an unprivileged user without capabilities.
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$tool" --capture --extcap-interface ebpfevents --fifo /dev/null --duration 1 \
	>/dev/null 2>"$E2E_TMP/noroot.err"
rc=$?
check "not root: exit 1 ($rc)" '[ $rc = 1 ]'
check "not root: one line" 'one_line "$E2E_TMP/noroot.err"'
check "not root: names root/capabilities ($(cat "$E2E_TMP/noroot.err"))" 'grep -q "CAP_BPF" "$E2E_TMP/noroot.err"'

# No BTF: /sys/kernel/btf hidden by an empty tmpfs in a private mount namespace.
unshare -m --propagation private bash -c \
	'mount -t tmpfs none /sys/kernel/btf && exec "$0" --capture --extcap-interface ebpfevents --fifo /dev/null --duration 1' \
	"$tool" >/dev/null 2>"$E2E_TMP/nobtf.err"
rc=$?
check "no BTF: exit 1 ($rc)" '[ $rc = 1 ]'
check "no BTF: one line" 'one_line "$E2E_TMP/nobtf.err"'
check "no BTF: says so ($(cat "$E2E_TMP/nobtf.err"))" 'grep -q "BTF" "$E2E_TMP/nobtf.err"'
check "no BTF: nothing attached" no_progs_left

# tracefs not mounted: not needed, raw tracepoints only (private mount namespace).
unshare -m --propagation private bash -c \
	'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; exec "$0" --capture --extcap-interface ebpfevents --fifo "$1" --duration 1' \
	"$tool" "$E2E_TMP/notracefs.pcapng" >/dev/null 2>"$E2E_TMP/notracefs.err"
rc=$?
check "tracefs not mounted: capture works ($rc: $(cat "$E2E_TMP/notracefs.err"))" '[ $rc = 0 ]'
check "tracefs not mounted: valid file" 'capinfos "$E2E_TMP/notracefs.pcapng" >/dev/null 2>&1'

# An output that cannot be opened.
cap --fifo /nonexistent-dir/out.pcapng --duration 1 >/dev/null 2>"$E2E_TMP/noopen.err"
rc=$?
check "unopenable output: exit 1 ($rc)" '[ $rc = 1 ]'
check "unopenable output: one line" 'one_line "$E2E_TMP/noopen.err"'
check "unopenable output: names the path and the cause" \
	'grep -q "cannot open output /nonexistent-dir/out.pcapng: No such file or directory" "$E2E_TMP/noopen.err"'
check "unopenable output: nothing attached" no_progs_left

# A full disk: a 64 KiB tmpfs fills up while connections happen.
mnt=$E2E_TMP/small
mkdir -p "$mnt" && mount -t tmpfs -o size=64k none "$mnt" && E2E_CLEANUP+=("umount '$mnt'")
cap_bg --fifo "$mnt/out.pcapng" --duration 20 >/dev/null 2>"$E2E_TMP/full.err" &
pid=$!
"$tools/tcp_server" --listen 127.0.0.1 --port 17000 --send 10 --recv 10 --count 2000 >/dev/null 2>&1 &
E2E_PIDS+=("$!")
sleep 0.5
for _ in $(seq 400); do
	"$tools/tcp_client" --connect 127.0.0.1 --port 17000 --send 10 --recv 10 >/dev/null 2>&1
	kill -0 "$pid" 2>/dev/null || break
done
wait "$pid"
rc=$?
check "disk full: exit 1 ($rc)" '[ $rc = 1 ]'
check "disk full: says so ($(head -1 "$E2E_TMP/full.err"))" 'grep -q "No space left on device" "$E2E_TMP/full.err"'
check "disk full: what was written reads back" 'tshark -r "$mnt/out.pcapng" -c 1 >/dev/null 2>&1'
check "disk full: nothing attached" no_progs_left
# The summary counts what reached the file, not what was handed over.
said=$(sed -n 's/.*: \([0-9]*\) events written to .*/\1/p' "$E2E_TMP/full.err" | tail -1)
held=$(tshark -r "$mnt/out.pcapng" -X lua_script:"$src/dissector/ebpf.lua" -Y ebpf.event 2>/dev/null | wc -l)
check "disk full: the summary's count is what the file holds ($said said, $held in the file)" \
	'[ -n "$said" ] && [ "$said" = "$held" ]'

# The reader of the fifo goes away: the capture ends at once, status 0.
mkfifo "$E2E_TMP/fifo"
cap_bg --fifo "$E2E_TMP/fifo" >/dev/null 2>"$E2E_TMP/reader.err" &
pid=$!
head -c 64 "$E2E_TMP/fifo" >/dev/null
start=$(date +%s%N)
wait "$pid"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "reader gone: exit 0 ($rc)" '[ $rc = 0 ]'
check "reader gone: stopped within 1 s ($ms ms)" '[ $ms -lt 1000 ]'
check "reader gone: nothing attached" no_progs_left

# SIGTERM and SIGINT from a shell capture: a valid file with its statistics.
# The SIGTERM one also gets the defaults Wireshark's dialog passes for the
# two selectors (--ifname none: events only; --netns any).
for sig in TERM INT; do
	out=$E2E_TMP/sig-$sig.pcapng
	defaults=()
	[ $sig = TERM ] && defaults=(--ifname none --netns any)
	cap_bg --fifo "$out" --debug-file "$out.log" "${defaults[@]}" >/dev/null 2>"$E2E_TMP/sig.err" &
	pid=$!
	wait_started "$out.log"
	"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null 2>&1
	sleep 0.3
	kill -$sig "$pid"
	wait "$pid"
	rc=$?
	check "SIG$sig: exit 0 ($rc)" '[ $rc = 0 ]'
	check "SIG$sig: summary line on stderr" 'grep -q "events written to" "$E2E_TMP/sig.err"'
	check "SIG$sig: capinfos reads the file" 'capinfos "$out" >/dev/null 2>&1'
	check "SIG$sig: events only, one interface" \
		'capinfos "$out" 2>/dev/null | grep -q "Number of interfaces in file: 1"'
	check "SIG$sig: the refused connect is in it" \
		'tshark -r "$out" -X lua_script:"$src/dissector/ebpf.lua" -Y "ebpf.event == \"TCP_Connect_Failed\" && ebpf.rport == 1" 2>/dev/null | grep -q .'
	check "SIG$sig: nothing attached" no_progs_left
done
finish
