#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The interface list with dozens of containers: Wireshark asks for it
# often, so a fresh listing (new process, cold cache, as
# `--extcap-interfaces` runs) must stay well under a second. Also checks
# that the containers of one pod (sharing its sandbox's network namespace,
# as Kubernetes does) make one entry, not one per container.
#
# Usage: docker_scale.sh DOCKER_DUMP   (exit 77: no root or no Docker)
set -u
here=$(dirname "$0")
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=docker_lib.sh
. "$here/docker_lib.sh"
dump=$1
# Containers started; every fourth is a pod sandbox with one more container
# joined to its network namespace.
N=${EBPFDUMP_SCALE_CONTAINERS:-32}
# Bound for one fresh listing: the issue asks for "well under a second"; the
# figures are printed (tens of ms here), the bound only catches a regression
# by an order of magnitude without failing on a loaded machine.
LIST_BUDGET_MS=1000

docker_need_engine
docker_make_image || { echo "FAIL: docker import"; exit 1; }

# Waits for the docker run jobs only: a plain `wait` would also wait for a
# dockerd this test started.
runs=()
wait_runs() {
	local p
	for p in "${runs[@]}"; do wait "$p"; done
	runs=()
}

start=$(date +%s)
pods=0 plain=0
for i in $(seq "$N"); do
	name=ebpfdump-s$i-$E2E_SFX
	if [ $((i % 4)) = 0 ]; then
		docker_run "$name" --label io.kubernetes.pod.name="pod$i-$E2E_SFX" \
			--label io.kubernetes.pod.namespace=scale \
			--label io.kubernetes.docker.type=podsandbox \
			"$DOCKER_IMAGE" /bin/busybox sleep 600 &
		runs+=($!)
		pods=$((pods + 1))
	else
		docker_run "$name" "$DOCKER_IMAGE" /bin/busybox sleep 600 &
		runs+=($!)
		plain=$((plain + 1))
	fi
	DOCKER_CONTAINERS+=("$name") # the subshell's list is lost
	[ $((i % 4)) = 0 ] && wait_runs
done
wait_runs
# A second container in each pod, in the sandbox's network namespace.
for i in $(seq 4 4 "$N"); do
	name=ebpfdump-s$i-app-$E2E_SFX
	DOCKER_CONTAINERS+=("$name")
	docker_run "$name" --network "container:ebpfdump-s$i-$E2E_SFX" \
		--label io.kubernetes.pod.name="pod$i-$E2E_SFX" \
		--label io.kubernetes.pod.namespace=scale \
		--label io.kubernetes.container.name=app \
		"$DOCKER_IMAGE" /bin/busybox sleep 600 &
	runs+=($!)
	[ $((i % 16)) = 0 ] && wait_runs
done
wait_runs
running=$($DOCKER ps -q --filter "name=-$E2E_SFX" | wc -l)
echo "started $running containers ($plain plain, $pods pods of 2) in $(($(date +%s) - start)) s"
check "containers running" '[ "$running" -ge "$N" ]'

out=$E2E_TMP/netdev
"$dump" netdev 10 >"$out"
listed=$(grep -c -- "-$E2E_SFX" "$out")
pod_entries=$(grep -c "display=Pod pod[0-9]*-$E2E_SFX, Namespace scale" "$out")
first=$(sed -n 's/^first_ms=//p' "$out")
best=$(sed -n 's/^best_ms=//p' "$out")
echo "listed $listed entries of this test ($pod_entries pods); first ${first} ms, best of 10 ${best} ms"
check "every plain container listed" '[ "$((listed - pod_entries))" = "$plain" ]'
check "one entry per pod" '[ "$pod_entries" = "$pods" ]'
check "a pod entry names both containers" \
	'grep "display=Pod pod4-$E2E_SFX," "$out" | grep -q "containers=[0-9a-f]*:[^,]*,[0-9a-f]*:"'
check "fresh listing under ${LIST_BUDGET_MS} ms (first ${first}, best ${best})" \
	'awk -v a="$first" -v b="$best" -v l="$LIST_BUDGET_MS" "BEGIN { exit !(a < l && b < l) }"'

finish
