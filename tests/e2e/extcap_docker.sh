#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Containers and pods in the program, on a real Docker engine: a container
# running an HTTP server and a second one with the Kubernetes labels that
# cri-dockerd sets (standing for a pod). --extcap-interfaces lists
# "eBPF Container ..." and "eBPF Pod ..., Namespace ..." (and so do the reloadable
# --netns and --ifname selectors of --extcap-config); capturing on the
# container's interface while the host fetches a page gives packets tagged
# with the container and the server's process, and events carrying the
# container id and name (and, for the labelled one, pod and namespace).
#
# usage: extcap_docker.sh EBPFDUMP SOURCE_DIR   (as root; 77 without Docker)
set -u
tool=$1 src=$2
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/docker_lib.sh"
T=$E2E_TMP
use_dissector "$src"

docker_need_engine
docker_make_image || { bad "docker import"; finish; exit; }
web=ebpfdump-xweb-$E2E_SFX app=ebpfdump-xapp-$E2E_SFX pod=checkout-$E2E_SFX
docker_run "$web" "$DOCKER_IMAGE" /bin/busybox httpd -f -p 80 -h /www || bad "run $web"
docker_run "$app" --label io.kubernetes.pod.name="$pod" --label io.kubernetes.pod.namespace=shop \
	--label io.kubernetes.container.name=cart "$DOCKER_IMAGE" /bin/busybox httpd -f -p 8080 -h /www ||
	bad "run $app"
web_id=$(docker_id "$web") web_veth=$(docker_host_veth "$web")
app_veth=$(docker_host_veth "$app")
web_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")
app_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$app")

"$tool" --extcap-interfaces >"$T/ifaces" 2>"$T/ifaces.err"
check "lists the container ($(grep -c '^interface' "$T/ifaces") interfaces)" \
	'grep -qx "interface {value=ebpf@$web_veth@$web}{display=eBPF Container $web}" "$T/ifaces"'
check "lists the pod" \
	'grep -qx "interface {value=ebpf@$app_veth@shop.$pod}{display=eBPF Pod $pod, Namespace shop}" "$T/ifaces"'
check "no interface listed twice" '[ -z "$(grep "^interface" "$T/ifaces" | sort | uniq -d)" ]'
check "no display listed twice" \
	'[ -z "$(grep -o "{display=[^}]*}" "$T/ifaces" | sort | uniq -d)" ]'
check "listing says nothing on stderr" '[ ! -s "$T/ifaces.err" ]'
# The reloadable selectors of the configuration dialog.
web_netns=$(stat -L -c %i "/proc/$($DOCKER inspect -f '{{.State.Pid}}' "$web")/ns/net")
"$tool" --extcap-interface ebpfevents --extcap-config --extcap-reload-option netns >"$T/netns"
check "reload netns: the container by name, its namespace as value ($web_netns)" \
	'grep -qx "value {arg=[0-9]*}{value=$web_netns}{display=Container $web}{default=false}" "$T/netns"'
check "reload netns: the pod" 'grep -q "{display=Pod $pod, Namespace shop}" "$T/netns"'
check "reload netns: value sentences only" '! grep -qv "^value {arg=" "$T/netns"'
"$tool" --extcap-interface ebpfevents --extcap-config --extcap-reload-option ifname >"$T/ifname"
check "reload ifname: the container's veth named after it" \
	'grep -qx "value {arg=[0-9]*}{value=$web_veth}{display=$web_veth: Container $web}{default=false}" "$T/ifname"'
check "reload ifname: none (events only) is the default" \
	'grep -q "{value=none}{display=None: events only}{default=true}" "$T/ifname"'
"$tool" --extcap-interface "ebpf@$web_veth@$web" --extcap-dlts >"$T/dlts"
check "container interface: Ethernet" 'grep -q "^dlt {number=1}" "$T/dlts"'

fetch() { # ADDR PORT: the host fetches a page with bash's /dev/tcp
	bash -c "exec 3<>/dev/tcp/$1/$2; printf 'GET /index.html HTTP/1.0\r\n\r\n' >&3; cat <&3" \
		>"$T/page" 2>/dev/null
}
for who in web app; do
	if [ $who = web ]; then iface=ebpf@$web_veth@$web ip=$web_ip port=80; else iface=ebpf@$app_veth@shop.$pod ip=$app_ip port=8080; fi
	out=$T/$who.pcapng
	"$tool" --capture --extcap-interface "$iface" --fifo "$out" --debug-file "$out.log" >/dev/null 2>"$T/$who.err" &
	cap=$!
	wait_started "$out.log"
	fetch "$ip" "$port"
	check "$who: the page was fetched" 'grep -q "hello from ebpfdump" "$T/page"'
	sleep 0.5
	kill -INT "$cap"
	wait "$cap"
	check "$who: capture exits 0 ($(head -1 "$T/$who.err"))" '[ $? = 0 ]'
	# Compact comments: comm[pid]@container (or @pod) per side; the
	# dissector adds the rest from the Identity frames.
	tshark -r "$out" "${tshark_lua[@]}" -Y "tcp.port == $port && frame.comment" -T fields \
		-E separator='|' -e frame.comment -e ebpf.comm -e ebpf.container -e ebpf.pod \
		-e ebpf.namespace >"$T/$who.comments" 2>/dev/null
	n=$(wc -l <"$T/$who.comments")
	check "$who: packets tagged ($n)" '[ "$n" -ge 5 ]'
	tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.event == \"TCP_Accept\"" -T fields -E separator='|' \
		-e ebpf.comm -e ebpf.container_id -e ebpf.container -e ebpf.pod -e ebpf.namespace \
		-e ebpf.runtime >"$T/$who.accept" 2>/dev/null
	if [ $who = web ]; then
		check "web: packets name the server process and the container" \
			'grep -q "busybox\[[0-9]*\]@$web#" "$T/web.comments" && grep -q "busybox|$web|" "$T/web.comments"'
		check "web: TCP_Accept by the server (busybox httpd) in the container ($(head -1 "$T/web.accept"))" \
			'grep -q "^busybox|$web_id|$web|||docker$" "$T/web.accept"'
	else
		check "pod: packets name the pod" 'grep -q "@$pod#" "$T/app.comments" && grep -q "|cart|$pod|shop$" "$T/app.comments"'
		check "pod: TCP_Accept carries pod and namespace ($(head -1 "$T/app.accept"))" \
			'grep -q "^busybox|[0-9a-f]*|cart|$pod|shop|docker$" "$T/app.accept"'
	fi
done
check "scope: the web capture has no event of the pod" '! grep -q "$pod" "$T/web.accept"'
finish
