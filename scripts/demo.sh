#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job, from a fresh Debian 12 machine as root: install, build,
# install as a Wireshark extcap, capture eBPF events to a pcapng file while
# a few TCP connections happen, then show them decoded by tshark with our
# dissector.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build >/dev/null
extcap_dir=$(sed -n 's/^EBPFDUMP_EXTCAP_DIR:[A-Z]*=//p' build/CMakeCache.txt)
out=${1:-/tmp/ebpfdump-demo.pcapng}

echo "== capturing eBPF events into $out for 4 s while connections happen"
rm -f "$out"
"$extcap_dir/ebpfdump" --capture --extcap-interface ebpfevents --fifo "$out" --duration 4 &
capture=$!
# The capture header is written once the kernel probes are attached.
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
tools=build/tests
"$tools/tcp_server" --listen 127.0.0.1 --port 8765 --send 2000 --recv 1000 --count 3 >/dev/null &
server=$!
sleep 0.2
for _ in 1 2 3; do "$tools/tcp_client" --connect 127.0.0.1 --port 8765 --send 1000 --recv 2000 >/dev/null; done
"$tools/tcp_client" --connect 127.0.0.1 --port 1 --send 0 >/dev/null || true # refused
"$tools/tcp_client" --connect ::1 --port 1 --send 0 >/dev/null || true       # refused, IPv6
wait "$server" || true
wait "$capture"

echo "== the events, decoded by tshark with ebpf.lua"
tshark -r "$out"
echo "== as fields"
tshark -r "$out" -T fields -E header=y -e ebpf.event -e ebpf.pid -e ebpf.tid -e ebpf.comm \
	-e ebpf.user -e ebpf.laddr -e ebpf.laddr6 -e ebpf.lport -e ebpf.raddr -e ebpf.raddr6 -e ebpf.rport \
	-e ebpf.latency_us \
	-e ebpf.bytes_sent -e ebpf.bytes_received -e ebpf.error
