#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tracepoint tier on this machine's kernel (issue 14): with tracefs
# mounted (in a private mount namespace: the host's mounts are left alone),
# --hooks tracepoint loads programs on the syscalls' own tracepoints only
# (no raw sys_enter/sys_exit), and the events are those of the raw tier:
# TCP_Accept owned by the server, UDP_Send/UDP_Recv of sendto/recvfrom,
# sendmsg/recvmsg and sendmmsg/recvmmsg with their peers and counts. --hooks
# auto picks it when fexit is refused; without tracefs it is an error that
# says how to mount it, and auto falls back to raw.
#
# usage: extcap_tiers.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
if [ -z "${TIERS_INNER:-}" ]; then
	TIERS_INNER=1 exec unshare -m bash "$0" "$@"
fi
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark bpftool
T=$E2E_TMP
use_dissector "$src"
make_netns_pair || { echo "FAIL: cannot make the namespaces"; exit 1; }
fields() { tshark -r "$1" "${tshark_lua[@]}" -Y "$2" -T fields -E separator='|' "${@:3}" 2>/dev/null; }
kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }

umount /sys/kernel/tracing 2>/dev/null
umount /sys/kernel/debug/tracing 2>/dev/null
"$tool" --capture --extcap-interface ebpfevents --hooks tracepoint --fifo "$T/none.pcapng" \
	--duration 1 >/dev/null 2>"$T/none.err"
rc=$?
check "no tracefs, --hooks tracepoint: exit 1 ($rc)" '[ "$rc" = 1 ]'
check "no tracefs: the message says how to mount it ($(head -1 "$T/none.err"))" \
	'grep -q "mount -t tracefs nodev /sys/kernel/tracing" "$T/none.err"'
"$tool" --capture --extcap-interface ebpfevents --debug --fifo "$T/auto0.pcapng" --duration 1 \
	>/dev/null 2>"$T/auto0.err"
check "no tracefs, --hooks auto: the raw tier ($(grep -o 'loaded ([a-z -]* hooks' "$T/auto0.err"))" \
	'grep -q "loaded (raw hooks" "$T/auto0.err"'

mount -t tracefs nodev /sys/kernel/tracing || { echo "FAIL: cannot mount tracefs"; exit 1; }
"$tool" --capture --extcap-interface ebpfevents --debug --fifo "$T/auto.pcapng" --duration 1 \
	>/dev/null 2>"$T/auto.err"
tier=$(grep -o 'loaded ([a-z -]* hooks' "$T/auto.err")
check "tracefs mounted, --hooks auto: fentry where allowed, else tracepoint ($tier)" \
	'grep -qE "loaded \((fentry|tracepoint) hooks" "$T/auto.err"'

"$tool" --capture --extcap-interface ebpfevents --hooks tracepoint --fifo "$T/tp.pcapng" --debug-file "$T/tp.pcapng.log" \
	>/dev/null 2>"$T/tp.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/tp.pcapng.log"
sleep 1
progs=$(bpftool prog show 2>/dev/null | grep -oE 'name ebd_[a-z0-9_]+' | sort -u | tr '\n' ' ')
check "tracepoint tier: syscall tracepoint programs loaded ($progs)" \
	'grep -q "ebd_tp_exit_accept4" <<<"$progs" && grep -q "ebd_tp_enter_recvfrom" <<<"$progs"'
check "tracepoint tier: no raw sys_enter/sys_exit program" \
	'! grep -qE "ebd_sys_enter|ebd_sys_exit" <<<"$progs"'

ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 7601 --count 1 >"$T/srv" 2>&1 &
E2E_PIDS+=("$!")
wait_for_line "$T/srv" listening
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 7601 >"$T/cli" 2>&1
wait_for_line "$T/srv" accepted
for call in sendto sendmsg sendmmsg; do
	rcall=${call/send/recv}
	[ "$call" = sendto ] && rcall=recvfrom
	ip netns exec "$NS_S" "$tools/udp_peer" --bind "$V4_S" --recv 3 --recv-call "$rcall" \
		--idle-ms 3000 >"$T/u-$call.srv" 2>&1 &
	E2E_PIDS+=("$!")
	wait_for_line "$T/u-$call.srv" ready
	ip netns exec "$NS_C" "$tools/udp_peer" --bind "$V4_C" --peer "$V4_S" \
		--peer-port "$(kv "$T/u-$call.srv" lport)" --send 3 --size 50 --send-call "$call" \
		>"$T/u-$call.cli" 2>&1
	wait_for_line "$T/u-$call.srv" done
done
sleep 1.5 # UDP counts are collected from the kernel every interval
kill -INT "$cap"
wait "$cap"
check "tracepoint tier: capture exits 0 ($(tail -1 "$T/tp.err"))" '[ $? = 0 ]'

spid=$(kv "$T/srv" pid)
check "TCP_Accept owned by the server ($spid)" \
	'fields "$T/tp.pcapng" "ebpf.event == \"TCP_Accept\" && ebpf.pid == $spid" -e ebpf.pid | grep -q .'
for call in sendto sendmsg sendmmsg; do
	rcall=${call/send/recv}
	[ "$call" = sendto ] && rcall=recvfrom
	cpid=$(kv "$T/u-$call.cli" pid) cport=$(kv "$T/u-$call.cli" lport)
	rpid=$(kv "$T/u-$call.srv" pid) rport=$(kv "$T/u-$call.srv" lport)
	sent=$(fields "$T/tp.pcapng" "ebpf.event == \"UDP_Send\" && ebpf.pid == $cpid && ebpf.rport == $rport" \
		-e ebpf.packets | awk '{ s += $1 } END { print s + 0 }')
	got=$(fields "$T/tp.pcapng" "ebpf.event == \"UDP_Recv\" && ebpf.pid == $rpid && ebpf.rport == $cport && ebpf.raddr == $V4_C" \
		-e ebpf.packets | awk '{ s += $1 } END { print s + 0 }')
	check "$call: UDP_Send of 3 datagrams to the receiver's port ($sent)" '[ "$sent" = 3 ]'
	check "$rcall: UDP_Recv of 3 datagrams, sender's address and port known ($got)" '[ "$got" = 3 ]'
done
finish
