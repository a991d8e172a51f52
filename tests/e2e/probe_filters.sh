#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-kernel filters (bpf/): for each filter - pid, pid with descendants
# (child and grandchild), uid (another user, and root = 0), comm, cgroup,
# network namespace, event type - a probe_dump with that filter watches
# the same workload: senders A (comm k5-a) and B (comm k5-b, or another
# user) in the client namespace send to a receiver R (k5-r) in the server
# namespace. Each run checks that what the filter selects is delivered with
# exact counts, that what it rejects is absent, and that the rejected
# events were counted as filtered. A filter that matches nothing delivers
# nothing while the filtered counter equals everything seen. Bad filter and
# table settings are refused with a reason.
#
# usage: probe_filters.sh PROBE_DUMP UDP_PEER TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail
probe_dump=$1 udp_peer=$2 tcp_server=$3 tcp_client=$4
. "$(dirname "$0")/probe_lib.sh"
probe_setup probe_filters

n=20           # datagrams per sender
nobody=65534   # the uid B runs as in the uid runs
# B as nobody must reach the go file.
chmod 711 "$tmp"

# A child and a grandchild udp_peer of one shell, for the descendants run.
cat >"$tmp/tree.sh" <<'EOF'
#!/bin/bash
# tree.sh OUT1 OUT2 UDP_PEER ARGS...: runs the command as a child (OUT1)
# and as a grandchild (OUT2) of this shell.
out1=$1 out2=$2
shift 2
"$@" --comm k5-a1 >"$out1" &
bash -c '"$@" --comm k5-a2 >"$0"; true' "$out2" "$@" &
wait
EOF

# workload NAME [B-PREFIX...]: R ready in ns_s, A and B ready in ns_c and
# waiting for $tmp/NAME.go. B runs under B-PREFIX (e.g. setpriv). Sets
# r_pid a_pid b_pid r_port and the helper pids wr wa wb.
workload() {
	local name=$1
	shift
	go=$tmp/$name.go
	bg_in "$ns_s" "$name.r" "$udp_peer" --bind "$v4_s" --recv $((2 * n)) --idle-ms 15000 \
		--comm k5-r
	wr=$bg_pid
	wait_line "$tmp/$name.r" ready || bad "$name: receiver did not start"
	r_port=$(field "$tmp/$name.r" ready lport)
	bg_in "$ns_c" "$name.a" "$udp_peer" --bind "$v4_c" --peer "$v4_s" --peer-port "$r_port" \
		--send "$n" --comm k5-a --go "$go"
	wa=$bg_pid
	bg_in "$ns_c" "$name.b" "$@" "$udp_peer" --bind "$v4_c" --peer "$v4_s" \
		--peer-port "$r_port" --send "$n" --comm k5-b --go "$go"
	wb=$bg_pid
	wait_line "$tmp/$name.a" ready && wait_line "$tmp/$name.b" ready ||
		bad "$name: senders did not start"
	r_pid=$(field "$tmp/$name.r" ready pid)
	a_pid=$(field "$tmp/$name.a" ready pid)
	b_pid=$(field "$tmp/$name.b" ready pid)
}

# run NAME: lets the workload go and waits for it, probe_dump NAME running.
run() {
	local name=$1
	touch "$go"
	wait_bg "$wa" "$name.a"
	wait_bg "$wb" "$name.b"
	wait_bg "$wr" "$name.r"
	sleep 0.2
	stop_probe "$name"
}

sends_of() { sum_of packets UDP_Send pid="$1"; }
recvs_of() { sum_of packets UDP_Recv pid="$1"; }
lines_of() { grep -c " pid=$1 " "$out"; }

# expect_filtered NAME MIN: the filtered counter is at least MIN.
expect_filtered() {
	local f min=$2
	f=$(pstat "$1" filtered)
	check "$1: rejected events counted as filtered (${f:-none} >= $min)" \
		'[ "${f:-0}" -ge "$min" ]'
	echo "MEASURED: $1: seen=$(pstat "$1" seen) filtered=$f delivered=$(pstat "$1" delivered)"
}

# --- pid: only A ----------------------------------------------------------
workload pid
start_probe pid --pid "$a_pid" || exit 1
run pid
check "pid: A's $n datagrams delivered ($(sends_of "$a_pid"))" '[ "$(sends_of "$a_pid")" = "$n" ]'
check "pid: nothing of B or R" '[ "$(lines_of "$b_pid")" = 0 ] && [ "$(lines_of "$r_pid")" = 0 ]'
check "pid: nothing but A" '[ "$(grep "^event=" "$out" | grep -vc " pid=$a_pid ")" = 0 ]'
expect_filtered pid $((3 * n))

# --- pid with descendants: a child and a grandchild of a shell ------------
go=$tmp/tree.go
bg_in "$ns_s" tree.r "$udp_peer" --bind "$v4_s" --recv $((3 * n)) --idle-ms 15000 --comm k5-r
wr=$bg_pid
wait_line "$tmp/tree.r" ready || bad "tree: receiver did not start"
r_port=$(field "$tmp/tree.r" ready lport)
bg_in "$ns_c" tree.shell bash "$tmp/tree.sh" "$tmp/tree.a1" "$tmp/tree.a2" "$udp_peer" \
	--bind "$v4_c" --peer "$v4_s" --peer-port "$r_port" --send "$n" --go "$go"
wt=$bg_pid
bg_in "$ns_c" tree.b "$udp_peer" --bind "$v4_c" --peer "$v4_s" --peer-port "$r_port" \
	--send "$n" --comm k5-b --go "$go"
wb=$bg_pid
wait_line "$tmp/tree.a1" ready && wait_line "$tmp/tree.a2" ready && wait_line "$tmp/tree.b" ready ||
	bad "tree: senders did not start"
a1=$(field "$tmp/tree.a1" ready pid) a2=$(field "$tmp/tree.a2" ready pid)
b_pid=$(field "$tmp/tree.b" ready pid) r_pid=$(field "$tmp/tree.r" ready pid)
check "tree: a2 is a grandchild of the shell $wt" \
	'[ "$(ps -o ppid= -p "$(ps -o ppid= -p "$a2" | tr -d " ")" | tr -d " ")" = "$wt" ]'
start_probe tree --pid "$wt" --pid-tree || exit 1
tree_pd=$pd_pid
# The same shell without --pid-tree matches nothing: the shell itself
# does no networking.
start_probe nothing --pid "$wt" || exit 1
nothing_pd=$pd_pid
touch "$go"
wait_bg "$wt" tree.shell
wait_bg "$wb" tree.b
wait_bg "$wr" tree.r
sleep 0.2
pd_pid=$nothing_pd
stop_probe nothing
pd_pid=$tree_pd
stop_probe tree
out=$tmp/tree.out
check "tree: the child's $n datagrams delivered ($(sends_of "$a1"))" '[ "$(sends_of "$a1")" = "$n" ]'
check "tree: the grandchild's $n datagrams delivered ($(sends_of "$a2"))" \
	'[ "$(sends_of "$a2")" = "$n" ]'
check "tree: nothing of B or R" '[ "$(lines_of "$b_pid")" = 0 ] && [ "$(lines_of "$r_pid")" = 0 ]'
expect_filtered tree $((4 * n))
out=$tmp/nothing.out
check "nothing: no event delivered ($(grep -c '^event=' "$out"))" \
	'[ "$(grep -c "^event=" "$out")" = 0 ] && [ "$(pstat nothing delivered)" = 0 ]'
check "nothing: every event seen was filtered ($(pstat nothing seen) = $(pstat nothing filtered))" \
	'[ "$(pstat nothing seen)" = "$(pstat nothing filtered)" ] && [ "$(pstat nothing filtered)" -ge $((5 * n)) ]'
echo "MEASURED: nothing: seen=$(pstat nothing seen) filtered=$(pstat nothing filtered) delivered=0"

# --- uid: B runs as nobody --------------------------------------------------
workload uid setpriv --reuid "$nobody" --regid "$nobody" --clear-groups
start_probe uid --uid "$nobody" || exit 1
uid_pd=$pd_pid
start_probe uid0 --uid 0 || exit 1
uid0_pd=$pd_pid
touch "$go"
wait_bg "$wa" uid.a
wait_bg "$wb" uid.b
wait_bg "$wr" uid.r
sleep 0.2
pd_pid=$uid0_pd
stop_probe uid0
pd_pid=$uid_pd
stop_probe uid
out=$tmp/uid.out
check "uid: B's $n datagrams delivered ($(sends_of "$b_pid"))" '[ "$(sends_of "$b_pid")" = "$n" ]'
check "uid: B's events carry uid $nobody" \
	'[ "$(grep " pid=$b_pid " "$out" | grep -vc " uid=$nobody ")" = 0 ]'
check "uid: nothing of A or R (root)" '[ "$(lines_of "$a_pid")" = 0 ] && [ "$(lines_of "$r_pid")" = 0 ]'
check "uid: nothing of another user" '[ "$(grep "^event=" "$out" | grep -vc " uid=$nobody ")" = 0 ]'
expect_filtered uid $((3 * n))
out=$tmp/uid0.out
check "uid 0: A's $n and R's $((2 * n)) datagrams delivered ($(sends_of "$a_pid"), $(recvs_of "$r_pid"))" \
	'[ "$(sends_of "$a_pid")" = "$n" ] && [ "$(recvs_of "$r_pid")" = $((2 * n)) ]'
check "uid 0: nothing of B" '[ "$(lines_of "$b_pid")" = 0 ]'
check "uid 0: only root's events" '[ "$(grep "^event=" "$out" | grep -vc " uid=0 ")" = 0 ]'
expect_filtered uid0 "$n"

# --- comm -------------------------------------------------------------------
workload comm
start_probe comm --comm k5-a || exit 1
run comm
check "comm: A's $n datagrams delivered ($(sends_of "$a_pid"))" '[ "$(sends_of "$a_pid")" = "$n" ]'
check "comm: only k5-a" '[ "$(grep "^event=" "$out" | grep -vc " comm=k5-a ")" = 0 ]'
expect_filtered comm $((3 * n))

# --- cgroup: A alone in a new cgroup ---------------------------------------
# The hierarchy the events' cgroup_id comes from: v1 memory, else v1
# pids, else the unified (v2) one.
cg_root=
for h in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ -w "$h/cgroup.procs" ]; then
		cg_root=$h
		break
	fi
done
if [ -z "$cg_root" ]; then
	note "no writable cgroup hierarchy: the cgroup filter is not exercised"
else
	cg=$cg_root/ebpfdump-$sfx
	mkdir "$cg" && cleanups+=("rmdir '$cg'")
	cg_id=$(stat -c %i "$cg")
	workload cgroup
	echo "$a_pid" >"$cg/cgroup.procs"
	check "cgroup: A moved into $cg" 'grep -qx "$a_pid" "$cg/cgroup.procs"'
	start_probe cgroup --cgroup "$cg_id" || exit 1
	run cgroup
	check "cgroup: A's $n datagrams delivered ($(sends_of "$a_pid"))" \
		'[ "$(sends_of "$a_pid")" = "$n" ]'
	check "cgroup: the events carry the id selected ($cg_id)" \
		'[ "$(grep "^event=" "$out" | grep -vc " cgroup_id=$cg_id ")" = 0 ]'
	check "cgroup: nothing of B or R" \
		'[ "$(lines_of "$b_pid")" = 0 ] && [ "$(lines_of "$r_pid")" = 0 ]'
	expect_filtered cgroup $((3 * n))
fi

# --- netns: the client namespace only ---------------------------------------
workload netns
start_probe netns --netns "$ino_c" || exit 1
run netns
check "netns: A's and B's datagrams delivered ($(sends_of "$a_pid"), $(sends_of "$b_pid"))" \
	'[ "$(sends_of "$a_pid")" = "$n" ] && [ "$(sends_of "$b_pid")" = "$n" ]'
check "netns: nothing of R (server namespace)" '[ "$(lines_of "$r_pid")" = 0 ]'
check "netns: only the client namespace" '[ "$(grep "^event=" "$out" | grep -vc " netns=$ino_c ")" = 0 ]'
expect_filtered netns $((2 * n))

# --- event type: UDP_Send only; a TCP connection meanwhile -------------------
workload type
start_probe type --events UDP_Send || exit 1
bg_in "$ns_s" type.srv timeout 20 "$tcp_server" --listen "$v4_s" --port 0 --send 10 --recv 10
wsrv=$bg_pid
wait_line "$tmp/type.srv" listening || bad "type: TCP server did not start"
ip netns exec "$ns_c" timeout 20 "$tcp_client" --connect "$v4_s" \
	--port "$(field "$tmp/type.srv" listening port)" --send 10 --recv 10 >"$tmp/type.cli"
wait_bg "$wsrv" type.srv
run type
check "type: A's and B's datagrams delivered" \
	'[ "$(sends_of "$a_pid")" = "$n" ] && [ "$(sends_of "$b_pid")" = "$n" ]'
check "type: only UDP_Send" '[ "$(grep "^event=" "$out" | grep -vc "^event=UDP_Send ")" = 0 ]'
check "type: the receiver's datagrams are not even seen (its hooks are not attached)" \
	'[ "$(lines_of "$r_pid")" = 0 ]'
# The TCP connection's Connect, Accept and two Close events were filtered.
expect_filtered type 4

# --- bad configuration: refused before anything is loaded, with a reason ---
bad_config() { # bad_config REASON-REGEX ARGS...
	local want=$1 rc
	shift
	"$probe_dump" --duration 1 "$@" >/dev/null 2>"$tmp/badcfg.err"
	rc=$?
	check "probe_dump $*: refused (exit $rc: $(cat "$tmp/badcfg.err"))" \
		'[ $rc = 1 ] && grep -q "$want" "$tmp/badcfg.err"'
}
bad_config "descendants filter needs a pid" --pid-tree
bad_config "UDP report interval 5 ms is invalid" --udp-interval 5
bad_config "UDP flow table size 10 is invalid" --udp-flows 10
bad_config "longer than 15" --comm 0123456789abcdef

probe_finish || exit 1
