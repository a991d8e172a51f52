#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Container names from containerd's CRI socket (issue 17): a containerd of
# the test's own (Debian's, with its CRI plugin; state and root in the
# test's directory, only its socket at the default path) runs a pod made
# through the CRI itself, as the kubelet would (RunPodSandbox,
# CreateContainer with the kubelet's labels, StartContainer). The
# container's process (busybox nc in a loop) connects to a closed port on
# the host network; each of its
# TCP_Connect_Failed events names the container, pod, namespace, image and
# runtime. The bundle files are not at the default path, so only
# ContainerStatus on the socket can have named them.
#
# usage: cri_containerd.sh EBPFDUMP SOURCE_DIR   (root; 77 without containerd
#        or with a containerd already on the default socket)
set -u
tool=$1 src=$2
. "$src/tests/e2e/lib.sh"
need_root
T=$E2E_TMP
use_dissector "$src"
sock=/run/containerd/containerd.sock

for b in containerd ctr busybox curl python3; do
	if ! command -v $b >/dev/null; then
		echo "SKIP: $b not installed (apt-get install containerd busybox-static curl)"
		exit 77
	fi
done
if [ -e "$sock" ]; then
	echo "SKIP: a containerd already serves $sock"
	exit 77
fi

# The kubelet-less CRI needs: no private oom_score_adj below ours (this
# VM refuses -998), the sandbox image of our own, everything else ours.
image=ebpfdump.test/busybox:$E2E_SFX
mkdir -p "$T/root" "$T/state" "$T/rootfs/bin"
cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
[grpc]
  address = "$sock"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "$image"
EOF
sid=
# What containerd and its shims make under /run/containerd whatever the
# config says (fifo/, runc/): removed at the end if it was not there.
before=$(ls -A /run/containerd 2>/dev/null)
# In this order, also when a check fails: the pod (its shim and
# processes), containerd, what it left mounted, its files.
cri_cleanup() {
	local f
	[ -n "$sid" ] && python3 "$src/tests/e2e/cri_call.py" "$sock" remove "$sid" 2>/dev/null
	kill "$ctd" 2>/dev/null
	wait "$ctd" 2>/dev/null
	awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
	rm -f "$sock" "$sock.ttrpc"
	for f in $(ls -A /run/containerd 2>/dev/null); do
		grep -qx "$f" <<<"$before" || rm -rf "/run/containerd/$f"
	done
}
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
ctd=$!
E2E_CLEANUP+=(cri_cleanup)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
check "containerd serves $sock" '[ -S "$sock" ]'

cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in sh sleep wget; do ln -s busybox "$T/rootfs/bin/$a"; done
python3 "$src/tests/e2e/oci_image.py" "$T/rootfs" "$image" /bin/busybox sleep 2147483647 \
	>"$T/image.tar"
ctr --address "$sock" -n k8s.io images import "$T/image.tar" >"$T/import.log" 2>&1
check "image imported ($(tail -1 "$T/import.log"))" '[ $? = 0 ]'

out=$T/cri.pcapng
"$tool" --capture --extcap-interface ebpfevents --events TCP_Connect_Failed --fifo "$out" \
	--debug-file "$out.log" >/dev/null 2>"$T/cap.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
pod=ebpfdump-cri-$E2E_SFX
port=$((20000 + RANDOM % 10000))
ids=$(python3 "$src/tests/e2e/cri_call.py" "$sock" run "$pod" team-cri app "$image" \
	/bin/busybox sh -c "while :; do /bin/busybox nc 127.0.0.1 $port; sleep 0.2; done" \
	2>"$T/cri.err")
check "pod and container made through the CRI ($ids $(head -c 300 "$T/cri.err"))" '[ -n "$ids" ]'
sid=${ids% *}
sleep 3
kill -INT "$cap"
wait "$cap"
check "capture exits 0 ($(head -1 "$T/cap.err"))" '[ $? = 0 ]'

tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.rport == $port" -T fields \
	-E separator='|' -e ebpf.container -e ebpf.pod -e ebpf.namespace -e ebpf.image \
	-e ebpf.runtime >"$T/ev" 2>/dev/null
n=$(wc -l <"$T/ev")
good=$(grep -cx "app|$pod|team-cri|$image|containerd" "$T/ev")
echo "MEASURED: $n refused connects of the CRI container, $good named through the CRI: $(sort "$T/ev" | uniq -c | head -3 | tr '\n' ' ')"
check "the container's connects were captured ($n)" '[ "$n" -ge 5 ]'
# The container's first event may leave the reorder window (50 ms) before
# the CRI's first answer comes (docs/containers.md: lookups in the
# background): then it has the id and runtime only. Every later one is
# named from the cache.
first=$(head -1 "$T/ev")
later=$(tail -n +2 "$T/ev" | grep -cvx "app|$pod|team-cri|$image|containerd")
check "every one names container app, pod $pod, namespace team-cri, the image, containerd ($good of $n; the first: '$first')" \
	'[ "$later" = 0 ] && { [ "$first" = "app|$pod|team-cri|$image|containerd" ] || [ "$first" = "||||containerd" ]; }'
check "the bundle files are not where ebpfdump would read them" \
	'[ ! -e /run/containerd/io.containerd.runtime.v2.task/k8s.io/${ids#* } ]'

# The same capture with the socket hidden from ebpfdump (a private mount
# namespace, /dev/null over it): the events carry the container id only.
unshare -m sh -c "mount --bind /dev/null $sock && exec \"\$0\" \"\$@\"" "$tool" --capture \
	--extcap-interface ebpfevents --events TCP_Connect_Failed --duration 2 --fifo "$T/hidden.pcapng" \
	>/dev/null 2>"$T/hidden.err"
check "without the CRI socket: capture exits 0 ($(head -1 "$T/hidden.err"))" '[ $? = 0 ]'
tshark -r "$T/hidden.pcapng" "${tshark_lua[@]}" -Y "ebpf.rport == $port" -T fields \
	-E separator='|' -e ebpf.container_id -e ebpf.container -e ebpf.pod >"$T/hidden.ev" 2>/dev/null
check "without the CRI socket: ids, but no names ($(sort -u "$T/hidden.ev" | head -2 | tr '\n' ' '))" \
	'[ -s "$T/hidden.ev" ] && [ "$(grep -c "^${ids#* }||\$" "$T/hidden.ev")" = "$(wc -l <"$T/hidden.ev")" ]'

# The pod goes through the CRI (its shim and processes leave with it).
if [ -n "$sid" ]; then
	python3 "$src/tests/e2e/cri_call.py" "$sock" remove "$sid" 2>>"$T/cri.err"
	check "pod removed through the CRI" '[ $? = 0 ]'
	sid=
fi
finish
