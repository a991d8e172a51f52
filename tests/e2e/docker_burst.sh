#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Containers started in a burst (issue 17.5): 30 `docker run`s at once,
# each fetching a page from a web container as soon as it runs, while an
# events capture runs. Docker answers slowly while it starts them all, so
# name lookups must not block the capture loop nor give up early: every
# connect event of the burst names its container and image (the names
# arrive from the runtime while the event waits in the reorder window, or
# from a lookup begun by an earlier event of that container).
#
# usage: docker_burst.sh EBPFDUMP SOURCE_DIR   (root; 77 without Docker)
set -u
tool=$1 src=$2
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/docker_lib.sh"
T=$E2E_TMP
use_dissector "$src"
N=${EBPFDUMP_BURST_CONTAINERS:-30}

docker_need_engine
docker_make_image || { bad "docker import"; finish; exit; }
web=ebpfdump-bweb-$E2E_SFX
docker_run "$web" "$DOCKER_IMAGE" /bin/busybox httpd -f -p 80 -h /www || bad "run $web"
web_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")

out=$T/burst.pcapng
"$tool" --capture --extcap-interface ebpfevents --events TCP_Connect --fifo "$out" \
	--debug-file "$out.log" >/dev/null 2>"$T/burst.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$out.log"
runs=()
for i in $(seq "$N"); do
	DOCKER_CONTAINERS+=("ebpfdump-b$i-$E2E_SFX")
	$DOCKER run -d --name "ebpfdump-b$i-$E2E_SFX" "$DOCKER_IMAGE" /bin/sh -c \
		"wget -q -O /dev/null http://$web_ip/index.html; sleep 1; wget -q -O /dev/null http://$web_ip/index.html; sleep 60" \
		>/dev/null 2>>"$T/runs.err" &
	runs+=($!)
done
for p in "${runs[@]}"; do wait "$p"; done
# Every container has made both of its connections.
for _ in $(seq 100); do
	n=$($DOCKER ps -q --filter "name=ebpfdump-b" | wc -l)
	[ "$n" -ge "$N" ] && break
	sleep 0.1
done
sleep 2
kill -INT "$cap"
wait "$cap"
check "burst: capture exits 0 ($(head -1 "$T/burst.err"))" '[ $? = 0 ]'

tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.comm == \"wget\" && ebpf.rport == 80" -T fields \
	-E separator='|' -e ebpf.container_id -e ebpf.container -e ebpf.image >"$T/conns" 2>/dev/null
total=$(wc -l <"$T/conns")
unnamed=$(awk -F'|' '$2 == ""' "$T/conns" | wc -l)
containers=$(cut -d'|' -f1 "$T/conns" | sort -u | wc -l)
unnamed_containers=$(awk -F'|' '$2 == "" { print $1 }' "$T/conns" | sort -u | wc -l)
echo "MEASURED: $N containers in a burst: $total connect events of $containers containers;" \
	"$unnamed without a name, of $unnamed_containers containers"
grep -i "container names" "$T/burst.err" | sed 's/^/  stderr: /'
check "burst: two connects of each of the $N containers ($total of $containers)" \
	'[ "$total" = $((2 * N)) ] && [ "$containers" = "$N" ]'
check "burst: every connect names its container ($unnamed of $total do not)" '[ "$unnamed" = 0 ]'
check "burst: every name is one of ours" \
	'[ "$(cut -d"|" -f2 "$T/conns" | grep -c "^ebpfdump-b[0-9]*-$E2E_SFX\$")" = "$total" ]'
check "burst: every connect names the image" \
	'[ "$(cut -d"|" -f3 "$T/conns" | grep -cx "$DOCKER_IMAGE")" = "$total" ]'
finish
