#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Wireshark's interface list with many containers: starts N busybox
# containers (an image made by `docker import`, no registry), then times,
# interleaved over ROUNDS rounds, each question Wireshark asks ebpfdump as a
# fresh process (fork and exec included):
#   --extcap-interfaces                          (once per refresh)
#   --extcap-config / --extcap-dlts on a container interface (once per
#                                                 interface listed)
#   --extcap-config on "eBPF Events"              (lists every container)
#   tshark -D with ebpfdump as a personal extcap  (what a user waits for:
#                                                 every question above)
# and prints the median and range of each, the interfaces listed, any
# listed twice, and the machine's conditions. Removes what it created.
#
# usage: bench/containers.sh BUILD_DIR [N]   (root, a running dockerd; N=200)
set -euo pipefail
build=$(cd "${1:?usage: containers.sh BUILD_DIR [N]}" && pwd)
n=${2:-200}
rounds=${ROUNDS:-10}
tool=$build/extcap/ebpfdump
sfx=$(printf '%x%04x' $$ $RANDOM)
image=ebpfdump-bench-img:$sfx
tmp=$(mktemp -d /tmp/ebpfdump-bench.XXXXXX)
names=()

cleanup() {
	local i
	for ((i = 0; i < ${#names[@]}; i += 50)); do
		docker rm -f "${names[@]:i:50}" >/dev/null 2>&1 || true
	done
	docker rmi -f "$image" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/root/bin"
cp "$(command -v busybox)" "$tmp/root/bin/busybox"
ln -s busybox "$tmp/root/bin/sleep"
tar -C "$tmp/root" -c . | docker import - "$image" >/dev/null
t0=$(date +%s%N)
for ((i = 0; i < n; i++)); do
	names+=("ebpfdump-bench-$sfx-$i")
	docker create --name "ebpfdump-bench-$sfx-$i" "$image" /bin/sleep 3600 >/dev/null
done
for ((i = 0; i < n; i += 25)); do
	docker start "${names[@]:i:25}" >/dev/null
done
echo "started $n containers in $((($(date +%s%N) - t0) / 1000000)) ms"

ms() { # COMMAND...: its wall time in ms (3 decimals), output to $tmp/out
	local a b
	a=$(date +%s%N)
	"$@" >"$tmp/out" 2>/dev/null || true
	b=$(date +%s%N)
	echo "$(((b - a) / 1000)) 1000" | awk '{printf "%.1f", $1 / $2}'
}

"$tool" --extcap-interfaces >"$tmp/ifaces"
listed=$(grep -c '^interface {value=ebpf@' "$tmp/ifaces" || true)
twice=$(grep '^interface' "$tmp/ifaces" | sort | uniq -d | wc -l)
alike=$(grep -o '{display=[^}]*}' "$tmp/ifaces" | sort | uniq -d | wc -l)
iface=$(grep -m1 -o "value=ebpf@[^}]*ebpfdump-bench-$sfx-[0-9]*" "$tmp/ifaces" | cut -d= -f2)
first=$(grep -m1 -n '{display=eBPF' "$tmp/ifaces" | cut -d: -f1)
echo "container interfaces listed: $listed of $n containers; listed twice: $twice; displays alike: $alike"
echo "display names start with \"eBPF\": $(grep -c '^interface .*{display=eBPF' "$tmp/ifaces") of $(grep -c '^interface' "$tmp/ifaces") interfaces"
[ -n "$iface" ] || { echo "no container interface listed"; exit 1; }

# Wireshark's own view: ebpfdump as a personal extcap of a throw-away home.
# A logging wrapper counts the ebpfdump processes one `tshark -D` starts.
mkdir -p "$tmp/home/.config/wireshark/extcap" "$tmp/count/.config/wireshark/extcap"
ln -s "$tool" "$tmp/home/.config/wireshark/extcap/ebpfdump"
printf '#!/bin/sh\necho "$*" >>%s\nexec %s "$@"\n' "$tmp/calls" "$tool" \
	>"$tmp/count/.config/wireshark/extcap/ebpfdump"
chmod +x "$tmp/count/.config/wireshark/extcap/ebpfdump"
HOME=$tmp/count tshark -D >/dev/null 2>&1 || true
echo "one tshark -D: $(wc -l <"$tmp/calls") ebpfdump processes" \
	"($(grep -c -- --extcap-config "$tmp/calls") --extcap-config," \
	"$(grep -c -- --extcap-dlts "$tmp/calls") --extcap-dlts)"
HOME=$tmp/home tshark -D >"$tmp/tshark-D" 2>&1 || true
echo "tshark -D lists $(grep -c 'ebpf@' "$tmp/tshark-D") container interfaces"

declare -A t
for ((r = 0; r < rounds; r++)); do
	t[list]+="$(ms "$tool" --extcap-interfaces) "
	t[cconfig]+="$(ms "$tool" --extcap-interface "$iface" --extcap-config) "
	t[cdlts]+="$(ms "$tool" --extcap-interface "$iface" --extcap-dlts) "
	t[econfig]+="$(ms "$tool" --extcap-interface ebpfevents --extcap-config) "
	t[tsharkD]+="$(HOME=$tmp/home ms tshark -D) "
done
stats() { # VALUES...: median (min-max)
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%7.1f ms  (%.1f-%.1f)", m, v[1], v[NR] }'
}
# shellcheck disable=SC2086
{
	echo "per answer, median (range) of $rounds, as a fresh process:"
	echo "  --extcap-interfaces                   $(stats ${t[list]})"
	echo "  container interface --extcap-config   $(stats ${t[cconfig]})"
	echo "  container interface --extcap-dlts     $(stats ${t[cdlts]})"
	echo "  ebpfevents --extcap-config            $(stats ${t[econfig]})"
	echo "  tshark -D (all of Wireshark's questions) $(stats ${t[tsharkD]})"
}
echo "conditions: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
	"Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null)," \
	"cgroup $(stat -fc %T /sys/fs/cgroup | sed 's/cgroup2fs/v2/;s/tmpfs/v1/')," \
	"$(ls /proc | grep -c '^[0-9]') processes, kernel $(uname -r)"
