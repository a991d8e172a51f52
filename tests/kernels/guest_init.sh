#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the kernel-matrix guest (busybox): mounts what ebpfdump needs, runs
# the captures of tests/kernels/kernel_matrix.sh's plan, and writes a tar of
# the results, base64-encoded, to the second serial port (the host's
# results file). Nothing here asserts: the host decodes and checks.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
for m in /modules/*.ko; do [ -e "$m" ] && insmod "$m"; done
ip link set lo up
out=/tmp/out
mkdir -p $out
uname -r >$out/uname
log() { echo "guest: $*" >>$out/log; echo "guest: $*" >/dev/console; }

# cap NAME ARGS...: ebpfdump --capture in the background, ready once the
# section header is written (the probes are attached then).
cap() {
	name=$1; shift
	# Started once its programs are attached ("capture started" in the
	# debug file); the file's header comes before that.
	ebpfdump --capture --fifo $out/$name.pcapng --debug-file /tmp/$name.debug "$@" \
		>$out/$name.stdout 2>$out/$name.stderr &
	echo $! >/tmp/$name.pid
	i=0
	while [ $i -lt 600 ]; do
		grep -q "capture started" /tmp/$name.debug 2>/dev/null && return 0
		kill -0 "$(cat /tmp/$name.pid)" 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	log "$name did not start: $(tail -c 300 $out/$name.stderr)"
	# Once more with libbpf's whole log (the verifier's reason is at its end).
	ebpfdump --capture --fifo /tmp/$name.retry.pcapng --debug-file $out/$name.debug "$@" \
		>/dev/null 2>&1 </dev/null &
	sleep 5
	kill -INT $! 2>/dev/null
}
stop() {
	pid=$(cat /tmp/$1.pid)
	kill -INT "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$pid"; echo $? >$out/$1.rc
}

# Workload: TCP both ways with exact byte counts, a refused connect, UDP
# datagrams, all on loopback; clients as "kmclient", server as "kmserver".
workload() {
	tag=$1 port=$2
	tcp_server --listen 127.0.0.1 --port $port --send 3000 --recv 2000 --count 1 >$out/$tag.srv 2>&1 &
	srv=$!
	sleep 0.3
	tcp_client --connect 127.0.0.1 --port $port --send 2000 --recv 3000 >$out/$tag.cli 2>&1
	wait $srv
	tcp_client --connect 127.0.0.1 --port $((port + 1)) --send 1 --recv 0 >$out/$tag.refused 2>&1
	udp_peer --bind 127.0.0.1 --port $((port + 2)) --recv 3 --idle-ms 1500 >$out/$tag.usrv 2>&1 &
	usrv=$!
	sleep 0.3
	udp_peer --bind 127.0.0.1 --peer 127.0.0.1 --peer-port $((port + 2)) --send 3 --size 111 \
		--send-call sendto >$out/$tag.ucli 2>&1
	wait $usrv
}

log "kernel $(uname -r)"

# bench/kernel_tiers.sh boots with guest_mode=bench: the cost of each hook
# tier, measured here (counts are exact under TCG, times only relative).
if grep -q "guest_mode=bench" /proc/cmdline; then
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	n=${BENCH_CONNS:-300}
	ddn=1000000
	# ns: /proc/uptime, 10 ms steps (busybox date has no %N)
	ns() { awk '{ printf "%.0f\n", $1 * 1000000000 }' /proc/uptime; }
	t0=$(ns); dd if=/dev/zero of=/dev/null bs=1 count=$ddn 2>/dev/null; t1=$(ns)
	echo "none dd_ns $((t1 - t0)) $ddn" >>$out/bench
	for tier in fentry raw; do
			cap bench-$tier --extcap-interface ebpfevents --hooks $tier
		tcp_server --listen 127.0.0.1 --port 7200 --send 10 --recv 10 --count $n >/dev/null 2>&1 &
		sleep 0.3
		before=$(bpftool prog show | awk '/run_time_ns/ { t += $(NF-2); c += $NF } END { print t + 0, c + 0 }')
		tcp_client --connect 127.0.0.1 --port 7200 --send 10 --recv 10 --repeat $n >/dev/null 2>&1
		after=$(bpftool prog show | awk '/run_time_ns/ { t += $(NF-2); c += $NF } END { print t + 0, c + 0 }')
		echo "$tier conns $n before $before after $after" >>$out/bench
		t0=$(ns); dd if=/dev/zero of=/dev/null bs=1 count=$ddn 2>/dev/null; t1=$(ns)
		echo "$tier dd_ns $((t1 - t0)) $ddn" >>$out/bench
		bpftool prog show >$out/bench-$tier.progs
		stop bench-$tier
		wait
	done
	t0=$(ns); dd if=/dev/zero of=/dev/null bs=1 count=$ddn 2>/dev/null; t1=$(ns)
	echo "none dd_ns $((t1 - t0)) $ddn" >>$out/bench
	cd /tmp && tar cf /tmp/out.tar out && base64 /tmp/out.tar >/dev/ttyS1
	poweroff -f
fi
# 1. The default capture (every type this kernel can observe), events only.
#    A UDP socket bound before it is the socket snapshot's subject.
udp_peer --bind 127.0.0.1 --port 7100 --recv 1 --idle-ms 30000 >$out/snap.udp 2>&1 &
snapsrv=$!
sleep 0.3
start=$(date +%s)
cap default --extcap-interface ebpfevents --debug-file /tmp/default.debug
echo $(( $(date +%s) - start )) >$out/default.start_s
workload default 7001
stop default
grep -E "probe: (loaded|the kernel refused|raw system-call hooks)" /tmp/default.debug >$out/default.hooks
grep -E "probe: (swept|the sweep|this kernel has no bpf_for_each_map_elem)" /tmp/default.debug \
	>$out/default.sweep
kill $snapsrv 2>/dev/null

# 2. Packets of lo merged with the events.
cap merged --extcap-interface ebpfevents --ifname lo
workload merged 7011
stop merged

# 3. The raw system-call tier, forced: the last resort where fexit is refused.
cap raw --extcap-interface ebpfevents --hooks raw
workload raw 7031
stop raw

# 3b. The system calls' own tracepoints, with tracefs mounted as systemd
#     does (auto would pick fentry here: forced).
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
cap tracepoint --extcap-interface ebpfevents --hooks tracepoint
workload tracepoint 7041
stop tracepoint
grep -E "probe: loaded" /tmp/tracepoint.debug >$out/tracepoint.hooks

# 4. cgroup v2 paths of Docker with systemd, containerd (Kubernetes) and
#    CRI-O: a client in each; its events must name the container id.
cap cgroups --extcap-interface ebpfevents --events TCP_Connect
tcp_server --listen 127.0.0.1 --port 7021 --count 3 >$out/cg.srv 2>&1 &
sleep 0.3
while read -r path; do
	mkdir -p /sys/fs/cgroup/$path
	sh -c "echo \$\$ >/sys/fs/cgroup/$path/cgroup.procs && exec tcp_client --connect 127.0.0.1 --port 7021 --send 1 --recv 0" \
		>>$out/cg.cli 2>&1
done </cgroups.txt
sleep 0.3
stop cgroups

cd /tmp && tar cf /tmp/out.tar out && base64 /tmp/out.tar >/dev/ttyS1
echo "guest: done" >/dev/console
sync
poweroff -f
