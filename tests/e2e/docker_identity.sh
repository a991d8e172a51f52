#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Container identity on a real Docker engine: a plain container running an
# HTTP server and a second one carrying the Kubernetes labels cri-dockerd
# sets (standing for a pod). The resolver must name both from a process
# inside each (as the capture does for events), the interface mapper must
# list "Container <name>" and "Pod <pod>, Namespace <ns>" on the right host
# veth, `vethX@name` must find them, and a vanished container or an absent
# Docker socket must leave ids with a reason instead of names.
#
# Usage: docker_identity.sh DOCKER_DUMP   (exit 77: no root or no Docker)
set -u
here=$(dirname "$0")
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=docker_lib.sh
. "$here/docker_lib.sh"
dump=$1

docker_need_engine
docker_make_image || { echo "FAIL: docker import"; exit 1; }

web=ebpfdump-web-$E2E_SFX
app=ebpfdump-app-$E2E_SFX
pod=frontend-$E2E_SFX
# A label is data: quotes, $(...) and spaces must come back byte for byte.
odd='app "x" $(touch /tmp/ebpfdump-pwned) `id`'
docker_run "$web" "$DOCKER_IMAGE" /bin/busybox httpd -f -p 80 -h /www || { echo "FAIL: run $web"; exit 1; }
docker_run "$app" \
	--label io.kubernetes.pod.name="$pod" \
	--label io.kubernetes.pod.namespace=shop \
	--label io.kubernetes.container.name="$odd" \
	"$DOCKER_IMAGE" /bin/busybox httpd -f -p 8080 -h /www || { echo "FAIL: run $app"; exit 1; }

web_pid=$(docker_pid "$web") web_id=$(docker_id "$web")
app_pid=$(docker_pid "$app") app_id=$(docker_id "$app")
web_veth=$(docker_host_veth "$web") app_veth=$(docker_host_veth "$app")
echo "web: pid $web_pid veth $web_veth; app: pid $app_pid veth $app_veth"
check "containers running" '[ "$web_pid" -gt 0 ] && [ "$app_pid" -gt 0 ]'
check "host veths found" '[ -n "$web_veth" ] && [ -n "$app_veth" ] && [ "$web_veth" != "$app_veth" ]'

# --- events: from the process (full /proc path) and from the kernel's leaf
out=$E2E_TMP/resolve
"$dump" resolve "$web_pid" >"$out"
cat "$out"
check "web: resolved" 'grep -qx "result=1" "$out"'
check "web: name" 'grep -qxF "container=$web" "$out"'
check "web: id" 'grep -qxF "container_id=$web_id" "$out"'
check "web: runtime" 'grep -qx "runtime=docker" "$out"'
check "web: image" 'grep -qxF "image=$DOCKER_IMAGE" "$out"'
check "web: no pod" '! grep -q "^pod=" "$out"'
# On cgroup v1 with cgroupfs the kernel sends the bare id as the leaf.
"$dump" resolve "$web_pid" "$web_id" >"$out"
check "web from leaf: name" 'grep -qxF "container=$web" "$out"'

"$dump" resolve "$app_pid" >"$out"
cat "$out"
check "app: pod" 'grep -qxF "pod=$pod" "$out"'
check "app: namespace" 'grep -qx "namespace=shop" "$out"'
check "app: odd label kept as data" 'grep -qxF "container=$odd" "$out"'
check "app: nothing was executed" '[ ! -e /tmp/ebpfdump-pwned ]'

# --- interfaces
out=$E2E_TMP/netdev
"$dump" netdev 5 >"$out"
cat "$out"
check "netdev: container listed on its veth" \
	'grep -P "^if=\Q$web_veth\E\tdisplay=Container \Q$web\E\t" "$out" >/dev/null'
check "netdev: pod listed on its veth" \
	'grep -P "^if=\Q$app_veth\E\tdisplay=Pod \Q$pod\E, Namespace shop\t" "$out" >/dev/null'
check "netdev: container pid listed" 'grep -F "$web_veth" "$out" | grep -qE "pidlist=([0-9]+,)*$web_pid(,|$)"'
check "netdev: container id listed" 'grep -F "$app_veth" "$out" | grep -qF "$app_id"'
best=$(sed -n 's/^best_ms=//p' "$out")
echo "interface list: best of 5 fresh listings ${best} ms"
check "netdev: well under a second" 'awk -v t="$best" "BEGIN { exit !(t < 250) }"'

# --- vethX@name, as --ifname takes it
check "find veth@container" '[ "$("$dump" find "vethOLD@$web")" = "ifname=$web_veth" ]'
check "find pod name" '[ "$("$dump" find "$pod")" = "ifname=$app_veth" ]'
check "find ns/pod" '[ "$("$dump" find "x@shop/$pod")" = "ifname=$app_veth" ]'
check "find short id" '[ "$("$dump" find "@${web_id:0:12}")" = "ifname=$web_veth" ]'
check "find host ifname" '[ "$("$dump" find "$web_veth@nosuch-$E2E_SFX")" = "ifname=$web_veth" ]'
check "find unknown fails" '! "$dump" find "vethnone@nosuch-$E2E_SFX" >/dev/null'

# --- Docker socket missing: ids and a reason, no stall
out=$E2E_TMP/nosock
start=$(date +%s%N)
EBPFDUMP_DOCKER_SOCKET=$E2E_TMP/no-such.sock "$dump" resolve "$web_pid" >"$out"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$out"
check "no socket: ids only" 'grep -qxF "container_id=$web_id" "$out" && ! grep -q "^container=" "$out"'
check "no socket: reason" 'grep -q "^reason=docker .*no-such.sock" "$out"'
check "no socket: quick (${ms} ms)" '[ "$ms" -lt 1000 ]'

# --- a container that disappears: its leaf still gives the id, and why
$DOCKER rm -f "$web" >/dev/null
out=$E2E_TMP/gone
"$dump" resolve 999999999 "$web_id" >"$out"
cat "$out"
check "gone: id kept" 'grep -qxF "container_id=$web_id" "$out"'
check "gone: reason" 'grep -q "^reason=.*no such container" "$out"'
"$dump" netdev >"$out"
check "gone: no longer listed" '! grep -qF "Container $web" "$out"'

finish
