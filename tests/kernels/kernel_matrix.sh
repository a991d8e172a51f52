#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel matrix: boots one Debian 12 kernel under qemu
# (tests/kernels/boot_guest.sh), where tests/kernels/guest_init.sh runs the
# default capture, a capture with the packets of lo merged, and one with
# clients in the cgroup v2 paths of Docker, containerd and CRI-O; then checks
# the files here with tshark and dissector/ebpf.lua against what the guest's
# own tools reported (pids, ports, bytes).
#
# usage: kernel_matrix.sh BUILD_DIR SOURCE_DIR PACKAGE_REGEX   (root; apt sources)
set -uo pipefail
build=$1 src=$2 pattern=$3
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark capinfos qemu-system-x86_64 busybox apt-get dpkg xz
dir=$E2E_TMP/guest
# The emulator once ended a boot within seconds without a reason (1 of 10
# runs); a second boot says whether the kernel or the emulator failed.
if ! bash "$src/tests/kernels/boot_guest.sh" "$build" "$src" "$pattern" "$dir" >"$E2E_TMP/boot.log" 2>&1; then
	echo "note: the first boot failed, booting once more: $(tail -3 "$E2E_TMP/boot.log" | tr '\n' ' ')"
	if ! bash "$src/tests/kernels/boot_guest.sh" "$build" "$src" "$pattern" "$dir" >"$E2E_TMP/boot.log" 2>&1; then
		bad "the guest ran: $(tail -5 "$E2E_TMP/boot.log")"
		finish
		exit
	fi
fi
out=$dir/out
kernel=$(cat "$out/uname")
echo "kernel $kernel ($(cat "$dir/package")), boot and run $(cat "$dir/boot_run_s") s"

# fields FILE FILTER FIELDS...: one line per matching frame.
fields() {
	local f=$1 y=$2
	shift 2
	tshark -r "$out/$f.pcapng" -X "lua_script:$src/dissector/ebpf.lua" -Y "$y" -T fields \
		$(printf -- '-e %s ' "$@") 2>/dev/null
}
kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$out/$1" | head -1; }
has() { [ -n "$(fields "$@")" ]; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }

for cap in default merged raw tracepoint cgroups; do
	check "$kernel: $cap capture exits 0 ($(cat "$out/$cap.rc" 2>/dev/null))" '[ "$(cat "$out/$cap.rc")" = 0 ]'
	check "$kernel: $cap capture is a pcapng tshark reads" \
		'tshark -r "$out/$cap.pcapng" -c 1 >/dev/null 2>&1'
done
# Hooks: fexit programs load and fire here (the fentry tier), so no raw
# system-call hook runs (--hooks auto picks the cheapest tier).
check "$kernel: the fentry tier loaded ($(cut -c1-160 "$out/default.hooks" | head -2))" \
	'grep -q "loaded (fentry hooks" "$out/default.hooks"'
check "$kernel: the default capture names no false cause" '! grep -q "5.8 or later" "$out/default.stderr"'
# The sweep for closes missed near the stop ran at the stop, and found
# nothing (the workload's closes all reached the programs).
check "$kernel: the sweep ran at the stop ($(cut -c1-120 "$out/default.sweep" | head -1))" \
	'grep -q "swept the sockets table in [0-9]* us: 0 missed TCP closes found (0 found before" "$out/default.sweep"'

check "$kernel: --hooks tracepoint loaded the tracepoint tier ($(cut -c1-120 "$out/tracepoint.hooks" | head -1))" \
	'grep -q "loaded (tracepoint hooks" "$out/tracepoint.hooks"'
for cap in default merged raw tracepoint; do
	port=7001
	[ $cap = merged ] && port=7011
	[ $cap = raw ] && port=7031
	[ $cap = tracepoint ] && port=7041
	cpid=$(kv $cap.cli pid) ctid=$(kv $cap.cli tid) cport=$(kv $cap.cli lport)
	check "$kernel $cap: TCP_Connect by the client (pid $cpid, tid $ctid, port $cport)" \
		'has $cap "ebpf.event == \"TCP_Connect\" && ebpf.pid == $cpid && ebpf.tid == $ctid && ebpf.comm == \"tcp_client\" && ebpf.lport == $cport && ebpf.rport == $port" ebpf.pid'
	check "$kernel $cap: TCP_Accept by tcp_server" \
		'has $cap "ebpf.event == \"TCP_Accept\" && ebpf.comm == \"tcp_server\" && ebpf.lport == $port && ebpf.rport == $cport" ebpf.pid'
	check "$kernel $cap: the client's TCP_Close counts 2000 sent, 3000 received" \
		'has $cap "ebpf.event == \"TCP_Close\" && ebpf.pid == $cpid && ebpf.bytes_sent == 2000 && ebpf.bytes_received == 3000" ebpf.pid'
	check "$kernel $cap: the server's TCP_Close counts 3000 sent, 2000 received" \
		'has $cap "ebpf.event == \"TCP_Close\" && ebpf.comm == \"tcp_server\" && ebpf.bytes_sent == 3000 && ebpf.bytes_received == 2000" ebpf.pid'
	rpid=$(kv $cap.refused pid)
	check "$kernel $cap: refused connect is TCP_Connect_Failed, errno 111 (pid $rpid)" \
		'has $cap "ebpf.event == \"TCP_Connect_Failed\" && ebpf.pid == $rpid && ebpf.errno == 111" ebpf.pid'
	# UDP: by sock:sock_send_length/sock_recv_length (6.3+), else by fexit
	# on udp_sendmsg/udp_recvmsg: every type this kernel can observe.
	upid=$(kv $cap.ucli pid)
	if { [ $cap = raw ] || [ $cap = tracepoint ]; } &&
		[ "$(printf '%s\n6.3\n' "${kernel%%-*}" | sort -V | head -1)" != 6.3 ]; then
		# --hooks raw or tracepoint before 6.3: no sock_*_length tracepoint,
		# UDP left out, said so.
		check "$kernel $cap: UDP left out and why ($(grep -h 'left out' "$out/$cap.stderr" | cut -c1-120))" \
			'grep -q "UDP_Send, UDP_Recv left out: this kernel has no sock_send_length tracepoint (Linux 6.3 and later have it) (--hooks $cap)" "$out/$cap.stderr"'
		check "$kernel $cap: no UDP events" '! has $cap "ebpf.event == \"UDP_Send\"" ebpf.pid'
		check "$kernel $cap: the file says so too (events interface description)" \
			'capinfos "$out/$cap.pcapng" 2>/dev/null | grep -q "Description = eBPF Events (UDP_Send, UDP_Recv left out"'
		continue
	fi
	check "$kernel $cap: no event type left out ($(grep -h 'left out' "$out/$cap.stderr"))" \
		'! grep -q "left out" "$out/$cap.stderr"'
	check "$kernel $cap: UDP_Send of 3 datagrams (333 bytes) by udp_peer pid $upid" \
		'[ "$(fields $cap "ebpf.event == \"UDP_Send\" && ebpf.pid == $upid && ebpf.comm == \"udp_peer\" && ebpf.rport == $((port + 2))" ebpf.bytes | sum)" = 333 ]'
	check "$kernel $cap: UDP_Recv of 333 bytes from the sender's port" \
		'[ "$(fields $cap "ebpf.event == \"UDP_Recv\" && ebpf.comm == \"udp_peer\" && ebpf.lport == $((port + 2)) && ebpf.rport == $(kv $cap.ucli lport)" ebpf.bytes | sum)" = 333 ]'
done
check "$kernel: the socket snapshot reports the UDP socket bound before the start" \
	'has default "ebpf.event == \"UDP_Open\" && ebpf.lport == 7100 && ebpf.comm == \"udp_peer\"" ebpf.pid'

# Packets of lo, merged: every packet of the test connection names both ends.
cpid=$(kv merged.cli pid)
n=$(fields merged "tcp.port == 7011" frame.number | wc -l)
tagged=$(fields merged "tcp.port == 7011 && ebpf.pid == $cpid && ebpf.comm == \"tcp_server\"" frame.number | wc -l)
check "$kernel merged: all $n packets of the connection tagged with both processes ($tagged)" \
	'[ "$n" -ge 6 ] && [ "$tagged" = "$n" ]'

# cgroup v2: each client's TCP_Connect names its container id.
while read -r path; do
	id=${path##*-}
	id=${id%.scope}
	check "$kernel cgroups: a TCP_Connect names container ${id:0:12}… (${path%%/*})" \
		'has cgroups "ebpf.event == \"TCP_Connect\" && ebpf.container_id == \"$id\"" ebpf.pid'
done <"$dir/cgroups.txt"
finish
