#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak: a long capture (packets plus events on a veth, --ifname, isolated
# with --netns) under mixed load: TCP connections from many ephemeral ports
# (more flows than --flows, so the LRU must evict), UDP datagrams over many
# ports, all of it on the veth. Samples ebpfdump's RSS and open fds every
# SAMPLE seconds and at the end reconciles the counters:
#   TCP:     connects made          = TCP_Connect events written + lost
#   UDP:     datagrams sent         = sum of UDP_Send ebpf.packets + lost
#   packets: veth rx+tx (kernel)    ~ packets written (printed, not
#            checked: the counters are read just before the start and
#            just after the stop)
# (lost = events the kernel could not deliver, from ebpfdump's summary;
# with --netns, events of other namespaces are not counted anywhere.)
# Not a ctest test: it runs for minutes. Needs root.
#
# usage: bench/soak.sh [-t SECONDS (600)] [-b BUILD_DIR (build-test)] [-f FLOWS (4096)]
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=600 build=$src/build-test flows=4096 sample=10
while getopts t:b:f: o; do
	case $o in
	t) secs=$OPTARG ;;
	b) build=$OPTARG ;;
	f) flows=$OPTARG ;;
	*) sed -n 's/^# usage: //p' "$0"; exit 2 ;;
	esac
done
tool=$build/extcap/ebpfdump tools=$(dirname "$(find "$build/tests" -name tcp_client -type f | head -1)")
. "$src/tests/e2e/lib.sh"
need_root
[ -x "$tool" ] && [ -x "$tools/tcp_client" ] && [ -x "$tools/udp_peer" ] ||
	{ echo "build first: $tool, $tools/tcp_client, $tools/udp_peer"; exit 2; }
make_netns_pair || { echo "cannot make network namespaces"; exit 1; }
vc=ebc$E2E_SFX
netns=$(stat -L -c %i "/run/netns/$NS_C")
out=$E2E_TMP/soak.pcapng
veth_packets() {
	ip -n "$NS_C" -s -j link show "$vc" |
		python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["packets"]+s["tx"]["packets"])'
}

ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5601 --send 1000 --recv 1000 \
	--count 100000 >/dev/null 2>&1 &
E2E_PIDS+=("$!")
sleep 0.3
pk0=$(veth_packets)
ip netns exec "$NS_C" "$tool" --capture --extcap-interface ebpfevents --ifname "$vc" \
	--netns "$netns" --flows "$flows" --fifo "$out" --debug >/dev/null 2>"$E2E_TMP/soak.err" &
pid=$!
E2E_PIDS+=("$pid")
for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.05; done
sleep 1

# Load: TCP bursts of 10 connections and UDP bursts of 50 datagrams over
# 64 ports, 10 times a second, until the time is up.
: >"$E2E_TMP/tcp.out" >"$E2E_TMP/udp.out"
(
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5601 --send 1000 \
			--recv 1000 --repeat 10 >>"$E2E_TMP/tcp.out" 2>/dev/null
		ip netns exec "$NS_C" "$tools/udp_peer" --bind "$V4_C" --peer "$V4_S" --peer-port 6000 \
			--ports 64 --send 50 --size 100 --idle-ms 1 >>"$E2E_TMP/udp.out" 2>/dev/null
		sleep 0.1
	done
) &
load=$!
E2E_PIDS+=("$load")

printf '%6s %10s %6s %12s\n' t_s rss_kib fds file_bytes
rss=()
t0=$SECONDS
while kill -0 "$load" 2>/dev/null; do
	r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
	f=$(ls "/proc/$pid/fd" | wc -l)
	printf '%6d %10s %6s %12s\n' $((SECONDS - t0)) "$r" "$f" "$(stat -c %s "$out")"
	rss+=("$r")
	sleep "$sample"
done
sleep 1 # the reorder window and the UDP flush interval
kill -INT "$pid"
wait "$pid"
rc=$?
pk1=$(veth_packets)
grep -v '^ebpfdump: debug' "$E2E_TMP/soak.err" | tail -5

connects=$(grep -c '^connected' "$E2E_TMP/tcp.out")
udp_sent=$(sed -n 's/^done .* sent=\([0-9]*\) .*/\1/p' "$E2E_TMP/udp.out" | awk '{s+=$1} END {print s+0}')
lost=$(sed -n 's/.* \([0-9]*\) events lost in the.*/\1/p; s/.*, \([0-9]*\) lost in the kernel.*/\1/p' \
	"$E2E_TMP/soak.err" | tail -1)
lua=(-X "lua_script:$src/dissector/ebpf.lua")
tshark -r "$out" "${lua[@]}" -T fields -E separator='|' -e frame.interface_id -e ebpf.event \
	-e ebpf.rport -e ebpf.packets >"$E2E_TMP/fields" 2>/dev/null
ev_connect=$(grep -c '|TCP_Connect|5601|' "$E2E_TMP/fields")
ev_udp=$(awk -F'|' '$2 == "UDP_Send" {s += $4} END {print s+0}' "$E2E_TMP/fields")
packets=$(awk -F'|' '$2 == ""' "$E2E_TMP/fields" | wc -l)
first=${rss[2]:-${rss[0]}} last=${rss[-1]}
echo "duration ${secs}s, --flows $flows, exit status $rc"
echo "RSS KiB: after warm-up $first, at the end $last, max $(printf '%s\n' "${rss[@]}" | sort -n | tail -1)"
echo "TCP connects: made $connects, TCP_Connect events $ev_connect, lost ${lost:-?}"
echo "UDP datagrams: sent $udp_sent, counted in UDP_Send events $ev_udp"
echo "packets: veth rx+tx $((pk1 - pk0)) (from before the start to after the stop), written $packets"
verdict=0
[ "$rc" = 0 ] || { echo "FAIL: ebpfdump exit status $rc"; verdict=1; }
[ "$connects" -gt 0 ] && [ $((ev_connect + ${lost:-0})) = "$connects" ] || { echo "FAIL: TCP connects do not reconcile"; verdict=1; }
[ "$udp_sent" -gt 0 ] && [ $((ev_udp + ${lost:-0})) -ge "$udp_sent" ] && [ "$ev_udp" -le "$udp_sent" ] ||
	{ echo "FAIL: UDP datagrams do not reconcile"; verdict=1; }
# RSS flat: less than 10% (and 4 MiB) growth after warm-up
[ "$last" -le $((first + first / 10 + 4096)) ] || { echo "FAIL: RSS grew"; verdict=1; }
[ $verdict = 0 ] && echo "soak: OK"
exit $verdict
