#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A container's or pod's capture shows exactly that container, on a real
# Docker engine (issue 17):
# - scope: a capture on a container's interface next to a busy loopback
#   load in another container holds no event of any other network
#   namespace (the loopback addresses are everyone's);
# - choice: two cri-dockerd-style pods of one name in namespaces team-a and
#   team-b, plus a plain container named like the pod, are three distinct
#   interfaces; each value (and the original tool's "vethX@pod" form with
#   either veth) finds its own, and a remembered value whose veth is gone
#   still finds its pod by namespace;
# - listing: a container whose lowest pids are short-lived children (the
#   host's pid counter set back below the container's first process, as
#   after a wrap-around) is listed every time;
# - rename: `docker rename` during the capture reaches later events;
# - late accept: a server in a container that accepts seconds after the
#   handshakes (it listened before the capture: the snapshot reports it) has
#   every packet of its connections named, the first ones after the
#   listening socket's owner.
#
# usage: docker_scope.sh EBPFDUMP DOCKER_DUMP SOURCE_DIR TOOLS_DIR
#        (root; 77 without Docker)
set -u
tool=$1 dump=$2 src=$3 tools=$4
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/docker_lib.sh"
T=$E2E_TMP
use_dissector "$src"

docker_need_engine
docker_make_image || { bad "docker import"; finish; exit; }
web=ebpfdump-sweb-$E2E_SFX noise=ebpfdump-snoise-$E2E_SFX churn=ebpfdump-schurn-$E2E_SFX
pod=ebpfdump-spod-$E2E_SFX pa=ebpfdump-spa-$E2E_SFX pb=ebpfdump-spb-$E2E_SFX
docker_run "$web" "$DOCKER_IMAGE" /bin/busybox httpd -f -p 80 -h /www || bad "run $web"
# A busy loopback load in another namespace.
docker_run "$noise" "$DOCKER_IMAGE" /bin/sh -c \
	'httpd -p 127.0.0.1:8081 -h /www; while :; do wget -q -O /dev/null http://127.0.0.1:8081/index.html; done' ||
	bad "run $noise"
for ns in team-a team-b; do
	c=$pa
	[ $ns = team-b ] && c=$pb
	docker_run "$c" --label io.kubernetes.pod.name="$pod" --label io.kubernetes.pod.namespace=$ns \
		--label io.kubernetes.container.name=app "$DOCKER_IMAGE" /bin/busybox sleep 600 ||
		bad "run $c"
done
docker_run "$pod" "$DOCKER_IMAGE" /bin/busybox sleep 600 || bad "run $pod"
# Forks without end: its newest processes live for a moment.
docker_run "$churn" "$DOCKER_IMAGE" /bin/sh -c 'while :; do /bin/sh -c :; done' || bad "run $churn"
web_veth=$(docker_host_veth "$web") va=$(docker_host_veth "$pa") vb=$(docker_host_veth "$pb")
vp=$(docker_host_veth "$pod")
web_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")
web_netns=$(stat -L -c %i "/proc/$(docker_pid "$web")/ns/net")
noise_netns=$(stat -L -c %i "/proc/$(docker_pid "$noise")/ns/net")

# --- choice: alike names are distinct interfaces, each value finds its own
"$tool" --extcap-interfaces >"$T/ifaces" 2>&1
check "team-a's pod listed" \
	'grep -qx "interface {value=ebpf@$va@team-a.$pod}{display=eBPF Pod $pod, Namespace team-a}" "$T/ifaces"'
check "team-b's pod listed" \
	'grep -qx "interface {value=ebpf@$vb@team-b.$pod}{display=eBPF Pod $pod, Namespace team-b}" "$T/ifaces"'
check "the container named like the pod listed" \
	'grep -qx "interface {value=ebpf@$vp@$pod}{display=eBPF Container $pod}" "$T/ifaces"'
check "no value twice" '[ -z "$(grep "^interface" "$T/ifaces" | sort | uniq -d)" ]'
find_is() { # SPEC VETH
	local got
	got=$("$dump" find "$1" 2>/dev/null)
	[ "$got" = "ifname=$2" ] || { echo "find $1: '$got', want $2"; return 1; }
}
check "value of team-a's pod" 'find_is "ebpf@$va@team-a.$pod" "$va"'
check "value of team-b's pod" 'find_is "ebpf@$vb@team-b.$pod" "$vb"'
check "value of the container" 'find_is "ebpf@$vp@$pod" "$vp"'
check "vethA@pod: team-a" 'find_is "$va@$pod" "$va"'
check "vethB@pod: team-b" 'find_is "$vb@$pod" "$vb"'
check "vethP@pod: the container" 'find_is "$vp@$pod" "$vp"'
check "team-b after a restart (veth gone)" 'find_is "ebpf@vethgone@team-b.$pod" "$vb"'
check "team-a/pod" 'find_is "x@team-a/$pod" "$va"'
check "ambiguous without a veth: refused" '! "$dump" find "vethgone@app" >/dev/null 2>&1'

# --- listing: the container whose lowest pids are short-lived children
missed=0
churn_id=$(docker_id "$churn")
churn_pid=$(docker_pid "$churn")
low=$((churn_pid > 3000 ? 1000 : 0))
if [ "$low" = 0 ] || [ ! -w /proc/sys/kernel/ns_last_pid ]; then
	echo "note: cannot set the pid counter below the container (pid $churn_pid): listing not raced"
fi
for i in $(seq 15); do
	# The next pids (the container's next children) come below its
	# first process, as after the counter wrapped.
	[ "$low" != 0 ] && echo "$low" >/proc/sys/kernel/ns_last_pid 2>/dev/null
	sleep 0.05
	"$tool" --extcap-interfaces >"$T/list$i" 2>&1
	grep -q "{display=eBPF Container $churn}" "$T/list$i" || missed=$((missed + 1))
done
lowest=$(for p in $(cat /sys/fs/cgroup/*/docker/"$churn_id"/cgroup.procs /sys/fs/cgroup/system.slice/docker-"$churn_id".scope/cgroup.procs 2>/dev/null); do echo "$p"; done | sort -n | head -1)
check "the churning container listed 15 of 15 times (missed $missed; first pid $churn_pid, now lowest ${lowest:-?})" \
	'[ "$missed" = 0 ]'

# --- scope and rename: one capture on the web container's interface
fetch() { # ADDR PORT
	bash -c "exec 3<>/dev/tcp/$1/$2; printf 'GET /index.html HTTP/1.0\r\n\r\n' >&3; cat <&3" \
		>"$T/page" 2>/dev/null
}
# finish_web_capture LABEL STDERR: a last fetch, then the capture $cap of
# $out stops; it must exit 0 and hold events of the web container's network
# namespace only.
finish_web_capture() {
	local label=$1 err=$2 own foreign noisy
	fetch "$web_ip" 80
	sleep 0.5
	kill -INT "$cap"
	wait "$cap"
	check "$label: capture exits 0 ($(head -1 "$err"))" '[ $? = 0 ]'
	tshark -r "$out" "${tshark_lua[@]}" -Y ebpf.netns -T fields -e ebpf.netns >"$out.netns" 2>/dev/null
	own=$(grep -cx "$web_netns" "$out.netns")
	foreign=$(grep -cvx "$web_netns" "$out.netns")
	noisy=$(grep -cx "$noise_netns" "$out.netns")
	check "$label: events of the container ($own)" '[ "$own" -ge 2 ]'
	check "$label: no event of another namespace ($foreign, of them $noisy from the loopback load)" \
		'[ "$foreign" = 0 ]'
}
out=$T/web.pcapng
"$tool" --capture --extcap-interface "ebpf@$web_veth@$web" --fifo "$out" --debug-file "$out.log" >/dev/null 2>"$T/web.err" &
cap=$!
wait_started "$out.log"
sleep 0.5
fetch "$web_ip" 80
check "web: the page was fetched" 'grep -q "hello from ebpfdump" "$T/page"'
new=ebpfdump-sweb2-$E2E_SFX
DOCKER_CONTAINERS+=("$new")
$DOCKER rename "$web" "$new"
sleep 6 # past the names' revalidation age (CONTAINER_POSITIVE_TTL_MS, 5 s)
finish_web_capture scope "$T/web.err"
tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.event == \"TCP_Accept\" && ebpf.netns == $web_netns" \
	-T fields -e ebpf.container \
	>"$T/accepts" 2>/dev/null
check "rename: the first accept names the old name ($(head -1 "$T/accepts"))" \
	'[ "$(head -1 "$T/accepts")" = "$web" ]'
check "rename: the last accept names the new name ($(tail -1 "$T/accepts"))" \
	'[ "$(tail -1 "$T/accepts")" = "$new" ]'

# --- --container NAME (issue 18): the same scope by name, packets included
out=$T/byname.pcapng
"$tool" --capture --extcap-interface ebpfevents --container "$new" --fifo "$out" \
	--debug-file "$out.log" >/dev/null 2>"$T/byname.err" &
cap=$!
wait_started "$out.log"
finish_web_capture "--container $new" "$T/byname.err"
pk=$(tshark -r "$out" -Y "tcp.port == 80" 2>/dev/null | wc -l)
check "--container: the packets of the fetch on its veth ($pk)" '[ "$pk" -ge 6 ]'
"$tool" --capture --extcap-interface ebpfevents --pod "$pod" --fifo "$T/amb.pcapng" \
	--duration 1 >/dev/null 2>"$T/amb.err"
rc=$?
check "--pod of a name two namespaces share: exit 1 ($rc)" '[ "$rc" = 1 ]'
check "--pod ambiguous: says so ($(head -1 "$T/amb.err"))" 'grep -q "no single container or pod" "$T/amb.err"'
"$tool" --capture --extcap-interface ebpfevents --pod "team-b/$pod" --fifo "$T/tb.pcapng" \
	--duration 1 --debug-file "$T/tb.log" >/dev/null 2>"$T/tb.err"
check "--pod team-b/$pod: the capture runs on team-b's veth ($(grep -o "host interface [^ ,]*" "$T/tb.log"))" \
	'grep -q "host interface $vb," "$T/tb.log"'
# ptcpdump's POD.NAMESPACE form, and a container by the first 12
# characters of its id.
"$tool" --capture --extcap-interface ebpfevents --pod "$pod.team-a" --fifo "$T/ta.pcapng" \
	--duration 1 --debug-file "$T/ta.log" >/dev/null 2>"$T/ta.err"
check "--pod $pod.team-a: the capture runs on team-a's veth ($(grep -o "host interface [^ ,]*" "$T/ta.log"))" \
	'grep -q "host interface $va," "$T/ta.log"'
id12=$(docker_id "$new" | cut -c1-12)
"$tool" --capture --extcap-interface ebpfevents --container "$id12" --fifo "$T/id.pcapng" \
	--duration 1 --debug-file "$T/id.log" >/dev/null 2>"$T/id.err"
check "--container $id12 (an id's first 12 characters): its veth ($(grep -o "host interface [^ ,]*" "$T/id.log"))" \
	'grep -q "host interface $web_veth," "$T/id.log"'
# --- late accept (issue 17.7): our tcp_server in a container (the host's
# /usr and the tools directory mounted read-only), listening before the
# capture, accepting seconds after its three clients' handshakes, data included.
late=ebpfdump-slate-$E2E_SFX
docker_run "$late" -v /usr:/usr:ro -v "$tools:/t:ro" "$DOCKER_IMAGE" /t/tcp_server \
	--listen 0.0.0.0 --port 9000 --count 3 --accept-delay-ms 6000 --send 100 --recv 100 ||
	bad "run $late"
late_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$late")
late_veth=$(docker_host_veth "$late")
out=$T/late.pcapng
"$tool" --capture --extcap-interface "ebpf@$late_veth@$late" --fifo "$out" --debug-file "$out.log" \
	>/dev/null 2>"$T/late.err" &
cap=$!
wait_started "$out.log"
clients=()
for i in 1 2 3; do
	"$tools/tcp_client" --connect "$late_ip" --port 9000 --send 100 --recv 100 >"$T/late.cli$i" &
	clients+=($!)
done
wait "${clients[@]}"
sleep 0.3
kill -INT "$cap" 2>/dev/null # it may have stopped: the container exits, its veth goes
wait "$cap"
check "late accept: capture exits 0 ($(head -1 "$T/late.err"))" '[ $? = 0 ]'
tshark -r "$out" "${tshark_lua[@]}" -Y "tcp.port == 9000" -T fields -E separator='|' \
	-e frame.time_epoch -e ebpf.comm >"$T/late.pkts" 2>/dev/null
first_accept=$(tshark -r "$out" "${tshark_lua[@]}" -Y 'ebpf.event == "TCP_Accept"' -T fields \
	-e frame.time_epoch 2>/dev/null | head -1)
before=$(awk -F'|' -v a="${first_accept:-0}" '$1 < a' "$T/late.pkts" | wc -l)
named=$(grep -c '|tcp_client,tcp_server$\||tcp_server,tcp_client$' "$T/late.pkts")
check "late accept: $before of $(wc -l <"$T/late.pkts") packets came before the first accept" \
	'[ -n "$first_accept" ] && [ "$before" -ge 12 ]'
check "late accept: every packet names tcp_client and tcp_server ($named of $(wc -l <"$T/late.pkts"))" \
	'[ -s "$T/late.pkts" ] && [ "$named" = "$(wc -l <"$T/late.pkts")" ]'
check "late accept: the snapshot's TCP_Listen names the container's server" \
	'tshark -r "$out" "${tshark_lua[@]}" -Y "ebpf.event == \"TCP_Listen\" && ebpf.lport == 9000" -T fields -e ebpf.comm -e ebpf.container 2>/dev/null | grep -qx "tcp_server.$late"'

# --container beside another --ifname: the container's veth first (its
# events' scope), then lo, each its own interface.
"$tool" --capture --extcap-interface ebpfevents --container "$new" --ifname lo --fifo "$T/x.pcapng" \
	--duration 1 >/dev/null 2>"$T/x.err"
rc=$?
names=$(capinfos "$T/x.pcapng" 2>/dev/null | sed -n 's/^ *Name = //p' | tr '\n' ' ')
check "--container with --ifname lo: exit 0 ($rc), interfaces events, its veth, lo ($names)" \
	'[ "$rc" = 0 ] && [ "$names" = "ebpfevents $web_veth lo " ]'
finish
