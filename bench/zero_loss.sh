#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Zero loss: loadgen at its maximum rate for SECS seconds inside a fresh
# network namespace while ebpfdump (default ring buffer, --netns of that
# namespace) captures; checks events delivered + lost = connections x 4
# (connect, accept and one close per side) and lost = 0. TCP_Retransmit
# events (a SYN meeting the server's TIME_WAIT now and then) and the
# listener's TCP_Listen and TCP_Listen_Close are real events on top: they
# are counted and added to the expected total.
#
# usage: bench/zero_loss.sh BUILD_DIR   (env: SECS=10)
set -euo pipefail
build=$(cd "${1:?usage: zero_loss.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
secs=${SECS:-10}
[ -x "$build/bench/loadgen" ] || bench_build "$build"
tmp=$(mktemp -d /dev/shm/ebpfdump-zeroloss.XXXXXX)
ns="bench-loss-$$"
cleanup() { tracer_stop; netns_del "$ns"; rm -rf "$tmp"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
inode=$(ip netns exec "$ns" stat -L -c %i /proc/self/ns/net)

tracer_start ebpfdump "$build/extcap/ebpfdump" --capture --extcap-interface ebpfevents \
	--fifo "$tmp/out.pcapng" --no-snapshot --no-containers --netns "$inode" 2>"$tmp/err"
ip netns exec "$ns" "$build/bench/loadgen" --duration "$secs" | tee "$tmp/run"
sleep 1 # the last closes reach the ring buffer
tracer_stop
conns=$(field connections "$tmp/run")
written=$(grep -o '[0-9]* events written' "$tmp/err" | awk '{print $1}')
lost=$(grep -o '[0-9]* lost in the kernel' "$tmp/err" | awk '{print $1}')
"$build/bench/pcapng_count" "$tmp/out.pcapng" >"$tmp/count"
grep '^events_' "$tmp/count" | tr '\n' ' '
echo
get() { local v; v=$(field "$1" "$tmp/count"); echo "${v:-0}"; }
retrans=$(get events_TCP_Retransmit)
listens=$(($(get events_TCP_Listen) + $(get events_TCP_Listen_Close)))
expected=$((conns * 4 + retrans + listens))
per_type_ok=0
[ "$(get events_TCP_Connect)" -eq "$conns" ] && [ "$(get events_TCP_Accept)" -eq "$conns" ] &&
	[ "$(get events_TCP_Close)" -eq $((2 * conns)) ] && per_type_ok=1
echo "connections=$conns retransmits=$retrans expected_events=$expected delivered=$written lost=$lost" \
	"delivered+lost=$((written + lost))"
if [ "$((written + lost))" -eq "$expected" ] && [ "$lost" -eq 0 ] && [ $per_type_ok = 1 ]; then
	echo "zero loss: PASS"
else
	echo "zero loss: FAIL"
	exit 1
fi
